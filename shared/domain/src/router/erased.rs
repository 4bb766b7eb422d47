//! Inbound messages for erased customers. A message received (by its channel function) before
//! its thread's ticket was erased, that reaches the router only afterwards — it waited in the
//! inbound queue, or in its dead-letter queue until a redrive — is dropped: routing it would
//! bring back what the customer asked to have erased. A message received after the erasure is
//! a new contact and opens a ticket of its own (see `TicketRouter::plan`).
//!
//! The check looks the thread up by its keys before the customer is resolved, so a dropped
//! message never re-creates the person; that is one read per key lookup more per message,
//! a fraction of a cent per thousand tickets beside the writes routing makes anyway.

use crate::inbound::InboundMessage;
use crate::model::{MessageId, Ticket};
use crate::ports::{StoreError, TicketStore};

use super::RouteOutcome;
use super::threading::find_by_keys;

/// The outcome of a dropped message, if `inbound` continues an erased ticket and was received
/// before the erasure.
pub(super) async fn received_before_erasure(
    tickets: &dyn TicketStore,
    inbound: &InboundMessage,
) -> Result<Option<RouteOutcome>, StoreError> {
    let Some(found) = find_by_keys(tickets, inbound).await? else {
        return Ok(None);
    };
    Ok(dropped(&found.ticket, inbound))
}

/// The outcome of a dropped message, if `ticket` (the one `inbound` continues) was erased
/// after `inbound` was received.
pub(super) fn dropped(ticket: &Ticket, inbound: &InboundMessage) -> Option<RouteOutcome> {
    match ticket.erased_at {
        Some(erased_at) if inbound.received_at <= erased_at => {
            tracing::info!(ticket = ticket.number.0, key = %inbound.idempotency_key, "router.dropped_erased");
            Some(RouteOutcome {
                ticket: ticket.number,
                message: MessageId::new("dropped"),
                customer: ticket.requester.clone(),
                opened: false,
                follow_up_of: None,
                outbound: Vec::new(),
                duplicate: false,
                dropped: true,
            })
        }
        _ => None,
    }
}
