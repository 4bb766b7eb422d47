//! ticket-router: consumes the inbound queue (SQS, ReportBatchItemFailures). The workflow is
//! `omnidesk_domain::router`, the batch handling `omnidesk_app::ticket_router`; the erasure
//! jobs the agent API queues there run here too (`omnidesk_domain::desk`).

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::agent_api;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::shop::Shop;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_aws::{AwsEnvironment, DynamoArticles};
use omnidesk_domain::desk::DeskPorts;
use omnidesk_domain::kb::Catalogue;
use omnidesk_domain::memory::MemoryBlobStore;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::router::RouterPorts;
use omnidesk_domain::system::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // No inbox secrets: with `[shop]`, only the shop's (its token for order status and notices,
    // the return-link key for the help centre form's mails).
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    if config.shop.is_some() {
        config.resolve_shop_secrets(&aws.secrets()).await?;
    }
    // The help centre form's links point at the help centre (`[kb] public_url`).
    let help_centre = config.kb.as_ref().map(|kb| kb.base_url().to_owned());
    let shop = match &config.shop {
        Some(shop) => Some(
            Shop::from_config(shop, Arc::new(SystemClock))?.with_return_links(shop, help_centre.as_deref()),
        ),
        None => None,
    };
    let store = Arc::new(aws.store()?);
    let outbound = Arc::new(aws.outbound_queue()?);
    let agents = Arc::new(config.roster(store.clone()));
    let ports = RouterPorts {
        tickets: store.clone(),
        customers: store.clone(),
        idempotency: store.clone(),
        agents: agents.clone(),
        limiter: store.clone(),
        outbound: outbound.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
    };
    let mut handler = RouterHandler::new(&config, ports).with_forum_questions(&config, store.clone());
    if let Some(shop) = &shop {
        handler = handler.with_shop(shop);
    }
    // Mail too large for a queue message waits in the mail bucket (only with email on); an
    // erasure deletes raw mail and attachments there. Without email there is no bucket, and
    // nothing to delete.
    let bucket: Option<Arc<dyn BlobStore>> = match aws.blobs() {
        Ok(blobs) => {
            let blobs = Arc::new(blobs);
            handler = handler.with_blobs(blobs.clone());
            Some(blobs)
        }
        Err(_) => None,
    };
    let blobs: Arc<dyn BlobStore> = bucket.clone().unwrap_or_else(|| Arc::new(MemoryBlobStore::default()));
    let desk = DeskPorts {
        tickets: store.clone(),
        customers: store.clone(),
        agents,
        idempotency: store.clone(),
        outbound,
        blobs,
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
    };
    let articles = Arc::new(DynamoArticles::new((*store).clone(), bucket));
    // Erasure jobs and shop signals run on the desk.
    let mut desk = agent_api::desk(&config, desk);
    if let Some(shop) = &shop {
        desk = desk.with_shop(shop.desk.clone());
    }
    let mut handler = handler.with_erasures(Arc::new(desk));
    // The chat bot, in the inboxes `[bot]` names: its index is built from the published
    // articles on the first chat message and kept while the catalogue version stands.
    if let Some(kb) = &config.kb {
        handler = handler.with_bot(&config, Arc::new(Catalogue::new(articles, kb.search_settings())));
    }
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(handler.handle(event.payload).await)
    }))
    .await
}
