//! The analytics export on the local desk: with `--export DIR` the rollup writes Parquet
//! into DIR on the same 15-minute schedule as `analytics-rollup` on AWS (`[local]
//! export_interval_ms`), and `POST /local/export/run` runs it now — with `?since=<RFC 3339>`
//! as a backfill from then to now. DuckDB reads DIR as it is (README "Analytics").

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use axum::{Json, Router};
use jiff::Timestamp;
use omnidesk_app::analytics_rollup;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::error::ApiError;
use omnidesk_domain::analytics::{Rollup, RollupPorts, RollupReport};
use omnidesk_domain::ports::Clock;
use omnidesk_export::FolderSink;
use serde::Deserialize;

use crate::{DeskPorts, LocalDesk};

/// The rollup into a folder.
pub struct Analytics {
    pub rollup: Rollup,
    pub dir: PathBuf,
}

impl Analytics {
    /// The rollup of `config`'s `[analytics]` section over `ports`, writing into `dir`.
    pub fn build(
        config: &DeskConfig,
        ports: &DeskPorts,
        clock: Arc<dyn Clock>,
        dir: &Path,
    ) -> Result<Self, String> {
        let rollup_ports = RollupPorts {
            log: ports.event_log.clone(),
            customers: Some(ports.customers.clone()),
            sink: Arc::new(FolderSink::new(dir)),
            watermarks: ports.watermarks.clone(),
            clock,
        };
        match analytics_rollup::rollup(config, rollup_ports).map_err(|e| e.to_string())? {
            Some(rollup) => Ok(Self { rollup, dir: dir.to_owned() }),
            None => {
                Err(String::from("--export needs an [analytics] section with a pseudonym_key in the config"))
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct RunQuery {
    #[serde(default)]
    since: Option<Timestamp>,
}

pub fn router(desk: Arc<LocalDesk>) -> Router {
    Router::new().route("/local/export/run", post(run)).with_state(desk)
}

async fn run(
    State(desk): State<Arc<LocalDesk>>,
    Query(query): Query<RunQuery>,
) -> Result<Json<RollupReport>, ApiError> {
    let Some(analytics) = &desk.analytics else {
        return Err(ApiError::not_found("the desk runs without --export DIR"));
    };
    let report = match query.since {
        None => analytics.rollup.run().await,
        Some(since) => analytics.rollup.backfill(since, desk.clock.now(), None).await,
    };
    report.map(Json).map_err(|e| ApiError::unavailable(e.to_string()))
}

/// The schedule: one run every `every`.
pub async fn export_forever(desk: Arc<LocalDesk>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(analytics) = &desk.analytics else { return };
        if let Err(error) = analytics.rollup.run().await {
            tracing::warn!(%error, "analytics.run_failed");
        }
    }
}
