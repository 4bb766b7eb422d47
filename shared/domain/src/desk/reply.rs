//! Agent replies and internal notes. A public reply is committed to the thread and queued to
//! `outbound-dispatcher` on the ticket's channel: back into the chat conversation, or as a
//! mail in the ticket's thread. With an idempotency key, a repeated request (a client retry
//! after a timeout) finds the first reply and queues its delivery again instead of writing a
//! second one; the dispatcher sends each job once.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AgentDesk, DeskError, Staff};
use crate::envelope::seal;
use crate::model::{
    AuthorKind, Channel, ChannelRef, Customer, Direction, Identity, Message, MessageId, Ticket, TicketNumber,
    Visibility,
};
use crate::outbound::{Destination, EmailDestination, OutboundJob, OutboundKind};
use crate::ports::{IdempotencyRecord, ThreadClaim, ThreadKey, TicketCommit};
use crate::router::IDEMPOTENCY_TTL;
use crate::system::later;

/// Longest reply or note, in bytes (the chat webhook's own limit).
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
/// Longest idempotency key a client may send.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// What happened to a reply's delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Queued to the dispatcher on the ticket's channel.
    Queued,
    /// An internal note: never sent.
    Internal,
    /// The ticket's channel has no way back to the customer (e.g. no address known).
    Undeliverable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOutcome {
    pub ticket: TicketNumber,
    pub message: MessageId,
    /// The ticket's version after the reply.
    pub version: u64,
    pub delivery: Delivery,
}

impl AgentDesk {
    /// Adds a public reply (queued to the customer) or an internal note to the thread.
    pub async fn reply(
        &self,
        staff: &Staff,
        number: TicketNumber,
        text: &str,
        internal: bool,
        version: Option<u64>,
        idempotency_key: Option<&str>,
    ) -> Result<ReplyOutcome, DeskError> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_REPLY_BYTES {
            return Err(DeskError::Invalid(format!("text: 1 to {MAX_REPLY_BYTES} bytes")));
        }
        let key = match idempotency_key {
            Some(key) if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS => {
                return Err(DeskError::Invalid(format!(
                    "Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"
                )));
            }
            Some(key) => Some(reply_key(number, &staff.0, key)),
            None => None,
        };
        let now = self.ports.clock.now();
        if let Some(key) = &key
            && let Some(done) = self.ports.idempotency.result(key, now).await?
        {
            return self.repeat(done).await;
        }

