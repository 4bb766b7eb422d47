//! Tickets, their threads and audit trails (each commit's events in one list: inside one of
//! the commit's message items, or an item of their own), thread keys and the ticket-number
//! counter.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValue, TransactWriteItem};
use jiff::Timestamp;
use omnidesk_domain::ports::{StoreError, ThreadClaim, ThreadKey, TicketCommit, TicketStore};
use omnidesk_domain::query::{TicketFilter, TicketPage};
use omnidesk_domain::{Message, Ticket, TicketEvent, TicketNumber};
use serde::{Deserialize, Serialize};

use super::capacity::{Access, item_size, value_size, write_units};
use super::codec::{decode, encode, number_attr, read_u64};
use super::idempotency::{done_item, not_done_condition};
use super::keys::{self, Item};
use super::ticket_item::read_ticket;
use super::{Condition, DynamoStore};
use crate::errors::store_error;
use crate::meter::Capacity;

const VERSION: &str = "version";
const COUNTER_VALUE: &str = "value";
/// The list attribute of an [`EventBatch`] item.
const EVENT_BATCH: &str = "events";

/// A commit's events in one list: they are written at once and read back together, and a
/// list of a few hundred bytes costs one write unit where each event on its own cost one (two,
/// in the commit's transaction) — a new ticket's commit holds four. The list rides on one of
/// the commit's message items (attribute `events`) when that adds fewer write units than an
/// item of its own (`E#<first seq>`) would cost: a customer's message and its `message_in`
/// event are then one write (see [`place_events`]).
#[derive(Serialize, Deserialize)]
struct EventBatch {
    events: Vec<TicketEvent>,
}
/// The sort keys of a ticket's event items and message items, the two kinds that can hold
/// events: `E#…` sorts before `M#…`, and the ticket item (`TICKET`) after both.
const EVENTS_FROM: &str = keys::EVENT_PREFIX;
const EVENTS_TO: &str = "M$";
const THREAD_TICKET: &str = "ticket";

