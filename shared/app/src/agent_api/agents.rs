//! `/v1/me` and `/v1/agents...`: who am I, the team board, presence.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use bytes::Bytes;
use omnidesk_domain::assignment::{Agent, Assignment, Presence};
use serde::{Deserialize, Serialize};

use super::{Action, Api, Caller, Principal, extract};
use crate::error::ApiError;

pub(super) async fn me(caller: Caller) -> Result<Json<Principal>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(caller.0))
}

pub(super) async fn list(State(api): Api, caller: Caller) -> Result<Json<Vec<Agent>>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(api.desk.agents().await?))
}

pub(super) async fn own(State(api): Api, caller: Caller) -> Result<Json<Agent>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(api.desk.agent(&caller.0.user).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PresenceIn {
    presence: Presence,
}

#[derive(Debug, Serialize)]
pub(super) struct PresenceOut {
    agent: Agent,
    /// Tickets handed to waiting agents because of this change.
    assigned: Vec<Assignment>,
}

pub(super) async fn presence(
    State(api): Api,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PresenceOut>, ApiError> {
    caller.may(Action::Work)?;
    let input: PresenceIn = extract::json(body)?;
    let (agent, assigned) = api.desk.set_presence(&caller.0.user, input.presence).await?;
    Ok(Json(PresenceOut { agent, assigned }))
}
