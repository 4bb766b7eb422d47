//! Request accounting: what a workload costs on AWS. Every HTTP attempt the SDK sends is
//! counted per service and operation (by [`MeterInterceptor`], so SDK retries count as the
//! billable requests they are), and DynamoDB read/write capacity units are summed from the
//! responses' `ConsumedCapacity`.
//!
//! Where a response carries no capacity (moto leaves it out of TransactWriteItems, and no
//! failed conditional write reports it although AWS bills it), the store estimates it from
//! the sizes of the items it wrote or read, by DynamoDB's published rules. Estimated units
//! are kept apart ([`MeterSnapshot::estimated_rcu`], [`MeterSnapshot::estimated_wcu`]), so a
//! report can say which figures are measured.
//!
//! Partition heat: the store also books every request's units on the partition keys it
//! touches (the table's, and each index entry it writes or reads), estimated from item sizes
//! (a response reports one total per call), on a [`PartitionHeat`] ([`RequestMeter::heat`]):
//! the hottest keys' units over sliding one-second windows, for the table and per index.

mod interceptor;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use omnidesk_domain::heat::PartitionHeat;
use omnidesk_domain::ports::Clock;
use omnidesk_domain::system::SystemClock;

pub use interceptor::MeterInterceptor;

/// DynamoDB capacity units of one or more calls.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    pub read: f64,
    pub write: f64,
}

impl Capacity {
    pub fn read(units: f64) -> Self {
        Self { read: units, write: 0.0 }
    }

    pub fn write(units: f64) -> Self {
        Self { read: 0.0, write: units }
    }

    fn add(&mut self, other: Capacity) {
        self.read += other.read;
        self.write += other.write;
    }
}

/// A thread-safe tally shared (as `Arc<RequestMeter>`) by every client built with it. One
/// uncontended lock per HTTP attempt: nothing next to a network round trip.
#[derive(Debug)]
pub struct RequestMeter {
    tally: Mutex<Tally>,
    estimate_always: bool,
    /// Per item written (`table/pk/sk`), its entries in the table's indexes as the last
    /// write left them: an index entry is billed only when it changes, so pricing a write
    /// needs what it replaces. Only items with index entries are kept.
    index_entries: Mutex<HashMap<String, IndexFingerprints>>,
    heat: Arc<PartitionHeat>,
}

/// Per index of the table, the key and the whole of an item's entry (`None`: not in it).
pub(crate) type IndexFingerprints = Vec<Option<(String, String)>>;

#[derive(Debug, Default)]
struct Tally {
    /// service → operation → attempts. Nested so that counting looks up by `&str` and
    /// allocates only the first time an operation is seen.
    calls: BTreeMap<String, BTreeMap<String, u64>>,
    /// Everything, measured and estimated.
    total: Capacity,
    /// The estimated part of `total`.
    estimated: Capacity,
}

