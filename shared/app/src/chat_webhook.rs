//! `POST /v1/chat/{inbox}/messages`: a chat provider or site widget hands us a customer
//! message. Authenticate (HMAC), validate, keep its files (`crate::chat_attachments`),
//! normalise into an `InboundMessage`, queue it and answer 202. Nothing here writes tickets:
//! the router does, exactly once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use jiff::Timestamp;
use omnidesk_domain::envelope::seal;
use omnidesk_domain::inbound::{InboundMessage, Sender, Source, Vouched};
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::model::AttachmentRef;
use omnidesk_domain::model::Identity;
use omnidesk_domain::ports::{BlobStore, Clock, Queue, RateLimiter};
use omnidesk_domain::text;
use serde::{Deserialize, Serialize};

use crate::body;
use crate::chat_attachments::{self, AttachmentIn};
use crate::config::InboxDirectory;
use crate::error::{self, ApiError};
use crate::signature::{self, SIGNATURE_HEADER};

/// Largest accepted request body (ARCHITECTURE.md §3): 64 KiB of message plus its files.
pub use crate::chat_attachments::MAX_CHAT_BODY_BYTES;
/// Longest id we accept from a provider (message, conversation, visitor).
const MAX_ID_CHARS: usize = 256;

#[derive(Clone)]
pub struct ChatWebhook {
    pub inboxes: Arc<InboxDirectory>,
    pub inbound: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    /// Counts each inbox's messages per minute (its `max_messages_per_minute`); none: no limit.
    pub limiter: Option<Arc<dyn RateLimiter>>,
    /// Where files sent in chat are kept (the mail attachments' store); none: a message with
    /// files is refused (422), one without is taken as ever.
    pub blobs: Option<Arc<dyn BlobStore>>,
}

/// The window of the per-inbox limit.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// What an unknown inbox's requests are checked against, so that they fail exactly as a bad
/// signature does: the answer must not tell which inbox ids exist.
const NO_SUCH_INBOX_SECRET: &[u8] = b"omnidesk: there is no inbox by this name";

/// The request body.
#[derive(Debug, Deserialize)]
struct ChatMessageIn {
    message_id: String,
    conversation_id: String,
    visitor: VisitorIn,
    /// May be empty when the message carries files (a photo sent without a caption).
    text: String,
    #[serde(default)]
    sent_at: Option<Timestamp>,
    #[serde(default)]
    attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Deserialize)]
struct VisitorIn {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Debug, Serialize)]
struct Accepted {
    accepted: bool,
    message_id: String,
}

pub fn router(webhook: ChatWebhook) -> Router {
    Router::new()
        .route("/v1/chat/{inbox}/messages", post(receive))
        .layer(DefaultBodyLimit::max(MAX_CHAT_BODY_BYTES))
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .with_state(webhook)
}

async fn receive(
    State(webhook): State<ChatWebhook>,
    Path(inbox_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let inbox = webhook.inboxes.get(&inbox_id);
    let body = body::bytes(body, MAX_CHAT_BODY_BYTES)?;
    let now = webhook.clock.now();
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    // The inbox's secret, and its next one during a rotation.
    let keys = inbox.map_or_else(|| vec![NO_SUCH_INBOX_SECRET], |inbox| inbox.verifying_keys());
    let verified = signature::verify_any(header, &keys, &body, now);
    let inbox = match (inbox, verified) {
        (Some(inbox), Ok(())) => inbox,
        // An unknown inbox fails like a wrong MAC, even for a request signed with the
        // stand-in secret (which is no secret).
        (known, result) => {
            let error = result.err().unwrap_or(signature::SignatureError::Mismatch);
            tracing::warn!(inbox = %Hashed(&inbox_id), known = known.is_some(), %error, "chat.signature_refused");
            return Err(ApiError::unauthorized(error.to_string()));
        }
    };
    within_rate(&webhook, &inbox_id, inbox.max_messages_per_minute, now).await?;
    let mut message = parse(&body)?;
    let files = chat_attachments::check(&message.attachments, body.len())?;
    // The base64 is done with: only the checked bytes go on.
    message.attachments.clear();
    let message_id = message.message_id.clone();
    let files = chat_attachments::keyed(&InboundMessage::chat_idempotency_key(&inbox_id, &message_id), files);
    let attachments: Vec<AttachmentRef> = files.iter().map(|f| f.reference.clone()).collect();
    match (&webhook.blobs, files.is_empty()) {
        (_, true) => {}
        (Some(blobs), false) => chat_attachments::store(&**blobs, files).await?,
        (None, false) => {
            return Err(ApiError::unprocessable("this desk keeps no chat attachments: it has no file store"));
        }
    }
    let vouched = if inbox.verified_identity { Vouched::Yes } else { Vouched::No };
    let inbound = normalise(&inbox_id, message, attachments, vouched, now);
    webhook.inbound.send(seal(&inbound)).await?;
    tracing::info!(inbox = %inbox_id, message_id = %Hashed(&message_id), "chat.accepted");
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: true, message_id })))
}

