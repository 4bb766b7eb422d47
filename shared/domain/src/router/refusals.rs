//! A platform's refusal of a reply (its window closed, the topic closed): recorded on the
//! ticket as an internal note with the platform's reason, where the agent sees it, and the
//! ticket goes back to open, since the customer never got the answer. Once per refused job.

use super::{MAX_COMMIT_ATTEMPTS, RouteError, TicketRouter};
use crate::log_id::Hashed;
use crate::model::{
    Actor, AuthorKind, ChannelRef, Direction, Message, MessageFlag, MessageId, Status, Visibility,
};
use crate::outbound::DeliveryRefused;
use crate::ports::{IdempotencyRecord, StoreError, TicketCommit};
use crate::system::later;

impl TicketRouter {
    /// Records `refusal` on its ticket; `false` when there was nothing to record (recorded
    /// before, or the ticket is gone).
    pub async fn record_refusal(&self, refusal: &DeliveryRefused) -> Result<bool, RouteError> {
        let key = format!("refused:{}", refusal.job);
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let now = self.ports.clock.now();
            if self.ports.idempotency.result(&key, now).await?.is_some() {
                return Ok(false);
            }
            let Some(mut ticket) = self.ports.tickets.ticket(refusal.ticket).await? else {
                return Ok(false);
            };
            if ticket.erased_at.is_some() {
                return Ok(false);
            }
            let expected_version = Some(ticket.version);
            let note = Message {
                id: MessageId::from_token(&self.ports.ids.token()),
                ticket: ticket.number,
                direction: Direction::Outbound,
                author: AuthorKind::System,
                author_id: None,
                visibility: Visibility::Internal,
                text: format!("Not delivered ({}): {}", refusal.message, refusal.reason),
                attachments: Vec::new(),
                channel_ref: ChannelRef::None,
                created_at: now,
                flags: [MessageFlag::DeliveryRefused].into(),
            };
            let mut events = ticket.add_message(&Actor::System, &note, now)?;
            // The customer has no answer: the ticket waits on the desk again.
            if matches!(ticket.status, Status::Pending | Status::Solved) {
                events.extend(ticket.set_status(&Actor::System, Status::Open, now)?);
            }
            if let Some(sla) = &self.sla {
                sla.apply(&mut ticket, &events, None);
            }
            crate::survey::follow(&mut ticket, &events);
            let commit = TicketCommit {
                ticket,
                expected_version,
                messages: vec![note],
                events,
                thread_claims: Vec::new(),
                idempotency: Some(IdempotencyRecord {
                    key: key.clone(),
                    result: serde_json::json!({ "recorded_at": now }),
                    expires_at: later(now, super::IDEMPOTENCY_TTL),
                }),
            };
            match self.ports.tickets.commit(commit).await {
                Ok(()) => {
                    tracing::info!(ticket = refusal.ticket.0, job = %Hashed(&refusal.job), "router.delivery_refused");
                    return Ok(true);
                }
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }
}
