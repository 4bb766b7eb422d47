//! Spike alerts on SNS: one Publish per alert to the ops topic, whose email subscription
//! (the stack's `AlarmEmail`) mails ops. The subject is short ASCII, as SNS requires; the
//! text names category, counts and sample tickets, never a customer.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata};
use omnidesk_domain::analytics::alerts::{AlertError, AlertSender, SpikeAlert};

#[derive(Debug, Clone)]
pub struct SnsAlerts {
    client: Client,
    topic_arn: String,
}

impl SnsAlerts {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into() }
    }
}

/// Codes an operator has to fix (a wrong topic, a missing right): retrying does not help.
const REFUSED: [&str; 4] = ["NotFound", "AuthorizationError", "InvalidParameter", "InvalidParameterValue"];

#[async_trait]
impl AlertSender for SnsAlerts {
    fn name(&self) -> &'static str {
        "sns"
    }

    async fn send(&self, alert: &SpikeAlert) -> Result<(), AlertError> {
        let result = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(alert.subject())
            .message(alert.text())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let message = format!("Publish: {}", DisplayErrorContext(&error));
                match error.as_service_error().and_then(|e| e.code()) {
                    Some(code) if REFUSED.contains(&code) => Err(AlertError::Refused(message)),
                    _ => Err(AlertError::Unavailable(message)),
                }
            }
        }
    }
}
