//! help-centre: `GET /v1/kb/articles/{slug}` and `GET /v1/kb/search`, public read-only routes
//! of the HTTP API (throttled apart from the agent API). The routes, pages, caching and
//! status mapping live in `omnidesk_app::kb::help_centre`; the search in
//! `omnidesk_domain::kb`. The index is built once per container, on the first request, and
//! rebuilt only when an article is published (ARCHITECTURE.md §3).

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::kb::help_centre::{self, HelpCentre};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::{AwsEnvironment, DynamoArticles};
use omnidesk_domain::kb::Catalogue;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // No secret is resolved: the role may read none.
    let config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
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
    lambda_http::run(help_centre::router(help)).await
}
