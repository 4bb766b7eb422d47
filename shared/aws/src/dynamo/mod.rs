//! The ticket, customer and idempotency ports on one DynamoDB table (single-table design; the
//! key layout is in [`keys`]). Nothing here scans: every read is a GetItem or a Query on one
//! partition, and every multi-item change is one TransactWriteItems.

mod codec;
mod customers;
mod idempotency;
mod keys;
mod tickets;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, Put, ReturnConsumedCapacity, TransactWriteItem,
};
use omnidesk_domain::ports::StoreError;

use crate::errors::{build_error, store_error};
use keys::{Item, PK};

/// DynamoDB's limit on the writes in one TransactWriteItems.
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// The AWS twin of `omnidesk_domain::memory::MemoryStore`: tickets with their messages and
/// events, thread keys, customers with identity claims, idempotency records, all in one table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item by key, read consistently: request paths decide on what they read, so they
    /// must see every write that finished before.
    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
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
        record_capacity("GetItem", output.consumed_capacity());
        Ok(output.item)
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, in sort-key order,
    /// following pagination to the end.
    async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start_key: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
                // Consistent like the in-memory store: a thread read right after a commit
                // shows that commit's messages.
                .consistent_read(true)
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            record_capacity("Query", output.consumed_capacity());
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
        let output = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("TransactWriteItems", e))?;
        for capacity in output.consumed_capacity() {
            record_capacity("TransactWriteItems", Some(capacity));
        }
        Ok(())
    }

    /// A Put inside a transaction, guarded by `condition`.
    fn conditional_put(&self, item: Item, condition: Condition) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(condition.values)
            .build()
            .map_err(|e| build_error("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
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

/// Capacity per call, for cost accounting; asking for it is free.
fn record_capacity(operation: &'static str, capacity: Option<&ConsumedCapacity>) {
    if let Some(units) = capacity.and_then(ConsumedCapacity::capacity_units) {
        tracing::trace!(operation, units, "dynamodb.capacity");
    }
}
