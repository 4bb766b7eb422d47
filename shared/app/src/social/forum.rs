//! `/v1/social/forum`: the Discourse webhook. `X-Discourse-Event-Signature` is the webhook
//! secret's HMAC-SHA256 of the raw body (`sha256=<hex>`). A customer's post in a public topic
//! becomes a forum message (its ticket is tagged `public`); a staff member's post is an
//! answer given on the forum, which solves the topic's ticket. Private messages, the desk's
//! own posts (its API user) and other events are acknowledged and dropped.

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use jiff::Timestamp;
use omnidesk_domain::social::{Platform, SocialSource};
use serde::Deserialize;

use super::meta::verify_sha256;
use super::{Incoming, MAX_SOCIAL_BODY_BYTES, SocialWebhook, enqueue, normalise};
use crate::body;
use crate::config::ForumConfig;
use crate::error::ApiError;

pub const FORUM_SIGNATURE_HEADER: &str = "x-discourse-event-signature";
pub const FORUM_EVENT_HEADER: &str = "x-discourse-event";

pub(super) fn routes() -> axum::Router<SocialWebhook> {
    axum::Router::new().route("/v1/social/forum", post(receive))
}

fn forum(webhook: &SocialWebhook) -> Result<&ForumConfig, ApiError> {
    webhook.config.forum.as_ref().ok_or_else(|| ApiError::not_found("no forum is configured"))
}

#[derive(Debug, Deserialize)]
struct PostEvent {
    post: Post,
}

#[derive(Debug, Deserialize)]
struct Post {
    id: u64,
    topic_id: u64,
    #[serde(default)]
    post_number: u64,
    #[serde(default = "regular")]
    post_type: u8,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    user_id: i64,
    #[serde(default)]
    topic_title: Option<String>,
    #[serde(default)]
    topic_archetype: Option<String>,
    #[serde(default)]
    created_at: Option<Timestamp>,
    #[serde(default)]
    staff: bool,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    moderator: bool,
}

fn regular() -> u8 {
    1
}

async fn receive(
    State(webhook): State<SocialWebhook>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let forum = forum(&webhook)?;
    let body = body::bytes(body, MAX_SOCIAL_BODY_BYTES)?;
    let secrets: Vec<&str> = [Some(&forum.webhook_secret), forum.next_webhook_secret.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.value())
        .collect();
    let header = headers.get(FORUM_SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    verify_sha256(header, &secrets, &body)
        .inspect_err(|e| tracing::warn!(error = %e.message, "forum.signature_refused"))?;
    let event = headers.get(FORUM_EVENT_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    // Edits keep the post's id: only a new post is a new message.
    if event != "post_created" {
        tracing::info!(event, "forum.event_ignored");
        return Ok(StatusCode::OK);
    }
    let PostEvent { post } = body::json(&body)?;
    let own = post.username.as_deref() == Some(forum.api_username.as_str());
    let public = post.topic_archetype.as_deref().is_none_or(|a| a == "regular");
    if own || !public || post.post_type != 1 {
        tracing::info!(own, public, post_type = post.post_type, "forum.post_ignored");
        return Ok(StatusCode::OK);
    }
    let staff = post.staff || post.admin || post.moderator;
    let text = match (post.post_number, post.topic_title, post.raw) {
        (1, Some(title), Some(raw)) => format!("{title}\n\n{raw}"),
        (_, _, Some(raw)) => raw,
        (_, Some(title), None) => title,
        (_, None, None) => return Err(ApiError::bad_request("post.raw: missing")),
    };
    let incoming = Incoming {
        source: SocialSource {
            platform: Platform::Forum,
            account: forum.id.clone(),
            user: post.user_id.to_string(),
            conversation: post.topic_id.to_string(),
            message_id: post.id.to_string(),
            union_id: None,
            event: None,
            staff,
        },
        name: post.name.filter(|n| !n.is_empty()).or(post.username),
        text,
        sent_at: post.created_at,
    };
    let message = normalise(incoming, webhook.clock.now())?;
    enqueue(&webhook, vec![message]).await?;
    Ok(StatusCode::OK)
}
