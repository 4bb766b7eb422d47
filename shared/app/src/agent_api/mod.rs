//! The agent API (`/v1/...`, ARCHITECTURE.md §3): tickets, replies, notes, assignment, merges,
//! customers, privacy and presence, for agents, supervisors, admins and analysts. The same
//! router runs in the `agent-api` Lambda (behind the HTTP API's JWT authorizer) and in
//! omnidesk-local (behind bearer tokens from the config). `openapi.yaml` describes it.

mod agents;
pub mod auth;
mod callbacks;
mod canned;
mod conditional;
mod customers;
mod extract;
mod kb;
mod orders;
pub(crate) use extract::query;
mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use omnidesk_domain::canned::CannedResponses;
use omnidesk_domain::desk::{AgentDesk, DeskError, DeskPorts, Staff};
use omnidesk_domain::lifecycle::LifecycleError;
use omnidesk_domain::ports::StoreError;

pub use auth::{Action, Authenticator, BearerTokens, ClaimsAuthenticator, Principal, Role, VerifiedClaims};
pub use kb::{KbApi, kb_router};

use crate::config::DeskConfig;
use crate::error::{self, ApiError};

/// Largest request body: a reply of 64 KiB in JSON, with room for escaping.
pub const MAX_AGENT_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct AgentApi {
    pub desk: Arc<AgentDesk>,
    pub auth: Arc<dyn Authenticator>,
    /// The canned responses supervisors keep for replies.
    pub canned: Arc<CannedResponses>,
}

/// The router as the `agent-api` Lambda serves it alone: an unknown path answers 404 in the
/// JSON error shape. (The local desk merges [`router`] with the other functions' routers, and
/// axum allows one fallback per merged router: the chat webhook's serves it there.)
pub fn lambda_router(api: AgentApi) -> Router {
    router(api).fallback(error::not_found)
}

pub fn router(api: AgentApi) -> Router {
    Router::new()
        .route("/v1/me", get(agents::me))
        .route("/v1/tickets", get(tickets::list))
        .route("/v1/tickets/{number}", get(tickets::view).patch(tickets::patch))
        .route("/v1/tickets/{number}/replies", post(tickets::reply))
        .route("/v1/tickets/{number}/notes", post(tickets::note))
        .route("/v1/tickets/{number}/assignment", post(tickets::assign))
        .route("/v1/tickets/{number}/merge", post(tickets::merge))
        .route("/v1/tickets/{number}/callbacks", post(callbacks::request))
        .route("/v1/tickets/{number}/messages/{message}/attachments/{index}", get(tickets::attachment))
        .route("/v1/tickets/{number}/orders", get(orders::of_ticket))
        .route("/v1/tickets/{number}/returns", post(orders::start_return))
        .route("/v1/tickets/{number}/returns/{action}", post(orders::step))
        .route("/v1/customers/{id}/orders", get(orders::of_customer))
        .route("/v1/customers", get(customers::find))
        .route("/v1/customers/{id}", get(customers::view))
        .route("/v1/customers/{id}/merge", post(customers::merge))
        .route("/v1/customers/{id}/export", get(customers::export))
        .route("/v1/customers/{id}/erase", post(customers::erase))
        .route("/v1/customers/{id}/erasures/{job}", get(customers::erasure))
        .route("/v1/agents", get(agents::list))
        .route("/v1/agents/me", get(agents::own))
        .route("/v1/agents/me/presence", put(agents::presence))
        .route("/v1/canned-responses", get(canned::list).post(canned::create))
        .route("/v1/canned-responses/{id}", put(canned::update).delete(canned::delete))
        .layer(DefaultBodyLimit::max(MAX_AGENT_BODY_BYTES))
        .layer(axum::middleware::from_fn(conditional::etag))
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(api)
}

/// The signed-in caller; a handler that takes one cannot run unauthenticated.
pub struct Caller(pub Principal);

impl Caller {
    fn may(&self, action: Action) -> Result<Staff, ApiError> {
        self.0.require(action)?;
        Ok(Staff(self.0.user.clone()))
    }
}

impl FromRequestParts<AgentApi> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &AgentApi) -> Result<Self, Self::Rejection> {
        api.auth.authenticate(parts).map(Caller)
    }
}

type Api = State<AgentApi>;

/// The desk's workflows as the config sets them up (routing rules, email addresses).
pub fn desk(config: &DeskConfig, ports: DeskPorts) -> AgentDesk {
    let routing = config.routing().ok().flatten();
    let email = config.email.as_ref().map(|e| e.rules()).unwrap_or_default();
    let mut desk =
        AgentDesk::new(ports, routing, email).with_callback_minutes(config.phone_rules().callback_minutes);
    if let Some(key) = config.cursor_key() {
        desk = desk.with_cursor_key(key);
    }
    // Solving a ticket schedules its satisfaction survey (the survey-sender sends it).
    if let Some(rules) = config.survey_rules() {
        desk = desk.with_survey(rules);
    }
    match config.sla_policies() {
        Ok(Some(policies)) => desk.with_sla(policies),
        Ok(None) => desk,
        Err(error) => {
            // A loaded config was validated already; a hand-built one runs without timers.
            tracing::error!(%error, "agent_api.sla_config_invalid");
            desk
        }
    }
}

