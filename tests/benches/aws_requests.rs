//! What a chat message costs on AWS. Runs N chat conversations (3 customer messages each; the
//! first opens a ticket and is acknowledged) through the desk on the real AWS adapters against
//! an endpoint (moto), counts every SDK request per service and operation, sums DynamoDB
//! capacity units, and prices it all per inbound message and per 1,000 tickets.
//!
//! ```sh
//! scripts/bench-aws.sh [conversations]      # starts moto, runs this, stops moto
//! ```
//!
//! or, with moto already running, `OMNIDESK_MOTO_ENDPOINT=http://127.0.0.1:PORT cargo bench
//! --workspace --bench aws_requests --profile dev -- 1000`.
//!
//! The traffic comes in rounds, as conversations do: every conversation's first message, then
//! the router and the dispatcher drain their queues as Lambda's pollers would, then every
//! second message, and so on. Requests are counted, not timed: moto's latency says nothing
//! about AWS's. Capacity units are estimated from item sizes by DynamoDB's published rules,
//! because moto reports fixed placeholder figures (see `RequestMeter::estimating`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use omnidesk_app::signature::{SIGNATURE_HEADER, sign};
use omnidesk_aws::{Clients, MeterSnapshot, RequestMeter};
use omnidesk_domain::memory::RecordingNotifier;
use omnidesk_domain::system::SystemClock;
use omnidesk_local::provision::ProvisionOptions;
use omnidesk_local::{DeskPorts, LocalDesk, backend};
use omnidesk_tests::agent_scenarios::{SLA, STAFF};
use omnidesk_tests::{INBOX, MOTO_ENDPOINT_ENV, SECRET, chat_body, now, test_config_with};
use tower::ServiceExt;

const MESSAGES_PER_CONVERSATION: usize = 3;

/// Published on-demand prices, us-east-1, without free tiers (USD).
mod price {
    /// DynamoDB on-demand, per write request unit (1 KB; 2 per KB in a transaction).
    pub const DYNAMODB_WRU: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand, per read request unit (4 KB strongly consistent).
    pub const DYNAMODB_RRU: f64 = 0.125 / 1e6;
    /// SQS standard queue, per request (64 KB chunk).
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// Lambda, per invocation.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// Lambda arm64, per GB-second.
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// API Gateway HTTP API, per request (first 300 million a month).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
}

/// Lambda duration is not measurable against moto. It is modelled as this much per AWS call
/// the function makes (a typical in-region DynamoDB/SQS round trip) plus a fixed overhead
/// per invocation, at the template's memory size.
const MODEL_MS_PER_CALL: f64 = 8.0;
const MODEL_MS_PER_INVOCATION: f64 = 2.0;
const LAMBDA_MEMORY_GB: f64 = 256.0 / 1024.0;

/// What one function did over the whole run.
#[derive(Default)]
struct Stage {
    invocations: u64,
    records: u64,
    /// Requests the function itself made (DynamoDB, sends), which it waits for.
    own_calls: u64,
    /// Everything, including what Lambda's poller does for it (receive, delete).
    usage: Vec<MeterSnapshot>,
}

impl Stage {
    fn add(&mut self, usage: MeterSnapshot) {
        // Receive and delete are the event source mapping's, not the function's time.
        self.own_calls += usage.total_calls()
            - usage.calls_to("SQS", "ReceiveMessage")
            - usage.calls_to("SQS", "DeleteMessageBatch")
            - usage.calls_to("SQS", "DeleteMessage");
        self.usage.push(usage);
    }

    fn gb_seconds(&self) -> f64 {
        let ms =
            self.own_calls as f64 * MODEL_MS_PER_CALL + self.invocations as f64 * MODEL_MS_PER_INVOCATION;
        ms / 1000.0 * LAMBDA_MEMORY_GB
    }
}

/// Sums snapshots taken over separate stretches of the run.
fn total<'a>(parts: impl IntoIterator<Item = &'a MeterSnapshot>) -> MeterSnapshot {
    let mut sum = MeterSnapshot::default();
    for part in parts {
        for (key, count) in &part.calls {
            *sum.calls.entry(key.clone()).or_default() += count;
        }
        sum.dynamodb_rcu += part.dynamodb_rcu;
        sum.dynamodb_wcu += part.dynamodb_wcu;
        sum.estimated_rcu += part.estimated_rcu;
        sum.estimated_wcu += part.estimated_wcu;
    }
    sum
}

/// A poll, retried as Lambda's poller would when the endpoint fails (moto under load can time
/// out); the failed attempts are counted by the meter like any other request.
async fn poll_with_patience<F, Fut>(mut poll: F) -> usize
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, omnidesk_domain::ports::QueueError>>,
{
    for attempt in 1..=MAX_POLL_ATTEMPTS {
        match poll().await {
            Ok(received) => return received,
            Err(error) => eprintln!("poll attempt {attempt} failed: {error}"),
        }
    }
    panic!("the endpoint failed {MAX_POLL_ATTEMPTS} polls in a row");
}

