//! DynamoDB capacity units: read from a response's `ConsumedCapacity`, or estimated from item
//! sizes where a response has none, by the rules in the DynamoDB developer guide ("item sizes
//! and formats", "read/write capacity"):
//!
//! - a write costs 1 WCU per started KB of the item, a strongly consistent read 1 RCU per
//!   started 4 KB; both at least one unit, also when the item is absent;
//! - a Query sums the sizes of the items it returns (we never filter, so returned is
//!   evaluated) and rounds up to 4 KB once per page;
//! - inside a transaction every item costs twice;
//! - a write also writes the item's entry into each global secondary index, once,
//!   transaction or not, but only where the entry changes: one put for an entry that appears
//!   or whose projected attributes change, one delete for an entry that disappears, a delete
//!   and a put for an entry whose index key changes, nothing for an entry that stays as it
//!   was. An entry is its keys and the index's projected attributes ([`super::indexes`]), so
//!   its size is that, not the item's. What the entry was before is the meter's memory of
//!   the last write of the same item (`RequestMeter::index_entries`); an item it never saw
//!   counts as new.
//!
//! Estimates are lower bounds where the stored item is unknown: an UpdateItem or a failed
//! condition is billed on the larger of the old and the new item, and only the request's
//! part is known here.

use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, TransactWriteItem};

use super::indexes::TABLE_INDEXES;
use super::keys::{Item, PK, SK};
use crate::meter::{Capacity, IndexFingerprints};

const WRITE_UNIT_BYTES: usize = 1024;
const READ_UNIT_BYTES: usize = 4 * 1024;
/// Transactions do every read or write twice (prepare, commit).
const TRANSACTION_FACTOR: f64 = 2.0;

/// What the call does, so that a bare `CapacityUnits` is booked on the right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// The capacity a response reports, or `None` when it reports none. Read/write units are
/// used where the service splits them; otherwise the total goes to `access`'s side.
pub(crate) fn reported(access: Access, capacities: &[ConsumedCapacity]) -> Option<Capacity> {
    let mut total: Option<Capacity> = None;
    for capacity in capacities {
        let units = match (capacity.read_capacity_units(), capacity.write_capacity_units()) {
            (None, None) => match (access, capacity.capacity_units()) {
                (_, None) => continue,
                (Access::Read, Some(units)) => Capacity::read(units),
                (Access::Write, Some(units)) => Capacity::write(units),
            },
            (read, write) => Capacity { read: read.unwrap_or(0.0), write: write.unwrap_or(0.0) },
        };
        let sum = total.get_or_insert_with(Capacity::default);
        sum.read += units.read;
        sum.write += units.write;
    }
    total
}

/// Units of one strongly consistent read of `bytes` (an item, or a Query page).
pub(crate) fn read_units(bytes: usize) -> f64 {
    units(bytes, READ_UNIT_BYTES)
}

/// Units of one write of an item of `bytes`.
pub(crate) fn write_units(bytes: usize) -> f64 {
    units(bytes, WRITE_UNIT_BYTES)
}

fn units(bytes: usize, unit: usize) -> f64 {
    // Item sizes are at most 400 KB, so the count is small and exact as f64.
    bytes.div_ceil(unit).max(1) as f64
}

/// An item's entry in one index, as far as billing tells entries apart: its index key, the
/// whole entry, and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    key: String,
    whole: String,
    bytes: usize,
}

impl IndexEntry {
    fn fingerprint(self) -> (String, String) {
        (self.key, self.whole)
    }
}

/// The item's entry in each of the table's indexes (in [`TABLE_INDEXES`] order), `None` where
/// it lacks the index's keys (the indexes are sparse).
pub(crate) fn index_entries(item: &Item) -> Vec<Option<IndexEntry>> {
    TABLE_INDEXES
        .iter()
        .map(|index| {
            let hash = item.get(index.hash)?;
            let range = item.get(index.range)?;
            // The hash key's text first: the partition the entry lives in (see `entry_partition`).
            let partition = hash.as_s().map_or_else(|_| format!("{hash:?}"), String::clone);
            let key = format!("{partition}{PARTITION_END}{range:?}");
            let mut whole = key.clone();
            let mut bytes = index.hash.len() + value_size(hash) + index.range.len() + value_size(range);
            let mut names: Vec<&str> = if index.all {
                item.keys()
                    .map(String::as_str)
                    .filter(|name| *name != index.hash && *name != index.range)
                    .collect()
            } else {
                [PK, SK].iter().chain(index.projected).copied().collect()
            };
            names.sort_unstable();
            for name in names {
                if let Some(value) = item.get(name) {
                    whole.push_str(&format!("/{name}={value:?}"));
                    bytes += name.len() + value_size(value);
                }
            }
            Some(IndexEntry { key, whole, bytes })
        })
        .collect()
}

