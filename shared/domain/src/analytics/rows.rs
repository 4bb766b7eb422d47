//! The rows of the three exported tables and the windows they are written in. Column names
//! never repeat a Hive partition key (`table`, `dt`): a reader would take the directory's
//! value instead of the file's.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// One of the exported tables; its name is the `table=` partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    TicketEvents,
    Tickets,
    KpiHourly,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::TicketEvents, Table::Tickets, Table::KpiHourly];

    pub fn name(self) -> &'static str {
        match self {
            Table::TicketEvents => "ticket_events",
            Table::Tickets => "tickets",
            Table::KpiHourly => "kpi_hourly",
        }
    }
}

/// One file of the export: a table's rows for one UTC hour — events that happened in it,
/// KPIs of it, or tickets created in it. The path depends on nothing else, so a rerun
/// writes the same name and replaces the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub table: Table,
    /// The start of the hour (UTC).
    pub hour: Timestamp,
}

impl Window {
    /// `table=<name>/dt=<YYYY-MM-DD>/part-<HH>.parquet`, Hive partitions Athena projects.
    pub fn path(&self) -> String {
        let civil = self.hour.to_zoned(TimeZone::UTC);
        format!(
            "table={}/dt={:04}-{:02}-{:02}/part-{:02}.parquet",
            self.table.name(),
            civil.year(),
            civil.month(),
            civil.day(),
            civil.hour()
        )
    }
}

/// `ticket_events`: one row per event. No text and no addresses: customers appear as
/// pseudonyms, and `details` is the event's fields without message, contact or job ids,
/// reasons people typed, or tag lists.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub ticket: i64,
    pub seq: i64,
    pub at: Timestamp,
    /// The event kind (`created`, `status`, …): new kinds flow in without a schema change.
    pub event: String,
    /// `customer`, `agent` or `system`.
    pub actor_kind: String,
    /// The agent's login, the customer's pseudonym, or none for the system.
    pub actor: Option<String>,
    /// The event's remaining fields as JSON.
    pub details: String,
}

/// `tickets`: one row per ticket, its latest state, in the window of the hour it was created.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub ticket: i64,
    pub channel: String,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub tier: Option<String>,
    pub status: String,
    /// The requester's pseudonym.
    pub requester: Option<String>,
    pub created_at: Timestamp,
    pub first_reply_at: Option<Timestamp>,
    pub solved_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Business seconds from creation to the first public agent reply (the team's calendar).
    pub first_reply_seconds: Option<i64>,
    /// Business seconds from creation to the last solve, without pauses and solved spells.
    pub resolution_seconds: Option<i64>,
    pub sla_breached: bool,
    /// Solved without any SLA breach; none while unsolved.
    pub sla_met: Option<bool>,
    pub reopen_count: i64,
    /// Public agent replies up to the first solve.
    pub replies_until_solved: Option<i64>,
    /// Solved at the first contact: at most one reply and never reopened.
    pub first_contact_resolution: Option<bool>,
    pub csat: Option<i64>,
    pub complaint: bool,
}

/// `kpi_hourly`: per hour × channel × team × category. Counts come with every rate, so
/// rates over longer spans are sums of counts, never averages of rates.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    pub hour: Timestamp,
    pub channel: String,
    pub team: Option<String>,
    pub category: Option<String>,
    pub created: i64,
    pub solved: i64,
    pub first_replies: i64,
    pub first_reply_p50_seconds: Option<i64>,
    pub first_reply_p90_seconds: Option<i64>,
    pub resolution_p50_seconds: Option<i64>,
    pub resolution_p90_seconds: Option<i64>,
    pub sla_met: i64,
    pub sla_attainment: Option<f64>,
    pub fcr_solved: i64,
    pub fcr_rate: Option<f64>,
    pub csat_answers: i64,
    pub csat_sum: i64,
    pub csat_satisfied: i64,
    pub csat_average: Option<f64>,
    pub csat_satisfied_rate: Option<f64>,
    pub complaints: i64,
    pub complaint_rate: Option<f64>,
}

/// The rows of one window.
#[derive(Debug, Clone, PartialEq)]
pub enum TableRows {
    Events(Vec<EventRow>),
    Tickets(Vec<TicketRow>),
    Kpi(Vec<KpiRow>),
}

impl TableRows {
    pub fn len(&self) -> usize {
        match self {
            TableRows::Events(rows) => rows.len(),
            TableRows::Tickets(rows) => rows.len(),
            TableRows::Kpi(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
