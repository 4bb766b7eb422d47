//! Sends social replies: WeChat's customer-service message API (with the shared access
//! token), Meta's Send API (Messenger, Instagram) and WhatsApp Cloud API, and a post in the
//! Discourse topic. A platform's "try later" (5xx, rate limits, a stale token) is retryable;
//! its refusals (window closed, user gone) are permanent and dead-letter where someone sees
//! them. The desk refuses replies outside a window before they are queued; these are the
//! cases it could not see.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::outbound::{Destination, OutboundJob, SocialDestination};
use omnidesk_domain::ports::{NotifyError, OutboundNotifier};
use omnidesk_domain::social::Platform;
use serde::Deserialize;
use serde_json::json;

use super::token::{Issued, SharedToken, TokenIssuer};
use crate::config::{SocialConfig, WechatAccount};

/// How long one platform call may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// WeChat's answers that mean the token must be fetched again.
const WECHAT_STALE_TOKEN: [i64; 3] = [40001, 40014, 42001];
/// WeChat's "busy" and per-minute quota: try again later.
const WECHAT_TRY_LATER: [i64; 2] = [-1, 45011];

pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .user_agent(concat!("omnidesk/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

fn unavailable(error: reqwest::Error) -> NotifyError {
    NotifyError::Retryable(error.without_url().to_string())
}

/// Fetches WeChat access tokens over HTTP.
pub struct WechatIssuer {
    pub http: reqwest::Client,
}

#[derive(Deserialize)]
struct WechatAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[async_trait]
impl TokenIssuer for WechatIssuer {
    async fn issue(&self, account: &WechatAccount) -> Result<Issued, NotifyError> {
        let secret = account
            .app_secret
            .value()
            .ok_or_else(|| NotifyError::Permanent("app_secret unresolved".into()))?;
        let url = format!("{}/cgi-bin/token", account.api_base.trim_end_matches('/'));
        let answer: WechatAnswer = self
            .http
            .get(url)
            .query(&[("grant_type", "client_credential"), ("appid", &account.app_id), ("secret", secret)])
            .send()
            .await
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        match (answer.access_token, answer.expires_in) {
            (Some(access_token), Some(expires_in)) => Ok(Issued { access_token, expires_in }),
            _ if WECHAT_TRY_LATER.contains(&answer.errcode) => Err(NotifyError::Retryable(answer.errmsg)),
            _ => Err(NotifyError::Permanent(format!("WeChat token: {} {}", answer.errcode, answer.errmsg))),
        }
    }
}

pub struct SocialNotifier {
    http: reqwest::Client,
    config: Arc<SocialConfig>,
    tokens: Arc<SharedToken>,
}

impl SocialNotifier {
    pub fn new(http: reqwest::Client, config: Arc<SocialConfig>, tokens: Arc<SharedToken>) -> Self {
        Self { http, config, tokens }
    }

    async fn wechat(&self, to: &SocialDestination, text: &str) -> Result<(), NotifyError> {
        let account = self
            .config
            .wechat
            .iter()
            .find(|a| a.id == to.account)
            .ok_or_else(|| NotifyError::Permanent(format!("no WeChat account {:?}", to.account)))?;
        let token = self.tokens.token(account).await?;
        let url = format!("{}/cgi-bin/message/custom/send", account.api_base.trim_end_matches('/'));
        let body = json!({"touser": to.conversation, "msgtype": "text", "text": {"content": text}});
        let response = self
            .http
            .post(url)
            .query(&[("access_token", token)])
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        if response.status().is_server_error() {
            return Err(NotifyError::Retryable(format!("WeChat answered {}", response.status())));
        }
        let answer: WechatAnswer = response.json().await.map_err(unavailable)?;
        match answer.errcode {
            0 => Ok(()),
            code if WECHAT_STALE_TOKEN.contains(&code) => {
                self.tokens.forget(account).await;
                Err(NotifyError::Retryable(format!("WeChat token refused ({code})")))
            }
            code if WECHAT_TRY_LATER.contains(&code) => Err(NotifyError::Retryable(answer.errmsg)),
            // 45015 (outside 48 hours or unfollowed), 45047 (out of replies), 43004, 40003…
            code => {
                Err(NotifyError::Permanent(format!("WeChat refused the reply: {code} {}", answer.errmsg)))
            }
        }
    }

    async fn meta(&self, to: &SocialDestination, text: &str) -> Result<(), NotifyError> {
        let app = self
            .config
            .meta
            .as_ref()
            .ok_or_else(|| NotifyError::Permanent("no Meta app is configured".into()))?;
        let base = app.api_base.trim_end_matches('/');
        let request = match to.platform {
            Platform::Whatsapp => {
                let token = app.whatsapp_token.as_ref().and_then(|s| s.value());
                let token = token
                    .ok_or_else(|| NotifyError::Permanent("social.meta.whatsapp_token is not set".into()))?;
                let body = json!({
                    "messaging_product": "whatsapp", "recipient_type": "individual", "to": to.conversation,
                    "type": "text", "text": {"preview_url": false, "body": text},
                });
                self.http.post(format!("{base}/{}/messages", to.account)).bearer_auth(token).json(&body)
            }
            _ => {
                let token = app.page_token.as_ref().and_then(|s| s.value());
                let token = token
                    .ok_or_else(|| NotifyError::Permanent("social.meta.page_token is not set".into()))?;
                let body = json!({"recipient": {"id": to.conversation}, "messaging_type": "RESPONSE", "message": {"text": text}});
                self.http.post(format!("{base}/me/messages")).query(&[("access_token", token)]).json(&body)
            }
        };
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail = response.text().await.unwrap_or_default();
        let detail: String = detail.chars().take(300).collect();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(NotifyError::Retryable(format!("Graph answered {status}: {detail}")))
        } else {
            Err(NotifyError::Permanent(format!("Graph refused the reply ({status}): {detail}")))
        }
    }

    async fn forum(&self, to: &SocialDestination, text: &str) -> Result<(), NotifyError> {
        let forum = self
            .config
            .forum
            .as_ref()
            .ok_or_else(|| NotifyError::Permanent("no forum is configured".into()))?;
        let key = forum.api_key.value().ok_or_else(|| NotifyError::Permanent("api_key unresolved".into()))?;
        let topic: u64 =
            to.conversation.parse().map_err(|_| NotifyError::Permanent("not a topic id".into()))?;
        let response = self
            .http
            .post(format!("{}/posts.json", forum.base_url.trim_end_matches('/')))
            .header("Api-Key", key)
            .header("Api-Username", &forum.api_username)
            .json(&json!({"topic_id": topic, "raw": text}))
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(NotifyError::Retryable(format!("the forum answered {status}")))
        } else {
            Err(NotifyError::Permanent(format!("the forum refused the post ({status})")))
        }
    }
}

#[async_trait]
impl OutboundNotifier for SocialNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        let Destination::Social(to) = &job.destination else {
            return Err(NotifyError::Permanent("not a social job".into()));
        };
        let result = match to.platform {
            Platform::Wechat => self.wechat(to, &job.text).await,
            Platform::Messenger | Platform::Instagram | Platform::Whatsapp => self.meta(to, &job.text).await,
            Platform::Forum => self.forum(to, &job.text).await,
        };
        match &result {
            Ok(()) => {
                tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), platform = to.platform.as_str(), "social.sent")
            }
            Err(error) => {
                tracing::warn!(ticket = job.ticket.0, platform = to.platform.as_str(), %error, "social.send_failed")
            }
        }
        result
    }
}
