//! Spike alerts sent by the rollup (issue 16): five weeks of seeded ordinary volume, then a
//! 5× burst of one category in one hour. The scheduled run that exports the hour alerts ops
//! once per destination (the ops topic, the on-call webhook through the outbound queue), with
//! the category, count, baseline and sample tickets; a rerun, the next 15-minute runs and the
//! burst's second hour send nothing more; a failed send is retried by the next run. On moto,
//! the SNS adapter publishes to a real topic.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::alerts::{AlertSender, SpikeAlerting, WebhookAlerts};
use omnidesk_domain::analytics::spikes::SpikeRules;
use omnidesk_domain::analytics::{Rollup, RollupError, RollupPorts, RollupSettings};
use omnidesk_domain::envelope::open;
use omnidesk_domain::memory::{
    ManualClock, MemoryAlerts, MemoryEventLog, MemoryExport, MemoryQueue, MemoryStore, QueueSettings,
};
use omnidesk_domain::model::{Actor, Channel, CustomerId, EventKind, TicketEvent, TicketNumber};
use omnidesk_domain::outbound::{Destination, OutboundJob, OutboundKind};
use omnidesk_tests::Backend;
use omnidesk_tests::analytics_month::{Month, generate};

const KEY: &[u8] = b"analytics-alert-test-key-0123456";
const WEEKS: i64 = 5;
const HOOK: &str = "https://oncall.example/spikes";

fn start() -> Timestamp {
    "2026-10-05T00:00:00Z".parse().expect("an instant")
}

/// Tuesday of the last week, 10:00 in Shanghai (02:00 UTC): a busy hour.
fn burst_hour() -> Timestamp {
    start() + SignedDuration::from_hours(24 * 7 * (WEEKS - 1) + 24 + 2)
}

/// `count` delivery tickets created in `hour`, on every channel in turn, numbered from `first`.
fn burst(first: u64, count: u64, hour: Timestamp) -> Vec<TicketEvent> {
    let mut events = Vec::new();
    for i in 0..count {
        let ticket = TicketNumber(first + i);
        let at = hour + SignedDuration::from_secs(60 + 90 * i as i64);
        let channel = [Channel::Chat, Channel::Email, Channel::Phone][i as usize % 3];
        let customer = CustomerId::new(format!("cus_burst_{i}"));
        let kinds = [
            EventKind::Created { channel, requester: customer.clone(), follow_up_of: None },
            EventKind::Escalated {
                from_team: None,
                to_team: Some("shipping".into()),
                reason: "routing".into(),
            },
            EventKind::Category { from: None, to: Some("delivery".into()) },
        ];
        for (seq, kind) in kinds.into_iter().enumerate() {
            let actor = if seq == 0 { Actor::Customer(customer.clone()) } else { Actor::System };
            events.push(TicketEvent { ticket, seq: seq as u64 + 1, at, actor, kind });
        }
    }
    events
}

struct Desk {
    month: Month,
    log: Arc<MemoryEventLog>,
    export: Arc<MemoryExport>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    ops: Arc<MemoryAlerts>,
    outbound: Arc<MemoryQueue>,
}

/// Five weeks of ordinary volume with a burst of four times the usual delivery tickets (at
/// least 20) in [`burst_hour`]; the clock 20 minutes into the hour after it.
fn desk() -> Desk {
    let month = generate(7, start(), WEEKS * 7, 1.0);
    let log = Arc::new(MemoryEventLog::default());
    log.append(month.events.iter().cloned());
    log.append(burst(month.truth.len() as u64 + 1, 20, burst_hour()));
    let clock = Arc::new(ManualClock::new(burst_hour() + SignedDuration::from_mins(80)));
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    Desk {
        month,
        log,
        export: Arc::new(MemoryExport::default()),
        store: Arc::new(MemoryStore::new()),
        clock,
        ops: Arc::new(MemoryAlerts::named("sns")),
        outbound,
    }
}

fn rollup(desk: &Desk, ops: Arc<dyn AlertSender>) -> Rollup {
    let webhook = Arc::new(WebhookAlerts::new(desk.outbound.clone(), HOOK, desk.clock.clone()));
    let alerting = SpikeAlerting {
        rules: SpikeRules::default(),
        history: desk.export.clone(),
        senders: vec![ops, webhook],
        sent: desk.store.clone(),
    };
    let ports = RollupPorts {
        log: desk.log.clone(),
        customers: None,
        sink: desk.export.clone(),
        watermarks: desk.store.clone(),
        clock: desk.clock.clone(),
        alerting: Some(alerting),
    };
    Rollup::new(ports, RollupSettings::default(), Arc::new(desk.month.policies.clone()), KEY)
}

/// The weeks before the burst, exported by a backfill (which also tells the baselines
/// where history starts); the last day is left to the scheduled runs.
async fn backfill_history(rollup: &Rollup) {
    let day_before = burst_hour() - SignedDuration::from_hours(20);
    rollup.backfill(start(), day_before, None).await.expect("the backfill");
}

fn webhook_jobs(desk: &Desk) -> Vec<OutboundJob> {
    desk.outbound.bodies().iter().map(|body| open::<OutboundJob>(body).expect("an outbound job")).collect()
}

