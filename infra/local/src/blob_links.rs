//! `GET /local/blobs/{key}?expires=…&sig=…`: serves a blob from the in-memory store to whoever
//! holds a link it signed (a customer's data export), until the link expires. On AWS the same
//! links are S3 presigned URLs and S3 serves them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use omnidesk_app::error::ApiError;
use omnidesk_domain::memory::{LinkError, MemoryBlobStore};
use omnidesk_domain::ports::{BlobStore, Clock};
use serde::Deserialize;

#[derive(Clone)]
struct Links {
    blobs: Arc<MemoryBlobStore>,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Deserialize)]
struct Signed {
    expires: i64,
    sig: String,
}

/// No routes when blobs live in S3: its presigned URLs point at S3 itself.
pub fn router(blobs: Option<Arc<MemoryBlobStore>>, clock: Arc<dyn Clock>) -> Router {
    match blobs {
        Some(blobs) => {
            Router::new().route("/local/blobs/{*key}", get(serve)).with_state(Links { blobs, clock })
        }
        None => Router::new(),
    }
}

async fn serve(
    State(links): State<Links>,
    Path(key): Path<String>,
    Query(signed): Query<Signed>,
) -> Result<Response, ApiError> {
    match links.blobs.verify_link(&key, signed.expires, &signed.sig, links.clock.now()) {
        Ok(()) => {}
        Err(LinkError::Expired) => return Err(ApiError::forbidden("the link has expired: export again")),
        Err(LinkError::BadSignature) => return Err(ApiError::forbidden("the link is not valid")),
    }
    let bytes = links.blobs.get(&key).await.map_err(|e| ApiError::unavailable(e.to_string()))?;
    let bytes = bytes.ok_or_else(|| ApiError::not_found("the file is no longer kept"))?;
    let content_type = links.blobs.content_type(&key).unwrap_or_else(|| "application/octet-stream".into());
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}
