//! `POST /v1/tickets/{n}/callbacks`: an agent asks the team to call the customer back. The
//! request queues the callback for the dispatcher, which starts the Connect task; the agent
//! API itself never talks to Connect.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use omnidesk_domain::desk::CallbackOutcome;
use serde::Deserialize;

use super::extract::{self, PathId, ticket_number};
use super::{Action, Api, Caller};
use crate::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallbackIn {
    /// The ticket version the agent saw: a stale one is 409, so a retried request cannot
    /// queue a second callback.
    version: u64,
}

pub(super) async fn request(
    State(api): Api,
    caller: Caller,
    PathId(number): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CallbackOutcome>), ApiError> {
    let staff = caller.may(Action::Work)?;
    let number = ticket_number(&number)?;
    let input: CallbackIn = extract::json(body)?;
    let outcome = api.desk.request_callback(&staff, number, input.version).await?;
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}
