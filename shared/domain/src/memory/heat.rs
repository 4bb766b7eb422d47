//! What the DynamoDB adapters would read and write, per partition, for the memory store's
//! operations: the same partition keys (`T#<n>`, `IDEM#…`, the sharded index keys of
//! [`crate::partitions`]) and units estimated from sizes by DynamoDB's rules, booked on a
//! [`PartitionHeat`], so a load simulation in memory reports the heat the table would see.
//! Sizes are those of the records' JSON, close to their item sizes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde::Serialize;

use crate::analytics::hour_floor;
use crate::heat::{Access, PartitionHeat, TABLE};
use crate::model::{Ticket, TicketNumber};
use crate::partitions::{TicketIndexKeys, event_log_key, index};
use crate::ports::TicketCommit;

const WRITE_UNIT_BYTES: usize = 1024;
const READ_UNIT_BYTES: usize = 4 * 1024;
/// Keys and the list attributes an item carries besides its record.
const KEY_BYTES: usize = 150;
/// A keys-only index entry (its keys and the table's).
const ENTRY_BYTES: usize = 120;

pub(crate) const COUNTER_PK: &str = "COUNTER#ticket";
pub(crate) const AGENTS_PK: &str = "AGENTS";

pub(crate) fn ticket_pk(number: TicketNumber) -> String {
    format!("T#{}", number.0)
}

pub(crate) fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

pub(crate) fn read_units(bytes: usize) -> f64 {
    bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64
}

pub(crate) fn size_of(value: &impl Serialize) -> usize {
    serde_json::to_vec(value).map_or(0, |json| json.len()) + KEY_BYTES
}

/// The heat map a memory store books on, if any.
#[derive(Default)]
pub(crate) struct HeatBook {
    heat: std::sync::OnceLock<Arc<PartitionHeat>>,
    /// Per ticket, the hour its events were last filed in the event log: as in the adapter,
    /// only a ticket's first commit in an hour writes an `event_log` entry.
    filed: Mutex<HashMap<TicketNumber, String>>,
}

impl HeatBook {
    pub(crate) fn attach(&self, heat: Arc<PartitionHeat>) {
        // Attached once, before the store is used; a second attach keeps the first.
        let _ = self.heat.set(heat);
    }

    pub(crate) fn on(&self) -> Option<&PartitionHeat> {
        self.heat.get().map(Arc::as_ref)
    }

    /// Whether `ticket`'s commit in `hour` is its first there (and so files in the log).
    fn first_in_hour(&self, ticket: TicketNumber, hour: &str) -> bool {
        let mut filed = self.filed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        filed.insert(ticket, hour.to_owned()).is_none_or(|before| before != hour)
    }

    pub(crate) fn table(&self, key: &str, access: Access, units: f64) {
        if let Some(heat) = self.on() {
            heat.record(TABLE, key, access, units);
        }
    }

    /// A consistent read of `bytes` from partition `key`.
    pub(crate) fn read(&self, key: &str, bytes: usize) {
        self.table(key, Access::Read, read_units(bytes));
    }

    /// A write of `bytes` to partition `key` (not in a transaction).
    pub(crate) fn write(&self, key: &str, bytes: usize) {
        self.table(key, Access::Write, write_units(bytes));
    }

    /// A Query of `entries` keys-only entries on each of `keys` of `index` (eventually
    /// consistent: half a unit per 4 KB, per page).
    pub(crate) fn index_read(&self, index: &str, keys: &[String], entries: usize) {
        if let Some(heat) = self.on() {
            for key in keys {
                heat.record(index, key, Access::Read, read_units(entries * ENTRY_BYTES) / 2.0);
            }
        }
    }

    /// The writes of one ticket commit, as `TicketStore::commit` makes them on the table:
    /// one transaction (each item twice) and the index entries that change.
    pub(crate) fn commit(&self, old: Option<&Ticket>, commit: &TicketCommit) {
        let Some(heat) = self.on() else { return };
        let pk = ticket_pk(commit.ticket.number);
        let twice = |bytes: usize| 2.0 * write_units(bytes);
        let mut units = twice(size_of(&commit.ticket));
        let events = (!commit.events.is_empty()).then(|| size_of(&commit.events));
        // The event list rides on a message item where that is cheaper (see the adapter).
        let mut events_alone = events;
        for (i, message) in commit.messages.iter().enumerate() {
            let bytes = size_of(message);
            match events {
                Some(list)
                    if i == 0 && write_units(bytes + list) - write_units(bytes) < write_units(list) =>
                {
                    units += twice(bytes + list);
                    events_alone = None;
                }
                _ => units += twice(bytes),
            }
        }
        units += events_alone.map_or(0.0, twice);
        heat.record(TABLE, &pk, Access::Write, units);
        for claim in &commit.thread_claims {
            heat.record(TABLE, &format!("THREAD#{}", claim.key.digest()), Access::Write, 2.0);
        }
        if let Some(record) = &commit.idempotency {
            let key = format!("IDEM#{}", crate::ports::key_digest(&record.key));
            heat.record(TABLE, &key, Access::Write, twice(size_of(&record.result)));
        }
        index_writes(heat, old, &commit.ticket);
        if let (Some(first), Some(bytes)) = (commit.events.first(), events) {
            let hour = hour_floor(first.at).strftime("%Y-%m-%dT%H").to_string();
            let number = commit.ticket.number;
            if self.first_in_hour(number, &hour) {
                let key = event_log_key(&hour, number);
                heat.record(index::EVENT_LOG, &key, Access::Write, write_units(bytes));
            }
        }
    }
}

