//! Proactive notices and returns on the in-memory store, with the shop's memory twin.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::memory::{ManualClock, MemoryStore};
use crate::model::{
    Actor, AuthorKind, Channel, ChannelRef, Customer, CustomerId, Direction, EventKind, Identity, Message,
    MessageId, Ticket, TicketNumber, Visibility,
};
use crate::orders::fixtures::an_order;
use crate::orders::{
    MemoryOrders, NoticeRules, Order, OrderSignal, ReturnAction, ReturnRules, ReturnState, ShipmentStatus,
};
use crate::outbound::{Destination, OutboundJob};
use crate::ports::{CustomerStore, TicketCommit, TicketStore};
use crate::sla::{EscalationSpec, SlaConfig, TimerKind};

const START: i64 = 1_795_424_400;
const DAY: i64 = 86_400;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn order(name: &str, status: ShipmentStatus, delivered: Option<i64>, promised: Option<i64>) -> Order {
    let mut order = an_order(name).created(at(START - 20 * DAY)).status(status);
    if let Some(day) = delivered {
        order = order.delivered(at(day));
    }
    if let Some(day) = promised {
        order = order.promised(at(day));
    }
    order.build()
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
    let shop_desk = ShopDesk { orders: shop.clone(), notices: NoticeRules::default(), returns, links: None };
    let mut desk = AgentDesk::new(ports, None, EmailRules::default()).with_shop(Arc::new(shop_desk));
    if let Some(config) = sla {
        desk = desk.with_sla(Arc::new(config.validate().unwrap()));
    }
    Fixture { desk, store, shop, clock }
}

async fn mei_ticket(f: &Fixture) -> TicketNumber {
    mei_ticket_on(f, Channel::Email, None).await
}

/// Mei's ticket #1 on `channel`, with her message `text` (a chat message on a chat ticket).
async fn mei_ticket_on(f: &Fixture, channel: Channel, text: Option<&str>) -> TicketNumber {
    let identity = Identity::email("mei@example.com").unwrap();
    let customer = Customer::new(CustomerId::new("cus_mei"), None, vec![identity], at(START));
    f.store.create(&customer).await.unwrap();
    let number = f.store.allocate_number().await.unwrap();
    let (mut ticket, created) =
        Ticket::open(number, channel, "return".into(), customer.id.clone(), None, at(START));
    let mut events = vec![created];
    let mut messages = Vec::new();
    if let Some(text) = text {
        let channel_ref = match channel {
            Channel::Chat => ChannelRef::Chat {
                inbox: "web".into(),
                conversation_id: "conv-mei".into(),
                message_id: "m1".into(),
            },
            _ => ChannelRef::None,
        };
        let message = Message {
            id: MessageId::new("m1"),
            ticket: number,
            direction: Direction::Inbound,
            author: AuthorKind::Customer,
            author_id: Some(customer.id.to_string()),
            visibility: Visibility::Public,
            text: text.into(),
            attachments: Vec::new(),
            channel_ref,
            created_at: at(START),
            flags: Default::default(),
        };
        events
            .extend(ticket.add_message(&Actor::Customer(customer.id.clone()), &message, at(START)).unwrap());
        messages.push(message);
    }
    let commit = TicketCommit {
        ticket,
        expected_version: None,
        messages,
        events,
        thread_claims: Vec::new(),
        idempotency: None,
    };
    f.store.commit(commit).await.unwrap();
    number
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

/// The customer's words on each step of a return on a ticket where they wrote `text`.
async fn step_messages(text: &str, reject: bool) -> Vec<String> {
    let f = fixture(None);
    let number = mei_ticket_on(&f, Channel::Chat, Some(text)).await;
    let start =
        StartReturn { order: "#1002".into(), line: "l1".into(), reason: "too small".into(), damaged: false };
    f.desk.start_return(&staff(), number, &start).await.unwrap();
    let steps: &[ReturnAction] = if reject {
        &[ReturnAction::Reject]
    } else {
        &[ReturnAction::Approve, ReturnAction::SendLabel, ReturnAction::Receive, ReturnAction::Exchange]
    };
    for action in steps {
        let reason = (*action == ReturnAction::Reject).then_some("worn");
        f.desk.return_step(&staff(), number, *action, reason, None).await.unwrap();
    }
    f.store
        .messages(number)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::Outbound)
        .map(|m| m.text)
        .collect()
}

