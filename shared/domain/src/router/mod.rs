//! The ticket router: the single writer of ticket state from inbound traffic. For each
//! `InboundMessage` it finds the customer, threads the message onto its ticket (or opens one
//! with a number from the counter), and queues the auto-acknowledgement — exactly once,
//! however often the message is delivered.

mod acknowledgement;
mod bot_step;
mod bounces;
mod customers;
pub mod email;
mod erased;
mod forum;
mod forum_question;
mod order_step;
pub mod participants;
pub mod phone;
mod refusals;
mod return_step;
mod suggestions;
mod team_routing;
pub(crate) use team_routing::{Staffing, route_new_ticket, team_staff};
pub mod threading;
mod unreadable;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use bot_step::{ChatBot, SELF_SERVED_TAG};
pub use customers::resolve_customer;
pub use email::{EmailRules, EmailTemplate};
pub use forum_question::ForumWatch;
pub use order_step::{MAX_LINKED_ORDERS, OrderLookup, link as link_order};
pub use suggestions::{MAX_SUGGESTIONS, MailSuggestions};
pub use unreadable::UNREADABLE_TAG;

use crate::assignment::Routing;
use crate::envelope::seal;
use crate::inbound::{InboundMessage, Source};
use crate::lifecycle::LifecycleError;
use crate::log_id::Hashed;
use crate::model::{
    Actor, AuthorKind, CustomerId, Direction, Message, MessageId, Status, Ticket, TicketNumber, Visibility,
};
use crate::outbound::{Destination, OutboundJob};
use crate::phone::PhoneRules;
use crate::ports::{
    AgentStore, Clock, CustomerStore, IdSource, IdempotencyRecord, IdempotencyStore, Queue, QueueError,
    RateLimiter, StoreError, ThreadClaim, ThreadKey, TicketCommit, TicketStore,
};
use crate::sla::SlaPolicies;
use crate::system::later;
use crate::ticket_numbers::NumberLease;
use participants::Standing;
use threading::Merged;

/// Longer than SQS keeps a message (14 days at most), so no redelivery outlives its record.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(15 * 24 * 3600);

/// Commits that lose a race re-read and try again this many times before giving the message
/// back to the queue.
const MAX_COMMIT_ATTEMPTS: usize = 5;

/// Longest subject taken from the first line of a chat message, in characters.
const MAX_SUBJECT_CHARS: usize = 80;

