//! social-webhook: the front door of WeChat, Meta (Messenger, Instagram, WhatsApp) and the
//! Discourse forum (ARCHITECTURE.md §3). Verification, normalising and the platforms'
//! answers live in `omnidesk_app::social`; this only wires AWS in.

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::social::{self, SocialWebhook};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    let config =
        DeskConfig::parse(&aws.config_text(MAX_CONFIG_BYTES).await?, omnidesk_app::config::Runtime::Aws)?;
    // The platforms' secrets only, resolved once per container; the role may read only those.
    let mut social = config.social.unwrap_or_default();
    social.resolve(&aws.secrets()).await?;
    let webhook = SocialWebhook {
        config: Arc::new(social),
        inbound: Arc::new(aws.inbound_queue()?),
        clock: Arc::new(SystemClock),
    };
    lambda_http::run(social::service(webhook)).await
}
