//! What the phone channel costs on AWS, counted on the real SDK against moto: the table
//! reads of each contact-flow answer (Connect waits while they run: at most two), and the
//! requests each contact event makes at the edge (phone-events), in the router and in the
//! dispatcher (callback tasks). Used by the moto test that holds the flow to two reads and
//! by the `phone` benchmark that prints the figures.

use std::sync::Arc;

use omnidesk_aws::{Clients, MeterSnapshot, RequestMeter};
use omnidesk_domain::memory::RecordingNotifier;
use omnidesk_domain::system::SystemClock;
use omnidesk_local::provision::ProvisionOptions;
use omnidesk_local::{DeskPorts, LocalDesk, backend};

use crate::agent_scenarios::STAFF;
use crate::phone_scenarios::{contact_event, flow_event};
use crate::test_config_with;

/// A round-the-clock line (no after-hours branch), callbacks due within an hour.
const PHONE: &str = r#"
[phone]
default_team = "frontline"
callback_minutes = 60

[sla]
default_calendar = "24x7"
"#;

/// The events of one call: answered, or abandoned in the queue (every second caller).
fn call_events(contact: &str, answered: bool) -> Vec<serde_json::Value> {
    let at = jiff::Timestamp::now();
    let kinds: &[&str] = if answered {
        &["initiated", "connected-to-system", "queued", "connected-to-agent", "disconnected", "completed"]
    } else {
        &["initiated", "connected-to-system", "queued", "disconnected-abandoned"]
    };
    kinds.iter().map(|kind| contact_event(kind, contact, at)).collect()
}

/// Per stage: Lambda invocations (or batches), records and the requests counted.
#[derive(Debug, Default, Clone)]
pub struct StageUsage {
    pub invocations: u64,
    pub records: u64,
    pub usage: MeterSnapshot,
}

#[derive(Debug, Default, Clone)]
pub struct PhoneRequests {
    /// Flow answers measured, by kind of caller.
    pub known_flows: u64,
    pub unknown_flows: u64,
    pub withheld_flows: u64,
    /// The most DynamoDB read requests (GetItem, Query, BatchGetItem) one answer made.
    pub max_reads_per_known_flow: u64,
    pub max_reads_per_unknown_flow: u64,
    pub max_reads_per_withheld_flow: u64,
    /// Everything the flow answers did (reads and the per-contact note).
    pub flows: MeterSnapshot,
    pub edge: StageUsage,
    pub router: StageUsage,
    pub dispatcher: StageUsage,
    /// Callback tasks the dispatcher started (StartTaskContact on AWS; the twin here).
    pub tasks: u64,
}

fn reads(usage: &MeterSnapshot) -> u64 {
    ["GetItem", "Query", "BatchGetItem"].iter().map(|op| usage.calls_to("DynamoDB", op)).sum()
}

fn add(into: &mut MeterSnapshot, part: &MeterSnapshot) {
    for (key, count) in &part.calls {
        *into.calls.entry(key.clone()).or_default() += count;
    }
    into.dynamodb_rcu += part.dynamodb_rcu;
    into.dynamodb_wcu += part.dynamodb_wcu;
    into.estimated_rcu += part.estimated_rcu;
    into.estimated_wcu += part.estimated_wcu;
}

/// `callers` callers, each calling twice (the second time the desk knows them and their open
/// ticket), every second call abandoned; plus one withheld number. On a fresh desk on moto.
pub async fn measure_on_moto(endpoint: &str, callers: usize) -> PhoneRequests {
    let sdk = backend::sdk_for_endpoint(endpoint).await;
    let meter = RequestMeter::estimating();
    let clients = Clients::new(&sdk).with_meter(meter.clone());
    let prefix = format!("phone{}-", std::process::id());
    let options = ProvisionOptions { prefix, visibility_timeout: Some(1) };
    let (ports, _) = DeskPorts::aws(&clients, &options).await.expect("provision on moto");
    let config = test_config_with("http://127.0.0.1:9/none", 1_000, &format!("{STAFF}{PHONE}"));
    let desk = Arc::new(LocalDesk::with_notifier(
        config,
        Arc::new(SystemClock),
        ports,
        Arc::new(RecordingNotifier::default()),
    ));
    let mut result = PhoneRequests::default();
    for round in 0..2 {
        for caller in 0..callers {
            let number = format!("+86138{:08}", caller);
            let contact = format!("call-{round}-{caller}");
            let before = meter.snapshot();
            let answer = desk.phone.handle(&flow_event(&contact, Some(&number))).await.expect("answered");
            let usage = meter.snapshot().since(&before);
            let known = answer.to_json()["known"] == "true";
            assert_eq!(known, round == 1, "{number} in round {round}");
            if known {
                result.known_flows += 1;
                result.max_reads_per_known_flow = result.max_reads_per_known_flow.max(reads(&usage));
            } else {
                result.unknown_flows += 1;
                result.max_reads_per_unknown_flow = result.max_reads_per_unknown_flow.max(reads(&usage));
            }
            add(&mut result.flows, &usage);
            let before = meter.snapshot();
            for event in call_events(&contact, (caller + round) % 2 == 0) {
                desk.phone.handle(&event).await.expect("queued");
                result.edge.invocations += 1;
                result.edge.records += 1;
            }
            add(&mut result.edge.usage, &meter.snapshot().since(&before));
        }
        drain(&desk, &meter, &mut result).await;
    }
    let before = meter.snapshot();
    desk.phone.handle(&flow_event("call-withheld", None)).await.expect("answered");
    let usage = meter.snapshot().since(&before);
    result.withheld_flows = 1;
    result.max_reads_per_withheld_flow = reads(&usage);
    add(&mut result.flows, &usage);
    result
}

/// The router, then the dispatcher, as Lambda's pollers would run them.
async fn drain(desk: &LocalDesk, meter: &RequestMeter, result: &mut PhoneRequests) {
    let before = meter.snapshot();
    loop {
        match desk.poll_inbound().await.expect("inbound poll") {
            0 => break,
            n => {
                result.router.invocations += 1;
                result.router.records += n as u64;
            }
        }
    }
    add(&mut result.router.usage, &meter.snapshot().since(&before));
    let before = meter.snapshot();
    loop {
        match desk.poll_outbound().await.expect("outbound poll") {
            0 => break,
            n => {
                result.dispatcher.invocations += 1;
                result.dispatcher.records += n as u64;
                result.tasks += n as u64;
            }
        }
    }
    add(&mut result.dispatcher.usage, &meter.snapshot().since(&before));
}
