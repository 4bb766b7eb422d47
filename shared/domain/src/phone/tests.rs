//! The phone channel: caller ids, the contact-flow answer, contact events through the
//! router, missed calls and their callbacks on the Shanghai calendar.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::{Date, date, time};
use serde_json::{Value, json};

use super::events::ContactEventEnvelope;
use super::flow::{ContactFlow, FlowAnswer, keys};
use super::ports::{CallNotes, CallerDirectory, CallerRecord};
use super::{Caller, PhoneRules};
use crate::envelope::open;
use crate::inbound::{InboundMessage, MissedReason, Source};
use crate::memory::{ManualClock, MemoryCallNotes, MemoryQueue, MemoryStore, QueueSettings, router_ports};
use crate::model::{Customer, CustomerId, EventKind, Identity, Priority, TicketNumber};
use crate::outbound::{Destination, OutboundJob};
use crate::ports::{Clock, CustomerStore, Queue, StoreError, TicketStore};
use crate::router::{Acknowledgements, TicketRouter};
use crate::sla::{CalendarSpec, Interval, MakeUpDay, SlaConfig, SlaPolicies, TimerKind, WeeklyHours};

const CONTACT: &str = "5ca32fbd-8f92-46af-92a5-6b0f970f0efe";

fn sh(d: Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz("Asia/Shanghai").unwrap().timestamp()
}

/// Mon–Fri 09:00–18:00 in Shanghai; National Day 1–7 October 2026 off, Saturday 10 October
/// worked in return.
fn policies() -> SlaPolicies {
    let hours = vec![Interval::new(time(9, 0, 0, 0), time(18, 0, 0, 0))];
    let business = CalendarSpec {
        time_zone: "Asia/Shanghai".into(),
        always_open: false,
        hours: WeeklyHours::weekdays(hours.clone()),
        holidays: (1..=7).map(|d| date(2026, 10, d)).collect(),
        make_up_days: vec![MakeUpDay { date: date(2026, 10, 10), hours }],
    };
    SlaConfig { calendars: BTreeMap::from([("business".to_owned(), business)]), ..SlaConfig::default() }
        .validate()
        .unwrap()
}

#[test]
fn a_national_number_reads_as_the_default_region_and_becomes_e164() {
    let cn = PhoneRules::default();
    assert_eq!(Caller::of(Some("138 0013 8000"), &cn), Caller::Number("+8613800138000".into()));
    assert_eq!(Caller::of(Some("+1 650-253-0000"), &cn), Caller::Number("+16502530000".into()));
    let us = PhoneRules { default_region: phonenumber::country::Id::US, ..PhoneRules::default() };
    assert_eq!(Caller::of(Some("(650) 253-0000"), &us), Caller::Number("+16502530000".into()));
}

#[test]
fn withheld_missing_and_malformed_numbers_are_withheld() {
    let rules = PhoneRules::default();
    for raw in [None, Some(""), Some("anonymous"), Some("Restricted"), Some("+0"), Some("12")] {
        assert_eq!(Caller::of(raw, &rules), Caller::Withheld, "{raw:?}");
    }
}

#[test]
fn the_next_business_minute_skips_nights_weekends_and_holidays_and_takes_make_up_days() {
    let policies = policies();
    let calendar = policies.team_calendar(None);
    let cases = [
        ("in hours: at once", sh(date(2026, 9, 29), 10, 15), sh(date(2026, 9, 29), 10, 15)),
        ("evening: next morning", sh(date(2026, 9, 28), 19, 30), sh(date(2026, 9, 29), 9, 0)),
        ("before opening", sh(date(2026, 9, 29), 7, 5), sh(date(2026, 9, 29), 9, 0)),
        ("eve of the holiday week", sh(date(2026, 9, 30), 18, 0), sh(date(2026, 10, 8), 9, 0)),
        ("inside the holiday", sh(date(2026, 10, 3), 11, 0), sh(date(2026, 10, 8), 9, 0)),
        ("friday night: the make-up saturday", sh(date(2026, 10, 9), 20, 0), sh(date(2026, 10, 10), 9, 0)),
        ("an ordinary weekend", sh(date(2026, 10, 16), 18, 30), sh(date(2026, 10, 19), 9, 0)),
    ];
    for (case, at, expected) in cases {
        assert_eq!(calendar.next_open(at), Some(expected), "{case}");
        assert_eq!(calendar.is_open(at), at == expected, "{case}");
    }
}

