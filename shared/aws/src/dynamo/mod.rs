//! The ticket, customer, idempotency and rate-limit ports on one DynamoDB table (single-table design; the
//! key layout is in [`keys`]). Nothing here scans: every read is a GetItem or a Query on one
//! partition, and every multi-item change is one TransactWriteItems.
//!
//! Every call asks for its consumed capacity (free); with a [`RequestMeter`] attached
//! ([`DynamoStore::with_meter`]) the units are summed there, estimated from item sizes when
//! a response carries none (see [`capacity`]).

mod agents;
mod articles;
mod canned;
mod capacity;
mod codec;
mod customers;
mod event_log;
mod forum;
mod idempotency;
mod indexes;
mod keys;
mod limiter;
mod lists;
mod phone;
mod ticket_item;
mod tickets;
mod timers;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, KeysAndAttributes, Put, ReturnConsumedCapacity, TransactWriteItem,
};
use omnidesk_domain::ports::StoreError;

use crate::errors::{build_error, store_error};
use crate::meter::{Capacity, IndexFingerprints, RequestMeter};
use capacity::{Access, IndexWrite, item_size, partition_of, read_units, transaction_units, write_units};
use keys::{Item, PK};
use omnidesk_domain::heat::{self, Access as HeatAccess};

/// DynamoDB's limit on the keys of one BatchGetItem.
const MAX_BATCH_GET_KEYS: usize = 100;

/// DynamoDB's limit on the writes in one TransactWriteItems.
pub const MAX_TRANSACTION_WRITES: usize = 100;

pub use articles::{DynamoArticles, INLINE_BODY_BYTES};
pub use indexes::{TABLE_INDEXES, TableIndex};

