//! The rollup workflow: which hours to export, reading them from the event log, and writing
//! each window's file. A scheduled run exports from its watermark (less a lookback, so an
//! event committed just after its hour was read still lands) to a little before now; a
//! backfill exports any window and leaves the watermark alone. Every file is a function of
//! the log and the run's end, so a rerun — after a crash halfway, or twice by mistake —
//! writes the same files under the same names.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt, stream};
use jiff::{SignedDuration, Timestamp};

use super::alerts::{Fresh, SpikeAlerting};
use super::event_row::event_row;
use super::facts::{self, Moment, MomentKind, TicketFacts};
use super::kpi;
use super::pseudonym::Pseudonyms;
use super::rows::{Table, TableRows, TicketRow, Window};
use super::{EventLog, ExportError, ExportSink};
use crate::model::{CustomerId, TicketEvent, TicketNumber};
use crate::ports::{Clock, CustomerStore, StoreError, Watermarks};
use crate::sla::SlaPolicies;

/// The rollup's watermark: the end of the last range a scheduled run exported.
pub const WATERMARK: &str = "analytics-rollup";
/// The first hour the export holds, as far as spike baselines go: set by the first run that
/// alerts, moved back by a backfill.
pub const HISTORY: &str = "analytics-history";
const HOUR: SignedDuration = SignedDuration::from_hours(1);
/// Hours exported per step: a backfill reports progress and bounds memory per day.
const HOURS_PER_STEP: usize = 24;
/// Trails read at the same time: an hour at peak names about 40,000 tickets.
const TRAIL_READS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("invalid window: {0}")]
    Window(String),
    /// The export is written and the watermark moved; sending alerts failed, and the next
    /// run that still reads the hour retries them.
    #[error("spike alerts not sent: {0}")]
    Alerts(String),
}

#[derive(Debug, Clone)]
pub struct RollupSettings {
    /// Events younger than this are left for the next run: commits in flight settle.
    pub settle: Duration,
    /// How far behind its watermark a scheduled run starts again.
    pub lookback: Duration,
    /// Where the first scheduled run starts (before it, use a backfill).
    pub first_run: Duration,
    /// The most one scheduled run exports; a run far behind catches up over several.
    pub max_span: Duration,
    /// A ticket with one of these as category or tag is a complaint (any case).
    pub complaint_markers: Vec<String>,
}

impl Default for RollupSettings {
    fn default() -> Self {
        Self {
            settle: Duration::from_secs(120),
            lookback: Duration::from_secs(3600),
            first_run: Duration::from_secs(24 * 3600),
            max_span: Duration::from_secs(7 * 24 * 3600),
            complaint_markers: vec![String::from("complaint")],
        }
    }
}

pub struct RollupPorts {
    pub log: Arc<dyn EventLog>,
    /// For the requester's tier; none: the column stays empty.
    pub customers: Option<Arc<dyn CustomerStore>>,
    pub sink: Arc<dyn ExportSink>,
    pub watermarks: Arc<dyn Watermarks>,
    pub clock: Arc<dyn Clock>,
    /// Spike alerts after each scheduled run; none: spikes are only marked on the report.
    pub alerting: Option<SpikeAlerting>,
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RollupReport {
    pub hours: usize,
    pub events: usize,
    pub tickets: usize,
    /// Files written or removed.
    pub files: usize,
    /// Spike alerts delivered (one per spike and destination).
    pub alerts: usize,
}

/// Told after every step of a run (a day of hours).
pub trait Progress: Send + Sync {
    fn advanced(&self, hours_done: usize, hours_total: usize);
}

pub struct Rollup {
    ports: RollupPorts,
    settings: RollupSettings,
    policies: Arc<SlaPolicies>,
    pseudonyms: Pseudonyms,
}

/// The start of the UTC hour holding `at`.
pub fn hour_floor(at: Timestamp) -> Timestamp {
    let second = at.as_second().div_euclid(3600) * 3600;
    Timestamp::from_second(second).unwrap_or(at)
}

fn later(at: Timestamp, by: Duration) -> Timestamp {
    SignedDuration::try_from(by).ok().and_then(|d| at.checked_add(d).ok()).unwrap_or(Timestamp::MAX)
}

fn earlier(at: Timestamp, by: Duration) -> Timestamp {
    SignedDuration::try_from(by).ok().and_then(|d| at.checked_sub(d).ok()).unwrap_or(Timestamp::MIN)
}

/// What a run has read and folded so far.
#[derive(Default)]
struct Run {
    /// Where trails are folded to.
    horizon: Timestamp,
    report: RollupReport,
    folded: HashMap<TicketNumber, Option<(TicketFacts, Vec<Moment>)>>,
    /// The trails the current step has read: each is read once per step, for its events in
    /// every hour of the step and for its facts.
    trails: HashMap<TicketNumber, Vec<TicketEvent>>,
    /// Creation hours of tickets touched by the run: their `tickets` files are rewritten.
    created_hours: BTreeSet<Timestamp>,
    tiers: HashMap<CustomerId, Option<String>>,
    /// Kept only when the run alerts.
    fresh: Option<Fresh>,
}

impl Rollup {
    pub fn new(ports: RollupPorts, settings: RollupSettings, policies: Arc<SlaPolicies>, key: &[u8]) -> Self {
        Self { ports, settings, policies, pseudonyms: Pseudonyms::new(key) }
    }