#[tokio::test]
async fn a_burst_alerts_ops_and_the_webhook_once_across_reruns_and_later_runs() {
    let desk = desk();
    let rollup = rollup(&desk, desk.ops.clone());
    backfill_history(&rollup).await;

    let first = rollup.run().await.expect("the first scheduled run");
    assert_eq!(first.alerts, 2, "one alert, to the topic and to the webhook: {first:?}");
    let sent = desk.ops.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let alert = &sent[0];
    assert_eq!((alert.spike.dimension.as_str(), alert.spike.value.as_str()), ("category", "delivery"));
    assert_eq!(alert.spike.hour, burst_hour());
    assert!(
        alert.spike.count >= 20 && alert.spike.baseline * 3.0 <= f64::from(alert.spike.count),
        "{alert:?}"
    );
    assert_eq!(alert.samples.len(), 5, "{alert:?}");
    let text = alert.text();
    for part in [
        "category \"delivery\"",
        &format!("{} new tickets", alert.spike.count),
        "usually",
        &alert.samples[0].to_string(),
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    let jobs = webhook_jobs(&desk);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].kind, OutboundKind::SpikeAlert);
    assert_eq!(jobs[0].destination, Destination::Webhook { url: HOOK.into() });
    assert_eq!(jobs[0].text, text);

    // The same run again, then the next 15-minute runs while the hour is still re-read.
    assert_eq!(rollup.run().await.expect("a rerun").alerts, 0);
    for _ in 0..5 {
        desk.clock.advance(Duration::from_secs(15 * 60));
        assert_eq!(rollup.run().await.expect("a later run").alerts, 0);
    }
    assert_eq!(desk.ops.sent().len(), 1);
    assert_eq!(webhook_jobs(&desk).len(), 1);
}

#[tokio::test]
async fn a_burst_lasting_two_hours_alerts_once() {
    let desk = desk();
    // The second hour of the burst, as large: it continues the spike.
    desk.log.append(burst(100_000, 20, burst_hour() + SignedDuration::from_hours(1)));
    desk.clock.advance(Duration::from_secs(3600));
    let rollup = rollup(&desk, desk.ops.clone());
    backfill_history(&rollup).await;
    rollup.run().await.expect("the scheduled run");
    let values: Vec<_> = desk.ops.sent().iter().map(|a| (a.spike.value.clone(), a.spike.hour)).collect();
    assert_eq!(values, [(String::from("delivery"), burst_hour())]);
}

#[tokio::test]
async fn a_failed_alert_is_retried_by_the_next_run_and_sent_once() {
    let desk = desk();
    let rollup = rollup(&desk, desk.ops.clone());
    backfill_history(&rollup).await;
    desk.ops.set_failing(true);
    let failed = rollup.run().await;
    assert!(matches!(failed, Err(RollupError::Alerts(_))), "{failed:?}");
    // The webhook's delivery went through and is not repeated.
    assert_eq!(webhook_jobs(&desk).len(), 1);

    desk.ops.set_failing(false);
    desk.clock.advance(Duration::from_secs(15 * 60));
    let retried = rollup.run().await.expect("the next run");
    assert_eq!(retried.alerts, 1, "{retried:?}");
    assert_eq!(desk.ops.sent().len(), 1);
    assert_eq!(webhook_jobs(&desk).len(), 1);
}

#[tokio::test]
async fn ordinary_weeks_through_the_rollup_alert_nobody() {
    let month = generate(11, start(), WEEKS * 7, 1.0);
    let mut desk = desk();
    desk.log = Arc::new(MemoryEventLog::default());
    desk.log.append(month.events.iter().cloned());
    desk.month = month;
    let rollup = rollup(&desk, desk.ops.clone());
    backfill_history(&rollup).await;
    rollup.run().await.expect("the scheduled run");
    assert!(desk.ops.sent().is_empty(), "{:?}", desk.ops.sent());
    assert!(webhook_jobs(&desk).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sns_adapter_publishes_one_alert_per_spike_to_the_ops_topic_on_moto() {
    let Some(Backend::Moto(endpoint)) = Backend::moto() else {
        eprintln!("skipped: no moto endpoint (set {})", omnidesk_tests::MOTO_ENDPOINT_ENV);
        return;
    };
    let sdk = omnidesk_local::backend::sdk_for_endpoint(&endpoint).await;
    let clients = omnidesk_aws::Clients::new(&sdk);
    let name = format!("spikes-{}-{}", std::process::id(), Timestamp::now().as_millisecond());
    let topic = clients.sns().create_topic().name(&name).send().await.expect("create topic");
    let topic_arn = topic.topic_arn().expect("a topic arn").to_owned();
    // What the ops mailbox would get, read back through a queue subscribed to the topic.
    let queue = clients.sqs().create_queue().queue_name(&name).send().await.expect("create queue");
    let queue_url = queue.queue_url().expect("a queue url").to_owned();
    let queue_arn = format!("arn:aws:sqs:us-east-1:123456789012:{name}");
    clients
        .sns()
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .expect("subscribe");

    let desk = desk();
    let rollup = rollup(&desk, Arc::new(clients.spike_alerts(&topic_arn)));
    backfill_history(&rollup).await;
    assert_eq!(rollup.run().await.expect("the scheduled run").alerts, 2);
    desk.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(rollup.run().await.expect("the next run").alerts, 0);

    let mut bodies = Vec::new();
    for _ in 0..3 {
        let received = clients
            .sqs()
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        bodies.extend(received.messages().iter().filter_map(|m| m.body().map(str::to_owned)));
    }
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let notification: serde_json::Value = serde_json::from_str(&bodies[0]).expect("an SNS notification");
    let subject = notification["Subject"].as_str().unwrap_or_default();
    let message = notification["Message"].as_str().unwrap_or_default();
    assert!(subject.starts_with("omnidesk spike: category delivery"), "{subject}");
    assert!(message.contains("category \"delivery\"") && message.contains("Sample tickets: #"), "{message}");
}
