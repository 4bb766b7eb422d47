//! `/v1/articles...`: the knowledge base for staff. Everyone signed in reads drafts and the
//! audit trail; agents and supervisors (and admins) create, edit, publish and archive, each
//! change conditional on the `version` they saw (409 otherwise) and audited.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use omnidesk_domain::kb::{
    Article, ArticleInput, KbAuditEntry, KbEditor, KbError, MAX_BODY_BYTES, MAX_EXAMPLE_CHARS, MAX_EXAMPLES,
};
use serde::Deserialize;

use super::{Action, Authenticator, Caller, extract};
use crate::error::{self, ApiError};

#[derive(Clone)]
pub struct KbApi {
    pub editor: Arc<KbEditor>,
    pub auth: Arc<dyn Authenticator>,
}

impl FromRequestParts<KbApi> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &KbApi) -> Result<Self, Self::Rejection> {
        api.auth.authenticate(parts).map(Caller)
    }
}

/// An article at its largest: the body, every example and counter-example question in
/// four-byte characters, and room for the rest and the JSON's escapes.
const MAX_ARTICLE_REQUEST_BYTES: usize =
    MAX_BODY_BYTES + 2 * MAX_EXAMPLES * MAX_EXAMPLE_CHARS * 4 + 64 * 1024;

pub fn kb_router(api: KbApi) -> Router {
    Router::new()
        .route("/v1/articles", get(list).post(create))
        .route("/v1/articles/{slug}", get(view).patch(edit))
        .route("/v1/articles/{slug}/publish", post(publish))
        .route("/v1/articles/{slug}/archive", post(archive))
        .route("/v1/articles/{slug}/audit", get(audit))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_ARTICLE_REQUEST_BYTES))
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(api)
}

impl From<KbError> for ApiError {
    fn from(error: KbError) -> Self {
        match error {
            KbError::Invalid { .. } => ApiError::bad_request(error.to_string()),
            KbError::NotFound(_) => ApiError::not_found(error.to_string()),
            KbError::Stale { .. } | KbError::Exists(_) => ApiError::conflict(error.to_string()),
            KbError::Store(e) => {
                tracing::error!(error = %e, "agent_api.kb_store_failed");
                ApiError::unavailable("the knowledge base could not be read or written: try again shortly")
            }
        }
    }
}

type Kb = State<KbApi>;

/// An article as staff write it; `slug` on create only, `version` on edits only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleIn {
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    version: Option<u64>,
    title: String,
    body: String,
    language: omnidesk_domain::kb::Language,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    tags: std::collections::BTreeSet<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counter_examples: Vec<String>,
}

impl ArticleIn {
    fn input(self) -> ArticleInput {
        ArticleInput {
            title: self.title,
            body: self.body,
            language: self.language,
            category: self.category,
            tags: self.tags,
            examples: self.examples,
            counter_examples: self.counter_examples,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionIn {
    version: u64,
}

async fn list(State(api): Kb, caller: Caller) -> Result<Json<Vec<Article>>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(api.editor.list().await?))
}

async fn view(
    State(api): Kb,
    caller: Caller,
    extract::PathId(slug): extract::PathId,
) -> Result<Json<Article>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(api.editor.article(&slug).await?))
}

async fn audit(
    State(api): Kb,
    caller: Caller,
    extract::PathId(slug): extract::PathId,
) -> Result<Json<Vec<KbAuditEntry>>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(api.editor.audit(&slug).await?))
}

async fn create(
    State(api): Kb,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Article>), ApiError> {
    let staff = caller.may(Action::Work)?;
    let mut input: ArticleIn = extract::json(body)?;
    let slug = input.slug.take().ok_or_else(|| ApiError::bad_request("slug: missing"))?;
    Ok((StatusCode::CREATED, Json(api.editor.create(&slug, input.input(), &staff.0).await?)))
}

async fn edit(
    State(api): Kb,
    caller: Caller,
    extract::PathId(slug): extract::PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Article>, ApiError> {
    let staff = caller.may(Action::Work)?;
    let input: ArticleIn = extract::json(body)?;
    let version = input.version.ok_or_else(|| ApiError::bad_request("version: missing"))?;
    Ok(Json(api.editor.edit(&slug, version, input.input(), &staff.0).await?))
}

async fn publish(
    State(api): Kb,
    caller: Caller,
    extract::PathId(slug): extract::PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Article>, ApiError> {
    let staff = caller.may(Action::Work)?;
    let input: VersionIn = extract::json(body)?;
    Ok(Json(api.editor.publish(&slug, input.version, &staff.0).await?))
}

async fn archive(
    State(api): Kb,
    caller: Caller,
    extract::PathId(slug): extract::PathId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Article>, ApiError> {
    let staff = caller.may(Action::Work)?;
    let input: VersionIn = extract::json(body)?;
    Ok(Json(api.editor.archive(&slug, input.version, &staff.0).await?))
}