/// The index entries a ticket write changes: a delete where an entry leaves a key, a put
/// where one arrives or its projected attributes change (see `capacity.rs` in the adapters).
fn index_writes(heat: &PartitionHeat, old: Option<&Ticket>, new: &Ticket) {
    let before = old.map(TicketIndexKeys::of).unwrap_or_default();
    let after = TicketIndexKeys::of(new);
    let status_changed = old.is_none_or(|old| old.status != new.status);
    let caller_changed = old.is_none_or(|old| {
        (old.status, &old.team, old.priority, &old.language, old.merged_into)
            != (new.status, &new.team, new.priority, &new.language, new.merged_into)
    });
    let timer_moved = old.is_none_or(|old| old.due_at != new.due_at);
    let entries = [
        (index::BY_STATUS, &before.status, &after.status, false),
        (index::BY_TEAM, &before.team, &after.team, false),
        (index::BY_ASSIGNEE, &before.assignee, &after.assignee, status_changed),
        (index::BY_REQUESTER, &before.requester, &after.requester, caller_changed),
        // The sort key is the due instant: any move is a delete and a put.
        (index::TIMERS, &before.timer, &after.timer, timer_moved),
    ];
    for (index, before, after, rewritten) in entries {
        match (before, after) {
            (Some(b), Some(a)) if b == a && !rewritten => {}
            (Some(b), Some(a)) if b == a && index != index::TIMERS => {
                heat.record(index, a, Access::Write, 1.0)
            }
            (b, a) => {
                if let Some(b) = b {
                    heat.record(index, b, Access::Write, 1.0);
                }
                if let Some(a) = a {
                    heat.record(index, a, Access::Write, 1.0);
                }
            }
        }
    }
}

/// The keys of a list's index reads: every shard of a sharded key.
pub(crate) fn list_keys(key: &crate::query::IndexKey) -> (&'static str, Vec<String>) {
    use crate::query::IndexKey;
    match key {
        IndexKey::Requester(id) => (index::BY_REQUESTER, vec![id.as_str().to_owned()]),
        IndexKey::Assignee(agent) => (index::BY_ASSIGNEE, vec![agent.clone()]),
        IndexKey::Team(team) => (index::BY_TEAM, crate::partitions::team_keys(team)),
        IndexKey::Status(status) => (index::BY_STATUS, crate::partitions::status_keys(*status)),
    }
}

/// The sub-buckets a sweep of `bucket` reads.
pub(crate) fn timer_keys(bucket: Timestamp) -> Vec<String> {
    crate::partitions::timer_keys(bucket)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiff::{SignedDuration, Timestamp};

    use crate::heat::{Access, PartitionHeat};
    use crate::memory::{ManualClock, MemoryStore};
    use crate::model::{Channel, CustomerId, Ticket, TicketNumber};
    use crate::partitions::index;
    use crate::ports::{TicketCommit, TicketStore};

    /// A thousand tickets opened in one second, all in one team, their first timers falling
    /// due in the same later minute: what Double 11's peak does to the list and timer keys
    /// (one key each took every write: 1,000 and more units a second, the partition limit).
    #[tokio::test]
    async fn peak_season_hot_keys_a_thousand_new_tickets_a_second_keep_every_index_partition_under_80_percent()
     {
        let start = Timestamp::from_second(1_794_326_400).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let heat = PartitionHeat::new(clock.clone());
        let store = MemoryStore::new();
        store.record_heat(heat.clone());
        for n in 1..=1_000_u64 {
            let at = start + SignedDuration::from_millis(n as i64);
            clock.set(at);
            let (mut ticket, created) = Ticket::open(
                TicketNumber(n),
                Channel::Chat,
                "hi".into(),
                CustomerId::new(format!("c{n}")),
                None,
                at,
            );
            ticket.team = Some("frontline".into());
            ticket.due_at = Some(at + SignedDuration::from_mins(24));
            let commit = TicketCommit {
                ticket,
                expected_version: None,
                messages: vec![],
                events: vec![created],
                thread_claims: vec![],
                idempotency: None,
            };
            store.commit(commit).await.unwrap();
        }
        let report = heat.report(1);
        for scope in [index::BY_STATUS, index::BY_TEAM, index::TIMERS, index::EVENT_LOG] {
            let written = report.scope(scope, Access::Write).unwrap();
            assert!(
                written.utilisation() < 0.8,
                "{scope}: {} at {:.0} units/s",
                written.hottest[0].key,
                written.hottest[0].units_per_second
            );
        }
    }
}
