//! The `survey-sender` edge: an EventBridge schedule event runs one pass over the due
//! surveys ([`omnidesk_domain::survey::SurveySender`]). Like the SLA sweeper, the event
//! carries nothing the run needs: time comes from the clock and the start from the watermark,
//! so a late, repeated or missed invocation changes only how much the next run catches up.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use omnidesk_domain::survey::sender::SendError;
use omnidesk_domain::survey::{SendReport, SenderPorts, SurveySender};

#[derive(Debug, thiserror::Error)]
pub enum SendRunError {
    #[error(transparent)]
    Send(#[from] SendError),
    /// Some surveys failed and wait for the next run; an error, so the Errors alarm sees a
    /// sender that keeps failing.
    #[error("{} surveys or buckets failed and are left for the next run", .0.failures)]
    Partial(SendReport),
}

/// The sender the configuration describes: `None` without `[survey]` or before its key is
/// resolved. Mail goes out from the `[email]` mailbox; without it, mail surveys are skipped.
pub fn sender(config: &crate::config::DeskConfig, ports: SenderPorts) -> Option<SurveySender> {
    let survey = config.survey.as_ref()?;
    let email = config.email.as_ref().map(|e| e.rules());
    Some(SurveySender::new(ports, Arc::new(survey.rules()), survey.keys()?, &survey.base_url, email))
}

pub struct SenderHandler {
    sender: SurveySender,
}

impl SenderHandler {
    pub fn new(sender: SurveySender) -> Self {
        Self { sender }
    }

    pub fn sender(&self) -> &SurveySender {
        &self.sender
    }

    pub async fn handle(&self, event: EventBridgeEvent) -> Result<SendReport, SendRunError> {
        tracing::debug!(scheduled = ?event.time, "survey.run_invoked");
        let report = self.sender.run().await?;
        if report.failures > 0 {
            return Err(SendRunError::Partial(report));
        }
        Ok(report)
    }
}
