//! Ticket lists as the agent API asks for them: a filter, a page size and an opaque cursor.
//! Each store serves a filter from a queryable index (never a scan): by requester, by
//! assignee, by team or by status, in that order of preference; the other fields narrow what
//! that index returns.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Channel, CustomerId, Priority, Status, Ticket};

/// Largest page the stores return.
pub const MAX_PAGE: usize = 100;

/// Who holds a ticket, as a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeFilter {
    Agent(String),
    Unassigned,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub team: Option<String>,
    pub assignee: Option<AssigneeFilter>,
    pub requester: Option<CustomerId>,
    pub priority: Option<Priority>,
    pub channel: Option<Channel>,
    pub category: Option<String>,
    pub tag: Option<String>,
    /// Only tickets with (or without) a breached SLA timer.
    pub breached: Option<bool>,
    /// Only tickets the SLA sweeper looks at by then: a warning or a deadline of a running
    /// timer at or before this instant ("breaching soon").
    pub due_before: Option<Timestamp>,
}

/// The index a filter is served from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKey {
    Requester(CustomerId),
    Assignee(String),
    Team(String),
    Status(Status),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("filter by status, team, assignee or customer: listing every ticket would scan")]
    Unindexed,
    #[error("the cursor is not one this list handed out")]
    BadCursor,
}

impl TicketFilter {
    /// The most selective index that serves this filter.
    pub fn index(&self) -> Result<IndexKey, QueryError> {
        if let Some(requester) = &self.requester {
            return Ok(IndexKey::Requester(requester.clone()));
        }
        if let Some(AssigneeFilter::Agent(agent)) = &self.assignee {
            return Ok(IndexKey::Assignee(agent.clone()));
        }
        if let Some(team) = &self.team {
            return Ok(IndexKey::Team(team.clone()));
        }
        match self.status {
            Some(status) => Ok(IndexKey::Status(status)),
            None => Err(QueryError::Unindexed),
        }
    }

    /// What a cursor is bound to: every field, in a fixed unambiguous form (JSON). For
    /// `due_before` only whether it is set: the breaching-soon view moves its horizon with
    /// the clock between pages, and is still the same list.
    pub fn binding(&self) -> String {
        serde_json::json!([
            self.status,
            self.team,
            self.assignee,
            self.requester,
            self.priority,
            self.channel,
            self.category,
            self.tag,
            self.breached,
            self.due_before.is_some(),
        ])
        .to_string()
    }

    /// Whether `ticket` passes every field of the filter (the index's own included).
    pub fn matches(&self, ticket: &Ticket) -> bool {
        self.status.is_none_or(|s| ticket.status == s)
            && self.team.as_ref().is_none_or(|t| ticket.team.as_ref() == Some(t))
            && self.assignee.as_ref().is_none_or(|a| match a {
                AssigneeFilter::Agent(agent) => ticket.assignee.as_ref() == Some(agent),
                AssigneeFilter::Unassigned => ticket.assignee.is_none(),
            })
            && self.requester.as_ref().is_none_or(|r| &ticket.requester == r)
            && self.priority.is_none_or(|p| ticket.priority == p)
            && self.channel.is_none_or(|c| c.covers(ticket.channel))
            && self.category.as_ref().is_none_or(|c| ticket.category.as_ref() == Some(c))
            && self.tag.as_ref().is_none_or(|t| ticket.tags.contains(t))
            && self.breached.is_none_or(|b| ticket.sla.breached() == b)
            && self.due_before.is_none_or(|by| next_sla_instant(ticket).is_some_and(|due| due <= by))
    }
}

/// The next warning or deadline of a running SLA timer. Not `ticket.due_at`: that also
/// holds a solved ticket's survey and alert retries, which are not at risk of breaching.
fn next_sla_instant(ticket: &Ticket) -> Option<Timestamp> {
    ticket.sla.timers.iter().filter_map(|timer| timer.next_instant()).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, CustomerId, TicketNumber};
    use crate::sla::{Timer, TimerKind, TimerState};

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn breaching_soon_counts_running_sla_timers_not_a_solved_tickets_due_survey() {
        let filter = TicketFilter { due_before: Some(at(1_790_003_600)), ..TicketFilter::default() };
        let (mut ticket, _) = Ticket::open(
            TicketNumber(1),
            Channel::Chat,
            "hi".into(),
            CustomerId::new("cus_1"),
            None,
            at(1_790_000_000),
        );
        // Solved: no timer runs, but its survey is due within the hour.
        ticket.due_at = Some(at(1_790_001_000));
        assert!(!filter.matches(&ticket));
        ticket.sla.timers.push(Timer {
            kind: TimerKind::FirstReply,
            cycle: 0,
            target_minutes: 30,
            started_at: at(1_790_000_000),
            paused_seconds: 0,
            paused_at: None,
            due_at: at(1_790_001_800),
            warn_at: None,
            state: TimerState::Running,
            warned: false,
            breached_at: None,
            met_at: None,
        });
        assert!(filter.matches(&ticket));
        ticket.sla.timers[0].due_at = at(1_790_007_200);
        assert!(!filter.matches(&ticket), "due after the horizon");
    }
}

/// One page of a list, newest ticket first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    /// Hand back to get the next page; `None`: this was the last.
    pub cursor: Option<String>,
}

/// The page size to use: at least 1, at most [`MAX_PAGE`].
pub fn page_size(limit: Option<usize>) -> usize {
    limit.unwrap_or(25).clamp(1, MAX_PAGE)
}
