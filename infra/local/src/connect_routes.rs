//! Amazon Connect, locally: `POST /local/connect/flow` answers a contact-flow event with the
//! caller map, as the `phone-events` function answers Connect; `POST /local/connect/events`
//! takes a contact event as EventBridge delivers it and queues it for the router; `GET
//! /local/connect/tasks` lists the callback tasks the dispatcher started on the Connect twin.
//! Both POSTs take the very JSON Connect sends.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use omnidesk_app::error::ApiError;
use omnidesk_app::phone_events::PhoneAnswer;
use omnidesk_domain::phone::flow::MAX_FLOW_EVENT_BYTES;
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

async fn flow(
    State(desk): State<Arc<LocalDesk>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let event = json_body(body)?;
    // The contact flow always gets a map, as from the function.
    match desk.phone.handle(&event).await {
        Ok(answer @ PhoneAnswer::Flow(_)) => Ok(Json(answer.to_json())),
        Ok(_) => Err(ApiError::bad_request("not a contact-flow event (no Details)")),
        Err(error) => Err(ApiError::unavailable(error.to_string())),
    }
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
