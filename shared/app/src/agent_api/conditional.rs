//! Conditional reads: every successful GET of the agent API carries an `ETag` (a digest of
//! the exact JSON body), and a GET whose `If-None-Match` names it is answered `304 Not
//! Modified` with no body. The console polls its lists and the open ticket every few
//! seconds; when nothing changed, only headers travel. The desk still reads what it would
//! have sent (the digest is of the answer), so this saves transfer and the client's work,
//! not reads.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Bodies above this are sent without an ETag (far above anything a list or ticket holds;
/// Lambda answers at most 6 MB anyway).
const MAX_TAGGED_BYTES: usize = 16 * 1024 * 1024;

pub(super) async fn etag(request: Request, next: Next) -> Response {
    let get = request.method() == Method::GET;
    let asked = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !get || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_TAGGED_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return crate::error::ApiError::internal("the answer is too large").into_response(),
    };
    let tag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let Ok(value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // Private: answers depend on who asks; no-cache: a cache must revalidate every time.
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    parts.headers.insert(header::ETAG, value.clone());
    if asked.is_some_and(|asked| matches(&asked, &tag)) {
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, value);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `If-None-Match`: `*`, or a comma-separated list of tags (weak ones compared weakly).
fn matches(asked: &HeaderValue, tag: &str) -> bool {
    let Ok(asked) = asked.to_str() else { return false };
    asked.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let tag = "\"abc\"";
        for (asked, hit) in [
            ("\"abc\"", true),
            ("W/\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("\"abd\"", false),
            ("abc", false),
            ("", false),
        ] {
            assert_eq!(matches(&HeaderValue::from_static(asked), tag), hit, "{asked}");
        }
    }
}