#[async_trait]
impl TicketStore for DynamoStore {
    async fn allocate_numbers(&self, count: u64) -> Result<TicketNumber, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::key(keys::COUNTER_PK.to_owned(), keys::COUNTER_SK)))
            // ADD creates the counter at 0 on first use, so no setup step is needed.
            .update_expression("ADD #v :count")
            .expression_attribute_names("#v", COUNTER_VALUE)
            .expression_attribute_values(":count", number_attr(count.max(1)))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e))?;
        let attributes = output.attributes.unwrap_or_default();
        self.record_capacity("UpdateItem", Access::Write, output.consumed_capacity.as_slice(), || {
            // The counter item is its key and the value: well under 1 KB, so this is exact.
            let key = keys::key(keys::COUNTER_PK.to_owned(), keys::COUNTER_SK);
            Capacity::write(write_units(item_size(&key) + item_size(&attributes)))
        });
        self.heat(omnidesk_domain::heat::TABLE, keys::COUNTER_PK, omnidesk_domain::heat::Access::Write, 1.0);
        Ok(TicketNumber(read_u64(&attributes, COUNTER_VALUE, "ticket counter")?))
    }

    async fn ticket(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError> {
        let item = self.get_item(keys::ticket_pk(number), keys::TICKET_SK).await?;
        let Some(item) = item else { return Ok(None) };
        let filed = item.get(super::event_log::LOG_FILED).and_then(|v| v.as_s().ok()).cloned();
        let ticket = read_ticket(format_args!("ticket {number}"), item)?;
        self.filed.remember(number, ticket.version, filed);
        Ok(Some(ticket))
    }

    async fn messages(&self, number: TicketNumber) -> Result<Vec<Message>, StoreError> {
        let items = self.query_prefix(keys::ticket_pk(number), keys::MESSAGE_PREFIX).await?;
        items
            .into_iter()
            .map(|mut item| {
                item.remove(EVENT_BATCH);
                decode(format_args!("message of ticket {number}"), item)
            })
            .collect()
    }

    async fn events(&self, number: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        // One Query over the event items and the message items: a commit's events sit in
        // either (messages without events are read and passed over).
        let items = self.query_range(keys::ticket_pk(number), EVENTS_FROM, EVENTS_TO).await?;
        let mut events = Vec::with_capacity(items.len());
        for mut item in items {
            let is_message = item_sk(&item).is_some_and(|sk| sk.starts_with(keys::MESSAGE_PREFIX));
            if let Some(batch) = take_batch(number, &mut item)? {
                events.extend(batch.events);
            } else if !is_message {
                // One event per item, as commits stored them before batches.
                events.push(decode(format_args!("event of ticket {number}"), item)?);
            }
        }
        // Batches on message items come in the messages' order, not the events'.
        events.sort_by_key(|event| event.seq);
        Ok(events)
    }

    async fn claim_thread(&self, claim: &ThreadClaim) -> Result<(), StoreError> {
        match self.put_if(thread_item(claim), thread_condition(claim)).await {
            Ok(()) => Ok(()),
            // Lost the condition: fine if the key already points where we wanted it.
            Err(StoreError::Conflict(reason)) => match self.thread_ticket(&claim.key).await? {
                Some(current) if current == claim.ticket => Ok(()),
                _ => Err(StoreError::Conflict(reason)),
            },
            Err(other) => Err(other),
        }
    }

    async fn thread_ticket(&self, key: &ThreadKey) -> Result<Option<TicketNumber>, StoreError> {
        let Some(item) = self.get_item(keys::thread_pk(key), keys::THREAD_SK).await? else {
            return Ok(None);
        };
        Ok(Some(TicketNumber(read_u64(&item, THREAD_TICKET, "thread key")?)))
    }

    async fn commit(&self, commit: TicketCommit) -> Result<(), StoreError> {
        let (number, version) = (commit.ticket.number, commit.ticket.version);
        let (writes, filed) = self.commit_writes(commit)?;
        self.transact(writes).await?;
        self.filed.remember(number, version, filed);
        Ok(())
    }

    async fn list(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, StoreError> {
        self.list_tickets(filter, limit, cursor).await
    }

    async fn assigned_load(&self, agent: &str) -> Result<u32, StoreError> {
        self.count_assigned(agent).await
    }

    async fn rewrite_messages(&self, number: TicketNumber, messages: &[Message]) -> Result<(), StoreError> {
        let pk = keys::ticket_pk(number);
        // A message item may carry its commit's events, filed in the event log: the rewrite
        // keeps both as stored.
        let mut stored_events: HashMap<String, Vec<(String, AttributeValue)>> = HashMap::new();
        for mut item in self.query_prefix(pk.clone(), keys::MESSAGE_PREFIX).await? {
            let Some(sk) = item_sk(&item).map(str::to_owned) else { continue };
            let kept: Vec<(String, AttributeValue)> = [EVENT_BATCH, super::event_log::LOG_HOUR]
                .into_iter()
                .filter_map(|name| item.remove(name).map(|value| (name.to_owned(), value)))
                .collect();
            if !kept.is_empty() {
                stored_events.insert(sk, kept);
            }
        }
        for message in messages {
            let mut item = encode(format_args!("message of ticket {number}"), message)?;
            let sk = keys::message_sk(message.created_at, &message.id);
            item.extend(stored_events.remove(&sk).unwrap_or_default());
            // Only over a stored message: erasure must not create one.
            let exists = Condition::new("attribute_exists(#pk)").name("#pk", keys::PK);
            match self.put_if(keys::with_key(item, pk.clone(), sk), exists).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    async fn rewrite_events(&self, number: TicketNumber, events: &[TicketEvent]) -> Result<(), StoreError> {
        let pk = keys::ticket_pk(number);
        let replacements: HashMap<u64, &TicketEvent> =
            events.iter().map(|event| (event.seq, event)).collect();
        // Events sit in batches (one per commit, on a message item or an item of their own)
        // or, stored before batches, one per item: each stored item is rewritten whole, in the
        // form it has (a message item with its message), if any of its events changed.
        for mut item in self.query_range(pk.clone(), EVENTS_FROM, EVENTS_TO).await? {
            let Some(sk) = item_sk(&item).map(str::to_owned) else {
                return Err(StoreError::Corrupt(format!("an event item of ticket {number} has no sort key")));
            };
            let rewritten = if let Some(mut batch) = take_batch(number, &mut item)? {
                let changed = replace_events(&mut batch.events, &replacements);
                if changed {
                    let list = encode(format_args!("events of ticket {number}"), &batch)?
                        .remove(EVENT_BATCH)
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!("events of ticket {number} encode as no list"))
                        })?;
                    item.insert(EVENT_BATCH.to_owned(), list);
                    Some(item)
                } else {
                    None
                }
            } else if sk.starts_with(keys::MESSAGE_PREFIX) {
                None
            } else {
                let event: TicketEvent = decode(format_args!("event of ticket {number}"), item)?;
                let mut single = vec![event];
                let changed = replace_events(&mut single, &replacements);
                changed.then(|| encode(format_args!("event of ticket {number}"), &single[0])).transpose()?
            };
            let Some(rewritten) = rewritten else { continue };
            // Only over a stored item, as with messages.
            let exists = Condition::new("attribute_exists(#pk)").name("#pk", keys::PK);
            match self.put_if(keys::with_key(rewritten, pk.clone(), sk), exists).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    async fn due_tickets(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        self.query_due(bucket, up_to, limit).await
    }
}

/// Puts each event that `replacements` holds a new version of in its place; true if any changed.
fn replace_events(stored: &mut [TicketEvent], replacements: &HashMap<u64, &TicketEvent>) -> bool {
    let mut changed = false;
    for event in stored.iter_mut() {
        if let Some(new) = replacements.get(&event.seq)
            && *new != event
        {
            *event = (*new).clone();
            changed = true;
        }
    }
    changed
}

impl DynamoStore {
    /// The commit as one transaction; each write carries the condition that makes a
    /// concurrent or repeated commit fail as a whole. Also the hour the ticket item now says
    /// its events were last filed in.
    fn commit_writes(
        &self,
        commit: TicketCommit,
    ) -> Result<(Vec<TransactWriteItem>, Option<String>), StoreError> {
        let number = commit.ticket.number;
        let pk = keys::ticket_pk(number);
        let mut writes = Vec::with_capacity(
            1 + commit.messages.len()
                + commit.events.len()
                + commit.thread_claims.len()
                + usize::from(commit.idempotency.is_some()),
        );

        let ticket_condition = match commit.expected_version {
            None => Condition::absent(),
            Some(expected) => {
                Condition::new("#v = :expected").name("#v", VERSION).value(":expected", number_attr(expected))
            }
        };
        // Only the ticket's first commit in an hour files its events in the event log.
        let hour = commit.events.first().map(|e| super::event_log::hour_key(e.at));
        let known = self.filed.filed(number, commit.expected_version);
        let (file, filed) = super::event_log::filing(known, hour.clone());
        let mut ticket = super::ticket_item::ticket_item(&commit.ticket)?;
        super::event_log::mark_filed(&mut ticket, filed.as_deref());
        super::lists::add_list_attributes(&mut ticket, &commit.ticket);
        super::timers::index_ticket(&mut ticket, number, commit.ticket.due_at);
        writes.push(self.conditional_put(
            keys::with_key(ticket, pk.clone(), keys::TICKET_SK.to_owned()),
            ticket_condition,
        )?);

        // Messages and events go under the committed ticket's partition, as in memory.
        let mut message_items = Vec::with_capacity(commit.messages.len());
        for message in &commit.messages {
            let item = encode(format_args!("message of ticket {number}"), message)?;
            let sk = keys::message_sk(message.created_at, &message.id);
            message_items.push(keys::with_key(item, pk.clone(), sk));
        }
        let mut event_item = None;
        if let Some(first) = commit.events.first() {
            let batch = EventBatch { events: commit.events.clone() };
            let item = encode(format_args!("events of ticket {number}"), &batch)?;
            event_item = Some(keys::with_key(item, pk.clone(), keys::event_sk(first.seq)));
        }
        let event_item = event_item.and_then(|item| place_events(&mut message_items, item));
        for mut item in message_items.into_iter().chain(event_item) {
            // Whichever item holds the events is filed in their hour of the event log.
            if let Some(hour) = hour.as_deref().filter(|_| file)
                && item.contains_key(EVENT_BATCH)
            {
                super::event_log::index_events(&mut item, hour, number);
            }
            writes.push(self.conditional_put(item, Condition::absent())?);
        }
        for claim in &commit.thread_claims {
            writes.push(self.conditional_put(thread_item(claim), thread_condition(claim))?);
        }
        if let Some(record) = &commit.idempotency {
            // Taken only if nobody finished this key; our own lease may be overwritten.
            writes.push(self.conditional_put(done_item(record)?, not_done_condition())?);
        }
        Ok((writes, filed))
    }
}

/// Moves the commit's event list onto the message item where it adds the fewest write units,
/// if that is fewer than its own item (`events`, keyed `E#<first seq>`) costs; otherwise
/// gives the event item back, to be written on its own.
fn place_events(messages: &mut [Item], events: Item) -> Option<Item> {
    let Some(list) = events.get(EVENT_BATCH) else { return Some(events) };
    let list_bytes = EVENT_BATCH.len() + value_size(list);
    let alone = write_units(item_size(&events));
    let added = |message: &Item| {
        let size = item_size(message);
        write_units(size + list_bytes) - write_units(size)
    };
    let best = messages.iter_mut().min_by(|a, b| added(a).total_cmp(&added(b)));
    match best {
        Some(message) if added(message) < alone => {
            let mut events = events;
            if let Some(list) = events.remove(EVENT_BATCH) {
                message.insert(EVENT_BATCH.to_owned(), list);
            }
            None
        }
        _ => Some(events),
    }
}

/// Takes the event list out of an item (an event item or a message item), if it holds one.
fn take_batch(number: TicketNumber, item: &mut Item) -> Result<Option<EventBatch>, StoreError> {
    let Some(list) = item.remove(EVENT_BATCH) else { return Ok(None) };
    let batch = Item::from([(EVENT_BATCH.to_owned(), list)]);
    decode(format_args!("events of ticket {number}"), batch).map(Some)
}

fn item_sk(item: &Item) -> Option<&str> {
    item.get(keys::SK).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn thread_item(claim: &ThreadClaim) -> Item {
    let mut item = Item::new();
    item.insert(THREAD_TICKET.to_owned(), number_attr(claim.ticket.0));
    keys::with_key(item, keys::thread_pk(&claim.key), keys::THREAD_SK.to_owned())
}

/// The key must still point where the writer saw it: nowhere, or at `replaces`.
fn thread_condition(claim: &ThreadClaim) -> Condition {
    match claim.replaces {
        None => Condition::absent(),
        Some(old) => Condition::new("#t = :old").name("#t", THREAD_TICKET).value(":old", number_attr(old.0)),
    }
}
