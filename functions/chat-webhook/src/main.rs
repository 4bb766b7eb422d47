//! chat-webhook: the chat channel's front door (ARCHITECTURE.md §3). The router, validation and status
//! mapping live in `omnidesk_app::chat_webhook`; this only wires AWS in.

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let config = DeskConfig::from_env()?;
    let aws = AwsEnvironment::load().await?;
    let inbound = Arc::new(aws.inbound_queue()?);
    // The per-inbox limit counts in the table (one conditional write per message).
    let limiter = Arc::new(aws.store()?);
    let webhook = ChatWebhook {
        inboxes: config.inboxes(),
        inbound,
        clock: Arc::new(SystemClock),
        limiter: Some(limiter),
    };
    lambda_http::run(chat_webhook::router(webhook)).await
}
