//! A chat provider stand-in: `POST /local/callbacks/{inbox}` receives the desk's signed chat
//! callbacks, checks the signature like a real provider should, drops repeated deliveries,
//! and `GET /local/callbacks` shows what arrived. The example config points its inbox here.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use omnidesk_app::chat_callback::{ChatCallback, DELIVERY_HEADER};
use omnidesk_app::config::InboxDirectory;
use omnidesk_app::error::ApiError;
use omnidesk_app::signature::{self, SIGNATURE_HEADER};
use omnidesk_domain::ports::Clock;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ReceivedCallback {
    pub inbox: String,
    pub callback: ChatCallback,
}

pub struct CallbackLog {
    inboxes: Arc<InboxDirectory>,
    clock: Arc<dyn Clock>,
    received: Mutex<Vec<ReceivedCallback>>,
}

impl CallbackLog {
    pub fn new(inboxes: Arc<InboxDirectory>, clock: Arc<dyn Clock>) -> Self {
        Self { inboxes, clock, received: Mutex::default() }
    }

    pub fn received(&self) -> Vec<ReceivedCallback> {
        self.received.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub fn router(log: Arc<CallbackLog>) -> Router {
    Router::new()
        .route("/local/callbacks", get(list))
        .route("/local/callbacks/{inbox}", post(receive))
        .with_state(log)
}

async fn list(State(log): State<Arc<CallbackLog>>) -> Json<Vec<ReceivedCallback>> {
    Json(log.received())
}

async fn receive(
    State(log): State<Arc<CallbackLog>>,
    Path(inbox): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let receiver = log.inboxes.get(&inbox).ok_or_else(|| ApiError::not_found("unknown inbox"))?;
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    signature::verify_any(
        header,
        &receiver.signing_key().into_iter().collect::<Vec<_>>(),
        &body,
        log.clock.now(),
    )
    .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let callback: ChatCallback =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let delivery = headers.get(DELIVERY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut received = log.received.lock().unwrap_or_else(|p| p.into_inner());
    if received.iter().any(|r| r.callback.delivery_id == delivery) {
        return Ok(StatusCode::OK);
    }
    tracing::info!(%inbox, ticket = %callback.ticket, "local.callback_received");
    received.push(ReceivedCallback { inbox, callback });
    Ok(StatusCode::NO_CONTENT)
}
