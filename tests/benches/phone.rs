//! The phone channel: contact-flow answers timed in memory (the caller lookup, routing and
//! after-hours check, the per-contact note), and, with moto running, the requests the flow
//! and each contact event make on the real SDK.
//!
//! ```sh
//! cargo bench --workspace --bench phone -- [invocations]        # default 10000
//! source scripts/moto.sh; cargo bench --workspace --bench phone -- 10000 moto; moto_stop
//! ```
//!
//! The store holds 5,000 customers with a phone number and one or two tickets each; of the
//! invocations 70 % come from known callers, 25 % from unknown numbers and 5 % withheld.
//! One thread; no timed assertions anywhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use omnidesk_domain::memory::{MemoryCallNotes, MemoryStore};
use omnidesk_domain::model::{Channel, Customer, CustomerId, Identity, TicketNumber};
use omnidesk_domain::phone::flow::ContactFlow;
use omnidesk_domain::ports::{CustomerStore, TicketCommit, TicketStore};
use omnidesk_domain::system::SystemClock;
use omnidesk_tests::agent_scenarios::STAFF;
use omnidesk_tests::phone_accounting::{PhoneRequests, StageUsage, measure_on_moto};
use omnidesk_tests::phone_scenarios::flow_event;
use omnidesk_tests::stats::percentile;
use omnidesk_tests::{MOTO_ENDPOINT_ENV, test_config_with};

const CUSTOMERS: u64 = 5_000;

const CONFIG: &str = r#"
[phone]
default_team = "frontline"
team_queues = { frontline = "FrontlineQueue", complaints = "ComplaintsQueue" }

[sla]
"#;

fn number(i: u64) -> String {
    format!("+86138{i:08}")
}

async fn seed(store: &MemoryStore) {
    let now = jiff::Timestamp::now();
    let mut ticket_number = 0;
    for i in 0..CUSTOMERS {
        let id = CustomerId::new(format!("cus_{i}"));
        let mut customer = Customer::new(
            id.clone(),
            Some(format!("Caller {i}")),
            vec![Identity::Phone { number: number(i) }],
            now,
        );
        customer.tier = (i % 10 == 0).then(|| "vip".to_owned());
        store.create(&customer).await.expect("customer");
        for _ in 0..=(i % 2) {
            ticket_number += 1;
            let (ticket, created) = omnidesk_domain::model::Ticket::open(
                TicketNumber(ticket_number),
                Channel::Email,
                "Parcel".into(),
                id.clone(),
                None,
                now,
            );
            let commit = TicketCommit {
                ticket,
                expected_version: None,
                messages: vec![],
                events: vec![created],
                thread_claims: vec![],
                idempotency: None,
            };
            store.commit(commit).await.expect("ticket");
        }
    }
}

fn caller(i: u64) -> Option<String> {
    match i % 20 {
        0 => None,                                           // 5 % withheld
        1..=5 => Some(number(CUSTOMERS + i)),                // 25 % unknown
        _ => Some(number(i.wrapping_mul(7919) % CUSTOMERS)), // 70 % known
    }
}

fn per(count: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { count as f64 / of as f64 }
}

fn print_stage(name: &str, stage: &StageUsage, events: u64) {
    let calls = &stage.usage;
    let mut ops: Vec<String> = calls
        .calls
        .iter()
        .map(|((service, op), n)| format!("{service} {op} {:.2}", per(*n, events)))
        .collect();
    ops.sort();
    println!(
        "  {name:<11} invocations {:.2}, AWS requests {:.2} per event: {}",
        per(stage.invocations, events),
        per(calls.total_calls(), events),
        ops.join(", ")
    );
}

fn print_requests(r: &PhoneRequests) {
    let flows = r.known_flows + r.unknown_flows + r.withheld_flows;
    println!(
        "contact-flow answers on moto: {flows} ({} known, {} unknown, {} withheld); DynamoDB reads per answer at most: known {}, unknown {}, withheld {}; per answer on average: {:.2} GetItem, {:.2} Query, {:.2} PutItem (the contact's note), {:.2} RCU",
        r.known_flows,
        r.unknown_flows,
        r.withheld_flows,
        r.max_reads_per_known_flow,
        r.max_reads_per_unknown_flow,
        r.max_reads_per_withheld_flow,
        per(r.flows.calls_to("DynamoDB", "GetItem"), flows),
        per(r.flows.calls_to("DynamoDB", "Query"), flows),
        per(r.flows.calls_to("DynamoDB", "PutItem"), flows),
        r.flows.estimated_rcu / flows.max(1) as f64,
    );
    let events = r.edge.records;
    println!("contact events on moto: {events} ({} callback tasks)", r.tasks);
    print_stage("phone-events", &r.edge, events);
    print_stage("router", &r.router, events);
    print_stage("dispatcher", &r.dispatcher, events);
    let invocations = r.edge.invocations + r.router.invocations + r.dispatcher.invocations;
    let requests =
        r.edge.usage.total_calls() + r.router.usage.total_calls() + r.dispatcher.usage.total_calls();
    // Each callback task is one StartTaskContact on AWS (the Connect twin here).
    let billable = invocations + requests + r.tasks;
    println!(
        "  billable requests per contact event: {:.2} (Lambda {:.2}, AWS API {:.2}, Connect StartTaskContact {:.2}); DynamoDB WCU {:.2}, RCU {:.2} per event",
        per(billable, events),
        per(invocations, events),
        per(requests, events),
        per(r.tasks, events),
        (r.edge.usage.estimated_wcu + r.router.usage.estimated_wcu + r.dispatcher.usage.estimated_wcu)
            / events.max(1) as f64,
        (r.edge.usage.estimated_rcu + r.router.usage.estimated_rcu + r.dispatcher.usage.estimated_rcu)
            / events.max(1) as f64,
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let invocations: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let config = test_config_with("http://127.0.0.1:9/unused", 30_000, &format!("{STAFF}{CONFIG}"));
    let store = Arc::new(MemoryStore::new());
    seed(&store).await;
    let notes = Arc::new(MemoryCallNotes::default());
    let mut flow = ContactFlow::new(store.clone(), notes, Arc::new(SystemClock), config.phone_rules());
    if let Ok(Some(routing)) = config.routing() {
        flow = flow.with_routing(routing);
    }
    if let Ok(Some(sla)) = config.sla_policies() {
        flow = flow.with_sla(sla);
    }
    let events: Vec<serde_json::Value> =
        (0..invocations).map(|i| flow_event(&format!("contact-{i}"), caller(i).as_deref())).collect();
    let mut samples = Vec::with_capacity(events.len());
    let mut known = 0;
    let started = Instant::now();
    for event in &events {
        let begin = Instant::now();
        let answer = flow.answer(event).await;
        samples.push(begin.elapsed());
        known += u64::from(answer.get("known").is_some_and(|k| k == "true"));
    }
    let total = started.elapsed();
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "contact-flow answers in memory: {invocations} ({known} known) over {CUSTOMERS} customers: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs; {:.0} answers/s",
        us(percentile(&samples, 0.50)),
        us(percentile(&samples, 0.99)),
        us(samples.last().copied().unwrap_or_default()),
        invocations as f64 / total.as_secs_f64(),
    );
    let on_moto = std::env::args().any(|a| a == "moto");
    match std::env::var(MOTO_ENDPOINT_ENV) {
        Ok(endpoint) if on_moto && !endpoint.is_empty() => {
            print_requests(&measure_on_moto(&endpoint, 50).await)
        }
        _ if on_moto => eprintln!("moto: set {MOTO_ENDPOINT_ENV} (source scripts/moto.sh)"),
        _ => {}
    }
}
