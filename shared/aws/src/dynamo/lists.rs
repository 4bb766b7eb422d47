//! Ticket lists from sparse global secondary indexes, never a Scan. Every ticket item carries
//! `list_at` (`<created_at>#<number>`, fixed width, so string order is age order) and the
//! hash attributes of the indexes it belongs to:
//!
//! | index          | hash attribute   | present when            |
//! |----------------|------------------|-------------------------|
//! | `by_status`    | `list_status`    | always (`<status>#<shard>`) |
//! | `by_team`      | `list_team`      | the ticket has a team (`<team>#<shard>`) |
//! | `by_assignee`  | `list_assignee`  | someone holds it        |
//! | `by_requester` | `list_requester` | always                  |
//!
//! The sort key never changes after a ticket opens: an index entry whose keys stay is updated
//! in place, where a changing sort key would cost a delete and a put on every index at every
//! ticket write; and the indexes project keys only ([`super::indexes`]), so an entry is not
//! written at all unless its key changes. Status and team keys are write-sharded
//! ([`omnidesk_domain::partitions`]): every open ticket under one key put a peak's writes on
//! one partition. A list queries one index (the filter's [`TicketFilter::index`]): every
//! shard of its key at once, newest first, merged by `list_at`; reads the page's tickets with
//! one BatchGetItem and keeps those that pass [`TicketFilter::matches`], as the in-memory
//! store does. The cursor is the `list_at` of the last entry read: unique and in one order
//! across shards, so the next page reads every shard below it (the desk signs it and binds it
//! to the list, [`omnidesk_domain::cursor`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use futures_util::future::try_join_all;
use omnidesk_domain::heat::Access as HeatAccess;
use omnidesk_domain::partitions;
use omnidesk_domain::ports::StoreError;
use omnidesk_domain::query::{IndexKey, QueryError, TicketFilter, TicketPage};
use omnidesk_domain::{Status, Ticket};

use super::DynamoStore;
use super::capacity::{Access, item_size, read_units};
use super::indexes::{BY_ASSIGNEE, BY_REQUESTER, BY_STATUS, BY_TEAM};
use super::keys::Item;
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
    item.insert(LIST_STATUS.to_owned(), s(&partitions::status_key(ticket.status, ticket.number)));
    item.insert(LIST_REQUESTER.to_owned(), s(ticket.requester.as_str()));
    if let Some(team) = &ticket.team {
        item.insert(LIST_TEAM.to_owned(), s(&partitions::team_key(team, ticket.number)));
    }
    if let Some(assignee) = &ticket.assignee {
        item.insert(LIST_ASSIGNEE.to_owned(), s(assignee));
    }
}

/// The index, its hash attribute and every key (shard) a list reads.
fn index_of(key: &IndexKey) -> (&'static str, &'static str, Vec<String>) {
    match key {
        IndexKey::Requester(id) => (BY_REQUESTER.name, LIST_REQUESTER, vec![id.as_str().to_owned()]),
        IndexKey::Assignee(agent) => (BY_ASSIGNEE.name, LIST_ASSIGNEE, vec![agent.clone()]),
        IndexKey::Team(team) => (BY_TEAM.name, LIST_TEAM, partitions::team_keys(team)),
        IndexKey::Status(status) => (BY_STATUS.name, LIST_STATUS, partitions::status_keys(*status)),
    }
}

