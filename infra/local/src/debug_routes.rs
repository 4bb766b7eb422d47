//! Read-only views for people trying the desk locally: `GET /local/tickets` (every ticket with
//! its thread and events) and `GET /local/dead-letters`. Local only: the AWS store cannot list
//! everything without a scan, and the agent API serves tickets in production.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use omnidesk_domain::model::{Message, Ticket, TicketEvent};
use omnidesk_domain::ports::TicketStore;
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
        .route("/local/dead-letters", get(dead_letters))
        .with_state(desk)
}

async fn tickets(State(desk): State<Arc<LocalDesk>>) -> Json<Vec<TicketView>> {
    let mut views = Vec::new();
    for ticket in desk.store.all_tickets() {
        // The memory store never fails.
        let messages = desk.store.messages(ticket.number).await.unwrap_or_default();
        let events = desk.store.events(ticket.number).await.unwrap_or_default();
        views.push(TicketView { ticket, messages, events });
    }
    Json(views)
}

async fn dead_letters(State(desk): State<Arc<LocalDesk>>) -> Json<Value> {
    let bodies = |queue: &omnidesk_domain::memory::MemoryQueue| {
        queue.dead_letter().map(|dlq| dlq.bodies()).unwrap_or_default()
    };
    Json(json!({ "inbound": bodies(&desk.inbound), "outbound": bodies(&desk.outbound) }))
}
