//! Who a message is from and who may join a thread, end to end on both backends: a chat
//! visitor typing someone else's address stays a customer of their own; a stranger answering
//! a mail thread with a Cc copies nobody; the agent API guards the cc list, merges across
//! customers and the recipient limit of a mail.

use omnidesk_domain::model::{AuthorKind, Direction, TicketNumber};
use omnidesk_domain::ports::TicketCommit;
use omnidesk_local::outbox::header;
use reqwest::Method;
use serde_json::{Value, json};

use crate::agent_scenarios::{AGENT, STAFF, SUPERVISOR};
use crate::{Backend, INBOX, SECRET, TestDesk, eventually, now};

const ANNA: &str = "anna.chen@example.com";
const LI: &str = "li.wei@example.com";

/// The id of [`verified_inbox`].
pub const VERIFIED_INBOX: &str = "shop-app";

/// A second chat inbox whose provider signs its users in (no acknowledgements, so it needs no
/// callback).
pub fn verified_inbox() -> String {
    format!(
        r#"
[[chat_inboxes]]
id = "{VERIFIED_INBOX}"
secret = "{SECRET}"
callback_url = "http://127.0.0.1:9/never-called"
acknowledge = false
verified_identity = true
"#
    )
}

const EMAIL: &str = "\n[email]\naddress = \"support@desk.example\"\n";

impl TestDesk {
    async fn chat_in(&self, inbox: &str, message_id: &str, conversation: &str, visitor: Value) -> u16 {
        let body = json!({ "message_id": message_id, "conversation_id": conversation, "visitor": visitor, "text": "Where are my orders?" })
            .to_string();
        self.post_chat(inbox, body.as_bytes(), Some(now())).await.0
    }

    async fn mail_in(&self, raw: String) {
        let response = self.http.post(self.url("/local/email")).body(raw).send().await.expect("desk answers");
        assert_eq!(response.status().as_u16(), 202);
    }

    async fn customer_messages(&self, number: u64) -> usize {
        let messages = self.messages(TicketNumber(number)).await;
        messages
            .iter()
            .filter(|m| m.author == AuthorKind::Customer && m.direction == Direction::Inbound)
            .count()
    }

    /// The mails in the outbox, oldest first.
    fn sent_mail(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(&self.outbox) else { return Vec::new() };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }
}

fn mail(from: &str, message_id: &str, extra_headers: &str, subject: &str, text: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@desk.example\r\nMessage-ID: <{message_id}>\r\n{extra_headers}\
         Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    )
}

pub async fn chat_visitor_typing_an_existing_customers_address_stays_a_separate_customer(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}{}", verified_inbox())).await;
    // Anna, signed in to the shop's app, which vouches for her address.
    let anna_visitor = json!({ "id": "anna-1", "name": "Anna", "email": ANNA });
    assert_eq!(t.chat_in(VERIFIED_INBOX, "a1", "app-1", anna_visitor).await, 202);
    let email = omnidesk_domain::model::Identity::email(ANNA).unwrap();
    let claimed = eventually(backend.patience(), || async {
        t.observe.customers.customer_by_identity(&email).await.expect("read").is_some()
    })
    .await;
    assert!(claimed, "the verified inbox never linked Anna's address");
    let anna = t.observe.customers.customer_by_identity(&email).await.unwrap().unwrap();

    // Someone on the public widget types Anna's address.
    let typed = json!({ "id": "v-stranger", "name": "Anna", "email": ANNA });
    assert_eq!(t.chat_in(INBOX, "w1", "web-1", typed).await, 202);
    assert!(
        eventually(backend.patience(), || async { t.ticket_of_conversation("web-1").await.is_some() }).await
    );
    let ticket = t.ticket_of_conversation("web-1").await.unwrap();
    let stranger = t.ticket(ticket.0).await.unwrap().requester;
    assert_ne!(stranger, anna, "a typed address led to its owner's record");
    assert_eq!(t.customer_of_visitor("v-stranger").await, Some(stranger.clone()));

    // The agent sees the typed address as unverified, and Anna as a merge candidate.
    let view = t.get(&format!("/v1/customers/{stranger}"), AGENT).await;
    assert_eq!(view["customer"]["unverified"], json!([{ "kind": "email", "address": ANNA }]), "{view}");
    assert_eq!(view["merge_candidates"][0]["customer"], json!(anna.to_string()), "{view}");
    assert_eq!(view["tickets"].as_array().map(Vec::len), Some(1));
    assert!(view["customer"]["identities"].as_array().unwrap().iter().all(|i| i["kind"] != "email"));
    // And Anna's record shows nothing of the stranger's.
    let anna_view = t.get(&format!("/v1/customers/{anna}"), AGENT).await;
    let numbers: Vec<u64> =
        anna_view["tickets"].as_array().unwrap().iter().filter_map(|t| t["number"].as_u64()).collect();
    assert!(!numbers.contains(&ticket.0), "{anna_view}");
}

