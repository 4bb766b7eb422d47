//! agent-api: the `/v1` agent routes (ARCHITECTURE.md §3) behind the HTTP API's Cognito JWT
//! authorizer. The routes, role rules and status mapping live in `omnidesk_app::agent_api`;
//! this wires AWS in and hands the authorizer's verified claims to the router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use lambda_http::request::RequestContext;
use lambda_http::{Error, RequestExt};
use omnidesk_app::agent_api::{self, AgentApi, ClaimsAuthenticator, KbApi, VerifiedClaims};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::shop::Shop;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::{AwsEnvironment, DynamoArticles};
use omnidesk_domain::canned::CannedResponses;
use omnidesk_domain::desk::DeskPorts;
use omnidesk_domain::kb::KbEditor;
use omnidesk_domain::memory::MemoryBlobStore;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::system::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // The inbox secrets, resolved once per container: every container derives the same key
    // for the list cursors it signs, so a page handed out by one opens in another.
    let secrets = aws.secrets();
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, Some(&secrets)).await?;
    // With `[shop]`: the token, for the order lists and returns.
    config.resolve_shop_secrets(&secrets).await?;
    // Secrets are read in init only: its client goes.
    drop(secrets);
    let store = Arc::new(aws.store()?);
    let canned = Arc::new(CannedResponses::new(store.clone(), Arc::new(SystemClock), Arc::new(RandomIds)));
    let blobs: Arc<dyn BlobStore> = match aws.blobs() {
        Ok(blobs) => Arc::new(blobs),
        Err(_) => Arc::new(MemoryBlobStore::default()),
    };
    // Large article bodies go to the mail bucket when there is one, else stay in their items.
    let bucket: Option<Arc<dyn BlobStore>> = match aws.blobs() {
        Ok(blobs) => Some(Arc::new(blobs)),
        Err(_) => None,
    };
    let articles = Arc::new(DynamoArticles::new((*store).clone(), bucket));
    let ports = DeskPorts {
        tickets: store.clone(),
        customers: store.clone(),
        // Profiles from the config: init writes nothing.
        agents: Arc::new(config.roster(store.clone())),
        idempotency: store,
        outbound: Arc::new(aws.outbound_queue()?),
        // Without the email channel there is no mail bucket, and nothing to erase there.
        blobs,
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
    };
    // Erasure runs as a job: queued here, run by ticket-router off the request path.
    let mut desk = agent_api::desk(&config, ports).with_erasure_queue(Arc::new(aws.inbound_queue()?));
    if let Some(shop) = &config.shop {
        desk = desk.with_shop(Shop::from_config(shop, Arc::new(SystemClock))?.desk);
    }
    let api = AgentApi { desk: Arc::new(desk), auth: Arc::new(ClaimsAuthenticator), canned };
    let kb = KbApi {
        editor: Arc::new(KbEditor::new(articles, Arc::new(SystemClock))),
        auth: Arc::new(ClaimsAuthenticator),
    };
    let app = agent_api::lambda_router(api)
        .merge(agent_api::kb_router(kb))
        .layer(axum::middleware::map_request(attach_claims));
    lambda_http::run(app).await
}

/// The claims API Gateway's JWT authorizer verified, as the router's extension. Without an
/// authorizer on the route there are none, and the router answers 401.
async fn attach_claims(mut request: Request<Body>) -> Request<Body> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => VerifiedClaims::from_http_api(context),
        _ => None,
    };
    if let Some(claims) = claims {
        request.extensions_mut().insert(claims);
    }
    request
}
