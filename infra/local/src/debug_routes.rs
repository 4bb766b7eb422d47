//! Read-only views for people trying the desk locally: `GET /local/tickets/{n}` (a ticket with
//! its thread and events), `GET /local/tickets` (all of them, in-memory backend only: the AWS
//! store cannot list without a scan), `GET /local/dead-letters` (dead-letter queue depths) and
//! `POST /local/dead-letters/{queue}/redrive` (parked messages back to `inbound` or
//! `outbound`, as an SQS message move task does on AWS).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use omnidesk_app::error::ApiError;
use omnidesk_domain::model::{Message, Ticket, TicketEvent, TicketNumber};
use omnidesk_domain::redrive::{self, MAX_REDRIVE_MESSAGES, RedriveReport};
use serde::Serialize;
use serde_json::{Value, json};

use crate::LocalDesk;

#[derive(Serialize)]
struct TicketView {
    ticket: Ticket,
    messages: Vec<Message>,
    events: Vec<TicketEvent>,
}

pub fn router(desk: Arc<LocalDesk>) -> Router {
    Router::new()
        .route("/local/tickets", get(tickets))
        .route("/local/tickets/{number}", get(ticket))
        .route("/local/dead-letters", get(dead_letters))
        .route("/local/dead-letters/{queue}/redrive", post(redrive))
        .with_state(desk)
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    ApiError::unavailable(error.to_string())
}

async fn view(desk: &LocalDesk, ticket: Ticket) -> Result<TicketView, ApiError> {
    let messages = desk.ports.tickets.messages(ticket.number).await.map_err(unavailable)?;
    let events = desk.ports.tickets.events(ticket.number).await.map_err(unavailable)?;
    Ok(TicketView { ticket, messages, events })
}

async fn tickets(State(desk): State<Arc<LocalDesk>>) -> Result<Json<Vec<TicketView>>, ApiError> {
    let Some(store) = &desk.ports.memory else {
        return Err(ApiError::not_found("listing needs the in-memory backend; use /local/tickets/{number}"));
    };
    let mut views = Vec::new();
    for ticket in store.all_tickets() {
        views.push(view(&desk, ticket).await?);
    }
    Ok(Json(views))
}

async fn ticket(
    State(desk): State<Arc<LocalDesk>>,
    Path(number): Path<u64>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = desk.ports.tickets.ticket(TicketNumber(number)).await.map_err(unavailable)?;
    let ticket = ticket.ok_or_else(|| ApiError::not_found(format!("no ticket #{number}")))?;
    Ok(Json(view(&desk, ticket).await?))
}

async fn dead_letters(State(desk): State<Arc<LocalDesk>>) -> Result<Json<Value>, ApiError> {
    let inbound = desk.ports.inbound_dead_letter.depth().await.map_err(unavailable)?;
    let outbound = desk.ports.outbound_dead_letter.depth().await.map_err(unavailable)?;
    Ok(Json(json!({ "inbound": inbound.total(), "outbound": outbound.total() })))
}

async fn redrive(
    State(desk): State<Arc<LocalDesk>>,
    Path(queue): Path<String>,
) -> Result<Json<RedriveReport>, ApiError> {
    let ports = &desk.ports;
    let (dead_letter, source) = match queue.as_str() {
        "inbound" => (&ports.inbound_dead_letter, &ports.inbound),
        "outbound" => (&ports.outbound_dead_letter, &ports.outbound),
        _ => return Err(ApiError::not_found("no such queue: use inbound or outbound")),
    };
    let report =
        redrive::redrive(&**dead_letter, &**source, MAX_REDRIVE_MESSAGES).await.map_err(unavailable)?;
    Ok(Json(report))
}
