//! Delivery by channel: the dispatcher hands every job to [`ChannelNotifier`], which passes it
//! to the chat callback sender or the mail sender by the job's destination.

use std::sync::Arc;

use async_trait::async_trait;
use omnidesk_domain::email::compose::compose;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::outbound::{Destination, MAX_MAIL_RECIPIENTS, OutboundJob, OutboundKind};
use omnidesk_domain::ports::{
    MailError, Mailer, NotifyError, OutboundNotifier, OutgoingMail, ThreadClaim, ThreadKey, TicketStore,
};

/// Routes each job to the notifier of its channel. A channel the desk does not run is a
/// permanent failure: the job goes to the dead-letter queue, where someone sees it.
pub struct ChannelNotifier {
    chat: Arc<dyn OutboundNotifier>,
    email: Option<Arc<dyn OutboundNotifier>>,
    webhook: Option<Arc<dyn OutboundNotifier>>,
    callbacks: Option<Arc<dyn OutboundNotifier>>,
    social: Option<Arc<dyn OutboundNotifier>>,
}

impl ChannelNotifier {
    pub fn new(chat: Arc<dyn OutboundNotifier>, email: Option<Arc<dyn OutboundNotifier>>) -> Self {
        Self { chat, email, webhook: None, callbacks: None, social: None }
    }

    /// Delivers SLA alerts to on-call webhooks (see [`crate::webhook`]).
    pub fn with_webhook(mut self, webhook: Arc<dyn OutboundNotifier>) -> Self {
        self.webhook = Some(webhook);
        self
    }

    /// Answers on social platforms (see [`crate::social::send`]).
    pub fn with_social(mut self, social: Arc<dyn OutboundNotifier>) -> Self {
        self.social = Some(social);
        self
    }

    /// Starts callback tasks (see [`crate::callback_tasks`]).
    pub fn with_callbacks(mut self, callbacks: Arc<dyn OutboundNotifier>) -> Self {
        self.callbacks = Some(callbacks);
        self
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
            Destination::Webhook { .. } => match &self.webhook {
                Some(webhook) => webhook.deliver(job).await,
                None => Err(NotifyError::Permanent("no webhook sender is configured".into())),
            },
            Destination::Callback(_) => match &self.callbacks {
                Some(callbacks) => callbacks.deliver(job).await,
                None => Err(NotifyError::Permanent("the phone channel is not configured".into())),
            },
            Destination::Social(_) => match &self.social {
                Some(social) => social.deliver(job).await,
                None => Err(NotifyError::Permanent("no social platform is configured".into())),
            },
        }
    }
}

/// Sends email jobs through a [`Mailer`] (SESv2 on AWS, the outbox folder locally).
pub struct MailNotifier {
    mailer: Arc<dyn Mailer>,
    threads: Option<Arc<dyn TicketStore>>,
}

impl MailNotifier {
    pub fn new(mailer: Arc<dyn Mailer>) -> Self {
        Self { mailer, threads: None }
    }

    /// Where a mailer replaces the Message-ID (SES does), records the one recipients see as
    /// a thread key of the ticket, so a reply naming only it still finds the ticket.
    pub fn recording_threads(mut self, tickets: Arc<dyn TicketStore>) -> Self {
        self.threads = Some(tickets);
        self
    }

    /// Best effort: the mail is gone already, and failing now would send it again. The
    /// reply address carries the ticket's token, which threads the answer anyway.
    async fn record_thread(&self, job: &OutboundJob, delivered: String) {
        let Some(tickets) = &self.threads else { return };
        let claim =
            ThreadClaim { key: ThreadKey::email_message(&delivered), ticket: job.ticket, replaces: None };
        if let Err(error) = tickets.claim_thread(&claim).await {
            tracing::warn!(ticket = job.ticket.0, job = %Hashed(&job.id), %error, "mail.thread_not_recorded");
        }
    }
}