    pub fn settings(&self) -> &RollupSettings {
        &self.settings
    }

    /// The scheduled run: from the watermark (less the lookback) to now less the settle
    /// time, then the watermark moves to where it stopped.
    pub async fn run(&self) -> Result<RollupReport, RollupError> {
        let end = earlier(self.ports.clock.now(), self.settings.settle);
        let mark = self.ports.watermarks.watermark(WATERMARK).await?;
        let from = match mark {
            Some(mark) => earlier(mark, self.settings.lookback),
            None => earlier(end, self.settings.first_run),
        };
        let to = end.min(later(from, self.settings.max_span));
        if to <= from {
            return Ok(RollupReport::default());
        }
        let alerting = self.ports.alerting.as_ref();
        let (mut report, fresh) = self.export(from, to, None, alerting.is_some()).await?;
        if mark.is_none_or(|mark| mark < to) {
            self.ports.watermarks.advance_watermark(WATERMARK, mark, to).await?;
        }
        if let (Some(alerting), Some(fresh)) = (alerting, fresh) {
            report.alerts = self.alert(alerting, from, to, &fresh).await?;
        }
        tracing::info!(
            hours = report.hours,
            events = report.events,
            files = report.files,
            alerts = report.alerts,
            "analytics.rolled_up"
        );
        Ok(report)
    }

    /// Sends the spikes that start in the run's hours.
    async fn alert(
        &self,
        alerting: &SpikeAlerting,
        from: Timestamp,
        to: Timestamp,
        fresh: &Fresh,
    ) -> Result<usize, RollupError> {
        let first_hour = self.history_from(from).await?;
        let hours: Vec<Timestamp> = fresh.kpi.keys().copied().filter(|h| *h < to).collect();
        let alerts = alerting.spikes(&hours, fresh, first_hour).await?;
        let outcome = alerting.send(&alerts, self.ports.clock.now()).await?;
        if !outcome.failed.is_empty() {
            return Err(RollupError::Alerts(outcome.failed.join("; ")));
        }
        Ok(outcome.sent)
    }

    /// The start of the history spike baselines may use, moved back to `from`'s hour when the
    /// export now starts earlier.
    async fn history_from(&self, from: Timestamp) -> Result<Timestamp, RollupError> {
        let from = hour_floor(from);
        let mark = self.ports.watermarks.watermark(HISTORY).await?;
        match mark {
            Some(mark) if mark <= from => Ok(mark),
            _ => {
                self.ports.watermarks.advance_watermark(HISTORY, mark, from).await?;
                Ok(from)
            }
        }
    }

    /// Exports every hour overlapping `[from, to)` (to at most now less the settle time):
    /// the files of those hours, and the `tickets` files of every ticket with an event in
    /// them.
    pub async fn backfill(
        &self,
        from: Timestamp,
        to: Timestamp,
        progress: Option<&dyn Progress>,
    ) -> Result<RollupReport, RollupError> {
        let to = to.min(earlier(self.ports.clock.now(), self.settings.settle));
        if to <= from {
            return Err(RollupError::Window(format!("{from} is not before {to}")));
        }
        let (report, _) = self.export(from, to, progress, false).await?;
        if self.ports.alerting.is_some() {
            // The baselines may now reach back this far.
            self.history_from(from).await?;
        }
        Ok(report)
    }

