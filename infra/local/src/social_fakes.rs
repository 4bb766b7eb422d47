//! Stand-ins for the platforms' APIs the desk answers through: WeChat's token, user-info
//! (UnionIDs) and customer-service message endpoints, Graph's Send API (Messenger, Instagram, WhatsApp) and
//! Discourse's `POST /posts.json`, under `/local/fake/...`. `GET /local/social/sent` shows
//! what they received and how many WeChat tokens were issued. The example config points
//! `[social]` here; tests serve the same router on a port of their own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

/// Sends kept; older ones are dropped (a long-running desk stays bounded).
const MAX_KEPT: usize = 1000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FakeSend {
    pub platform: String,
    /// The WeChat OpenID, PSID, IGSID, wa_id or forum topic.
    pub to: String,
    pub text: String,
}

#[derive(Default)]
pub struct FakePlatforms {
    sent: Mutex<Vec<FakeSend>>,
    tokens_issued: AtomicUsize,
    /// OpenID → UnionID, for `user/info` (an OpenID not listed has none: its account is not
    /// bound to an Open Platform account).
    union_ids: Mutex<std::collections::HashMap<String, String>>,
    user_info_asked: AtomicUsize,
    /// Recipients (OpenID, PSID, wa_id, topic) whose sends the platform refuses, with its answer.
    refusals: Mutex<std::collections::HashMap<String, (StatusCode, Value)>>,
}

impl FakePlatforms {
    pub fn sent(&self) -> Vec<FakeSend> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn tokens_issued(&self) -> usize {
        self.tokens_issued.load(Ordering::SeqCst)
    }

    /// Gives `openid` the UnionID `union_id` in `user/info`.
    pub fn bind_union_id(&self, openid: &str, union_id: &str) {
        self.union_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(openid.to_owned(), union_id.to_owned());
    }

    /// How many times `user/info` was asked.
    pub fn user_info_asked(&self) -> usize {
        self.user_info_asked.load(Ordering::SeqCst)
    }

    /// Makes the platform refuse sends to `to` with `status` and `body`, as it would (WeChat
    /// answers 200 with an `errcode`; Graph and Discourse a 4xx with their error JSON).
    pub fn refuse(&self, to: &str, status: u16, body: Value) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        self.refusals.lock().unwrap_or_else(|p| p.into_inner()).insert(to.to_owned(), (status, body));
    }

    fn refusal(&self, to: &str) -> Option<(StatusCode, Json<Value>)> {
        let refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        refusals.get(to).map(|(status, body)| (*status, Json(body.clone())))
    }

    fn keep(&self, send: FakeSend) {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if sent.len() >= MAX_KEPT {
            sent.remove(0);
        }
        sent.push(send);
    }

    /// Only the latest token works, as on WeChat (give or take its five-minute overlap).
    fn current_token(&self) -> String {
        format!("local-token-{}", self.tokens_issued())
    }
}

pub fn router(fakes: Arc<FakePlatforms>) -> Router {
    Router::new()
        .route("/local/social/sent", get(list))
        .route("/local/fake/wechat/cgi-bin/token", get(wechat_token))
        .route("/local/fake/wechat/cgi-bin/message/custom/send", post(wechat_send))
        .route("/local/fake/wechat/cgi-bin/user/info", get(wechat_user_info))
        .route("/local/fake/graph/me/messages", post(messenger_send))
        .route("/local/fake/graph/{phone_number_id}/messages", post(whatsapp_send))
        .route("/local/fake/forum/posts.json", post(forum_post))
        .with_state(fakes)
}

async fn list(State(fakes): State<Arc<FakePlatforms>>) -> Json<Value> {
    Json(json!({"wechat_tokens_issued": fakes.tokens_issued(), "sent": fakes.sent()}))
}

async fn wechat_token(State(fakes): State<Arc<FakePlatforms>>) -> Json<Value> {
    let n = fakes.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"access_token": format!("local-token-{n}"), "expires_in": 7200}))
}

/// `user/info`: the user's profile, with `unionid` when their account is bound.
async fn wechat_user_info(
    State(fakes): State<Arc<FakePlatforms>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    fakes.user_info_asked.fetch_add(1, Ordering::SeqCst);
    if query.get("access_token") != Some(&fakes.current_token()) {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}));
    }
    let openid = query.get("openid").cloned().unwrap_or_default();
    let union = fakes.union_ids.lock().unwrap_or_else(|p| p.into_inner()).get(&openid).cloned();
    let mut info =
        json!({"subscribe": 1, "openid": openid, "language": "zh_CN", "subscribe_time": 1_700_000_000});
    if let Some(union) = union {
        info["unionid"] = json!(union);
    }
    Json(info)
}

fn text_at(body: &Value, pointer: &str) -> String {
    body.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
}

async fn wechat_send(
    State(fakes): State<Arc<FakePlatforms>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if query.get("access_token") != Some(&fakes.current_token()) {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})),
        );
    }
    let to = text_at(&body, "/touser");
    if let Some(refused) = fakes.refusal(&to) {
        return refused;
    }
    fakes.keep(FakeSend { platform: "wechat".into(), to, text: text_at(&body, "/text/content") });
    (StatusCode::OK, Json(json!({"errcode": 0, "errmsg": "ok"})))
}

async fn messenger_send(
    State(fakes): State<Arc<FakePlatforms>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let to = text_at(&body, "/recipient/id");
    if let Some(refused) = fakes.refusal(&to) {
        return refused;
    }
    fakes.keep(FakeSend {
        platform: "messenger".into(),
        to: to.clone(),
        text: text_at(&body, "/message/text"),
    });
    (StatusCode::OK, Json(json!({"recipient_id": to, "message_id": "m_local"})))
}

async fn whatsapp_send(
    State(fakes): State<Arc<FakePlatforms>>,
    Path(_phone_number_id): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let to = text_at(&body, "/to");
    if let Some(refused) = fakes.refusal(&to) {
        return refused;
    }
    fakes.keep(FakeSend { platform: "whatsapp".into(), to, text: text_at(&body, "/text/body") });
    (StatusCode::OK, Json(json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.local"}]})))
}

async fn forum_post(
    State(fakes): State<Arc<FakePlatforms>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let topic = body.get("topic_id").map(Value::to_string).unwrap_or_default();
    if let Some(refused) = fakes.refusal(&topic) {
        return refused;
    }
    fakes.keep(FakeSend { platform: "forum".into(), to: topic.clone(), text: text_at(&body, "/raw") });
    (StatusCode::OK, Json(json!({"id": 1, "topic_id": body.get("topic_id")})))
}
