//! The analytics event log, filed per ticket-hour: a ticket's first commit in each UTC hour
//! files the item holding its events (an events item, or the message item they ride on)
//! under `log_hour`, the hour of its first event on the ticket's shard of it
//! (`2026-11-23T14#3`, see `omnidesk_domain::partitions`), and the sparse `event_log` GSI
//! holds exactly those items. The rollup reads an hour with one Query (paged) per shard, in
//! parallel, for the tickets filed in it (and in the hour before, for a commit spanning the
//! hour's start), then each ticket's events of the hour from its own partition — a Query it
//! makes anyway to fold the ticket.
//! So the index costs one write per ticket-hour instead of one per commit, and a run's
//! reads still grow with the tickets exported, never with the table.
//!
//! Which commit is a ticket's first of the hour: the ticket item carries `log_filed`, the
//! hour it was last filed in. The store remembers, per ticket, the version and `log_filed` it
//! last read or wrote ([`FiledHours`]); a commit at that version in that hour is not filed
//! again, any other is (a container that never saw the ticket files once more: an extra
//! entry, never a missing one). The commit's version condition makes the remembered value
//! the stored one.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use futures_util::future::try_join_all;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::{EventLog, hour_floor};
use omnidesk_domain::model::{TicketEvent, TicketNumber};
use omnidesk_domain::partitions;
use omnidesk_domain::ports::{StoreError, TicketStore};

use super::DynamoStore;
use super::capacity::{Access, item_size, read_units};
use super::codec::string_attr;
use super::indexes::EVENT_LOG;
use super::keys::Item;
use crate::errors::store_error;
use crate::meter::Capacity;

pub(crate) const LOG_HOUR: &str = EVENT_LOG.hash;
/// On the ticket item: the hour its events were last filed in.
pub(crate) const LOG_FILED: &str = "log_filed";
/// Tickets a store remembers the filing of; past it, it starts over (and files once more).
const MAX_REMEMBERED: usize = 20_000;

/// `2026-11-23T14`: the hash key of one hour of the log.
pub(crate) fn hour_key(at: Timestamp) -> String {
    hour_floor(at).to_zoned(TimeZone::UTC).strftime("%Y-%m-%dT%H").to_string()
}

/// Files an events item of `ticket` under `hour` (the hour key of its first event), on the
/// ticket's shard of that hour.
pub(crate) fn index_events(item: &mut Item, hour: &str, ticket: TicketNumber) {
    item.insert(LOG_HOUR.to_owned(), string_attr(partitions::event_log_key(hour, ticket)));
}

/// Every key of the log's `hour`: its shards, and the hour itself, under which stacks filed
/// before the log was sharded.
fn hour_keys(hour: &str) -> Vec<String> {
    let mut keys = partitions::event_log_keys(hour);
    keys.push(hour.to_owned());
    keys
}

/// Per ticket, the version and `log_filed` this store last read or wrote.
#[derive(Debug, Default)]
pub(crate) struct FiledHours(Mutex<HashMap<TicketNumber, (u64, String)>>);

impl FiledHours {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TicketNumber, (u64, String)>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes the ticket item at `version` (read, or just committed) and its `log_filed`.
    pub(crate) fn remember(&self, ticket: TicketNumber, version: u64, filed: Option<String>) {
        let mut known = self.lock();
        match filed {
            Some(hour) => {
                if known.len() >= MAX_REMEMBERED {
                    known.clear();
                }
                known.insert(ticket, (version, hour));
            }
            None => {
                known.remove(&ticket);
            }
        }
    }

    /// The hour the ticket at `version` was filed in, if this store knows it.
    pub(crate) fn filed(&self, ticket: TicketNumber, version: Option<u64>) -> Option<String> {
        let version = version?;
        self.lock().get(&ticket).filter(|(v, _)| *v == version).map(|(_, hour)| hour.clone())
    }
}

/// Whether a commit files its events (its ticket's first in `hour`), and the `log_filed` the
/// ticket item keeps: `(file, filed)`.
pub(crate) fn filing(known: Option<String>, hour: Option<String>) -> (bool, Option<String>) {
    match (known, hour) {
        (Some(known), Some(hour)) if known == hour => (false, Some(known)),
        (_, Some(hour)) => (true, Some(hour)),
        (known, None) => (false, known),
    }
}

/// The ticket whose partition key is `pk` (the inverse of `keys::ticket_pk`).
fn ticket_of(pk: &str) -> Option<TicketNumber> {
    let number = pk.strip_prefix("T#")?.parse().ok()?;
    (super::keys::ticket_pk(TicketNumber(number)) == pk).then_some(TicketNumber(number))
}

/// Carries `log_filed` onto a ticket item.
pub(crate) fn mark_filed(ticket: &mut Item, filed: Option<&str>) {
    if let Some(hour) = filed {
        ticket.insert(LOG_FILED.to_owned(), string_attr(hour));
    }
}

impl DynamoStore {
    /// The tickets with an entry filed under the log key `hour` (one shard of an hour).
    async fn query_log_hour(&self, hour: &str) -> Result<BTreeSet<TicketNumber>, StoreError> {
        let mut tickets = BTreeSet::new();
        let mut start_key: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(EVENT_LOG.name)
                .key_condition_expression("#h = :h")
                .projection_expression("#pk")
                .expression_attribute_names("#h", LOG_HOUR)
                .expression_attribute_names("#pk", super::keys::PK)
                .expression_attribute_values(":h", AttributeValue::S(hour.to_owned()))
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            let page = output.items.unwrap_or_default();
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                // Eventually consistent reads cost half a unit per 4 KB.
                Capacity::read(read_units(page.iter().map(item_size).sum()) / 2.0)
            });
            for item in page {
                let pk = super::codec::read_string(&item, super::keys::PK, format_args!("log hour {hour}"))?;
                tickets.insert(ticket_of(pk).ok_or_else(|| {
                    StoreError::Corrupt(format!("log hour {hour} files {pk}, not a ticket"))
                })?);
            }
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => return Ok(tickets),
            }
        }
    }
}

#[async_trait]
impl EventLog for DynamoStore {
    async fn tickets_in_hour(&self, hour: Timestamp) -> Result<BTreeSet<TicketNumber>, StoreError> {
        // A commit filed under the previous hour may hold events of this one (it spanned
        // the hour's start): name the tickets of both.
        let previous = hour.checked_sub(SignedDuration::from_hours(1)).unwrap_or(hour);
        let keys: Vec<String> = [previous, hour].iter().flat_map(|h| hour_keys(&hour_key(*h))).collect();
        let filed = try_join_all(keys.iter().map(|key| self.query_log_hour(key))).await?;
        Ok(filed.into_iter().flatten().collect())
    }

    async fn trail(&self, ticket: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        self.events(ticket).await
    }
}