/// Counts the message against its inbox's limit; 429 once the minute's budget is spent. Only
/// signed requests count, so nobody without the secret can use up an inbox's budget.
async fn within_rate(webhook: &ChatWebhook, inbox: &str, limit: u32, now: Timestamp) -> Result<(), ApiError> {
    let Some(limiter) = &webhook.limiter else {
        return Ok(());
    };
    if limit == 0 {
        return Ok(());
    }
    let allowed = limiter
        .count_request(&format!("chat-inbox:{inbox}"), limit, RATE_WINDOW, now)
        .await
        .map_err(|error| {
            tracing::error!(%error, "chat.rate_count_failed");
            ApiError::unavailable("try again shortly")
        })?;
    if allowed {
        return Ok(());
    }
    tracing::warn!(inbox, limit, "chat.rate_limited");
    Err(ApiError::rate_limited(format!("this inbox may post {limit} messages a minute: retry in a minute")))
}

fn parse(body: &[u8]) -> Result<ChatMessageIn, ApiError> {
    let mut message: ChatMessageIn = body::json(body)?;
    check_id("message_id", &message.message_id)?;
    check_id("conversation_id", &message.conversation_id)?;
    check_id("visitor.id", &message.visitor.id)?;
    message.text = if message.attachments.is_empty() {
        text::required_body("text", &message.text).map_err(|e| ApiError::bad_request(e.to_string()))?
    } else {
        text::body(&message.text).trim().to_owned()
    };
    message.visitor.name = message.visitor.name.as_deref().and_then(text::name);
    if let Some(email) = &message.visitor.email {
        Identity::email(email).map_err(|e| ApiError::bad_request(format!("visitor.email: {e}")))?;
    }
    if let Some(phone) = &message.visitor.phone {
        Identity::phone(phone).map_err(|e| ApiError::bad_request(format!("visitor.phone: {e}")))?;
    }
    Ok(message)
}

fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field}: must not be empty")));
    }
    if value.chars().count() > MAX_ID_CHARS || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{field}: at most {MAX_ID_CHARS} printable characters")));
    }
    Ok(())
}

