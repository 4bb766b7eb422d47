//! Customers (`C#<id>`) and identity claims (`ID#<claim key>` → customer id). A claim is a
//! conditional put, so each identity belongs to at most one customer. An erased identity
//! leaves `ID#sha256:<digest>` / `ERASED` behind: when, and a `ttl` (no identity, no customer).
//!
//! A customer's `identities` attribute is written only together with its claims (`create`,
//! `claim_identity`); `update` replaces every other attribute and leaves it alone.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, TransactWriteItem, Update};
use jiff::Timestamp;
use omnidesk_domain::ports::{AuditEntry, CustomerStore, ERASED_IDENTITY_KEPT, StoreError};
use omnidesk_domain::system::later;
use omnidesk_domain::{Customer, CustomerId, Identity};

use super::capacity::{Access, item_size, write_units};
use super::codec::{
    decode, encode, encode_value, epoch_seconds, number_attr, read_epoch_seconds, read_string, string_attr,
    ttl_seconds,
};
use super::keys::{self, Item};
use super::{Condition, DynamoStore};
use crate::errors::{build_error, store_error};
use crate::meter::Capacity;

const CLAIM_CUSTOMER: &str = "customer";
/// Beside an identity's claim: when it was erased.
const ERASED_SK: &str = "ERASED";
const ERASED_AT: &str = "erased_at";
const IDENTITIES: &str = "identities";
const VERSION: &str = "version";

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
        let mut item = encode(format_args!("customer {}", customer.id), customer)?;
        super::phone::add_caller_index(&mut item, customer);
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

    async fn update(&self, customer: &Customer, expected_version: u64) -> Result<(), StoreError> {
        let what = format!("customer {}", customer.id);
        let mut item = encode(&what, customer)?;
        super::phone::add_caller_index(&mut item, customer);
        let set = UpdateSet::of(item);
        let key = keys::key(keys::customer_pk(&customer.id), keys::CUSTOMER_SK);
        // An UpdateItem is billed on the larger of the old and the new item; the request's
        // key and values are the part known here.
        let estimate =
            self.estimate(|| Capacity::write(write_units(item_size(&key) + item_size(&set.values))));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(set.expression)
            // Also false when the customer does not exist, so UpdateItem never creates one.
            .condition_expression("#v = :expected")
            .set_expression_attribute_names(Some(set.names))
            .set_expression_attribute_values(Some(set.values))
            .expression_attribute_values(":expected", number_attr(expected_version))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e));
        match result {
            Ok(output) => {
                self.record_capacity(
                    "UpdateItem",
                    Access::Write,
                    output.consumed_capacity.as_slice(),
                    || estimate,
                );
                Ok(())
            }
            Err(StoreError::Conflict(reason)) => {
                // A lost condition is billed as a write too, and its error reports no capacity.
                self.record_capacity("UpdateItem", Access::Write, &[], || estimate);
                Err(StoreError::Conflict(format!("{what} is not at version {expected_version}: {reason}")))
            }
            Err(other) => Err(other),
        }
    }

    async fn move_identity(
        &self,
        identity: &Identity,
        from: &CustomerId,
        to: &CustomerId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        match self.customer_by_identity(identity).await? {
            Some(holder) if holder == *to => return Ok(()),
            Some(holder) if holder == *from => {}
            _ => return Err(StoreError::Conflict("identity is not the source customer's".into())),
        }
        let source = self
            .customer(from)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("customer {from} does not exist")))?;
        let remaining: Vec<Identity> = source.identities.iter().filter(|i| *i != identity).cloned().collect();
        let claim = claim_item(keys::claim_pk(identity), to);
        let held_by_source = Condition::new("#c = :from")
            .name("#c", CLAIM_CUSTOMER)
            .value(":from", string_attr(from.as_str()));
        let writes = vec![
            self.conditional_put(claim, held_by_source)?,
            self.set_identities(from, &remaining, source.version, at)?,
            self.append_identity(to, identity, at)?,
        ];
        self.transact(writes).await
    }

    async fn release_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        erased_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut erased = Item::new();
        erased.insert(ERASED_AT.to_owned(), epoch_seconds(erased_at));
        erased.insert("ttl".to_owned(), ttl_seconds(later(erased_at, ERASED_IDENTITY_KEPT)));
        let erased = keys::with_key(erased, keys::erased_identity_pk(identity), ERASED_SK.to_owned());
        // A later erasure of the same identity moves the time on.
        let remember = self.unconditional_put(erased)?;
        let Some(customer) = self.customer(id).await? else {
            return self.transact(vec![remember]).await;
        };
        let remaining: Vec<Identity> =
            customer.identities.iter().filter(|i| *i != identity).cloned().collect();
        let mut writes =
            vec![self.set_identities(id, &remaining, customer.version, customer.updated_at)?, remember];
        if self.customer_by_identity(identity).await?.as_ref() == Some(id) {
            let delete = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .set_key(Some(keys::key(keys::claim_pk(identity), keys::CLAIM_SK)))
                .condition_expression("#c = :id")
                .expression_attribute_names("#c", CLAIM_CUSTOMER)
                .expression_attribute_values(":id", string_attr(id.as_str()))
                .build()
                .map_err(|e| build_error("TransactWriteItems", e))?;
            writes.push(TransactWriteItem::builder().delete(delete).build());
        }
        self.transact(writes).await
    }

    async fn erased_identity(&self, identity: &Identity) -> Result<Option<Timestamp>, StoreError> {
        let Some(item) = self.get_item(keys::erased_identity_pk(identity), ERASED_SK).await? else {
            return Ok(None);
        };
        read_epoch_seconds(&item, ERASED_AT, "erased identity").map(Some)
    }

    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let item = encode("audit entry", entry)?;
        let sk = format!("{AUDIT_PREFIX}{:.9}#{}", entry.at, entry.action);
        let item = keys::with_key(item, keys::customer_pk(&entry.customer), sk);
        self.put_if(item, Condition::absent()).await
    }

    async fn audit_trail(&self, id: &CustomerId) -> Result<Vec<AuditEntry>, StoreError> {
        let items = self.query_prefix(keys::customer_pk(id), AUDIT_PREFIX).await?;
        items.into_iter().map(|item| decode("audit entry", item)).collect()
    }
}