/// The AWS twin of `omnidesk_domain::memory::MemoryStore`: tickets with their messages and
/// events, thread keys, customers with identity claims, idempotency records, all in one table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    meter: Option<Arc<RequestMeter>>,
    /// Which commit is a ticket's first of the hour (see `event_log`).
    filed: Arc<event_log::FiledHours>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), meter: None, filed: Arc::default() }
    }

    /// Sums every call's consumed capacity into `meter`. (Requests are counted by the
    /// client's interceptor, see [`crate::Clients::with_meter`].)
    pub fn with_meter(mut self, meter: Arc<RequestMeter>) -> Self {
        self.meter = Some(meter);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item by key, read consistently: request paths decide on what they read, so they
    /// must see every write that finished before.
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let partition = if self.meter.is_some() { pk.clone() } else { String::new() };
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::key(pk, sk)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        let units = read_units(output.item.as_ref().map_or(0, item_size));
        self.record_capacity("GetItem", Access::Read, output.consumed_capacity.as_slice(), || {
            Capacity::read(units)
        });
        self.heat(heat::TABLE, &partition, HeatAccess::Read, units);
        Ok(output.item)
    }

    /// The items at `keys` (each a `pk`/`sk` pair, or an index entry, whose other attributes
    /// are ignored), read consistently with BatchGetItem, in the order of `keys`; absent ones
    /// are left out. How lists and the sweeper read what their keys-only indexes name.
    async fn get_items(&self, keys: &[Item]) -> Result<Vec<Item>, StoreError> {
        let mut found: HashMap<(String, String), Item> = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
            let mut pending: Vec<Item> = chunk.iter().map(table_key).collect();
            for attempt in 1..=crate::MAX_ATTEMPTS {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| build_error("BatchGetItem", e))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| store_error("BatchGetItem", e))?;
                let mut responses = output.responses.unwrap_or_default();
                let items = responses.remove(&self.table).unwrap_or_default();
                self.record_capacity(
                    "BatchGetItem",
                    Access::Read,
                    output.consumed_capacity.as_deref().unwrap_or_default(),
                    || {
                        // Each item is rounded up on its own, unlike a Query page.
                        Capacity::read(items.iter().map(|item| read_units(item_size(item))).sum())
                    },
                );
                for item in items {
                    self.heat(
                        heat::TABLE,
                        &partition_of(&item),
                        HeatAccess::Read,
                        read_units(item_size(&item)),
                    );
                    found.insert(key_of(&item), item);
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .map(|left| left.keys)
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == crate::MAX_ATTEMPTS {
                    return Err(StoreError::Unavailable("BatchGetItem left keys unprocessed".into()));
                }
            }
        }
        Ok(keys.iter().filter_map(|key| found.remove(&key_of(key))).collect())
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, in sort-key order,
    /// following pagination to the end.
    async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let values = [(":prefix", prefix)];
        self.query_sort_keys(pk, "#pk = :pk AND begins_with(#sk, :prefix)", &values).await
    }

    /// Every item of partition `pk` whose sort key lies between `from` and `to` (both
    /// included), in sort-key order, following pagination to the end.
    async fn query_range(&self, pk: String, from: &str, to: &str) -> Result<Vec<Item>, StoreError> {
        let values = [(":from", from), (":to", to)];
        self.query_sort_keys(pk, "#pk = :pk AND #sk BETWEEN :from AND :to", &values).await
    }

    async fn query_sort_keys(
        &self,
        pk: String,
        condition: &'static str,
        values: &[(&str, &str)],
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let mut attribute_values: HashMap<String, AttributeValue> = values
                .iter()
                .map(|(name, value)| ((*name).to_owned(), AttributeValue::S((*value).to_owned())))
                .collect();
            attribute_values.insert(":pk".to_owned(), AttributeValue::S(pk.clone()));
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", keys::SK)
                .set_expression_attribute_values(Some(attribute_values))
                // Consistent like the in-memory store: a thread read right after a commit
                // shows that commit's messages.
                .consistent_read(true)
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            let page = output.items.as_deref().unwrap_or_default();
            let units = read_units(page.iter().map(item_size).sum());
            // One rounding per page, over the summed item sizes.
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                Capacity::read(units)
            });
            self.heat(heat::TABLE, &pk, HeatAccess::Read, units);
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// Writes all or nothing.
    async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        if writes.len() > MAX_TRANSACTION_WRITES {
            return Err(StoreError::Corrupt(format!(
                "TransactWriteItems: {} writes is over DynamoDB's limit of {MAX_TRANSACTION_WRITES}",
                writes.len()
            )));
        }
        // The writes move into the request; size them first, and only when someone counts.
        let indexes = self.index_writes(writes.iter().filter_map(|w| w.put()).map(|p| p.item()));
        let index_units = indexes.units;
        let estimate = self.estimate(|| {
            let mut units = transaction_units(&writes);
            units.write += index_units;
            units
        });
        let partitions: Vec<(String, f64)> = match &self.meter {
            Some(_) => writes.iter().map(capacity::transaction_write).collect(),
            None => Vec::new(),
        };
        let output = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            // What a cancelled transaction is billed AWS does not document, and the error
            // carries no capacity: it goes uncounted (the request itself is counted).
            .map_err(|e| store_error("TransactWriteItems", e))?;
        self.record_capacity("TransactWriteItems", Access::Write, output.consumed_capacity(), || estimate);
        for (partition, units) in partitions {
            self.heat(heat::TABLE, &partition, HeatAccess::Write, units);
        }
        self.remember_index_entries(indexes);
        Ok(())
    }

    /// One PutItem guarded by `condition`; `Conflict` if the condition fails.
    async fn put_if(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let indexes = self.index_writes([&item]);
        let index_units = indexes.units;
        let item_units = self.estimate(|| Capacity::write(write_units(item_size(&item)))).write;
        let estimate = Capacity::write(item_units + index_units);
        let partition = partition_of(&item);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("PutItem", e));
        match result {
            Ok(output) => {
                self.record_capacity("PutItem", Access::Write, output.consumed_capacity.as_slice(), || {
                    estimate
                });
                self.heat(heat::TABLE, &partition, HeatAccess::Write, item_units);
                self.remember_index_entries(indexes);
                Ok(())
            }
            Err(conflict @ StoreError::Conflict(_)) => {
                // A lost condition is billed as a write too (of the item, not of indexes), and
                // its error reports no capacity.
                self.record_capacity("PutItem", Access::Write, &[], || Capacity::write(item_units));
                self.heat(heat::TABLE, &partition, HeatAccess::Write, item_units);
                Err(conflict)
            }
            Err(other) => Err(other),
        }
    }

    /// A Put inside a transaction, guarded by `condition`.
    fn conditional_put(&self, item: Item, condition: Condition) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values);
        self.transact_put(put, item)
    }

    /// A Put inside a transaction that replaces whatever is at the item's key.
    fn unconditional_put(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        self.transact_put(Put::builder(), item)
    }

    fn transact_put(
        &self,
        put: aws_sdk_dynamodb::types::builders::PutBuilder,
        item: Item,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = put
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| build_error("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

/// What a write does to the indexes, known before it is sent and booked once it succeeded.
#[derive(Default)]
struct IndexChanges {
    units: f64,
    /// Per item written, its entries after the write.
    indexed: Vec<(String, IndexFingerprints)>,
    writes: Vec<IndexWrite>,
}

/// An item's table key, for a batch read.
fn table_key(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| *name == PK || *name == keys::SK)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `pk` and `sk` as text, to match items to the keys asked for.
fn key_of(item: &Item) -> (String, String) {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    (text(PK), text(keys::SK))
}

/// A condition expression with its placeholders. Attribute names always go through `#name`
/// placeholders: AWS rejects reserved words (`status`, `value`, `state`, `ttl`…) in
/// expressions, even though moto does not.
pub(crate) struct Condition {
    expression: &'static str,
    names: HashMap<String, String>,
    /// `None` when the expression uses no values: DynamoDB refuses an empty map.
    values: Option<HashMap<String, AttributeValue>>,
}

impl Condition {
    pub(crate) fn new(expression: &'static str) -> Self {
        Self { expression, names: HashMap::new(), values: None }
    }

    /// The item must not exist yet.
    pub(crate) fn absent() -> Self {
        Self::new("attribute_not_exists(#pk)").name("#pk", PK)
    }

    pub(crate) fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    pub(crate) fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.get_or_insert_with(HashMap::new).insert(placeholder.to_owned(), value);
        self
    }
}

impl DynamoStore {
    /// Capacity per call, for cost accounting: traced, and summed into the meter if there is
    /// one. `estimate` (item sizes) is used only when the response reports nothing (moto
    /// leaves TransactWriteItems empty) or the meter estimates everything.
    pub(crate) fn record_capacity(
        &self,
        operation: &'static str,
        access: Access,
        reported: &[ConsumedCapacity],
        estimate: impl FnOnce() -> Capacity,
    ) {
        let measured = capacity::reported(access, reported);
        if let Some(units) = measured {
            tracing::trace!(operation, read = units.read, write = units.write, "dynamodb.capacity");
        }
        if let Some(meter) = &self.meter {
            meter.record_capacity(measured, estimate);
        }
    }

    /// For a metered store, the units of the index writes that writing `items` causes (see
    /// [`capacity`]), and what they leave in the indexes, for [`Self::remember_index_entries`]
    /// once the write succeeded.
    fn index_writes<'a>(&self, items: impl IntoIterator<Item = &'a Item>) -> IndexChanges {
        let mut changes = IndexChanges::default();
        let Some(meter) = &self.meter else { return changes };
        for item in items {
            let name = format!("{}/{:?}/{:?}", self.table, item.get(PK), item.get(keys::SK));
            let entries = capacity::index_entries(item);
            let old = meter.index_entries(&name);
            let writes = capacity::index_writes(old.as_ref(), &entries);
            changes.units += writes.iter().map(|write| write.units).sum::<f64>();
            changes.writes.extend(writes);
            if old.is_some() || entries.iter().any(Option::is_some) {
                changes.indexed.push((name, capacity::fingerprints(entries)));
            }
        }
        changes
    }

    /// Once a write succeeded: what it left in the indexes, and its index writes' heat.
    fn remember_index_entries(&self, changes: IndexChanges) {
        if let Some(meter) = &self.meter {
            for (name, entries) in changes.indexed {
                meter.remember_index_entries(name, entries);
            }
            for write in changes.writes {
                meter.heat().record(write.index, &write.partition, HeatAccess::Write, write.units);
            }
        }
    }

    fn metered(&self) -> bool {
        self.meter.is_some()
    }

    /// Books `units` on partition `key` of `scope` (the table or an index), if metered.
    pub(crate) fn heat(&self, scope: &str, key: &str, access: HeatAccess, units: f64) {
        if let Some(meter) = &self.meter {
            meter.heat().record(scope, key, access, units);
        }
    }

    /// `units()` if a meter may need it later, computed now because the request is about to
    /// take ownership of what it measures.
    pub(crate) fn estimate(&self, units: impl FnOnce() -> Capacity) -> Capacity {
        if self.meter.is_some() { units() } else { Capacity::default() }
    }
}
