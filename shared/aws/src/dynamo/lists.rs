//! Ticket lists from sparse global secondary indexes, never a Scan. Every ticket item carries
//! `list_at` (`<created_at>#<number>`, fixed width, so string order is age order) and the
//! hash attributes of the indexes it belongs to:
//!
//! | index          | hash attribute   | present when            |
//! |----------------|------------------|-------------------------|
//! | `by_status`    | `list_status`    | always                  |
//! | `by_team`      | `list_team`      | the ticket has a team   |
//! | `by_assignee`  | `list_assignee`  | someone holds it        |
//! | `by_requester` | `list_requester` | always                  |
//!
//! The sort key never changes after a ticket opens: an index entry whose keys stay is updated
//! in place, where a changing sort key would cost a delete and a put on every index at every
//! ticket write; and the indexes project keys only ([`super::indexes`]), so an entry is not
//! written at all unless its key changes. A list queries one index (the filter's
//! [`TicketFilter::index`]) newest first, reads the page's tickets with one BatchGetItem and
//! keeps those that pass [`TicketFilter::matches`], as the in-memory store does. The cursor
//! is the LastEvaluatedKey, as hex of its JSON, so it only works on the index that made it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use omnidesk_domain::ports::StoreError;
use omnidesk_domain::query::{IndexKey, QueryError, TicketFilter, TicketPage};
use omnidesk_domain::{Status, Ticket};

use super::DynamoStore;
use super::capacity::{Access, item_size, read_units};
use super::indexes::{BY_ASSIGNEE, BY_REQUESTER, BY_STATUS, BY_TEAM};
use super::keys::{self, Item};
use super::ticket_item::read_ticket;
use crate::errors::store_error;
use crate::meter::Capacity;

pub(crate) const LIST_AT: &str = BY_STATUS.range;
const LIST_STATUS: &str = BY_STATUS.hash;
const LIST_TEAM: &str = BY_TEAM.hash;
const LIST_ASSIGNEE: &str = BY_ASSIGNEE.hash;
pub(crate) const LIST_REQUESTER: &str = BY_REQUESTER.hash;
/// The customer item's place on `by_requester`: after every ticket (`~` sorts after the
/// digits a ticket's `list_at` starts with), so newest-first reads it first.
pub(crate) const CUSTOMER_LIST_AT: &str = "~customer";

/// Adds the index attributes of `ticket` to its item.
pub(crate) fn add_list_attributes(item: &mut Item, ticket: &Ticket) {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    item.insert(LIST_AT.to_owned(), s(&format!("{:.9}#{:020}", ticket.created_at, ticket.number.0)));
    item.insert(LIST_STATUS.to_owned(), s(ticket.status.as_str()));
    item.insert(LIST_REQUESTER.to_owned(), s(ticket.requester.as_str()));
    if let Some(team) = &ticket.team {
        item.insert(LIST_TEAM.to_owned(), s(team));
    }
    if let Some(assignee) = &ticket.assignee {
        item.insert(LIST_ASSIGNEE.to_owned(), s(assignee));
    }
}

fn index_of(key: &IndexKey) -> (&'static str, &'static str, String) {
    match key {
        IndexKey::Requester(id) => (BY_REQUESTER.name, LIST_REQUESTER, id.as_str().to_owned()),
        IndexKey::Assignee(agent) => (BY_ASSIGNEE.name, LIST_ASSIGNEE, agent.clone()),
        IndexKey::Team(team) => (BY_TEAM.name, LIST_TEAM, team.clone()),
        IndexKey::Status(status) => (BY_STATUS.name, LIST_STATUS, status.as_str().to_owned()),
    }
}

/// Items read per Query page while filling one list page: a filter that matches little must
/// not turn one request into a long crawl; the client follows the cursor instead.
const MAX_QUERY_PAGES: usize = 10;