/// Audit entries sit under the customer's partition, by time.
const AUDIT_PREFIX: &str = "AUDIT#";

/// The `SET` of an `update`: every attribute of the new record except `identities`, each
/// through placeholders (`#a0 = :a0, …`, in name order so a request is reproducible; the
/// version is `#v`, which the condition shares).
///
/// An UpdateItem rather than a put of the whole record: a put would have to carry the stored
/// identities, so it would need a GetItem first; the SET never names `identities`, so the
/// caller's copy of the list (which may be out of step with the claims) is ignored, as in the
/// memory twin, at the cost of one write and no read. It still replaces the whole rest of the
/// record because the encoding writes every field, `None` as NULL and empty sets as empty
/// lists (the tests below keep it that way), so no stale attribute survives.
struct UpdateSet {
    expression: String,
    names: HashMap<String, String>,
    values: Item,
}

impl UpdateSet {
    fn of(mut record: Item) -> Self {
        record.remove(IDENTITIES);
        let version = record.remove(VERSION);
        let mut fields: Vec<(String, AttributeValue)> = record.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut names = HashMap::new();
        let mut values = Item::new();
        let mut assignments = Vec::with_capacity(fields.len() + 1);
        for (i, (name, value)) in fields.into_iter().enumerate() {
            assignments.push(format!("#a{i} = :a{i}"));
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
        }
        names.insert("#v".to_owned(), VERSION.to_owned());
        if let Some(version) = version {
            assignments.push("#v = :v".to_owned());
            values.insert(":v".to_owned(), version);
        }
        Self { expression: format!("SET {}", assignments.join(", ")), names, values }
    }
}

