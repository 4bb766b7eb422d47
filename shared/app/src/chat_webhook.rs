//! `POST /v1/chat/{inbox}/messages`: a chat provider or site widget hands us a customer
//! message. Authenticate (HMAC), validate, normalise into an `InboundMessage`, queue it and
//! answer 202. Nothing here writes tickets: the router does, exactly once.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use jiff::Timestamp;
use omnidesk_domain::envelope::seal;
use omnidesk_domain::inbound::{InboundMessage, Sender, Source};
use omnidesk_domain::model::Identity;
use omnidesk_domain::ports::{Clock, Queue};
use serde::{Deserialize, Serialize};

use crate::body;
use crate::config::InboxDirectory;
use crate::error::{self, ApiError};
use crate::signature::{self, SIGNATURE_HEADER};

/// Largest accepted request body (DESIGN §3).
pub const MAX_CHAT_BODY_BYTES: usize = 64 * 1024;
/// Longest id we accept from a provider (message, conversation, visitor).
const MAX_ID_CHARS: usize = 256;

#[derive(Clone)]
pub struct ChatWebhook {
    pub inboxes: Arc<InboxDirectory>,
    pub inbound: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

/// The request body.
#[derive(Debug, Deserialize)]
struct ChatMessageIn {
    message_id: String,
    conversation_id: String,
    visitor: VisitorIn,
    text: String,
    #[serde(default)]
    sent_at: Option<Timestamp>,
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
    let inbox = webhook.inboxes.get(&inbox_id).ok_or_else(|| ApiError::not_found("unknown inbox"))?;
    let body = body::bytes(body, MAX_CHAT_BODY_BYTES)?;
    let now = webhook.clock.now();
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    signature::verify_any(header, &inbox.verifying_keys(), &body, now).map_err(|error| {
        tracing::warn!(inbox = %inbox_id, %error, "chat.signature_refused");
        ApiError::unauthorized(error.to_string())
    })?;
    let message = parse(&body)?;
    let message_id = message.message_id.clone();
    let inbound = normalise(&inbox_id, message, now);
    webhook.inbound.send(seal(&inbound)).await?;
    tracing::info!(inbox = %inbox_id, %message_id, "chat.accepted");
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: true, message_id })))
}

fn parse(body: &[u8]) -> Result<ChatMessageIn, ApiError> {
    let message: ChatMessageIn = body::json(body)?;
    check_id("message_id", &message.message_id)?;
    check_id("conversation_id", &message.conversation_id)?;
    check_id("visitor.id", &message.visitor.id)?;
    if message.text.trim().is_empty() {
        return Err(ApiError::bad_request("text: must not be empty"));
    }
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

fn normalise(inbox: &str, message: ChatMessageIn, now: Timestamp) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key(inbox, &message.message_id),
        source: Source::Chat {
            inbox: inbox.to_owned(),
            conversation_id: message.conversation_id,
            message_id: message.message_id,
        },
        sender: Sender {
            name: message.visitor.name.filter(|n| !n.trim().is_empty()),
            chat_visitor: Some(message.visitor.id),
            email: message.visitor.email,
            phone: message.visitor.phone,
        },
        text: message.text,
        attachments: Vec::new(),
        sent_at: message.sent_at,
        received_at: now,
    }
}
