//! The phone channel end to end, on both backends, through the local desk's Connect routes
//! (the very JSON Connect sends): a caller the desk knows from chat is recognised and their
//! calls sit beside their chats and mail; a number typed into a chat finds nobody; an abandoned call
//! delivered three times in shuffled order is one ticket and one callback task; an after-hours
//! call's task waits for the next business minute of the Shanghai calendar; an agent asks
//! for a callback through the API. Connect itself is the desk's twin (moto has no Connect).

use std::sync::Arc;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::model::Identity;
use omnidesk_domain::ports::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::agent_scenarios::{AGENT, STAFF};
use crate::identity_scenarios::{VERIFIED_INBOX, verified_inbox};
use crate::sla_scenarios::ShiftedClock;
use crate::{Backend, INBOX, TestDesk, eventually};

/// Mon–Fri 09:00–18:00 in Shanghai, National Day 1–7 October 2026 off, Saturday 10 October
/// worked in return; phone callbacks due within an hour.
const PHONE: &str = r#"
[phone]
default_team = "frontline"
callback_minutes = 60
default_queue = "BasicQueue"
team_queues = { frontline = "FrontlineQueue" }

[sla]
default_calendar = "business"
urgent_calendar = ""

[sla.calendars.business]
time_zone = "Asia/Shanghai"
holidays = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"]
make_up_days = [{ date = "2026-10-10", hours = [{ start = "09:00", end = "18:00" }] }]
hours.monday = [{ start = "09:00", end = "18:00" }]
hours.tuesday = [{ start = "09:00", end = "18:00" }]
hours.wednesday = [{ start = "09:00", end = "18:00" }]
hours.thursday = [{ start = "09:00", end = "18:00" }]
hours.friday = [{ start = "09:00", end = "18:00" }]

[[sla.policies]]
priority = "normal"
first_reply_minutes = 240
"#;

const ANNA_PHONE: &str = "+8613900139000";

fn shanghai(d: jiff::civil::Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz("Asia/Shanghai").expect("a Shanghai time").timestamp()
}

/// A clock that reads `at` now and runs on in real time (queues and moto keep working).
fn clock_at(at: Timestamp) -> Arc<ShiftedClock> {
    let clock = Arc::new(ShiftedClock::default());
    clock.shift(Timestamp::now().duration_until(at));
    clock
}

fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/phone-events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("a JSON sample")
}

/// The contact-flow sample for `contact`, from `number` (`None`: withheld).
pub fn flow_event(contact: &str, number: Option<&str>) -> Value {
    let mut event = sample("contact-flow.json");
    let data = &mut event["Details"]["ContactData"];
    data["ContactId"] = json!(contact);
    data["InitialContactId"] = json!(contact);
    data["CustomerEndpoint"] = match number {
        Some(n) => json!({ "Address": n, "Type": "TELEPHONE_NUMBER" }),
        None => Value::Null,
    };
    event
}

/// The contact-event sample `kind` (`queued`, `disconnected-abandoned`, …) for `contact` at `at`.
pub fn contact_event(kind: &str, contact: &str, at: Timestamp) -> Value {
    let mut event = sample(&format!("contact-event-{kind}.json"));
    event["time"] = json!(at.to_string());
    event["detail"]["contactId"] = json!(contact);
    event["detail"]["initialContactId"] = json!(contact);
    event
}

impl TestDesk {
    pub async fn connect_flow(&self, event: &Value) -> Value {
        let response =
            self.http.post(self.url("/local/connect/flow")).json(event).send().await.expect("desk answers");
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.expect("a JSON map")
    }

    pub async fn connect_event(&self, event: &Value) {
        let response =
            self.http.post(self.url("/local/connect/events")).json(event).send().await.expect("desk answers");
        assert_eq!(response.status().as_u16(), 202);
    }

    pub async fn connect_tasks(&self) -> Vec<Value> {
        let response = self.http.get(self.url("/local/connect/tasks")).send().await.expect("desk answers");
        response.json::<Vec<Value>>().await.expect("a JSON list")
    }

