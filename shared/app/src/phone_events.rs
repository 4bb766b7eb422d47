//! The `phone-events` edge: one Lambda with two triggers. Amazon Connect's contact flow
//! invokes it synchronously and gets the caller map ([`ContactFlow`]); EventBridge delivers
//! "Amazon Connect Contact Event"s, each queued for the router as one `InboundMessage`, like
//! every other channel. The function never writes tickets.

use std::sync::Arc;

use omnidesk_domain::envelope::seal;
use omnidesk_domain::phone::events::ContactEventEnvelope;
use omnidesk_domain::phone::flow::{ContactFlow, FlowAnswer};
use omnidesk_domain::phone::ports::CallNotes;
use omnidesk_domain::ports::{Clock, Queue, QueueError, StoreError};
use serde_json::{Value, json};

use crate::config::DeskConfig;

#[derive(Debug, thiserror::Error)]
pub enum PhoneEventError {
    /// The contact's note could not be read: EventBridge retries the invocation.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What one invocation was.
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneAnswer {
    /// A contact flow's STRING_MAP.
    Flow(FlowAnswer),
    /// A contact event queued for the router.
    Queued { key: String },
    /// Accepted and ignored (another channel, an outbound call, not a contact event).
    Skipped(&'static str),
}

impl PhoneAnswer {
    /// The invocation's JSON result: the flat map for Connect, a small report otherwise.
    pub fn to_json(&self) -> Value {
        match self {
            PhoneAnswer::Flow(map) => json!(map),
            PhoneAnswer::Queued { .. } => json!({ "queued": true }),
            PhoneAnswer::Skipped(reason) => json!({ "skipped": reason }),
        }
    }
}

pub struct PhoneEvents {
    flow: ContactFlow,
    notes: Arc<dyn CallNotes>,
    inbound: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
}

impl PhoneEvents {
    pub fn new(
        config: &DeskConfig,
        flow: ContactFlow,
        notes: Arc<dyn CallNotes>,
        inbound: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut flow = flow;
        if let Ok(Some(routing)) = config.routing() {
            flow = flow.with_routing(routing);
        }
        if let Ok(Some(sla)) = config.sla_policies() {
            flow = flow.with_sla(sla);
        }
        Self { flow, notes, inbound, clock }
    }

    /// One invocation, of either trigger. A contact flow always gets its map; a contact
    /// event fails only when its note cannot be read or the queue refuses it (retried).
    pub async fn handle(&self, event: &Value) -> Result<PhoneAnswer, PhoneEventError> {
        if event.get("Details").is_some() {
            return Ok(PhoneAnswer::Flow(self.flow.answer(event).await));
        }
        self.contact_event(event).await
    }

    /// The contact-flow side alone (the local desk answers "as if at" an instant with it).
    pub fn flow(&self) -> &ContactFlow {
        &self.flow
    }

    pub async fn contact_event(&self, event: &Value) -> Result<PhoneAnswer, PhoneEventError> {
        let envelope = match ContactEventEnvelope::parse(event) {
            Ok(envelope) => envelope,
            Err(skipped) => {
                tracing::info!(reason = skipped.as_str(), "phone.event_skipped");
                return Ok(PhoneAnswer::Skipped(skipped.as_str()));
            }
        };
        let contact = envelope.detail.contact_id.clone();
        let now = self.clock.now();
        let note = self.notes.note(&contact, now).await?;
        let inbound = match envelope.to_inbound(note.as_ref(), now) {
            Ok(inbound) => inbound,
            Err(skipped) => {
                tracing::info!(contact = %contact, reason = skipped.as_str(), "phone.event_skipped");
                return Ok(PhoneAnswer::Skipped(skipped.as_str()));
            }
        };
        self.inbound.send(seal(&inbound)).await?;
        tracing::info!(contact = %contact, event = %envelope.detail.event_type, "phone.event_queued");
        Ok(PhoneAnswer::Queued { key: inbound.idempotency_key })
    }
}
