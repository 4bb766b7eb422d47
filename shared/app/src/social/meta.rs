//! `/v1/social/meta`: one Graph webhook for Messenger (`object: page`), Instagram
//! (`instagram`) and WhatsApp (`whatsapp_business_account`). GET is the verify handshake;
//! POST carries `X-Hub-Signature-256`, the App Secret's HMAC-SHA256 of the raw body, and a
//! batch of entries. Meta redelivers until it gets a 200; redeliveries keep the message ids
//! (mid, wamid), which the router's idempotency key absorbs.

use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use omnidesk_domain::inbound::InboundMessage;
use omnidesk_domain::social::{Platform, SocialSource};
use serde::Deserialize;
use sha2::Sha256;

use super::{Incoming, MAX_SOCIAL_BODY_BYTES, SocialWebhook, enqueue, normalise, query_pairs};
use crate::body;
use crate::config::MetaApp;
use crate::error::ApiError;

pub const META_SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Most messages one delivery may carry; Meta batches far fewer.
const MAX_MESSAGES_PER_DELIVERY: usize = 100;

pub(super) fn routes() -> axum::Router<SocialWebhook> {
    axum::Router::new().route("/v1/social/meta", get(handshake).post(receive))
}

fn app(webhook: &SocialWebhook) -> Result<&MetaApp, ApiError> {
    webhook.config.meta.as_ref().ok_or_else(|| ApiError::not_found("no Meta app is configured"))
}

async fn handshake(
    State(webhook): State<SocialWebhook>,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let app = app(&webhook)?;
    let query = query_pairs(raw.as_deref());
    let token_ok = match (query.get("hub.verify_token"), app.verify_token.value()) {
        (Some(given), Some(expected)) => hmac_eq(given.as_bytes(), expected.as_bytes()),
        _ => false,
    };
    if query.get("hub.mode").map(String::as_str) != Some("subscribe") || !token_ok {
        tracing::warn!("meta.handshake_refused");
        return Err(ApiError::forbidden("hub.mode or hub.verify_token does not match"));
    }
    let challenge = query.get("hub.challenge").cloned().unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], challenge))
}

/// Constant-time equality of two strings (through their MACs under one key).
fn hmac_eq(a: &[u8], b: &[u8]) -> bool {
    let mac = |v: &[u8]| {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(b"omnidesk-compare").unwrap_or_else(|_| unreachable!());
        mac.update(v);
        mac.finalize().into_bytes()
    };
    mac(a) == mac(b)
}

/// `sha256=<hex>` for `body` under `secret`, as Meta signs.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a `sha256=<hex>` header against the raw body with any of `secrets`.
pub fn verify_sha256(header: Option<&str>, secrets: &[&str], body: &[u8]) -> Result<(), ApiError> {
    let header = header.ok_or_else(|| ApiError::unauthorized("missing signature header"))?;
    let hex_part =
        header.strip_prefix("sha256=").ok_or_else(|| ApiError::unauthorized("malformed signature header"))?;
    let given =
        hex::decode(hex_part.trim()).map_err(|_| ApiError::unauthorized("malformed signature header"))?;
    let matches = secrets.iter().any(|secret| {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(body);
        mac.verify_slice(&given).is_ok()
    });
    if matches { Ok(()) } else { Err(ApiError::unauthorized("signature does not match")) }
}

async fn receive(
    State(webhook): State<SocialWebhook>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let app = app(&webhook)?;
    let body = body::bytes(body, MAX_SOCIAL_BODY_BYTES)?;
    let secrets: Vec<&str> = [Some(&app.app_secret), app.next_app_secret.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.value())
        .collect();
    let header = headers.get(META_SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    verify_sha256(header, &secrets, &body)
        .inspect_err(|e| tracing::warn!(error = %e.message, "meta.signature_refused"))?;
    let delivery: Delivery = body::json(&body)?;
    let now = webhook.clock.now();
    let messages = messages(delivery, now)?;
    enqueue(&webhook, messages).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "EVENT_RECEIVED"))
}

#[derive(Debug, Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    messaging: Vec<Messaging>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Messaging {
    sender: Party,
    recipient: Party,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    message: Option<MessengerMessage>,
    #[serde(default)]
    postback: Option<Postback>,
}

#[derive(Debug, Deserialize)]
struct Party {
    id: String,
}