    async fn call_events(&self, number: u64) -> Vec<Value> {
        let view = self.get(&format!("/v1/tickets/{number}"), AGENT).await;
        view["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["type"] == "call")
            .collect()
    }

    async fn signed_chat_at(&self, inbox: &str, id: &str, conversation: &str, visitor: Value, at: Timestamp) {
        let body = json!({ "message_id": id, "conversation_id": conversation, "visitor": visitor, "text": "Where is my order?" });
        let (status, _) = self.post_chat(inbox, body.to_string().as_bytes(), Some(at.as_second())).await;
        assert_eq!(status, 202);
    }
}

pub async fn a_caller_known_from_chat_is_recognised_and_their_calls_sit_beside_their_chats(
    backend: &Backend,
) {
    let at = shanghai(date(2026, 11, 23), 10, 0);
    let clock = clock_at(at);
    let email = "\n[email]\naddress = \"support@desk.example\"\n";
    let extra = format!("{STAFF}{PHONE}{}{email}", verified_inbox());
    let t = TestDesk::start_with(backend, None, &extra, clock.clone()).await;
    // Anna, signed in to the shop's app, which vouches for her number and address.
    let anna_visitor = json!({ "id": "anna-1", "name": "Anna Chen", "phone": "139 0013 9000", "email": "anna.chen@example.com" });
    t.signed_chat_at(VERIFIED_INBOX, "a1", "app-1", anna_visitor, clock.now()).await;
    let phone = Identity::Phone { number: ANNA_PHONE.into() };
    let found = || async { t.observe.customers.customer_by_identity(&phone).await.expect("read") };
    assert!(eventually(backend.patience(), || async { found().await.is_some() }).await, "never linked");
    let anna = found().await.unwrap();
    assert!(eventually(backend.patience(), || async { t.ticket(1).await.is_some() }).await);

    // She calls: the flow knows her and her open chat ticket; the call joins it.
    let answer = t.connect_flow(&flow_event("call-a", Some(ANNA_PHONE))).await;
    assert_eq!(answer["known"], "true", "{answer}");
    assert_eq!(answer["customer_id"], json!(anna.to_string()));
    assert_eq!(answer["customer_name"], "Anna Chen");
    assert_eq!((answer["open_ticket"].as_str(), answer["team"].as_str()), (Some("1"), Some("frontline")));
    assert_eq!(
        (answer["queue"].as_str(), answer["after_hours"].as_str()),
        (Some("FrontlineQueue"), Some("false"))
    );
    for kind in ["initiated", "queued", "connected-to-agent", "disconnected"] {
        t.connect_event(&contact_event(kind, "call-a", clock.now())).await;
    }
    assert!(
        eventually(backend.patience(), || async { t.call_events(1).await.len() == 4 }).await,
        "the call's events never reached ticket #1"
    );
    assert!(t.ticket(2).await.is_none(), "the call opened a ticket of its own");

    // Her chat ticket solved, the next call opens a phone ticket of its own.
    let version = t.ticket(1).await.unwrap().version;
    let (status, body) = t
        .api(
            Method::PATCH,
            "/v1/tickets/1",
            Some(AGENT),
            Some(json!({ "version": version, "status": "solved" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let answer = t.connect_flow(&flow_event("call-b", Some("13900139000"))).await;
    assert_eq!(
        (answer["known"].as_str(), answer["open_ticket"].as_str()),
        (Some("true"), Some("")),
        "{answer}"
    );
    t.connect_event(&contact_event("initiated", "call-b", clock.now())).await;
    assert!(eventually(backend.patience(), || async { t.ticket(2).await.is_some() }).await);
    // She writes by mail too (authenticated: the local desk passes every check).
    let mail = "From: Anna Chen <anna.chen@example.com>\r\nTo: support@desk.example\r\n\
                Message-ID: <anna-1@mail.example.com>\r\nSubject: Invoice\r\n\r\nPlease send the invoice.\r\n";
    let response = t.http.post(t.url("/local/email")).body(mail).send().await.expect("desk answers");
    assert_eq!(response.status().as_u16(), 202);
    assert!(eventually(backend.patience(), || async { t.ticket(3).await.is_some() }).await);
    let view = t.get(&format!("/v1/customers/{anna}"), AGENT).await;
    let mut channels: Vec<String> = view["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["channel"].as_str().unwrap_or_default().to_owned())
        .collect();
    channels.sort();
    assert_eq!(channels, ["chat", "email", "phone"], "{view}");

    // Someone on the public widget types Anna's number: a hint, never a link; a call from a
    // number nobody holds is an unknown caller.
    let typed = json!({ "id": "stranger-1", "name": "Anna?", "phone": ANNA_PHONE });
    t.signed_chat_at(INBOX, "w1", "web-1", typed, clock.now()).await;
    assert!(eventually(backend.patience(), || async { t.ticket(4).await.is_some() }).await);
    let stranger = t.ticket(4).await.unwrap().requester;
    assert_ne!(stranger, anna);
    let view = t.get(&format!("/v1/customers/{stranger}"), AGENT).await;
    assert_eq!(view["customer"]["unverified"], json!([{ "kind": "phone", "number": ANNA_PHONE }]), "{view}");
    assert_eq!(view["merge_candidates"][0]["customer"], json!(anna.to_string()), "{view}");
    let unknown = t.connect_flow(&flow_event("call-c", Some("+8613700137000"))).await;
    assert_eq!(
        (unknown["known"].as_str(), unknown["queue"].as_str()),
        (Some("false"), Some("FrontlineQueue"))
    );
}

pub async fn an_abandoned_call_delivered_three_times_in_shuffled_order_is_one_ticket_and_one_callback_task(
    backend: &Backend,
) {
    let at = shanghai(date(2026, 11, 23), 10, 0);
    let clock = clock_at(at);
    let t = TestDesk::start_with(backend, None, &format!("{STAFF}{PHONE}"), clock.clone()).await;
    let answer = t.connect_flow(&flow_event("call-x", Some("+8613800138000"))).await;
    assert_eq!(answer["known"], "false", "{answer}");
    let now = clock.now();
    let events = [
        contact_event("initiated", "call-x", now),
        contact_event("queued", "call-x", now + SignedDuration::from_secs(20)),
        contact_event("disconnected-abandoned", "call-x", now + SignedDuration::from_secs(90)),
    ];
    for i in [2, 0, 1, 2, 1, 0, 0, 2, 1] {
        t.connect_event(&events[i]).await;
    }
    assert!(
        eventually(backend.patience(), || async { t.connect_tasks().await.len() == 1 }).await,
        "no callback task"
    );
    assert!(eventually(backend.patience(), || async { t.call_events(1).await.len() == 3 }).await);
    crate::settle(backend).await;
    assert!(t.ticket(2).await.is_none(), "a second ticket");
    assert_eq!(t.call_events(1).await.len(), 3, "each event once");
    let tasks = t.connect_tasks().await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["ticket"], 1);
    assert_eq!(tasks[0]["reason"], "abandoned_in_queue");
    assert_eq!(tasks[0]["team"], "frontline");
    assert_eq!(tasks[0]["previous_contact_id"], "call-x");
    assert_eq!(tasks[0]["scheduled_for"], Value::Null, "in business hours: at once");
    let ticket = t.ticket(1).await.unwrap();
    let timer = ticket.sla.timer(omnidesk_domain::sla::TimerKind::Callback).expect("callback timer");
    assert_eq!(timer.target_minutes, 60);
    assert!(ticket.due_at.is_some_and(|due| due <= timer.due_at), "on the due index");
}

pub async fn an_after_hours_missed_call_gets_its_callback_task_at_the_next_business_minute(
    backend: &Backend,
) {
    // The eve of National Day, evening: the team is back on Thursday 8 October at 09:00.
    let cases = [
        (shanghai(date(2026, 9, 30), 21, 10), shanghai(date(2026, 10, 8), 9, 0)),
        // Friday night after the holiday: the make-up Saturday.
        (shanghai(date(2026, 10, 9), 20, 0), shanghai(date(2026, 10, 10), 9, 0)),
    ];
    for (called, expected) in cases {
        let clock = clock_at(called);
        let t = TestDesk::start_with(backend, None, &format!("{STAFF}{PHONE}"), clock.clone()).await;
        let answer = t.connect_flow(&flow_event("late-1", Some("+8613800138000"))).await;
        assert_eq!(answer["after_hours"], "true", "{answer}");
        let mut hangup = contact_event("disconnected-abandoned", "late-1", clock.now());
        hangup["detail"].as_object_mut().unwrap().remove("queueInfo");
        t.connect_event(&hangup).await;
        assert!(
            eventually(backend.patience(), || async { t.connect_tasks().await.len() == 1 }).await,
            "no callback task"
        );
        let task = &t.connect_tasks().await[0];
        assert_eq!(task["reason"], "after_hours");
        assert_eq!(task["scheduled_for"], json!(expected.to_string()), "called {called}");
        let timer =
            t.ticket(1).await.unwrap().sla.timer(omnidesk_domain::sla::TimerKind::Callback).cloned().unwrap();
        assert_eq!(timer.started_at, expected);
    }
}

pub async fn an_agent_asks_for_a_callback_and_a_stale_version_queues_none(backend: &Backend) {
    let at = shanghai(date(2026, 11, 23), 10, 0);
    let clock = clock_at(at);
    let t = TestDesk::start_with(backend, None, &format!("{STAFF}{PHONE}"), clock.clone()).await;
    t.connect_flow(&flow_event("call-y", Some("+8613800138000"))).await;
    t.connect_event(&contact_event("connected-to-agent", "call-y", clock.now())).await;
    assert!(eventually(backend.patience(), || async { t.ticket(1).await.is_some() }).await);
    let version = t.ticket(1).await.unwrap().version;
    let path = "/v1/tickets/1/callbacks";
    let (status, body) = t.api(Method::POST, path, Some(AGENT), Some(json!({ "version": version }))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["scheduled_for"], Value::Null);
    let (status, _) = t.api(Method::POST, path, Some(AGENT), Some(json!({ "version": version }))).await;
    assert_eq!(status, 409);
    assert!(eventually(backend.patience(), || async { t.connect_tasks().await.len() == 1 }).await);
    crate::settle(backend).await;
    assert_eq!(t.connect_tasks().await.len(), 1);
    assert_eq!(t.connect_tasks().await[0]["reason"], "agent_request");
    let view = t.get("/v1/tickets/1", AGENT).await;
    assert!(view["events"].as_array().unwrap().iter().any(|e| e["type"] == "callback"), "{view}");
}
