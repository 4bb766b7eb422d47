//! Sends social replies: WeChat's customer-service message API (with the shared access
//! token), Meta's Send API (Messenger, Instagram) and WhatsApp Cloud API, and a post in the
//! Discourse topic. A platform's "try later" (5xx, rate limits, a stale token) is retryable;
//! its refusals of the message itself (window closed, quota spent, user gone, topic closed)
//! are [`NotifyError::Refused`] with the platform's reason, which the dispatcher hands to the
//! router for the ticket; a refusal of the desk's own credentials or setup is permanent and
//! dead-letters where operators see it. The desk refuses replies outside a window before
//! they are queued; these are the cases it could not see.

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

/// WeChat's refusals of one message, with what they mean for the agent.
fn wechat_refusal(code: i64) -> Option<&'static str> {
    Some(match code {
        45015 => "the customer has not written within 48 hours, or unfollowed the account",
        45047 => "the customer-service message quota for this customer is spent until they write again",
        43004 => "the customer unfollowed the account",
        43019 => "the customer is on the account's blacklist",
        40003 => "WeChat does not know this OpenID",
        _ => return None,
    })
}

/// Graph's "try later": rate limits and throttling.
const GRAPH_TRY_LATER: [i64; 8] = [4, 17, 32, 613, 80007, 130429, 131048, 131056];
/// Graph's refusals of the desk's own token or app: for operators, not the ticket.
const GRAPH_CREDENTIALS: [i64; 3] = [102, 190, 200];

#[derive(Deserialize, Default)]
struct GraphFailure {
    #[serde(default)]
    error: GraphError,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    error_data: Option<GraphErrorData>,
}

#[derive(Deserialize, Default)]
struct GraphErrorData {
    #[serde(default)]
    details: String,
}

/// What a Graph error answer means for the reply.
fn graph_failure(status: reqwest::StatusCode, body: &str) -> NotifyError {
    let failure: GraphFailure = serde_json::from_str(body).unwrap_or_default();
    let error = failure.error;
    let detail = error.error_data.map(|d| d.details).filter(|d| !d.is_empty()).unwrap_or(error.message);
    let detail: String = detail.chars().take(300).collect();
    let subcode = error.error_subcode.map(|s| format!("/{s}")).unwrap_or_default();
    let code = error.code;
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || GRAPH_TRY_LATER.contains(&code)
    {
        return NotifyError::Retryable(format!("Graph answered {status} ({code}{subcode}): {detail}"));
    }
    if GRAPH_CREDENTIALS.contains(&code) || status == reqwest::StatusCode::UNAUTHORIZED {
        return NotifyError::Permanent(format!("Graph refused the desk's token ({code}{subcode}): {detail}"));
    }
    let meaning = match (code, error.error_subcode) {
        (10, Some(2018278)) | (131047, _) => "the customer has not written within 24 hours; ",
        (551, _) => "the customer is not available; ",
        _ => "",
    };
    NotifyError::Refused(format!("Meta refused the reply ({code}{subcode}): {meaning}{detail}"))
}

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
            .query(&[("access_token", token.as_str())])
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
                // The retry uses the token that replaces it.
                self.tokens.replace(account, &token).await?;
                Err(NotifyError::Retryable(format!("WeChat token refused ({code})")))
            }
            code if WECHAT_TRY_LATER.contains(&code) => Err(NotifyError::Retryable(answer.errmsg)),
            code => match wechat_refusal(code) {
                Some(meaning) => Err(NotifyError::Refused(format!(
                    "WeChat refused the reply ({code}): {meaning} ({})",
                    answer.errmsg.chars().take(200).collect::<String>()
                ))),
                None => {
                    Err(NotifyError::Permanent(format!("WeChat refused the reply: {code} {}", answer.errmsg)))
                }
            },
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
        let body = response.text().await.unwrap_or_default();
        Err(graph_failure(status, &body))
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
            return Ok(());
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(NotifyError::Retryable(format!("the forum answered {status}")));
        }
        let body = response.text().await.unwrap_or_default();
        Err(forum_failure(status, &body))
    }
}

#[derive(Deserialize, Default)]
struct ForumFailure {
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    error_type: String,
}

/// What a Discourse 4xx means: its API key or user refused (for operators), or this post
/// refused (a closed or deleted topic, a post the forum's rules reject: for the ticket).
fn forum_failure(status: reqwest::StatusCode, body: &str) -> NotifyError {
    let failure: ForumFailure = serde_json::from_str(body).unwrap_or_default();
    let reason: String = failure.errors.join("; ").chars().take(300).collect();
    if status == reqwest::StatusCode::UNAUTHORIZED || failure.error_type == "invalid_access" {
        return NotifyError::Permanent(format!("the forum refused the desk's API key ({status})"));
    }
    let reason =
        if reason.is_empty() { status.canonical_reason().unwrap_or("refused").to_owned() } else { reason };
    NotifyError::Refused(format!("the forum refused the post ({}): {reason}", status.as_u16()))
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

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::*;

    #[test]
    fn platform_refusals_of_a_message_go_to_the_ticket_and_try_later_answers_are_retried() {
        let outside = r#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278}}"#;
        let NotifyError::Refused(reason) = graph_failure(StatusCode::BAD_REQUEST, outside) else { panic!() };
        assert!(reason.contains("24 hours") && reason.contains("10/2018278"), "{reason}");
        let whatsapp = r#"{"error":{"message":"(#131047) Re-engagement message","code":131047,"error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}}"#;
        let NotifyError::Refused(reason) = graph_failure(StatusCode::BAD_REQUEST, whatsapp) else { panic!() };
        assert!(reason.contains("more than 24 hours have passed"), "{reason}");
        let throttled =
            r#"{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","code":613}}"#;
        assert!(matches!(graph_failure(StatusCode::BAD_REQUEST, throttled), NotifyError::Retryable(_)));
        assert!(matches!(graph_failure(StatusCode::BAD_GATEWAY, ""), NotifyError::Retryable(_)));
        let token = r#"{"error":{"message":"Error validating access token","code":190}}"#;
        assert!(matches!(graph_failure(StatusCode::BAD_REQUEST, token), NotifyError::Permanent(_)));

        assert!(wechat_refusal(45015).is_some_and(|m| m.contains("48 hours")));
        assert!(wechat_refusal(45047).is_some());
        assert!(wechat_refusal(48001).is_none(), "an unauthorised API is the operators' to fix");

        let closed = r#"{"errors":["This topic is closed; you cannot post to it."],"error_type":"invalid_parameters"}"#;
        let NotifyError::Refused(reason) = forum_failure(StatusCode::UNPROCESSABLE_ENTITY, closed) else {
            panic!()
        };
        assert!(reason.contains("topic is closed"), "{reason}");
        let key = r#"{"errors":["You are not permitted to view the requested resource."],"error_type":"invalid_access"}"#;
        assert!(matches!(forum_failure(StatusCode::FORBIDDEN, key), NotifyError::Permanent(_)));
    }
}
