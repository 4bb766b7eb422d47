//! What one SLA sweep costs with many open tickets of which few are due: items read from the
//! due index per due item, the sweep's time, and what a full scan of the open tickets would
//! have read instead. Figures are printed; nothing is asserted on time.
//!
//! `cargo bench --workspace --bench sla_sweep` runs in memory with 100,000 and 1,000,000 open
//! tickets (`-- N M ...` for other sizes), 1,000 of them due. With OMNIDESK_MOTO_ENDPOINT set
//! (`scripts/bench-sla.sh` starts moto) it also runs on the AWS adapters against moto: the
//! sweep's index reads with `--moto-open N` (default 20,000) open tickets of which
//! `--moto-due M` (default 1,000) are due, and a whole sweep, commits included, with
//! `--moto-sweep-open` (2,000) and `--moto-sweep-due` (100): moto copies the whole table on
//! every transaction, so commits are measured where that stays bounded. moto is reset before
//! and after each part.
//!
//! Steady state: the watermark stands 3 minutes back, the due tickets' instants fall in
//! those 3 minutes, the rest are due 8 to 48 minutes ahead (buckets the sweep does not read).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use omnidesk_aws::{Clients, RequestMeter};
use omnidesk_domain::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings};
use omnidesk_domain::model::{Channel, CustomerId, Priority, Ticket, TicketNumber};
use omnidesk_domain::ports::{Clock, Queue, TicketCommit, TicketStore, Watermarks};
use omnidesk_domain::sla::sweeper::{WATERMARK, bucket_of};
use omnidesk_domain::sla::{SlaConfig, SlaPolicies, SlaSweeper, SweepLimits, SweepReport, SweeperPorts};
use omnidesk_local::backend;
use omnidesk_local::provision::{self, ProvisionOptions};

const DUE: usize = 1_000;

/// The instant of the sweep: a minute boundary plus 30 s.
fn sweep_at() -> Timestamp {
    Timestamp::from_second(1_795_424_430).expect("valid instant")
}

fn policies() -> Arc<SlaPolicies> {
    // Defaults: urgent runs on 24×7 (first reply 30 min, warning at 80 % = 24 min).
    Arc::new(SlaConfig::default().validate().expect("default SLA config"))
}

/// Ticket `number`, opened so that the sweeper must first look at it `ahead` from the sweep
/// (negative: overdue by that much).
fn ticket(policies: &SlaPolicies, number: u64, ahead: SignedDuration) -> Ticket {
    // First look = opening + 24 minutes (the first-reply warning).
    let opened = sweep_at() + ahead - SignedDuration::from_mins(24);
    let (mut ticket, created) = Ticket::open(
        TicketNumber(number),
        Channel::Email,
        "bench".into(),
        CustomerId::new("c"),
        None,
        opened,
    );
    ticket.priority = Priority::Urgent;
    policies.apply(&mut ticket, std::slice::from_ref(&created), None);
    ticket
}

/// `open` tickets, `due` of them due within the 3 minutes before the sweep.
fn tickets(policies: &SlaPolicies, open: usize, due: usize) -> impl Iterator<Item = Ticket> + '_ {
    (0..open).map(move |i| {
        let ahead = if i < due {
            // Within the 2.5 minutes of open buckets after the watermark.
            -SignedDuration::from_millis((i as i64 * 149_000) / due as i64 + 1)
        } else {
            SignedDuration::from_mins(8) + SignedDuration::from_millis((i as i64 * 7) % 2_400_000)
        };
        ticket(policies, i as u64 + 1, ahead)
    })
}

fn print(label: &str, open: usize, due: usize, report: &SweepReport, took: Duration) {
    println!(
        "{label:<8} open {open:>9}  due {due:>5}  buckets {:>2}  items read {:>5} ({:.2} per due item)  \
         warnings {:>5}  sweep {:>8.1} ms  full scan would read {open:>9} items ({:.0}x more)",
        report.buckets_read,
        report.items_read,
        report.items_read as f64 / due.max(1) as f64,
        report.warnings,
        took.as_secs_f64() * 1e3,
        open as f64 / report.items_read.max(1) as f64,
    );
}

