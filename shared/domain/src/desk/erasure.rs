//! A customer's data rights, part two: erase their personal data, everywhere the desk keeps
//! it, and say where that was.
//!
//! Erasure removes the person, not the facts. The customer record loses name and identities
//! (their claims are given up, so the addresses are nowhere in the table); every message of
//! their tickets loses its text, attachments and raw mail (the blobs are deleted: each belongs
//! to one received mail, so no other customer's file goes with them); the tickets lose
//! subject, copied addresses, tags and category and are marked erased, and their events lose
//! the tag and category names agents typed (the events stay, so counts do not change); the
//! stored outcomes of their inbound messages lose the acknowledgements they held. Thread keys
//! are stored only as digests ([`crate::ports::ThreadKey::digest`]), so nothing there names
//! them. Jobs still waiting in a queue or dead-letter queue are reached through the
//! dispatcher's idempotency keys ([`crate::dispatch::erasure_tombstone`]): delivery finds them
//! done and drops them. Inbound messages received before the erasure that reach the router
//! later are dropped there (see `router::erased`). Numbers, statuses, times and events stay,
//! so metrics do not change.
//!
//! Every step is repeatable, and the erasure re-checks: it makes passes until one finds
//! nothing left (a reply or a message routed while it ran is caught by the next pass). The
//! agent API runs it as a job off the request path (`erasure_job`), which verifies the result
//! and runs again until nothing is left.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{AgentDesk, DeskError, Staff};
use crate::dispatch::erasure_tombstone;
use crate::inbound::InboundMessage;
use crate::model::{
    AuthorKind, ChannelRef, Customer, CustomerId, EventKind, Identity, Message, Ticket, TicketEvent,
    TicketNumber,
};
use crate::outbound::OutboundJob;
use crate::ports::{IdempotencyRecord, ThreadKey};
use crate::router::{IDEMPOTENCY_TTL, RouteOutcome};
use crate::system::later;

/// What erased text reads as.
pub const ERASED_TEXT: &str = "[erased]";

/// Passes an erasure makes at most; each after the first only mops up what appeared while the
/// previous one ran.
pub const MAX_ERASURE_PASSES: usize = 5;

/// How long a job's drop mark outlives the erasure: a job may wait 14 days in the
/// dead-letter queue and, redriven, up to 14 more in its queue.
pub const ERASURE_TOMBSTONE_TTL: Duration = Duration::from_secs(29 * 24 * 3600);

/// Where an erasure reached, store by store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    pub customer: CustomerId,
    /// Tickets erased.
    pub tickets: usize,
    /// Messages erased.
    pub messages: usize,
    /// Table items written, by kind: `ticket`, `message`, `event` (tag and category names
    /// removed), `customer`, `identity_claim` (released), `erased_identity` (its digest and
    /// the erasure's time, kept 45 days), `idempotency_record` (outcome
    /// without its deliveries), `outbound_job_drop_mark`, `audit_entry`.
    pub table: BTreeMap<String, usize>,
    /// Blob store keys deleted (attachments and raw mail).
    pub blobs_deleted: Vec<String>,
    /// Blob store objects deleted, by kind: `attachment`, `raw_mail`.
    #[serde(default)]
    pub blobs: BTreeMap<String, usize>,
    pub queues: QueuesReached,
    /// Passes made; the last one found nothing left to erase.
    pub passes: usize,
}

/// How the queues treat what they still hold for this customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuesReached {
    /// Outbound jobs (acknowledgements, replies) marked so that, waiting in the outbound queue
    /// or its dead-letter queue, they are dropped when received.
    pub outbound_jobs_dropped_on_receipt: usize,
    /// Inbound messages for the erased tickets received before this instant are dropped by
    /// the router when they arrive (from the inbound queue or a redrive of its dead letters).
    pub inbound_received_before: Timestamp,
}

impl ErasureReport {
    pub(super) fn new(customer: CustomerId, now: Timestamp) -> Self {
        Self {
            customer,
            tickets: 0,
            messages: 0,
            table: BTreeMap::new(),
            blobs_deleted: Vec::new(),
            blobs: BTreeMap::new(),
            queues: QueuesReached { outbound_jobs_dropped_on_receipt: 0, inbound_received_before: now },
            passes: 0,
        }
    }

