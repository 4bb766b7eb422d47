//! The agent API end to end, on both backends: a chat ticket routed to the right team and
//! agent, worked over `/v1`, merged, exported and erased; the role table route by route; and
//! fifty agents grabbing one ticket at once.

use omnidesk_domain::assignment::Presence;
use omnidesk_domain::model::TicketNumber;
use omnidesk_domain::ports::AgentActivity;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Backend, INBOX, TestDesk, eventually, now};

/// Teams, two agents, and one token per role.
pub const STAFF: &str = r#"
[routing]
default_team = "frontline"
teams = [
    { id = "frontline", name = "Frontline", tier = 1 },
    { id = "technical", name = "Technical", tier = 2 },
    { id = "complaints", name = "Complaints", tier = 2 },
]

[[routing.rules]]
name = "refunds"
team = "complaints"
keywords = ["退款", "refund"]

[[agents]]
id = "li"
teams = ["frontline"]
languages = ["zh", "en"]
capacity = 3

[[agents]]
id = "wang"
teams = ["complaints"]
languages = ["zh"]
capacity = 3

[[auth.tokens]]
token = "token-analyst-0123456789"
user = "ana"
role = "analyst"

[[auth.tokens]]
token = "token-agent-li-0123456789"
user = "li"
role = "agent"

[[auth.tokens]]
token = "token-agent-wang-0123456789"
user = "wang"
role = "agent"

[[auth.tokens]]
token = "token-supervisor-0123456789"
user = "sue"
role = "supervisor"

[[auth.tokens]]
token = "token-admin-0123456789"
user = "adam"
role = "admin"
"#;

/// SLA targets on a round-the-clock calendar, so a test at any hour sees running timers.
pub const SLA: &str = r#"
[sla]
default_calendar = "24x7"
warning_percent = 80

[[sla.policies]]
priority = "normal"
first_reply_minutes = 30
resolution_minutes = 120
"#;

pub const ANALYST: &str = "token-analyst-0123456789";
pub const AGENT: &str = "token-agent-li-0123456789";
pub const OTHER_AGENT: &str = "token-agent-wang-0123456789";
pub const SUPERVISOR: &str = "token-supervisor-0123456789";
pub const ADMIN: &str = "token-admin-0123456789";

impl TestDesk {
    pub async fn start_staffed(backend: &Backend) -> Self {
        Self::start_configured(backend, STAFF).await
    }

    /// Calls the agent API; `token` `None` sends no Authorization header.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("desk answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.api(Method::GET, path, Some(token), None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A signed chat message with the visitor's contact details.
    pub async fn send_chat_from(
        &self,
        message_id: &str,
        conversation: &str,
        visitor: Value,
        text: &str,
    ) -> u16 {
        let body = json!({ "message_id": message_id, "conversation_id": conversation, "visitor": visitor, "text": text })
            .to_string();
        self.post_chat(INBOX, body.as_bytes(), Some(now())).await.0
    }

