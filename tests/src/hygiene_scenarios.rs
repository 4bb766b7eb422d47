//! Order and input hygiene end to end, on both backends: a conversation routed last-first
//! still reads in the order it was written, under its first message's subject; list cursors
//! are bound to the list that made them; an idempotency key stands for one request body.

use omnidesk_domain::model::{AuthorKind, TicketNumber};
use reqwest::Method;
use serde_json::json;

use crate::agent_scenarios::{AGENT, ANALYST};
use crate::{Backend, INBOX, TestDesk, eventually, now};

/// The chat body with the provider's `sent_at`, `ago` seconds back.
fn chat_sent(message_id: &str, text: &str, ago: i64) -> String {
    let sent_at = jiff::Timestamp::from_second(now() - ago).expect("a recent instant");
    json!({
        "message_id": message_id,
        "conversation_id": "conv-1",
        "visitor": { "id": "visitor-1" },
        "text": text,
        "sent_at": sent_at.to_string(),
    })
    .to_string()
}

/// The texts of ticket #1's thread written by `author`, in the store's order.
async fn texts_by(t: &TestDesk, author: AuthorKind) -> Vec<String> {
    let thread = t.messages(TicketNumber(1)).await;
    thread.into_iter().filter(|m| m.author == author).map(|m| m.text).collect()
}

pub async fn a_conversation_routed_in_reverse_reads_in_sent_order_under_its_first_subject(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let written = [("m1", "Where is my parcel?", 90), ("m2", "Order 42", 60), ("m3", "Any news?", 30)];
    // Last first, each routed before the next is sent: the order a crash can leave.
    for (routed, (id, text, ago)) in written.iter().rev().enumerate() {
        let (status, _) = t.post_chat(INBOX, chat_sent(id, text, *ago).as_bytes(), Some(now())).await;
        assert_eq!(status, 202);
        let customer_messages = routed + 1;
        let joined = eventually(backend.patience(), || async {
            let thread = t.messages(TicketNumber(1)).await;
            thread.iter().filter(|m| m.author == AuthorKind::Customer).count() == customer_messages
        })
        .await;
        assert!(joined, "{id} never reached #1");
    }
    let ticket = t.ticket(1).await.expect("#1");
    assert_eq!(ticket.subject, "Where is my parcel?");
    let thread = texts_by(&t, AuthorKind::Customer).await;
    assert_eq!(thread, ["Where is my parcel?", "Order 42", "Any news?"]);
    assert!(t.ticket(2).await.is_none());
}

pub async fn list_cursors_used_on_another_list_or_tampered_are_400(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    for i in 1..=3 {
        let visitor = json!({ "id": format!("v{i}") });
        assert_eq!(t.send_chat_from(&format!("m{i}"), &format!("conv-{i}"), visitor, "hi").await, 202);
        t.wait_ticket(i, "opened", |v| v["ticket"]["number"] == i).await;
    }
    let page = t.get("/v1/tickets?team=frontline&limit=1", ANALYST).await;
    let cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    let next = t.get(&format!("/v1/tickets?team=frontline&limit=1&cursor={cursor}"), ANALYST).await;
    assert_eq!(next["tickets"][0]["number"], 2, "{next}");

    let mut tampered = cursor.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let foreign = [
        // Another filter on the same index, another index, another view, then a forgery.
        format!("/v1/tickets?team=frontline&status=new&limit=1&cursor={cursor}"),
        format!("/v1/tickets?status=new&limit=1&cursor={cursor}"),
        format!("/v1/tickets?view=mine&limit=1&cursor={cursor}"),
        format!("/v1/tickets?team=frontline&limit=1&cursor={tampered}"),
        "/v1/tickets?team=frontline&limit=1&cursor=zz".to_owned(),
    ];
    for path in foreign {
        let (status, body) = t.api(Method::GET, &path, Some(AGENT), None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{path}: {body}");
    }
}

pub async fn an_idempotency_key_reused_with_another_body_is_422_and_changes_nothing(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    assert_eq!(t.send_chat_from("m1", "conv-1", json!({ "id": "v1" }), "Where is my parcel?").await, 202);
    t.wait_ticket(1, "opened", |v| v["ticket"]["number"] == 1).await;
    let note = |text: &str| {
        t.http
            .post(t.url("/v1/tickets/1/notes"))
            .bearer_auth(AGENT)
            .header("idempotency-key", "note-1")
            .json(&json!({ "text": text }))
            .send()
    };
    assert_eq!(note("Called the courier").await.expect("desk answers").status().as_u16(), 201);
    assert_eq!(note("Called the courier").await.expect("desk answers").status().as_u16(), 201, "a retry");
    let reused = note("Refund issued").await.expect("desk answers");
    assert_eq!(reused.status().as_u16(), 422);
    let body: serde_json::Value = reused.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "unprocessable", "{body}");
    assert_eq!(texts_by(&t, AuthorKind::Agent).await, ["Called the courier"]);
}