async fn memory(open: usize) {
    let policies = policies();
    let store = Arc::new(MemoryStore::new());
    let started = Instant::now();
    for ticket in tickets(&policies, open, DUE) {
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages: vec![],
            events: vec![],
            thread_claims: vec![],
            idempotency: None,
        };
        store.commit(commit).await.expect("seed");
    }
    let seeded = started.elapsed();
    let clock = Arc::new(ManualClock::new(sweep_at()));
    let watermark = bucket_of(sweep_at()) - SignedDuration::from_mins(3);
    store.advance_watermark(WATERMARK, None, watermark).await.expect("watermark");
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let sweeper = sweeper(store.clone(), store.clone(), outbound, clock.clone(), &policies);

    let started = Instant::now();
    let report = sweeper.run().await.expect("sweep");
    let took = started.elapsed();
    print("memory", open, DUE, &report, took);

    // What a cron over every open ticket does instead: read them all, check each.
    let started = Instant::now();
    let all = store.all_tickets();
    let now = clock.now();
    let overdue = all.iter().filter(|t| t.due_at.is_some_and(|d| d <= now)).count();
    let scan = started.elapsed();
    let started = Instant::now();
    let idle = sweeper.run().await.expect("second sweep");
    println!(
        "         seeded in {:.1} s; a scan reading all {} tickets took {:.1} ms (found {overdue} due); \
         the next sweep read {} items in {:.2} ms",
        seeded.as_secs_f64(),
        all.len(),
        scan.as_secs_f64() * 1e3,
        idle.items_read,
        started.elapsed().as_secs_f64() * 1e3,
    );
}

fn sweeper(
    tickets: Arc<dyn TicketStore>,
    watermarks: Arc<dyn Watermarks>,
    outbound: Arc<dyn Queue>,
    clock: Arc<ManualClock>,
    policies: &Arc<SlaPolicies>,
) -> SlaSweeper {
    let limits = SweepLimits { max_tickets: 10_000, ..SweepLimits::default() };
    SlaSweeper::new(SweeperPorts { tickets, watermarks, outbound, clock }, policies.clone())
        .with_limits(limits)
}

async fn reset_moto(endpoint: &str) {
    let url = format!("{}/moto-api/reset", endpoint.trim_end_matches('/'));
    match reqwest::Client::new().post(&url).send().await {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => eprintln!("moto reset answered {}", response.status()),
        Err(error) => eprintln!("moto reset failed: {error}"),
    }
}

/// A table on moto with `open` tickets (seeded by BatchWriteItem, no transactions), the
/// watermark 3 minutes back, and a sweeper on it with its meter.
async fn moto_desk(
    endpoint: &str,
    policies: &Arc<SlaPolicies>,
    open: usize,
    due: usize,
) -> (Arc<omnidesk_aws::DynamoStore>, SlaSweeper, Arc<RequestMeter>, Duration) {
    reset_moto(endpoint).await;
    let sdk = backend::sdk_for_endpoint(endpoint).await;
    let options =
        ProvisionOptions { prefix: format!("slabench{}-", std::process::id()), visibility_timeout: None };
    let provisioned = provision::provision(&sdk, provision::TEMPLATE, &options).await.expect("provision");
    let meter = RequestMeter::estimating();
    let clients = Clients::new(&sdk).with_meter(meter.clone());
    let store = Arc::new(clients.store(&provisioned.table));
    let started = Instant::now();
    let all: Vec<Ticket> = tickets(policies, open, due).collect();
    store.seed_tickets(&all).await.expect("seed on moto");
    let seeded = started.elapsed();
    let clock = Arc::new(ManualClock::new(sweep_at()));
    let watermark = bucket_of(sweep_at()) - SignedDuration::from_mins(3);
    store.advance_watermark(WATERMARK, None, watermark).await.expect("watermark");
    let outbound: Arc<dyn Queue> = Arc::new(clients.queue(&provisioned.outbound_queue_url));
    let sweeper = sweeper(store.clone(), store.clone(), outbound, clock, policies);
    (store, sweeper, meter, seeded)
}

