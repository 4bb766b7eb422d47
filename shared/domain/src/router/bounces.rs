//! Bounces: a delivery status notification makes no ticket. A report the desk can tie to a
//! mail it sent marks the failed addresses of that ticket's people as bouncing, and the desk
//! sends them nothing automatic for a while ([`crate::model::BOUNCE_MARK_TTL`]); mail from the address
//! ends the mark sooner.
//!
//! Anyone can write a DSN, so one is believed only when it concerns a ticket's mail: the
//! original Message-ID it encloses is one the desk made (under its domain, and pointing at a
//! ticket), or it came to a ticket's reply-token address. Even then it marks only addresses
//! of that ticket's requester or cc list, so a forged report naming a ticket cannot silence
//! a stranger.

use jiff::Timestamp;

use super::{RouteError, TicketRouter};
use crate::inbound::{EmailSource, InboundMessage, Source};
use crate::model::{Customer, CustomerId, Identity, Ticket};
use crate::ports::{CustomerStore, StoreError, ThreadKey};

/// Concurrent changes to one customer settle within a few re-reads.
const MAX_UPDATE_ATTEMPTS: usize = 4;

impl TicketRouter {
    /// Marks the addresses a believable bounce reports; returns how many customers changed.
    /// Marking is idempotent, so a redelivered bounce changes nothing more.
    pub async fn record_bounce(&self, inbound: &InboundMessage) -> Result<usize, RouteError> {
        let Source::Email(email @ EmailSource { bounce: Some(addresses), .. }) = &inbound.source else {
            return Ok(0);
        };
        let Some(ticket) = self.bounced_ticket(email).await? else {
            tracing::info!(key = %inbound.idempotency_key, addresses = addresses.len(), "router.bounce_unverified");
            return Ok(0);
        };
        let now = self.ports.clock.now();
        let mut changed = 0;
        for address in addresses {
            if mark_bouncing(&*self.ports.customers, &ticket, address, now).await? {
                changed += 1;
            }
        }
        tracing::info!(
            key = %crate::log_id::Hashed(&inbound.idempotency_key),
            ticket = ticket.number.0,
            addresses = addresses.len(),
            changed,
            "router.bounce"
        );
        Ok(changed)
    }

    /// The ticket whose mail bounced, if the report shows one.
    async fn bounced_ticket(&self, email: &EmailSource) -> Result<Option<Ticket>, RouteError> {
        let suffix = format!("@{}", self.email.domain.to_lowercase());
        let ours = email.bounce_refers_to.iter().filter(|id| id.to_lowercase().ends_with(&suffix));
        let mut keys: Vec<ThreadKey> = ours.map(|id| ThreadKey::email_message(id)).collect();
        keys.extend(email.reply_token.as_deref().map(ThreadKey::email_token));
        for key in keys {
            if let Some(number) = self.ports.tickets.thread_ticket(&key).await?
                && let Some(ticket) = self.ports.tickets.ticket(number).await?
            {
                return Ok(Some(ticket));
            }
        }
        Ok(None)
    }

    /// Mail from an address shows it receives mail again: its bounce mark goes.
    pub(super) async fn clear_bounce_mark(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
    ) -> Result<(), RouteError> {
        let Some(address) = inbound.sender.email.as_deref().map(str::to_lowercase) else {
            return Ok(());
        };
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let Some(mut record) = self.ports.customers.customer(customer).await? else {
                return Ok(());
            };
            if record.bouncing.remove(&address).is_none() {
                return Ok(());
            }
            let expected = record.version;
            record.version += 1;
            record.updated_at = self.ports.clock.now();
            match self.ports.customers.update(&record, expected).await {
                Ok(()) => {
                    tracing::info!(customer = %customer, "router.bounce_cleared");
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::Conflict("customer kept changing while clearing a bounce".into()).into())
    }
}

/// `true` if `address` belongs to the ticket's requester or cc list, and its customer was not
/// marked yet (or the mark had expired).
async fn mark_bouncing(
    customers: &dyn CustomerStore,
    ticket: &Ticket,
    address: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Ok(identity @ Identity::Email { .. }) = Identity::email(address) else {
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
        if !on_ticket(ticket, &customer, address) || customer.is_bouncing(address, now) {
            return Ok(false);
        }
        let expected = customer.version;
        customer.bouncing.insert(address.clone(), now);
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

/// The ticket's mail went to its requester and its cc list, and to nobody else.
fn on_ticket(ticket: &Ticket, customer: &Customer, address: &str) -> bool {
    ticket.requester == customer.id || ticket.cc.iter().any(|cc| cc == address)
}
