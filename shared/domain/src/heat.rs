//! Partition heat: the capacity units each DynamoDB partition key takes, for the table and for
//! each index, and the hottest keys' peak units over any sliding one-second window.
//!
//! DynamoDB serves at most [`WRITE_UNITS_PER_PARTITION`] and [`READ_UNITS_PER_PARTITION`] a
//! second per partition, whatever the table's total; a key that takes more is throttled, and
//! a throttled index write throttles the table write that caused it. The AWS request meter
//! and the memory store both feed one of these (the store mirroring the adapters' key
//! layout), so a load run on either reports the same keys. Time comes from the [`Clock`]: a
//! simulation in simulated time gets per-second figures without sleeping.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

use crate::ports::Clock;

/// DynamoDB's documented per-partition write limit (units a second).
pub const WRITE_UNITS_PER_PARTITION: f64 = 1_000.0;
/// DynamoDB's documented per-partition read limit (units a second).
pub const READ_UNITS_PER_PARTITION: f64 = 3_000.0;
/// The scope of the base table's partitions; an index's scope is its name.
pub const TABLE: &str = "table";

const WINDOW_NANOS: i128 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    /// The per-partition limit of this kind of access.
    pub fn limit(self) -> f64 {
        match self {
            Access::Read => READ_UNITS_PER_PARTITION,
            Access::Write => WRITE_UNITS_PER_PARTITION,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// A thread-safe heat map, shared as `Arc<PartitionHeat>`.
pub struct PartitionHeat {
    clock: Arc<dyn Clock>,
    state: Mutex<HashMap<(String, Access), Scope>>,
}

impl std::fmt::Debug for PartitionHeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartitionHeat(..)")
    }
}

#[derive(Default)]
struct Scope {
    total: f64,
    keys: HashMap<String, KeyWindow>,
}

/// One key's units of the last second, and the most any one-second window held.
#[derive(Default)]
struct KeyWindow {
    recent: VecDeque<(i128, f64)>,
    in_window: f64,
    peak: f64,
    peak_at: i128,
}

impl KeyWindow {
    /// The peak of sliding windows is reached at a window ending on some request, so one
    /// check per request finds it exactly.
    fn add(&mut self, at: i128, units: f64) {
        while let Some(&(then, old)) = self.recent.front() {
            if then > at - WINDOW_NANOS {
                break;
            }
            self.in_window -= old;
            self.recent.pop_front();
        }
        self.recent.push_back((at, units));
        self.in_window += units;
        if self.in_window > self.peak {
            self.peak = self.in_window;
            self.peak_at = at;
        }
    }
}

impl PartitionHeat {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self { clock, state: Mutex::new(HashMap::new()) })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, Access), Scope>> {
        // Plain numbers survive a panic elsewhere: keep counting.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Books `units` on partition `key` of `scope` ([`TABLE`] or an index name), now.
    pub fn record(&self, scope: &str, key: &str, access: Access, units: f64) {
        if units <= 0.0 {
            return;
        }
        let at = self.clock.now().as_nanosecond();
        let mut scopes = self.lock();
        let scope = match scopes.get_mut(&(scope.to_owned(), access)) {
            Some(found) => found,
            None => scopes.entry((scope.to_owned(), access)).or_default(),
        };
        scope.total += units;
        match scope.keys.get_mut(key) {
            Some(window) => window.add(at, units),
            None => scope.keys.entry(key.to_owned()).or_default().add(at, units),
        }
    }

    /// Each scope's and access's total and its `top` hottest keys by peak, hottest first.
    pub fn report(&self, top: usize) -> HeatReport {
        let scopes = self.lock();
        let mut report: Vec<ScopeHeat> = scopes
            .iter()
            .map(|((scope, access), heat)| {
                let mut hottest: Vec<KeyPeak> = heat
                    .keys
                    .iter()
                    .map(|(key, window)| KeyPeak {
                        key: key.clone(),
                        units_per_second: window.peak,
                        at: Timestamp::from_nanosecond(window.peak_at).unwrap_or(Timestamp::UNIX_EPOCH),
                    })
                    .collect();
                hottest.sort_by(|a, b| {
                    b.units_per_second.total_cmp(&a.units_per_second).then(a.key.cmp(&b.key))
                });
                hottest.truncate(top);
                ScopeHeat {
                    scope: scope.clone(),
                    access: *access,
                    total_units: heat.total,
                    keys: heat.keys.len(),
                    hottest,
                }
            })
            .collect();
        report.sort_by(|a, b| {
            (a.scope != TABLE, &a.scope, a.access).cmp(&(b.scope != TABLE, &b.scope, b.access))
        });
        HeatReport { scopes: report }
    }