pub async fn a_strangers_reply_with_cc_copies_nobody(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}{EMAIL}")).await;
    let first =
        mail(LI, "first@mail.example.com", "", "Where is my parcel?", "Order NW-1042 has not arrived.");
    t.mail_in(first).await;
    assert!(eventually(backend.patience(), || async { t.customer_messages(1).await == 1 }).await);

    // A stranger who learnt the thread's Message-ID answers it, copying an address of theirs.
    let stranger = mail(
        "Mallory <mallory@evil.example>",
        "m1@evil.example",
        "In-Reply-To: <first@mail.example.com>\r\nCc: exfil@evil.example\r\n",
        "Re: Where is my parcel?",
        "Please keep me posted.",
    );
    t.mail_in(stranger).await;
    assert!(
        eventually(backend.patience(), || async { t.customer_messages(1).await == 2 }).await,
        "the stranger's mail never reached the thread"
    );
    let ticket = t.ticket(1).await.unwrap();
    assert!(ticket.cc.is_empty(), "a stranger's Cc was taken: {:?}", ticket.cc);
    assert!(ticket.tags.contains("third_party"), "{:?}", ticket.tags);
    let view = t.get("/v1/tickets/1", AGENT).await;
    let flags: Vec<&Value> = view["messages"].as_array().unwrap().iter().map(|m| &m["flags"]).collect();
    assert!(flags.contains(&&json!(["third_party"])), "{flags:?}");

    // The agent answers: the mail goes to the requester and copies nobody.
    let (status, body) = t
        .api(Method::POST, "/v1/tickets/1/replies", Some(AGENT), Some(json!({ "text": "It ships today." })))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        eventually(backend.patience(), || async { t.sent_mail().len() == 2 }).await,
        "expected the acknowledgement and the reply in the outbox, found {}",
        t.sent_mail().len()
    );
    let reply = t.sent_mail().pop().unwrap();
    assert!(header(&reply, "to").is_some_and(|to| to.contains(LI)));
    assert_eq!(header(&reply, "cc"), None);
    assert!(!String::from_utf8_lossy(&reply).contains("exfil@evil.example"));
}

pub async fn cc_merges_and_recipient_limits_are_guarded_at_the_agent_api(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}{EMAIL}")).await;
    t.mail_in(mail(LI, "li@mail.example.com", "", "Parcel", "Where is it?")).await;
    t.mail_in(mail("wang.fang@example.com", "wang@mail.example.com", "", "Refund", "Refund please.")).await;
    assert!(
        eventually(backend.patience(), || async {
            t.ticket(2).await.is_some() && t.ticket(1).await.is_some()
        })
        .await
    );

    // Merging one customer's ticket into another's: explicit, and a supervisor's call.
    let merge = |body: Value, token: &'static str| {
        let t = &t;
        async move { t.api(Method::POST, "/v1/tickets/2/merge", Some(token), Some(body)).await }
    };
    let (status, body) = merge(json!({ "into": 1 }), AGENT).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("across_customers"), "{body}");
    let (status, body) = merge(json!({ "into": 1, "across_customers": true }), AGENT).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert_eq!(t.ticket(2).await.unwrap().merged_into, None);
    let (status, body) = merge(json!({ "into": 1, "across_customers": true }), SUPERVISOR).await;
    assert_eq!(status, 200, "{body}");

    // The cc list: validated, capped, version-checked, shown.
    let version = t.ticket(1).await.unwrap().version;
    let patch = |cc: Value, version: u64| {
        let t = &t;
        async move {
            t.api(Method::PATCH, "/v1/tickets/1", Some(AGENT), Some(json!({ "version": version, "cc": cc })))
                .await
        }
    };
    assert_eq!(patch(json!(["not an address"]), version).await.0, 400);
    let eleven: Vec<String> = (0..11).map(|i| format!("c{i}@example.com")).collect();
    assert_eq!(patch(json!(eleven), version).await.0, 400);
    let (status, body) = patch(json!(["Wang.Fang@Example.com"]), version).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(t.get("/v1/tickets/1", AGENT).await["ticket"]["cc"], json!(["wang.fang@example.com"]));
    assert_eq!(patch(json!([]), version).await.0, 409);

    // A ticket copied to more people than a mail can reach (from before the cap): the reply
    // is refused where the agent sees it, and nothing is written or queued.
    let mut ticket = t.ticket(1).await.unwrap();
    let expected = ticket.version;
    ticket.cc = (0..50).map(|i| format!("c{i}@example.com")).collect();
    ticket.version += 1;
    let commit = TicketCommit {
        ticket,
        expected_version: Some(expected),
        messages: vec![],
        events: vec![],
        thread_claims: vec![],
        idempotency: None,
    };
    t.observe.tickets.commit(commit).await.expect("write the old ticket");
    let before = t.messages(TicketNumber(1)).await.len();
    let (status, body) =
        t.api(Method::POST, "/v1/tickets/1/replies", Some(AGENT), Some(json!({ "text": "Hello all" }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("unprocessable")), "{body}");
    assert_eq!(t.messages(TicketNumber(1)).await.len(), before);
}
