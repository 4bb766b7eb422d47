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
//! in place (one write), where a changing sort key would cost a delete and a put on every
//! index at every ticket write. A list queries one index (the filter's
//! [`TicketFilter::index`]) newest first; the other
//! fields become a FilterExpression. The cursor is the LastEvaluatedKey, as hex of its JSON, so it only works on the index that made it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use omnidesk_domain::ports::StoreError;
use omnidesk_domain::query::{AssigneeFilter, IndexKey, QueryError, TicketFilter, TicketPage};
use omnidesk_domain::{Status, Ticket};

use super::DynamoStore;
use super::capacity::{Access, item_size, read_units};
use super::keys::{self, Item};
use super::ticket_item::read_ticket;
use super::timers::{TIMER_DUE, due_key};
use crate::errors::store_error;
use crate::meter::Capacity;

pub(crate) const LIST_AT: &str = "list_at";
const LIST_STATUS: &str = "list_status";
const LIST_TEAM: &str = "list_team";
const LIST_ASSIGNEE: &str = "list_assignee";
pub(crate) const LIST_REQUESTER: &str = "list_requester";
/// The customer item's place on `by_requester`: after every ticket (`~` sorts after the
/// digits a ticket's `list_at` starts with), so newest-first reads it first.
pub(crate) const CUSTOMER_LIST_AT: &str = "~customer";
/// Present (true) on a ticket with a breached SLA timer, for the `breached` filter.
const LIST_BREACHED: &str = "list_breached";

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
    if ticket.sla.breached() {
        item.insert(LIST_BREACHED.to_owned(), AttributeValue::Bool(true));
    }
}

fn index_of(key: &IndexKey) -> (&'static str, &'static str, String) {
    match key {
        IndexKey::Requester(id) => ("by_requester", LIST_REQUESTER, id.as_str().to_owned()),
        IndexKey::Assignee(agent) => ("by_assignee", LIST_ASSIGNEE, agent.clone()),
        IndexKey::Team(team) => ("by_team", LIST_TEAM, team.clone()),
        IndexKey::Status(status) => ("by_status", LIST_STATUS, status.as_str().to_owned()),
    }
}

/// The FilterExpression for every field the index does not serve.
struct Filter {
    clauses: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Filter {
    fn of(filter: &TicketFilter) -> Self {
        let mut f = Filter { clauses: Vec::new(), names: HashMap::new(), values: HashMap::new() };
        let s = |v: &str| AttributeValue::S(v.to_owned());
        if let Some(status) = filter.status {
            f.equal("status", s(status.as_str()));
        }
        if let Some(team) = &filter.team {
            f.equal("team", s(team));
        }
        match &filter.assignee {
            Some(AssigneeFilter::Agent(agent)) => f.equal("assignee", s(agent)),
            Some(AssigneeFilter::Unassigned) => {
                f.clause("attribute_not_exists(#f_list_assignee)", LIST_ASSIGNEE)
            }
            None => {}
        }
        if let Some(priority) = filter.priority {
            f.equal("priority", s(priority.as_str()));
        }
        if let Some(channel) = filter.channel {
            f.equal("channel", s(channel.as_str()));
        }
        if let Some(category) = &filter.category {
            f.equal("category", s(category));
        }
        if let Some(tag) = &filter.tag {
            f.contains("tags", s(tag));
        }
        match filter.breached {
            Some(true) => f.clause("attribute_exists(#f_list_breached)", LIST_BREACHED),
            Some(false) => f.clause("attribute_not_exists(#f_list_breached)", LIST_BREACHED),
            None => {}
        }
        if let Some(by) = filter.due_before {
            // The due index's fixed-width instant, so string order is time order.
            let n = f.clauses.len();
            f.clauses.push(format!("#f_timer_due <= :f{n}"));
            f.names.insert("#f_timer_due".to_owned(), TIMER_DUE.to_owned());
            f.values.insert(format!(":f{n}"), s(&due_key(by)));
        }
        f
    }

    fn equal(&mut self, attribute: &str, value: AttributeValue) {
        let n = self.clauses.len();
        self.clauses.push(format!("#f_{attribute} = :f{n}"));
        self.names.insert(format!("#f_{attribute}"), attribute.to_owned());
        self.values.insert(format!(":f{n}"), value);
    }

    fn contains(&mut self, attribute: &str, value: AttributeValue) {
        let n = self.clauses.len();
        self.clauses.push(format!("contains(#f_{attribute}, :f{n})"));
        self.names.insert(format!("#f_{attribute}"), attribute.to_owned());
        self.values.insert(format!(":f{n}"), value);
    }

    fn clause(&mut self, text: &str, attribute: &str) {
        self.clauses.push(text.to_owned());
        self.names.insert(format!("#f_{attribute}"), attribute.to_owned());
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
        let filters = Filter::of(filter);
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
            if !filters.clauses.is_empty() {
                request = request.filter_expression(filters.clauses.join(" AND "));
                for (k, v) in &filters.names {
                    request = request.expression_attribute_names(k, v);
                }
                for (k, v) in &filters.values {
                    request = request.expression_attribute_values(k, v.clone());
                }
            }
            let output = request.send().await.map_err(|e| store_error("Query", e))?;
            let page = output.items.as_deref().unwrap_or_default();
            self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
                Capacity::read(read_units(page.iter().map(item_size).sum()) / 2.0)
            });
            for item in output.items.unwrap_or_default() {
                tickets.push(read_ticket("listed ticket", item)?);
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
    /// returned, but each page is read and billed).
    pub(crate) async fn count_assigned(&self, agent: &str) -> Result<u32, StoreError> {
        let unfinished = UnfinishedStatuses::new();
        let mut count: u32 = 0;
        let mut start_key: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by_assignee")
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
