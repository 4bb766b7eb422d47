//! SLA alerts to an on-call webhook: one JSON POST per job, named by the job id in
//! `x-omnidesk-delivery` so the receiver can drop a repeat. A failure goes back to the queue
//! (retried, then dead-lettered and alarmed) like any other outbound job.

use std::sync::Arc;

use async_trait::async_trait;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::outbound::{Destination, OutboundJob, OutboundKind};
use omnidesk_domain::ports::{Clock, NotifyError, OutboundNotifier};
use serde::{Deserialize, Serialize};

use crate::chat_callback::{DELIVERY_HEADER, classify};
use crate::config::DeliveryConfig;

/// What the on-call endpoint receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAlert {
    pub delivery_id: String,
    /// `#N`.
    pub ticket: String,
    pub kind: OutboundKind,
    pub text: String,
    pub sent_at: jiff::Timestamp,
}

pub struct WebhookNotifier {
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl WebhookNotifier {
    pub fn new(clock: Arc<dyn Clock>, policy: &DeliveryConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout())
            .connect_timeout(policy.timeout())
            .user_agent(concat!("omnidesk/", env!("CARGO_PKG_VERSION")))
            // A redirect could send signed customer data to a host nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, clock })
    }
}

#[async_trait]
impl OutboundNotifier for WebhookNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        let Destination::Webhook { url } = &job.destination else {
            return Err(NotifyError::Permanent("not a webhook job".into()));
        };
        let alert = WebhookAlert {
            delivery_id: job.id.clone(),
            ticket: job.ticket.to_string(),
            kind: job.kind,
            text: job.text.clone(),
            sent_at: self.clock.now(),
        };
        let response = self
            .http
            .post(url)
            .header(DELIVERY_HEADER, &job.id)
            .json(&alert)
            .send()
            .await
            // URLs may carry tokens: keep them out of errors and logs.
            .map_err(|e| NotifyError::Retryable(format!("webhook unreachable: {}", e.without_url())))?;
        classify(response.status())?;
        tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), "webhook.delivered");
        Ok(())
    }
}