// --- the contact flow -------------------------------------------------------------------

pub(crate) fn flow_event(contact: &str, number: Option<&str>) -> Value {
    json!({
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": contact,
                "CustomerEndpoint": number.map(|n| json!({"Address": n, "Type": "TELEPHONE_NUMBER"})),
                "InitialContactId": contact,
                "InitiationMethod": "INBOUND",
                "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
                "Queue": null,
                "SystemEndpoint": {"Address": "+864001234567", "Type": "TELEPHONE_NUMBER"},
                "SomethingNew": {"ignored": true}
            },
            "Parameters": {}
        }
    })
}

struct Flow {
    store: Arc<MemoryStore>,
    notes: Arc<MemoryCallNotes>,
    flow: ContactFlow,
}

fn flow_at(now: Timestamp) -> Flow {
    let store = Arc::new(MemoryStore::new());
    let notes = Arc::new(MemoryCallNotes::default());
    let rules = PhoneRules {
        default_team: Some("frontline".into()),
        default_queue: Some("BasicQueue".into()),
        team_queues: BTreeMap::from([("vip".to_owned(), "VipQueue".to_owned())]),
        ..PhoneRules::default()
    };
    let flow = ContactFlow::new(store.clone(), notes.clone(), Arc::new(ManualClock::new(now)), rules)
        .with_sla(Arc::new(policies()));
    Flow { store, notes, flow }
}

async fn known_customer(store: &MemoryStore, at: Timestamp) -> CustomerId {
    let mut customer = Customer::new(
        CustomerId::new("cus_li"),
        Some("Li Wei".into()),
        vec![Identity::Phone { number: "+8613800138000".into() }],
        at,
    );
    customer.tier = Some("vip".into());
    store.create(&customer).await.unwrap();
    customer.id
}

#[tokio::test]
async fn a_known_caller_gets_name_tier_open_ticket_and_team() {
    let now = sh(date(2026, 9, 29), 10, 0);
    let f = flow_at(now);
    let id = known_customer(&f.store, now).await;
    let (mut ticket, created) = crate::model::Ticket::open(
        TicketNumber(7),
        crate::model::Channel::Email,
        "Refund".into(),
        id,
        None,
        now,
    );
    ticket.team = Some("vip".into());
    ticket.language = Some("zh".into());
    let commit = crate::ports::TicketCommit {
        ticket,
        expected_version: None,
        messages: vec![],
        events: vec![created],
        thread_claims: vec![],
        idempotency: None,
    };
    f.store.commit(commit).await.unwrap();

    let answer = f.flow.answer(&flow_event(CONTACT, Some("13800138000"))).await;
    let get = |k: &str| answer.get(k).cloned().unwrap_or_default();
    assert_eq!(get(keys::KNOWN), "true");
    assert_eq!(get(keys::CUSTOMER_NAME), "Li Wei");
    assert_eq!((get(keys::TIER).as_str(), get(keys::VIP).as_str()), ("vip", "true"));
    assert_eq!((get(keys::OPEN_TICKET).as_str(), get(keys::OPEN_TICKET_STATUS).as_str()), ("7", "new"));
    assert_eq!((get(keys::TEAM).as_str(), get(keys::QUEUE).as_str()), ("vip", "VipQueue"));
    assert_eq!((get(keys::LANGUAGE).as_str(), get(keys::AFTER_HOURS).as_str()), ("zh", "false"));
    // Its events will know the caller.
    let note = f.notes.note(CONTACT, now).await.unwrap().unwrap();
    assert_eq!(note.caller.as_deref(), Some("+8613800138000"));
    assert_eq!(note.open_ticket, Some(TicketNumber(7)));
}

