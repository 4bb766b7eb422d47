//! help-centre: `GET /v1/kb/articles/{slug}` and `GET /v1/kb/search`, public read-only routes
//! of the HTTP API (throttled apart from the agent API), and with `[shop]` the return form
//! (`/v1/returns/...`, `omnidesk_app::shop::return_form`), which only queues for the router.
//! The routes, pages, caching and status mapping live in `omnidesk_app::kb::help_centre`;
//! the search in `omnidesk_domain::kb`. The index is built once per container, on the first request, and
//! rebuilt only when an article is published (ARCHITECTURE.md §3).

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::kb::help_centre::{self, HelpCentre};
use omnidesk_app::shop::return_form::{self, ReturnForm};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::{AwsEnvironment, DynamoArticles};
use omnidesk_domain::kb::Catalogue;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // Only the return-link key is resolved (with `[shop.returns] link_key`): the role may read
    // no other secret.
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    config.resolve_return_link_key(&aws.secrets()).await?;
    let Some(kb) = &config.kb else {
        return Err("the desk configuration has no [kb] section: help-centre needs one".into());
    };
    // Bodies over the item limit are in the mail bucket when there is one.
    let bucket: Option<Arc<dyn BlobStore>> = match aws.blobs() {
        Ok(blobs) => Some(Arc::new(blobs)),
        Err(_) => None,
    };
    let articles = Arc::new(DynamoArticles::new(aws.store()?, bucket));
    let catalogue = Arc::new(Catalogue::new(articles, kb.search_settings()));
    let help = HelpCentre::new(catalogue, Arc::new(SystemClock), kb.base_url());
    let mut app = help_centre::router(help);
    if let Some(key) = config.shop.as_ref().and_then(|shop| shop.link_key()) {
        let form = ReturnForm::new(Arc::new(aws.inbound_queue()?), Some(key), Arc::new(SystemClock));
        app = app.merge(return_form::router(form));
    }
    lambda_http::run(app).await
}
