//! The ticket router: the single writer of ticket state from inbound traffic. For each
//! `InboundMessage` it finds the customer, threads the message onto its ticket (or opens one
//! with a number from the counter), and queues the auto-acknowledgement — exactly once,
//! however often the message is delivered.

mod customers;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use customers::resolve_customer;

use crate::envelope::seal;
use crate::inbound::{InboundMessage, Source};
use crate::lifecycle::LifecycleError;
use crate::model::{
    Actor, AuthorKind, ChannelRef, CustomerId, Direction, Message, MessageId, Status, Ticket, TicketNumber,
    Visibility,
};
use crate::outbound::{Destination, OutboundJob, OutboundKind};
use crate::ports::{
    Clock, CustomerStore, IdSource, IdempotencyRecord, IdempotencyStore, Queue, QueueError, StoreError,
    ThreadClaim, TicketCommit, TicketStore,
};
use crate::system::later;

/// Longer than SQS keeps a message (14 days at most), so no redelivery outlives its record.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(15 * 24 * 3600);

/// Commits that lose a race re-read and try again this many times before giving the message
/// back to the queue.
const MAX_COMMIT_ATTEMPTS: usize = 5;

/// Longest subject taken from the first line of a chat message, in characters.
const MAX_SUBJECT_CHARS: usize = 80;

/// The auto-acknowledgement text per chat inbox; `{ticket}` becomes `#N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgements {
    pub default: Option<String>,
    pub per_inbox: HashMap<String, Option<String>>,
}

impl Default for Acknowledgements {
    fn default() -> Self {
        Self { default: Some(DEFAULT_ACKNOWLEDGEMENT.to_owned()), per_inbox: HashMap::new() }
    }
}

pub const DEFAULT_ACKNOWLEDGEMENT: &str = "We received your message; your ticket is {ticket}.";

impl Acknowledgements {
    fn text_for(&self, source: &Source, ticket: TicketNumber) -> Option<String> {
        let template = match source {
            Source::Chat { inbox, .. } => self.per_inbox.get(inbox).unwrap_or(&self.default),
        };
        template.as_ref().map(|t| t.replace("{ticket}", &ticket.to_string()))
    }
}

/// What routing one inbound message did; stored with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteOutcome {
    pub ticket: TicketNumber,
    pub message: MessageId,
    pub customer: CustomerId,
    /// A new ticket was opened for this message.
    pub opened: bool,
    pub follow_up_of: Option<TicketNumber>,
    pub outbound: Vec<OutboundJob>,
    /// This delivery was a repeat: nothing was written.
    #[serde(skip)]
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("ticket rules refused the change: {0}")]
    Lifecycle(#[from] LifecycleError),
    #[error("gave up after {0} conflicting commits")]
    Contended(usize),
}

impl RouteError {
    /// Whether handing the message back to the queue can help.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            RouteError::Store(StoreError::Corrupt(_))
                | RouteError::Lifecycle(_)
                | RouteError::Queue(QueueError::TooLarge(_))
        )
    }
}

/// What the router needs from the outside world.
#[derive(Clone)]
pub struct RouterPorts {
    pub tickets: Arc<dyn TicketStore>,
    pub customers: Arc<dyn CustomerStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub outbound: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

pub struct TicketRouter {
    ports: RouterPorts,
    acknowledgements: Acknowledgements,
}

/// A commit ready to write, and what it will have done once written.
struct Plan {
    commit: TicketCommit,
    outcome: RouteOutcome,
}

impl TicketRouter {
    pub fn new(ports: RouterPorts, acknowledgements: Acknowledgements) -> Self {
        Self { ports, acknowledgements }
    }

    /// Routes one message. There is no up-front "seen this before?" read: the commit itself
    /// carries the idempotency record with the condition that the key is not done, so a
    /// repeat loses the commit and then finds the first result. Repeats are rare; the read
    /// saved on every message is not.
    pub async fn route(&self, inbound: &InboundMessage) -> Result<RouteOutcome, RouteError> {
        let now = self.ports.clock.now();
        let customer = resolve_customer(&*self.ports.customers, &*self.ports.ids, inbound, now).await?;
        for attempt in 1..=MAX_COMMIT_ATTEMPTS {
            let plan = self.plan(inbound, &customer, now).await?;
            match self.ports.tickets.commit(plan.commit).await {
                Ok(()) => {
                    self.enqueue(&plan.outcome.outbound).await?;
                    tracing::info!(
                        ticket = plan.outcome.ticket.0,
                        opened = plan.outcome.opened,
                        key = %inbound.idempotency_key,
                        "router.routed"
                    );
                    return Ok(plan.outcome);
                }
                Err(StoreError::Conflict(reason)) => {
                    // Maybe a concurrent delivery of this very message won.
                    if let Some(done) = self.finished(inbound, now).await? {
                        return Ok(done);
                    }
                    tracing::debug!(attempt, %reason, "router.commit_conflict");
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }

    /// The stored outcome of an earlier delivery. Its outbound jobs are queued again, in case
    /// that delivery crashed between commit and enqueue; the dispatcher drops repeats.
    async fn finished(
        &self,
        inbound: &InboundMessage,
        now: Timestamp,
    ) -> Result<Option<RouteOutcome>, RouteError> {
        let Some(stored) = self.ports.idempotency.result(&inbound.idempotency_key, now).await? else {
            return Ok(None);
        };
        let mut outcome: RouteOutcome = serde_json::from_value(stored).map_err(|e| {
            StoreError::Corrupt(format!("idempotency result {}: {e}", inbound.idempotency_key))
        })?;
        self.enqueue(&outcome.outbound).await?;
        outcome.duplicate = true;
        tracing::info!(ticket = outcome.ticket.0, key = %inbound.idempotency_key, "router.duplicate");
        Ok(Some(outcome))
    }

    async fn plan(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let thread = inbound.thread_key();
        let Some(number) = self.ports.tickets.thread_ticket(&thread).await? else {
            return self.open_ticket(inbound, customer, None, now).await;
        };
        let ticket = self.ports.tickets.ticket(number).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("thread {} points at missing ticket {number}", thread.0))
        })?;
        if ticket.status == Status::Closed {
            return self.open_ticket(inbound, customer, Some(number), now).await;
        }
        self.continue_ticket(inbound, customer, ticket, now)
    }

