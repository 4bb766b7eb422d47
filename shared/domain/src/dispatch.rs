//! The outbound dispatcher: delivers each outbound job once. A lease on the job's idempotency
//! key keeps two concurrent deliveries of the same job from both sending; a finished job is
//! remembered, so a redelivered queue message sends nothing.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::envelope::seal;
use crate::log_id::Hashed;
use crate::outbound::{DeliveryRefused, MAX_REFUSAL_CHARS, OutboundJob};
use crate::ports::{
    Clock, IdSource, Idempotency, IdempotencyRecord, IdempotencyStore, NotifyError, OutboundNotifier, Queue,
    QueueError, StoreError,
};
use crate::router::IDEMPOTENCY_TTL;
use crate::system::later;

/// Must outlast one delivery with all its in-process retries.
pub const DELIVERY_LEASE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchOutcome {
    Delivered,
    /// Delivered before; nothing sent.
    AlreadyDelivered,
    /// Its customer was erased while it waited in a queue or dead-letter queue; nothing sent.
    DroppedErased,
    /// The platform refused it for good; its reason went to the router for the ticket.
    Refused,
}

/// What erasure stores under a job's dispatch key ([`OutboundJob::dispatch_key`]): the job
/// counts as done, so the lease the dispatcher takes anyway finds it and sends nothing. No
/// read is added to delivery, and it reaches jobs in the dead-letter queue when redriven.
pub fn erasure_tombstone(erased_at: Timestamp) -> serde_json::Value {
    serde_json::json!({ "dropped": "customer_erased", "erased_at": erased_at })
}

fn is_erasure_tombstone(result: &serde_json::Value) -> bool {
    result.get("dropped").and_then(|v| v.as_str()) == Some("customer_erased")
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("another delivery of this job is under way")]
    InFlight,
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

#[derive(Clone)]
pub struct DispatcherPorts {
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub notifier: Arc<dyn OutboundNotifier>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

pub struct Dispatcher {
    ports: DispatcherPorts,
    lease: Duration,
    /// The router's queue, for platforms' refusals ([`DeliveryRefused`]); without it a
    /// refusal is dead-lettered like any permanent failure.
    refusals: Option<Arc<dyn Queue>>,
}

impl Dispatcher {
    pub fn new(ports: DispatcherPorts) -> Self {
        Self { ports, lease: DELIVERY_LEASE, refusals: None }
    }

    /// Sends platforms' refusals to `inbound`, where the router records them on the ticket.
    pub fn with_refusals(mut self, inbound: Arc<dyn Queue>) -> Self {
        self.refusals = Some(inbound);
        self
    }

    /// A shorter lease, for queues whose visibility timeout is shorter than
    /// [`DELIVERY_LEASE`]: a lease must run out before the job's next receive, or a job
    /// whose completion was lost waits out every receive and is dead-lettered.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.min(DELIVERY_LEASE);
        self
    }

