//! chat-webhook: the chat channel's front door (ARCHITECTURE.md §3). The router, validation and status
//! mapping live in `omnidesk_app::chat_webhook`; this only wires AWS in. With `[shop]` it also
//! takes the shop's webhooks (`omnidesk_app::shop::webhook`).

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::shop::webhook::{self as shop_webhook, ShopWebhook};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::request_blocks::RequestBlocks;
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // The inbox secrets, resolved once per container; the role may read only those.
    let secrets = aws.secrets();
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, Some(&secrets)).await?;
    // With `[shop]`, its webhooks come here too, verified with the shop's webhook secret.
    config.resolve_shop_secrets(&secrets).await?;
    // Secrets are read in init only: its client goes.
    drop(secrets);
    let inbound = Arc::new(aws.inbound_queue()?);
    // The per-inbox limit counts in the table, in blocks: one conditional write per block of
    // messages this container accepts.
    let limiter = Arc::new(RequestBlocks::new(Arc::new(aws.store()?)));
    let webhook = ChatWebhook {
        inboxes: config.inboxes(),
        inbound: inbound.clone(),
        clock: Arc::new(SystemClock),
        limiter: Some(limiter),
        // Files sent in chat go where mail attachments are; without the bucket (a desk
        // without mail) a message with files is refused.
        blobs: aws
            .settings
            .blob_bucket
            .as_deref()
            .map(|bucket| -> Arc<dyn BlobStore> { Arc::new(aws.clients().blobs(bucket)) }),
    };
    let mut app = chat_webhook::router(webhook);
    if let Some(shop) = &config.shop {
        let secret = shop.webhook_secret.value().map(str::to_owned);
        app = app.merge(shop_webhook::router(ShopWebhook { inbound, secret, clock: Arc::new(SystemClock) }));
    }
    lambda_http::run(app).await
}
