//! Re-offering a team's unassigned queue when an agent comes online or frees capacity.
//!
//! Tickets are served most urgent first, then oldest first; each goes to the agent
//! [`best_agent`](super::best_agent) would pick, as if the assignments before it had already
//! been made: that agent's load goes up by one and they become the most recently assigned, so
//! two free agents share a backlog in turn instead of one taking it all. A ticket nobody fits
//! stays queued and does not hold up the ones behind it, which may need other skills.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::agents::{Agent, Needs, Presence, pick};
use crate::model::{Priority, TicketNumber};

/// A ticket waiting in its team's unassigned queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedTicket {
    pub ticket: TicketNumber,
    pub priority: Priority,
    pub queued_at: Timestamp,
    pub needs: Needs,
}

/// One assignment to make now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub ticket: TicketNumber,
    pub agent: String,
}

/// The assignments to make now from `team`'s `queue` (in any order) to `agents`, at `at`.
///
/// No agent ends above their capacity, and no ticket is assigned twice, even if the queue
/// lists it twice. Every ticket left over had, when its turn came, nobody who fits with room.
pub fn reoffer(team: &str, queue: &[QueuedTicket], agents: &[Agent], at: Timestamp) -> Vec<Assignment> {
    let mut order: Vec<&QueuedTicket> = queue.iter().collect();
    order.sort_by(|a, b| {
        b.priority.cmp(&a.priority).then(a.queued_at.cmp(&b.queued_at)).then(a.ticket.cmp(&b.ticket))
    });
    // Working copies: loads rise as tickets are handed out.
    let mut staff: Vec<Agent> = agents.iter().filter(|a| a.teams.contains(team)).cloned().collect();
    let mut seen = BTreeSet::new();
    let mut assignments = Vec::new();
    for queued in order {
        if !staff.iter().any(|a| a.presence == Presence::Online && a.has_room()) {
            break;
        }
        if seen.contains(&queued.ticket) {
            continue;
        }
        if let Ok(i) = pick(team, &queued.needs, &staff) {
            seen.insert(queued.ticket);
            let agent = &mut staff[i];
            agent.load += 1;
            agent.last_assigned_at = Some(at);
            assignments.push(Assignment { ticket: queued.ticket, agent: agent.id.clone() });
        }
    }
    assignments
}