/// The visitor id links the message to a customer (within the inbox); typed email and phone
/// link only from an inbox whose provider signs its users in, and are hints otherwise.
fn normalise(
    inbox: &str,
    message: ChatMessageIn,
    attachments: Vec<AttachmentRef>,
    vouched: Vouched,
    now: Timestamp,
) -> InboundMessage {
    let sender = Sender {
        name: message.visitor.name.filter(|n| !n.trim().is_empty()),
        chat_visitor: Some(message.visitor.id),
        ..Sender::default()
    };
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key(inbox, &message.message_id),
        source: Source::Chat {
            inbox: inbox.to_owned(),
            conversation_id: message.conversation_id,
            message_id: message.message_id,
        },
        sender: sender.with_contact(message.visitor.email, message.visitor.phone, vouched),
        text: message.text,
        attachments,
        // The provider's instant orders the thread; without one, the instant we accepted it.
        sent_at: Some(message.sent_at.unwrap_or(now)),
        received_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str, text: &str, sent_at: Option<&str>) -> Vec<u8> {
        let mut json = serde_json::json!({
            "message_id": "m1", "conversation_id": "c1",
            "visitor": {"id": "v1", "name": name}, "text": text,
        });
        if let Some(at) = sent_at {
            json["sent_at"] = at.into();
        }
        serde_json::to_vec(&json).unwrap()
    }

    #[test]
    fn input_hygiene_chat_names_and_text_are_sanitised_and_invisible_text_is_refused() {
        let message = parse(&body("Anna\u{202E}nimdA\u{0}", "hi\r\n\u{1B}[2Jthere\u{2066}", None)).unwrap();
        assert_eq!(message.visitor.name.as_deref(), Some("AnnanimdA"));
        assert_eq!(message.text, "hi\n[2Jthere");
        let message = parse(&body("\u{200B}\u{202E}", "hello", None)).unwrap();
        assert_eq!(message.visitor.name, None, "an invisible-only name is no name");
        let refused = parse(&body("Anna", "\u{200B}\u{202E} \u{7}", None)).unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.message, "text: must contain visible text");
    }

    /// Collects what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn input_hygiene_logs_show_a_senders_message_id_only_hashed() {
        use tower::ServiceExt;

        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt().json().with_writer(move || writer.clone()).finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let now = Timestamp::from_second(1_795_424_400).unwrap();
        let clock = Arc::new(omnidesk_domain::memory::ManualClock::new(now));
        let config = crate::config::DeskConfig::from_toml(
            "[[chat_inboxes]]\nid = \"web\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"https://x.example/cb\"\n",
        )
        .unwrap();
        let queue = omnidesk_domain::memory::MemoryQueue::new("inbound", clock.clone(), Default::default());
        let app = router(ChatWebhook {
            inboxes: config.inboxes(),
            inbound: Arc::new(queue),
            clock,
            limiter: None,
            blobs: None,
        });
        let message_id = "anna.smith@example.com";
        let body = serde_json::json!({
            "message_id": message_id, "conversation_id": "c1", "visitor": {"id": "v1"}, "text": "hi",
        })
        .to_string();
        let request = axum::http::Request::post("/v1/chat/web/messages")
            .header(
                SIGNATURE_HEADER,
                crate::signature::sign(b"0123456789abcdef", now.as_second(), body.as_bytes()),
            )
            .body(axum::body::Body::from(body))
            .unwrap();
        assert_eq!(app.oneshot(request).await.unwrap().status(), StatusCode::ACCEPTED);

        let written = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(written.contains("chat.accepted"), "{written}");
        assert!(written.contains(&Hashed(message_id).to_string()), "{written}");
        assert!(!written.contains("anna.smith"), "{written}");
    }

    #[test]
    fn order_a_chat_message_carries_the_providers_sent_at_else_the_instant_it_was_accepted() {
        let now = Timestamp::from_second(1_795_424_400).unwrap();
        let given = parse(&body("Anna", "hi", Some("2026-11-23T10:00:00Z"))).unwrap();
        assert_eq!(
            normalise("web", given, Vec::new(), Vouched::No, now).sent_at,
            Some("2026-11-23T10:00:00Z".parse().unwrap())
        );
        let without = parse(&body("Anna", "hi", None)).unwrap();
        assert_eq!(normalise("web", without, Vec::new(), Vouched::No, now).sent_at, Some(now));
    }

    fn typed() -> ChatMessageIn {
        let body = br#"{"message_id":"m1","conversation_id":"c1","text":"hi",
            "visitor":{"id":"v1","email":"anna@example.com","phone":"+8613800138000"}}"#;
        parse(body).unwrap()
    }

    #[test]
    fn chat_typed_email_and_phone_are_hints_unless_the_inbox_verifies_identity() {
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let hinted = normalise("web", typed(), Vec::new(), Vouched::No, now);
        assert_eq!((hinted.sender.email.as_deref(), hinted.sender.phone.as_deref()), (None, None));
        assert_eq!(hinted.sender.hints.email.as_deref(), Some("anna@example.com"));
        assert_eq!(
            hinted.identities(),
            vec![omnidesk_domain::model::Identity::chat_visitor("web", "v1").unwrap()]
        );
        let linked = normalise("app", typed(), Vec::new(), Vouched::Yes, now);
        assert_eq!(linked.sender.email.as_deref(), Some("anna@example.com"));
        assert!(linked.sender.hints.is_empty());
        assert_eq!(linked.identities().len(), 3);
    }
}