impl DynamoStore {
    pub(crate) async fn list_tickets(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, StoreError> {
        let index = filter.index().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (index_name, hash, value) = index_of(&index);
        let mut start_key = cursor.map(decode_cursor).transpose()?;
        // The requester index also holds the customer item itself (for the phone lookup,
        // sorted after every ticket): a list stops short of it.
        let on_requester = matches!(index, IndexKey::Requester(_));
        let key_condition = if on_requester { "#h = :h AND #a < :customer" } else { "#h = :h" };
        let mut tickets = Vec::new();
        for _ in 0..MAX_QUERY_PAGES {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index_name)
                .key_condition_expression(key_condition)
                .expression_attribute_names("#h", hash)
                .expression_attribute_values(":h", AttributeValue::S(value.clone()))
                .scan_index_forward(false)
                .limit(i32::try_from(limit - tickets.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            if on_requester {
                request = request
                    .expression_attribute_names("#a", LIST_AT)
                    .expression_attribute_values(":customer", AttributeValue::S(CUSTOMER_LIST_AT.to_owned()));
            }
            let output = request.send().await.map_err(|e| store_error("Query", e))?;
            let page = output.items.unwrap_or_default();
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                Capacity::read(read_units(page.iter().map(item_size).sum()) / 2.0)
            });
            // The index holds keys; the tickets come from the table, current, and the filter
            // (the index's own field included: the index may lag) is applied to them.
            for item in self.get_items(&page).await? {
                let ticket = read_ticket("listed ticket", item)?;
                if filter.matches(&ticket) {
                    tickets.push(ticket);
                }
            }
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => return Ok(TicketPage { tickets, cursor: None }),
            }
            if tickets.len() >= limit {
                break;
            }
        }
        Ok(TicketPage { tickets, cursor: start_key.as_ref().map(encode_cursor).transpose()? })
    }

    /// Counts an agent's unfinished tickets on `by_assignee` (a COUNT query: no items
    /// returned, but each page is read and billed), by the `status` the index projects.
    pub(crate) async fn count_assigned(&self, agent: &str) -> Result<u32, StoreError> {
        let unfinished = UnfinishedStatuses::new();
        let mut count: u32 = 0;
        let mut start_key: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(BY_ASSIGNEE.name)
                .key_condition_expression("#h = :h")
                .filter_expression(unfinished.expression.clone())
                .set_expression_attribute_values(Some(unfinished.values.clone()))
                .expression_attribute_names("#s", "status")
                .expression_attribute_names("#h", LIST_ASSIGNEE)
                .expression_attribute_values(":h", AttributeValue::S(agent.to_owned()))
                .select(Select::Count)
                .set_exclusive_start_key(start_key.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                // Eventually consistent: half a unit per 4 KB; a count page holds only keys here.
                Capacity::read(0.5)
            });
            count = count.saturating_add(u32::try_from(output.count).unwrap_or(0));
            match output.last_evaluated_key {
                Some(next) if !next.is_empty() => start_key = Some(next),
                _ => return Ok(count),
            }
        }
    }
}

/// `#s IN (:s0, :s1, …)` over the statuses that count towards a load
/// ([`Status::is_unfinished`]), so the store and the domain cannot disagree.
struct UnfinishedStatuses {
    expression: String,
    values: HashMap<String, AttributeValue>,
}

impl UnfinishedStatuses {
    fn new() -> Self {
        let statuses: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_unfinished()).collect();
        let placeholders: Vec<String> = (0..statuses.len()).map(|i| format!(":s{i}")).collect();
        let values = placeholders
            .iter()
            .zip(&statuses)
            .map(|(p, status)| (p.clone(), AttributeValue::S(status.as_str().to_owned())))
            .collect();
        Self { expression: format!("#s IN ({})", placeholders.join(", ")), values }
    }
}

fn encode_cursor(key: &Item) -> Result<String, StoreError> {
    let plain: HashMap<&str, &str> =
        key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
    let json = serde_json::to_vec(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(hex::encode(json))
}

fn decode_cursor(cursor: &str) -> Result<Item, StoreError> {
    let bad = || StoreError::Invalid(QueryError::BadCursor.to_string());
    let json = hex::decode(cursor).map_err(|_| bad())?;
    let plain: HashMap<String, String> = serde_json::from_slice(&json).map_err(|_| bad())?;
    let allowed = [keys::PK, keys::SK, LIST_AT, LIST_STATUS, LIST_TEAM, LIST_ASSIGNEE, LIST_REQUESTER];
    if plain.is_empty() || plain.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(bad());
    }
    Ok(plain.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}
