//! `/v1/social/wechat/{account}`: a WeChat Official Account's server URL. GET is the
//! handshake (echo `echostr` when `signature` checks); POST is a message push, plaintext or
//! safe mode, answered `success` at once (WeChat waits 5 seconds, then retries three times)
//! while the message goes through the inbound queue. Retries carry the same MsgId (events:
//! sender and CreateTime), which the router's idempotency key absorbs.

use std::collections::{BTreeMap, HashMap};

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use jiff::Timestamp;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::social::{Platform, SocialSource};

use super::wechat_crypto::{self, aes_key, signature, signature_matches};
use super::{Incoming, MAX_SOCIAL_BODY_BYTES, SocialWebhook, enqueue, normalise, query_pairs, xml};
use crate::body;
use crate::config::WechatAccount;
use crate::error::ApiError;
use crate::signature::MAX_CLOCK_SKEW;

/// What WeChat takes as "received, nothing to say now".
pub const SUCCESS: &str = "success";

pub(super) fn routes() -> axum::Router<SocialWebhook> {
    axum::Router::new().route("/v1/social/wechat/{account}", get(handshake).post(push))
}

fn account<'a>(webhook: &'a SocialWebhook, id: &str) -> Result<&'a WechatAccount, ApiError> {
    webhook
        .config
        .wechat
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no WeChat account {id:?}")))
}

/// The Token and, during a rotation, the next one.
fn tokens(account: &WechatAccount) -> Vec<&str> {
    [Some(&account.token), account.next_token.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.value())
        .collect()
}

/// Checks `signature` over Token, timestamp and nonce with any of the account's tokens, and
/// that the timestamp is within the clock skew the chat webhook allows (bounds replays).
fn verify(account: &WechatAccount, query: &HashMap<String, String>, now: Timestamp) -> Result<(), ApiError> {
    let (Some(given), Some(timestamp), Some(nonce)) =
        (query.get("signature"), query.get("timestamp"), query.get("nonce"))
    else {
        return Err(ApiError::forbidden("signature, timestamp and nonce are required"));
    };
    let at: i64 = timestamp.parse().map_err(|_| ApiError::forbidden("timestamp: unix seconds"))?;
    let signed =
        tokens(account).iter().any(|token| signature_matches(&signature(&[token, timestamp, nonce]), given));
    if !signed {
        return Err(ApiError::forbidden("signature does not match"));
    }
    if now.as_second().abs_diff(at) > MAX_CLOCK_SKEW.as_secs() {
        return Err(ApiError::forbidden("timestamp outside the allowed clock skew"));
    }
    Ok(())
}

fn plain(text: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text)
}

async fn handshake(
    State(webhook): State<SocialWebhook>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let account = account(&webhook, &id)?;
    let query = query_pairs(raw.as_deref());
    verify(account, &query, webhook.clock.now()).inspect_err(|error| {
        tracing::warn!(account = %id, error = %error.message, "wechat.handshake_refused");
    })?;
    let echo = query.get("echostr").cloned().unwrap_or_default();
    Ok(plain(echo))
}

