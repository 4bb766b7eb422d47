//! Request bodies with the desk's own error shape: a body over the route's limit is 413, a
//! malformed one 400 naming the bad field, never axum's plain-text rejection.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The raw body, or the error for a body the route refused (over `limit` bytes, unreadable).
pub fn bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!("body is over {limit} bytes"))
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

/// JSON into `T`; an error names the field path, e.g. `visitor.id: invalid type`.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(inner.to_string())
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}
