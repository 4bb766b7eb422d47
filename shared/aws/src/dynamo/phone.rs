//! The phone ports on the table.
//!
//! - Call notes: `CALL#sha256:<digest of the contact id>` / `CALL`, what the contact flow
//!   learned (the caller's number among it), expiring with the table's TTL after a few days.
//! - The caller lookup in two reads: the identity claim (GetItem), then one Query on
//!   `by_requester`, which holds the customer's tickets and, sorted after them, the customer
//!   item itself when it holds a phone number (it carries `list_requester` and `list_at =
//!   "~customer"`): newest first, the first item is the customer and the next ones their
//!   newest tickets. The index projects only what the flow reads of them
//!   ([`super::indexes`]), so the entries are decoded as that, not as whole records.
//!   Customers without a number stay off the index (an entry costs a write unit whenever
//!   a projected attribute of the item changes).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use jiff::Timestamp;
use omnidesk_domain::model::{Customer, CustomerId, Identity, Priority, Status, TicketNumber};
use omnidesk_domain::phone::ports::{
    CallNote, CallNotes, CallerDirectory, CallerProfile, CallerRecord, CallerTicket,
};
use omnidesk_domain::ports::{CustomerStore, StoreError, key_digest};
use serde::Deserialize;

use super::DynamoStore;
use super::capacity::{Access, item_size, read_units, write_units};
use super::codec::{decode, encode, epoch_seconds, read_epoch_seconds, string_attr, ttl_seconds};
use super::keys::{self, Item};
use super::lists::{CUSTOMER_LIST_AT, LIST_AT, LIST_REQUESTER};
use super::ticket_item::times_as_text;
use crate::errors::{corrupt, store_error};
use crate::meter::Capacity;

const NOTE_SK: &str = "CALL";
const EXPIRES: &str = "expires_at";

fn note_pk(contact_id: &str) -> String {
    format!("CALL#{}", key_digest(contact_id))
}

/// The attributes that put a customer item on `by_requester`, after the customer's tickets.
pub(crate) fn caller_index(id: &CustomerId) -> [(&'static str, AttributeValue); 2] {
    [(LIST_REQUESTER, string_attr(id.as_str())), (LIST_AT, string_attr(CUSTOMER_LIST_AT))]
}

/// Puts the item of `customer` on `by_requester` if it holds a phone number: only a caller
/// is looked up there, and an index entry costs a write unit on every write of the item.
pub(crate) fn add_caller_index(item: &mut Item, customer: &Customer) {
    if customer.identities.iter().any(|i| matches!(i, Identity::Phone { .. })) {
        for (name, value) in caller_index(&customer.id) {
            item.insert(name.to_owned(), value);
        }
    }
}

#[async_trait]
impl CallNotes for DynamoStore {
    async fn keep(&self, contact_id: &str, note: &CallNote, expires_at: Timestamp) -> Result<(), StoreError> {
        let mut item = encode("call note", note)?;
        item.insert(EXPIRES.to_owned(), epoch_seconds(expires_at));
        item.insert("ttl".to_owned(), ttl_seconds(expires_at));
        let item = keys::with_key(item, note_pk(contact_id), NOTE_SK.to_owned());
        let estimate = self.estimate(|| Capacity::write(write_units(item_size(&item))));
        let output = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        self.record_capacity("PutItem", Access::Write, output.consumed_capacity.as_slice(), || estimate);
        Ok(())
    }

    async fn note(&self, contact_id: &str, now: Timestamp) -> Result<Option<CallNote>, StoreError> {
        let Some(mut item) = self.get_item(note_pk(contact_id), NOTE_SK).await? else {
            return Ok(None);
        };
        // TTL deletes lazily: an expired note is gone for the reader.
        if read_epoch_seconds(&item, EXPIRES, "call note")? <= now {
            return Ok(None);
        }
        for attribute in [keys::PK, keys::SK, EXPIRES, "ttl"] {
            item.remove(attribute);
        }
        decode("call note", item).map(Some)
    }
}

#[async_trait]
impl CallerDirectory for DynamoStore {
    async fn caller(&self, identity: &Identity, recent: usize) -> Result<Option<CallerRecord>, StoreError> {
        let Some(id) = self.customer_by_identity(identity).await? else {
            return Ok(None);
        };
        let limit = i32::try_from(recent.saturating_add(1)).unwrap_or(i32::MAX);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by_requester")
            .key_condition_expression("#h = :h")
            .expression_attribute_names("#h", LIST_REQUESTER)
            .expression_attribute_values(":h", AttributeValue::S(id.as_str().to_owned()))
            .scan_index_forward(false)
            .limit(limit)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("Query", e))?;
        let items = output.items.unwrap_or_default();
        self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
            Capacity::read(read_units(items.iter().map(item_size).sum()) / 2.0)
        });
        let mut customer: Option<CallerProfile> = None;
        let mut tickets = Vec::new();
        for item in items {
            let is_customer =
                item.get(keys::SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(keys::CUSTOMER_SK);
            if is_customer {
                let entry: CustomerEntry = decode(format_args!("customer {id}"), item)?;
                customer = Some(CallerProfile { name: entry.name, tier: entry.tier });
            } else {
                tickets.push(caller_ticket(item)?);
            }
        }
        Ok(Some(CallerRecord { customer, customer_id: id, tickets }))
    }
}

/// A customer's entry on `by_requester` (other attributes of a whole item are ignored).
#[derive(Deserialize)]
struct CustomerEntry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tier: Option<String>,
}

/// A ticket's entry on `by_requester`; absent attributes read as the ticket's defaults,
/// as in [`super::ticket_item`].
#[derive(Deserialize)]
struct TicketEntry {
    status: Status,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    priority: Priority,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    merged_into: Option<TicketNumber>,
    created_at: Timestamp,
}

fn caller_ticket(mut item: Item) -> Result<CallerTicket, StoreError> {
    let pk = item.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let number = pk
        .strip_prefix("T#")
        .and_then(|n| n.parse().ok())
        .map(TicketNumber)
        .ok_or_else(|| corrupt("caller's ticket", format_args!("key {pk:?} is not a ticket's")))?;
    times_as_text(&format_args!("caller's ticket {number}"), &mut item)?;
    let entry: TicketEntry = decode(format_args!("caller's ticket {number}"), item)?;
    Ok(CallerTicket {
        number,
        status: entry.status,
        team: entry.team,
        priority: entry.priority,
        language: entry.language,
        merged_into: entry.merged_into,
        created_at: entry.created_at,
    })
}