/// One shard's newest entries below the cursor.
struct ShardPage {
    entries: Vec<Item>,
    more: bool,
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
        let (index_name, hash, shards) = index_of(&index);
        // Below every ticket's `list_at` sits the requester index's customer item (sorted
        // after every ticket, for the phone lookup): the first page starts under it.
        let mut before = match cursor {
            Some(cursor) => decode_cursor(cursor)?,
            None => CUSTOMER_LIST_AT.to_owned(),
        };
        let mut tickets = Vec::new();
        for _ in 0..MAX_QUERY_PAGES {
            let want = limit - tickets.len();
            let pages = try_join_all(
                shards.iter().map(|shard| self.query_shard(index_name, hash, shard, &before, want)),
            )
            .await?;
            let more = pages.iter().any(|page| page.more);
            let mut entries: Vec<Item> = pages.into_iter().flat_map(|page| page.entries).collect();
            // Newest first across shards; what falls past this page is read again next time.
            entries.sort_by(|a, b| list_at(b).cmp(list_at(a)));
            let exhausted = !more && entries.len() <= want;
            entries.truncate(want);
            let Some(last) = entries.last().map(|entry| list_at(entry).to_owned()) else {
                return Ok(TicketPage { tickets, cursor: None });
            };
            // The index holds keys; the tickets come from the table, current, and the filter
            // (the index's own field included: the index may lag) is applied to them.
            for item in self.get_items(&entries).await? {
                let ticket = read_ticket("listed ticket", item)?;
                if filter.matches(&ticket) {
                    tickets.push(ticket);
                }
            }
            before = last;
            if exhausted {
                return Ok(TicketPage { tickets, cursor: None });
            }
            if tickets.len() >= limit {
                break;
            }
        }
        Ok(TicketPage { tickets, cursor: Some(encode_cursor(&before)) })
    }

    /// Up to `limit` entries of one shard with `list_at` below `before`, newest first.
    async fn query_shard(
        &self,
        index: &'static str,
        hash: &'static str,
        shard: &str,
        before: &str,
        limit: usize,
    ) -> Result<ShardPage, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#h = :h AND #a < :before")
            .expression_attribute_names("#h", hash)
            .expression_attribute_names("#a", LIST_AT)
            .expression_attribute_values(":h", AttributeValue::S(shard.to_owned()))
            .expression_attribute_values(":before", AttributeValue::S(before.to_owned()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| store_error("Query", e))?;
        let entries = output.items.unwrap_or_default();
        // Eventually consistent: half a unit per 4 KB.
        let units = read_units(entries.iter().map(item_size).sum()) / 2.0;
        self.record_capacity("Query", Access::Read, output.consumed_capacity.as_slice(), || {
            Capacity::read(units)
        });
        self.heat(index, shard, HeatAccess::Read, units);
        let more = output.last_evaluated_key.is_some_and(|key| !key.is_empty());
        Ok(ShardPage { entries, more })
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
            self.heat(BY_ASSIGNEE.name, agent, HeatAccess::Read, 0.5);
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

fn list_at(entry: &Item) -> &str {
    entry.get(LIST_AT).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

/// The cursor: the last `list_at` read, as hex (it holds `#` and `:`, which a URL's query
/// would cut or escape).
fn encode_cursor(list_at: &str) -> String {
    hex::encode(list_at)
}

/// A `list_at` as [`add_list_attributes`] writes it (`<created_at, 9 decimals>#<20 digits>`),
/// or `BadCursor`: whatever the client sends goes no further than this shape.
fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let bad = || StoreError::Invalid(QueryError::BadCursor.to_string());
    let cursor = hex::decode(cursor).map_err(|_| bad())?;
    let cursor = String::from_utf8(cursor).map_err(|_| bad())?;
    let (at, number) = cursor.split_once('#').ok_or_else(bad)?;
    let at: jiff::Timestamp = at.parse().map_err(|_| bad())?;
    if number.len() != 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let list_at = format!("{at:.9}#{number}");
    if list_at != cursor {
        return Err(bad());
    }
    Ok(list_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_a_list_position_and_nothing_else() {
        let position = "2026-12-06T10:00:00.000000000Z#00000000000000001042";
        let cursor = encode_cursor(position);
        assert!(cursor.bytes().all(|b| b.is_ascii_hexdigit()), "URL-safe: {cursor}");
        assert_eq!(decode_cursor(&cursor).unwrap(), position);
        let foreign = [
            "",
            "7b22706b223a22542331227d",
            "2026-12-06T10:00:00Z#00000000000000001042",
            "2026-12-06T10:00:00.000000000Z#1042",
            "2026-12-06T10:00:00.000000000Z#0000000000000000104x",
            "~customer",
        ];
        for cursor in foreign {
            assert!(decode_cursor(&hex::encode(cursor)).is_err(), "{cursor}");
        }
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor(position).is_err(), "not hex");
    }
}
