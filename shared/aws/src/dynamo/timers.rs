//! The due index and the sweepers' watermarks. A ticket item carries `timer_bucket` (the UTC
//! minute of its `due_at` and the ticket's sub-bucket, `2026-11-27T09:55#3`, see
//! [`omnidesk_domain::partitions`]) and `timer_due` (the instant, fixed width so string order
//! is time order) only while it has a `due_at`: the `timers` GSI is sparse and holds exactly
//! the tickets the SLA sweeper must look at. A minute is spread over sub-buckets because
//! every ticket opened in the same minute falls due in the same later minute: one key took
//! all of a peak's timer writes. The sweeper reads a minute's sub-buckets with one Query each,
//! all at once, and their tickets with one BatchGetItem, so its cost grows with what is due,
//! never with what is open.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use futures_util::future::try_join_all;
use jiff::Timestamp;
use omnidesk_domain::heat::Access as HeatAccess;
use omnidesk_domain::partitions;
use omnidesk_domain::ports::{StoreError, Watermarks};
use omnidesk_domain::sla::sweeper::bucket_key;
use omnidesk_domain::{Ticket, TicketNumber};

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
pub(crate) fn index_ticket(item: &mut Item, number: TicketNumber, due_at: Option<Timestamp>) {
    if let Some(due) = due_at {
        item.insert(TIMER_BUCKET.to_owned(), string_attr(partitions::timer_key(due, number)));
        item.insert(TIMER_DUE.to_owned(), string_attr(due_key(due)));
    }
}

fn watermark_pk(name: &str) -> String {
    format!("SWEEP#{name}")
}

impl DynamoStore {
    /// One minute of the `timers` GSI, up to `up_to`: every sub-bucket at once, each
    /// following pages until `limit` items, merged by due instant, at most `limit` in all.
    /// GSI reads are eventually consistent: the caller commits conditioned on the version.
    pub(crate) async fn query_due(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        let shards = partitions::timer_keys(bucket);
        let pages =
            try_join_all(shards.iter().map(|shard| self.query_sub_bucket(shard, up_to, limit))).await?;
        let mut entries: Vec<Item> = pages.into_iter().flatten().collect();
        entries.sort_by(|a, b| due_of(a).cmp(due_of(b)));
        entries.truncate(limit);
        // The index holds keys; the tickets come from the table, current. One whose timer
        // moved since the index was written is not due here any more.
        let minute = bucket_key(bucket);
        let mut tickets = Vec::with_capacity(entries.len());
        for item in self.get_items(&entries).await? {
            let ticket = read_ticket(format_args!("due ticket in bucket {minute}"), without_index(item))?;
            if ticket.due_at.is_some_and(|due| bucket_key(due) == minute && due <= up_to) {
                tickets.push(ticket);
            }
        }
        Ok(tickets)
    }

    /// Up to `limit` entries of one sub-bucket due by `up_to`, soonest first.
    pub(super) async fn query_sub_bucket(
        &self,
        shard: &str,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut entries = Vec::new();
        let mut start_key: Option<Item> = None;
        while entries.len() < limit {
            let page_limit = i32::try_from(limit - entries.len()).unwrap_or(i32::MAX);
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(TIMERS.name)
                .key_condition_expression("#b = :b AND #d <= :t")
                .expression_attribute_names("#b", TIMER_BUCKET)
                .expression_attribute_names("#d", TIMER_DUE)
                .expression_attribute_values(":b", AttributeValue::S(shard.to_owned()))
                .expression_attribute_values(":t", AttributeValue::S(due_key(up_to)))
                .limit(page_limit)
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            let page = output.items.unwrap_or_default();
            // Eventually consistent reads cost half a unit per 4 KB.
            let units = read_units(page.iter().map(item_size).sum()) / 2.0;
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                Capacity::read(units)
            });
            self.heat(TIMERS.name, shard, HeatAccess::Read, units);
            entries.extend(page);
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => break,
            }
        }
        Ok(entries)
    }
}

fn due_of(entry: &Item) -> &str {
    entry.get(TIMER_DUE).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
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
                index_ticket(&mut item, number, ticket.due_at);
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
