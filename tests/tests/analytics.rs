//! The analytics rollup over a seeded month of events (issue 16): the KPIs DuckDB computes
//! with infra/athena/queries.sql from the exported Parquet equal the generator's own; reruns,
//! late events and a run killed halfway write the same files; no personal data leaves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::{EventLog, ExportSink, Rollup, RollupPorts, RollupSettings, hour_floor};
use omnidesk_domain::memory::{ManualClock, MemoryEventLog, MemoryExport, MemoryStore};
use omnidesk_domain::model::{Actor, EventKind, TicketEvent, TicketNumber};
use omnidesk_domain::ports::{CustomerStore, StoreError};
use omnidesk_export::{FolderSink, text_values};
use omnidesk_tests::analytics_month::{Month, duckdb_queries, expected_kpis, generate, same_results};

const KEY: &[u8] = b"analytics-test-pseudonym-key-0123";

fn month_start() -> Timestamp {
    "2026-11-02T00:00:00Z".parse().expect("an instant")
}

/// Thirty days, about 1,100 tickets and 14,000 events: quick in a debug build.
fn month() -> Month {
    generate(16, month_start(), 30, 1.0)
}

struct Desk {
    log: Arc<MemoryEventLog>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
}

async fn desk(month: &Month) -> Desk {
    let log = Arc::new(MemoryEventLog::default());
    log.append(month.events.iter().cloned());
    let store = Arc::new(MemoryStore::new());
    for customer in &month.customers {
        store.create(customer).await.expect("a fresh customer");
    }
    // A day after the month: every event has settled.
    let clock = Arc::new(ManualClock::new(month.end + SignedDuration::from_hours(24)));
    Desk { log, store, clock }
}

fn rollup(desk: &Desk, month: &Month, sink: Arc<dyn ExportSink>) -> Rollup {
    rollup_on(desk.log.clone(), desk, month, sink)
}

