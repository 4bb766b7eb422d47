//! The due index and the sweepers' watermarks. A ticket item carries `timer_bucket` (the UTC
//! minute of its `due_at`) and `timer_due` (the instant, fixed width so string order is time
//! order) only while it has a `due_at`: the `timers` GSI is sparse and holds exactly the
//! tickets the SLA sweeper must look at. The sweeper reads one bucket's keys with one Query
//! and their tickets with one BatchGetItem, so its cost grows with what is due, never with
//! what is open.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use jiff::Timestamp;
use omnidesk_domain::Ticket;
use omnidesk_domain::ports::{StoreError, Watermarks};
use omnidesk_domain::sla::sweeper::bucket_key;

use super::capacity::{Access, item_size, read_units};
use super::codec::{epoch_seconds, read_epoch_seconds, string_attr};
use super::indexes::TIMERS;
use super::keys::{self, Item};
use super::ticket_item::read_ticket;
use super::{Condition, DynamoStore};
use crate::errors::store_error;
use crate::meter::Capacity;

pub(crate) const TIMER_BUCKET: &str = TIMERS.hash;
pub(crate) const TIMER_DUE: &str = TIMERS.range;
const WATERMARK_SK: &str = "WATERMARK";
const SWEPT_TO: &str = "swept_to";

/// `2026-11-27T09:55:00.000000000Z`: nanoseconds always printed, so string order is time order.
pub(crate) fn due_key(at: Timestamp) -> String {
    format!("{at:.9}")
}

/// Files a ticket item in the due index (or leaves it out: the put replaces the whole item).
pub(crate) fn index_ticket(item: &mut Item, due_at: Option<Timestamp>) {
    if let Some(due) = due_at {
        item.insert(TIMER_BUCKET.to_owned(), string_attr(bucket_key(due)));
        item.insert(TIMER_DUE.to_owned(), string_attr(due_key(due)));
    }
}

fn watermark_pk(name: &str) -> String {
    format!("SWEEP#{name}")
}

impl DynamoStore {
    /// One bucket of the `timers` GSI, up to `up_to`, following pages until `limit` items.
    /// GSI reads are eventually consistent: the caller commits conditioned on the version.
    pub(crate) async fn query_due(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        let mut tickets = Vec::new();
        let mut start_key: Option<Item> = None;
        let bucket = bucket_key(bucket);
        while tickets.len() < limit {
            let page_limit = i32::try_from(limit - tickets.len()).unwrap_or(i32::MAX);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(TIMERS.name)
                .key_condition_expression("#b = :b AND #d <= :t")
                .expression_attribute_names("#b", TIMER_BUCKET)
                .expression_attribute_names("#d", TIMER_DUE)
                .expression_attribute_values(":b", AttributeValue::S(bucket.clone()))
                .expression_attribute_values(":t", AttributeValue::S(due_key(up_to)))
                .limit(page_limit)
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            let page = output.items.unwrap_or_default();
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                // Eventually consistent reads cost half a unit per 4 KB.
                let units = read_units(page.iter().map(item_size).sum());
                Capacity::read(units / 2.0)
            });
            // The index holds keys; the tickets come from the table, current. One whose timer
            // moved since the index was written is not due here any more.
            for item in self.get_items(&page).await? {
                let ticket = read_ticket(format_args!("due ticket in bucket {bucket}"), without_index(item))?;
                if ticket.due_at.is_some_and(|due| bucket_key(due) == bucket && due <= up_to) {
                    tickets.push(ticket);
                }
            }
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => break,
            }
        }
        Ok(tickets)
    }
}

/// The index attributes are the store's business, not the ticket's.
fn without_index(mut item: Item) -> Item {
    item.remove(TIMER_BUCKET);
    item.remove(TIMER_DUE);
    item
}

#[async_trait]
impl Watermarks for DynamoStore {
    async fn watermark(&self, name: &str) -> Result<Option<Timestamp>, StoreError> {
        let Some(item) = self.get_item(watermark_pk(name), WATERMARK_SK).await? else {
            return Ok(None);
        };
        read_epoch_seconds(&item, SWEPT_TO, format_args!("watermark {name}")).map(Some)
    }

    async fn advance_watermark(
        &self,
        name: &str,
        from: Option<Timestamp>,
        to: Timestamp,
    ) -> Result<(), StoreError> {
        let mut item = Item::new();
        item.insert(SWEPT_TO.to_owned(), epoch_seconds(to));
        let item = keys::with_key(item, watermark_pk(name), WATERMARK_SK.to_owned());
        let condition = match from {
            None => Condition::absent(),
            Some(from) => {
                Condition::new("#w = :from").name("#w", SWEPT_TO).value(":from", epoch_seconds(from))
            }
        };
        self.put_if(item, condition).await
    }
}

/// BatchWriteItem's limit.
const MAX_BATCH_WRITES: usize = 25;

impl DynamoStore {
    /// Writes ticket items as they are (with their due index attributes), 25 to a
    /// BatchWriteItem, without events, conditions or anything else a commit writes: for
    /// seeding benchmarks and load tests only, never on a request path.
    pub async fn seed_tickets(&self, tickets: &[Ticket]) -> Result<(), StoreError> {
        for chunk in tickets.chunks(MAX_BATCH_WRITES) {
            let mut requests = Vec::with_capacity(chunk.len());
            for ticket in chunk {
                let number = ticket.number;
                let mut item = super::ticket_item::ticket_item(ticket)?;
                index_ticket(&mut item, ticket.due_at);
                let item = keys::with_key(item, keys::ticket_pk(number), keys::TICKET_SK.to_owned());
                let put = aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| crate::errors::build_error("BatchWriteItem", e))?;
                requests.push(aws_sdk_dynamodb::types::WriteRequest::builder().put_request(put).build());
            }
            let mut pending = Some(requests);
            // Unprocessed items (throttling) are sent again, a bounded number of times.
            for _ in 0..crate::MAX_ATTEMPTS {
                let Some(batch) = pending.take().filter(|b| !b.is_empty()) else { break };
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, batch)
                    .send()
                    .await
                    .map_err(|e| store_error("BatchWriteItem", e))?;
                pending = output.unprocessed_items.and_then(|mut left| left.remove(&self.table));
            }
            if pending.is_some_and(|left| !left.is_empty()) {
                return Err(StoreError::Unavailable("BatchWriteItem left items unprocessed".into()));
            }
        }
        Ok(())
    }
}