    /// Forgets everything: the next report covers what follows.
    pub fn reset(&self) {
        self.lock().clear();
    }
}

/// The heat of every scope that saw requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeatReport {
    pub scopes: Vec<ScopeHeat>,
}

impl HeatReport {
    /// One scope's heat for one kind of access.
    pub fn scope(&self, scope: &str, access: Access) -> Option<&ScopeHeat> {
        self.scopes.iter().find(|s| s.scope == scope && s.access == access)
    }

    /// The scope whose hottest key is nearest its limit.
    pub fn hottest(&self) -> Option<&ScopeHeat> {
        self.scopes.iter().max_by(|a, b| a.utilisation().total_cmp(&b.utilisation()))
    }
}

/// One scope (the table or an index) for reads or writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeHeat {
    pub scope: String,
    pub access: Access,
    pub total_units: f64,
    /// Distinct partition keys seen.
    pub keys: usize,
    /// The hottest keys by peak, hottest first.
    pub hottest: Vec<KeyPeak>,
}

impl ScopeHeat {
    /// The hottest key's peak as a share of the partition limit (1.0 = at the limit).
    pub fn utilisation(&self) -> f64 {
        self.hottest.first().map_or(0.0, |key| key.units_per_second / self.access.limit())
    }
}

/// A key's most units in any one-second window, and when that window ended.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPeak {
    pub key: String,
    pub units_per_second: f64,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::ManualClock;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millisecond(1_795_424_400_000 + millis).unwrap()
    }

    #[test]
    fn partition_heat_peaks_over_sliding_one_second_windows_not_calendar_seconds() {
        let clock = Arc::new(ManualClock::new(at(0)));
        let heat = PartitionHeat::new(clock.clone());
        // 600 units late in one calendar second and 600 early in the next: no calendar
        // second holds more than 600, but the window spanning them holds 1,200.
        for millis in [700, 800, 900, 1_100, 1_200, 1_300] {
            clock.set(at(millis));
            heat.record("by_status", "open", Access::Write, 200.0);
        }
        clock.set(at(2_500));
        heat.record("by_status", "open", Access::Write, 1.0);
        heat.record("by_status", "pending", Access::Write, 3.0);
        heat.record(TABLE, "T#1", Access::Read, 0.5);

        let report = heat.report(5);
        let status = report.scope("by_status", Access::Write).unwrap();
        assert_eq!(status.hottest[0].key, "open");
        assert_eq!(status.hottest[0].units_per_second, 1_200.0);
        assert_eq!(status.hottest[0].at, at(1_300));
        assert_eq!(status.hottest[1].key, "pending");
        assert_eq!((status.total_units, status.keys), (1_204.0, 2));
        assert!((status.utilisation() - 1.2).abs() < 1e-9);
        assert_eq!(report.hottest().map(|s| s.scope.as_str()), Some("by_status"));
        assert_eq!(report.scopes[0].scope, TABLE, "the table first");

        heat.reset();
        assert_eq!(heat.report(5), HeatReport::default());
    }

    #[test]
    fn a_request_a_second_apart_starts_a_new_window() {
        let clock = Arc::new(ManualClock::new(at(0)));
        let heat = PartitionHeat::new(clock.clone());
        heat.record("timers", "b#1", Access::Write, 1.0);
        clock.set(at(1_000));
        heat.record("timers", "b#1", Access::Write, 1.0);
        assert_eq!(heat.report(1).scopes[0].hottest[0].units_per_second, 1.0);
    }
}
