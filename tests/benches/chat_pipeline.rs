//! Pushes N chat messages through webhook → router → dispatcher in memory (no TCP, no AWS)
//! and prints throughput and per-invocation latency of each handler.
//!
//! `cargo bench -p omnidesk-tests --bench chat_pipeline -- [messages]` (default 30000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use omnidesk_app::signature::{SIGNATURE_HEADER, sign};
use omnidesk_domain::memory::RecordingNotifier;
use omnidesk_domain::system::SystemClock;
use omnidesk_local::{DeskPorts, LocalDesk};
use omnidesk_tests::stats::percentile;
use omnidesk_tests::{INBOX, SECRET, chat_body, now, test_config};
use tower::ServiceExt;

const MESSAGES_PER_CONVERSATION: usize = 3;

fn report(name: &str, unit: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<11} {:>6} {unit:<22} p50 {:>9.1} µs   p99 {:>9.1} µs   max {:>9.1} µs",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let messages: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(30_000);
    let notifier = Arc::new(RecordingNotifier::default());
    let config = test_config("http://127.0.0.1:9/unused", 30_000);
    let clock = Arc::new(SystemClock);
    let ports = DeskPorts::memory(&config, clock.clone());
    let memory = ports.memory.clone().expect("in-memory backend");
    let desk = Arc::new(LocalDesk::with_notifier(config, clock, ports, notifier.clone()));
    let app = desk.http_router();

    let bodies: Vec<String> = (0..messages)
        .map(|i| {
            let conversation = i / MESSAGES_PER_CONVERSATION;
            chat_body(
                &format!("m{i}"),
                &format!("c{conversation}"),
                &format!("v{conversation}"),
                "Where is my parcel? 我的包裹在哪里？",
            )
        })
        .collect();

    let started = Instant::now();
    let mut webhook = Vec::with_capacity(messages);
    for body in bodies {
        let request = Request::post(format!("/v1/chat/{INBOX}/messages"))
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sign(SECRET.as_bytes(), now(), body.as_bytes()))
            .body(Body::from(body))
            .expect("request");
        let t = Instant::now();
        let response = app.clone().oneshot(request).await.expect("response");
        webhook.push(t.elapsed());
        assert_eq!(response.status().as_u16(), 202);
    }
    let webhook_done = started.elapsed();

    let mut router = Vec::new();
    loop {
        let t = Instant::now();
        if desk.poll_inbound().await.expect("poll") == 0 {
            break;
        }
        router.push(t.elapsed());
    }
    let router_done = started.elapsed();
    let mut dispatcher = Vec::new();
    loop {
        let t = Instant::now();
        if desk.poll_outbound().await.expect("poll") == 0 {
            break;
        }
        dispatcher.push(t.elapsed());
    }
    let total = started.elapsed();

    let tickets = memory.all_tickets().len();
    assert_eq!(tickets, messages.div_ceil(MESSAGES_PER_CONVERSATION));
    assert_eq!(notifier.delivered().len(), tickets);
    println!(
        "chat pipeline in memory: {messages} messages in {} conversations of {MESSAGES_PER_CONVERSATION}, one thread",
        tickets
    );
    report("webhook", "requests", webhook);
    report("router", "batches of ≤10", router);
    report("dispatcher", "batches of ≤10", dispatcher);
    println!(
        "stages: webhook {:.2} s, router {:.2} s, dispatcher {:.2} s",
        webhook_done.as_secs_f64(),
        (router_done - webhook_done).as_secs_f64(),
        (total - router_done).as_secs_f64()
    );
    println!(
        "end to end: {:.2} s = {:.0} messages/s ({tickets} tickets, {tickets} acknowledgements)",
        total.as_secs_f64(),
        messages as f64 / total.as_secs_f64()
    );
}
