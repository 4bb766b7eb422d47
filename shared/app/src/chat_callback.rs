//! Sends outbound chat jobs to the inbox's callback URL, signed like inbound requests, with
//! bounded retries and exponential backoff. When every try fails the job goes back to the
//! queue (and, after the last receive, to the dead-letter queue).

use std::sync::Arc;

use async_trait::async_trait;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::outbound::{Destination, OutboundJob, OutboundKind};
use omnidesk_domain::ports::{Clock, NotifyError, OutboundNotifier};
use reqwest::StatusCode;
use serde::Serialize;

use crate::config::{DeliveryConfig, InboxDirectory};
use crate::signature::{SIGNATURE_HEADER, sign};

/// Lets the receiver drop a delivery it has already seen.
pub const DELIVERY_HEADER: &str = "x-omnidesk-delivery";

/// What the chat provider receives.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ChatCallback {
    pub delivery_id: String,
    /// `#N`, as shown to the customer.
    pub ticket: String,
    pub conversation_id: String,
    pub visitor_id: Option<String>,
    pub kind: OutboundKind,
    pub text: String,
    /// Buttons a widget may show under a bot answer ("yes", "talk to a person"); sending one
    /// back as the customer's next message is the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    pub sent_at: jiff::Timestamp,
}

pub struct ChatCallbackNotifier {
    http: reqwest::Client,
    inboxes: Arc<InboxDirectory>,
    clock: Arc<dyn Clock>,
    policy: DeliveryConfig,
}

impl ChatCallbackNotifier {
    pub fn new(
        inboxes: Arc<InboxDirectory>,
        clock: Arc<dyn Clock>,
        policy: DeliveryConfig,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout())
            .connect_timeout(policy.timeout())
            .user_agent(concat!("omnidesk/", env!("CARGO_PKG_VERSION")))
            // A redirect could send signed customer data to a host nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, inboxes, clock, policy })
    }

    async fn post_once(
        &self,
        url: &str,
        secret: &[u8],
        job: &OutboundJob,
        callback: &ChatCallback,
    ) -> Result<(), NotifyError> {
        let body = serde_json::to_vec(callback).map_err(|e| NotifyError::Permanent(e.to_string()))?;
        // Signed per attempt, so a late retry still carries a fresh timestamp.
        let signature = sign(secret, self.clock.now().as_second(), &body);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, &job.id)
            .body(body)
            .send()
            .await
            .map_err(|e| NotifyError::Retryable(format!("callback unreachable: {}", without_url(e))))?;
        classify(response.status())
    }
}

/// 2xx is delivered. Redirects are not followed, and a 3xx is a failure: permanent, since
/// only a change of configuration can fix a receiver that moved.
pub(crate) fn classify(status: StatusCode) -> Result<(), NotifyError> {
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(NotifyError::Permanent(format!("callback answered {status}: redirects are not followed")))
    } else if status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
    {
        Err(NotifyError::Permanent(format!("callback answered {status}")))
    } else {
        Err(NotifyError::Retryable(format!("callback answered {status}")))
    }
}

/// Callback URLs may carry tokens; keep them out of errors and logs.
fn without_url(error: reqwest::Error) -> reqwest::Error {
    error.without_url()
}

#[async_trait]
impl OutboundNotifier for ChatCallbackNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        let Destination::Chat { inbox, conversation_id, visitor_id } = &job.destination else {
            return Err(NotifyError::Permanent("not a chat job".into()));
        };
        let Some(inbox) = self.inboxes.get(inbox) else {
            return Err(NotifyError::Permanent(format!("no chat inbox {inbox:?} in the configuration")));
        };
        let callback = ChatCallback {
            delivery_id: job.id.clone(),
            ticket: job.ticket.to_string(),
            conversation_id: conversation_id.clone(),
            visitor_id: visitor_id.clone(),
            kind: job.kind,
            text: job.text.clone(),
            choices: match job.kind {
                OutboundKind::BotAnswer => omnidesk_domain::bot::choices_for(&job.text),
                _ => Vec::new(),
            },
            sent_at: self.clock.now(),
        };
        // Only a function that never resolved its secrets lacks one: a deployment error,
        // retried until the job parks in the dead-letter queue.
        let Some(secret) = inbox.signing_key() else {
            return Err(NotifyError::Retryable(format!("chat inbox {:?}: secret not resolved", inbox.id)));
        };
        let mut delay = self.policy.backoff();
        let mut attempt = 1;
        loop {
            match self.post_once(&inbox.callback_url, secret, job, &callback).await {
                Ok(()) => return Ok(()),
                Err(NotifyError::Retryable(reason)) if attempt < self.policy.attempts => {
                    tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), attempt, %reason, "callback.retry");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_permanent_except_timeouts_and_rate_limits() {
        assert!(classify(StatusCode::NO_CONTENT).is_ok());
        assert!(matches!(classify(StatusCode::BAD_REQUEST), Err(NotifyError::Permanent(_))));
        assert!(matches!(classify(StatusCode::TOO_MANY_REQUESTS), Err(NotifyError::Retryable(_))));
        assert!(matches!(classify(StatusCode::REQUEST_TIMEOUT), Err(NotifyError::Retryable(_))));
        assert!(matches!(classify(StatusCode::BAD_GATEWAY), Err(NotifyError::Retryable(_))));
    }

    #[test]
    fn input_hygiene_a_redirect_is_a_failure_not_followed() {
        for status in [StatusCode::MOVED_PERMANENTLY, StatusCode::FOUND, StatusCode::TEMPORARY_REDIRECT] {
            assert!(matches!(classify(status), Err(NotifyError::Permanent(_))), "{status}");
        }
    }

    #[tokio::test]
    async fn input_hygiene_a_callback_that_redirects_fails_and_the_target_sees_nothing() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use axum::routing::post;

        static FOLLOWED: AtomicUsize = AtomicUsize::new(0);
        let app = axum::Router::new()
            .route(
                "/cb",
                post(|| async { (axum::http::StatusCode::TEMPORARY_REDIRECT, [("location", "/elsewhere")]) }),
            )
            .route("/elsewhere", post(|| async { FOLLOWED.fetch_add(1, Ordering::SeqCst).to_string() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let config = crate::config::DeskConfig::from_toml(&format!(
            "[[chat_inboxes]]\nid = \"web\"\nsecret = \"0123456789abcdef\"\ncallback_url = \"http://{address}/cb\"\n"
        ))
        .unwrap();
        let clock = std::sync::Arc::new(omnidesk_domain::memory::ManualClock::new(
            jiff::Timestamp::from_second(1_790_000_000).unwrap(),
        ));
        let notifier = ChatCallbackNotifier::new(config.inboxes(), clock, config.delivery.clone()).unwrap();
        let job = OutboundJob {
            id: "reply:msg_1".into(),
            ticket: omnidesk_domain::model::TicketNumber(1),
            message: omnidesk_domain::model::MessageId::from_token("1"),
            kind: OutboundKind::AgentReply,
            destination: Destination::Chat {
                inbox: "web".into(),
                conversation_id: "c1".into(),
                visitor_id: None,
            },
            text: "hello".into(),
            created_at: jiff::Timestamp::from_second(1_790_000_000).unwrap(),
            survey: None,
        };
        let result = notifier.deliver(&job).await;
        assert!(matches!(&result, Err(NotifyError::Permanent(m)) if m.contains("307")), "{result:?}");
        assert_eq!(FOLLOWED.load(Ordering::SeqCst), 0, "the redirect was followed");
    }
}