    async fn export(
        &self,
        from: Timestamp,
        to: Timestamp,
        progress: Option<&dyn Progress>,
        alerting: bool,
    ) -> Result<(RollupReport, Option<Fresh>), RollupError> {
        let mut hours = Vec::new();
        let mut hour = hour_floor(from);
        while hour < to {
            hours.push(hour);
            hour = hour.checked_add(HOUR).map_err(|e| RollupError::Window(e.to_string()))?;
        }
        // Trails fold to now (less the settle time), whatever the window: a `tickets` row is
        // the ticket's latest state, and a moment depends only on what came before it.
        let horizon = earlier(self.ports.clock.now(), self.settings.settle).max(to);
        let mut run = Run { horizon, fresh: alerting.then(Fresh::default), ..Run::default() };
        for (step, chunk) in hours.chunks(HOURS_PER_STEP).enumerate() {
            self.export_hours(chunk, to, &mut run).await?;
            run.trails.clear();
            if let Some(progress) = progress {
                progress.advanced((step * HOURS_PER_STEP + chunk.len()).min(hours.len()), hours.len());
            }
        }
        let created_hours = std::mem::take(&mut run.created_hours);
        for hour in created_hours {
            self.export_tickets(hour, &mut run).await?;
        }
        run.report.hours = hours.len();
        Ok((run.report, run.fresh))
    }

    /// The `ticket_events` and `kpi_hourly` files of `hours`.
    async fn export_hours(
        &self,
        hours: &[Timestamp],
        to: Timestamp,
        run: &mut Run,
    ) -> Result<(), RollupError> {
        let mut by_hour = BTreeMap::new();
        for &hour in hours {
            let end = hour.checked_add(HOUR).map_err(|e| RollupError::Window(e.to_string()))?;
            let tickets = self.ports.log.tickets_in_hour(hour).await?;
            let unread: Vec<TicketNumber> =
                tickets.iter().copied().filter(|n| !run.trails.contains_key(n)).collect();
            run.trails.extend(self.read_trails(unread).await?);
            let mut events: Vec<TicketEvent> = tickets
                .iter()
                .filter_map(|n| run.trails.get(n))
                .flatten()
                .filter(|e| e.at >= hour && e.at < end && e.at < to)
                .cloned()
                .collect();
            events.sort_by_key(|e| (e.at, e.ticket, e.seq));
            let touched: BTreeSet<TicketNumber> = events.iter().map(|e| e.ticket).collect();
            for number in touched {
                // Out of the map while it folds, which needs the run.
                if let Some(trail) = run.trails.remove(&number) {
                    self.fold(number, &trail, run);
                    run.trails.insert(number, trail);
                }
            }
            run.report.events += events.len();
            by_hour.insert(hour, events);
        }
        for (hour, events) in by_hour {
            let rows = events.iter().map(|e| event_row(e, &self.pseudonyms)).collect();
            self.write(Window { table: Table::TicketEvents, hour }, TableRows::Events(rows), run).await?;
            let end = hour.checked_add(HOUR).map_err(|e| RollupError::Window(e.to_string()))?;
            let tickets: BTreeSet<TicketNumber> = events.iter().map(|e| e.ticket).collect();
            let moments: Vec<&Moment> = tickets
                .iter()
                .filter_map(|n| run.folded.get(n).and_then(Option::as_ref))
                .flat_map(|(_, moments)| moments.iter().filter(|m| m.at >= hour && m.at < end))
                .collect();
            let rows = kpi::hourly(hour, moments.iter().copied());
            if let Some(fresh) = run.fresh.as_mut() {
                for m in moments.iter().filter(|m| matches!(m.kind, MomentKind::Created)) {
                    fresh.created(hour, m.ticket, &m.channel, m.category.as_deref());
                }
                fresh.kpi.insert(hour, rows.clone());
            }
            self.write(Window { table: Table::KpiHourly, hour }, TableRows::Kpi(rows), run).await?;
        }
        Ok(())
    }