#[tokio::test]
async fn return_messages_follow_the_conversations_language_at_every_step_in_chinese_and_english() {
    // Requested, approved, label sent, received, exchanged; and rejected.
    let zh = step_messages("我要退这个茶壶", false).await;
    assert_eq!(zh.len(), 5);
    let zh_starts = [
        "已收到订单 #1002 的退换货申请",
        "订单 #1002 的退换货申请已通过",
        "订单 #1002 的退货标签已发送",
        "我们已收到订单 #1002 的退货",
        "订单 #1002 的换货已寄出",
    ];
    for (text, start) in zh.iter().zip(zh_starts) {
        assert!(text.starts_with(start), "{text}");
    }
    let en = step_messages("I would like to return the teapot", false).await;
    let en_starts = [
        "We received your return request",
        "Your return for order #1002 is approved",
        "The return label for order #1002",
        "We received the item from order #1002",
        "The replacement for order #1002",
    ];
    for (text, start) in en.iter().zip(en_starts) {
        assert!(text.starts_with(start), "{text}");
    }
    let rejected_zh = step_messages("茶壶不想要了", true).await;
    assert!(rejected_zh[1].starts_with("抱歉,订单 #1002 的退换货申请未通过:worn"), "{}", rejected_zh[1]);
    let rejected_en = step_messages("I don't want the teapot", true).await;
    assert!(
        rejected_en[1].starts_with("Sorry, your return for order #1002 was not approved: worn"),
        "{}",
        rejected_en[1]
    );
    let refunded = {
        let f = fixture(None);
        let number = mei_ticket_on(&f, Channel::Chat, Some("退货")).await;
        let start =
            StartReturn { order: "#1002".into(), line: "l1".into(), reason: "x".into(), damaged: false };
        f.desk.start_return(&staff(), number, &start).await.unwrap();
        for action in
            [ReturnAction::Approve, ReturnAction::SendLabel, ReturnAction::Receive, ReturnAction::Refund]
        {
            f.desk.return_step(&staff(), number, action, None, None).await.unwrap();
        }
        f.store.messages(number).await.unwrap().pop().unwrap().text
    };
    assert!(refunded.starts_with("订单 #1002 的退款已完成"), "{refunded}");
}

#[tokio::test]
async fn a_late_parcel_notice_goes_into_the_customers_open_chat_once_instead_of_a_mail() {
    let f = fixture(None);
    let chat = mei_ticket_on(&f, Channel::Chat, Some("hello, any news?")).await;
    for _ in 0..3 {
        let outcomes = f.desk.check_order(&signal("#1001")).await.unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].ticket, chat, "said in the open chat, no ticket of its own");
    }
    assert!(f.store.ticket(TicketNumber(2)).await.unwrap().is_none());
    let events = f.store.events(chat).await.unwrap();
    assert_eq!(events.iter().filter(|e| matches!(e.kind, EventKind::ProactiveNotice { .. })).count(), 1);
    let jobs: Vec<OutboundJob> = f
        .desk
        .ports()
        .outbound
        .receive(10)
        .await
        .unwrap()
        .iter()
        .map(|r| crate::envelope::open::<OutboundJob>(&r.body).unwrap())
        .collect();
    assert!(!jobs.is_empty());
    for job in &jobs {
        assert_eq!(job.id, "notice:#1001:late");
        assert!(
            matches!(&job.destination, Destination::Chat { conversation_id, .. } if conversation_id == "conv-mei"),
            "{:?}",
            job.destination
        );
    }
}

#[tokio::test]
async fn a_late_parcel_notice_is_mailed_when_the_customers_chat_is_solved() {
    let f = fixture(None);
    let chat = mei_ticket_on(&f, Channel::Chat, Some("hello")).await;
    let mut ticket = f.store.ticket(chat).await.unwrap().unwrap();
    let expected = ticket.version;
    let events = ticket.set_status(&Actor::System, crate::model::Status::Solved, at(START)).unwrap();
    let commit = TicketCommit {
        ticket,
        expected_version: Some(expected),
        messages: Vec::new(),
        events: events.into_iter().collect(),
        thread_claims: Vec::new(),
        idempotency: None,
    };
    f.store.commit(commit).await.unwrap();
    let outcomes = f.desk.check_order(&signal("#1001")).await.unwrap();
    assert_eq!(outcomes[0].ticket, TicketNumber(2), "a ticket of its own");
    let job = outcomes[0].job.as_ref().expect("a job");
    assert!(matches!(&job.destination, Destination::Email(mail) if mail.to == "mei@example.com"));
}
