//! Idempotency records: `IDEM#<digest of the key>` holds either a lease (`state = leased`, `lease_until`) or
//! a finished result (`state = done`, `result` as JSON text, `expires_at`). Both carry `ttl`
//! so DynamoDB deletes them once they no longer matter.
//!
//! Instants are exact epoch seconds, and every comparison matches the in-memory store: a
//! lease is live while `lease_until > now`, a result while `expires_at > now`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use jiff::Timestamp;
use omnidesk_domain::ports::{Idempotency, IdempotencyRecord, IdempotencyStore, StoreError};
use omnidesk_domain::system::later;

use super::capacity::{Access, item_size, write_units};
use super::codec::{epoch_seconds, read_epoch_seconds, read_string, string_attr, ttl_seconds};
use super::keys::{self, Item};
use super::{Condition, DynamoStore};
use crate::errors::{corrupt, store_error};
use crate::meter::Capacity;

const STATE: &str = "state";
const LEASED: &str = "leased";
const DONE: &str = "done";
const LEASE_UNTIL: &str = "lease_until";
const OWNER: &str = "owner";
const RESULT: &str = "result";
const EXPIRES_AT: &str = "expires_at";
/// The table's TTL attribute.
const TTL: &str = "ttl";

/// A failed `begin` re-reads the record; if it changed again in between (released or
/// expired), taking the key is tried again this many times before answering `InFlight`.
const BEGIN_ATTEMPTS: usize = 3;

/// What a stored record says, as of `now`.
enum Stored {
    Done(serde_json::Value),
    Leased {
        owner: String,
    },
    /// Absent, or expired: free to take.
    Free,
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn result(&self, key: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        Ok(match self.stored(key, now).await? {
            Stored::Done(result) => Some(result),
            Stored::Leased { .. } | Stored::Free => None,
        })
    }

    async fn begin(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Idempotency, StoreError> {
        let until = later(now, lease);
        for _ in 0..BEGIN_ATTEMPTS {
            match self.take_lease(key, owner, now, until).await {
                Ok(()) => return Ok(Idempotency::Started),
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
            match self.stored(key, now).await? {
                Stored::Done(result) => return Ok(Idempotency::Done(result)),
                // An SDK retry of a put that landed: the lease is ours.
                Stored::Leased { owner: holder } if holder == owner => return Ok(Idempotency::Started),
                Stored::Leased { .. } => return Ok(Idempotency::InFlight),
                Stored::Free => {}
            }
        }
        Ok(Idempotency::InFlight)
    }

    async fn complete(&self, record: IdempotencyRecord) -> Result<(), StoreError> {
        let item = done_item(&record)?;
        let estimate = self.estimate(|| Capacity::write(write_units(item_size(&item))));
        if self.metered() {
            let pk = keys::idempotency_pk(&record.key);
            self.heat(
                omnidesk_domain::heat::TABLE,
                &pk,
                omnidesk_domain::heat::Access::Write,
                estimate.write,
            );
        }
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

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let item_key = keys::key(keys::idempotency_pk(key), keys::IDEMPOTENCY_SK);
        // A lease item is its key and a few short attributes: under 1 KB, one unit.
        let estimate = self.estimate(|| Capacity::write(write_units(item_size(&item_key))));
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            // Only a lease is given back; a finished result stays.
            .condition_expression("#s = :leased")
            .expression_attribute_names("#s", STATE)
            .expression_attribute_values(":leased", string_attr(LEASED))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result.map_err(|e| store_error("DeleteItem", e)) {
            Ok(output) => {
                self.record_capacity(
                    "DeleteItem",
                    Access::Write,
                    output.consumed_capacity.as_slice(),
                    || estimate,
                );
                Ok(())
            }
            // Already done or already gone: nothing to give back. The failed condition is
            // still billed as a write, and its error reports no capacity.
            Err(StoreError::Conflict(_)) => {
                self.record_capacity("DeleteItem", Access::Write, &[], || estimate);
                Ok(())
            }
            Err(other) => Err(other),
        }
    }
}

impl DynamoStore {
    /// Puts a lease unless the key is done or leased to someone else (`Conflict` then).
    async fn take_lease(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        let mut item = Item::new();
        item.insert(STATE.to_owned(), string_attr(LEASED));
        item.insert(OWNER.to_owned(), string_attr(owner));
        item.insert(LEASE_UNTIL.to_owned(), epoch_seconds(until));
        // An abandoned lease vanishes by itself once it has run out.
        item.insert(TTL.to_owned(), ttl_seconds(until));
        let item = keys::with_key(item, keys::idempotency_pk(key), keys::IDEMPOTENCY_SK.to_owned());
        let condition = Condition::new(
            "attribute_not_exists(#pk) OR (#s = :leased AND (#lu <= :now OR #o = :owner)) OR #exp <= :now",
        )
        .name("#pk", keys::PK)
        .name("#s", STATE)
        .name("#lu", LEASE_UNTIL)
        .name("#o", OWNER)
        .name("#exp", EXPIRES_AT)
        .value(":leased", string_attr(LEASED))
        .value(":now", epoch_seconds(now))
        .value(":owner", string_attr(owner));
        // A lost condition is billed as a write too; `put_if` books it.
        self.put_if(item, condition).await
    }

    async fn stored(&self, key: &str, now: Timestamp) -> Result<Stored, StoreError> {
        let Some(item) = self.get_item(keys::idempotency_pk(key), keys::IDEMPOTENCY_SK).await? else {
            return Ok(Stored::Free);
        };
        let what = "idempotency record";
        match read_string(&item, STATE, what)? {
            DONE => {
                if read_epoch_seconds(&item, EXPIRES_AT, what)? <= now {
                    return Ok(Stored::Free);
                }
                let text = read_string(&item, RESULT, what)?;
                let result = serde_json::from_str(text).map_err(|e| corrupt(what, e))?;
                Ok(Stored::Done(result))
            }
            LEASED if read_epoch_seconds(&item, LEASE_UNTIL, what)? > now => {
                let owner = item.get(OWNER).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                Ok(Stored::Leased { owner })
            }
            LEASED => Ok(Stored::Free),
            other => Err(corrupt(what, format_args!("unknown state {other:?}"))),
        }
    }
}

/// The finished record, as `complete` writes it and a ticket commit writes it in the same
/// transaction.
pub(super) fn done_item(record: &IdempotencyRecord) -> Result<Item, StoreError> {
    let result = serde_json::to_string(&record.result).map_err(|e| corrupt("idempotency result", e))?;
    let mut item = Item::new();
    item.insert(STATE.to_owned(), string_attr(DONE));
    item.insert(RESULT.to_owned(), string_attr(result));
    item.insert(EXPIRES_AT.to_owned(), epoch_seconds(record.expires_at));
    item.insert(TTL.to_owned(), ttl_seconds(record.expires_at));
    Ok(keys::with_key(item, keys::idempotency_pk(&record.key), keys::IDEMPOTENCY_SK.to_owned()))
}

/// A commit may take the key unless someone finished it; its own lease is overwritten.
pub(super) fn not_done_condition() -> Condition {
    Condition::new("attribute_not_exists(#pk) OR #s <> :done")
        .name("#pk", keys::PK)
        .name("#s", STATE)
        .value(":done", string_attr(DONE))
}
