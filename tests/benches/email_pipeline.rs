//! Pushes a generated corpus of raw customer mail (tests/src/email_corpus.rs) through the email
//! pipeline in memory (no SES, S3, SQS or DynamoDB): `EmailInbound::ingest_raw` (raw mail into
//! the blob store, parse, attachments stored by hash, one InboundMessage queued), then the
//! inbound queue through the ticket-router handler in batches of 10 (customer, threading,
//! ticket commit, acknowledgement queued). Also times the parser alone on the same mails.
//!
//! `cargo bench --workspace --bench email_pipeline -- [mails]` (default 10000).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::email_inbound::{EmailInbound, Ingested};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::email::parse_with_attachments;
use omnidesk_domain::memory::{ManualClock, MemoryBlobStore, MemoryQueue, MemoryStore, QueueSettings};
use omnidesk_domain::model::AuthorKind;
use omnidesk_domain::ports::{Queue, TicketStore};
use omnidesk_local::poller::poll_once;
use omnidesk_tests::email_corpus::{Corpus, DESK_ADDRESS, Kind};
use omnidesk_tests::stats::percentile;

const SEED: u64 = 0x0E5D_E5C0;

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn report(name: &str, unit: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<14} {:>6} {unit:<16} p50 {:>9.1} µs   p99 {:>9.1} µs   max {:>9.1} µs",
        samples.len(),
        micros(percentile(&samples, 0.50)),
        micros(percentile(&samples, 0.99)),
        micros(samples.last().copied().unwrap_or_default()),
    );
}

/// Mails per second, and raw megabytes per second for the stages that read the raw mail.
fn rate(name: &str, mails: usize, bytes: Option<usize>, took: Duration) {
    let megabytes = match bytes {
        Some(bytes) => format!("{:>7.1} MB/s", bytes as f64 / 1e6 / took.as_secs_f64()),
        None => format!("{:>12}", "—"),
    };
    println!(
        "{name:<42} {:>6.2} s   {:>9.0} emails/s   {megabytes}",
        took.as_secs_f64(),
        mails as f64 / took.as_secs_f64(),
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let count: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let generating = Instant::now();
    let corpus = Corpus::generate(count, SEED);
    let bytes = corpus.total_bytes();
    println!("email pipeline in memory, one thread");
    println!("corpus: {}", corpus.describe());
    println!("(generated in {:.2} s)", generating.elapsed().as_secs_f64());

    // --- the parser alone ------------------------------------------------------------------
    let mut parse_latency = Vec::with_capacity(count);
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let started = Instant::now();
    for mail in &corpus.mails {
        let t = Instant::now();
        let parsed = black_box(parse_with_attachments(black_box(&mail.raw)));
        let took = t.elapsed();
        parse_latency.push(took);
        by_kind.entry(mail.kind).or_default().push(took);
        assert!(parsed.is_ok(), "every corpus mail parses");
    }
    let parse_total = started.elapsed();

    // --- the pipeline: email-inbound edge, then the ticket router --------------------------
    let config = DeskConfig::from_toml(&format!("[email]\naddress = \"{DESK_ADDRESS}\"\n")).expect("config");
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_392_000).expect("instant")));
    let store = Arc::new(MemoryStore::new());
    let blobs = Arc::new(MemoryBlobStore::default());
    let inbound = Arc::new(MemoryQueue::with_dead_letter("inbound", clock.clone(), QueueSettings::default()));
    let outbound =
        Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), QueueSettings::default()));
    let edge =
        EmailInbound::new(config.email.clone().expect("[email]"), blobs, inbound.clone(), clock.clone());
    let router = RouterHandler::new(
        &config,
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock),
    );

    let mut ingest_latency = Vec::with_capacity(count);
    let started = Instant::now();
    for (i, mail) in corpus.mails.iter().enumerate() {
        let raw = mail.raw.clone();
        let t = Instant::now();
        let ingested = edge.ingest_raw(&format!("ses-{i:07}"), raw).await.expect("ingest");
        ingest_latency.push(t.elapsed());
        assert!(
            matches!(ingested, Ingested::Queued { bounce: false, attachments_dropped: 0, .. }),
            "{ingested:?}"
        );
    }
    let ingest_total = started.elapsed();

    let queue: Arc<dyn Queue> = inbound.clone();
    let mut batches = Vec::with_capacity(count / 10 + 1);
    let routing = Instant::now();
    loop {
        let t = Instant::now();
        if poll_once(&queue, "inbound", |event| router.handle(event)).await.expect("poll") == 0 {
            break;
        }
        batches.push(t.elapsed());
    }
    let route_total = routing.elapsed();
    let pipeline_total = started.elapsed();

    // --- what it did -----------------------------------------------------------------------
    let tickets = store.all_tickets();
    let mut customer_messages = 0;
    for ticket in &tickets {
        let messages = store.messages(ticket.number).await.expect("messages");
        customer_messages += messages.iter().filter(|m| m.author == AuthorKind::Customer).count();
    }
    let threaded = customer_messages - tickets.len();
    let dead = inbound.dead_letter().map_or(0, |d| d.len());
    assert_eq!(customer_messages, count, "every mail is one customer message");
    assert_eq!(dead, 0, "nothing dead-lettered");
    assert_eq!(tickets.len(), count - corpus.replies(), "every new mail opens a ticket");
    assert_eq!(threaded, corpus.replies(), "every reply threads onto its ticket");

    println!();
    rate("parse alone (parse_with_attachments)", count, Some(bytes), parse_total);
    rate("email-inbound edge (store, parse, queue)", count, Some(bytes), ingest_total);
    rate("ticket router (thread, store)", count, None, route_total);
    rate("whole pipeline (parse → thread → store)", count, Some(bytes), pipeline_total);
    println!();
    report("parse", "mails", parse_latency);
    for (kind, samples) in by_kind {
        report(&format!("  {}", kind.name()), "mails", samples);
    }
    report("edge", "mails", ingest_latency);
    report("router", "batches of ≤10", batches);
    println!();
    println!(
        "outcome: {} tickets created, {threaded} replies threaded onto their tickets, {} acknowledgements \
         queued (per-sender cap 3/h), 0 dead-lettered",
        tickets.len(),
        outbound.len()
    );
}
