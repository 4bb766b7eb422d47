//! A proactive notice into the customer's open chat: when the order's customer has a chat
//! ticket still open (with a conversation the inbox's callback reaches), the late-parcel or
//! exception notice is said there, on that ticket, instead of mailed on a new one. Still
//! once per order and problem: the commit carries the same idempotency record as a mailed
//! notice.

use jiff::Timestamp;

use super::orders::NoticeOutcome;
use super::{AgentDesk, DeskError};
use crate::envelope::seal;
use crate::model::{
    Actor, AuthorKind, Channel, ChannelRef, Direction, EventKind, Identity, Message, MessageId, Ticket,
    Visibility,
};
use crate::orders::{Contact, Order, OrderTexts, Problem, conversation_language};
use crate::ports::{IdempotencyRecord, StoreError, TicketCommit};
use crate::query::TicketFilter;
use crate::router::IDEMPOTENCY_TTL;
use crate::system::later;

/// The customer's tickets looked at for an open chat, newest first.
const RECENT_TICKETS: usize = 20;

impl AgentDesk {
    /// The open chat ticket of the customer holding `contact`, with its thread, if any.
    pub(super) async fn open_chat(
        &self,
        contact: &Contact,
    ) -> Result<Option<(Ticket, Vec<Message>)>, DeskError> {
        let identity = match contact {
            Contact::Email(address) => Identity::email(address),
            Contact::Phone(number) => Identity::phone(number),
        };
        let Ok(identity) = identity else { return Ok(None) };
        let Some(customer) = self.ports.customers.customer_by_identity(&identity).await? else {
            return Ok(None);
        };
        let filter = TicketFilter { requester: Some(customer), ..TicketFilter::default() };
        let page = self.ports.tickets.list(&filter, RECENT_TICKETS, None).await?;
        for listed in page.tickets {
            if listed.channel != Channel::Chat || !listed.status.is_unfinished() || listed.erased_at.is_some()
            {
                continue;
            }
            // The index may lag: the ticket as it is now decides.
            let Some(ticket) = self.ports.tickets.ticket(listed.number).await? else { continue };
            if ticket.channel != Channel::Chat || !ticket.status.is_unfinished() {
                continue;
            }
            let thread = self.ports.tickets.messages(ticket.number).await?;
            let reachable = thread.iter().any(|m| {
                m.direction == Direction::Inbound && matches!(m.channel_ref, ChannelRef::Chat { .. })
            });
            if reachable {
                return Ok(Some((ticket, thread)));
            }
        }
        Ok(None)
    }

    /// Says the notice in the open chat `ticket`, once per order and problem.
    pub(super) async fn notice_in_chat(
        &self,
        order: &Order,
        problem: Problem,
        key: &str,
        (mut ticket, thread): (Ticket, Vec<Message>),
        now: Timestamp,
    ) -> Result<NoticeOutcome, DeskError> {
        let expected = ticket.version;
        let texts = OrderTexts::new(conversation_language(&thread, ticket.language.as_deref()));
        let mut events: Vec<_> =
            crate::router::link_order(&mut ticket, order.name.clone(), now).into_iter().collect();
        events.push(ticket.record(
            Actor::System,
            EventKind::ProactiveNotice { order: order.name.clone(), problem: problem.as_str().to_owned() },
            now,
        ));
        let message = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: ticket.number,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: None,
            visibility: Visibility::Public,
            text: texts.notice(order, problem, ticket.number),
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        };
        events.extend(ticket.add_message(&Actor::System, &message, now)?);
        let job = self.reply_job(&ticket, &message, &thread).await?.map(|mut job| {
            job.id = format!("notice:{}:{}", order.name, problem.as_str());
            job
        });
        let number = ticket.number;
        let outcome =
            NoticeOutcome { order: order.name.clone(), problem, ticket: number, job, repeat: false };
        let commit = TicketCommit {
            ticket,
            expected_version: Some(expected),
            messages: vec![message],
            events,
            thread_claims: Vec::new(),
            idempotency: Some(IdempotencyRecord {
                key: key.to_owned(),
                result: serde_json::to_value(&outcome)
                    .map_err(|e| DeskError::Store(StoreError::Corrupt(format!("notice result: {e}"))))?,
                expires_at: later(now, IDEMPOTENCY_TTL),
            }),
        };
        // A conflict (a racing delivery of this notice, or the chat moved on) is retried by
        // the queue; the idempotency record then finds the first result.
        self.commit(commit).await?;
        if let Some(job) = &outcome.job {
            self.ports.outbound.send(seal(job)).await?;
        }
        tracing::info!(ticket = number.0, problem = problem.as_str(), "orders.proactive_notice_in_chat");
        Ok(outcome)
    }
}
