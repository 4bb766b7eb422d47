//! Every sample event in `events/` deserialises with `aws_lambda_events` (through lambda_http
//! for HTTP) and runs through its function's handler against in-memory adapters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use http::StatusCode;
use jiff::Timestamp;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::outbound_dispatcher::DispatcherHandler;
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::memory::{
    ManualClock, MemoryQueue, MemoryRateLimiter, MemoryStore, QueueSettings, RecordingNotifier, SequentialIds,
};
use omnidesk_domain::router::RouterPorts;
use tower::ServiceExt;

/// The sample events are signed with the example config's secret at this instant.
const SIGNED_AT: i64 = 1_795_424_400;

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(events_dir().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn example_config() -> DeskConfig {
    DeskConfig::from_toml(include_str!("../../infra/local/omnidesk.example.toml")).unwrap()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp::from_second(SIGNED_AT).unwrap()))
}

async fn chat_webhook_post_message() {
    let request = lambda_http::request::from_str(&read("chat-webhook/post-message.json"))
        .expect("API Gateway v2 event");
    let clock = clock();
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let webhook = ChatWebhook { inboxes: example_config().inboxes(), inbound: inbound.clone(), clock };
    let response = chat_webhook::router(webhook).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(inbound.len(), 1);
}

async fn ticket_router_sqs_batch() {
    let event: SqsEvent = serde_json::from_str(&read("ticket-router/sqs-batch.json")).expect("SQS event");
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let handler = RouterHandler::new(
        &example_config(),
        RouterPorts {
            tickets: store.clone(),
            customers: store.clone(),
            idempotency: store.clone(),
            outbound: outbound.clone(),
            limiter: Arc::new(MemoryRateLimiter::default()),
            clock,
            ids: Arc::new(SequentialIds::default()),
        },
    );
    let response = handler.handle(event).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    // Both records are one conversation: one ticket, one acknowledgement.
    assert_eq!(store.all_tickets().len(), 1);
    assert_eq!(outbound.len(), 1);
}

async fn outbound_dispatcher_sqs_batch() {
    let event: SqsEvent =
        serde_json::from_str(&read("outbound-dispatcher/sqs-batch.json")).expect("SQS event");
    let notifier = Arc::new(RecordingNotifier::default());
    let handler = DispatcherHandler::new(DispatcherPorts {
        idempotency: Arc::new(MemoryStore::new()),
        notifier: notifier.clone(),
        clock: clock(),
        ids: Arc::new(SequentialIds::default()),
    });
    let response = handler.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(notifier.delivered().len(), 1);
}

#[tokio::test]
async fn every_sample_event_runs_through_its_handler() {
    let mut files: Vec<String> = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for file in std::fs::read_dir(&function).unwrap() {
            let file = file.unwrap().path();
            let relative = file.strip_prefix(events_dir()).unwrap().to_string_lossy().into_owned();
            files.push(relative);
        }
    }
    files.sort();
    for file in &files {
        match file.as_str() {
            "chat-webhook/post-message.json" => chat_webhook_post_message().await,
            "ticket-router/sqs-batch.json" => ticket_router_sqs_batch().await,
            "outbound-dispatcher/sqs-batch.json" => outbound_dispatcher_sqs_batch().await,
            other => panic!("events/{other} has no runner in this test: add one"),
        }
    }
    assert_eq!(files.len(), 3);
}
