//! Bad input to the chat webhook gets a clear JSON error and changes nothing.

use omnidesk_tests::{INBOX, TestDesk, chat_body, now, settle};

async fn assert_no_effect(t: &TestDesk) {
    settle().await;
    assert!(t.desk.inbound.is_empty(), "nothing may be queued");
    assert!(t.desk.store.all_tickets().is_empty(), "no ticket may exist");
    assert!(t.receiver.attempts().is_empty(), "nothing may be sent");
}

fn good_body() -> String {
    chat_body("m1", "conv-1", "visitor-1", "hello")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_wrongly_signed_and_stale_requests_are_401() {
    let t = TestDesk::start().await;
    let body = good_body();
    let (status, json) = t.post_chat(INBOX, body.as_bytes(), None).await;
    assert_eq!((status, json["error"]["code"].as_str()), (401, Some("unauthorized")));

    // Signed with another secret.
    let wrong = omnidesk_app::signature::sign(b"not-the-inbox-secret", now(), body.as_bytes());
    let response = t
        .http
        .post(t.url("/v1/chat/web/messages"))
        .header("x-omnidesk-signature", wrong)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);

    let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now() - 301)).await;
    assert_eq!(status, 401);
    assert!(json["error"]["message"].as_str().unwrap().contains("clock skew"));
    assert_no_effect(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_missing_fields_are_400_naming_the_field() {
    let t = TestDesk::start().await;
    let cases: [(&str, &str); 6] = [
        ("{not json", ""),
        (r#"{"conversation_id":"c","visitor":{"id":"v"},"text":"hi"}"#, "message_id"),
        (
            r#"{"message_id":"m","conversation_id":"c","visitor":{},"text":"hi"}"#,
            "visitor: missing field `id`",
        ),
        (r#"{"message_id":"m","conversation_id":"c","visitor":{"id":"v"},"text":42}"#, "text:"),
        (
            r#"{"message_id":"m","conversation_id":"c","visitor":{"id":"v"},"text":"  "}"#,
            "text: must not be empty",
        ),
        (
            r#"{"message_id":"m","conversation_id":"c","visitor":{"id":"v","email":"nope"},"text":"hi"}"#,
            "visitor.email",
        ),
    ];
    for (body, names) in cases {
        let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now())).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(json["error"]["code"], "bad_request");
        let message = json["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(names), "{message:?} should name {names:?}");
    }
    assert_no_effect(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_65_kib_body_is_413() {
    let t = TestDesk::start().await;
    let body = chat_body("m1", "conv-1", "visitor-1", &"x".repeat(65 * 1024));
    let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now())).await;
    assert_eq!((status, json["error"]["code"].as_str()), (413, Some("too_large")));
    assert_no_effect(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_inbox_is_404() {
    let t = TestDesk::start().await;
    let body = good_body();
    let (status, json) = t.post_chat("no-such-inbox", body.as_bytes(), Some(now())).await;
    assert_eq!((status, json["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, _) = t.post_chat("web/extra", body.as_bytes(), Some(now())).await;
    assert_eq!(status, 404);
    assert_no_effect(&t).await;
}
