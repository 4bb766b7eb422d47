//! `/v1/customers...`: find, view, merge, export, erase (a job) and the erasure job's status.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use omnidesk_domain::desk::{CustomerExport, CustomerView, ErasureJob, MergedCustomers};
use omnidesk_domain::model::{Customer, Identity};
use serde::{Deserialize, Serialize};

use super::extract::{self, PathId, PathIds, customer_id};
use super::{Action, Api, Caller};
use crate::error::ApiError;

/// Exactly one way to name the person: an address, a number, or a chat visitor.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FindQuery {
    email: Option<String>,
    phone: Option<String>,
    /// With `chat_visitor`: the inbox the visitor wrote to.
    chat_inbox: Option<String>,
    chat_visitor: Option<String>,
}

pub(super) async fn find(
    State(api): Api,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Customer>, ApiError> {
    caller.may(Action::Read)?;
    let query: FindQuery = extract::query(raw)?;
    let identity = match (query.email, query.phone, query.chat_inbox, query.chat_visitor) {
        (Some(email), None, None, None) => {
            Identity::email(&email).map_err(|e| ApiError::bad_request(format!("email: {e}")))?
        }
        (None, Some(phone), None, None) => {
            Identity::phone(&phone).map_err(|e| ApiError::bad_request(format!("phone: {e}")))?
        }
        (None, None, Some(inbox), Some(visitor)) => Identity::chat_visitor(&inbox, &visitor)
            .map_err(|e| ApiError::bad_request(format!("chat_visitor: {e}")))?,
        _ => return Err(ApiError::bad_request("give one of email, phone, or chat_inbox with chat_visitor")),
    };
    Ok(Json(api.desk.find_customer(&identity).await?))
}

/// The customer, their tickets, and their recent orders (`[shop]`).
pub(super) async fn view(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<super::orders::WithOrders<CustomerView>>, ApiError> {
    caller.may(Action::Read)?;
    let id = customer_id(&id)?;
    let view = api.desk.customer_view(&id).await?;
    Ok(Json(super::orders::with_orders(&api, &id, view).await))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MergeIn {
    into: String,
}

pub(super) async fn merge(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MergedCustomers>, ApiError> {
    let staff = caller.may(Action::MergeCustomers)?;
    let source = customer_id(&id)?;
    let input: MergeIn = extract::json(body)?;
    let target = customer_id(&input.into)?;
    Ok(Json(api.desk.merge_customers(&staff, &source, &target).await?))
}

pub(super) async fn export(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CustomerExport>, ApiError> {
    let staff = caller.may(Action::Export)?;
    Ok(Json(api.desk.export(&staff, &customer_id(&id)?).await?))
}

/// An erasure job and where to read its status.
#[derive(Debug, Serialize)]
pub(super) struct JobOut {
    #[serde(flatten)]
    job: ErasureJob,
    status_url: String,
}

impl From<ErasureJob> for JobOut {
    fn from(job: ErasureJob) -> Self {
        Self { status_url: job.status_path(), job }
    }
}

/// 202: the job is recorded and queued; the erasure runs off the request path.
pub(super) async fn erase(
    State(api): Api,
    caller: Caller,
    PathId(id): PathId,
) -> Result<impl IntoResponse, ApiError> {
    let staff = caller.may(Action::Erase)?;
    let job = JobOut::from(api.desk.request_erasure(&staff, &customer_id(&id)?).await?);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, job.status_url.clone())], Json(job)))
}

pub(super) async fn erasure(
    State(api): Api,
    caller: Caller,
    PathIds(id, job): PathIds,
) -> Result<Json<JobOut>, ApiError> {
    caller.may(Action::Erase)?;
    Ok(Json(api.desk.erasure_job(&customer_id(&id)?, &job).await?.into()))
}