    pub async fn dispatch(&self, job: &OutboundJob) -> Result<DispatchOutcome, DispatchError> {
        let key = OutboundJob::dispatch_key(&job.id);
        let now = self.ports.clock.now();
        let owner = self.ports.ids.token();
        match self.ports.idempotency.begin(&key, &owner, now, self.lease).await? {
            Idempotency::Done(result) if is_erasure_tombstone(&result) => {
                tracing::info!(ticket = job.ticket.0, job = %job.id, "dispatch.dropped_customer_erased");
                return Ok(DispatchOutcome::DroppedErased);
            }
            Idempotency::Done(_) => {
                tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), "dispatch.duplicate");
                return Ok(DispatchOutcome::AlreadyDelivered);
            }
            Idempotency::InFlight => return Err(DispatchError::InFlight),
            Idempotency::Started => {}
        }
        let result = self.ports.notifier.deliver(job).await;
        if let (Err(NotifyError::Refused(reason)), Some(inbound)) = (&result, &self.refusals) {
            return self.refused(job, key, reason, &**inbound).await;
        }
        if let Err(error) = result {
            if let Err(release) = self.ports.idempotency.release(&key).await {
                // The lease runs out on its own; the retry only waits longer.
                tracing::warn!(job = %Hashed(&job.id), error = %release, "dispatch.release_failed");
            }
            tracing::warn!(ticket = job.ticket.0, job = %Hashed(&job.id), %error, "dispatch.failed");
            return Err(error.into());
        }
        let delivered_at = self.ports.clock.now();
        self.ports
            .idempotency
            .complete(IdempotencyRecord {
                key,
                result: serde_json::json!({ "delivered_at": delivered_at }),
                expires_at: later(delivered_at, IDEMPOTENCY_TTL),
            })
            .await?;
        // From the job's creation (for an acknowledgement: the router's commit) to delivery;
        // the dashboard's acknowledgement latency.
        let latency_ms =
            i64::try_from(delivered_at.duration_since(job.created_at).as_millis().max(0)).unwrap_or(i64::MAX);
        tracing::info!(
            ticket = job.ticket.0,
            job = %Hashed(&job.id),
            kind = ?job.kind,
            latency_ms,
            "dispatch.delivered"
        );
        Ok(DispatchOutcome::Delivered)
    }

    /// Hands the refusal to the router (the ticket shows it), then finishes the job: sending
    /// it again would only be refused again. A crash in between refuses it once more, and
    /// the router records each job's refusal once.
    async fn refused(
        &self,
        job: &OutboundJob,
        key: String,
        reason: &str,
        inbound: &dyn Queue,
    ) -> Result<DispatchOutcome, DispatchError> {
        let at = self.ports.clock.now();
        let refusal = DeliveryRefused {
            job: job.id.clone(),
            ticket: job.ticket,
            message: job.message.clone(),
            reason: reason.chars().take(MAX_REFUSAL_CHARS).collect(),
            at,
        };
        inbound.send(seal(&refusal)).await?;
        self.ports
            .idempotency
            .complete(IdempotencyRecord {
                key,
                result: serde_json::json!({ "refused_at": at }),
                expires_at: later(at, IDEMPOTENCY_TTL),
            })
            .await?;
        tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), "dispatch.refused");
        Ok(DispatchOutcome::Refused)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::memory::{ManualClock, MemoryStore, RecordingNotifier, SequentialIds};
    use crate::model::{MessageId, TicketNumber};
    use crate::outbound::{Destination, OutboundKind};

    fn setup() -> (Dispatcher, Arc<RecordingNotifier>, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_790_000_000).unwrap()));
        let notifier = Arc::new(RecordingNotifier::default());
        let ports = DispatcherPorts {
            idempotency: Arc::new(MemoryStore::new()),
            notifier: notifier.clone(),
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
        };
        (Dispatcher::new(ports), notifier, clock)
    }

    fn job() -> OutboundJob {
        OutboundJob {
            id: "chat:web:m1:ack".into(),
            ticket: TicketNumber(1),
            message: MessageId::new("msg_1"),
            kind: OutboundKind::Acknowledgement,
            destination: Destination::Chat {
                inbox: "web".into(),
                conversation_id: "c1".into(),
                visitor_id: None,
            },
            text: "We received your message; your ticket is #1.".into(),
            created_at: Timestamp::from_second(1_790_000_000).unwrap(),
            survey: None,
        }
    }

    #[tokio::test]
    async fn a_job_delivered_twice_is_sent_once() {
        let (dispatcher, notifier, _) = setup();
        assert_eq!(dispatcher.dispatch(&job()).await.unwrap(), DispatchOutcome::Delivered);
        assert_eq!(dispatcher.dispatch(&job()).await.unwrap(), DispatchOutcome::AlreadyDelivered);
        assert_eq!(notifier.delivered().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_delivery_releases_its_lease_so_the_retry_sends() {
        let (dispatcher, notifier, _) = setup();
        notifier.set_down(true);
        assert!(matches!(
            dispatcher.dispatch(&job()).await,
            Err(DispatchError::Notify(NotifyError::Retryable(_)))
        ));
        notifier.set_down(false);
        assert_eq!(dispatcher.dispatch(&job()).await.unwrap(), DispatchOutcome::Delivered);
        assert_eq!(notifier.delivered().len(), 1);
    }

    #[tokio::test]
    async fn a_held_lease_keeps_a_concurrent_delivery_out_until_it_expires() {
        let (dispatcher, notifier, clock) = setup();
        let key = format!("out:{}", job().id);
        dispatcher
            .ports
            .idempotency
            .begin(&key, "another-worker", clock.now(), DELIVERY_LEASE)
            .await
            .unwrap();
        assert!(matches!(dispatcher.dispatch(&job()).await, Err(DispatchError::InFlight)));
        clock.advance(DELIVERY_LEASE);
        assert_eq!(dispatcher.dispatch(&job()).await.unwrap(), DispatchOutcome::Delivered);
        assert_eq!(notifier.attempts(), 1);
    }
}