fn assert_safe(answer: &FlowAnswer, withheld: bool) {
    let get = |k: &str| answer.get(k).cloned().unwrap_or_default();
    assert_eq!(get(keys::KNOWN), "false");
    assert_eq!(get(keys::CUSTOMER_ID), "");
    assert_eq!((get(keys::TEAM).as_str(), get(keys::QUEUE).as_str()), ("frontline", "BasicQueue"));
    assert_eq!(get(keys::WITHHELD), withheld.to_string());
    assert_eq!(answer.len(), 13, "every key, always: {answer:?}");
}

#[tokio::test]
async fn an_unknown_caller_gets_the_safe_map() {
    let f = flow_at(sh(date(2026, 9, 29), 10, 0));
    assert_safe(&f.flow.answer(&flow_event(CONTACT, Some("+8613900139000"))).await, false);
}

#[tokio::test]
async fn a_withheld_number_gets_the_safe_map_and_no_identity_is_noted() {
    let now = sh(date(2026, 9, 29), 10, 0);
    let f = flow_at(now);
    for number in [None, Some("anonymous")] {
        assert_safe(&f.flow.answer(&flow_event(CONTACT, number)).await, true);
        assert_eq!(f.notes.note(CONTACT, now).await.unwrap().unwrap().caller, None);
    }
}

#[tokio::test]
async fn anything_that_is_not_a_flow_event_gets_the_safe_map() {
    let f = flow_at(sh(date(2026, 9, 29), 10, 0));
    for event in [json!({}), json!({"Details": 3}), json!([1, 2]), json!({"Details": {"ContactData": {}}})] {
        assert_safe(&f.flow.answer(&event).await, true);
    }
}

#[tokio::test]
async fn after_hours_is_read_from_the_teams_calendar() {
    let f = flow_at(sh(date(2026, 10, 2), 10, 0));
    let answer = f.flow.answer(&flow_event(CONTACT, Some("+8613900139000"))).await;
    assert_eq!(answer[keys::AFTER_HOURS], "true", "National Day");
}

struct BrokenDirectory;

#[async_trait]
impl CallerDirectory for BrokenDirectory {
    async fn caller(&self, _: &Identity, _: usize) -> Result<Option<CallerRecord>, StoreError> {
        Err(StoreError::Unavailable("throttled".into()))
    }
}

#[tokio::test]
async fn a_store_failure_during_the_flow_gives_the_default_map_not_an_error() {
    let now = sh(date(2026, 9, 29), 10, 0);
    let rules = PhoneRules {
        default_team: Some("frontline".into()),
        default_queue: Some("BasicQueue".into()),
        ..PhoneRules::default()
    };
    let flow = ContactFlow::new(
        Arc::new(BrokenDirectory),
        Arc::new(MemoryCallNotes::default()),
        Arc::new(ManualClock::new(now)),
        rules,
    );
    assert_safe(&flow.answer(&flow_event(CONTACT, Some("13800138000"))).await, false);
}

// --- contact events through the router ---------------------------------------------------

pub(crate) fn contact_event(contact: &str, event_type: &str, at: Timestamp, extra: Value) -> Value {
    let mut detail = json!({
        "eventType": event_type,
        "contactId": contact,
        "initialContactId": contact,
        "channel": "VOICE",
        "instanceArn": "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
        "initiationMethod": "INBOUND",
        "initiationTimestamp": at.to_string(),
        "aNewField": {"nested": [1, 2, 3]}
    });
    if let (Some(detail), Value::Object(extra)) = (detail.as_object_mut(), extra) {
        detail.extend(extra);
    }
    json!({
        "version": "0",
        "id": format!("{contact}-{event_type}"),
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "123456789012",
        "time": at.to_string(),
        "region": "us-east-1",
        "resources": [],
        "detail": detail
    })
}

struct Desk {
    store: Arc<MemoryStore>,
    outbound: Arc<MemoryQueue>,
    router: TicketRouter,
    notes: Arc<MemoryCallNotes>,
    clock: Arc<ManualClock>,
}

