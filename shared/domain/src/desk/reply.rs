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
    AuthorKind, Channel, ChannelRef, Customer, Direction, Identity, Message, MessageFlag, MessageId, Ticket,
    TicketNumber, Visibility,
};
use crate::outbound::{
    Destination, EmailDestination, MAX_MAIL_RECIPIENTS, OutboundJob, OutboundKind, SocialDestination,
};
use crate::ports::{IdempotencyRecord, ThreadClaim, ThreadKey, TicketCommit};
use crate::router::IDEMPOTENCY_TTL;
use crate::social::{OutsideWindow, check_window};
use crate::system::later;
use crate::text;

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
    /// The platform's reply window had closed: kept on the ticket, flagged
    /// `outside_window`, never sent; the ticket stays open.
    OutsideWindow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOutcome {
    pub ticket: TicketNumber,
    pub message: MessageId,
    /// The ticket's version after the reply.
    pub version: u64,
    pub delivery: Delivery,
    /// Why the reply did not go out, when it did not (shown to the agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
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
        let text = text::required_body("text", text)?;
        if text.len() > MAX_REPLY_BYTES {
            return Err(DeskError::Invalid(format!("text: 1 to {MAX_REPLY_BYTES} bytes")));
        }
        let request = request_digest(&text, internal);
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
            return self.repeat(done, &request).await;
        }

        let mut ticket = self.load_at(number, version).await?;
        Self::refuse_text_after_erasure(&ticket, if internal { "notes" } else { "replies" })?;
        let expected = ticket.version;
        let refusal = if internal { None } else { self.outside_window(&ticket, now).await? };
        let internal = internal || refusal.is_some();
        let mut message = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: number,
            direction: Direction::Outbound,
            author: AuthorKind::Agent,
            author_id: Some(staff.0.clone()),
            visibility: if internal { Visibility::Internal } else { Visibility::Public },
            text,
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        };
        if refusal.is_some() {
            // Kept as it was written, but not as an answer to the customer: it counts for no
            // SLA target and leaves the ticket open.
            message.flags.insert(MessageFlag::OutsideWindow);
        }
        let events = ticket.add_message(&staff.actor(), &message, now)?;
        let job = if internal {
            None
        } else {
            let thread = self.ports.tickets.messages(number).await?;
            self.reply_job(&ticket, &message, &thread).await?
        };
        if let Some(OutboundJob { destination: Destination::Email(mail), .. }) = &job
            && mail.over_recipient_limit()
        {
            // Refused here, where the agent sees it, rather than dead-lettered by the sender.
            return Err(DeskError::Unsendable(format!(
                "this reply would go to {} addresses; mail goes to at most {MAX_MAIL_RECIPIENTS}: \
                 remove some from the ticket's cc",
                mail.recipient_count()
            )));
        }
        let delivery = match (&job, internal) {
            _ if refusal.is_some() => Delivery::OutsideWindow,
            (_, true) => Delivery::Internal,
            (Some(_), false) => Delivery::Queued,
            (None, false) => Delivery::Undeliverable,
        };
        if let Some(reason) = &refusal {
            tracing::info!(ticket = number.0, %reason, "reply.outside_window");
        }
        let outcome = ReplyOutcome {
            ticket: number,
            message: message.id.clone(),
            version: ticket.version,
            delivery,
            refusal: refusal.map(|r| r.to_string()),
        };
        let idempotency = match key {
            Some(key) => Some(IdempotencyRecord {
                key,
                result: serde_json::to_value(StoredReply {
                    outcome: outcome.clone(),
                    request: Some(request),
                })
                .map_err(|e| DeskError::Invalid(e.to_string()))?,
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
    /// sends a job once, whatever the queue holds) and answer as the first time. The same key
    /// with another text, or a note's key used for a reply, is a client bug, not a retry:
    /// refused.
    async fn repeat(&self, done: serde_json::Value, request: &str) -> Result<ReplyOutcome, DeskError> {
        let stored: StoredReply = serde_json::from_value(done)
            .map_err(|e| DeskError::Store(crate::ports::StoreError::Corrupt(e.to_string())))?;
        // Records written before digests were kept have none: they are taken as a match.
        if stored.request.as_deref().is_some_and(|first| first != request) {
            return Err(DeskError::KeyReused(
                "Idempotency-Key: already used for a different request; use a new key".into(),
            ));
        }
        let outcome = stored.outcome;
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
    pub(super) async fn reply_job(
        &self,
        ticket: &Ticket,
        message: &Message,
        thread: &[Message],
    ) -> Result<Option<OutboundJob>, DeskError> {
        let last_inbound =
            thread.iter().rev().filter(|m| m.direction == Direction::Inbound).map(|m| &m.channel_ref);
        let customer = self.ports.customers.customer(&ticket.requester).await?;
        if customer.as_ref().is_some_and(|c| c.erased_at.is_some()) {
            // The customer asked to be forgotten: nothing goes to them any more.
            return Ok(None);
        }
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
                // Believed or not, the address the customer wrote from: a mail that did not
                // authenticate left its From as an unverified detail of a customer of its own.
                let to = customer.as_ref().and_then(|c| {
                    email_address(c, c.identities.iter().chain(&c.unverified), message.created_at)
                });
                let reference = last_inbound.clone().find(|r| matches!(r, ChannelRef::Email { .. }));
                to.map(|to| Destination::Email(self.email_destination(ticket, message, to, reference)))
            }
            Channel::Wechat
            | Channel::Messenger
            | Channel::Instagram
            | Channel::Whatsapp
            | Channel::Forum
            | Channel::Social => last_inbound.clone().find_map(|r| match r {
                ChannelRef::Social { platform, account, conversation, message_id } => {
                    Some(Destination::Social(SocialDestination {
                        platform: *platform,
                        account: account.clone(),
                        conversation: conversation.clone(),
                        in_reply_to: Some(message_id.clone()),
                    }))
                }
                _ => None,
            }),
            Channel::Phone => None,
        };
        Ok(destination.map(|destination| OutboundJob {
            id: OutboundJob::reply_id(&message.id),
            ticket: ticket.number,
            message: message.id.clone(),
            kind: OutboundKind::AgentReply,
            destination,
            text: message.text.clone(),
            created_at: message.created_at,
            survey: None,
        }))
    }

    /// Whether the platform of a social ticket would refuse a reply now: its window runs from
    /// the customer's last message there.
    async fn outside_window(
        &self,
        ticket: &Ticket,
        now: Timestamp,
    ) -> Result<Option<OutsideWindow>, DeskError> {
        if !ticket.channel.is_social() {
            return Ok(None);
        }
        let thread = self.ports.tickets.messages(ticket.number).await?;
        let last = thread.iter().rev().find_map(|m| match (&m.direction, &m.channel_ref) {
            (Direction::Inbound, ChannelRef::Social { platform, .. }) => Some((*platform, m.created_at)),
            _ => None,
        });
        Ok(last.and_then(|(platform, at)| check_window(platform, at, now).err()))
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

/// What the idempotency record keeps: the outcome, and a digest of the request it answered.
#[derive(Serialize, Deserialize)]
struct StoredReply {
    #[serde(flatten)]
    outcome: ReplyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<String>,
}

/// The request a key stands for: what it writes, the text (as stored) and reply or note. The
/// `version` is a precondition, not part of what is written: a retry may leave it out.
fn request_digest(text: &str, internal: bool) -> String {
    hex::encode(Sha256::digest(format!("{internal}\n{text}").as_bytes()))
}

/// Scoped to the ticket and the user, and hashed: keys are the client's text.
fn reply_key(number: TicketNumber, user: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{}\n{user}\n{key}", number.0).as_bytes());
    format!("api:reply:{}", hex::encode(digest))
}

/// The customer's first address that does not bounce (at `now`), among `identities`.
fn email_address<'a>(
    customer: &Customer,
    identities: impl IntoIterator<Item = &'a Identity>,
    now: Timestamp,
) -> Option<String> {
    identities.into_iter().find_map(|i| match i {
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