impl DynamoStore {
    /// Replaces the customer's identity list, if it is still at `version`.
    fn set_identities(
        &self,
        id: &CustomerId,
        identities: &[Identity],
        version: u64,
        at: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        let what = format!("customer {id}");
        // A phone number among them puts the customer on the caller index (see `phone`).
        let caller = identities.iter().any(|i| matches!(i, Identity::Phone { .. }));
        let expression = if caller {
            "SET #ids = :ids, #v = #v + :one, #u = :at, #lr = :lr, #la = :la"
        } else {
            "SET #ids = :ids, #v = #v + :one, #u = :at"
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::key(keys::customer_pk(id), keys::CUSTOMER_SK)))
            .update_expression(expression)
            .condition_expression("#v = :expected")
            .expression_attribute_names("#ids", IDENTITIES)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_names("#u", "updated_at")
            .expression_attribute_values(":ids", encode_value(&what, &identities)?)
            .expression_attribute_values(":one", number_attr(1))
            .expression_attribute_values(":expected", number_attr(version))
            .expression_attribute_values(":at", encode_value(&what, &at)?);
        if caller {
            for (placeholder, (name, value)) in ["#lr", "#la"].into_iter().zip(super::phone::caller_index(id))
            {
                let value_placeholder = placeholder.replace('#', ":");
                update = update
                    .expression_attribute_names(placeholder, name)
                    .expression_attribute_values(value_placeholder, value);
            }
        }
        let update = update.build().map_err(|e| build_error("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Adds the identity to the customer's list and bumps its version; the customer must exist.
    fn append_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        at: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        let what = format!("customer {id}");
        // A phone number puts the customer on the caller index (see `phone`).
        let (expression, caller) = match identity {
            Identity::Phone { .. } => {
                ("SET #ids = list_append(#ids, :new), #v = #v + :one, #u = :at, #lr = :lr, #la = :la", true)
            }
            _ => ("SET #ids = list_append(#ids, :new), #v = #v + :one, #u = :at", false),
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys::key(keys::customer_pk(id), keys::CUSTOMER_SK)))
            .update_expression(expression)
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#ids", IDENTITIES)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_names("#u", "updated_at")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":new", AttributeValue::L(vec![encode_value(&what, identity)?]))
            .expression_attribute_values(":one", number_attr(1))
            .expression_attribute_values(":at", encode_value(&what, &at)?);
        if caller {
            for (placeholder, (name, value)) in ["#lr", "#la"].into_iter().zip(super::phone::caller_index(id))
            {
                let value_placeholder = placeholder.replace('#', ":");
                update = update
                    .expression_attribute_names(placeholder, name)
                    .expression_attribute_values(value_placeholder, value);
            }
        }
        let update = update.build().map_err(|e| build_error("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

fn claim_item(pk: String, customer: &CustomerId) -> Item {
    let mut item = Item::new();
    item.insert(CLAIM_CUSTOMER.to_owned(), string_attr(customer.as_str()));
    keys::with_key(item, pk, keys::CLAIM_SK.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn at() -> Timestamp {
        Timestamp::from_second(1_790_000_000).unwrap()
    }

    /// `update` replaces a record by SETting what the encoding writes: that is a replacement
    /// only while every field is written, also when empty or `None`.
    #[test]
    fn every_customer_field_is_written_even_when_empty() {
        let bare = Customer::new(CustomerId::new("cus_1"), None, Vec::new(), at());
        let mut full = Customer::new(
            CustomerId::new("cus_1"),
            Some("Li Wei".into()),
            vec![Identity::Email { address: "li@example.com".into() }],
            at(),
        );
        full.tier = Some("vip".into());
        full.bouncing = BTreeMap::from([("li@example.com".to_owned(), at())]);
        full.unverified = vec![Identity::Email { address: "anna@example.com".into() }];
        let names = |c: &Customer| encode("test", c).unwrap().into_keys().collect::<BTreeSet<_>>();
        assert_eq!(names(&bare), names(&full));
    }

    #[test]
    fn the_set_names_every_attribute_but_identities_through_placeholders() {
        let mut customer = Customer::new(
            CustomerId::new("cus_1"),
            None,
            vec![Identity::Email { address: "li@example.com".into() }],
            at(),
        );
        customer.version = 3;
        let set = UpdateSet::of(encode("test", &customer).unwrap());
        let mut named: Vec<&str> = set.names.values().map(String::as_str).collect();
        named.sort_unstable();
        assert_eq!(
            named,
            [
                "bouncing",
                "created_at",
                "erased_at",
                "id",
                "merged_from",
                "merged_into",
                "name",
                "tier",
                "unverified",
                "updated_at",
                "version"
            ]
        );
        assert_eq!(
            set.expression,
            "SET #a0 = :a0, #a1 = :a1, #a2 = :a2, #a3 = :a3, #a4 = :a4, #a5 = :a5, #a6 = :a6, #a7 = :a7, #a8 = :a8, \
             #a9 = :a9, #v = :v"
        );
        assert_eq!(set.values.get(":v"), Some(&AttributeValue::N("3".into())));
        assert_eq!(set.values.len(), 11);
    }
}
