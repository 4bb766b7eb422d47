//! Proactive notices and returns on the in-memory store, with the shop's memory twin.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::memory::{ManualClock, MemoryStore};
use crate::model::{Channel, Customer, CustomerId, EventKind, Identity, Ticket, TicketNumber};
use crate::orders::{
    FinancialStatus, FulfillmentStatus, MemoryOrders, NoticeRules, Order, OrderLine, OrderSignal,
    ReturnAction, ReturnRules, ReturnState, Shipment, ShipmentStatus,
};
use crate::ports::{CustomerStore, TicketCommit, TicketStore};
use crate::sla::{EscalationSpec, SlaConfig, TimerKind};

const START: i64 = 1_795_424_400;
const DAY: i64 = 86_400;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn order(name: &str, status: ShipmentStatus, delivered: Option<i64>, promised: Option<i64>) -> Order {
    Order {
        id: format!("gid-{name}"),
        name: name.into(),
        email: Some("mei@example.com".into()),
        phone: None,
        created_at: at(START - 20 * DAY),
        cancelled: false,
        financial: FinancialStatus::Paid,
        fulfillment: FulfillmentStatus::Fulfilled,
        lines: vec![OrderLine {
            id: "l1".into(),
            title: "Teapot".into(),
            quantity: 1,
            sku: None,
            category: None,
        }],
        shipments: vec![Shipment {
            status,
            carrier: Some("SF Express".into()),
            tracking_number: Some("SF100".into()),
            tracking_url: None,
            promised_at: promised.map(at),
            delivered_at: delivered.map(at),
        }],
    }
}

struct Fixture {
    desk: AgentDesk,
    store: Arc<MemoryStore>,
    shop: Arc<MemoryOrders>,
    clock: Arc<ManualClock>,
}

fn fixture(sla: Option<SlaConfig>) -> Fixture {
    let clock = Arc::new(ManualClock::new(at(START)));
    let store = Arc::new(MemoryStore::new());
    let shop = Arc::new(MemoryOrders::new(vec![
        order("#1001", ShipmentStatus::InTransit, None, Some(START - 3 * DAY)),
        order("#1002", ShipmentStatus::Delivered, Some(START - 2 * DAY), None),
        order("#1003", ShipmentStatus::Delivered, Some(START - 60 * DAY), None),
    ]));
    let ports = crate::memory::desk_ports(store.clone(), clock.clone());
    let returns = ReturnRules {
        approve_within_minutes: Some(60),
        non_returnable: BTreeSet::new(),
        ..ReturnRules::default()
    };
    let shop_desk = ShopDesk { orders: shop.clone(), notices: NoticeRules::default(), returns };
    let mut desk = AgentDesk::new(ports, None, EmailRules::default()).with_shop(Arc::new(shop_desk));
    if let Some(config) = sla {
        desk = desk.with_sla(Arc::new(config.validate().unwrap()));
    }
    Fixture { desk, store, shop, clock }
}

async fn mei_ticket(f: &Fixture) -> TicketNumber {
    let identity = Identity::email("mei@example.com").unwrap();
    let customer = Customer::new(CustomerId::new("cus_mei"), None, vec![identity], at(START));
    f.store.create(&customer).await.unwrap();
    let (ticket, created) =
        Ticket::open(TicketNumber(1), Channel::Email, "return".into(), customer.id, None, at(START));
    let commit = TicketCommit {
        ticket,
        expected_version: None,
        messages: Vec::new(),
        events: vec![created],
        thread_claims: Vec::new(),
        idempotency: None,
    };
    f.store.commit(commit).await.unwrap();
    TicketNumber(1)
}

fn signal(order: &str) -> OrderSignal {
    OrderSignal { order: order.into(), topic: "fulfillments/update".into(), delivery: "d1".into() }
}

fn staff() -> Staff {
    Staff("li".into())
}

#[tokio::test]
async fn a_late_parcel_webhook_delivered_three_times_opens_one_ticket_with_one_message() {
    let f = fixture(None);
    for _ in 0..3 {
        let outcomes = f.desk.check_order(&signal("#1001")).await.unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].ticket, TicketNumber(1));
    }
    assert!(f.store.ticket(TicketNumber(2)).await.unwrap().is_none(), "one ticket");
    let events = f.store.events(TicketNumber(1)).await.unwrap();
    let notices = events.iter().filter(|e| matches!(e.kind, EventKind::ProactiveNotice { .. })).count();
    assert_eq!(notices, 1);
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::OrderLinked { order } if order == "#1001")));
    let messages = f.store.messages(TicketNumber(1)).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].text.contains("#1001") && messages[0].text.contains("SF100"), "{}", messages[0].text);
    // Each delivery queues the same job; the dispatcher sends a job id once.
    let queued = f.desk.ports().outbound.receive(10).await.unwrap();
    let ids: BTreeSet<String> = queued
        .iter()
        .map(|r| crate::envelope::open::<crate::outbound::OutboundJob>(&r.body).unwrap().id)
        .collect();
    assert_eq!(ids, BTreeSet::from(["notice:#1001:late".to_owned()]));
}

