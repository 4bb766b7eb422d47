//! Shop webhooks, verified and handed to the inbound queue as [`OrderSignal`]s; the
//! ticket router looks at the order again and writes to the customer once per order and
//! problem, so a repeated, replayed or reordered delivery has no second effect.
//!
//! - `POST /v1/shop/webhooks/shopify`: Shopify's `fulfillments/update` and `orders/updated`,
//!   `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the webhook secret.
//!   Other topics are acknowledged and ignored.
//! - `POST /v1/shop/webhooks/generic`: `{"order": "#1001", "event": "order.updated", "id":
//!   "…"}`, signed like our chat callbacks (`X-Omnidesk-Signature`, 300 s of skew at most).
//!
//! A wrong or missing signature: 401, nothing queued. A body that is not one of these: 400.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use omnidesk_domain::envelope::seal;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::orders::{MAX_ORDER_NAME_CHARS, OrderSignal};
use omnidesk_domain::ports::{Clock, Queue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::body;
use crate::error::ApiError;
use crate::signature::{self, SIGNATURE_HEADER};

/// Shopify's order payloads run to tens of KB; this leaves room and bounds what is read.
pub const MAX_SHOP_WEBHOOK_BYTES: usize = 512 * 1024;
pub const SHOPIFY_HMAC_HEADER: &str = "x-shopify-hmac-sha256";
pub const SHOPIFY_TOPIC_HEADER: &str = "x-shopify-topic";
const SHOPIFY_EVENT_HEADER: &str = "x-shopify-event-id";
const SHOPIFY_WEBHOOK_ID_HEADER: &str = "x-shopify-webhook-id";
/// The topics that can make a parcel late or failed.
const SHOPIFY_TOPICS: [&str; 2] = ["fulfillments/update", "orders/updated"];

#[derive(Clone)]
pub struct ShopWebhook {
    pub inbound: Arc<dyn Queue>,
    /// The webhook secret; `None` (unresolved) verifies nothing.
    pub secret: Option<String>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Accepted {
    pub accepted: bool,
    /// False for a topic the desk does not act on.
    pub queued: bool,
}

/// The generic contract's webhook body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericEvent {
    order: String,
    event: String,
    id: String,
}

pub fn router(webhook: ShopWebhook) -> Router {
    Router::new()
        .route("/v1/shop/webhooks/shopify", post(shopify))
        .route("/v1/shop/webhooks/generic", post(generic))
        .layer(DefaultBodyLimit::max(MAX_SHOP_WEBHOOK_BYTES))
        .with_state(webhook)
}

/// Checks `header` (base64) against the body's HMAC, in constant time.
pub fn verify_shopify(header: Option<&str>, secret: &[u8], body: &[u8]) -> bool {
    let Some(expected) = header.and_then(|h| base64::engine::general_purpose::STANDARD.decode(h.trim()).ok())
    else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The header value Shopify would send for `body`.
pub fn sign_shopify(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn shopify(
    State(webhook): State<ShopWebhook>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let body = body::bytes(body, MAX_SHOP_WEBHOOK_BYTES)?;
    let header = headers.get(SHOPIFY_HMAC_HEADER).and_then(|v| v.to_str().ok());
    let secret = webhook.secret.as_deref().unwrap_or_default().as_bytes();
    if webhook.secret.is_none() || !verify_shopify(header, secret, &body) {
        tracing::warn!("shop.signature_refused");
        return Err(ApiError::unauthorized("signature does not match"));
    }
    let topic =
        headers.get(SHOPIFY_TOPIC_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let payload: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    if !SHOPIFY_TOPICS.contains(&topic.as_str()) {
        tracing::info!(topic, "shop.topic_ignored");
        return Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: true, queued: false })));
    }
    // A fulfillment is named after its order: `#1001.1` is the first parcel of `#1001`.
    let raw =
        payload.get("name").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("name: missing"))?;
    let order = match topic.as_str() {
        "fulfillments/update" => raw.rsplit_once('.').map_or(raw, |(order, _)| order),
        _ => raw,
    };
    let delivery = [SHOPIFY_EVENT_HEADER, SHOPIFY_WEBHOOK_ID_HEADER]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .unwrap_or_default();
    queue(&webhook, order, &topic, delivery).await
}

async fn generic(
    State(webhook): State<ShopWebhook>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let body = body::bytes(body, MAX_SHOP_WEBHOOK_BYTES)?;
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let Some(secret) = webhook.secret.as_deref() else {
        return Err(ApiError::unauthorized("signature does not match"));
    };
    if let Err(error) = signature::verify(header, secret.as_bytes(), &body, webhook.clock.now()) {
        tracing::warn!(%error, "shop.signature_refused");
        return Err(ApiError::unauthorized(error.to_string()));
    }
    let event: GenericEvent =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    queue(&webhook, &event.order, &event.event, &event.id).await
}

async fn queue(
    webhook: &ShopWebhook,
    order: &str,
    topic: &str,
    delivery: &str,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let order = order.trim();
    if order.is_empty() || order.chars().count() > MAX_ORDER_NAME_CHARS || order.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(format!("order: 1 to {MAX_ORDER_NAME_CHARS} characters")));
    }
    let clip = |s: &str| s.chars().filter(|c| !c.is_control()).take(128).collect::<String>();
    let signal = OrderSignal { order: order.to_owned(), topic: clip(topic), delivery: clip(delivery) };
    webhook.inbound.send(seal(&signal)).await?;
    tracing::info!(topic = %signal.topic, delivery = %Hashed(&signal.delivery), "shop.signal_queued");
    Ok((StatusCode::ACCEPTED, Json(Accepted { accepted: true, queued: true })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shopify_hmac_is_base64_of_hmac_sha256_over_the_raw_body() {
        // The vector computed for the research notes: secret `hush`, body `{"id":1}`.
        let header = "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY=";
        assert_eq!(sign_shopify(b"hush", br#"{"id":1}"#), header);
        assert!(verify_shopify(Some(header), b"hush", br#"{"id":1}"#));
        assert!(!verify_shopify(Some(header), b"hush", br#"{"id":2}"#));
        assert!(!verify_shopify(Some("not base64!"), b"hush", br#"{"id":1}"#));
        assert!(!verify_shopify(None, b"hush", br#"{"id":1}"#));
    }
}
