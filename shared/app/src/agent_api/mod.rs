//! The agent API (`/v1/...`, DESIGN §3): tickets, replies, notes, assignment, merges,
//! customers, privacy and presence, for agents, supervisors, admins and analysts. The same
//! router runs in the `agent-api` Lambda (behind the HTTP API's JWT authorizer) and in
//! omnidesk-local (behind bearer tokens from the config). `openapi.yaml` describes it.

mod agents;
pub mod auth;
mod customers;
mod extract;
mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use omnidesk_domain::desk::{AgentDesk, DeskError, DeskPorts, Staff};
use omnidesk_domain::lifecycle::LifecycleError;
use omnidesk_domain::ports::{AgentStore, StoreError};

pub use auth::{Action, Authenticator, BearerTokens, ClaimsAuthenticator, Principal, Role, VerifiedClaims};

use crate::config::DeskConfig;
use crate::error::{self, ApiError};

/// Largest request body: a reply of 64 KiB in JSON, with room for escaping.
pub const MAX_AGENT_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct AgentApi {
    pub desk: Arc<AgentDesk>,
    pub auth: Arc<dyn Authenticator>,
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
        .route("/v1/customers", get(customers::find))
        .route("/v1/customers/{id}", get(customers::view))
        .route("/v1/customers/{id}/merge", post(customers::merge))
        .route("/v1/customers/{id}/export", get(customers::export))
        .route("/v1/customers/{id}/erase", post(customers::erase))
        .route("/v1/agents", get(agents::list))
        .route("/v1/agents/me", get(agents::own))
        .route("/v1/agents/me/presence", put(agents::presence))
        .layer(DefaultBodyLimit::max(MAX_AGENT_BODY_BYTES))
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
    AgentDesk::new(ports, routing, email)
}

/// Stores every `[[agents]]` profile, keeping presence already set: run at start.
pub async fn seed_agents(store: &dyn AgentStore, config: &DeskConfig) -> Result<(), StoreError> {
    for agent in &config.agents {
        store.put_profile(&agent.agent()).await?;
    }
    Ok(())
}

impl From<DeskError> for ApiError {
    fn from(error: DeskError) -> Self {
        match error {
            DeskError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            DeskError::Conflict(reason) => ApiError::conflict(reason),
            DeskError::Invalid(reason) => ApiError::bad_request(reason),
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