        let mut ticket = self.load_at(number, version).await?;
        let expected = ticket.version;
        let message = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: number,
            direction: Direction::Outbound,
            author: AuthorKind::Agent,
            author_id: Some(staff.0.clone()),
            visibility: if internal { Visibility::Internal } else { Visibility::Public },
            text: text.to_owned(),
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
        };
        let events = ticket.add_message(&staff.actor(), &message, now)?;
        let job = if internal {
            None
        } else {
            let thread = self.ports.tickets.messages(number).await?;
            self.reply_job(&ticket, &message, &thread).await?
        };
        let delivery = match (&job, internal) {
            (_, true) => Delivery::Internal,
            (Some(_), false) => Delivery::Queued,
            (None, false) => Delivery::Undeliverable,
        };
        let outcome =
            ReplyOutcome { ticket: number, message: message.id.clone(), version: ticket.version, delivery };
        let idempotency = match key {
            Some(key) => Some(IdempotencyRecord {
                key,
                result: serde_json::to_value(&outcome).map_err(|e| DeskError::Invalid(e.to_string()))?,
                expires_at: later(now, IDEMPOTENCY_TTL),
            }),
            None => None,
        };
        // The mail's Message-ID names the ticket, as the acknowledgement's does: a reply naming
        // only it threads, and a bounce of it is recognised as one of ours.
        let thread_claims = match job.as_ref().map(|j| &j.destination) {
            Some(Destination::Email(mail)) => vec![ThreadClaim {
                key: ThreadKey::email_message(&mail.message_id),
                ticket: number,
                replaces: None,
            }],
            _ => Vec::new(),
        };
        let commit = TicketCommit {
            ticket,
            expected_version: Some(expected),
            messages: vec![message],
            events,
            thread_claims,
            idempotency,
        };
        self.commit(commit).await?;
        if let Some(job) = job {
            self.ports.outbound.send(seal(&job)).await?;
        }
        Ok(outcome)
    }

    /// A reply made before under the same key: queue its delivery again (the dispatcher
    /// sends a job once, whatever the queue holds) and answer as the first time.
    async fn repeat(&self, done: serde_json::Value) -> Result<ReplyOutcome, DeskError> {
        let outcome: ReplyOutcome = serde_json::from_value(done)
            .map_err(|e| DeskError::Store(crate::ports::StoreError::Corrupt(e.to_string())))?;
        if outcome.delivery == Delivery::Queued {
            let ticket = self.load(outcome.ticket).await?;
            let messages = self.ports.tickets.messages(outcome.ticket).await?;
            if let Some(message) = messages.iter().find(|m| m.id == outcome.message)
                && let Some(job) = self.reply_job(&ticket, message, &messages).await?
            {
                self.ports.outbound.send(seal(&job)).await?;
            }
        }
        Ok(outcome)
    }

    /// The delivery of `message` on the ticket's channel, to where the customer last wrote
    /// from in `thread`; `None` when there is no way back.
    async fn reply_job(
        &self,
        ticket: &Ticket,
        message: &Message,
        thread: &[Message],
    ) -> Result<Option<OutboundJob>, DeskError> {
        let last_inbound =
            thread.iter().rev().filter(|m| m.direction == Direction::Inbound).map(|m| &m.channel_ref);
        let customer = self.ports.customers.customer(&ticket.requester).await?;
        let destination = match ticket.channel {
            Channel::Chat => last_inbound.clone().find_map(|r| match r {
                ChannelRef::Chat { inbox, conversation_id, .. } => Some(Destination::Chat {
                    inbox: inbox.clone(),
                    conversation_id: conversation_id.clone(),
                    visitor_id: customer.as_ref().and_then(|c| chat_visitor(c, inbox)),
                }),
                _ => None,
            }),
            Channel::Email => {
                let to = customer.as_ref().and_then(|c| email_address(c, message.created_at));
                let reference = last_inbound.clone().find(|r| matches!(r, ChannelRef::Email { .. }));
                to.map(|to| Destination::Email(self.email_destination(ticket, message, to, reference)))
            }
            Channel::Phone | Channel::Social => None,
        };
        Ok(destination.map(|destination| OutboundJob {
            id: format!("reply:{}", message.id),
            ticket: ticket.number,
            message: message.id.clone(),
            kind: OutboundKind::AgentReply,
            destination,
            text: message.text.clone(),
            created_at: message.created_at,
        }))
    }

    fn email_destination(
        &self,
        ticket: &Ticket,
        message: &Message,
        to: String,
        reference: Option<&ChannelRef>,
    ) -> EmailDestination {
        let rules = &self.email;
        let (in_reply_to, mut references, mailbox, language) = match reference {
            Some(ChannelRef::Email { message_id, references, mailbox, language, .. }) => {
                (Some(message_id.clone()), references.clone(), mailbox.clone(), language.clone())
            }
            _ => (None, Vec::new(), None, None),
        };
        if let Some(parent) = &in_reply_to {
            references.retain(|id| id != parent);
            references.push(parent.clone());
        }
        EmailDestination {
            to,
            cc: ticket.cc.iter().cloned().collect(),
            from: mailbox.unwrap_or_else(|| format!("{}@{}", rules.reply_local_part, rules.domain)),
            reply_to: ticket.reply_token.as_deref().map(|token| rules.reply_address(token)),
            subject: format!("[{}] {}", ticket.number, ticket.subject),
            message_id: rules.message_id(message),
            in_reply_to,
            references,
            language: language.unwrap_or_else(|| rules.default_language.clone()),
        }
    }
}

/// Scoped to the ticket and the user, and hashed: keys are the client's text.
fn reply_key(number: TicketNumber, user: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{}\n{user}\n{key}", number.0).as_bytes());
    format!("api:reply:{}", hex::encode(digest))
}

fn email_address(customer: &Customer, now: Timestamp) -> Option<String> {
    customer.identities.iter().find_map(|i| match i {
        Identity::Email { address } if !customer.is_bouncing(address, now) => Some(address.clone()),
        _ => None,
    })
}

fn chat_visitor(customer: &Customer, inbox: &str) -> Option<String> {
    customer.identities.iter().find_map(|i| match i {
        Identity::ChatVisitor { inbox: own, visitor } if own == inbox => Some(visitor.clone()),
        _ => None,
    })
}
