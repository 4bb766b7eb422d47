//! Routing a new ticket: the team the rules choose (and the priority they raise), then the
//! best online agent of that team, or the team's unassigned queue. The router's new tickets
//! and the desk's (a confirmed return) go through the same function.

use jiff::Timestamp;

use super::{RouteError, TicketRouter};
use crate::assignment::{Agent, Needs, Presence, Routing, TicketFacts, best_agent};
use crate::inbound::{InboundMessage, Source};
use crate::lifecycle::LifecycleError;
use crate::model::{Actor, CustomerId, Ticket, TicketEvent};
use crate::ports::{AgentStore, CustomerStore, StoreError, TicketStore};

impl TicketRouter {
    /// Puts a new ticket in the team the routing rules choose, raising its priority where a
    /// rule or the customer's tier says so (see [`route_new_ticket`]).
    pub(super) async fn route_to_team(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Result<Vec<TicketEvent>, RouteError> {
        let Some(routing) = &self.routing else {
            return Ok(Vec::new());
        };
        let language = match &inbound.source {
            Source::Email(email) => Some(email.language.as_str()),
            Source::Chat { .. } | Source::Phone(_) | Source::Social(_) => None,
        };
        let staff = Staffing {
            customers: &*self.ports.customers,
            agents: &*self.ports.agents,
            tickets: &*self.ports.tickets,
        };
        route_new_ticket(routing, staff, customer, ticket, &inbound.text, language, now).await
    }
}

/// The stores routing reads: the customer (for tier rules), agents and their loads.
pub(crate) struct Staffing<'a> {
    pub customers: &'a dyn CustomerStore,
    pub agents: &'a dyn AgentStore,
    pub tickets: &'a dyn TicketStore,
}

/// Routes a new ticket whose opening words are `text`: the team the rules choose (and the
/// priority they or the customer's tier raise), then the best online agent of that team, or
/// the team's unassigned queue. The router's new tickets and the desk's (a return confirmed
/// through the help centre) are routed alike. The customer is read only when some rule or
/// the tier priorities look at customer tiers.
pub(crate) async fn route_new_ticket<E>(
    routing: &Routing,
    staff: Staffing<'_>,
    customer: &CustomerId,
    ticket: &mut Ticket,
    text: &str,
    language: Option<&str>,
    now: Timestamp,
) -> Result<Vec<TicketEvent>, E>
where
    E: From<StoreError> + From<LifecycleError>,
{
    let record = if routing.uses_customer_tier() { staff.customers.customer(customer).await? } else { None };
    let choice = routing.choose_team(&TicketFacts::of(ticket, text, record.as_ref(), language));
    let mut events = Vec::new();
    let reason = format!("routed by {}", choice.matched);
    events.extend(ticket.set_team(&Actor::System, Some(choice.team.clone()), reason, now)?);
    if choice.priority > ticket.priority {
        events.extend(ticket.set_priority(&Actor::System, choice.priority, now)?);
    }
    let needs = Needs { skills: choice.skills.clone(), language: language.map(str::to_owned) };
    // Kept with the ticket, so a later re-offer asks the same of its agent.
    ticket.skills = needs.skills.clone();
    ticket.language = needs.language.clone();
    if let Some(agent) = pick_agent(&staff, &choice.team, &needs).await? {
        events.extend(ticket.assign(&Actor::System, Some(agent.clone()), now)?);
        staff.agents.touch_assigned(&agent, now).await?;
    }
    Ok(events)
}

/// The best agent of `team` for a new ticket, with their current loads; `None` leaves it in
/// the team's unassigned queue until someone comes online or frees room.
async fn pick_agent(staff: &Staffing<'_>, team: &str, needs: &Needs) -> Result<Option<String>, StoreError> {
    let members = team_staff(staff.agents, staff.tickets, team).await?;
    match best_agent(team, needs, &members) {
        Ok(agent) => Ok(Some(agent.id.clone())),
        Err(reason) => {
            tracing::info!(team, %reason, "router.queued");
            Ok(None)
        }
    }
}

/// The members of `team`, the online ones with their current load (one count each: only
/// they can take a ticket, so only their loads are worth a query). What routing a new ticket
/// and re-offering a queue both start from.
pub(crate) async fn team_staff(
    agents: &dyn AgentStore,
    tickets: &dyn TicketStore,
    team: &str,
) -> Result<Vec<Agent>, StoreError> {
    let mut staff: Vec<Agent> =
        agents.agents().await?.into_iter().filter(|a| a.teams.contains(team)).collect();
    for agent in staff.iter_mut().filter(|a| a.presence == Presence::Online) {
        agent.load = tickets.assigned_load(&agent.id).await?;
    }
    Ok(staff)
}