    fn continue_ticket(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        mut ticket: Ticket,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let expected_version = Some(ticket.version);
        let message = self.customer_message(inbound, customer, ticket.number, now);
        let events = ticket.add_message(&Actor::Customer(customer.clone()), &message, now)?;
        let outcome = RouteOutcome {
            ticket: ticket.number,
            message: message.id.clone(),
            customer: customer.clone(),
            opened: false,
            follow_up_of: None,
            outbound: Vec::new(),
            duplicate: false,
        };
        let commit = TicketCommit {
            ticket,
            expected_version,
            messages: vec![message],
            events,
            thread_claims: Vec::new(),
            idempotency: Some(self.record(inbound, &outcome, now)),
        };
        Ok(Plan { commit, outcome })
    }

    async fn open_ticket(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        follow_up_of: Option<TicketNumber>,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let number = self.ports.tickets.allocate_number().await?;
        let (mut ticket, created) = Ticket::open(
            number,
            inbound.channel(),
            subject_of(&inbound.text),
            customer.clone(),
            follow_up_of,
            now,
        );
        let message = self.customer_message(inbound, customer, number, now);
        let mut events = vec![created];
        events.extend(ticket.add_message(&Actor::Customer(customer.clone()), &message, now)?);
        let mut messages = vec![message];
        let mut outbound = Vec::new();
        if let Some(text) = self.acknowledgements.text_for(&inbound.source, number) {
            let ack = self.system_message(number, text, now);
            events.extend(ticket.add_message(&Actor::System, &ack, now)?);
            outbound.push(acknowledgement_job(inbound, &ack));
            messages.push(ack);
        }
        let outcome = RouteOutcome {
            ticket: number,
            message: messages[0].id.clone(),
            customer: customer.clone(),
            opened: true,
            follow_up_of,
            outbound,
            duplicate: false,
        };
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages,
            events,
            thread_claims: vec![ThreadClaim {
                key: inbound.thread_key(),
                ticket: number,
                replaces: follow_up_of,
            }],
            idempotency: Some(self.record(inbound, &outcome, now)),
        };
        Ok(Plan { commit, outcome })
    }

    fn customer_message(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: TicketNumber,
        now: Timestamp,
    ) -> Message {
        Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket,
            direction: Direction::Inbound,
            author: AuthorKind::Customer,
            author_id: Some(customer.to_string()),
            visibility: Visibility::Public,
            text: inbound.text.clone(),
            attachments: inbound.attachments.clone(),
            channel_ref: inbound.channel_ref(),
            created_at: now,
        }
    }

    fn system_message(&self, ticket: TicketNumber, text: String, now: Timestamp) -> Message {
        Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: None,
            visibility: Visibility::Public,
            text,
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
        }
    }

    fn record(&self, inbound: &InboundMessage, outcome: &RouteOutcome, now: Timestamp) -> IdempotencyRecord {
        IdempotencyRecord {
            key: inbound.idempotency_key.clone(),
            result: serde_json::to_value(outcome).unwrap_or_default(),
            expires_at: later(now, IDEMPOTENCY_TTL),
        }
    }

    async fn enqueue(&self, jobs: &[OutboundJob]) -> Result<(), QueueError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.ports.outbound.send_batch(jobs.iter().map(seal).collect()).await
    }
}

fn acknowledgement_job(inbound: &InboundMessage, ack: &Message) -> OutboundJob {
    let destination = match &inbound.source {
        Source::Chat { inbox, conversation_id, .. } => Destination::Chat {
            inbox: inbox.clone(),
            conversation_id: conversation_id.clone(),
            visitor_id: inbound.sender.chat_visitor.clone(),
        },
    };
    OutboundJob {
        // Derived from the inbound key, so every retry of this message names the same delivery.
        id: format!("{}:ack", inbound.idempotency_key),
        ticket: ack.ticket,
        message: ack.id.clone(),
        kind: OutboundKind::Acknowledgement,
        destination,
        text: ack.text.clone(),
        created_at: ack.created_at,
    }
}

/// The first line of the message, shortened on a character boundary.
fn subject_of(text: &str) -> String {
    let first_line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if first_line.is_empty() {
        return "(no subject)".to_owned();
    }
    let mut subject: String = first_line.chars().take(MAX_SUBJECT_CHARS).collect();
    if first_line.chars().count() > MAX_SUBJECT_CHARS {
        subject.push('…');
    }
    subject
}

#[cfg(test)]
mod tests;
