//! Where a ticket's list and timer entries live in the table's indexes: the partition keys the
//! DynamoDB adapters write and the memory store reports as they would (ARCHITECTURE.md §4).
//!
//! DynamoDB serves at most 1,000 write and 3,000 read units a second per partition key, for
//! the table and for each index. A key every open ticket shares (`open` on `by_status`, a big
//! team on `by_team`, the minute every new ticket's first-reply timer falls due on `timers`)
//! takes every write of a peak on one partition. So those keys are write-sharded: the entry of
//! ticket `n` goes under `<key>#<n mod shards>`; a list reads every shard and merges them
//! newest first, the sweeper reads a minute's sub-buckets in parallel. A ticket stays on its
//! shard all its life, so a status change moves its entry between `open#3` and `pending#3`.
//! The analytics event log's hour is sharded the same way (`2026-11-23T14#3`): at a sale's
//! peak a thousand tickets a second file their first commit of the hour under it.

use jiff::Timestamp;

use crate::model::{Status, Ticket, TicketNumber};
use crate::sla::sweeper::bucket_key;

/// Shards of each status on `by_status`.
pub const STATUS_SHARDS: u64 = 10;
/// Shards of each team on `by_team`.
pub const TEAM_SHARDS: u64 = 10;
/// Sub-buckets of each minute on `timers`.
pub const TIMER_SHARDS: u64 = 10;
/// Shards of each hour on `event_log` (a ticket's first commit in an hour files there).
pub const EVENT_LOG_SHARDS: u64 = 10;

/// The table's indexes by name, as template.yaml declares them.
pub mod index {
    pub const TIMERS: &str = "timers";
    pub const BY_STATUS: &str = "by_status";
    pub const BY_TEAM: &str = "by_team";
    pub const BY_ASSIGNEE: &str = "by_assignee";
    pub const BY_REQUESTER: &str = "by_requester";
    pub const EVENT_LOG: &str = "event_log";
}

fn shard(number: TicketNumber, shards: u64) -> u64 {
    number.0 % shards.max(1)
}

fn sharded(key: &str, number: TicketNumber, shards: u64) -> String {
    format!("{key}#{}", shard(number, shards))
}

/// Every shard of `key`, in shard order.
fn all_shards(key: &str, shards: u64) -> Vec<String> {
    (0..shards.max(1)).map(|s| format!("{key}#{s}")).collect()
}

/// Ticket `number`'s key on `by_status`, e.g. `open#3`.
pub fn status_key(status: Status, number: TicketNumber) -> String {
    sharded(status.as_str(), number, STATUS_SHARDS)
}

/// Every `by_status` key of `status`.
pub fn status_keys(status: Status) -> Vec<String> {
    all_shards(status.as_str(), STATUS_SHARDS)
}

/// Ticket `number`'s key on `by_team`.
pub fn team_key(team: &str, number: TicketNumber) -> String {
    sharded(team, number, TEAM_SHARDS)
}

/// Every `by_team` key of `team`.
pub fn team_keys(team: &str) -> Vec<String> {
    all_shards(team, TEAM_SHARDS)
}

/// Ticket `number`'s sub-bucket on `timers` for a timer due `at`, e.g. `2026-11-27T09:55#3`.
pub fn timer_key(at: Timestamp, number: TicketNumber) -> String {
    sharded(&bucket_key(at), number, TIMER_SHARDS)
}

/// The key of the minute `at` falls in for forum questions waiting for staff: a
/// sub-bucket of their own, so the ticket sweep never reads them (they are few).
pub fn forum_timer_key(at: Timestamp) -> String {
    format!("{}#forum", bucket_key(at))
}

/// Every sub-bucket of the minute `at` falls in.
pub fn timer_keys(at: Timestamp) -> Vec<String> {
    all_shards(&bucket_key(at), TIMER_SHARDS)
}

/// Ticket `number`'s key on `event_log` for the hour `hour` (`2026-11-23T14`), e.g.
/// `2026-11-23T14#3`.
pub fn event_log_key(hour: &str, number: TicketNumber) -> String {
    sharded(hour, number, EVENT_LOG_SHARDS)
}

/// Every `event_log` key of the hour `hour`.
pub fn event_log_keys(hour: &str) -> Vec<String> {
    all_shards(hour, EVENT_LOG_SHARDS)
}

/// A ticket's hash key on each index it belongs to, `None` where it has no entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketIndexKeys {
    pub status: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub requester: Option<String>,
    pub timer: Option<String>,
}

impl TicketIndexKeys {
    pub fn of(ticket: &Ticket) -> Self {
        let number = ticket.number;
        Self {
            status: Some(status_key(ticket.status, number)),
            team: ticket.team.as_deref().map(|team| team_key(team, number)),
            assignee: ticket.assignee.clone(),
            requester: Some(ticket.requester.as_str().to_owned()),
            timer: ticket.due_at.map(|due| timer_key(due, number)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_keeps_its_shard_when_its_status_changes() {
        let number = TicketNumber(1043);
        assert_eq!(status_key(Status::Open, number), "open#3");
        assert_eq!(status_key(Status::Pending, number), "pending#3");
        assert_eq!(status_keys(Status::Open).len() as u64, STATUS_SHARDS);
        assert!(status_keys(Status::Open).contains(&status_key(Status::Open, number)));
    }

    #[test]
    fn consecutive_tickets_spread_over_every_shard() {
        let keys: std::collections::BTreeSet<String> =
            (1..=STATUS_SHARDS).map(|n| team_key("frontline", TicketNumber(n))).collect();
        assert_eq!(keys.len() as u64, TEAM_SHARDS);
        let at = Timestamp::from_second(1_795_424_430).unwrap();
        let buckets: std::collections::BTreeSet<String> =
            (1..=TIMER_SHARDS).map(|n| timer_key(at, TicketNumber(n))).collect();
        assert_eq!(buckets.into_iter().collect::<Vec<_>>(), timer_keys(at));
    }
}