#[tokio::test]
async fn a_parcel_on_time_or_delivered_sends_no_notice() {
    let f = fixture(None);
    assert!(f.desk.check_order(&signal("#1002")).await.unwrap().is_empty());
    assert!(f.desk.check_order(&signal("#9999")).await.unwrap().is_empty());
    assert!(f.store.ticket(TicketNumber(1)).await.unwrap().is_none());
}

#[tokio::test]
async fn a_return_goes_through_every_state_with_an_event_and_a_message_each() {
    let f = fixture(None);
    let number = mei_ticket(&f).await;
    let start =
        StartReturn { order: "#1002".into(), line: "l1".into(), reason: "too small".into(), damaged: false };
    let outcome = f.desk.start_return(&staff(), number, &start).await.unwrap();
    assert_eq!(outcome.allowed, [ReturnAction::Approve, ReturnAction::Reject]);
    let mut version = outcome.version;
    for action in
        [ReturnAction::Approve, ReturnAction::SendLabel, ReturnAction::Receive, ReturnAction::Refund]
    {
        version = f.desk.return_step(&staff(), number, action, None, Some(version)).await.unwrap().version;
    }
    let ticket = f.store.ticket(number).await.unwrap().unwrap();
    let case = ticket.order.unwrap().returned.unwrap();
    assert_eq!(case.state, ReturnState::Refunded);
    assert_eq!(case.refund_status.as_deref(), Some("paid"), "read back from the shop");
    let names: Vec<&str> = f
        .store
        .events(number)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind.name())
        .filter(|n| n.starts_with("return_") || *n == "refunded")
        .collect();
    assert_eq!(
        names,
        ["return_requested", "return_approved", "return_label_sent", "return_received", "refunded"]
    );
    assert_eq!(f.store.messages(number).await.unwrap().len(), 5, "the customer is told at each step");
}

#[tokio::test]
async fn an_invalid_return_transition_is_a_conflict_naming_the_allowed_ones() {
    let f = fixture(None);
    let number = mei_ticket(&f).await;
    let start =
        StartReturn { order: "#1002".into(), line: "l1".into(), reason: "too small".into(), damaged: false };
    f.desk.start_return(&staff(), number, &start).await.unwrap();
    let refused = f.desk.return_step(&staff(), number, ReturnAction::Refund, None, None).await;
    match refused {
        Err(DeskError::Conflict(message)) => {
            assert!(message.contains("allowed: approve, reject"), "{message}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn a_return_outside_the_window_is_refused_with_the_rule() {
    let f = fixture(None);
    let number = mei_ticket(&f).await;
    let start = StartReturn {
        order: "#1003".into(),
        line: "l1".into(),
        reason: "changed my mind".into(),
        damaged: false,
    };
    match f.desk.start_return(&staff(), number, &start).await {
        Err(DeskError::Refused(rule)) => assert!(rule.contains("within 30 days of delivery"), "{rule}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_return_of_someone_elses_order_is_refused() {
    let f = fixture(None);
    let number = mei_ticket(&f).await;
    let mut foreign = order("#2001", ShipmentStatus::Delivered, Some(START - DAY), None);
    foreign.email = Some("eve@example.com".into());
    f.shop.put(foreign);
    let start = StartReturn { order: "#2001".into(), line: "l1".into(), reason: "x".into(), damaged: false };
    assert!(matches!(f.desk.start_return(&staff(), number, &start).await, Err(DeskError::Refused(_))));
}

#[tokio::test]
async fn a_missed_return_approval_deadline_breaches_and_escalates() {
    let sla = SlaConfig {
        escalations: vec![EscalationSpec {
            name: "late returns".into(),
            timers: vec![TimerKind::ReturnStep],
            to_team: Some("returns-lead".into()),
            ..EscalationSpec::default()
        }],
        ..SlaConfig::default()
    };
    let f = fixture(Some(sla.clone()));
    let number = mei_ticket(&f).await;
    let start =
        StartReturn { order: "#1002".into(), line: "l1".into(), reason: "too small".into(), damaged: false };
    f.desk.start_return(&staff(), number, &start).await.unwrap();
    let mut ticket = f.store.ticket(number).await.unwrap().unwrap();
    let timer = ticket.sla.timer(TimerKind::ReturnStep).expect("the approval step runs a timer");
    assert!(ticket.due_at.is_some_and(|due| due <= timer.due_at), "on the due index");
    f.clock.advance(Duration::from_secs(30 * 86_400));
    let policies = sla.validate().unwrap();
    let change = policies.sweep(&mut ticket, f.clock.now());
    let kinds: Vec<&str> = change.events.iter().map(|e| e.kind.name()).collect();
    assert!(kinds.contains(&"sla_breached") && kinds.contains(&"escalated"), "{kinds:?}");
    assert_eq!(ticket.team.as_deref(), Some("returns-lead"));
}