    pub(crate) async fn wait_ticket(&self, number: u64, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let path = format!("/v1/tickets/{number}");
        let deadline = tokio::time::Instant::now() + self.backend.patience();
        loop {
            let (status, body) = self.api(Method::GET, &path, Some(ADMIN), None).await;
            if status == 200 && check(&body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "ticket {number}: {what}; last seen {status} {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

const EMAIL: &str = "li.wei.customer@example.com";
const PHONE: &str = "+8613800138000";
const SECRET_TEXT: &str = "My card ends 4242 and I live at 88 Nanjing Road";

/// Issue 13 item 3: agent profiles are read from the config, so starting the agent API
/// stores nothing; only a presence change writes, and only the presence.
pub async fn starting_the_agent_api_writes_nothing_to_the_store(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    let agents = t.get("/v1/agents", ANALYST).await;
    let listed: Vec<(&str, &str)> = agents
        .as_array()
        .expect("a list of agents")
        .iter()
        .map(|a| (a["id"].as_str().unwrap_or_default(), a["presence"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(listed, [("li", "offline"), ("wang", "offline")], "{agents}");
    assert_eq!(agents[0]["capacity"], 3, "{agents}");
    let stored = t.observe.agents.activities().await.expect("read the agents' activity");
    assert!(stored.is_empty(), "nothing stored at start: {stored:?}");

    let (status, body) = t
        .api(Method::PUT, "/v1/agents/me/presence", Some(AGENT), Some(json!({ "presence": "online" })))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agent"]["teams"], json!(["frontline"]), "the profile still comes with it: {body}");
    let stored = t.observe.agents.activities().await.expect("read the agents' activity");
    let expected = AgentActivity { presence: Presence::Online, last_assigned_at: None };
    assert_eq!(stored.into_iter().collect::<Vec<_>>(), [("li".to_owned(), expected)]);
}

pub async fn agents_work_a_chat_ticket_from_routing_to_erasure(backend: &Backend) {
    let t = TestDesk::start_configured(
        backend,
        &format!("{STAFF}{}", crate::identity_scenarios::verified_inbox()),
    )
    .await;
    let (status, body) = t
        .api(Method::PUT, "/v1/agents/me/presence", Some(AGENT), Some(json!({ "presence": "online" })))
        .await;
    assert_eq!(status, 200, "{body}");

    // Chat → ticket routed to frontline and to li, the one online agent there.
    let visitor_1 = json!({ "id": "visitor-1", "name": "Li Wei" });
    assert_eq!(t.send_chat_from("m1", "conv-1", visitor_1.clone(), "Where is my parcel?").await, 202);
    let view = t.wait_ticket(1, "routed to li", |v| v["ticket"]["assignee"] == "li").await;
    assert_eq!(view["ticket"]["team"], "frontline");
    assert_eq!(view["ticket"]["status"], "open", "taking a new ticket opens it");
    assert!(view["events"].as_array().unwrap().iter().any(|e| e["type"] == "assigned"));

    // The agent replies; the customer gets it by signed callback, after the acknowledgement.
    let (status, reply) = t
        .api(
            Method::POST,
            "/v1/tickets/1/replies",
            Some(AGENT),
            Some(json!({ "text": "It left our warehouse today." })),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["delivery"], "queued");
    assert!(
        eventually(backend.patience(), || async {
            t.receiver.delivered().iter().any(|c| c.text == "It left our warehouse today.")
        })
        .await,
        "the reply never reached the chat callback"
    );
    assert!(t.receiver.attempts().iter().all(|a| a.signature_valid));

    // An internal note is not sent.
    let (status, _) = t
        .api(Method::POST, "/v1/tickets/1/notes", Some(AGENT), Some(json!({ "text": "VIP, be nice" })))
        .await;
    assert_eq!(status, 201);

    // Pending with the version seen; a stale version is 409.
    let version = t.get("/v1/tickets/1", AGENT).await["ticket"]["version"].as_u64().unwrap();
    let (status, patched) = t
        .api(
            Method::PATCH,
            "/v1/tickets/1",
            Some(AGENT),
            Some(json!({ "version": version, "status": "pending" })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["status"], "pending");
    let (status, stale) = t
        .api(
            Method::PATCH,
            "/v1/tickets/1",
            Some(AGENT),
            Some(json!({ "version": version, "priority": "high" })),
        )
        .await;
    assert_eq!(status, 409, "{stale}");
    assert_eq!(stale["error"]["code"], "conflict");

    // The customer writes again: open.
    assert_eq!(t.send_chat_from("m2", "conv-1", visitor_1.clone(), "Any news?").await, 202);
    let view = t.wait_ticket(1, "reopened", |v| v["ticket"]["status"] == "open").await;

    // Solve.
    let version = view["ticket"]["version"].as_u64().unwrap();
    let (status, solved) = t
        .api(
            Method::PATCH,
            "/v1/tickets/1",
            Some(AGENT),
            Some(json!({ "version": version, "status": "solved", "tags": ["parcel"] })),
        )
        .await;
    assert_eq!(status, 200, "{solved}");
    assert_eq!(solved["status"], "solved");

    // The same visitor opens a second conversation; merge it into #1.
    assert_eq!(t.send_chat_from("m3", "conv-2", visitor_1.clone(), "Also: wrong size").await, 202);
    t.wait_ticket(2, "opened", |v| v["ticket"]["number"] == 2).await;
    let (status, merged) =
        t.api(Method::POST, "/v1/tickets/2/merge", Some(AGENT), Some(json!({ "into": 1 }))).await;
    assert_eq!(status, 200, "{merged}");
    let source = t.get("/v1/tickets/2", AGENT).await;
    assert_eq!(source["ticket"]["status"], "closed");
    assert_eq!(source["ticket"]["merged_into"], 1);
    let target = t.get("/v1/tickets/1", AGENT).await;
    let texts: Vec<&str> =
        target["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(texts.contains(&"Also: wrong size"), "merged thread missing: {texts:?}");
    // A message to the merged conversation continues the target.
    assert_eq!(t.send_chat_from("m4", "conv-2", visitor_1.clone(), "Hello again").await, 202);
    t.wait_ticket(1, "took the merged conversation's message", |v| {
        v["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["text"] == "Hello again"))
    })
    .await;

    // The same person writes, signed in to the shop's app, which vouches for their email and
    // phone: a second customer, found by email; the first is found by chat visitor id. Merge
    // them.
    let visitor_2 = json!({ "id": "visitor-2", "name": "Li Wei", "email": EMAIL, "phone": PHONE });
    let body =
        json!({ "message_id": "m5", "conversation_id": "conv-3", "visitor": visitor_2, "text": SECRET_TEXT });
    let signed_in = crate::identity_scenarios::VERIFIED_INBOX;
    assert_eq!(t.post_chat(signed_in, body.to_string().as_bytes(), Some(now())).await.0, 202);
    t.wait_ticket(3, "opened", |v| v["ticket"]["number"] == 3).await;
    let by_email = t.get(&format!("/v1/customers?email={EMAIL}"), AGENT).await;
    let by_visitor = t.get(&format!("/v1/customers?chat_inbox={INBOX}&chat_visitor=visitor-1"), AGENT).await;
    let (email_id, chat_id) = (by_email["id"].as_str().unwrap(), by_visitor["id"].as_str().unwrap());
    assert_ne!(email_id, chat_id);
    let merge_path = format!("/v1/customers/{email_id}/merge");
    let (status, _) = t.api(Method::POST, &merge_path, Some(AGENT), Some(json!({ "into": chat_id }))).await;
    assert_eq!(status, 403, "agents may not merge customers");
    let (status, merged) =
        t.api(Method::POST, &merge_path, Some(SUPERVISOR), Some(json!({ "into": chat_id }))).await;
    assert_eq!(status, 200, "{merged}");
    let view = t.get(&format!("/v1/customers/{chat_id}"), ANALYST).await;
    assert_eq!(view["tickets"].as_array().unwrap().len(), 3, "one person, all tickets: {view}");
    // Two chat visitors, an address and a phone number.
    assert_eq!(view["customer"]["identities"].as_array().unwrap().len(), 4, "{view}");
    assert_eq!(t.get(&format!("/v1/customers?email={EMAIL}"), AGENT).await["id"], chat_id);
    assert_eq!(t.get(&format!("/v1/customers/{email_id}"), AGENT).await["customer"]["id"], chat_id);

    // Export (supervisor), then erase (admin only).
    let export = t.get(&format!("/v1/customers/{chat_id}/export"), SUPERVISOR).await;
    assert_eq!(export["tickets"].as_array().unwrap().len(), 3);
    assert!(export.to_string().contains(SECRET_TEXT));
    assert!(!export.to_string().contains("VIP, be nice"), "export has no internal note");
    let erase_path = format!("/v1/customers/{chat_id}/erase");
    let (status, _) = t.api(Method::POST, &erase_path, Some(SUPERVISOR), None).await;
    assert_eq!(status, 403, "only admins erase");
    assert!(t.drained().await, "queues must drain before erasure is checked");
    let job = t.erase(chat_id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["stores"]["table"]["ticket"], 3, "{job}");

    let everything = t.everything_stored().await;
    for needle in [EMAIL, PHONE, "8613800138000", SECRET_TEXT, "Where is my parcel?", "Li Wei"] {
        assert!(!everything.contains(needle), "{needle:?} survived erasure");
    }
    let audit = t.get(&format!("/v1/customers/{chat_id}/export"), ADMIN).await["audit"].clone();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|a| a["action"].as_str()).collect();
    assert!(actions.contains(&"export") && actions.contains(&"erase"), "{actions:?}");
    // Facts for metrics stay: the ticket, reopened by "Hello again", and its trail; tags
    // (which agents type) go.
    let ticket = t.get("/v1/tickets/1", ADMIN).await;
    assert_eq!(ticket["ticket"]["status"], "open");
    assert_eq!(ticket["ticket"]["tags"], json!([]));
    assert!(ticket["events"].as_array().unwrap().iter().any(|e| e["type"] == "erased"));
}

/// Every route, without a token (401), with a bad token (401), and with each role: 403
/// exactly where the role table forbids it.
pub async fn every_agent_route_needs_a_token_and_the_right_role(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    assert_eq!(t.send_chat_from("m1", "conv-1", json!({ "id": "v1" }), "hello").await, 202);
    t.wait_ticket(1, "opened", |v| v["ticket"]["number"] == 1).await;
    let customer =
        t.get("/v1/customers?chat_inbox=web&chat_visitor=v1", ADMIN).await["id"].as_str().unwrap().to_owned();

    // (method, path, body, lowest role allowed: 0 analyst, 1 agent, 2 supervisor, 3 admin)
    let routes: Vec<(Method, String, Option<Value>, usize)> = vec![
        (Method::GET, "/v1/me".into(), None, 0),
        (Method::GET, "/v1/tickets?status=open".into(), None, 0),
        (Method::GET, "/v1/tickets/1".into(), None, 0),
        (Method::PATCH, "/v1/tickets/1".into(), Some(json!({ "version": 999 })), 1),
        (Method::POST, "/v1/tickets/1/replies".into(), Some(json!({ "text": "hi", "version": 999 })), 1),
        (Method::POST, "/v1/tickets/1/notes".into(), Some(json!({ "text": "hi", "version": 999 })), 1),
        (Method::POST, "/v1/tickets/1/assignment".into(), Some(json!({ "agent": "li", "version": 999 })), 1),
        (Method::POST, "/v1/tickets/1/merge".into(), Some(json!({ "into": 1 })), 1),
        (Method::GET, "/v1/customers?chat_inbox=web&chat_visitor=v1".into(), None, 0),
        (Method::GET, format!("/v1/customers/{customer}"), None, 0),
        (Method::POST, format!("/v1/customers/{customer}/merge"), Some(json!({ "into": customer })), 2),
        (Method::GET, "/v1/customers/cus_none/export".into(), None, 2),
        (Method::POST, "/v1/customers/cus_none/erase".into(), None, 3),
        (Method::GET, "/v1/customers/cus_none/erasures/era_none".into(), None, 3),
        (Method::GET, "/v1/agents".into(), None, 0),
        (Method::GET, "/v1/agents/me".into(), None, 0),
        (Method::PUT, "/v1/agents/me/presence".into(), Some(json!({ "presence": "away" })), 1),
        (Method::GET, "/v1/canned-responses".into(), None, 0),
        (Method::POST, "/v1/canned-responses".into(), Some(json!({ "title": "t", "text": "x" })), 2),
        (
            Method::PUT,
            "/v1/canned-responses/can_none".into(),
            Some(json!({ "title": "t", "text": "x", "version": 1 })),
            2,
        ),
        (Method::DELETE, "/v1/canned-responses/can_none?version=1".into(), None, 2),
    ];
    let roles = [ANALYST, AGENT, SUPERVISOR, ADMIN];
    for (method, path, body, lowest) in &routes {
        let (status, answer) = t.api(method.clone(), path, None, body.clone()).await;
        assert_eq!(status, 401, "{method} {path} without a token: {answer}");
        let (status, _) = t.api(method.clone(), path, Some("not-a-real-token-at-all"), body.clone()).await;
        assert_eq!(status, 401, "{method} {path} with a bad token");
        for (rank, token) in roles.iter().enumerate() {
            let (status, answer) = t.api(method.clone(), path, Some(token), body.clone()).await;
            if rank < *lowest {
                assert_eq!(status, 403, "{method} {path} as role {rank}: {answer}");
            } else {
                assert!(![401, 403].contains(&status), "{method} {path} as role {rank}: {status} {answer}");
                assert!(status < 500, "{method} {path} as role {rank}: {status} {answer}");
            }
        }
    }
    // Nothing the refused calls asked for happened.
    assert!(
        t.ticket(1).await.is_some_and(|ticket| ticket.assignee.is_none() && ticket.merged_into.is_none())
    );
}

/// Fifty assignments of one ticket at once, all from the version they read: exactly one wins.
pub async fn fifty_concurrent_assignments_of_one_ticket_one_wins(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    assert_eq!(t.send_chat_from("m1", "conv-1", json!({ "id": "v1" }), "hello").await, 202);
    let view = t.wait_ticket(1, "opened", |v| v["ticket"]["number"] == 1).await;
    let version = view["ticket"]["version"].as_u64().unwrap();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..50 {
        let agent = if i % 2 == 0 { "li" } else { "wang" };
        let request = t
            .http
            .post(t.url("/v1/tickets/1/assignment"))
            .bearer_auth(SUPERVISOR)
            .json(&json!({ "agent": agent, "version": version }));
        attempts.spawn(async move { request.send().await.map(|r| r.status().as_u16()).unwrap_or(0) });
    }
    let statuses = attempts.join_all().await;
    let won = statuses.iter().filter(|s| **s == 200).count();
    let lost = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((won, lost), (1, 49), "{statuses:?}");
    let ticket = t.ticket(1).await.expect("ticket");
    assert!(ticket.assignee.is_some());
    let assigned = t
        .observe
        .tickets
        .events(TicketNumber(1))
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.kind.name() == "assigned")
        .count();
    assert_eq!(assigned, 1, "one assignment event");
}

impl TestDesk {
    /// Everything the desk stores, as text: the table (every item), every blob, and what
    /// the queues still hold (tests check them drained).
    pub async fn everything_stored(&self) -> String {
        let mut text = String::new();
        if let Some(memory) = &self.observe.memory {
            text.push_str(&memory.dump());
        }
        if let Some((sdk, table)) = &self.moto_table {
            text.push_str(&scan_table(sdk, table).await);
        }
        let blobs = &self.observe.blobs;
        for key in blobs.list("").await.expect("list blobs") {
            text.push_str(&key);
            if let Some(bytes) = blobs.get(&key).await.expect("read blob") {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        let depths = self.depths().await;
        assert_eq!(depths.inbound_dead_letter.total() + depths.outbound_dead_letter.total(), 0, "{depths:?}");
        text
    }
}

/// Test-only: the whole table, which no request path may do (scripts/check-no-scan.sh).
async fn scan_table(sdk: &aws_config::SdkConfig, table: &str) -> String {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let mut text = String::new();
    let mut start = None;
    for _ in 0..1_000 {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan the test table");
        text.push_str(&format!("{:?}", page.items()));
        match page.last_evaluated_key {
            Some(next) if !next.is_empty() => start = Some(next),
            _ => break,
        }
    }
    text
}

/// The ticket view shows each timer (target, due, business time left, state), agent actions
/// move them, and "breaching soon" finds the ticket whose first reply is due within the hour.
pub async fn the_ticket_view_shows_sla_timers_that_agent_actions_move(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}\n{SLA}")).await;
    assert_eq!(t.send_chat_from("m1", "conv-1", json!({ "id": "v1" }), "Where is my parcel?").await, 202);
    let view =
        t.wait_ticket(1, "timers started", |v| v["sla"].as_array().is_some_and(|a| a.len() == 2)).await;
    let timer = |view: &Value, kind: &str| -> Value {
        view["sla"].as_array().unwrap().iter().find(|t| t["kind"] == kind).cloned().expect(kind)
    };
    let first = timer(&view, "first_reply");
    assert_eq!((first["state"].as_str(), first["target_minutes"].as_u64()), (Some("running"), Some(30)));
    let left = first["remaining_business_seconds"].as_i64().unwrap();
    assert!((1_700..=1_800).contains(&left), "{first}");
    assert_eq!(timer(&view, "resolution")["target_minutes"], 120);

    let soon = t.get("/v1/tickets?view=breaching_soon&team=frontline", ANALYST).await;
    assert_eq!(soon["tickets"].as_array().unwrap().len(), 1, "{soon}");
    let unbreached = t.get("/v1/tickets?team=frontline&breached=false", ANALYST).await;
    assert_eq!(unbreached["tickets"].as_array().unwrap().len(), 1, "{unbreached}");
    let breached = t.get("/v1/tickets?team=frontline&breached=true", ANALYST).await;
    assert_eq!(breached["tickets"].as_array().unwrap().len(), 0, "{breached}");

    // A public reply meets the first-reply timer; pending pauses the resolution clock.
    let (status, _) = t
        .api(Method::POST, "/v1/tickets/1/replies", Some(AGENT), Some(json!({ "text": "On its way" })))
        .await;
    assert_eq!(status, 201);
    let version = t.get("/v1/tickets/1", AGENT).await["ticket"]["version"].as_u64().unwrap();
    let (status, _) = t
        .api(
            Method::PATCH,
            "/v1/tickets/1",
            Some(AGENT),
            Some(json!({ "version": version, "status": "pending" })),
        )
        .await;
    assert_eq!(status, 200);
    let view = t.get("/v1/tickets/1", AGENT).await;
    assert_eq!(timer(&view, "first_reply")["state"], "met");
    assert_eq!(timer(&view, "resolution")["state"], "paused");
    let soon = t.get("/v1/tickets?view=breaching_soon&team=frontline", ANALYST).await;
    assert_eq!(soon["tickets"].as_array().unwrap().len(), 0, "nothing runs: {soon}");
}

/// A list longer than a page comes back in pages, newest first, each ticket once; a cursor
/// from elsewhere is a 400.
pub async fn ticket_lists_page_with_cursors_newest_first(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    for i in 1..=5 {
        let sent = t
            .send_chat_from(&format!("m{i}"), &format!("conv-{i}"), json!({ "id": format!("v{i}") }), "hi")
            .await;
        assert_eq!(sent, 202);
        t.wait_ticket(i, "opened", |v| v["ticket"]["number"] == i).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/tickets?team=frontline&limit=2".to_owned();
    for _ in 0..10 {
        let page = t.get(&path, ANALYST).await;
        let tickets = page["tickets"].as_array().unwrap();
        assert!(tickets.len() <= 2, "{page}");
        seen.extend(tickets.iter().map(|t| t["number"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/tickets?team=frontline&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    let (status, body) =
        t.api(Method::GET, "/v1/tickets?team=frontline&cursor=zz", Some(ANALYST), None).await;
    assert_eq!(status, 400, "{body}");
}

/// Canned responses: supervisors add, change and delete them, each from the version they
/// read (a stale one is 409 and changes nothing); every role reads them; an agent's write is
/// 403.
pub async fn supervisors_keep_canned_responses_that_every_role_reads(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    let draft =
        json!({ "title": "Parcel on its way", "text": "Hello {customer_name}, {ticket} ships today." });
    let (status, _) = t.api(Method::POST, "/v1/canned-responses", Some(AGENT), Some(draft.clone())).await;
    assert_eq!(status, 403);
    let (status, made) = t.api(Method::POST, "/v1/canned-responses", Some(SUPERVISOR), Some(draft)).await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("can_"), "{id}");
    assert_eq!((made["version"].as_u64(), made["updated_by"].as_str()), (Some(1), Some("sue")));
    for token in [ANALYST, AGENT] {
        let list = t.get("/v1/canned-responses", token).await;
        assert_eq!(list["responses"][0]["text"], "Hello {customer_name}, {ticket} ships today.", "{list}");
    }
    let path = format!("/v1/canned-responses/{id}");
    let change =
        |version: u64| json!({ "title": "Parcel shipped", "text": "It left today.", "version": version });
    let (status, changed) = t.api(Method::PUT, &path, Some(ADMIN), Some(change(1))).await;
    assert_eq!((status, changed["version"].as_u64()), (200, Some(2)), "{changed}");
    let (status, stale) = t.api(Method::PUT, &path, Some(SUPERVISOR), Some(change(1))).await;
    assert_eq!(status, 409, "{stale}");
    let (status, _) = t.api(Method::DELETE, &format!("{path}?version=1"), Some(SUPERVISOR), None).await;
    assert_eq!(status, 409);
    assert_eq!(t.get("/v1/canned-responses", AGENT).await["responses"][0]["title"], "Parcel shipped");
    let (status, _) = t.api(Method::DELETE, &format!("{path}?version=2"), Some(AGENT), None).await;
    assert_eq!(status, 403);
    let (status, _) = t.api(Method::DELETE, &format!("{path}?version=2"), Some(SUPERVISOR), None).await;
    assert_eq!(status, 204);
    assert_eq!(t.get("/v1/canned-responses", AGENT).await["responses"], json!([]));
    let (status, blank) = t
        .api(
            Method::POST,
            "/v1/canned-responses",
            Some(SUPERVISOR),
            Some(json!({ "title": " ", "text": "x" })),
        )
        .await;
    assert_eq!(status, 400, "{blank}");
}

/// Polling with conditional requests: an unchanged list answers 304 with no body to the ETag
/// it last sent; a new ticket changes the answer and its ETag.
pub async fn an_unchanged_ticket_list_answers_304_and_a_new_ticket_changes_its_etag(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    assert_eq!(t.send_chat_from("m1", "conv-1", json!({ "id": "v1" }), "hello").await, 202);
    t.wait_ticket(1, "opened", |v| v["ticket"]["number"] == 1).await;
    let list = t.url("/v1/tickets?team=frontline");
    let read = |tag: Option<String>| {
        let mut request = t.http.get(&list).bearer_auth(AGENT);
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let first = read(None).await.expect("desk answers");
    assert_eq!(first.status().as_u16(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = read(Some(tag.clone())).await.expect("desk answers");
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    assert_eq!(t.send_chat_from("m2", "conv-2", json!({ "id": "v2" }), "another").await, 202);
    t.wait_ticket(2, "opened", |v| v["ticket"]["number"] == 2).await;
    let changed = read(Some(tag.clone())).await.expect("desk answers");
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["tickets"].as_array().map(Vec::len), Some(2), "{body}");
}