fn desk(now: Timestamp) -> Desk {
    let clock = Arc::new(ManualClock::new(now));
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let router = TicketRouter::new(
        router_ports(store.clone(), outbound.clone(), clock.clone()),
        Acknowledgements::default(),
    )
    .with_sla(Arc::new(policies()));
    Desk { store, outbound, router, notes: Arc::new(MemoryCallNotes::default()), clock }
}

impl Desk {
    async fn note(&self, contact: &str, number: Option<&str>, after_hours: bool) {
        let note =
            super::ports::CallNote { caller: number.map(str::to_owned), after_hours, ..Default::default() };
        self.notes.keep(contact, &note, Timestamp::MAX).await.unwrap();
    }

    async fn deliver(&self, event: &Value) -> Option<InboundMessage> {
        let envelope = ContactEventEnvelope::parse(event).ok()?;
        let note = self.notes.note(&envelope.detail.contact_id, self.clock.now()).await.unwrap();
        let inbound = envelope.to_inbound(note.as_ref(), self.clock.now()).ok()?;
        self.router.route(&inbound).await.unwrap();
        Some(inbound)
    }

    /// The callback jobs the dispatcher delivers from the outbound queue. A repeated event
    /// queues its stored jobs again (in case the first delivery crashed before queueing);
    /// the dispatcher's lease on the job id sends each once.
    async fn callbacks(&self) -> Vec<OutboundJob> {
        let notifier = Arc::new(crate::memory::RecordingNotifier::default());
        let dispatcher = crate::dispatch::Dispatcher::new(crate::dispatch::DispatcherPorts {
            idempotency: self.store.clone(),
            notifier: notifier.clone(),
            clock: self.clock.clone(),
            ids: Arc::new(crate::memory::SequentialIds::default()),
        });
        for received in self.outbound.receive(100).await.unwrap() {
            let job: OutboundJob = open(&received.body).unwrap();
            dispatcher.dispatch(&job).await.unwrap();
        }
        notifier
            .delivered()
            .into_iter()
            .filter(|j| matches!(j.destination, Destination::Callback(_)))
            .collect()
    }
}

/// An abandoned call's events: initiated, queued, disconnected from the queue.
fn abandoned(contact: &str, at: Timestamp) -> Vec<Value> {
    let queue = json!({"queueInfo": {"queueArn": "arn:aws:connect:us-east-1:123456789012:instance/1/queue/q", "queueType": "STANDARD", "enqueueTimestamp": at.to_string()}});
    let mut disconnected = queue.clone();
    disconnected["disconnectTimestamp"] = json!((at + jiff::SignedDuration::from_secs(95)).to_string());
    disconnected["disconnectReason"] = json!("CUSTOMER_DISCONNECT");
    vec![
        contact_event(contact, "INITIATED", at, json!({})),
        contact_event(contact, "QUEUED", at + jiff::SignedDuration::from_secs(20), queue),
        contact_event(contact, "DISCONNECTED", at + jiff::SignedDuration::from_secs(95), disconnected),
    ]
}

