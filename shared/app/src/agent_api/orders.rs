//! The shop in the agent API: the recent orders of a ticket's or customer's requester
//! (status, items, tracking), and returns — started on a ticket, then moved on one allowed
//! step at a time (`approve`, `reject`, `send_label`, `receive`, `refund`, `exchange`). A step
//! the return's state does not allow is 409 naming the allowed ones; a request the return
//! rules refuse is 422 naming the rule. Refunds move money: supervisors and admins only.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use omnidesk_domain::desk::{ReturnOutcome, StartReturn};
use std::time::Duration;

use omnidesk_domain::model::CustomerId;
use omnidesk_domain::orders::{Order, ReturnAction};
use serde::{Deserialize, Serialize};

use super::auth::Action;
use super::extract::{self, PathId, PathIds, customer_id, ticket_number};
use super::{Api, Caller};
use crate::error::ApiError;

#[derive(Debug, Serialize)]
pub(super) struct OrdersOut {
    orders: Vec<Order>,
}

/// Orders listed in a ticket or customer view, newest first.
pub const MAX_ORDERS_IN_VIEW: usize = 5;
/// How long a view waits for the shop before answering without orders.
pub const ORDERS_IN_VIEW_TIMEOUT: Duration = Duration::from_millis(1_500);

/// A view with the requester's recent orders, or why they are missing. Without `[shop]`
/// neither field is there.
#[derive(Debug, Serialize)]
pub(super) struct WithOrders<T> {
    #[serde(flatten)]
    pub view: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders: Option<Vec<Order>>,
    /// `shop_unavailable` (the shop failed or throttled us) or `shop_timeout` (no answer
    /// within [`ORDERS_IN_VIEW_TIMEOUT`]): the view answers anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders_unavailable: Option<&'static str>,
}

/// `view` with the recent orders of `customer`, waiting at most [`ORDERS_IN_VIEW_TIMEOUT`].
pub(super) async fn with_orders<T>(api: &super::AgentApi, customer: &CustomerId, view: T) -> WithOrders<T> {
    if !api.desk.has_shop() {
        return WithOrders { view, orders: None, orders_unavailable: None };
    }
    let (orders, orders_unavailable) =
        match tokio::time::timeout(ORDERS_IN_VIEW_TIMEOUT, api.desk.customer_orders(customer)).await {
            Ok(Ok(mut orders)) => {
                orders.truncate(MAX_ORDERS_IN_VIEW);
                (Some(orders), None)
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "agent_api.orders_unavailable");
                (None, Some("shop_unavailable"))
            }
            Err(_) => {
                tracing::warn!("agent_api.orders_timeout");
                (None, Some("shop_timeout"))
            }
        };
    WithOrders { view, orders, orders_unavailable }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepIn {
    #[serde(default)]
    reason: Option<String>,
    /// The ticket version the agent saw; a stale one is 409.
    #[serde(default)]
    version: Option<u64>,
}

pub(super) async fn of_ticket(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
) -> Result<Json<OrdersOut>, ApiError> {
    caller.may(Action::Read)?;
    let orders = api.desk.ticket_orders(ticket_number(&number)?).await?;
    Ok(Json(OrdersOut { orders }))
}

pub(super) async fn of_customer(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<OrdersOut>, ApiError> {
    caller.may(Action::Read)?;
    let orders = api.desk.customer_orders(&customer_id(&id)?).await?;
    Ok(Json(OrdersOut { orders }))
}

pub(super) async fn start_return(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ReturnOutcome>), ApiError> {
    let staff = caller.may(Action::Work)?;
    let number = ticket_number(&number)?;
    let request: StartReturn = extract::json(body)?;
    let outcome = api.desk.start_return(&staff, number, &request).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

pub(super) async fn step(
    State(api): Api,
    caller: Caller,
    PathIds(number, action): PathIds,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReturnOutcome>, ApiError> {
    let number = ticket_number(&number)?;
    let action = ReturnAction::parse(&action).ok_or_else(|| {
        let known: Vec<&str> = ReturnAction::ALL.iter().map(|a| a.as_str()).collect();
        ApiError::not_found(format!("no return step {action:?}; steps: {}", known.join(", ")))
    })?;
    let staff = caller.may(if action == ReturnAction::Refund { Action::Refund } else { Action::Work })?;
    let input: StepIn = match body {
        Ok(bytes) if bytes.is_empty() => StepIn::default(),
        other => extract::json(other)?,
    };
    let outcome =
        api.desk.return_step(&staff, number, action, input.reason.as_deref(), input.version).await?;
    Ok(Json(outcome))
}