impl RequestMeter {
    /// Trusts the capacity a response reports and estimates only where it reports none:
    /// right for AWS.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::build(false, Arc::new(SystemClock)))
    }

    fn build(estimate_always: bool, clock: Arc<dyn Clock>) -> Self {
        Self {
            tally: Mutex::default(),
            estimate_always,
            index_entries: Mutex::default(),
            heat: PartitionHeat::new(clock),
        }
    }

    /// Ignores reported capacity and estimates every call from item sizes. For emulators
    /// whose figures are placeholders: moto reports fixed numbers whatever the item size
    /// (GetItem 0.5, UpdateItem 0.5, PutItem/DeleteItem/Query 1.0) and none for
    /// TransactWriteItems.
    pub fn estimating() -> Arc<Self> {
        Self::estimating_at(Arc::new(SystemClock))
    }

    /// An estimating meter whose partition heat takes its time from `clock` (a run in
    /// simulated time, or a test).
    pub fn estimating_at(clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self::build(true, clock))
    }

    /// The units per partition key, for the table and each index.
    pub fn heat(&self) -> &Arc<PartitionHeat> {
        &self.heat
    }

    /// Counts one request. The SDK clients count through [`MeterInterceptor`]; this is for
    /// requests sent by other means that a report should include.
    pub fn record_call(&self, service: &str, operation: &str) {
        let mut tally = self.lock();
        let operations = match tally.calls.get_mut(service) {
            Some(operations) => operations,
            None => tally.calls.entry(service.to_owned()).or_default(),
        };
        match operations.get_mut(operation) {
            Some(count) => *count += 1,
            None => {
                operations.insert(operation.to_owned(), 1);
            }
        }
    }

    /// Adds one DynamoDB call's capacity: what the response reported, or else `estimate()`.
    /// `estimate` runs only when needed.
    pub(crate) fn record_capacity(&self, reported: Option<Capacity>, estimate: impl FnOnce() -> Capacity) {
        let (units, estimated) = match reported {
            Some(units) if !self.estimate_always => (units, false),
            _ => (estimate(), true),
        };
        let mut tally = self.lock();
        tally.total.add(units);
        if estimated {
            tally.estimated.add(units);
        }
    }

    pub fn snapshot(&self) -> MeterSnapshot {
        let tally = self.lock();
        let calls = tally
            .calls
            .iter()
            .flat_map(|(service, operations)| {
                operations
                    .iter()
                    .map(move |(operation, count)| ((service.clone(), operation.clone()), *count))
            })
            .collect();
        MeterSnapshot {
            calls,
            dynamodb_rcu: tally.total.read,
            dynamodb_wcu: tally.total.write,
            estimated_rcu: tally.estimated.read,
            estimated_wcu: tally.estimated.write,
        }
    }

    /// Starts counting from zero again.
    pub fn reset(&self) {
        let mut tally = self.lock();
        tally.calls.clear();
        tally.total = Capacity::default();
        tally.estimated = Capacity::default();
        self.heat.reset();
    }

    /// The index entries the last metered write of `item` (`table/pk/sk`) left, if any.
    pub(crate) fn index_entries(&self, item: &str) -> Option<IndexFingerprints> {
        self.entries().get(item).cloned()
    }

    /// Records what a successful write left in the indexes for `item`.
    pub(crate) fn remember_index_entries(&self, item: String, entries: IndexFingerprints) {
        let mut known = self.entries();
        if entries.iter().any(Option::is_some) {
            known.insert(item, entries);
        } else {
            known.remove(&item);
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, IndexFingerprints>> {
        self.index_entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, Tally> {
        // A panic elsewhere while holding the lock leaves plain numbers behind: keep counting.
        self.tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The meter's counts at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeterSnapshot {
    /// HTTP attempts per (service, operation), e.g. `("DynamoDB", "GetItem")`, with the SDK's
    /// service names: `DynamoDB`, `SQS`, `SESv2`, `S3`.
    pub calls: BTreeMap<(String, String), u64>,
    /// DynamoDB read capacity units, measured and estimated.
    pub dynamodb_rcu: f64,
    /// DynamoDB write capacity units, measured and estimated.
    pub dynamodb_wcu: f64,
    /// The part of `dynamodb_rcu` estimated from item sizes.
    pub estimated_rcu: f64,
    /// The part of `dynamodb_wcu` estimated from item sizes.
    pub estimated_wcu: f64,
}

impl MeterSnapshot {
    /// Attempts sent to `service`, all operations together.
    pub fn total(&self, service: &str) -> u64 {
        self.calls.iter().filter(|((s, _), _)| s == service).map(|(_, count)| count).sum()
    }

    /// Attempts of one operation.
    pub fn calls_to(&self, service: &str, operation: &str) -> u64 {
        self.calls.get(&(service.to_owned(), operation.to_owned())).copied().unwrap_or(0)
    }

    /// Attempts to every service.
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    /// Whether any capacity figure is (partly) estimated rather than measured.
    pub fn estimated_capacity(&self) -> bool {
        self.estimated_rcu > 0.0 || self.estimated_wcu > 0.0
    }

    /// What happened between `earlier` and this snapshot, e.g. one scenario of a longer run
    /// that shares the meter.
    pub fn since(&self, earlier: &MeterSnapshot) -> MeterSnapshot {
        let calls = self
            .calls
            .iter()
            .filter_map(|(key, count)| {
                let delta = count.saturating_sub(earlier.calls.get(key).copied().unwrap_or(0));
                (delta > 0).then(|| (key.clone(), delta))
            })
            .collect();
        MeterSnapshot {
            calls,
            dynamodb_rcu: self.dynamodb_rcu - earlier.dynamodb_rcu,
            dynamodb_wcu: self.dynamodb_wcu - earlier.dynamodb_wcu,
            estimated_rcu: self.estimated_rcu - earlier.estimated_rcu,
            estimated_wcu: self.estimated_wcu - earlier.estimated_wcu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_service_and_operation() {
        let meter = RequestMeter::new();
        meter.record_call("DynamoDB", "GetItem");
        meter.record_call("DynamoDB", "GetItem");
        meter.record_call("DynamoDB", "Query");
        meter.record_call("SQS", "SendMessage");
        let snapshot = meter.snapshot();
        assert_eq!(snapshot.calls_to("DynamoDB", "GetItem"), 2);
        assert_eq!(snapshot.total("DynamoDB"), 3);
        assert_eq!(snapshot.total("SQS"), 1);
        assert_eq!(snapshot.total("S3"), 0);
        assert_eq!(snapshot.total_calls(), 4);
        assert_eq!(snapshot.calls.keys().next(), Some(&("DynamoDB".to_owned(), "GetItem".to_owned())));
    }

    #[test]
    fn reported_capacity_wins_and_estimates_are_kept_apart() {
        let meter = RequestMeter::new();
        meter.record_capacity(Some(Capacity::read(0.5)), || panic!("not needed"));
        meter.record_capacity(None, || Capacity::write(4.0));
        let snapshot = meter.snapshot();
        assert_eq!((snapshot.dynamodb_rcu, snapshot.dynamodb_wcu), (0.5, 4.0));
        assert_eq!((snapshot.estimated_rcu, snapshot.estimated_wcu), (0.0, 4.0));
        assert!(snapshot.estimated_capacity());
    }

    #[test]
    fn an_estimating_meter_ignores_reported_figures() {
        let meter = RequestMeter::estimating();
        meter.record_capacity(Some(Capacity::read(0.5)), || Capacity::read(1.0));
        let snapshot = meter.snapshot();
        assert_eq!((snapshot.dynamodb_rcu, snapshot.estimated_rcu), (1.0, 1.0));
    }

    #[test]
    fn reset_and_since() {
        let meter = RequestMeter::new();
        meter.record_call("S3", "PutObject");
        meter.record_capacity(Some(Capacity::write(1.0)), Capacity::default);
        let before = meter.snapshot();
        meter.record_call("S3", "PutObject");
        meter.record_call("S3", "GetObject");
        let delta = meter.snapshot().since(&before);
        assert_eq!(delta.calls_to("S3", "PutObject"), 1);
        assert_eq!(delta.calls_to("S3", "GetObject"), 1);
        assert_eq!(delta.dynamodb_wcu, 0.0);
        assert!(!delta.estimated_capacity());

        meter.reset();
        assert_eq!(meter.snapshot(), MeterSnapshot::default());
    }
}