pub(crate) fn fingerprints(entries: Vec<Option<IndexEntry>>) -> IndexFingerprints {
    entries.into_iter().map(|entry| entry.map(IndexEntry::fingerprint)).collect()
}

/// Ends the partition (hash key text) at the start of an entry's key.
const PARTITION_END: char = '\u{0}';

/// The partition (hash key) of an index entry's key.
fn entry_partition(key: &str) -> &str {
    key.split(PARTITION_END).next().unwrap_or(key)
}

/// The index writes of replacing an item whose entries were `old` (`None`: no such item) by
/// one whose entries are `new`.
#[cfg(test)]
pub(crate) fn index_write_units(old: Option<&IndexFingerprints>, new: &[Option<IndexEntry>]) -> f64 {
    index_writes(old, new).iter().map(|write| write.units).sum()
}

/// One index entry written (put or deleted): the index, its partition and the units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexWrite {
    pub(crate) index: &'static str,
    pub(crate) partition: String,
    pub(crate) units: f64,
}

/// Each index entry write of replacing an item whose entries were `old` by one whose entries
/// are `new`: a delete from the old entry's partition, a put into the new one's.
pub(crate) fn index_writes(old: Option<&IndexFingerprints>, new: &[Option<IndexEntry>]) -> Vec<IndexWrite> {
    let mut writes = Vec::new();
    for (i, new) in new.iter().enumerate() {
        let index = TABLE_INDEXES[i].name;
        let old = old.and_then(|old| old.get(i)).and_then(Option::as_ref);
        let write =
            |key: &str, units| IndexWrite { index, partition: entry_partition(key).to_owned(), units };
        match (old, new) {
            (None, None) => {}
            (None, Some(new)) => writes.push(write(&new.key, write_units(new.bytes))),
            (Some((key, _)), None) => writes.push(write(key, 1.0)),
            (Some((key, _)), Some(new)) if *key != new.key => {
                writes.push(write(key, 1.0));
                writes.push(write(&new.key, write_units(new.bytes)));
            }
            (Some((_, whole)), Some(new)) if *whole != new.whole => {
                writes.push(write(&new.key, write_units(new.bytes)))
            }
            (Some(_), Some(_)) => {}
        }
    }
    writes
}

/// The write units of a TransactWriteItems on the table, from the items it carries (their
/// index writes apart: see [`index_write_units`]).
pub(crate) fn transaction_units(writes: &[TransactWriteItem]) -> Capacity {
    Capacity::write(writes.iter().map(|write| transaction_write(write).1).sum())
}

/// One write of a transaction: the partition key it writes and its units (twice the write's).
pub(crate) fn transaction_write(write: &TransactWriteItem) -> (String, f64) {
    let (key, bytes) = if let Some(put) = write.put() {
        (put.item(), item_size(put.item()))
    } else if let Some(update) = write.update() {
        // The new item is not in the request: its key and new values are a lower bound.
        (update.key(), item_size(update.key()) + update.expression_attribute_values().map_or(0, values_size))
    } else if let Some(delete) = write.delete() {
        (delete.key(), item_size(delete.key()))
    } else if let Some(check) = write.condition_check() {
        // A condition check is billed as a write of the checked item.
        (check.key(), item_size(check.key()))
    } else {
        return (String::new(), 0.0);
    };
    (partition_of(key), write_units(bytes) * TRANSACTION_FACTOR)
}

/// An item's partition key as text.
pub(crate) fn partition_of(item: &Item) -> String {
    item.get(PK).and_then(|pk| pk.as_s().ok()).cloned().unwrap_or_default()
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn values_size(values: &std::collections::HashMap<String, AttributeValue>) -> usize {
    values.values().map(value_size).sum()
}

pub(crate) fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        // 3 bytes for the container, 1 more per element.
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map.iter().map(|(name, v)| 1 + name.len() + value_size(v)).sum::<usize>()
        }
        // A type newer than this SDK: count something rather than nothing.
        _ => 1,
    }
}

