//! Customers (`C#<id>`) and identity claims (`ID#<claim key>` → customer id). A claim is a
//! conditional put, so each identity belongs to at most one customer.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use jiff::Timestamp;
use omnidesk_domain::ports::{CustomerStore, StoreError};
use omnidesk_domain::{Customer, CustomerId, Identity};

use super::codec::{decode, encode, encode_value, number_attr, read_string, string_attr};
use super::keys::{self, Item};
use super::{Condition, DynamoStore};
use crate::errors::build_error;

const CLAIM_CUSTOMER: &str = "customer";

#[async_trait]
impl CustomerStore for DynamoStore {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let item = self.get_item(keys::customer_pk(id), keys::CUSTOMER_SK).await?;
        item.map(|item| decode(format_args!("customer {id}"), item)).transpose()
    }

    async fn customer_by_identity(&self, identity: &Identity) -> Result<Option<CustomerId>, StoreError> {
        let Some(item) = self.get_item(keys::claim_pk(identity), keys::CLAIM_SK).await? else {
            return Ok(None);
        };
        // The identity itself stays out of messages: it is personal data.
        let holder = read_string(&item, CLAIM_CUSTOMER, "identity claim")?;
        Ok(Some(CustomerId::new(holder)))
    }

    async fn create(&self, customer: &Customer) -> Result<(), StoreError> {
        let item = encode(format_args!("customer {}", customer.id), customer)?;
        let item = keys::with_key(item, keys::customer_pk(&customer.id), keys::CUSTOMER_SK.to_owned());
        let mut writes = vec![self.conditional_put(item, Condition::absent())?];
        // One write per distinct claim key: a transaction may not touch an item twice.
        let claim_keys: BTreeSet<String> = customer.identities.iter().map(keys::claim_pk).collect();
        for pk in claim_keys {
            writes.push(self.conditional_put(claim_item(pk, &customer.id), Condition::absent())?);
        }
        self.transact(writes).await
    }

    async fn claim_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        match self.customer_by_identity(identity).await? {
            Some(holder) if holder == *id => return Ok(()),
            Some(_) => return Err(StoreError::Conflict("identity is claimed by another customer".into())),
            None => {}
        }
        let writes = vec![
            self.conditional_put(claim_item(keys::claim_pk(identity), id), Condition::absent())?,
            self.append_identity(id, identity, at)?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            // A concurrent claim for this same customer won the race: the outcome is the
            // same as if ours had, as it would be in memory where claims run one at a time.
            Err(StoreError::Conflict(reason)) => match self.customer_by_identity(identity).await? {
                Some(holder) if holder == *id => Ok(()),
                _ => Err(StoreError::Conflict(reason)),
            },
            Err(other) => Err(other),
        }
    }
}

impl DynamoStore {
    /// Adds the identity to the customer's list and bumps its version; the customer must exist.
    fn append_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        at: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        let what = format!("customer {id}");
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::key(keys::customer_pk(id), keys::CUSTOMER_SK)))
            .update_expression("SET #ids = list_append(#ids, :new), #v = #v + :one, #u = :at")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#ids", "identities")
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#u", "updated_at")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":new", AttributeValue::L(vec![encode_value(&what, identity)?]))
            .expression_attribute_values(":one", number_attr(1))
            .expression_attribute_values(":at", encode_value(&what, &at)?)
            .build()
            .map_err(|e| build_error("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

fn claim_item(pk: String, customer: &CustomerId) -> Item {
    let mut item = Item::new();
    item.insert(CLAIM_CUSTOMER.to_owned(), string_attr(customer.as_str()));
    keys::with_key(item, pk, keys::CLAIM_SK.to_owned())
}