#[tokio::test]
async fn an_abandoned_call_delivered_three_times_in_shuffled_order_makes_one_ticket_and_one_callback() {
    let at = sh(date(2026, 9, 29), 10, 0);
    let d = desk(at);
    d.note(CONTACT, Some("+8613800138000"), false).await;
    let events = abandoned(CONTACT, at);
    // Each event three times, disconnect first, queued last.
    let order = [2, 0, 2, 1, 0, 2, 1, 0, 1];
    for i in order {
        d.deliver(&events[i]).await.unwrap();
    }
    let ticket = d.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(d.store.ticket(TicketNumber(2)).await.unwrap(), None, "one ticket");
    assert_eq!(ticket.channel, crate::model::Channel::Phone);
    let stored = d.store.events(TicketNumber(1)).await.unwrap();
    let calls: Vec<String> = stored
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Call { stage, .. } => Some(stage.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(calls, ["missed", "initiated", "queued"], "one call event per event, in routing order");
    assert_eq!(stored.iter().filter(|e| e.kind.name() == "callback").count(), 1);
    let callbacks = d.callbacks().await;
    assert_eq!(callbacks.len(), 1, "one callback job");
    let Destination::Callback(task) = &callbacks[0].destination else { unreachable!() };
    assert_eq!(task.reason, MissedReason::AbandonedInQueue.as_str());
    assert_eq!(task.scheduled_for, None, "in business hours: at once");
    assert_eq!(callbacks[0].id, OutboundJob::callback_id(CONTACT));
    let timer = ticket.sla.timer(TimerKind::Callback).expect("callback timer");
    assert_eq!(timer.due_at, sh(date(2026, 9, 29), 12, 0), "120 business minutes");
    assert!(ticket.due_at.is_some(), "on the due index");
    // The caller is a customer now, found by the number.
    let identity = Identity::Phone { number: "+8613800138000".into() };
    assert_eq!(d.store.customer_by_identity(&identity).await.unwrap(), Some(ticket.requester));
    assert_eq!(d.store.messages(TicketNumber(1)).await.unwrap().len(), 1, "one message per call");
}

#[tokio::test]
async fn an_after_hours_missed_call_schedules_its_callback_at_the_next_business_minute() {
    // The eve of National Day, evening: the team is back on 8 October.
    let at = sh(date(2026, 9, 30), 21, 10);
    let d = desk(at);
    d.note(CONTACT, Some("+8613800138000"), true).await;
    let hangup = json!({"disconnectTimestamp": (at + jiff::SignedDuration::from_secs(30)).to_string(), "disconnectReason": "CONTACT_FLOW_DISCONNECT"});
    d.deliver(&contact_event(CONTACT, "DISCONNECTED", at, hangup)).await.unwrap();
    let callbacks = d.callbacks().await;
    let Destination::Callback(task) = &callbacks[0].destination else { unreachable!() };
    assert_eq!(task.reason, "after_hours");
    assert_eq!(task.scheduled_for, Some(sh(date(2026, 10, 8), 9, 0)));
    let ticket = d.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let timer = ticket.sla.timer(TimerKind::Callback).unwrap();
    assert_eq!(timer.started_at, sh(date(2026, 10, 8), 9, 0));
    assert_eq!(timer.due_at, sh(date(2026, 10, 8), 11, 0));
}

#[tokio::test]
async fn a_second_missed_call_within_a_day_on_the_open_ticket_raises_its_priority() {
    let at = sh(date(2026, 9, 29), 10, 0);
    let d = desk(at);
    for (i, contact) in ["call-1", "call-2"].into_iter().enumerate() {
        let mut note = super::ports::CallNote { caller: Some("+8613800138000".into()), ..Default::default() };
        if i == 1 {
            note.open_ticket = Some(TicketNumber(1));
        }
        d.notes.keep(contact, &note, Timestamp::MAX).await.unwrap();
        let when = at + jiff::SignedDuration::from_hours(i as i64 * 3);
        d.clock.set(when);
        for event in abandoned(contact, when) {
            d.deliver(&event).await.unwrap();
        }
        let ticket = d.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
        let expected = if i == 0 { Priority::Normal } else { Priority::High };
        assert_eq!(ticket.priority, expected, "after call {}", i + 1);
    }
    assert_eq!(
        d.store.ticket(TicketNumber(2)).await.unwrap(),
        None,
        "the second call joined the open ticket"
    );
    assert_eq!(d.callbacks().await.len(), 2, "one callback per missed call");
}

#[tokio::test]
async fn an_answered_call_records_agent_and_talk_time_and_meets_no_callback() {
    let at = sh(date(2026, 9, 29), 10, 0);
    let d = desk(at);
    d.note(CONTACT, Some("+8613800138000"), false).await;
    let agent = json!({"agentInfo": {"agentArn": "arn:aws:connect:us-east-1:123456789012:instance/1/agent/li", "connectedToAgentTimestamp": (at + jiff::SignedDuration::from_secs(30)).to_string()}});
    let mut done = agent.clone();
    done["disconnectTimestamp"] = json!((at + jiff::SignedDuration::from_secs(230)).to_string());
    done["disconnectReason"] = json!("AGENT_DISCONNECT");
    d.deliver(&contact_event(CONTACT, "CONNECTED_TO_AGENT", at + jiff::SignedDuration::from_secs(30), agent))
        .await
        .unwrap();
    d.deliver(&contact_event(CONTACT, "DISCONNECTED", at + jiff::SignedDuration::from_secs(230), done))
        .await
        .unwrap();
    let events = d.store.events(TicketNumber(1)).await.unwrap();
    let last = events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Call { stage, agent, talk_seconds, reason, .. } => {
            Some((stage.clone(), agent.clone(), *talk_seconds, reason.clone()))
        }
        _ => None,
    });
    assert_eq!(
        last,
        Some(("disconnected".into(), Some("li".into()), Some(200), Some("AGENT_DISCONNECT".into())))
    );
    assert!(d.callbacks().await.is_empty());
}

