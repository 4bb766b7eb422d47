//! Delivery by channel: the dispatcher hands every job to [`ChannelNotifier`], which passes it
//! to the chat callback sender or the mail sender by the job's destination.

use std::sync::Arc;

use async_trait::async_trait;
use omnidesk_domain::email::compose::compose;
use omnidesk_domain::outbound::{Destination, OutboundJob};
use omnidesk_domain::ports::{MailError, Mailer, NotifyError, OutboundNotifier, OutgoingMail};

/// Routes each job to the notifier of its channel. A channel the desk does not run is a
/// permanent failure: the job goes to the dead-letter queue, where someone sees it.
pub struct ChannelNotifier {
    chat: Arc<dyn OutboundNotifier>,
    email: Option<Arc<dyn OutboundNotifier>>,
}

impl ChannelNotifier {
    pub fn new(chat: Arc<dyn OutboundNotifier>, email: Option<Arc<dyn OutboundNotifier>>) -> Self {
        Self { chat, email }
    }
}

#[async_trait]
impl OutboundNotifier for ChannelNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        match &job.destination {
            Destination::Chat { .. } => self.chat.deliver(job).await,
            Destination::Email(_) => match &self.email {
                Some(email) => email.deliver(job).await,
                None => Err(NotifyError::Permanent("the email channel is not configured".into())),
            },
        }
    }
}

/// Sends email jobs through a [`Mailer`] (SESv2 on AWS, the outbox folder locally).
pub struct MailNotifier {
    mailer: Arc<dyn Mailer>,
}

impl MailNotifier {
    pub fn new(mailer: Arc<dyn Mailer>) -> Self {
        Self { mailer }
    }
}

#[async_trait]
impl OutboundNotifier for MailNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        let Destination::Email(destination) = &job.destination else {
            return Err(NotifyError::Permanent("not an email job".into()));
        };
        let raw = compose(job, destination).map_err(|e| NotifyError::Permanent(e.to_string()))?;
        let mut to = vec![destination.to.clone()];
        to.extend(destination.cc.iter().cloned());
        let mail = OutgoingMail { from: destination.from.clone(), to, raw };
        match self.mailer.send_raw(&mail).await {
            Ok(provider_id) => {
                tracing::info!(ticket = job.ticket.0, job = %job.id, %provider_id, "mail.sent");
                Ok(())
            }
            Err(MailError::Rejected(reason)) => Err(NotifyError::Permanent(reason)),
            Err(MailError::Unavailable(reason)) => Err(NotifyError::Retryable(reason)),
        }
    }
}
