//! `omnidesk-local export --since …`: a backfill of the analytics export from a desk's table
//! (moto or AWS through `--aws-endpoint`), with a progress bar. A desk in memory keeps its
//! events in its own process: it exports with `--export DIR` and `POST /local/export/run`.

use std::path::Path;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use omnidesk_app::config::DeskConfig;
use omnidesk_domain::analytics::Progress;
use omnidesk_domain::ports::Clock;
use omnidesk_domain::system::SystemClock;
use omnidesk_local::analytics::Analytics;
use omnidesk_local::backend::{self, DeskPorts};
use omnidesk_local::provision::ProvisionOptions;

use crate::ServeArgs;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn advanced(&self, hours_done: usize, hours_total: usize) {
        self.0.set_length(hours_total as u64);
        self.0.set_position(hours_done as u64);
    }
}

/// An RFC 3339 instant, or a day (its UTC midnight).
fn instant(text: &str, field: &str) -> Result<Timestamp, String> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let day: Date = text.parse().map_err(|_| format!("{field}: use 2026-11-01 or 2026-11-01T00:00:00Z"))?;
    day.to_zoned(TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| format!("{field}: {e}"))
}

pub async fn backfill(
    config: &DeskConfig,
    serve: &ServeArgs,
    since: &str,
    until: Option<&str>,
    dir: &Path,
) -> Result<(), String> {
    let clock = Arc::new(SystemClock);
    let from = instant(since, "--since")?;
    let to = match until {
        Some(until) => instant(until, "--until")?,
        None => clock.now(),
    };
    let Some(endpoint) = &serve.aws_endpoint else {
        return Err(String::from(
            "export reads a desk's table: give --aws-endpoint URL before `export` (a desk in memory \
             exports with --export DIR and POST /local/export/run?since=…)",
        ));
    };
    let sdk = backend::sdk_for_endpoint(endpoint).await;
    let options = ProvisionOptions { prefix: serve.aws_prefix.clone(), visibility_timeout: None };
    let (ports, _) =
        DeskPorts::aws(&omnidesk_aws::Clients::new(&sdk), &options).await.map_err(|e| e.to_string())?;
    let analytics = Analytics::build(config, &ports, clock, dir)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} hours ({eta} left)")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let progress = Bar(bar);
    let report = analytics.rollup.backfill(from, to, Some(&progress)).await.map_err(|e| e.to_string())?;
    progress.0.finish();
    println!(
        "exported {} hours: {} events, {} tickets, {} files written or removed in {}",
        report.hours,
        report.events,
        report.tickets,
        report.files,
        dir.display()
    );
    Ok(())
}