const MAX_POLL_ATTEMPTS: usize = 5;

/// moto copies every table on each TransactWriteItems (to roll back), so its time grows with
/// the table, and its memory grows with everything it ever held (past 20 GB after 700
/// conversations in one process): the run is split over fresh desks (tables and queues) of
/// this many conversations, with moto reset in between. DynamoDB's requests and units do not
/// depend on the table's size.
const CONVERSATIONS_PER_DESK: usize = 100;

/// Seconds a received message stays invisible in the bench's queues.
const BENCH_VISIBILITY_SECONDS: u32 = 900;

/// Empties moto (`POST /moto-api/reset`), which gives its memory back for the next desk.
async fn reset_moto(endpoint: &str) {
    let url = format!("{}/moto-api/reset", endpoint.trim_end_matches('/'));
    match reqwest::Client::new().post(&url).send().await {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => eprintln!("moto reset answered {}", response.status()),
        Err(error) => eprintln!("moto reset failed: {error}"),
    }
}

#[derive(Default)]
struct Stages {
    webhook: Stage,
    router: Stage,
    dispatcher: Stage,
}

/// The conversations' messages in rounds: every first message, then the pollers drain both
/// queues as Lambda's would; then every second message, and so on.
async fn run_desk(desk: &Arc<LocalDesk>, meter: &RequestMeter, conversations: usize, stages: &mut Stages) {
    let app = desk.http_router();
    let Stages { webhook, router, dispatcher } = stages;
    for round in 0..MESSAGES_PER_CONVERSATION {
        let before = meter.snapshot();
        for c in 0..conversations {
            let body = chat_body(
                &format!("m{c}-{round}"),
                &format!("c{c}"),
                &format!("v{c}"),
                "Where is my parcel?",
            );
            let request = Request::post(format!("/v1/chat/{INBOX}/messages"))
                .header("content-type", "application/json")
                .header(SIGNATURE_HEADER, sign(SECRET.as_bytes(), now(), body.as_bytes()))
                .body(Body::from(body))
                .expect("request");
            let response = app.clone().oneshot(request).await.expect("response");
            assert_eq!(response.status().as_u16(), 202, "webhook refused message m{c}-{round}");
            webhook.invocations += 1;
            webhook.records += 1;
        }
        webhook.add(meter.snapshot().since(&before));

        let before = meter.snapshot();
        loop {
            match poll_with_patience(|| desk.poll_inbound()).await {
                0 => break,
                received => {
                    router.invocations += 1;
                    router.records += received as u64;
                }
            }
        }
        router.add(meter.snapshot().since(&before));

        let before = meter.snapshot();
        loop {
            match poll_with_patience(|| desk.poll_outbound()).await {
                0 => break,
                received => {
                    dispatcher.invocations += 1;
                    dispatcher.records += received as u64;
                }
            }
        }
        dispatcher.add(meter.snapshot().since(&before));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let conversations: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000);
    // `full`: the desk with teams, agents and SLA timers (the shipped features a support team
    // turns on), instead of the bare chat pipeline.
    let full = std::env::args().any(|a| a == "full");
    let extra = if full { format!("{STAFF}\n{SLA}") } else { String::new() };
    let Ok(endpoint) = std::env::var(MOTO_ENDPOINT_ENV) else {
        eprintln!("set {MOTO_ENDPOINT_ENV} (scripts/bench-aws.sh starts moto and does)");
        std::process::exit(2);
    };

    let meter = RequestMeter::estimating();
    let sdk = backend::sdk_for_endpoint(&endpoint).await;
    let clients = Clients::new(&sdk).with_meter(meter.clone());
    println!(
        "AWS requests of {conversations} chat conversations × {MESSAGES_PER_CONVERSATION} messages, on {endpoint}, \
         in desks of {CONVERSATIONS_PER_DESK} conversations{}",
        if full { ", with routing, agents and SLA timers" } else { "" }
    );
    let started = std::time::Instant::now();
    let mut stages = Stages::default();
    let mut delivered = 0;
    let mut dead_letters = (0, 0);
    for (index, first) in (0..conversations).step_by(CONVERSATIONS_PER_DESK).enumerate() {
        let count = CONVERSATIONS_PER_DESK.min(conversations - first);
        reset_moto(&endpoint).await;
        let options = ProvisionOptions {
            prefix: format!("bench{}-{index}-", std::process::id()),
            // Far above any batch's time: moto on a busy machine can take longer than the
            // template's timeout, and a redelivery would be counted as another message.
            visibility_timeout: Some(BENCH_VISIBILITY_SECONDS),
        };
        let (ports, _) = DeskPorts::aws(&clients, &options).await.expect("provision on the endpoint");
        let notifier = Arc::new(RecordingNotifier::default());
        let config = test_config_with("http://127.0.0.1:9/unused", 30_000, &extra);
        let desk = Arc::new(LocalDesk::with_notifier(config, Arc::new(SystemClock), ports, notifier.clone()));
        run_desk(&desk, &meter, count, &mut stages).await;
        delivered += notifier.delivered().len();
        dead_letters.0 += desk.ports.inbound_dead_letter.depth().await.expect("depth").total();
        dead_letters.1 += desk.ports.outbound_dead_letter.depth().await.expect("depth").total();
        eprintln!("desk {index}: {count} conversations done after {:.0?}", started.elapsed());
    }
    let Stages { webhook, router, dispatcher } = stages;
    let elapsed = started.elapsed();

    // The run must have done the work it is pricing.
    let messages = (conversations * MESSAGES_PER_CONVERSATION) as u64;
    let tickets = conversations as u64;
    assert_eq!(router.records, messages, "every message routed once");
    assert_eq!(delivered as u64, tickets, "one acknowledgement per ticket");
    assert_eq!(dead_letters, (0, 0), "nothing dead-lettered");

    let all = total(webhook.usage.iter().chain(&router.usage).chain(&dispatcher.usage));
    let per_message = |n: f64| n / messages as f64;
    println!(
        "{messages} messages, {tickets} tickets, {tickets} acknowledgements in {:.1} s",
        elapsed.as_secs_f64()
    );
    println!("\nrequests by operation (total, per inbound message):");
    for ((service, operation), count) in &all.calls {
        println!("  {service:<9} {operation:<22} {count:>8}  {:>6.3}", per_message(*count as f64));
    }
    let dynamodb = all.total("DynamoDB") as f64;
    let sqs = all.total("SQS") as f64;
    let lambda = (webhook.invocations + router.invocations + dispatcher.invocations) as f64;
    let http_api = webhook.invocations as f64;
    println!("\nper inbound message:");
    println!("  DynamoDB requests   {:>7.3}", per_message(dynamodb));
    println!(
        "  DynamoDB WCU        {:>7.3}   (estimated from item sizes: {:.0} of {:.0})",
        per_message(all.dynamodb_wcu),
        all.estimated_wcu,
        all.dynamodb_wcu
    );
    println!(
        "  DynamoDB RCU        {:>7.3}   (estimated from item sizes: {:.0} of {:.0})",
        per_message(all.dynamodb_rcu),
        all.estimated_rcu,
        all.dynamodb_rcu
    );
    println!("  SQS requests        {:>7.3}", per_message(sqs));
    println!(
        "  Lambda invocations  {:>7.3}   (webhook {}, router {} batches of {:.1}, dispatcher {} batches of {:.1})",
        per_message(lambda),
        webhook.invocations,
        router.invocations,
        router.records as f64 / router.invocations.max(1) as f64,
        dispatcher.invocations,
        dispatcher.records as f64 / dispatcher.invocations.max(1) as f64,
    );
    println!("  HTTP API requests   {:>7.3}", per_message(http_api));
    let billable = dynamodb + sqs + lambda + http_api;
    println!("  billable requests   {:>7.3}   (all of the above)", per_message(billable));

    let gb_seconds = webhook.gb_seconds() + router.gb_seconds() + dispatcher.gb_seconds();
    let per_thousand_tickets = |usd: f64| usd / tickets as f64 * 1000.0;
    let costs = [
        ("DynamoDB writes", all.dynamodb_wcu * price::DYNAMODB_WRU),
        ("DynamoDB reads", all.dynamodb_rcu * price::DYNAMODB_RRU),
        ("SQS", sqs * price::SQS_REQUEST),
        ("Lambda requests", lambda * price::LAMBDA_REQUEST),
        ("Lambda duration", gb_seconds * price::LAMBDA_GB_SECOND),
        ("HTTP API", http_api * price::HTTP_API_REQUEST),
    ];
    println!(
        "\nUSD per 1,000 tickets ({MESSAGES_PER_CONVERSATION} messages each, SES and storage excluded):"
    );
    for (name, usd) in costs {
        println!("  {name:<16} {:>9.5}", per_thousand_tickets(usd));
    }
    let sum: f64 = costs.iter().map(|(_, usd)| usd).sum();
    println!("  {:<16} {:>9.5}", "total", per_thousand_tickets(sum));
    println!(
        "prices (us-east-1 on-demand): DynamoDB $0.625/M WRU, $0.125/M RRU; SQS $0.40/M requests; \
         Lambda $0.20/M requests + $0.0000133334/GB-s arm64; HTTP API $1.00/M requests"
    );
    println!(
        "Lambda duration modelled at {MODEL_MS_PER_CALL} ms per AWS call + {MODEL_MS_PER_INVOCATION} ms per \
         invocation, {} MB: {gb_seconds:.1} GB-s",
        LAMBDA_MEMORY_GB * 1024.0
    );
}
