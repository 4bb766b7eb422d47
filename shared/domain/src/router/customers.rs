//! Identity resolution: find the customer behind any identity a message carries, or create
//! one. Identities nobody has yet are claimed for the customer found, so the next message
//! from any of them lands on the same person. Only identities the channel vouches for take
//! part (see [`InboundMessage::identities`]); unverified contact details are kept on the
//! customer as hints, which find no one.
//!
//! A message whose identities are all unclaimed, one of them erased after the message was
//! received, has no customer: it waited somewhere (a queue, a dead-letter queue, a forum
//! question) while its sender was erased, and making a customer for it would bring the person
//! back. A message received after the erasure is a new contact.

use jiff::Timestamp;

use crate::inbound::InboundMessage;
use crate::model::{Customer, CustomerId, Identity};
use crate::ports::{CustomerStore, IdSource, StoreError};

/// Races between two first messages of a new customer resolve within a retry or two.
const MAX_RESOLVE_ATTEMPTS: usize = 4;

/// The customer behind `inbound`, found or made; `None` when its sender was erased after it
/// was received (the message is to be dropped).
pub async fn resolve_customer(
    customers: &dyn CustomerStore,
    ids: &dyn IdSource,
    inbound: &InboundMessage,
    now: Timestamp,
) -> Result<Option<CustomerId>, StoreError> {
    let identities = inbound.identities();
    let hints = inbound.hints();
    for _ in 0..MAX_RESOLVE_ATTEMPTS {
        let mut found: Option<CustomerId> = None;
        let mut unclaimed: Vec<&Identity> = Vec::new();
        for identity in &identities {
            match customers.customer_by_identity(identity).await? {
                Some(id) if found.is_none() => found = Some(id),
                Some(_) => {}
                None => unclaimed.push(identity),
            }
        }
        let Some(id) = found else {
            if erased_since_received(customers, &unclaimed, inbound).await? {
                return Ok(None);
            }
            let mut customer = Customer::new(
                CustomerId::from_token(&ids.token()),
                inbound.sender.name.clone(),
                identities.clone(),
                now,
            );
            customer.add_unverified(&hints);
            match customers.create(&customer).await {
                Ok(()) => {
                    tracing::info!(customer = %customer.id, "customer.created");
                    return Ok(Some(customer.id));
                }
                // Someone claimed one of these identities meanwhile: look again.
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other),
            }
        };
        for identity in unclaimed {
            match customers.claim_identity(&id, identity, now).await {
                Ok(()) => {}
                // Another customer holds it: two records of one person, for an agent to merge.
                Err(StoreError::Conflict(_)) => {
                    tracing::info!(customer = %id, "customer.identity_held_by_another");
                }
                Err(other) => return Err(other),
            }
        }
        keep_hints(customers, &id, &hints, now).await?;
        return Ok(Some(id));
    }
    Err(StoreError::Conflict("identity resolution kept racing".into()))
}

/// Whether one of `identities` (none claimed) was erased at or after `inbound` was received.
/// Read only when a message would make a new customer: one read per new customer.
async fn erased_since_received(
    customers: &dyn CustomerStore,
    identities: &[&Identity],
    inbound: &InboundMessage,
) -> Result<bool, StoreError> {
    for identity in identities {
        if customers.erased_identity(identity).await?.is_some_and(|erased| inbound.received_at <= erased) {
            tracing::info!(key = %crate::log_id::Hashed(&inbound.idempotency_key), "router.dropped_erased_sender");
            return Ok(true);
        }
    }
    Ok(false)
}

/// Adds hints the customer does not hold yet. Most messages bring none new, and those cost
/// one read; a lost race re-reads, and after a few tries the hints wait for the next message.
async fn keep_hints(
    customers: &dyn CustomerStore,
    id: &CustomerId,
    hints: &[Identity],
    now: Timestamp,
) -> Result<(), StoreError> {
    if hints.is_empty() {
        return Ok(());
    }
    for _ in 0..MAX_RESOLVE_ATTEMPTS {
        let Some(mut customer) = customers.customer(id).await? else {
            return Ok(());
        };
        // An erased customer keeps no personal data, hints included.
        if customer.erased_at.is_some() || !customer.add_unverified(hints) {
            return Ok(());
        }
        let expected = customer.version;
        customer.version += 1;
        customer.updated_at = now;
        match customers.update(&customer, expected).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    tracing::info!(customer = %id, "customer.hints_not_kept");
    Ok(())
}