    pub(super) fn wrote(&mut self, kind: &str, count: usize) {
        if count > 0 {
            *self.table.entry(kind.to_owned()).or_default() += count;
        }
    }
}

impl AgentDesk {
    /// Erases the customer's personal data, pass after pass until a pass finds nothing left,
    /// and records it in the customer's audit trail. Repeatable: a second erasure finds
    /// nothing and reports one pass. (The agent API runs [`AgentDesk::run_erasure_job`].)
    pub async fn erase(&self, staff: &Staff, id: &CustomerId) -> Result<ErasureReport, DeskError> {
        let customer = self.customer(id).await?;
        let now = self.ports.clock.now();
        let mut report = ErasureReport::new(customer.id.clone(), now);
        self.erase_until_quiet(staff, &customer, now, &mut report).await?;
        let detail = format!("{} tickets, {} passes", report.tickets, report.passes);
        self.audit(staff, &customer.id, "erase", Some(detail)).await?;
        report.wrote("audit_entry", 1);
        tracing::info!(customer = %customer.id, tickets = report.tickets, passes = report.passes, "erasure.done");
        Ok(report)
    }

    /// Erasure passes until one finds nothing left, counted into `report` (which keeps what
    /// the passes did even when they end in an error).
    pub(super) async fn erase_until_quiet(
        &self,
        staff: &Staff,
        customer: &Customer,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<(), DeskError> {
        let first_pass = report.passes;
        loop {
            report.passes += 1;
            let made = report.passes - first_pass;
            let changed = match self.erasure_pass(staff, customer, now, report).await {
                Ok(changed) => changed,
                // An agent changed a ticket meanwhile: the next pass reads it again.
                Err(DeskError::Conflict(reason)) if made < MAX_ERASURE_PASSES => {
                    tracing::info!(customer = %customer.id, %reason, "erasure.conflict");
                    1
                }
                Err(other) => return Err(other),
            };
            if changed == 0 {
                break;
            }
            if made >= MAX_ERASURE_PASSES {
                return Err(DeskError::Conflict(format!(
                    "customer {} kept changing during {MAX_ERASURE_PASSES} erasure passes: run it again",
                    customer.id
                )));
            }
        }
        Ok(())
    }

    /// One pass over everything the customer has; returns how many things it changed.
    async fn erasure_pass(
        &self,
        staff: &Staff,
        customer: &Customer,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<usize, DeskError> {
        let mut changed = 0;
        for mut ticket in self.tickets_of(&customer.id, usize::MAX).await? {
            let mut erased = Vec::new();
            for message in self.ports.tickets.messages(ticket.number).await? {
                if is_erased(&message) {
                    continue;
                }
                self.drop_queued_jobs(&message, customer, now, report).await?;
                self.forget_outcome(&message, customer, now, report).await?;
                self.delete_blobs(&message, report).await?;
                erased.push(erase_message(message));
            }
            if !erased.is_empty() {
                self.ports.tickets.rewrite_messages(ticket.number, &erased).await?;
                report.messages += erased.len();
                report.wrote("message", erased.len());
                changed += erased.len();
            }
            changed += self.erase_events(ticket.number, report).await?;
            if !is_ticket_erased(&ticket) {
                let version = ticket.version;
                let event = ticket.erase_personal_data(&staff.actor(), ERASED_TEXT, now);
                self.save(ticket, version, vec![event]).await?;
                report.tickets += 1;
                report.wrote("ticket", 1);
                changed += 1;
            }
        }
        // The records merged into this one are the same person.
        let mut records = vec![customer.id.clone()];
        records.extend(customer.merged_from.iter().cloned());
        for id in &records {
            changed += self.anonymise(id, now, report).await?;
        }
        Ok(changed)
    }

    /// Releases the record's identity claims and clears it; 0 if it was clean already.
    async fn anonymise(
        &self,
        id: &CustomerId,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<usize, DeskError> {
        let current = self.load_customer(id).await?;
        if is_customer_erased(&current) {
            return Ok(0);
        }
        for identity in &current.identities {
            self.ports.customers.release_identity(id, identity, now).await?;
        }
        report.wrote("identity_claim", current.identities.len());
        // Each one's digest and the erasure's time, so what it sent before arrives as nothing.
        report.wrote("erased_identity", current.identities.len());
        let current = self.load_customer(id).await?;
        let anonymous = Customer {
            name: None,
            identities: Vec::new(),
            unverified: Vec::new(),
            bouncing: Default::default(),
            erased_at: current.erased_at.or(Some(now)),
            updated_at: now,
            version: current.version + 1,
            ..current.clone()
        };
        self.ports.customers.update(&anonymous, current.version).await?;
        report.wrote("customer", 1);
        Ok(1)
    }

    /// Agents type tag and category names; the events that recorded them keep their place
    /// with the names replaced. Returns how many events it rewrote.
    async fn erase_events(
        &self,
        number: TicketNumber,
        report: &mut ErasureReport,
    ) -> Result<usize, DeskError> {
        let events = self.ports.tickets.events(number).await?;
        let erased: Vec<TicketEvent> = events.into_iter().filter_map(erase_event).collect();
        if !erased.is_empty() {
            self.ports.tickets.rewrite_events(number, &erased).await?;
            report.wrote("event", erased.len());
        }
        Ok(erased.len())
    }

    async fn delete_blobs(&self, message: &Message, report: &mut ErasureReport) -> Result<(), DeskError> {
        let mut keys: Vec<(&str, &str)> =
            message.attachments.iter().map(|a| ("attachment", a.key.as_str())).collect();
        if let ChannelRef::Email { raw_key: Some(raw), .. } = &message.channel_ref {
            keys.push(("raw_mail", raw));
        }
        for (kind, key) in keys {
            self.ports.blobs.delete(key).await?;
            report.blobs_deleted.push(key.to_owned());
            *report.blobs.entry(kind.to_owned()).or_default() += 1;
        }
        Ok(())
    }

    /// Marks the delivery this message caused (its acknowledgement, or the agent's reply) as
    /// done, unless it was delivered already, so a copy still queued is dropped on receipt.
    async fn drop_queued_jobs(
        &self,
        message: &Message,
        customer: &Customer,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<(), DeskError> {
        let jobs = match &message.author {
            AuthorKind::Customer => inbound_keys(message, customer)
                .iter()
                .map(|key| OutboundJob::acknowledgement_id(key))
                .collect(),
            AuthorKind::Agent => vec![OutboundJob::reply_id(&message.id)],
            _ => Vec::new(),
        };
        for job in jobs {
            self.drop_queued_job(&job, now, report).await?;
        }
        Ok(())
    }

    async fn drop_queued_job(
        &self,
        job: &str,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<(), DeskError> {
        let key = OutboundJob::dispatch_key(job);
        if self.ports.idempotency.result(&key, now).await?.is_some() {
            return Ok(());
        }
        let record = IdempotencyRecord {
            key,
            result: erasure_tombstone(now),
            expires_at: later(now, ERASURE_TOMBSTONE_TTL),
        };
        self.ports.idempotency.complete(record).await?;
        report.queues.outbound_jobs_dropped_on_receipt += 1;
        report.wrote("outbound_job_drop_mark", 1);
        Ok(())
    }

    /// The router keeps each inbound message's outcome (with the acknowledgement it queued,
    /// addressed to the customer) so redeliveries change nothing. The record stays — a
    /// redelivery must still find it — but without the deliveries.
    async fn forget_outcome(
        &self,
        message: &Message,
        customer: &Customer,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<(), DeskError> {
        for key in inbound_keys(message, customer) {
            self.forget_outcome_of(key, now, report).await?;
        }
        Ok(())
    }

    async fn forget_outcome_of(
        &self,
        key: String,
        now: Timestamp,
        report: &mut ErasureReport,
    ) -> Result<(), DeskError> {
        let Some(stored) = self.ports.idempotency.result(&key, now).await? else {
            return Ok(());
        };
        let Ok(mut outcome) = serde_json::from_value::<RouteOutcome>(stored) else {
            return Ok(());
        };
        if outcome.outbound.is_empty() {
            return Ok(());
        }
        outcome.outbound.clear();
        let result = serde_json::to_value(&outcome).map_err(|e| DeskError::Invalid(e.to_string()))?;
        let record = IdempotencyRecord { key, result, expires_at: later(now, IDEMPOTENCY_TTL) };
        self.ports.idempotency.complete(record).await?;
        report.wrote("idempotency_record", 1);
        Ok(())
    }
}

/// The idempotency key the router routed this message under.
fn inbound_keys(message: &Message, customer: &Customer) -> Vec<String> {
    match &message.channel_ref {
        ChannelRef::Chat { inbox, message_id, .. } => {
            vec![InboundMessage::chat_idempotency_key(inbox, message_id)]
        }
        // Mail is keyed by its sender too: any address of the customer, verified or typed,
        // could have sent it.
        ChannelRef::Email { message_id, .. } => customer
            .identities
            .iter()
            .chain(&customer.unverified)
            .filter_map(|identity| match identity {
                Identity::Email { address } => {
                    Some(InboundMessage::email_idempotency_key(address, message_id))
                }
                _ => None,
            })
            .collect(),
        ChannelRef::Social { platform, account, message_id, .. } => {
            let network = crate::social::network(*platform, account);
            vec![InboundMessage::social_idempotency_key(&network, message_id)]
        }
        // A call's records hold ticket and message ids and callback jobs (no personal
        // data, nothing sent to the customer): nothing to forget.
        ChannelRef::Phone { .. } | ChannelRef::None => Vec::new(),
    }
}

pub(super) fn is_erased(message: &Message) -> bool {
    let ids_kept = match &message.channel_ref {
        ChannelRef::Email { message_id, raw_key, .. } => raw_key.is_some() || !is_digest(message_id),
        ChannelRef::Chat { conversation_id, .. } => !is_digest(conversation_id),
        ChannelRef::Social { conversation, .. } => !is_digest(conversation),
        // Connect's contact id names a call, not a person.
        ChannelRef::Phone { .. } | ChannelRef::None => false,
    };
    message.text == ERASED_TEXT && message.attachments.is_empty() && !ids_kept
}

/// The event with the names agents typed replaced, or `None` if it holds none (any more).
pub(super) fn erase_event(event: TicketEvent) -> Option<TicketEvent> {
    let erased = |name: &String| name == ERASED_TEXT;
    let kind = match &event.kind {
        EventKind::Tags { added, removed } if !added.iter().chain(removed).all(erased) => EventKind::Tags {
            added: vec![ERASED_TEXT.to_owned(); added.len()],
            removed: vec![ERASED_TEXT.to_owned(); removed.len()],
        },
        EventKind::Category { from, to } if !from.iter().chain(to).all(erased) => EventKind::Category {
            from: from.as_ref().map(|_| ERASED_TEXT.to_owned()),
            to: to.as_ref().map(|_| ERASED_TEXT.to_owned()),
        },
        _ => return None,
    };
    Some(TicketEvent { kind, ..event })
}

fn is_digest(id: &str) -> bool {
    id.starts_with("sha256:")
}

pub(super) fn is_ticket_erased(ticket: &Ticket) -> bool {
    ticket.erased_at.is_some()
        && ticket.subject == ERASED_TEXT
        && ticket.cc.is_empty()
        && ticket.tags.is_empty()
        && ticket.category.is_none()
}

pub(super) fn is_customer_erased(customer: &Customer) -> bool {
    customer.erased_at.is_some()
        && customer.name.is_none()
        && customer.identities.is_empty()
        && customer.bouncing.is_empty()
}

/// The message without text, files or the ids its channel gave it: those become digests (like
/// the thread keys), as Message-IDs and conversation ids can name the sender's domain or
/// account. The steps that needed them (job drop marks, the router's record) ran before.
fn erase_message(message: Message) -> Message {
    let digest = |id: &str| ThreadKey(id.to_owned()).digest();
    let channel_ref = match message.channel_ref {
        ChannelRef::Email { message_id, mailbox, language, .. } => ChannelRef::Email {
            message_id: digest(&message_id),
            in_reply_to: None,
            references: Vec::new(),
            mailbox,
            language,
            raw_key: None,
        },
        ChannelRef::Chat { inbox, conversation_id, message_id } => ChannelRef::Chat {
            inbox,
            conversation_id: digest(&conversation_id),
            message_id: digest(&message_id),
        },
        ChannelRef::Social { platform, account, conversation, message_id } => ChannelRef::Social {
            platform,
            account,
            conversation: digest(&conversation),
            message_id: digest(&message_id),
        },
        other @ (ChannelRef::Phone { .. } | ChannelRef::None) => other,
    };
    Message { text: ERASED_TEXT.to_owned(), attachments: Vec::new(), channel_ref, ..message }
}