#[async_trait]
impl OutboundNotifier for MailNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        let Destination::Email(destination) = &job.destination else {
            return Err(NotifyError::Permanent("not an email job".into()));
        };
        // The desk refuses such a reply where the agent sees it; this guard keeps any other
        // path (an old job, a hand-made one) from ever handing SES more than it takes.
        if destination.over_recipient_limit() {
            return Err(NotifyError::Permanent(format!(
                "{} recipients; a mail goes to at most {MAX_MAIL_RECIPIENTS}",
                destination.recipient_count()
            )));
        }
        let raw = compose(job, destination).map_err(|e| NotifyError::Permanent(e.to_string()))?;
        let mut to = vec![destination.to.clone()];
        to.extend(destination.cc.iter().cloned());
        let mail = OutgoingMail { from: destination.from.clone(), to, raw };
        match self.mailer.send_raw(&mail).await {
            Ok(provider_id) => {
                tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), %provider_id, "mail.sent");
                let delivered = self.mailer.delivered_message_id(&provider_id, &destination.message_id);
                // An alert to a team is not part of the customer's thread: an answer to it
                // must not land on the ticket as if the customer wrote.
                if delivered != destination.message_id && job.kind != OutboundKind::SlaAlert {
                    self.record_thread(job, delivered).await;
                }
                Ok(())
            }
            Err(MailError::Rejected(reason)) => Err(NotifyError::Permanent(reason)),
            Err(MailError::Unavailable(reason)) => Err(NotifyError::Retryable(reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use omnidesk_domain::memory::{MemoryMailer, MemoryStore};
    use omnidesk_domain::model::{MessageId, TicketNumber};
    use omnidesk_domain::outbound::EmailDestination;

    use super::*;

    /// Sends like SES: the Message-ID recipients see is the provider's.
    struct RewritingMailer(MemoryMailer);

    #[async_trait]
    impl Mailer for RewritingMailer {
        async fn send_raw(&self, mail: &OutgoingMail) -> Result<String, MailError> {
            self.0.send_raw(mail).await
        }
        fn delivered_message_id(&self, provider_id: &str, _composed: &str) -> String {
            format!("{provider_id}@email.amazonses.com")
        }
    }

    fn email_job() -> OutboundJob {
        OutboundJob {
            id: "email:m1@example.com:ack".into(),
            ticket: TicketNumber(4),
            message: MessageId::from_token("ack4"),
            kind: OutboundKind::Acknowledgement,
            destination: Destination::Email(EmailDestination {
                to: "li@example.com".into(),
                cc: Vec::new(),
                from: "support@desk.example".into(),
                reply_to: Some("support+t4@desk.example".into()),
                subject: "[#4] Refund".into(),
                message_id: "msg_ack4@desk.example".into(),
                in_reply_to: Some("m1@example.com".into()),
                references: vec!["m1@example.com".into()],
                language: "en".into(),
            }),
            text: "We received your message; your ticket is #4.".into(),
            created_at: Timestamp::from_second(1_790_000_000).unwrap(),
            survey: None,
        }
    }

    #[tokio::test]
    async fn a_message_id_replaced_by_the_provider_becomes_a_thread_key_of_the_ticket() {
        let mailer = RewritingMailer(MemoryMailer::default());
        mailer.0.verify("desk.example");
        let store = Arc::new(MemoryStore::new());
        let notifier = MailNotifier::new(Arc::new(mailer)).recording_threads(store.clone());
        notifier.deliver(&email_job()).await.unwrap();
        let key = ThreadKey::email_message("memory-0000000001@email.amazonses.com");
        assert_eq!(store.thread_ticket(&key).await.unwrap(), Some(TicketNumber(4)));
    }

    #[tokio::test]
    async fn a_mail_keeping_its_message_id_records_nothing_and_refusals_are_permanent() {
        let mailer = Arc::new(MemoryMailer::default());
        mailer.verify("desk.example");
        let store = Arc::new(MemoryStore::new());
        let notifier = MailNotifier::new(mailer.clone()).recording_threads(store.clone());
        notifier.deliver(&email_job()).await.unwrap();
        assert_eq!(mailer.sent().len(), 1);
        let unverified = MailNotifier::new(Arc::new(MemoryMailer::default()));
        assert!(matches!(unverified.deliver(&email_job()).await, Err(NotifyError::Permanent(_))));
        let chat_only = ChannelNotifier::new(Arc::new(unverified), None);
        assert!(matches!(chat_only.deliver(&email_job()).await, Err(NotifyError::Permanent(_))));
    }

    #[tokio::test]
    async fn a_mail_to_more_than_fifty_recipients_never_reaches_the_mailer() {
        let mailer = Arc::new(MemoryMailer::default());
        mailer.verify("desk.example");
        let notifier = MailNotifier::new(mailer.clone());
        let mut job = email_job();
        let Destination::Email(destination) = &mut job.destination else { unreachable!() };
        destination.cc = (0..49).map(|i| format!("c{i}@example.com")).collect();
        notifier.deliver(&job).await.expect("fifty recipients go out");
        let Destination::Email(destination) = &mut job.destination else { unreachable!() };
        destination.cc.push("one.more@example.com".into());
        let refused = notifier.deliver(&job).await;
        assert!(
            matches!(refused, Err(NotifyError::Permanent(ref m)) if m.contains("51 recipients")),
            "{refused:?}"
        );
        assert_eq!(mailer.sent().len(), 1);
    }
}
