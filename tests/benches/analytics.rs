//! What the analytics export costs: events per second through the rollup, seconds and peak
//! memory to export a year of about 1,000,000 events into Parquet, and DuckDB's time for the
//! KPI queries of infra/athena/queries.sql over that year. Figures are printed; nothing is
//! asserted on time.
//!
//! `cargo bench --workspace --bench analytics` (release; `-- N` for about N events instead):
//! the acceptance test's generator (chat, email and phone, four teams, business hours,
//! pending spells, reopenings, surveys) over 365 days, scaled to N events, read from the
//! in-memory event log and written to a temporary folder. The DuckDB step needs the project
//! venv (scripts/python-env.sh) and is skipped without it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::{Rollup, RollupPorts, RollupSettings};
use omnidesk_domain::memory::{ManualClock, MemoryEventLog, MemoryStore};
use omnidesk_export::FolderSink;
use omnidesk_tests::analytics_month::{duckdb_queries, generate};

/// Events the acceptance month's volume makes per day (scale 1).
const EVENTS_PER_DAY_AT_SCALE_1: f64 = 400.0;

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let target: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000.0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let start: Timestamp = "2025-12-01T00:00:00Z".parse().expect("instant");
    let scale = target / (EVENTS_PER_DAY_AT_SCALE_1 * 365.0);
    let generated = Instant::now();
    let year = generate(2026, start, 365, scale);
    let events = year.events.len();
    println!(
        "generated {events} events of {} tickets over 365 days in {:.1} s (peak {:.0} MiB)",
        year.truth.len(),
        generated.elapsed().as_secs_f64(),
        peak_mib()
    );
    let log = Arc::new(MemoryEventLog::default());
    log.append(year.events.iter().cloned());
    let store = Arc::new(MemoryStore::new());
    let before = peak_mib();
    let dir: PathBuf = std::env::temp_dir().join(format!("omnidesk-analytics-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ports = RollupPorts {
        log,
        customers: None,
        sink: Arc::new(FolderSink::new(&dir)),
        watermarks: store,
        clock: Arc::new(ManualClock::new(year.end + SignedDuration::from_hours(24))),
        alerting: None,
    };
    let rollup = Rollup::new(
        ports,
        RollupSettings::default(),
        Arc::new(year.policies.clone()),
        b"bench-key-0123456789",
    );
    let exported = Instant::now();
    let report = runtime.block_on(rollup.backfill(year.start, year.end, None)).expect("the rollup");
    let seconds = exported.elapsed().as_secs_f64();
    let bytes: u64 = walk(&dir).iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
    println!(
        "exported {} events ({} tickets, {} files, {:.1} MiB of Parquet) in {seconds:.1} s: {:.0} events/s; \
         peak memory {:.0} MiB (before the export, with the generated year in memory twice: {before:.0} MiB)",
        report.events,
        report.tickets,
        report.files,
        bytes as f64 / 1048576.0,
        report.events as f64 / seconds,
        peak_mib()
    );
    let venv = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/omnidesk/venv/bin/python3"));
    match venv.filter(|p| p.exists()) {
        Some(python) => {
            let queried = Instant::now();
            let output = duckdb_queries(&python, &dir);
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            println!(
                "DuckDB: the {} queries of queries.sql over the year in {:.2} s (one process, start included)",
                7,
                queried.elapsed().as_secs_f64()
            );
        }
        None => println!("DuckDB: skipped (no project venv)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
