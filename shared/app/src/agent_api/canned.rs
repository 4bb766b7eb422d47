//! `/v1/canned-responses...`: every role reads them (agents insert them into replies);
//! supervisors and admins add, change and delete them, each change from the version read.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use bytes::Bytes;
use omnidesk_domain::canned::{CannedInput, CannedResponse};
use serde::{Deserialize, Serialize};

use super::extract::{self, PathId};
use super::{Action, Api, Caller};
use crate::error::ApiError;

#[derive(Debug, Serialize)]
pub(super) struct CannedList {
    responses: Vec<CannedResponse>,
}

pub(super) async fn list(State(api): Api, caller: Caller) -> Result<Json<CannedList>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(CannedList { responses: api.canned.list().await? }))
}

pub(super) async fn create(
    State(api): Api,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CannedResponse>), ApiError> {
    let staff = caller.may(Action::ManageCanned)?;
    let input: CannedInput = extract::json(body)?;
    Ok((StatusCode::CREATED, Json(api.canned.create(&staff.0, input).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateIn {
    title: String,
    text: String,
    version: u64,
}

pub(super) async fn update(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CannedResponse>, ApiError> {
    let staff = caller.may(Action::ManageCanned)?;
    let input: UpdateIn = extract::json(body)?;
    let text = CannedInput { title: input.title, text: input.text };
    Ok(Json(api.canned.update(&staff.0, &id, text, input.version).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VersionQuery {
    version: u64,
}

pub(super) async fn delete(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    caller.may(Action::ManageCanned)?;
    let query: VersionQuery = extract::query(raw)?;
    api.canned.delete(&id, query.version).await?;
    Ok(StatusCode::NO_CONTENT)
}