    /// The `tickets` file of the tickets created in the hour starting at `hour`.
    async fn export_tickets(&self, hour: Timestamp, run: &mut Run) -> Result<(), RollupError> {
        let tickets = self.ports.log.tickets_in_hour(hour).await?;
        let unfolded: Vec<TicketNumber> =
            tickets.iter().copied().filter(|n| !run.folded.contains_key(n)).collect();
        for (number, trail) in self.read_trails(unfolded).await? {
            self.fold(number, &trail, run);
        }
        let mut rows = Vec::new();
        for number in tickets {
            let Some(Some((facts, _))) = run.folded.get(&number) else { continue };
            // Folded to the horizon, so a creation past it is not there.
            if facts.created_at.map(hour_floor) != Some(hour) {
                continue;
            }
            let facts = facts.clone();
            let tier = self.tier(facts.requester.as_ref(), run).await?;
            rows.push(self.ticket_row(&facts, tier));
        }
        run.report.tickets += rows.len();
        self.write(Window { table: Table::Tickets, hour }, TableRows::Tickets(rows), run).await
    }

    /// The trails of `tickets`, sorted by `seq`, [`TRAIL_READS`] read at a time.
    async fn read_trails(
        &self,
        tickets: Vec<TicketNumber>,
    ) -> Result<Vec<(TicketNumber, Vec<TicketEvent>)>, RollupError> {
        let log = &self.ports.log;
        let trails = stream::iter(tickets)
            .map(|number| async move {
                let mut trail = log.trail(number).await?;
                trail.sort_by_key(|e| e.seq);
                Ok::<_, StoreError>((number, trail))
            })
            .buffer_unordered(TRAIL_READS)
            .try_collect()
            .await?;
        Ok(trails)
    }

    /// Folds a ticket's trail, once per run.
    fn fold(&self, number: TicketNumber, trail: &[TicketEvent], run: &mut Run) {
        if run.folded.contains_key(&number) {
            return;
        }
        let folded = facts::fold(trail, run.horizon, &self.policies, &self.settings.complaint_markers);
        if let Some(created) = folded.as_ref().and_then(|(facts, _)| facts.created_at) {
            run.created_hours.insert(hour_floor(created));
        }
        run.folded.insert(number, folded);
    }

    async fn tier(
        &self,
        requester: Option<&CustomerId>,
        run: &mut Run,
    ) -> Result<Option<String>, RollupError> {
        let (Some(customers), Some(id)) = (&self.ports.customers, requester) else { return Ok(None) };
        if let Some(tier) = run.tiers.get(id) {
            return Ok(tier.clone());
        }
        let tier = customers.customer(id).await?.and_then(|c| c.tier);
        run.tiers.insert(id.clone(), tier.clone());
        Ok(tier)
    }

    fn ticket_row(&self, facts: &TicketFacts, tier: Option<String>) -> TicketRow {
        let created_at = facts.created_at.unwrap_or(Timestamp::UNIX_EPOCH);
        TicketRow {
            ticket: i64::try_from(facts.number.0).unwrap_or(i64::MAX),
            channel: facts.channel_name().to_owned(),
            team: facts.team.clone(),
            agent: facts.agent.clone(),
            category: facts.category.clone(),
            priority: facts.priority.as_str().to_owned(),
            tier,
            status: facts.status.as_str().to_owned(),
            requester: facts.requester.as_ref().map(|id| self.pseudonyms.of(id.as_str())),
            created_at,
            first_reply_at: facts.first_reply_at,
            solved_at: facts.solved_at,
            updated_at: facts.updated_at.unwrap_or(created_at),
            first_reply_seconds: facts.first_reply_seconds,
            resolution_seconds: facts.resolution_seconds,
            sla_breached: facts.sla_breached,
            sla_met: facts.sla_met(),
            reopen_count: i64::from(facts.reopen_count),
            replies_until_solved: facts.replies_until_solved.map(i64::from),
            first_contact_resolution: facts.first_contact_resolution(),
            csat: facts.csat.map(i64::from),
            complaint: facts.is_complaint(&self.settings.complaint_markers),
        }
    }

    async fn write(&self, window: Window, rows: TableRows, run: &mut Run) -> Result<(), RollupError> {
        self.ports.sink.replace(&window, &rows).await?;
        run.report.files += 1;
        Ok(())
    }
}
