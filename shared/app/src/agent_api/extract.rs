//! Request parsing for the agent API: bodies (see [`crate::body`]), queries and path ids,
//! each failing with the desk's own error shape.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use bytes::Bytes;
use omnidesk_domain::model::{CustomerId, TicketNumber};
use serde::de::DeserializeOwned;

use super::MAX_AGENT_BODY_BYTES;
use crate::body;
use crate::error::ApiError;

pub fn json<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    body::json(&body::bytes(body, MAX_AGENT_BODY_BYTES)?)
}

pub fn query<T: DeserializeOwned>(raw: Option<String>) -> Result<T, ApiError> {
    let raw = raw.unwrap_or_default();
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(&raw));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(format!("query: {inner}"))
        } else {
            ApiError::bad_request(format!("query {path}: {inner}"))
        }
    })
}

fn form_urlencoded_parse(raw: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(raw.as_bytes())
}

/// `/v1/tickets/{number}`: the number, with or without its `#`.
pub fn ticket_number(raw: &str) -> Result<TicketNumber, ApiError> {
    raw.trim_start_matches('#')
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .map(TicketNumber)
        .ok_or_else(|| ApiError::not_found(format!("ticket {raw:?} not found")))
}

pub fn customer_id(raw: &str) -> Result<CustomerId, ApiError> {
    if raw.starts_with(CustomerId::PREFIX) && raw.len() <= 128 {
        Ok(CustomerId::new(raw))
    } else {
        Err(ApiError::not_found(format!("customer {raw:?} not found")))
    }
}

/// The one path parameter of a route (`{number}`, `{id}`). A segment that is not even valid
/// UTF-8 names no ticket or customer: 404 in the desk's error shape, not axum's plain text.
pub struct PathId(pub String);

/// A route's two path parameters (`{id}` and `{job}`), failing like [`PathId`].
pub struct PathIds(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((first, second))) => Ok(PathIds(first, second)),
            Err(_) => Err(ApiError::not_found("no such customer or job")),
        }
    }
}

/// A route's three path parameters (ticket, message, attachment), failing like [`PathId`].
pub struct PathTriple(pub String, pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathTriple {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String, String)>::from_request_parts(parts, state).await {
            Ok(Path((a, b, c))) => Ok(PathTriple(a, b, c)),
            Err(_) => Err(ApiError::not_found("no such attachment")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(_) => Err(ApiError::not_found("no such ticket or customer")),
        }
    }
}
