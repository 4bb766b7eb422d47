//! chat-webhook: the chat channel's front door (DESIGN §3). The router, validation and status
//! mapping live in `omnidesk_app::chat_webhook`; this only wires AWS in.

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsSettings;
use omnidesk_domain::memory::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let config = DeskConfig::from_env()?;
    let settings = AwsSettings::from_env()?;
    let sdk = omnidesk_aws::sdk_config().await;
    let inbound = omnidesk_aws::sqs_queue(&sdk, settings.require_inbound_queue_url()?);
    let webhook =
        ChatWebhook { inboxes: config.inboxes(), inbound: Arc::new(inbound), clock: Arc::new(SystemClock) };
    lambda_http::run(chat_webhook::router(webhook)).await
}
