//! The analytics event log: the item holding one commit's events (an events item, or the
//! message item they ride on) carries `log_hour`, the UTC hour of its first event, and the
//! sparse `event_log` GSI holds exactly those items, so the rollup reads one hour of the log
//! with one Query (paged) — cost grows with the events exported, never with the table. The
//! index projects the event list only (no message text); an entry is written once per commit
//! and again only by an erasure.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::{EventLog, hour_floor};
use omnidesk_domain::model::{TicketEvent, TicketNumber};
use omnidesk_domain::ports::{StoreError, TicketStore};
use serde::Deserialize;

use super::DynamoStore;
use super::capacity::{Access, item_size, read_units};
use super::codec::{decode, string_attr};
use super::indexes::EVENT_LOG;
use super::keys::Item;
use crate::errors::store_error;
use crate::meter::Capacity;

pub(crate) const LOG_HOUR: &str = EVENT_LOG.hash;

/// `2026-11-23T14`: the hash key of one hour of the log.
pub(crate) fn hour_key(at: Timestamp) -> String {
    hour_floor(at).to_zoned(TimeZone::UTC).strftime("%Y-%m-%dT%H").to_string()
}

/// Files an events item under the hour of its first event.
pub(crate) fn index_events(item: &mut Item, first_at: Timestamp) {
    item.insert(LOG_HOUR.to_owned(), string_attr(hour_key(first_at)));
}

#[derive(Deserialize)]
struct Batch {
    events: Vec<TicketEvent>,
}

impl DynamoStore {
    async fn query_log_hour(&self, hour: &str) -> Result<Vec<TicketEvent>, StoreError> {
        let mut events = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(EVENT_LOG.name)
                .key_condition_expression("#h = :h")
                .expression_attribute_names("#h", LOG_HOUR)
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
                let batch: Batch = decode(format_args!("events of log hour {hour}"), item)?;
                events.extend(batch.events);
            }
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => return Ok(events),
            }
        }
    }
}

#[async_trait]
impl EventLog for DynamoStore {
    async fn events_in_hour(&self, hour: Timestamp) -> Result<Vec<TicketEvent>, StoreError> {
        // A commit filed under the previous hour may hold events of this one (it spanned
        // the hour's start): read both, keep this hour's.
        let previous = hour.checked_sub(SignedDuration::from_hours(1)).unwrap_or(hour);
        let mut events = self.query_log_hour(&hour_key(previous)).await?;
        events.extend(self.query_log_hour(&hour_key(hour)).await?);
        events.retain(|e| hour_floor(e.at) == hour);
        Ok(events)
    }

    async fn trail(&self, ticket: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        self.events(ticket).await
    }
}
