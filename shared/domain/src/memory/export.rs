//! Twins of the analytics ports: an event log held in a list (tests append late events to
//! it), an export that keeps each window's rows under its file name (and reads its
//! `kpi_hourly` rows back), and an alert sender that keeps what it was sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use jiff::Timestamp;

use crate::analytics::alerts::{AlertError, AlertSender, KpiHistory, SpikeAlert};
use crate::analytics::{EventLog, ExportError, ExportSink, KpiRow, Table, TableRows, Window, hour_floor};
use crate::model::{TicketEvent, TicketNumber};
use crate::ports::{StoreError, TicketStore};

/// The event log as a list; the hour buckets are computed on read, as the DynamoDB index
/// computes them on write.
#[derive(Default)]
pub struct MemoryEventLog {
    events: Mutex<Log>,
}

/// By ticket (the trails) and by hour (the index), as the table keeps them.
#[derive(Default)]
struct Log {
    by_ticket: BTreeMap<TicketNumber, Vec<TicketEvent>>,
    by_hour: BTreeMap<Timestamp, Vec<TicketEvent>>,
}

impl MemoryEventLog {
    pub fn append(&self, events: impl IntoIterator<Item = TicketEvent>) {
        let mut log = self.lock();
        for event in events {
            log.by_hour.entry(hour_floor(event.at)).or_default().push(event.clone());
            log.by_ticket.entry(event.ticket).or_default().push(event);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl EventLog for MemoryEventLog {
    async fn tickets_in_hour(&self, hour: Timestamp) -> Result<BTreeSet<TicketNumber>, StoreError> {
        Ok(self.lock().by_hour.get(&hour).into_iter().flatten().map(|e| e.ticket).collect())
    }

    async fn trail(&self, ticket: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        let mut trail = self.lock().by_ticket.get(&ticket).cloned().unwrap_or_default();
        trail.sort_by_key(|e| e.seq);
        Ok(trail)
    }
}

/// The local desk in memory reads its own store's events.
#[async_trait]
impl EventLog for super::MemoryStore {
    async fn tickets_in_hour(&self, hour: Timestamp) -> Result<BTreeSet<TicketNumber>, StoreError> {
        Ok(self.all_events().into_iter().filter(|e| hour_floor(e.at) == hour).map(|e| e.ticket).collect())
    }

    async fn trail(&self, ticket: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        self.events(ticket).await
    }
}

/// Each window's rows by file name; a failure can be injected after a number of writes.
#[derive(Default)]
pub struct MemoryExport {
    files: Mutex<BTreeMap<String, TableRows>>,
    fail_after: Mutex<Option<usize>>,
}

impl MemoryExport {
    pub fn files(&self) -> BTreeMap<String, TableRows> {
        self.files.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The next `writes` replacements succeed, then every one fails (a run killed halfway).
    pub fn fail_after(&self, writes: Option<usize>) {
        *self.fail_after.lock().unwrap_or_else(|p| p.into_inner()) = writes;
    }
}

#[async_trait]
impl ExportSink for MemoryExport {
    async fn replace(&self, window: &Window, rows: &TableRows) -> Result<(), ExportError> {
        {
            let mut left = self.fail_after.lock().unwrap_or_else(|p| p.into_inner());
            match left.as_mut() {
                Some(0) => return Err(ExportError::Unavailable(String::from("injected failure"))),
                Some(n) => *n -= 1,
                None => {}
            }
        }
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if rows.is_empty() {
            files.remove(&window.path());
        } else {
            files.insert(window.path(), rows.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl KpiHistory for MemoryExport {
    async fn kpi_rows(&self, hour: Timestamp) -> Result<Vec<KpiRow>, ExportError> {
        let path = Window { table: Table::KpiHourly, hour }.path();
        match self.files.lock().unwrap_or_else(|p| p.into_inner()).get(&path) {
            Some(TableRows::Kpi(rows)) => Ok(rows.clone()),
            _ => Ok(Vec::new()),
        }
    }
}

/// Keeps every alert it is sent; can be told to fail (a topic that is down).
pub struct MemoryAlerts {
    name: &'static str,
    sent: Mutex<Vec<SpikeAlert>>,
    failing: Mutex<bool>,
}

impl MemoryAlerts {
    /// A sender remembered under `name` (each sender's deliveries are remembered apart).
    pub fn named(name: &'static str) -> Self {
        Self { name, sent: Mutex::new(Vec::new()), failing: Mutex::new(false) }
    }

    pub fn sent(&self) -> Vec<SpikeAlert> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// While `failing`, every send fails as unavailable.
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = failing;
    }
}

impl Default for MemoryAlerts {
    fn default() -> Self {
        Self::named("memory")
    }
}

#[async_trait]
impl AlertSender for MemoryAlerts {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn send(&self, alert: &SpikeAlert) -> Result<(), AlertError> {
        if *self.failing.lock().unwrap_or_else(|p| p.into_inner()) {
            return Err(AlertError::Unavailable(String::from("injected failure")));
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(alert.clone());
        Ok(())
    }
}