#[derive(Debug, Deserialize)]
struct MessengerMessage {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    attachments: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Postback {
    #[serde(default)]
    mid: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    payload: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    value: WhatsappValue,
}

#[derive(Debug, Deserialize)]
struct WhatsappValue {
    #[serde(default)]
    metadata: Option<WhatsappMetadata>,
    #[serde(default)]
    contacts: Vec<WhatsappContact>,
    #[serde(default)]
    messages: Vec<WhatsappMessage>,
}

#[derive(Debug, Deserialize)]
struct WhatsappMetadata {
    phone_number_id: String,
}

#[derive(Debug, Deserialize)]
struct WhatsappContact {
    wa_id: String,
    #[serde(default)]
    profile: Option<WhatsappProfile>,
}

#[derive(Debug, Deserialize)]
struct WhatsappProfile {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WhatsappMessage {
    from: String,
    id: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<WhatsappText>,
}

#[derive(Debug, Deserialize)]
struct WhatsappText {
    body: String,
}

/// Every customer message of the batch; echoes of the desk's own sends, delivery and read
/// receipts, statuses and unknown objects are acknowledged and dropped.
fn messages(delivery: Delivery, now: Timestamp) -> Result<Vec<InboundMessage>, ApiError> {
    let platform = match delivery.object.as_str() {
        "page" => Platform::Messenger,
        "instagram" => Platform::Instagram,
        "whatsapp_business_account" => Platform::Whatsapp,
        other => {
            tracing::info!(object = other, "meta.object_ignored");
            return Ok(Vec::new());
        }
    };
    let mut incoming = Vec::new();
    for entry in delivery.entry {
        for event in entry.messaging {
            incoming.extend(messaging(platform, event));
        }
        for change in entry.changes.into_iter().filter(|c| c.field == "messages") {
            incoming.extend(whatsapp(change.value));
        }
    }
    if incoming.len() > MAX_MESSAGES_PER_DELIVERY {
        return Err(ApiError::too_large(format!("at most {MAX_MESSAGES_PER_DELIVERY} messages a delivery")));
    }
    incoming.into_iter().map(|m| normalise(m, now)).collect()
}

fn social(
    platform: Platform,
    account: String,
    user: String,
    message_id: String,
    event: Option<String>,
) -> SocialSource {
    SocialSource {
        platform,
        account,
        conversation: user.clone(),
        user,
        message_id,
        union_id: None,
        event,
        staff: false,
    }
}

fn messaging(platform: Platform, event: Messaging) -> Option<Incoming> {
    let sent_at = event.timestamp.and_then(|ms| Timestamp::from_millisecond(ms).ok());
    let (source, text) = match (event.message, event.postback) {
        (Some(message), _) if !message.is_echo => {
            let text = match (message.text, message.attachments.len()) {
                (Some(text), _) => text,
                (None, 0) => "[empty message]".to_owned(),
                (None, n) => format!("[{n} attachment(s)]"),
            };
            (social(platform, event.recipient.id, event.sender.id, message.mid, None), text)
        }
        (None, Some(postback)) => {
            // A button press: its mid when Graph gives one, else sender and time.
            let id = postback.mid.unwrap_or_else(|| {
                format!("postback:{}:{}", event.sender.id, event.timestamp.unwrap_or_default())
            });
            let label = postback.title.or(postback.payload).unwrap_or_default();
            (
                social(platform, event.recipient.id, event.sender.id, id, Some("postback".into())),
                format!("[button: {label}]"),
            )
        }
        _ => return None,
    };
    Some(Incoming { source, name: None, text, sent_at })
}

fn whatsapp(value: WhatsappValue) -> Vec<Incoming> {
    let Some(account) = value.metadata.map(|m| m.phone_number_id) else { return Vec::new() };
    value
        .messages
        .into_iter()
        .map(|message| {
            let name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == message.from)
                .and_then(|c| c.profile.as_ref()?.name.clone());
            let text = match message.text {
                Some(text) => text.body,
                None => format!("[{}]", message.kind),
            };
            let sent_at = message
                .timestamp
                .as_deref()
                .and_then(|t| t.parse().ok())
                .and_then(|s| Timestamp::from_second(s).ok());
            Incoming {
                source: social(Platform::Whatsapp, account.clone(), message.from, message.id, None),
                name,
                text,
                sent_at,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_signature_matches_the_computed_vector() {
        assert_eq!(
            sign(b"test_app_secret", br#"{"object":"page","entry":[]}"#),
            "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
        );
        let header = sign(b"test_app_secret", b"{}");
        assert!(verify_sha256(Some(&header), &["test_app_secret"], b"{}").is_ok());
        assert!(verify_sha256(Some(&header), &["test_app_secret"], b"{ }").is_err());
        assert!(verify_sha256(Some("sha1=00"), &["test_app_secret"], b"{}").is_err());
        assert!(verify_sha256(None, &["test_app_secret"], b"{}").is_err());
    }

    #[test]
    fn meta_batches_become_one_message_each_and_echoes_are_dropped() {
        let body = br#"{"object":"page","entry":[
            {"id":"P","time":1,"messaging":[{"sender":{"id":"psid-1"},"recipient":{"id":"P"},"timestamp":1457764197627,"message":{"mid":"m1","text":"hello"}}]},
            {"id":"P","time":2,"messaging":[{"sender":{"id":"P"},"recipient":{"id":"psid-1"},"timestamp":1457764197628,"message":{"mid":"m2","text":"our reply","is_echo":true}}]},
            {"id":"P","time":3,"messaging":[{"sender":{"id":"psid-2"},"recipient":{"id":"P"},"timestamp":1457764197629,"postback":{"mid":"m3","title":"Track order","payload":"TRACK"}}]}
        ]}"#;
        let delivery: Delivery = serde_json::from_slice(body).unwrap();
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let messages = messages(delivery, now).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].text, "hello");
        assert_eq!(messages[1].text, "[button: Track order]");
        assert_eq!(messages[0].idempotency_key, "social:messenger:P:m1");
    }
}
