//! Agent activity under one partition (`AGENTS`, `A#<id>`): presence and last assignment,
//! few and small, all read by one Query. Profiles are not stored: they come from the config
//! (see `omnidesk_domain::roster`). Each write SETs only its own field and creates the item
//! if needed; items written before profiles left the table still read (extra fields ignored).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use jiff::Timestamp;
use omnidesk_domain::assignment::Presence;
use omnidesk_domain::ports::{AgentActivity, AgentActivityStore, StoreError};
use serde::Deserialize;

use super::DynamoStore;
use super::capacity::{Access, item_size, write_units};
use super::codec::{decode, encode_value};
use super::keys::{self, Item};
use crate::errors::store_error;
use crate::meter::Capacity;

const AGENTS_PK: &str = "AGENTS";
const AGENT_PREFIX: &str = "A#";

const FIELDS: [&str; 3] = ["id", "presence", "last_assigned_at"];

fn agent_sk(id: &str) -> String {
    format!("{AGENT_PREFIX}{id}")
}

/// One stored agent item.
#[derive(Deserialize)]
struct Row {
    id: String,
    #[serde(default)]
    presence: Option<Presence>,
    #[serde(default)]
    last_assigned_at: Option<Timestamp>,
}

impl Row {
    fn activity(&self) -> AgentActivity {
        AgentActivity {
            presence: self.presence.unwrap_or(AgentActivity::default().presence),
            last_assigned_at: self.last_assigned_at,
        }
    }
}

#[async_trait]
impl AgentActivityStore for DynamoStore {
    async fn activities(&self) -> Result<BTreeMap<String, AgentActivity>, StoreError> {
        let items = self.query_prefix(AGENTS_PK.to_owned(), AGENT_PREFIX).await?;
        items
            .into_iter()
            .map(|item| decode::<Row>("agent", item).map(|row| (row.id.clone(), row.activity())))
            .collect()
    }

    async fn activity(&self, id: &str) -> Result<Option<AgentActivity>, StoreError> {
        let item = self.get_item(AGENTS_PK.to_owned(), &agent_sk(id)).await?;
        item.map(|item| decode::<Row>(format_args!("agent {id}"), item).map(|row| row.activity())).transpose()
    }

    async fn set_presence(&self, id: &str, presence: Presence) -> Result<(), StoreError> {
        let values = Item::from([(":p".to_owned(), encode_value("presence", &presence)?)]);
        self.update_agent(id, "#presence = :p", values).await
    }

    async fn touch_assigned(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let values = Item::from([(":at".to_owned(), encode_value("assignment time", &at)?)]);
        self.update_agent(id, "#last_assigned_at = :at", values).await
    }
}

impl DynamoStore {
    /// SETs `assignment` and the id (so a Query reads the id back), creating the item if need be.
    async fn update_agent(&self, id: &str, assignment: &str, mut values: Item) -> Result<(), StoreError> {
        values.insert(":id".to_owned(), encode_value("agent id", &id)?);
        let expression = format!("SET #id = :id, {assignment}");
        let key = keys::key(AGENTS_PK.to_owned(), &agent_sk(id));
        let estimate = self.estimate(|| Capacity::write(write_units(item_size(&key) + item_size(&values))));
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(&expression)
            .set_expression_attribute_values(Some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        // Every attribute goes through a placeholder, as DynamoDB reserves many common words.
        for name in FIELDS.iter().filter(|f| expression.contains(&format!("#{f}"))) {
            request = request.expression_attribute_names(format!("#{name}"), *name);
        }
        let output = request.send().await.map_err(|e| store_error("UpdateItem", e))?;
        self.record_capacity("UpdateItem", Access::Write, output.consumed_capacity.as_slice(), || estimate);
        self.heat(
            omnidesk_domain::heat::TABLE,
            AGENTS_PK,
            omnidesk_domain::heat::Access::Write,
            estimate.write,
        );
        Ok(())
    }
}
