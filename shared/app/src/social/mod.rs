//! `/v1/social/...`: each platform's webhook (WeChat, Meta, the Discourse forum). Every
//! adapter has the same shape: verify the platform's signature over the raw body, normalise
//! into an `InboundMessage` with a [`SocialSource`], queue it, and answer as the platform
//! expects. The router makes tickets, exactly once; the dispatcher answers through
//! [`send::SocialNotifier`]. A new platform is one more module like these.

pub mod forum;
pub mod meta;
pub mod send;
pub mod token;
pub mod wechat;
pub mod wechat_crypto;
pub mod wechat_user;
pub mod xml;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use jiff::Timestamp;
use omnidesk_domain::envelope::seal;
use omnidesk_domain::inbound::{InboundMessage, Sender, Source};
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::ports::{Clock, Queue};
use omnidesk_domain::social::{MAX_SOCIAL_ID_CHARS, SocialSource};
use omnidesk_domain::text;

use crate::config::SocialConfig;
use crate::error::{self, ApiError};

/// Largest accepted webhook body: a WeChat message is a few KiB, a Graph batch or a
/// Discourse post rarely more than tens.
pub const MAX_SOCIAL_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct SocialWebhook {
    pub config: Arc<SocialConfig>,
    pub inbound: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    /// Looks up WeChat UnionIDs; without it WeChat customers are known by OpenID only.
    pub wechat_users: Option<Arc<wechat_user::WechatUsers>>,
}

pub fn router(webhook: SocialWebhook) -> Router {
    Router::new()
        .merge(wechat::routes())
        .merge(meta::routes())
        .merge(forum::routes())
        .layer(DefaultBodyLimit::max(MAX_SOCIAL_BODY_BYTES))
        .with_state(webhook)
}

/// [`router`] alone, as social-webhook serves it: unknown routes answer in the desk's error
/// shape. (The local desk merges the routes with others and has its own fallback.)
pub fn service(webhook: SocialWebhook) -> Router {
    router(webhook).method_not_allowed_fallback(error::method_not_allowed).fallback(error::not_found)
}

/// The query string as pairs (names may hold dots, as Meta's `hub.mode`).
fn query_pairs(raw: Option<&str>) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

/// An id a platform sent: non-empty, bounded, printable.
fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field}: must not be empty")));
    }
    if value.chars().count() > MAX_SOCIAL_ID_CHARS || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field}: at most {MAX_SOCIAL_ID_CHARS} printable characters"
        )));
    }
    Ok(())
}

/// One message from a platform, before it is checked and queued.
struct Incoming {
    source: SocialSource,
    name: Option<String>,
    text: String,
    sent_at: Option<Timestamp>,
}

/// Checks the ids and text and builds the `InboundMessage`. The sender's identity is the
/// platform's id for them (see `InboundMessage::identities`); nothing typed links.
fn normalise(incoming: Incoming, now: Timestamp) -> Result<InboundMessage, ApiError> {
    let Incoming { source, name, text, sent_at } = incoming;
    check_id("account", &source.account)?;
    check_id("user", &source.user)?;
    check_id("conversation", &source.conversation)?;
    check_id("message id", &source.message_id)?;
    let text = text::required_body("text", &text).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(InboundMessage {
        idempotency_key: InboundMessage::social_idempotency_key(&source.network(), &source.message_id),
        sender: Sender { name: name.as_deref().and_then(text::name), ..Sender::default() },
        source: Source::Social(source),
        text,
        attachments: Vec::new(),
        sent_at: Some(sent_at.unwrap_or(now)),
        received_at: now,
    })
}

/// Queues the messages of one delivery (a Graph batch may hold several).
async fn enqueue(webhook: &SocialWebhook, messages: Vec<InboundMessage>) -> Result<(), ApiError> {
    for message in messages {
        webhook.inbound.send(seal(&message)).await?;
        tracing::info!(key = %Hashed(&message.idempotency_key), channel = "social", "social.accepted");
    }
    Ok(())
}
