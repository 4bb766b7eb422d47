//! Canned responses under one partition (`CANNED`, `R#<id>`): all read by one Query, each
//! write conditioned on the version the supervisor saw (a lost condition is a conflict).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use omnidesk_domain::canned::{CannedResponse, CannedStore};
use omnidesk_domain::ports::StoreError;

use super::DynamoStore;
use super::capacity::{Access, item_size, write_units};
use super::codec::{decode, encode};
use super::keys::{self, PK};
use crate::errors::store_error;
use crate::meter::Capacity;

const CANNED_PK: &str = "CANNED";
const CANNED_PREFIX: &str = "R#";

fn canned_sk(id: &str) -> String {
    format!("{CANNED_PREFIX}{id}")
}

fn version(expected: u64) -> AttributeValue {
    AttributeValue::N(expected.to_string())
}

#[async_trait]
impl CannedStore for DynamoStore {
    async fn canned(&self) -> Result<Vec<CannedResponse>, StoreError> {
        let items = self.query_prefix(CANNED_PK.to_owned(), CANNED_PREFIX).await?;
        items.into_iter().map(|item| decode("canned response", item)).collect()
    }

    async fn insert_canned(&self, response: &CannedResponse) -> Result<(), StoreError> {
        self.put_canned(response, "attribute_not_exists(#pk)", None).await
    }

    async fn replace_canned(&self, response: &CannedResponse, expected: u64) -> Result<(), StoreError> {
        self.put_canned(response, "#version = :expected", Some(expected)).await
    }

    async fn delete_canned(&self, id: &str, expected: u64) -> Result<(), StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::key(CANNED_PK.to_owned(), &canned_sk(id))))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", version(expected))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("DeleteItem", e))?;
        self.record_capacity("DeleteItem", Access::Write, output.consumed_capacity.as_slice(), || {
            Capacity::write(1.0)
        });
        Ok(())
    }
}

impl DynamoStore {
    async fn put_canned(
        &self,
        response: &CannedResponse,
        condition: &str,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut item = encode("canned response", response)?;
        item.extend(keys::key(CANNED_PK.to_owned(), &canned_sk(&response.id)));
        let estimate = self.estimate(|| Capacity::write(write_units(item_size(&item))));
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        request = match expected {
            Some(expected) => request
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", version(expected)),
            None => request.expression_attribute_names("#pk", PK),
        };
        let output = request.send().await.map_err(|e| store_error("PutItem", e))?;
        self.record_capacity("PutItem", Access::Write, output.consumed_capacity.as_slice(), || estimate);
        Ok(())
    }
}