fn rollup_on(log: Arc<dyn EventLog>, desk: &Desk, month: &Month, sink: Arc<dyn ExportSink>) -> Rollup {
    let ports = RollupPorts {
        log,
        customers: Some(desk.store.clone()),
        sink,
        watermarks: desk.store.clone(),
        clock: desk.clock.clone(),
        alerting: None,
    };
    Rollup::new(ports, RollupSettings::default(), Arc::new(month.policies.clone()), KEY)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("omnidesk-analytics-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every file under `root` (relative path → bytes).
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("a readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path.strip_prefix(root).expect("under root").display().to_string();
                out.insert(name, std::fs::read(&path).expect("a readable file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    if root.exists() {
        walk(root, root, &mut out);
    }
    out
}

/// The project venv's Python with DuckDB, or `None` (then the DuckDB check is skipped,
/// unless the test script asked for every tier).
fn duckdb_python() -> Option<PathBuf> {
    let venv = std::env::var_os("OMNIDESK_VENV")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/omnidesk/venv")))?;
    let python = venv.join("bin/python3");
    let works = Command::new(&python)
        .args(["-c", "import duckdb, pytz"])
        .status()
        .is_ok_and(|status| status.success());
    if works {
        return Some(python);
    }
    assert!(
        std::env::var_os(omnidesk_tests::REQUIRE_MOTO_ENV).is_none(),
        "DuckDB is not installed in the project venv ({}): run scripts/python-env.sh",
        venv.display()
    );
    eprintln!("skipping the DuckDB check: no venv with duckdb at {}", venv.display());
    None
}

#[tokio::test]
async fn month_of_events_kpis_queried_by_duckdb_equal_the_generators_own() {
    let month = month();
    assert!(month.truth.len() > 800, "{} tickets", month.truth.len());
    let desk = desk(&month).await;
    let dir = scratch("kpis");
    let sink = Arc::new(FolderSink::new(&dir));
    let report =
        rollup(&desk, &month, sink).backfill(month.start, month.end, None).await.expect("the rollup");
    assert_eq!(report.events, month.events.len());
    assert_eq!(report.tickets, month.truth.len());
    let Some(python) = duckdb_python() else { return };
    let output = duckdb_queries(&python, &dir);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let actual: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON from the script");
    let expected = expected_kpis(&month);
    for (name, want) in expected.as_object().expect("an object") {
        let got = actual.get(name).unwrap_or_else(|| panic!("queries.sql has no query {name}"));
        assert!(same_results(got, want), "{name}:\n duckdb: {got}\n   rust: {want}");
    }
    assert_eq!(actual.as_object().map(|o| o.len()), expected.as_object().map(|o| o.len()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The event log, counting the trails read, by ticket.
struct CountingLog {
    inner: Arc<MemoryEventLog>,
    reads: Mutex<HashMap<TicketNumber, usize>>,
}

#[async_trait]
impl EventLog for CountingLog {
    async fn tickets_in_hour(&self, hour: Timestamp) -> Result<BTreeSet<TicketNumber>, StoreError> {
        self.inner.tickets_in_hour(hour).await
    }

    async fn trail(&self, ticket: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        *self.reads.lock().expect("counter").entry(ticket).or_default() += 1;
        self.inner.trail(ticket).await
    }
}

/// On DynamoDB a trail is a Query: reading it once per hour, again to fold it and again for
/// the `tickets` file tripled the rollup's reads of a busy hour.
#[tokio::test]
async fn a_backfill_reads_a_tickets_trail_once_per_day_it_has_events_in() {
    let month = generate(7, month_start(), 7, 1.0);
    let desk = desk(&month).await;
    let log = Arc::new(CountingLog { inner: desk.log.clone(), reads: Mutex::default() });
    let rollup = rollup_on(log.clone(), &desk, &month, Arc::new(MemoryExport::default()));
    rollup.backfill(month.start, month.end, None).await.expect("the rollup");
    // The rollup works a day of hours at a time, from the window's first hour.
    let first = hour_floor(month.start);
    let mut days: HashMap<TicketNumber, BTreeSet<i64>> = HashMap::new();
    for event in month.events.iter().filter(|e| e.at >= first && e.at < month.end) {
        days.entry(event.ticket).or_default().insert(event.at.duration_since(first).as_secs() / 86_400);
    }
    let reads = log.reads.lock().expect("counter").clone();
    assert!(!reads.is_empty());
    for (ticket, count) in reads {
        let active = days.get(&ticket).map_or(1, BTreeSet::len);
        assert!(count <= active, "ticket {ticket} read {count} times, active on {active} days");
    }
}

#[tokio::test]
async fn rerunning_any_window_leaves_the_files_and_row_counts_unchanged() {
    let month = generate(7, month_start(), 7, 1.0);
    let desk = desk(&month).await;
    let export = Arc::new(MemoryExport::default());
    let rollup = rollup(&desk, &month, export.clone());
    rollup.backfill(month.start, month.end, None).await.expect("the rollup");
    let first = export.files();
    let rows: usize = first.values().map(|rows| rows.len()).sum();
    // A window in the middle, then the whole week again.
    let day = month.start + SignedDuration::from_hours(24 * 3 + 10);
    rollup.backfill(day, day + SignedDuration::from_hours(5), None).await.expect("a rerun");
    rollup.backfill(month.start, month.end, None).await.expect("a rerun");
    let again = export.files();
    assert_eq!(again.values().map(|rows| rows.len()).sum::<usize>(), rows);
    assert!(again == first, "a rerun changed the export");
}

#[tokio::test]
async fn late_event_rewrites_only_its_windows() {
    let month = generate(8, month_start(), 7, 1.0);
    let desk = desk(&month).await;
    let dir = scratch("late");
    let rollup = rollup(&desk, &month, Arc::new(FolderSink::new(&dir)));
    rollup.backfill(month.start, month.end, None).await.expect("the rollup");
    let before = files(&dir);
    // A survey answer for a ticket of the first day, arriving on the fourth.
    let ticket = month.truth.iter().find(|t| t.csat.is_none() && !t.solves.is_empty()).expect("a ticket");
    let trail = month.events.iter().filter(|e| e.ticket.0 == ticket.number).collect::<Vec<_>>();
    let last = trail.iter().map(|e| e.seq).max().expect("events");
    let at = month.start + SignedDuration::from_hours(24 * 3 + 14) + SignedDuration::from_mins(7);
    desk.log.append([TicketEvent {
        ticket: trail[0].ticket,
        seq: last + 1,
        at,
        actor: Actor::System,
        kind: EventKind::SurveyAnswered {
            score: 5,
            channel: None,
            team: None,
            agent: None,
            previous: None,
            follow_up: None,
        },
    }]);
    rollup
        .backfill(hour_floor(at), hour_floor(at) + SignedDuration::from_hours(1), None)
        .await
        .expect("a rerun");
    let after = files(&dir);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    let changed: Vec<&String> =
        after.iter().filter(|(name, bytes)| before.get(*name) != Some(bytes)).map(|(n, _)| n).collect();
    let hour = |at: Timestamp| format!("{}", at.strftime("dt=%Y-%m-%d/part-%H.parquet"));
    let expected = [
        format!("table=kpi_hourly/{}", hour(at)),
        format!("table=ticket_events/{}", hour(at)),
        format!("table=tickets/{}", hour(ticket.created)),
    ];
    assert_eq!(changed, expected.iter().collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn rollup_killed_halfway_and_rerun_writes_the_same_files() {
    let month = generate(9, month_start(), 5, 1.0);
    let desk = desk(&month).await;
    let clean = Arc::new(MemoryExport::default());
    rollup(&desk, &month, clean.clone()).backfill(month.start, month.end, None).await.expect("a run");
    let killed = Arc::new(MemoryExport::default());
    killed.fail_after(Some(100));
    let run = rollup(&desk, &month, killed.clone());
    assert!(run.backfill(month.start, month.end, None).await.is_err(), "the injected failure stops the run");
    assert!(killed.files().len() <= 100 && killed.files() != clean.files());
    killed.fail_after(None);
    run.backfill(month.start, month.end, None).await.expect("the rerun");
    assert!(killed.files() == clean.files(), "the rerun after a kill wrote different files");

    // On disk: a run stopped after its first day, then the full rerun; nothing half-written.
    let (whole, stopped) = (scratch("whole"), scratch("stopped"));
    rollup(&desk, &month, Arc::new(FolderSink::new(&whole)))
        .backfill(month.start, month.end, None)
        .await
        .expect("a run");
    let folder = rollup(&desk, &month, Arc::new(FolderSink::new(&stopped)));
    folder.backfill(month.start, month.start + SignedDuration::from_hours(30), None).await.expect("part");
    folder.backfill(month.start, month.end, None).await.expect("the rerun");
    let (a, b) = (files(&whole), files(&stopped));
    assert!(a == b, "the rerun after a stop wrote different files");
    assert!(b.keys().all(|name| name.ends_with(".parquet")), "no partial file left");
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&stopped);
}

#[tokio::test]
async fn exported_files_hold_no_personal_data() {
    let month = generate(10, month_start(), 10, 1.0);
    let desk = desk(&month).await;
    let dir = scratch("pii");
    rollup(&desk, &month, Arc::new(FolderSink::new(&dir)))
        .backfill(month.start, month.end, None)
        .await
        .expect("a run");
    let exported = files(&dir);
    assert!(exported.len() > 100, "{} files", exported.len());
    let mut rows = 0;
    for (name, bytes) in &exported {
        let (count, values) = text_values(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        rows += count;
        let raw = String::from_utf8_lossy(bytes);
        for secret in &month.pii {
            assert!(!raw.contains(secret.as_str()), "{name} holds {secret} in its bytes");
            assert!(!values.iter().any(|v| v.contains(secret.as_str())), "{name} holds {secret}");
        }
        for value in &values {
            assert!(!value.contains("msg_"), "{name} holds a message id: {value}");
            assert!(!value.contains('@'), "{name} holds an address: {value}");
        }
    }
    assert!(rows > 1000, "{rows} rows scanned");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn scheduled_runs_export_from_the_watermark_and_catch_up() {
    let month = generate(11, month_start(), 3, 1.0);
    let desk = desk(&month).await;
    let export = Arc::new(MemoryExport::default());
    desk.clock.set(month.start + SignedDuration::from_hours(30));
    let rollup = rollup(&desk, &month, export.clone());
    let first = rollup.run().await.expect("the first run");
    // From a day before its end (less the settle time): hours 5 to 29 of the month.
    assert_eq!(first.hours, 25);
    desk.clock.set(month.start + SignedDuration::from_hours(30) + SignedDuration::from_mins(15));
    let second = rollup.run().await.expect("the next run");
    // From the watermark less the lookback (28:58) to 30:13.
    assert_eq!(second.hours, 3);
    let backfilled = Arc::new(MemoryExport::default());
    let reference = self::rollup(&desk, &month, backfilled.clone());
    let end = month.start + SignedDuration::from_hours(30) + SignedDuration::from_mins(13);
    reference
        .backfill(month.start + SignedDuration::from_hours(6) - SignedDuration::from_mins(2), end, None)
        .await
        .expect("a backfill");
    assert!(export.files() == backfilled.files(), "scheduled runs and one backfill differ");
}