async fn push(
    State(webhook): State<SocialWebhook>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let account = account(&webhook, &id)?;
    let body = body::bytes(body, MAX_SOCIAL_BODY_BYTES)?;
    let query = query_pairs(raw.as_deref());
    let now = webhook.clock.now();
    verify(account, &query, now).inspect_err(|error| {
        tracing::warn!(account = %id, error = %error.message, "wechat.signature_refused");
    })?;
    let outer = xml::fields(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = match query.get("encrypt_type").map(String::as_str) {
        Some("aes") => decrypt(account, &query, &outer)?,
        None | Some("raw") => outer,
        Some(other) => return Err(ApiError::bad_request(format!("encrypt_type: unknown {other:?}"))),
    };
    if let Some(mut message) = message(&id, &fields)? {
        // WeChat names the sender in the URL too; a push where the two differ is not its own.
        if query.get("openid").is_some_and(|openid| *openid != message.source.user) {
            return Err(ApiError::bad_request("openid: not the message's FromUserName"));
        }
        if let Some(users) = &webhook.wechat_users {
            message.source.union_id = users.union_id(account, &message.source.user).await;
        }
        let inbound = normalise(message, now)?;
        enqueue(&webhook, vec![inbound]).await?;
    }
    Ok(plain(SUCCESS.to_owned()))
}

/// The safe-mode message: `msg_signature` over the ciphertext first (a tampered one fails
/// here), then AES with the key or the next one.
fn decrypt(
    account: &WechatAccount,
    query: &HashMap<String, String>,
    outer: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let encrypted = outer.get("Encrypt").ok_or_else(|| ApiError::bad_request("Encrypt: missing"))?;
    let (Some(given), Some(timestamp), Some(nonce)) =
        (query.get("msg_signature"), query.get("timestamp"), query.get("nonce"))
    else {
        return Err(ApiError::forbidden("msg_signature is required in safe mode"));
    };
    let signed = tokens(account)
        .iter()
        .any(|token| signature_matches(&signature(&[token, timestamp, nonce, encrypted]), given));
    if !signed {
        return Err(ApiError::forbidden("msg_signature does not match"));
    }
    let keys = [account.encoding_aes_key.as_ref(), account.next_encoding_aes_key.as_ref()];
    let keys: Vec<[u8; 32]> =
        keys.into_iter().flatten().filter_map(|s| s.value()).filter_map(|k| aes_key(k).ok()).collect();
    if keys.is_empty() {
        return Err(ApiError::bad_request("this account has no encoding_aes_key: safe mode is off"));
    }
    let mut last = wechat_crypto::CryptoError::Refused;
    for key in &keys {
        match wechat_crypto::decrypt(key, encrypted, &account.app_id) {
            Ok(inner) => {
                return xml::fields(inner.as_bytes()).map_err(|e| ApiError::bad_request(e.to_string()));
            }
            Err(error) => last = error,
        }
    }
    tracing::warn!(account = %account.id, error = %last, "wechat.decrypt_refused");
    Err(ApiError::forbidden(last.to_string()))
}

/// What a push says, or `None` for events nobody answers (follow, unfollow, menu links,
/// location reports): they are acknowledged and dropped.
fn message(account: &str, fields: &BTreeMap<String, String>) -> Result<Option<Incoming>, ApiError> {
    let field = |name: &str| fields.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let required = |name: &str| field(name).ok_or_else(|| ApiError::bad_request(format!("{name}: missing")));
    let from = required("FromUserName")?;
    let created: i64 = required("CreateTime")?
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request("CreateTime: unix seconds"))?;
    let kind = required("MsgType")?;
    let (text, message_id, event) = if kind == "event" {
        let event = required("Event")?;
        let text = match event {
            "CLICK" => format!("[menu: {}]", field("EventKey").unwrap_or_default()),
            _ => {
                tracing::info!(account, event, user = %Hashed(from), "wechat.event_ignored");
                return Ok(None);
            }
        };
        // Events have no MsgId: WeChat's own rule is sender and time.
        (text, format!("{from}:{created}"), Some(event.to_owned()))
    } else {
        let text = match kind {
            "text" => required("Content")?.to_owned(),
            "voice" => {
                field("Recognition").map_or_else(|| "[voice message]".to_owned(), |t| format!("[voice] {t}"))
            }
            "image" => format!("[image] {}", field("PicUrl").unwrap_or_default()),
            "video" | "shortvideo" => "[video]".to_owned(),
            "location" => format!("[location] {}", field("Label").unwrap_or_default()),
            "link" => {
                format!("[link] {} {}", field("Title").unwrap_or_default(), field("Url").unwrap_or_default())
            }
            other => format!("[{other}]"),
        };
        (text, required("MsgId")?.to_owned(), None)
    };
    Ok(Some(Incoming {
        source: SocialSource {
            platform: Platform::Wechat,
            account: account.to_owned(),
            user: from.to_owned(),
            conversation: from.to_owned(),
            message_id,
            union_id: None,
            event,
            staff: false,
        },
        name: None,
        text,
        sent_at: Timestamp::from_second(created).ok(),
    }))
}
