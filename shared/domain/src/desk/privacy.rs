//! A customer's data rights: export everything the desk holds about them, and erase it.
//!
//! Erasure removes the person, not the facts: the customer record loses name and identities
//! (their claims are given up, so the addresses are nowhere in the table), every message of
//! their tickets loses its text, attachments and raw mail, the tickets lose subject and
//! copied addresses, and the stored outcomes of their inbound messages lose the addresses
//! they held. Numbers, statuses, times and events stay, so metrics do not change. Both
//! actions are audited on the customer's trail, which holds no personal data itself.

use serde::Serialize;

use super::{AgentDesk, DeskError, Staff};
use crate::inbound::InboundMessage;
use crate::model::{ChannelRef, Customer, CustomerId, Identity, Message, Ticket, TicketEvent};
use crate::ports::{AuditEntry, IdempotencyRecord};
use crate::router::{IDEMPOTENCY_TTL, RouteOutcome};
use crate::system::later;

/// What erased text reads as.
pub const ERASED_TEXT: &str = "[erased]";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketExport {
    pub ticket: Ticket,
    pub messages: Vec<Message>,
    pub events: Vec<TicketEvent>,
}

/// Everything about one customer, as JSON for a data-access request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerExport {
    pub customer: Customer,
    pub tickets: Vec<TicketExport>,
    pub audit: Vec<AuditEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub customer: CustomerId,
    pub tickets: usize,
    pub messages: usize,
    pub blobs_deleted: usize,
}

impl AgentDesk {
    pub async fn export(&self, staff: &Staff, id: &CustomerId) -> Result<CustomerExport, DeskError> {
        let customer = self.customer(id).await?;
        let mut tickets = Vec::new();
        for ticket in self.tickets_of(&customer.id, usize::MAX).await? {
            let messages = self.ports.tickets.messages(ticket.number).await?;
            let events = self.ports.tickets.events(ticket.number).await?;
            tickets.push(TicketExport { ticket, messages, events });
        }
        self.audit(staff, &customer.id, "export", None).await?;
        let audit = self.ports.customers.audit_trail(&customer.id).await?;
        Ok(CustomerExport { customer, tickets, audit })
    }

    /// Erases the customer's personal data. Repeatable: a second run finds less to do.
    pub async fn erase(&self, staff: &Staff, id: &CustomerId) -> Result<ErasureReport, DeskError> {
        let customer = self.customer(id).await?;
        let now = self.ports.clock.now();
        let mut report =
            ErasureReport { customer: customer.id.clone(), tickets: 0, messages: 0, blobs_deleted: 0 };
        for mut ticket in self.tickets_of(&customer.id, usize::MAX).await? {
            let messages = self.ports.tickets.messages(ticket.number).await?;
            let mut erased = Vec::with_capacity(messages.len());
            for message in messages {
                self.forget_outcome(&message, &customer).await?;
                report.blobs_deleted += self.delete_blobs(&message).await?;
                erased.push(erase_message(message));
            }
            report.messages += erased.len();
            self.ports.tickets.rewrite_messages(ticket.number, &erased).await?;
            let version = ticket.version;
            let event = ticket.erase_personal_data(&staff.actor(), ERASED_TEXT, now);
            self.save(ticket, version, vec![event]).await?;
            report.tickets += 1;
        }
        // The records merged into this one are the same person.
        let mut records = vec![customer.id.clone()];
        records.extend(customer.merged_from.iter().cloned());
        for id in &records {
            self.anonymise(id, now).await?;
        }
        self.audit(staff, &customer.id, "erase", Some(format!("{} tickets", report.tickets))).await?;
        Ok(report)
    }

    async fn anonymise(&self, id: &CustomerId, now: jiff::Timestamp) -> Result<(), DeskError> {
        let current = self.load_customer(id).await?;
        for identity in &current.identities {
            self.ports.customers.release_identity(id, identity).await?;
        }
        let current = self.load_customer(id).await?;
        let anonymous = Customer {
            name: None,
            identities: Vec::new(),
            bouncing: Default::default(),
            erased_at: Some(now),
            updated_at: now,
            version: current.version + 1,
            ..current.clone()
        };
        Ok(self.ports.customers.update(&anonymous, current.version).await?)
    }

    async fn delete_blobs(&self, message: &Message) -> Result<usize, DeskError> {
        let mut keys: Vec<&str> = message.attachments.iter().map(|a| a.key.as_str()).collect();
        if let ChannelRef::Email { raw_key: Some(raw), .. } = &message.channel_ref {
            keys.push(raw);
        }
        for key in &keys {
            self.ports.blobs.delete(key).await?;
        }
        Ok(keys.len())
    }

    /// The router keeps each inbound message's outcome (with the acknowledgement it queued,
    /// addressed to the customer) so redeliveries change nothing. The record stays — a
    /// redelivery must still find it — but without the deliveries.
    async fn forget_outcome(&self, message: &Message, customer: &Customer) -> Result<(), DeskError> {
        let keys: Vec<String> = match &message.channel_ref {
            ChannelRef::Chat { inbox, message_id, .. } => {
                vec![InboundMessage::chat_idempotency_key(inbox, message_id)]
            }
            // Mail is keyed by sender too: the customer's addresses are who could have sent it.
            ChannelRef::Email { message_id, .. } => customer
                .identities
                .iter()
                .filter_map(|identity| match identity {
                    Identity::Email { address } => {
                        Some(InboundMessage::email_idempotency_key(address, message_id))
                    }
                    _ => None,
                })
                .collect(),
            ChannelRef::None => return Ok(()),
        };
        for key in keys {
            self.forget_outcome_of(key).await?;
        }
        Ok(())
    }

    async fn forget_outcome_of(&self, key: String) -> Result<(), DeskError> {
        let now = self.ports.clock.now();
        let Some(stored) = self.ports.idempotency.result(&key, now).await? else {
            return Ok(());
        };
        let Ok(mut outcome) = serde_json::from_value::<RouteOutcome>(stored) else {
            return Ok(());
        };
        outcome.outbound.clear();
        let result = serde_json::to_value(&outcome).map_err(|e| DeskError::Invalid(e.to_string()))?;
        let record = IdempotencyRecord { key, result, expires_at: later(now, IDEMPOTENCY_TTL) };
        Ok(self.ports.idempotency.complete(record).await?)
    }
}

fn erase_message(message: Message) -> Message {
    let channel_ref = match message.channel_ref {
        ChannelRef::Email { message_id, in_reply_to, references, mailbox, language, .. } => {
            ChannelRef::Email { message_id, in_reply_to, references, mailbox, language, raw_key: None }
        }
        other => other,
    };
    Message { text: ERASED_TEXT.to_owned(), attachments: Vec::new(), channel_ref, ..message }
}
