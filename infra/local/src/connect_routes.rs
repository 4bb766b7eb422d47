//! Amazon Connect, locally: `POST /local/connect/flow` answers a contact-flow event with the
//! caller map, as the `phone-events` function answers Connect; `POST /local/connect/events`
//! takes a contact event as EventBridge delivers it and queues it for the router; `GET
//! /local/connect/tasks` lists the callback tasks the dispatcher started on the Connect twin.
//! Both POSTs take the very JSON Connect sends; `?at=<RFC 3339>` on the flow answers as if
//! the call came then (business hours read at that instant), so an evening call can be tried
//! by day.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use jiff::Timestamp;
use omnidesk_app::error::ApiError;
use omnidesk_app::phone_events::PhoneAnswer;
use omnidesk_domain::phone::flow::MAX_FLOW_EVENT_BYTES;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::LocalDesk;

pub fn router(desk: Arc<LocalDesk>) -> Router {
    Router::new()
        .route("/local/connect/flow", post(flow))
        .route("/local/connect/events", post(events))
        .route("/local/connect/tasks", get(tasks))
        .with_state(desk)
}

fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let body = body.map_err(|e| ApiError::bad_request(e.to_string()))?;
    if body.len() > MAX_FLOW_EVENT_BYTES {
        return Err(ApiError::too_large(format!("at most {MAX_FLOW_EVENT_BYTES} bytes")));
    }
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("not JSON: {e}")))
}

#[derive(Deserialize)]
struct FlowQuery {
    /// Answer as if the call came at this instant (RFC 3339): try an evening call by day.
    at: Option<String>,
}

async fn flow(
    State(desk): State<Arc<LocalDesk>>,
    Query(query): Query<FlowQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let event = json_body(body)?;
    if event.get("Details").is_none() {
        return Err(ApiError::bad_request("not a contact-flow event (no Details)"));
    }
    let at = match query.at.as_deref() {
        Some(at) => at
            .parse::<Timestamp>()
            .map_err(|e| ApiError::bad_request(format!("at: not an RFC 3339 instant: {e}")))?,
        None => desk.clock.now(),
    };
    // The contact flow always gets a map, as from the function.
    Ok(Json(PhoneAnswer::Flow(desk.phone.flow().answer_at(&event, at).await).to_json()))
}

async fn events(
    State(desk): State<Arc<LocalDesk>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let event = json_body(body)?;
    match desk.phone.contact_event(&event).await {
        Ok(answer) => Ok((StatusCode::ACCEPTED, Json(answer.to_json()))),
        Err(error) => Err(ApiError::unavailable(error.to_string())),
    }
}

async fn tasks(State(desk): State<Arc<LocalDesk>>) -> Json<Value> {
    let tasks: Vec<Value> = desk
        .contact_center
        .tasks()
        .into_iter()
        .map(|(id, request)| {
            json!({
                "task": id,
                "ticket": request.ticket,
                "name": request.name,
                "description": request.description,
                "team": request.task.team,
                "reason": request.task.reason,
                "previous_contact_id": request.task.contact_id,
                "scheduled_for": request.task.scheduled_for,
            })
        })
        .collect();
    Json(Value::Array(tasks))
}
