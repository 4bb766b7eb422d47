//! Agents at the desk: presence, load, picking the best agent, and re-offering a team's
//! unassigned queue when someone comes online or frees capacity.

use super::{AgentDesk, DeskError};
use crate::assignment::{Agent, Assignment, Needs, Presence, QueuedTicket, best_agent, reoffer};
use crate::model::{Actor, Ticket};
use crate::query::{AssigneeFilter, MAX_PAGE, TicketFilter};
use crate::router::team_staff;

/// Unassigned tickets of one team looked at per re-offer: the oldest wait longest, and a
/// backlog beyond this is a staffing problem, not something one agent coming online solves.
const MAX_REOFFERED: usize = 5 * MAX_PAGE;

impl AgentDesk {
    /// Every agent, each with the number of unfinished tickets they hold.
    pub async fn agents(&self) -> Result<Vec<Agent>, DeskError> {
        let mut agents = self.ports.agents.agents().await?;
        for agent in &mut agents {
            agent.load = self.ports.tickets.assigned_load(&agent.id).await?;
        }
        Ok(agents)
    }

    pub async fn agent(&self, id: &str) -> Result<Agent, DeskError> {
        let mut agent =
            self.ports.agents.agent(id).await?.ok_or_else(|| DeskError::NotFound(format!("agent {id:?}")))?;
        agent.load = self.ports.tickets.assigned_load(id).await?;
        Ok(agent)
    }

    /// Sets the agent's presence; coming online offers them their teams' waiting tickets.
    pub async fn set_presence(
        &self,
        id: &str,
        presence: Presence,
    ) -> Result<(Agent, Vec<Assignment>), DeskError> {
        self.ensure_agent(id).await?;
        self.ports.agents.set_presence(id, presence).await?;
        let assignments = if presence == Presence::Online { self.reoffer_for(id).await? } else { Vec::new() };
        Ok((self.agent(id).await?, assignments))
    }

    pub(super) async fn ensure_agent(&self, id: &str) -> Result<(), DeskError> {
        match self.ports.agents.agent(id).await? {
            Some(_) => Ok(()),
            None => Err(DeskError::Invalid(format!("unknown agent {id:?}"))),
        }
    }

    /// The agent routing would pick for `ticket` now, or why nobody fits.
    pub(super) async fn best_agent_for(&self, ticket: &Ticket) -> Result<String, DeskError> {
        let team = ticket.team.clone().ok_or_else(|| {
            DeskError::Invalid(format!("ticket {} has no team to pick an agent from", ticket.number))
        })?;
        let staff = team_staff(&*self.ports.agents, &*self.ports.tickets, &team).await?;
        best_agent(&team, &needs_of(ticket), &staff)
            .map(|agent| agent.id.clone())
            .map_err(|reason| DeskError::Conflict(format!("nobody in {team} can take it: {reason}")))
    }

    /// Re-offers the waiting tickets of every team of `agent_id`.
    pub(super) async fn reoffer_for(&self, agent_id: &str) -> Result<Vec<Assignment>, DeskError> {
        let Some(agent) = self.ports.agents.agent(agent_id).await? else {
            return Ok(Vec::new());
        };
        let mut made = Vec::new();
        for team in &agent.teams {
            made.extend(self.reoffer_team(team).await?);
        }
        Ok(made)
    }

    /// Hands out `team`'s unassigned queue to its online agents with room. Each assignment
    /// is a conditional write; one that loses a race (someone took the ticket meanwhile) is
    /// skipped.
    pub async fn reoffer_team(&self, team: &str) -> Result<Vec<Assignment>, DeskError> {
        let queue = self.unassigned_queue(team).await?;
        if queue.is_empty() {
            return Ok(Vec::new());
        }
        let staff = team_staff(&*self.ports.agents, &*self.ports.tickets, team).await?;
        let now = self.ports.clock.now();
        let mut made = Vec::new();
        for assignment in reoffer(team, &queue, &staff, now) {
            let Some(mut ticket) = self.ports.tickets.ticket(assignment.ticket).await? else {
                continue;
            };
            if ticket.assignee.is_some() || !ticket.status.is_unfinished() {
                continue;
            }
            let version = ticket.version;
            let events = ticket.assign(&Actor::System, Some(assignment.agent.clone()), now)?;
            match self.save(ticket, version, events).await {
                Ok(_) => {
                    self.ports.agents.touch_assigned(&assignment.agent, now).await?;
                    made.push(assignment);
                }
                Err(DeskError::Conflict(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        Ok(made)
    }

    async fn unassigned_queue(&self, team: &str) -> Result<Vec<QueuedTicket>, DeskError> {
        let filter = TicketFilter {
            team: Some(team.to_owned()),
            assignee: Some(AssigneeFilter::Unassigned),
            ..TicketFilter::default()
        };
        let mut queue = Vec::new();
        let mut cursor: Option<String> = None;
        while queue.len() < MAX_REOFFERED {
            let page = self.ports.tickets.list(&filter, MAX_PAGE, cursor.as_deref()).await?;
            queue.extend(page.tickets.iter().filter(|t| t.status.is_unfinished()).map(|t| QueuedTicket {
                ticket: t.number,
                priority: t.priority,
                queued_at: t.created_at,
                needs: needs_of(t),
            }));
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(queue)
    }
}

/// What the ticket asks of its agent, as its routing recorded it.
fn needs_of(ticket: &Ticket) -> Needs {
    Needs { skills: ticket.skills.clone(), language: ticket.language.clone() }
}
