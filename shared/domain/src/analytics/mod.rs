//! The analytics rollup: turns the ticket event log into three PII-free tables that Athena
//! and DuckDB query — `ticket_events` (one row per event), `tickets` (one row per ticket,
//! latest state) and `kpi_hourly` (per hour × channel × team × category) — written per hour
//! window under deterministic names, so a rerun replaces files and never duplicates rows.
//!
//! - [`EventLog`]: reads the log by hour (a sparse time-bucketed index on DynamoDB) and a
//!   ticket's whole trail; [`ExportSink`]: replaces one window's file (Parquet in
//!   `shared/export`, kept out of every other function).
//! - [`facts`]: folds a trail into a ticket's facts and the moments KPIs count;
//!   [`kpi`]: the hourly KPIs; [`pseudonym`]: keyed hashes for customer ids.
//! - [`Rollup`]: the workflow, incremental from a watermark or over a backfill window.

pub mod alerts;
mod event_row;
pub mod facts;
pub mod kpi;
pub mod pseudonym;
pub mod report;
mod rollup;
pub mod rows;
pub mod spikes;

pub use rollup::{
    Progress, Rollup, RollupError, RollupPorts, RollupReport, RollupSettings, WATERMARK, hour_floor,
};
pub use rows::{EventRow, KpiRow, Table, TableRows, TicketRow, Window};

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::model::{TicketEvent, TicketNumber};
use crate::ports::StoreError;

/// Reads the ticket event log for the rollup. Events are bucketed by the hour of their
/// instant (`at`), which is their commit's clock: a run reads only the hours it exports.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Every ticket with an event whose `at` lies in the hour starting at `hour` (it may name
    /// a few more: the rollup keeps only the hour's events of their trails).
    async fn tickets_in_hour(&self, hour: Timestamp) -> Result<BTreeSet<TicketNumber>, StoreError>;
    /// A ticket's whole trail, by `seq`.
    async fn trail(&self, ticket: TicketNumber) -> Result<Vec<TicketEvent>, StoreError>;
}

/// Writing an export file failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The destination failed (S3 throttled, disk full): the run stops and the next one
    /// rewrites the same windows.
    #[error("export destination unavailable: {0}")]
    Unavailable(String),
    /// The rows could not be encoded: a bug, not worth retrying.
    #[error("cannot encode {0}")]
    Encode(String),
}

/// Where the export goes: one file per [`Window`], replaced whole.
#[async_trait]
pub trait ExportSink: Send + Sync {
    /// Replaces the window's file with `rows`; no rows removes the file, so a window that
    /// lost its last row (an erased ticket) leaves nothing stale behind.
    async fn replace(&self, window: &Window, rows: &TableRows) -> Result<(), ExportError>;
}