pub use participants::{DMARC_FAILED_TAG, THIRD_PARTY_TAG, UNAUTHENTICATED_TAG, VIRUS_QUARANTINED_TAG};

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
    /// The chat acknowledgement; email has its own templates ([`EmailRules`]).
    fn chat_text(&self, inbox: &str, ticket: TicketNumber) -> Option<String> {
        let template = self.per_inbox.get(inbox).unwrap_or(&self.default);
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
    /// Received before its ticket's customer was erased: dropped, nothing was written.
    #[serde(skip)]
    pub dropped: bool,
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
            RouteError::Store(StoreError::Corrupt(_) | StoreError::Invalid(_))
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
    /// The per-sender cap on automatic mail.
    pub limiter: Arc<dyn RateLimiter>,
    /// Who may take a new ticket (with a `[routing]` config).
    pub agents: Arc<dyn AgentStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

pub struct TicketRouter {
    ports: RouterPorts,
    acknowledgements: Acknowledgements,
    email: EmailRules,
    /// Chooses a new ticket's team (and may raise its priority); none: tickets stay unrouted.
    routing: Option<Routing>,
    /// Starts and moves SLA timers on every change; none: tickets have no SLA.
    sla: Option<Arc<SlaPolicies>>,
    /// Callback targets for missed calls.
    phone: PhoneRules,
    /// Answers chat questions from the knowledge base in the inboxes it is enabled for.
    bot: Option<Arc<ChatBot>>,
    /// Articles listed in mail acknowledgements.
    suggestions: Option<Arc<MailSuggestions>>,
    /// The shop: order numbers link tickets, the bot answers order status.
    orders: Option<Arc<OrderLookup>>,
    /// Forum questions wait for staff before they are tickets.
    forum: Option<ForumWatch>,
    /// This process's block of ticket numbers.
    numbers: NumberLease,
}

/// A message to a closed ticket: the follow-up's origin, and the thread key that led there.
struct FollowUp {
    of: TicketNumber,
    key: Option<ThreadKey>,
    /// The new ticket names `of` as what it follows up (not after an erasure).
    linked: bool,
}

/// A commit ready to write, and what it will have done once written.
struct Plan {
    commit: TicketCommit,
    outcome: RouteOutcome,
}

impl TicketRouter {
    pub fn new(ports: RouterPorts, acknowledgements: Acknowledgements) -> Self {
        Self {
            ports,
            acknowledgements,
            email: EmailRules::default(),
            routing: None,
            sla: None,
            phone: PhoneRules::default(),
            bot: None,
            suggestions: None,
            orders: None,
            forum: None,
            numbers: NumberLease::default(),
        }
    }

    pub fn with_suggestions(mut self, suggestions: Arc<MailSuggestions>) -> Self {
        self.suggestions = Some(suggestions);
        self
    }

    pub fn with_bot(mut self, bot: Arc<ChatBot>) -> Self {
        self.bot = Some(bot);
        self
    }

    pub fn with_phone_rules(mut self, rules: PhoneRules) -> Self {
        self.phone = rules;
        self
    }

    /// Keeps forum questions as pending until their forum's business hours pass unanswered.
    pub fn with_forum_watch(mut self, watch: ForumWatch) -> Self {
        self.forum = Some(watch);
        self
    }

    pub fn with_sla(mut self, policies: Arc<SlaPolicies>) -> Self {
        self.sla = Some(policies);
        self
    }

    pub fn with_routing(mut self, routing: Routing) -> Self {
        self.routing = Some(routing);
        self
    }

    pub fn with_email_rules(mut self, rules: EmailRules) -> Self {
        self.email = rules;
        self
    }

    /// Routes one message. There is no up-front "seen this before?" read: the commit itself
    /// carries the idempotency record with the condition that the key is not done, so a
    /// repeat loses the commit and then finds the first result. Repeats are rare; the read
    /// saved on every message is not.
    pub async fn route(&self, inbound: &InboundMessage) -> Result<RouteOutcome, RouteError> {
        let now = self.ports.clock.now();
        // A later event of a call: its ticket, read once for the erasure check, the customer
        // and the plan (a call's first event has no thread to look up yet).
        let mut on_call = self.call_ticket(inbound).await?;
        // Before the customer is resolved: a dropped message must not re-create the person.
        let dropped = match &on_call {
            Some(ticket) => erased::dropped(ticket, inbound),
            None if matches!(inbound.source, Source::Phone(_)) => None,
            None => erased::received_before_erasure(&*self.ports.tickets, inbound).await?,
        };
        if let Some(dropped) = dropped {
            return Ok(dropped);
        }
        // Staff answering on the forum are no customers: no customer record is made for them.
        if let Source::Social(social) = &inbound.source
            && social.staff
        {
            return self.route_forum_answer(inbound, social, now).await;
        }
        if let Some(outcome) = self.watch_forum_post(inbound, now).await? {
            return Ok(outcome);
        }
        // Written after its customer was erased: a new contact (see `plan_call`).
        on_call = on_call.filter(|ticket| ticket.erased_at.is_none());
        let customer = if inbound.is_unreadable_email() {
            self.placeholder_customer(inbound, now).await?
        } else if let Some(ticket) = &on_call {
            ticket.requester.clone()
        } else {
            match resolve_customer(&*self.ports.customers, &*self.ports.ids, inbound, now).await? {
                Some(customer) => customer,
                // Its sender was erased after it was received: dropped, no one made again.
                None => return Ok(forum_question::untouched(None, false, true)),
            }
        };
        if matches!(inbound.source, Source::Email(_)) {
            self.clear_bounce_mark(inbound, &customer).await?;
        }
        // After a lost commit, the mail's own Message-ID is checked before it is claimed.
        let mut check_own_key = false;
        for attempt in 1..=MAX_COMMIT_ATTEMPTS {
            // The call's ticket as read above, on the first attempt only: a retry reads afresh.
            let plan = match (on_call.take(), &inbound.source) {
                (Some(ticket), Source::Phone(phone)) => {
                    self.call_step(inbound, phone, &customer, ticket, now)?
                }
                _ => self.plan(inbound, &customer, now, check_own_key).await?,
            };
            match self.ports.tickets.commit(plan.commit).await {
                Ok(()) => {
                    self.enqueue(&plan.outcome.outbound).await?;
                    tracing::info!(
                        ticket = plan.outcome.ticket.0,
                        opened = plan.outcome.opened,
                        channel = inbound.channel().as_str(),
                        key = %Hashed(&inbound.idempotency_key),
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
                    check_own_key = true;
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
            StoreError::Corrupt(format!("idempotency result {}: {e}", Hashed(&inbound.idempotency_key)))
        })?;
        self.enqueue(&outcome.outbound).await?;
        outcome.duplicate = true;
        tracing::info!(ticket = outcome.ticket.0, key = %Hashed(&inbound.idempotency_key), "router.duplicate");
        Ok(Some(outcome))
    }

    async fn plan(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        now: Timestamp,
        check_own_key: bool,
    ) -> Result<Plan, RouteError> {
        if let Source::Phone(phone) = &inbound.source {
            return self.plan_call(inbound, phone, customer, now).await;
        }
        let tickets = &*self.ports.tickets;
        let found = match threading::find_ticket(tickets, inbound, customer).await? {
            Some(found) => Some(threading::follow_merges(tickets, found, inbound, customer).await?),
            None => None,
        };
        let claim_own = !check_own_key || self.own_key_free(inbound).await?;
        match found {
            None => {
                // A reply that overtook the mail it answers: its ticket waits for that mail.
                // Not after a lost commit, which may have been lost on that very key (someone
                // else's reply to the same mail waits for it already).
                let awaited = match &inbound.source {
                    Source::Email(email) if !check_own_key => threading::awaited_parent(email),
                    _ => None,
                };
                let mut plan = self.open_ticket(inbound, customer, None, claim_own, now).await?;
                if let Some(key) = awaited {
                    let ticket = plan.outcome.ticket;
                    plan.commit.thread_claims.push(ThreadClaim { key, ticket, replaces: None });
                }
                Ok(plan)
            }
            // Its thread's key moves to the follow-up, as for a closed ticket.
            Some(Merged::Diverted(found)) => {
                let linked = found.ticket.erased_at.is_none();
                let previous = FollowUp { of: found.ticket.number, key: found.key, linked };
                self.open_ticket(inbound, customer, Some(previous), claim_own, now).await
            }
            // Written after its customer was erased: a new contact. The thread key moves to a
            // ticket of its own, not linked to the erased history.
            Some(Merged::Continue(found)) if found.ticket.erased_at.is_some() => {
                let previous = FollowUp { of: found.ticket.number, key: found.key, linked: false };
                self.open_ticket(inbound, customer, Some(previous), claim_own, now).await
            }
            Some(Merged::Continue(found)) if found.ticket.status == Status::Closed => {
                let previous = FollowUp { of: found.ticket.number, key: found.key, linked: true };
                self.open_ticket(inbound, customer, Some(previous), claim_own, now).await
            }
            Some(Merged::Continue(found)) => {
                self.continue_ticket(inbound, customer, found.ticket, claim_own, now).await
            }
        }
    }

    /// Whether a mail's own Message-ID is still unclaimed. Anyone can send a mail under a
    /// Message-ID that already names a ticket (the acknowledgement's, which every recipient
    /// sees, or another sender's): the mail is routed as usual, and the id keeps pointing
    /// where it did. A chat's own key is its conversation, which threading already followed.
    async fn own_key_free(&self, inbound: &InboundMessage) -> Result<bool, StoreError> {
        if !matches!(inbound.source, Source::Email(_)) {
            return Ok(true);
        }
        let holder = self.ports.tickets.thread_ticket(&inbound.thread_key()).await?;
        if let Some(ticket) = holder {
            tracing::info!(ticket = ticket.0, key = %inbound.idempotency_key, "router.message_id_taken");
        }
        Ok(holder.is_none())
    }

    async fn continue_ticket(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        mut ticket: Ticket,
        claim_own: bool,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let expected_version = Some(ticket.version);
        if ticket.requester == *customer {
            take_subject_if_earlier(&mut ticket, inbound);
        }
        // Stored before channels named their platform: it names it from now on.
        if ticket.channel == crate::model::Channel::Social {
            ticket.channel = inbound.channel();
        }
        let mut message = self.customer_message(inbound, customer, ticket.number);
        if let Source::Email(email) = &inbound.source {
            let standing = Standing::of(&ticket, inbound, customer);
            if standing == Standing::Requester {
                participants::take_cc(&mut ticket, &email.cc, self.email.max_cc);
            }
            participants::flag_mail(&mut ticket, &mut message, inbound, email, standing);
        }
        let mut events = ticket.add_message(&Actor::Customer(customer.clone()), &message, now)?;
        // The customer is here: a conversation left with the bot is not closed for silence
        // (the bot's answer below arms it again).
        crate::bot::idle::disarm(&mut ticket);
        events.extend(self.link_orders(inbound, &mut ticket, now));
        let mut messages = vec![message];
        let mut outbound = Vec::new();
        if let Some(turn) = self.bot_turn(inbound, customer, Some(&ticket)).await? {
            if turn.hands_off() {
                events.extend(self.hand_to_team(inbound, customer, &mut ticket, now).await?);
            }
            let effects = self.apply_bot_turn(turn, inbound, &mut ticket, now)?;
            events.extend(effects.events);
            messages.extend(effects.messages);
            outbound.extend(effects.outbound);
        } else {
            let (more, note) = self.bot_steps_aside(inbound, customer, &mut ticket, now).await?;
            events.extend(more);
            messages.extend(note);
        }
        // The requester's mail continuing a return that waits (for photos, an item …).
        if let Some((reply, job, more)) =
            self.mail_return_continued(inbound, customer, &mut ticket, now).await?
        {
            events.extend(more);
            events.extend(ticket.add_message(&Actor::System, &reply, now)?);
            messages.push(reply);
            outbound.extend(job);
        }
        if let Some(sla) = &self.sla {
            // The tier was remembered when the ticket opened.
            sla.apply(&mut ticket, &events, None);
        }
        // A customer writing to a solved ticket reopens it: its survey, not yet sent, is dropped.
        crate::survey::follow(&mut ticket, &events);
        let mut thread_claims = Vec::new();
        if let Source::Email(_) = &inbound.source {
            // Later replies may name this mail rather than the first one.
            if claim_own {
                thread_claims.push(ThreadClaim {
                    key: inbound.thread_key(),
                    ticket: ticket.number,
                    replaces: None,
                });
            }
        }
        let outcome = RouteOutcome {
            ticket: ticket.number,
            message: messages[0].id.clone(),
            customer: customer.clone(),
            opened: false,
            follow_up_of: None,
            outbound,
            duplicate: false,
            dropped: false,
        };
        let commit = TicketCommit {
            ticket,
            expected_version,
            messages,
            events,
            thread_claims,
            idempotency: Some(self.record(inbound, &outcome, now)),
        };
        Ok(Plan { commit, outcome })
    }

    async fn open_ticket(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        previous: Option<FollowUp>,
        claim_own: bool,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let follow_up_of = previous.as_ref().filter(|p| p.linked).map(|p| p.of);
        let number = self.numbers.next(&*self.ports.tickets).await?;
        let (mut ticket, created) = Ticket::open(
            number,
            inbound.channel(),
            subject_of(subject_source(inbound)),
            customer.clone(),
            follow_up_of,
            now,
        );
        ticket.subject_at = Some(inbound.thread_at());
        // This message's own key (a chat conversation, a mail's Message-ID), unclaimed...
        let own = ThreadClaim { key: inbound.thread_key(), ticket: number, replaces: None };
        let mut thread_claims: Vec<ThreadClaim> = claim_own.then_some(own).into_iter().collect();
        // ...and the key the closed ticket was found by moves to its follow-up. For chat the
        // two are the same key.
        if let Some(FollowUp { of, key: Some(key), .. }) = previous {
            thread_claims.retain(|claim| claim.key != key);
            thread_claims.push(ThreadClaim { key, ticket: number, replaces: Some(of) });
        }
        let mut message = self.customer_message(inbound, customer, number);
        if let Source::Email(email) = &inbound.source {
            let token = self.ports.ids.token();
            thread_claims.push(ThreadClaim {
                key: ThreadKey::email_token(&token),
                ticket: number,
                replaces: None,
            });
            ticket.reply_token = Some(token);
            // The sender opened it: the requester.
            participants::take_cc(&mut ticket, &email.cc, self.email.max_cc);
            participants::flag_mail(&mut ticket, &mut message, inbound, email, Standing::Requester);
            if email.unreadable.is_some() {
                ticket.tags.insert(UNREADABLE_TAG.to_owned());
            }
        }
        if let Source::Social(social) = &inbound.source
            && social.platform.is_public()
        {
            // Agents must know that their answer is read by everyone.
            ticket.tags.insert(crate::social::PUBLIC_TAG.to_owned());
        }
        let mut events = vec![created];
        events.extend(ticket.add_message(&Actor::Customer(customer.clone()), &message, now)?);
        events.extend(self.link_orders(inbound, &mut ticket, now));
        let bot_turn = self.bot_turn(inbound, customer, None).await?;
        // While the bot holds the conversation the ticket stays out of the team's queue.
        if !bot_turn.as_ref().is_some_and(|turn| turn.holds()) {
            events.extend(self.route_to_team(inbound, customer, &mut ticket, now).await?);
        }
        let mut messages = vec![message];
        let mut outbound = Vec::new();
        // A mail asking to return a named order: the return starts, and the acknowledgement
        // says what happened, in the mail's language.
        let mut mail_return = None;
        if let (Some(ask), Some(lookup), Source::Email(email)) =
            (self.mail_return_ask(inbound), self.orders.as_deref(), &inbound.source)
        {
            let answer = self.return_answer(lookup, customer, Some(&ticket), &ask).await?;
            events.extend(self.apply_return(&answer, &ask, customer, &mut ticket, now));
            let texts = crate::orders::OrderTexts::new(crate::orders::language_of_tag(&email.language));
            mail_return = Some(texts.return_answer(&answer, number));
        }
        if let Some(turn) = bot_turn {
            // The bot's words stand in for the acknowledgement; they carry the ticket number
            // when a person takes over.
            let effects = self.apply_bot_turn(turn, inbound, &mut ticket, now)?;
            events.extend(effects.events);
            messages.extend(effects.messages);
            outbound.extend(effects.outbound);
        } else if let Some((ack, job)) =
            self.acknowledgement(inbound, customer, &ticket, mail_return.as_deref(), now).await?
        {
            if let Destination::Email(mail) = &job.destination {
                // A reply naming only our mail (In-Reply-To without References) still threads.
                let key = ThreadKey::email_message(&mail.message_id);
                thread_claims.push(ThreadClaim { key, ticket: number, replaces: None });
            }
            events.extend(ticket.add_message(&Actor::System, &ack, now)?);
            outbound.push(job);
            messages.push(ack);
        }
        if let Some(sla) = &self.sla {
            let tier = if sla.uses_customer_tier() {
                self.ports.customers.customer(customer).await?.and_then(|c| c.tier)
            } else {
                None
            };
            sla.apply(&mut ticket, &events, tier.as_deref());
        }
        let outcome = RouteOutcome {
            ticket: number,
            message: messages[0].id.clone(),
            customer: customer.clone(),
            opened: true,
            follow_up_of,
            outbound,
            duplicate: false,
            dropped: false,
        };
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages,
            events,
            thread_claims,
            idempotency: Some(self.record(inbound, &outcome, now)),
        };
        Ok(Plan { commit, outcome })
    }

    fn customer_message(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: TicketNumber,
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
            // Its place in the thread (stores sort by it): when sent, not when routed.
            created_at: inbound.thread_at(),
            flags: Default::default(),
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

/// A message sent before the one the subject came from (routed later: the inbound queue does
/// not keep order) gives the ticket its subject: the subject is the conversation's opening.
/// Only the requester's own messages do: someone else in the thread names nothing.
fn take_subject_if_earlier(ticket: &mut Ticket, inbound: &InboundMessage) {
    let sent = inbound.thread_at();
    if ticket.subject_at.is_some_and(|current| sent < current) {
        ticket.subject = subject_of(subject_source(inbound));
        ticket.subject_at = Some(sent);
    }
}

/// What a ticket's subject is taken from: an email's subject, else the message text.
fn subject_source(inbound: &InboundMessage) -> &str {
    match &inbound.source {
        Source::Email(email) if !email.subject.trim().is_empty() => email.subject.as_str(),
        _ => inbound.text.as_str(),
    }
}

/// The first line of `text`, shortened on a character boundary.
fn subject_of(text: &str) -> String {
    let first_line = text.lines().map(crate::text::line).find(|l| !l.is_empty()).unwrap_or_default();
    let first_line = first_line.as_str();
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

#[cfg(test)]
mod email_tests;

#[cfg(test)]
mod order_tests;

#[cfg(test)]
mod return_tests;

#[cfg(test)]
mod trust_tests;
