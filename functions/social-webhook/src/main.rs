//! social-webhook: the front door of WeChat, Meta (Messenger, Instagram, WhatsApp) and the
//! Discourse forum (ARCHITECTURE.md §3). Verification, normalising and the platforms'
//! answers live in `omnidesk_app::social`; this only wires AWS in.

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::social::send::{self, WechatIssuer};
use omnidesk_app::social::token::SharedToken;
use omnidesk_app::social::wechat_user::WechatUsers;
use omnidesk_app::social::{self, SocialWebhook};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::ports::IdSource;
use omnidesk_domain::system::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    let config =
        DeskConfig::parse(&aws.config_text(MAX_CONFIG_BYTES).await?, omnidesk_app::config::Runtime::Aws)?;
    // The platforms' secrets only, resolved once per container; the role may read only those.
    let mut social = config.social.unwrap_or_default();
    social.resolve(&aws.secrets()).await?;
    let clock: Arc<SystemClock> = Arc::new(SystemClock);
    // WeChat UnionIDs, asked once per OpenID with the access token every container shares
    // through the table (IDEM# records only).
    let wechat_users = if social.wechat.is_empty() {
        None
    } else {
        let store = Arc::new(aws.store()?);
        let http = send::http_client()?;
        let issuer = Arc::new(WechatIssuer { http: http.clone() });
        let owner = RandomIds.token();
        let tokens = Arc::new(SharedToken::new(store.clone(), clock.clone(), issuer, owner.clone()));
        Some(Arc::new(WechatUsers::new(store, tokens, http, clock.clone(), owner)))
    };
    let webhook = SocialWebhook {
        config: Arc::new(social),
        inbound: Arc::new(aws.inbound_queue()?),
        clock,
        wechat_users,
    };
    lambda_http::run(social::service(webhook)).await
}
