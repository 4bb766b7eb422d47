//! The `outbound-dispatcher` edge: SQS records of `OutboundJob`s into the domain dispatcher.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use omnidesk_domain::dispatch::{DispatchError, Dispatcher, DispatcherPorts};
use omnidesk_domain::envelope::open;
use omnidesk_domain::outbound::OutboundJob;
use omnidesk_domain::ports::NotifyError;

use std::time::Duration;

use crate::sqs_batch::{RecordError, process_batch_concurrently};

/// Time a batch may take when the caller gives no deadline (the local desk): the function's
/// timeout on AWS (30 s) less a margin to report the batch.
pub const DEFAULT_BATCH_BUDGET: Duration = Duration::from_secs(25);

/// Left of the invocation's remaining time to report the batch and clean up, so a batch
/// never runs into the function timeout (which would retry every record of it).
const REPORT_MARGIN: Duration = Duration::from_secs(2);

/// The time records of a batch may take, from the invocation's deadline (Lambda's
/// `deadline`, milliseconds since the epoch) and the current time in the same unit.
pub fn batch_budget(deadline_ms: u64, now_ms: u64) -> Duration {
    Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(REPORT_MARGIN)
}

pub struct DispatcherHandler {
    dispatcher: Dispatcher,
}

impl DispatcherHandler {
    pub fn new(ports: DispatcherPorts) -> Self {
        Self { dispatcher: Dispatcher::new(ports) }
    }

    /// See [`Dispatcher::with_lease`].
    pub fn with_lease(ports: DispatcherPorts, lease: std::time::Duration) -> Self {
        Self { dispatcher: Dispatcher::new(ports).with_lease(lease) }
    }

    /// Platforms' refusals go to the router on `inbound` (see [`Dispatcher::with_refusals`]).
    pub fn with_refusals(mut self, inbound: std::sync::Arc<dyn omnidesk_domain::ports::Queue>) -> Self {
        self.dispatcher = self.dispatcher.with_refusals(inbound);
        self
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_within(event, DEFAULT_BATCH_BUDGET).await
    }

    /// Delivers the batch's jobs concurrently, each within `budget` (see
    /// [`process_batch_concurrently`]): a chat provider that hangs delays neither the mail in
    /// the same batch nor the batch's report; its own job is retried later.
    pub async fn handle_within(&self, event: SqsEvent, budget: Duration) -> SqsBatchResponse {
        process_batch_concurrently(event, budget, |body| self.handle_record(body)).await
    }

    async fn handle_record(&self, body: String) -> Result<(), RecordError> {
        let job: OutboundJob = open(&body).map_err(|e| RecordError::Poison(e.to_string()))?;
        match self.dispatcher.dispatch(&job).await {
            Ok(_) => Ok(()),
            Err(DispatchError::Notify(NotifyError::Permanent(reason) | NotifyError::Refused(reason))) => {
                Err(RecordError::Poison(reason))
            }
            Err(error) => Err(RecordError::Retry(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;
    use aws_lambda_events::sqs::SqsMessage;
    use jiff::Timestamp;
    use omnidesk_domain::envelope::seal;
    use omnidesk_domain::memory::{ManualClock, MemoryStore, SequentialIds};
    use omnidesk_domain::model::{MessageId, TicketNumber};
    use omnidesk_domain::outbound::{Destination, EmailDestination, OutboundKind};
    use omnidesk_domain::ports::OutboundNotifier;

    use super::*;

    /// A chat provider that hangs; mail goes out at once and notes whether the chat delivery
    /// was still under way when it did.
    #[derive(Default)]
    struct HangingChat {
        chat_in_flight: AtomicBool,
        mail_sent_while_chat_in_flight: AtomicBool,
        mail_sent: AtomicBool,
    }

    #[async_trait]
    impl OutboundNotifier for HangingChat {
        async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
            match job.destination {
                Destination::Chat { .. } => {
                    self.chat_in_flight.store(true, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                }
                _ => {
                    let chat = self.chat_in_flight.load(Ordering::SeqCst);
                    self.mail_sent_while_chat_in_flight.store(chat, Ordering::SeqCst);
                    self.mail_sent.store(true, Ordering::SeqCst);
                    Ok(())
                }
            }
        }
    }

    fn job(id: &str, destination: Destination) -> OutboundJob {
        OutboundJob {
            id: id.into(),
            ticket: TicketNumber(1),
            message: MessageId::new("msg_1"),
            kind: OutboundKind::AgentReply,
            destination,
            text: "Your parcel left the warehouse.".into(),
            created_at: Timestamp::UNIX_EPOCH,
            survey: None,
        }
    }

    fn record(id: &str, job: &OutboundJob) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = Some(id.into());
        record.body = Some(seal(job).body);
        record
    }

    #[tokio::test]
    async fn a_slow_callback_receiver_does_not_delay_an_email_reply_in_the_same_batch() {
        let notifier = Arc::new(HangingChat::default());
        let handler = DispatcherHandler::new(DispatcherPorts {
            idempotency: Arc::new(MemoryStore::new()),
            notifier: notifier.clone(),
            clock: Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH)),
            ids: Arc::new(SequentialIds::default()),
        });
        let chat = job(
            "chat-reply",
            Destination::Chat { inbox: "web".into(), conversation_id: "c-1".into(), visitor_id: None },
        );
        let mail = job(
            "mail-reply",
            Destination::Email(EmailDestination {
                to: "li.wei@example.com".into(),
                cc: Vec::new(),
                from: "support@desk.example".into(),
                reply_to: None,
                subject: "[#1] Parcel".into(),
                message_id: "msg_1@desk.example".into(),
                in_reply_to: None,
                references: Vec::new(),
                language: "en".into(),
            }),
        );
        // The slow one first: handled in order, the mail would wait for it.
        let mut event = SqsEvent::default();
        event.records = vec![record("sqs-chat", &chat), record("sqs-mail", &mail)];

        let response = handler.handle_within(event, Duration::from_millis(300)).await;

        let failed: Vec<&str> =
            response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["sqs-chat"], "only the hanging delivery is retried");
        assert!(notifier.mail_sent.load(Ordering::SeqCst));
        assert!(
            notifier.mail_sent_while_chat_in_flight.load(Ordering::SeqCst),
            "the mail went out while the chat delivery was still hanging"
        );
    }

    #[test]
    fn the_batch_budget_leaves_a_margin_before_the_deadline() {
        assert_eq!(batch_budget(30_000, 0), Duration::from_secs(28));
        assert_eq!(batch_budget(1_000, 0), Duration::ZERO);
        assert_eq!(batch_budget(0, 5_000), Duration::ZERO, "a passed deadline gives no time");
    }
}