impl From<DeskError> for ApiError {
    fn from(error: DeskError) -> Self {
        match error {
            DeskError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            DeskError::Conflict(reason) => ApiError::conflict(reason),
            DeskError::Invalid(reason) => ApiError::bad_request(reason),
            DeskError::KeyReused(reason) => ApiError::unprocessable(reason),
            DeskError::Unsendable(reason) => ApiError::unprocessable(reason),
            DeskError::Refused(reason) => ApiError::unprocessable(reason),
            DeskError::Lifecycle(e @ LifecycleError::Closed(_)) => ApiError::conflict(e.to_string()),
            DeskError::Lifecycle(e) => ApiError::bad_request(e.to_string()),
            DeskError::Store(StoreError::Unavailable(reason)) => {
                tracing::error!(%reason, "agent_api.store_unavailable");
                ApiError::unavailable("try again shortly")
            }
            DeskError::Store(e) => {
                tracing::error!(error = %e, "agent_api.store_failed");
                ApiError::internal("the desk could not read its records")
            }
            DeskError::Queue(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use jiff::Timestamp;
    use omnidesk_domain::memory::{ManualClock, MemoryStore};
    use omnidesk_domain::router::EmailRules;
    use tower::ServiceExt;

    use super::*;

    const TOKEN: &str = "unit-test-token-0123456789";

    fn analyst_api() -> AgentApi {
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
        let store = Arc::new(MemoryStore::new());
        let ports = omnidesk_domain::memory::desk_ports(store, clock.clone());
        let who = Principal { user: "ana".into(), role: Role::Analyst };
        AgentApi {
            desk: Arc::new(AgentDesk::new(ports, None, EmailRules::default())),
            auth: Arc::new(BearerTokens::new([(TOKEN.to_owned(), who)])),
            canned: Arc::new(CannedResponses::new(
                Arc::new(omnidesk_domain::canned::MemoryCannedStore::default()),
                clock,
                Arc::new(omnidesk_domain::memory::SequentialIds::default()),
            )),
        }
    }

    fn api() -> Router {
        router(analyst_api())
    }

    async fn call(method: &str, uri: &str) -> (StatusCode, serde_json::Value) {
        call_router(api(), method, uri).await
    }

    async fn call_router(router: Router, method: &str, uri: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn malformed_ids_and_queries_answer_in_the_error_shape() {
        for uri in ["/v1/tickets/%FF", "/v1/customers/%FF", "/v1/customers/cus_%FF/export", "/v1/tickets/abc"]
        {
            let (status, body) = call("GET", uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error"]["code"], "not_found", "{uri}");
        }
        let (status, body) = call("GET", "/v1/tickets?status=open&status=new").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["error"]["message"].as_str().unwrap().starts_with("query: duplicate field"), "{body}");
        let (status, body) = call("GET", "/v1/tickets").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "an unindexed list: {body}");
    }

    #[tokio::test]
    async fn unknown_routes_on_lambda_answer_404_in_the_error_shape() {
        let lambda = lambda_router(analyst_api());
        for uri in ["/v1/nothing-here", "/", "/v1/tickets/1/unknown"] {
            let (status, body) = call_router(lambda.clone(), "GET", uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error"]["code"], "not_found", "{uri}");
        }
    }

    #[tokio::test]
    async fn a_role_below_the_route_is_403_naming_the_role() {
        let (status, body) = call("POST", "/v1/tickets/1/notes").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["message"], "the analyst role may not do this");
    }

    async fn get_with(uri: &str, if_none_match: Option<&str>) -> axum::response::Response {
        let mut request = Request::get(uri).header("authorization", format!("Bearer {TOKEN}"));
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        api().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn list_routes_answer_304_to_the_etag_of_an_unchanged_answer() {
        let first = get_with("/v1/tickets?status=open", None).await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers().get("etag").expect("an ETag").to_str().unwrap().to_owned();
        assert_eq!(first.headers()["cache-control"], "private, no-cache");
        let again = get_with("/v1/tickets?status=open", Some(&tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()["etag"], tag.as_str());
        let body = axum::body::to_bytes(again.into_body(), 1024).await.unwrap();
        assert!(body.is_empty());
        // Another tag (an older answer) gets the whole answer.
        assert_eq!(get_with("/v1/tickets?status=open", Some("\"stale\"")).await.status(), StatusCode::OK);
        // Errors carry no tag.
        let error = get_with("/v1/tickets", None).await;
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.headers().get("etag").is_none());
    }
}
