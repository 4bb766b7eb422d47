//! Agents under one partition (`AGENTS`, `A#<id>`): few and small, all read by one Query.
//! Profile fields come from the config, presence and last assignment from the desk; each
//! write SETs only its own fields, so seeding profiles at start never resets a presence.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use jiff::Timestamp;
use omnidesk_domain::assignment::{Agent, Presence};
use omnidesk_domain::ports::{AgentStore, StoreError};

use super::DynamoStore;
use super::capacity::{Access, item_size, write_units};
use super::codec::{decode, encode_value};
use super::keys::{self, Item};
use crate::errors::store_error;
use crate::meter::Capacity;

const AGENTS_PK: &str = "AGENTS";
const AGENT_PREFIX: &str = "A#";

const FIELDS: [&str; 8] =
    ["id", "teams", "skills", "languages", "capacity", "load", "presence", "last_assigned_at"];

fn agent_sk(id: &str) -> String {
    format!("{AGENT_PREFIX}{id}")
}

#[async_trait]
impl AgentStore for DynamoStore {
    async fn agents(&self) -> Result<Vec<Agent>, StoreError> {
        let items = self.query_prefix(AGENTS_PK.to_owned(), AGENT_PREFIX).await?;
        items.into_iter().map(|item| decode("agent", item)).collect()
    }

    async fn agent(&self, id: &str) -> Result<Option<Agent>, StoreError> {
        let item = self.get_item(AGENTS_PK.to_owned(), &agent_sk(id)).await?;
        item.map(|item| decode(format_args!("agent {id}"), item)).transpose()
    }

    async fn put_profile(&self, agent: &Agent) -> Result<(), StoreError> {
        let what = format!("agent {}", agent.id);
        let values: Item = [
            (":id", encode_value(&what, &agent.id)?),
            (":teams", encode_value(&what, &agent.teams)?),
            (":skills", encode_value(&what, &agent.skills)?),
            (":languages", encode_value(&what, &agent.languages)?),
            (":capacity", encode_value(&what, &agent.capacity)?),
            (":load", encode_value(&what, &0_u32)?),
            (":offline", encode_value(&what, &Presence::Offline)?),
            (":never", encode_value(&what, &Option::<Timestamp>::None)?),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        self.update_agent(
            &agent.id,
            "SET #id = :id, #teams = :teams, #skills = :skills, #languages = :languages, \
             #capacity = :capacity, #load = :load, #presence = if_not_exists(#presence, :offline), \
             #last_assigned_at = if_not_exists(#last_assigned_at, :never)",
            values,
            false,
        )
        .await
    }

    async fn set_presence(&self, id: &str, presence: Presence) -> Result<(), StoreError> {
        let values = Item::from([(":p".to_owned(), encode_value("presence", &presence)?)]);
        self.update_agent(id, "SET #presence = :p", values, true).await
    }

    async fn touch_assigned(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let values = Item::from([(":at".to_owned(), encode_value("assignment time", &at)?)]);
        match self.update_agent(id, "SET #last_assigned_at = :at", values, true).await {
            // An agent removed from the config meanwhile: nothing to record.
            Err(StoreError::Conflict(_)) => Ok(()),
            other => other,
        }
    }
}

impl DynamoStore {
    async fn update_agent(
        &self,
        id: &str,
        expression: &str,
        values: Item,
        must_exist: bool,
    ) -> Result<(), StoreError> {
        let key = keys::key(AGENTS_PK.to_owned(), &agent_sk(id));
        let estimate = self.estimate(|| Capacity::write(write_units(item_size(&key) + item_size(&values))));
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        // Every attribute goes through a placeholder: `load`, `capacity` and `language` are
        // among DynamoDB's reserved words.
        for name in FIELDS.iter().filter(|f| expression.contains(&format!("#{f}"))) {
            request = request.expression_attribute_names(format!("#{name}"), *name);
        }
        if must_exist {
            request = request
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK);
        }
        let output = request.send().await.map_err(|e| store_error("UpdateItem", e))?;
        self.record_capacity("UpdateItem", Access::Write, output.consumed_capacity.as_slice(), || estimate);
        Ok(())
    }
}
