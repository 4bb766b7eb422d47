//! Mail the desk could not read (not a message, no usable From) still becomes a ticket, so
//! nothing handed to the desk is lost to a parser: tagged [`UNREADABLE_TAG`], with the raw
//! mail attached for an agent to open.
//!
//! Nobody can say who wrote such a mail, so it gets a placeholder customer of its own, with
//! no identity: nothing links to it and nothing is sent to it. Once an agent has read the
//! mail they merge the placeholder into the right person. Its id comes from the message's
//! idempotency key (a hash of the raw mail), so a redelivery finds the same placeholder
//! instead of leaving another behind.

use jiff::Timestamp;

use super::TicketRouter;
use crate::inbound::InboundMessage;
use crate::model::{Customer, CustomerId};
use crate::ports::StoreError;

/// Tag on a ticket opened for a mail the desk could not read.
pub const UNREADABLE_TAG: &str = "unreadable";

/// Characters of the key's hash in a placeholder's id: plenty against collisions.
const PLACEHOLDER_ID_CHARS: usize = 32;

impl TicketRouter {
    pub(super) async fn placeholder_customer(
        &self,
        inbound: &InboundMessage,
        now: Timestamp,
    ) -> Result<CustomerId, StoreError> {
        let hash: String = inbound
            .idempotency_key
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(PLACEHOLDER_ID_CHARS)
            .collect();
        let id = CustomerId::from_token(&format!("unreadable_{hash}"));
        if self.ports.customers.customer(&id).await?.is_some() {
            return Ok(id);
        }
        match self.ports.customers.create(&Customer::new(id.clone(), None, Vec::new(), now)).await {
            // A concurrent delivery of the same mail made it first: the same placeholder.
            Ok(()) | Err(StoreError::Conflict(_)) => Ok(id),
            Err(other) => Err(other),
        }
    }
}