#[tokio::test]
async fn unknown_event_types_other_channels_and_unknown_fields_are_accepted_and_ignored() {
    let at = sh(date(2026, 9, 29), 10, 0);
    let d = desk(at);
    d.note(CONTACT, Some("+8613800138000"), false).await;
    let novel = contact_event(CONTACT, "SOMETHING_CONNECT_ADDS_LATER", at, json!({"whatever": {"x": 1}}));
    let inbound = d.deliver(&novel).await.expect("kept as an `other` step");
    let Source::Phone(phone) = &inbound.source else { unreachable!() };
    assert_eq!(phone.stage, crate::inbound::CallStage::Other);
    let task = contact_event("task-1", "INITIATED", at, json!({"channel": "TASK"}));
    assert!(d.deliver(&task).await.is_none(), "a task is no call");
    let outbound_call = contact_event("out-1", "INITIATED", at, json!({"initiationMethod": "OUTBOUND"}));
    assert!(d.deliver(&outbound_call).await.is_none());
    assert!(ContactEventEnvelope::parse(&json!({"detail-type": "Something else", "detail": {}})).is_err());
}

#[tokio::test]
async fn a_withheld_caller_gets_a_ticket_and_claims_no_identity() {
    let at = sh(date(2026, 9, 29), 10, 0);
    let d = desk(at);
    d.note(CONTACT, None, false).await;
    for event in abandoned(CONTACT, at) {
        d.deliver(&event).await.unwrap();
    }
    let ticket = d.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let customer = d.store.customer(&ticket.requester).await.unwrap().unwrap();
    assert!(customer.identities.is_empty());
    assert_eq!(d.store.ticket(TicketNumber(2)).await.unwrap(), None, "its later events found the ticket");
}

#[tokio::test]
async fn a_call_event_after_its_tickets_erasure_opens_a_ticket_of_its_own_and_one_before_is_dropped() {
    let at = sh(date(2026, 9, 29), 10, 0);
    let d = desk(at);
    d.note(CONTACT, Some("+8613800138000"), false).await;
    let events = abandoned(CONTACT, at);
    d.deliver(&events[0]).await.unwrap();
    // An event received now, routed only after the erasure below: dropped.
    let envelope = ContactEventEnvelope::parse(&events[1]).unwrap();
    let early = envelope.to_inbound(None, d.clock.now()).unwrap();
    let mut ticket = d.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let expected = ticket.version;
    d.clock.set(at + jiff::SignedDuration::from_secs(60));
    let erased = ticket.erase_personal_data(&crate::model::Actor::System, "[erased]", d.clock.now());
    let commit = crate::ports::TicketCommit {
        ticket: ticket.clone(),
        expected_version: Some(expected),
        messages: vec![],
        events: vec![erased],
        thread_claims: vec![],
        idempotency: None,
    };
    d.store.commit(commit).await.unwrap();
    ticket = d.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let version = ticket.version;
    assert!(d.router.route(&early).await.unwrap().dropped);
    d.clock.set(at + jiff::SignedDuration::from_secs(120));
    d.deliver(&events[2]).await.unwrap();
    assert_eq!(
        d.store.ticket(TicketNumber(1)).await.unwrap().unwrap().version,
        version,
        "erased ticket untouched"
    );
    let fresh = d.store.ticket(TicketNumber(2)).await.unwrap().expect("a ticket of its own");
    assert_eq!(fresh.follow_up_of, None, "not linked to the erased history");
}
