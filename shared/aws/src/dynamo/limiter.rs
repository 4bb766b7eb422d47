//! Sliding-window counters for the rate-limiter port: one item per key, `RATE#<sha256 of the
//! key>` / `RATE`, holding the slots taken (`slots`: a list of `{at, holder}`), a `version`
//! and the table's `ttl`:
//!
//! ```text
//! pk = RATE#3f1c…  sk = RATE  version = 4  ttl = 1790003620
//! slots = [{at: "2026-09-21T14:13:20Z", holder: "9b2e…"}, {at: "2026-09-21T14:13:40Z", …}]
//! ```
//!
//! `try_acquire` reads the item consistently, drops the slots that left the window, and
//! answers from what remains exactly as the in-memory twin does; only a newly taken slot is
//! written, with a put conditioned on the version read (or on the item being absent). A lost
//! condition means another caller changed the counter in between: read again and decide
//! again, a bounded number of times.
//!
//! Holders are stored as their SHA-256: a holder is an idempotency key, which can embed a
//! Message-ID as long as a sender likes, and `limit` of them share one item (400 KB at most).
//! The TTL is the end of the window of the newest slot, so an idle counter disappears; until
//! DynamoDB gets round to deleting it, its slots are out of the window and count for nothing.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use jiff::Timestamp;
use omnidesk_domain::ports::{RateLimiter, StoreError, window_start};
use omnidesk_domain::system::later;
use serde::{Deserialize, Serialize};

use super::capacity::Access;
use super::codec::{decode, encode, number_attr, ttl_seconds};
use super::keys;
use super::{Condition, DynamoStore};
use crate::errors::store_error;
use crate::meter::Capacity;

const VERSION: &str = "version";
/// Requests counted in a fixed window.
const REQUEST_COUNT: &str = "count";
/// The table's TTL attribute.
const TTL: &str = "ttl";

/// Reads and conditional puts of one `try_acquire` before it gives up with `Conflict` (which
/// the caller may retry): each lost condition means another slot was taken in between, so
/// more attempts only help under heavy contention on one key, which a per-sender cap never
/// sees.
pub(crate) const ACQUIRE_ATTEMPTS: usize = 4;

/// The stored counter (its keys and `ttl` aside).
#[derive(Debug, Serialize, Deserialize)]
struct Counter {
    slots: Vec<Slot>,
    version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    at: Timestamp,
    /// SHA-256 of the holder, hex.
    holder: String,
}

#[async_trait]
impl RateLimiter for DynamoStore {
    async fn try_acquire(
        &self,
        key: &str,
        holder: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let pk = keys::rate_pk(key);
        let holder = keys::sha256_hex(holder);
        let mut lost = String::new();
        for _ in 0..ACQUIRE_ATTEMPTS {
            let stored = self.counter(&pk).await?;
            let read_version = stored.as_ref().map(|counter| counter.version);
            let mut slots = stored.map(|counter| counter.slots).unwrap_or_default();
            slots.retain(|slot| later(slot.at, window) > now);
            if slots.iter().any(|slot| slot.holder == holder) {
                return Ok(true);
            }
            if slots.len() >= limit as usize {
                return Ok(false);
            }
            slots.push(Slot { at: now, holder: holder.clone() });
            match self.put_counter(&pk, read_version, slots, window).await {
                Ok(()) => return Ok(true),
                // A transport-level retry of a put that landed also ends here; the next read
                // finds our slot and answers `true`.
                Err(StoreError::Conflict(reason)) => lost = reason,
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Conflict(format!(
            "rate counter changed under {ACQUIRE_ATTEMPTS} attempts in a row: {lost}"
        )))
    }

    /// `RATE#<sha256 of key@window start>` / `RATE`: one UpdateItem that adds `count` to
    /// `count` unless that would pass `limit` (a failed condition answers `false`). One write
    /// unit per call and no read; the item expires with its window.
    async fn count_requests(
        &self,
        key: &str,
        count: u32,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let Some(room) = limit.checked_sub(count) else {
            return Ok(false);
        };
        let start = window_start(now, window);
        let pk = keys::rate_pk(&format!("{key}@{start}"));
        let window_end = Timestamp::from_second(start).map(|at| later(at, window)).unwrap_or(Timestamp::MAX);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::key(pk.clone(), keys::RATE_SK)))
            .update_expression("ADD #n :count SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#n) OR #n <= :room")
            .expression_attribute_names("#n", REQUEST_COUNT)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":count", number_attr(u64::from(count)))
            .expression_attribute_values(":room", number_attr(u64::from(room)))
            .expression_attribute_values(":ttl", ttl_seconds(window_end))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e));
        // The counter is its key, a number and the TTL: one write unit, refused or not.
        let units = || Capacity::write(1.0);
        if self.metered() {
            self.heat(omnidesk_domain::heat::TABLE, &pk, omnidesk_domain::heat::Access::Write, 1.0);
        }
        match result {
            Ok(output) => {
                self.record_capacity("UpdateItem", Access::Write, output.consumed_capacity.as_slice(), units);
                Ok(true)
            }
            Err(StoreError::Conflict(_)) => {
                self.record_capacity("UpdateItem", Access::Write, &[], units);
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }
}

impl DynamoStore {
    async fn counter(&self, pk: &str) -> Result<Option<Counter>, StoreError> {
        let item = self.get_item(pk.to_owned(), keys::RATE_SK).await?;
        // The key is hashed, so the message names no one.
        item.map(|item| decode("rate counter", item)).transpose()
    }

    /// Writes `slots` as the next version after `read_version` (`None`: the item was absent).
    async fn put_counter(
        &self,
        pk: &str,
        read_version: Option<u64>,
        slots: Vec<Slot>,
        window: Duration,
    ) -> Result<(), StoreError> {
        let expires = slots.iter().map(|slot| later(slot.at, window)).max().unwrap_or(Timestamp::MAX);
        let counter = Counter { slots, version: read_version.map_or(1, |v| v.saturating_add(1)) };
        let mut item = encode("rate counter", &counter)?;
        item.insert(TTL.to_owned(), ttl_seconds(expires));
        let item = keys::with_key(item, pk.to_owned(), keys::RATE_SK.to_owned());
        let condition = match read_version {
            None => Condition::absent(),
            Some(version) => {
                Condition::new("#v = :read").name("#v", VERSION).value(":read", number_attr(version))
            }
        };
        self.put_if(item, condition).await
    }
}