/// At scale, the sweep's reads only: every bucket from the watermark to now, as the sweeper
/// queries them. (Its commits are measured at a smaller scale: moto copies the whole table
/// on every TransactWriteItems, so a thousand of them on a large table exhaust its memory.)
async fn moto_reads(endpoint: &str, open: usize, due: usize) {
    let policies = policies();
    let (store, _, meter, seeded) = moto_desk(endpoint, &policies, open, due).await;
    let before = meter.snapshot();
    let started = Instant::now();
    let now = sweep_at();
    let mut bucket = bucket_of(now) - SignedDuration::from_mins(2);
    let (mut buckets, mut items) = (0, 0);
    while bucket <= bucket_of(now) {
        items += store.due_tickets(bucket, now, 10_000).await.expect("query").len();
        buckets += 1;
        bucket += SignedDuration::from_mins(1);
    }
    let took = started.elapsed();
    let used = meter.snapshot().since(&before);
    println!(
        "moto     open {open:>9}  due {due:>5}  buckets {buckets:>2}  items read {items:>5} ({:.2} per due item)  \
         reads {:>8.1} ms  full scan would read {open:>9} items ({:.0}x more)",
        items as f64 / due.max(1) as f64,
        took.as_secs_f64() * 1e3,
        open as f64 / items.max(1) as f64,
    );
    println!(
        "         seeded in {:.1} s; Query requests {}, {:.1} RCU (eventually consistent index reads)",
        seeded.as_secs_f64(),
        used.calls_to("DynamoDB", "Query"),
        used.dynamodb_rcu,
    );
    reset_moto(endpoint).await;
}

/// The whole sweep, commits included, on a table small enough for moto.
async fn moto_sweep(endpoint: &str, open: usize, due: usize) {
    let policies = policies();
    let (_, sweeper, meter, seeded) = moto_desk(endpoint, &policies, open, due).await;
    let before = meter.snapshot();
    let started = Instant::now();
    let report = sweeper.run().await.expect("sweep on moto");
    let took = started.elapsed();
    let used = meter.snapshot().since(&before);
    print("moto", open, due, &report, took);
    let per_due = |n: u64| n as f64 / due.max(1) as f64;
    println!(
        "         seeded in {:.1} s; per due item: Query {:.3}, TransactWriteItems {:.2}, GetItem {:.2}, \
         {:.2} RCU, {:.2} WCU; conflicts {}, failures {}",
        seeded.as_secs_f64(),
        per_due(used.calls_to("DynamoDB", "Query")),
        per_due(used.calls_to("DynamoDB", "TransactWriteItems")),
        per_due(used.calls_to("DynamoDB", "GetItem")),
        used.dynamodb_rcu / due.max(1) as f64,
        used.dynamodb_wcu / due.max(1) as f64,
        report.conflicts,
        report.failures,
    );
    reset_moto(endpoint).await;
}

fn flag(args: &[String], name: &str) -> Option<usize> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes: Vec<usize> = Vec::new();
    let mut skip = false;
    for arg in &args {
        if skip {
            skip = false;
        } else if arg.starts_with("--moto") {
            skip = true;
        } else if let Ok(n) = arg.parse() {
            sizes.push(n);
        }
    }
    if sizes.is_empty() {
        sizes = vec![100_000, 1_000_000];
    }
    println!("SLA sweep, {DUE} due tickets among the open ones (release build, one thread)");
    for open in sizes {
        memory(open).await;
    }
    if let Ok(endpoint) = std::env::var("OMNIDESK_MOTO_ENDPOINT") {
        let open = flag(&args, "--moto-open").unwrap_or(20_000);
        let due = flag(&args, "--moto-due").unwrap_or(DUE);
        moto_reads(&endpoint, open, due).await;
        let sweep_open = flag(&args, "--moto-sweep-open").unwrap_or(2_000);
        let sweep_due = flag(&args, "--moto-sweep-due").unwrap_or(100);
        moto_sweep(&endpoint, sweep_open, sweep_due).await;
    }
}
