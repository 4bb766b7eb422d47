//! Bounces: a delivery status notification makes no ticket. The addresses it reports as
//! failed are marked bouncing on their customers, and the desk sends them nothing automatic
//! from then on.

use jiff::Timestamp;

use super::{RouteError, TicketRouter};
use crate::inbound::{EmailSource, InboundMessage, Source};
use crate::model::Identity;
use crate::ports::{CustomerStore, StoreError};

/// Concurrent changes to one customer settle within a few re-reads.
const MAX_UPDATE_ATTEMPTS: usize = 4;

impl TicketRouter {
    /// Marks the addresses a bounce reports; returns how many customers changed. Marking is
    /// idempotent, so a redelivered bounce changes nothing more.
    pub async fn record_bounce(&self, inbound: &InboundMessage) -> Result<usize, RouteError> {
        let Source::Email(EmailSource { bounce: Some(addresses), .. }) = &inbound.source else {
            return Ok(0);
        };
        let now = self.ports.clock.now();
        let mut changed = 0;
        for address in addresses {
            if mark_bouncing(&*self.ports.customers, address, now).await? {
                changed += 1;
            }
        }
        tracing::info!(key = %crate::log_id::Hashed(&inbound.idempotency_key), addresses = addresses.len(), changed, "router.bounce");
        Ok(changed)
    }
}

/// `true` if a customer had `address` and it was not marked yet.
async fn mark_bouncing(
    customers: &dyn CustomerStore,
    address: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Ok(identity) = Identity::email(address) else {
        return Ok(false);
    };
    let Identity::Email { address } = &identity else {
        return Ok(false);
    };
    for _ in 0..MAX_UPDATE_ATTEMPTS {
        let Some(id) = customers.customer_by_identity(&identity).await? else {
            return Ok(false);
        };
        let Some(mut customer) = customers.customer(&id).await? else {
            return Ok(false);
        };
        if customer.is_bouncing(address) {
            return Ok(false);
        }
        let expected = customer.version;
        customer.bouncing.insert(address.clone());
        customer.version += 1;
        customer.updated_at = now;
        match customers.update(&customer, expected).await {
            Ok(()) => return Ok(true),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Conflict("customer kept changing while marking a bounce".into()))
}