/// One byte per two significant digits, plus one. Sign, point, exponent and leading or
/// trailing zeros are not significant.
fn number_size(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::{Put, Update};

    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn sizes_follow_the_documented_rules() {
        assert_eq!(number_size("1042"), 3);
        assert_eq!(number_size("7"), 2);
        assert_eq!(number_size("-100.500"), 3);
        assert_eq!(number_size("0"), 1);
        assert_eq!(number_size("1.5E+10"), 2);
        let ticket = item(&[
            ("pk", AttributeValue::S("T#1042".into())),
            ("version", AttributeValue::N("12".into())),
            ("ok", AttributeValue::Bool(true)),
            ("tags", AttributeValue::L(vec![AttributeValue::S("vip".into())])),
            ("m", AttributeValue::M(HashMap::from([("a".to_owned(), AttributeValue::Null(true))]))),
        ]);
        // pk 2+6, version 7+2, ok 2+1, tags 4+3+1+3, m 1+3+1+1+1
        assert_eq!(item_size(&ticket), 8 + 9 + 3 + 11 + 7);
    }

    #[test]
    fn units_round_up_with_a_minimum_of_one() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4096), 1.0);
        assert_eq!(read_units(4097), 2.0);
    }

    #[test]
    fn transactions_cost_twice() {
        let big = item(&[("pk", AttributeValue::S("x".repeat(1500)))]);
        let put = Put::builder().table_name("t").set_item(Some(big)).build().unwrap();
        let update = Update::builder()
            .table_name("t")
            .set_key(Some(item(&[("pk", AttributeValue::S("C#1".into()))])))
            .update_expression("SET #v = :v")
            .build()
            .unwrap();
        let writes = [
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        assert_eq!(transaction_units(&writes), Capacity::write(2.0 * 2.0 + 2.0));
    }

    fn ticket(status: &str, assignee: Option<&str>, version: &str) -> Item {
        let mut ticket = item(&[
            ("pk", AttributeValue::S("T#1".into())),
            ("sk", AttributeValue::S("TICKET".into())),
            ("version", AttributeValue::N(version.into())),
            ("status", AttributeValue::S(status.into())),
            ("list_at", AttributeValue::S("2026-12-06T10:00:00.000000000Z#00000000000000000001".into())),
            ("list_status", AttributeValue::S(status.into())),
            ("list_requester", AttributeValue::S("cus_1".into())),
            ("list_team", AttributeValue::S("frontline".into())),
        ]);
        if let Some(agent) = assignee {
            ticket.insert("list_assignee".into(), AttributeValue::S(agent.into()));
        }
        ticket
    }

    fn units(old: &Item, new: &Item) -> f64 {
        index_write_units(Some(&fingerprints(index_entries(old))), &index_entries(new))
    }

    #[test]
    fn a_new_item_writes_one_entry_into_each_index_it_belongs_to() {
        let ticket = ticket("open", None, "1");
        assert_eq!(index_write_units(None, &index_entries(&ticket)), 3.0);
        assert_eq!(
            index_write_units(None, &index_entries(&item(&[("pk", AttributeValue::S("C#1".into()))]))),
            0.0
        );
    }

    #[test]
    fn index_entries_are_written_only_when_their_key_or_a_projected_attribute_changes() {
        let before = ticket("open", Some("ana"), "1");
        // A reply: the version and the thread change, no index key nor projected attribute:
        // no index entry is written.
        assert_eq!(units(&before, &ticket("open", Some("ana"), "2")), 0.0);
        // A status change: by_status's key changes (delete + put), by_assignee's and
        // by_requester's projected status changes (one put each).
        assert_eq!(units(&before, &ticket("pending", Some("ana"), "2")), 2.0 + 1.0 + 1.0);
        // Unassigned: the by_assignee entry is deleted.
        assert_eq!(units(&before, &ticket("open", None, "2")), 1.0);
        // Assigned: a by_assignee entry appears.
        assert_eq!(units(&ticket("open", None, "1"), &ticket("open", Some("ana"), "2")), 1.0);
        // Nothing changed at all: nothing to write.
        assert_eq!(units(&before, &before), 0.0);
    }

    #[test]
    fn reported_units_are_split_or_booked_by_access() {
        let total = ConsumedCapacity::builder().table_name("t").capacity_units(1.0).build();
        assert_eq!(reported(Access::Read, std::slice::from_ref(&total)), Some(Capacity::read(1.0)));
        assert_eq!(reported(Access::Write, &[total.clone(), total]), Some(Capacity::write(2.0)));
        let split = ConsumedCapacity::builder().capacity_units(2.0).read_capacity_units(2.0).build();
        // An idempotent transaction replay is billed as reads although the call writes.
        assert_eq!(reported(Access::Write, &[split]), Some(Capacity::read(2.0)));
        assert_eq!(reported(Access::Write, &[]), None);
        assert_eq!(reported(Access::Read, &[ConsumedCapacity::builder().table_name("t").build()]), None);
    }
}
