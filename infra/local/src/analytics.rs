//! The analytics export on the local desk: with `--export DIR` the rollup writes Parquet
//! into DIR on the same 15-minute schedule as `analytics-rollup` on AWS (`[local]
//! export_interval_ms`), and `POST /local/export/run` runs it now — with `?since=<RFC 3339>`
//! as a backfill from then to now. DuckDB reads DIR as it is (README "Analytics"). After each
//! run the KPI report of the last 30 days is written beside the export (`DIR/report.html`)
//! and `GET /local/report` serves it. Spike alerts go to the in-memory twin of the ops topic
//! (logged as `analytics.spike_alerted`) and, with `[analytics.spikes] notify_webhook`, through
//! the outbound queue to that webhook, as on AWS.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use omnidesk_app::analytics_rollup::{self, AlertWiring};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::error::ApiError;
use omnidesk_domain::analytics::spikes::SpikeRules;
use omnidesk_domain::analytics::{Rollup, RollupPorts, RollupReport, report};
use omnidesk_domain::memory::MemoryAlerts;
use omnidesk_domain::ports::Clock;
use omnidesk_export::{FolderSink, read_kpis};
use serde::Deserialize;

use crate::{DeskPorts, LocalDesk};

/// The rollup into a folder.
pub struct Analytics {
    pub rollup: Rollup,
    pub dir: PathBuf,
    /// The ops topic's twin: every spike alert sent.
    pub alerts: Arc<MemoryAlerts>,
    rules: SpikeRules,
}

impl Analytics {
    /// The rollup of `config`'s `[analytics]` section over `ports`, writing into `dir`.
    pub fn build(
        config: &DeskConfig,
        ports: &DeskPorts,
        clock: Arc<dyn Clock>,
        dir: &Path,
    ) -> Result<Self, String> {
        let sink = Arc::new(FolderSink::new(dir));
        let alerts = Arc::new(MemoryAlerts::named("sns"));
        let wiring = AlertWiring {
            history: sink.clone(),
            sent: ports.idempotency.clone(),
            ops: Some(alerts.clone()),
            outbound: Some(ports.outbound.clone()),
            clock: clock.clone(),
        };
        let rollup_ports = RollupPorts {
            log: ports.event_log.clone(),
            customers: Some(ports.customers.clone()),
            sink,
            watermarks: ports.watermarks.clone(),
            clock,
            alerting: analytics_rollup::spike_alerting(config, wiring),
        };
        let rules = config.analytics.as_ref().map(|a| a.spikes.rules()).unwrap_or_default();
        match analytics_rollup::rollup(config, rollup_ports).map_err(|e| e.to_string())? {
            Some(rollup) => Ok(Self { rollup, dir: dir.to_owned(), alerts, rules }),
            None => {
                Err(String::from("--export needs an [analytics] section with a pseudonym_key in the config"))
            }
        }
    }

    /// The KPI report of the 30 days before `now`, from the `kpi_hourly` files in the folder.
    pub fn report(&self, now: Timestamp) -> Result<String, String> {
        let mut rows = Vec::new();
        let table = self.dir.join("table=kpi_hourly");
        let days = match std::fs::read_dir(&table) {
            Ok(days) => days.flatten().map(|d| d.path()).collect::<Vec<_>>(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("{}: {e}", table.display())),
        };
        for day in days {
            for file in std::fs::read_dir(&day).map_err(|e| format!("{}: {e}", day.display()))?.flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "parquet") {
                    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    rows.extend(read_kpis(&bytes).map_err(|e| format!("{}: {e}", path.display()))?);
                }
            }
        }
        Ok(report::render(&rows, now, &self.rules))
    }

    /// Writes `report.html` beside the export (a temporary file renamed, as the tables are).
    pub fn write_report(&self, now: Timestamp) -> Result<(), String> {
        let html = self.report(now)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let path = self.dir.join("report.html");
        let partial = self.dir.join("report.html.partial");
        std::fs::write(&partial, html).map_err(|e| format!("{}: {e}", partial.display()))?;
        std::fs::rename(&partial, &path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// One scheduled run, then the report.
    pub async fn run(&self, now: Timestamp) -> Result<RollupReport, String> {
        let report = self.rollup.run().await.map_err(|e| e.to_string())?;
        self.write_report(now)?;
        Ok(report)
    }
}

#[derive(Debug, Default, Deserialize)]
struct RunQuery {
    #[serde(default)]
    since: Option<Timestamp>,
}

pub fn router(desk: Arc<LocalDesk>) -> Router {
    Router::new()
        .route("/local/export/run", post(run))
        .route("/local/report", get(show_report))
        .with_state(desk)
}

async fn show_report(State(desk): State<Arc<LocalDesk>>) -> Result<impl IntoResponse, ApiError> {
    let Some(analytics) = &desk.analytics else {
        return Err(ApiError::not_found("the desk runs without --export DIR"));
    };
    let html = analytics.report(desk.clock.now()).map_err(ApiError::unavailable)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Inline styles and SVG only: nothing to load, nothing to run.
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    ))
}

async fn run(
    State(desk): State<Arc<LocalDesk>>,
    Query(query): Query<RunQuery>,
) -> Result<Json<RollupReport>, ApiError> {
    let Some(analytics) = &desk.analytics else {
        return Err(ApiError::not_found("the desk runs without --export DIR"));
    };
    let now = desk.clock.now();
    let report = match query.since {
        None => analytics.rollup.run().await,
        Some(since) => analytics.rollup.backfill(since, now, None).await,
    }
    .map_err(|e| ApiError::unavailable(e.to_string()))?;
    analytics.write_report(now).map_err(ApiError::unavailable)?;
    Ok(Json(report))
}

/// The schedule: one run every `every`.
pub async fn export_forever(desk: Arc<LocalDesk>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(analytics) = &desk.analytics else { return };
        if let Err(error) = analytics.run(desk.clock.now()).await {
            tracing::warn!(%error, "analytics.run_failed");
        }
    }
}
