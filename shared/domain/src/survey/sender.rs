//! The survey sender: on a schedule, read the due index bucket by bucket from its own
//! watermark up to now (the same index and bucketing as the SLA sweeper, so a run costs what
//! is due, not what is open), and for each ticket whose survey is due decide and act once.
//!
//! Exactly once, with retries and racing senders:
//! - the customer's cooldown slot (`last_survey`) is claimed with a version-conditioned update
//!   before anything goes out, so of two tickets of one customer due together one is sent;
//! - the job's id is fixed per ticket ([`OutboundJob::survey_id`]) and the link's id is derived
//!   from the key and the ticket, so a send repeated after a crash or by a racing sender is the
//!   same delivery, which the dispatcher sends once;
//! - the ticket's commit (`survey_sent`) is conditioned on the version read; the loser re-reads
//!   and finds the survey sent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::texts::{Lang, Texts, survey_mail_text};
use super::{SPAM_TAG, SurveyRules, TokenKeys, token_key};
use crate::envelope::seal;
use crate::model::{
    Actor, Channel, ChannelRef, Customer, CustomerId, Direction, EventKind, Identity, LastSurvey, Status,
    Ticket,
};
use crate::outbound::{Destination, EmailDestination, OutboundJob, OutboundKind, SurveyLinks};
use crate::ports::{
    Clock, CustomerStore, Queue, QueueError, StoreError, ThreadClaim, ThreadKey, TicketCommit, TicketStore,
    Watermarks,
};
use crate::router::EmailRules;
use crate::sla::sweeper::{BUCKET_SECONDS, GRACE, bucket_of};
use crate::system::later;

/// The sender's watermark in the store (the SLA sweeper keeps its own).
pub const WATERMARK: &str = "survey";
/// Re-reads after a lost race before the ticket is left for the next run.
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    pub max_buckets: usize,
    pub max_tickets: usize,
    /// Where the very first run starts, before any watermark exists.
    pub first_run_lookback: Duration,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self { max_buckets: 240, max_tickets: 500, first_run_lookback: Duration::from_secs(2 * 3600) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("ticket {0} kept changing under the survey sender")]
    Contended(u64),
}

#[derive(Clone)]
pub struct SenderPorts {
    pub tickets: Arc<dyn TicketStore>,
    pub customers: Arc<dyn CustomerStore>,
    pub watermarks: Arc<dyn Watermarks>,
    pub outbound: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub buckets_read: usize,
    /// Index entries read (SLA-only entries included): the run's cost.
    pub items_read: usize,
    /// Entries whose survey was due.
    pub due: usize,
    pub sent: usize,
    /// Skipped surveys by reason.
    pub skipped: BTreeMap<String, usize>,
    pub conflicts: usize,
    pub failures: usize,
    pub watermark: Option<Timestamp>,
}

pub struct SurveySender {
    ports: SenderPorts,
    rules: Arc<SurveyRules>,
    keys: TokenKeys,
    /// `https://desk.example` — where `/v1/surveys/{token}` is served.
    base_url: String,
    email: Option<EmailRules>,
    limits: SendLimits,
}

/// What to do with one due survey.
// One lives briefly on the stack per due ticket; boxing the large variant buys nothing.
#[allow(clippy::large_enum_variant)]
enum Decision {
    Skip(&'static str),
    Send { customer: Customer, destination: Destination, lang: Lang },
}

fn plus(at: Timestamp, seconds: i64) -> Timestamp {
    at.checked_add(SignedDuration::from_secs(seconds)).unwrap_or(at)
}

impl SurveySender {
    pub fn new(
        ports: SenderPorts,
        rules: Arc<SurveyRules>,
        keys: TokenKeys,
        base_url: &str,
        email: Option<EmailRules>,
    ) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        Self { ports, rules, keys, base_url, email, limits: SendLimits::default() }
    }

    pub fn with_limits(mut self, limits: SendLimits) -> Self {
        self.limits = limits;
        self
    }

    /// One scheduled run.
    pub async fn run(&self) -> Result<SendReport, SendError> {
        self.run_at(self.ports.clock.now(), true).await
    }

    /// A run as if it were `now`. Without `advance`, the watermark stays where it is (the
    /// local desk's "send what would be due in N minutes" preview).
    pub async fn run_at(&self, now: Timestamp, advance: bool) -> Result<SendReport, SendError> {
        let current = bucket_of(now);
        let grace = SignedDuration::try_from(GRACE).unwrap_or(SignedDuration::ZERO);
        let closable = plus(bucket_of(now.checked_sub(grace).unwrap_or(now)), -BUCKET_SECONDS);
        let watermark = self.ports.watermarks.watermark(WATERMARK).await?;
        let lookback =
            SignedDuration::try_from(self.limits.first_run_lookback).unwrap_or(SignedDuration::ZERO);
        let first = bucket_of(now.checked_sub(lookback).unwrap_or(now));
        let mut bucket = match watermark {
            Some(done) if advance => plus(done, BUCKET_SECONDS),
            Some(done) => plus(done, BUCKET_SECONDS).min(first),
            None => first,
        };
        let mut report = SendReport { watermark, ..SendReport::default() };
        let mut closed = watermark;
        let mut clean = true;
        let mut budget = self.limits.max_tickets;
        for _ in 0..self.limits.max_buckets {
            if bucket > current || budget == 0 {
                break;
            }
            let due = match self.ports.tickets.due_tickets(bucket, now, budget + 1).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(bucket = %bucket, %error, "survey.bucket_unreadable");
                    report.failures += 1;
                    break;
                }
            };
            report.buckets_read += 1;
            report.items_read += due.len();
            let complete = due.len() <= budget;
            for ticket in due.into_iter().take(budget) {
                budget -= 1;
                let number = ticket.number;
                if let Err(error) = self.process(ticket, now, &mut report).await {
                    tracing::warn!(ticket = number.0, %error, "survey.send_failed");
                    report.failures += 1;
                    clean = false;
                }
            }
            clean &= complete;
            if clean && bucket <= closable {
                closed = Some(bucket);
            }
            bucket = plus(bucket, BUCKET_SECONDS);
        }
        if advance
            && let Some(to) = closed
            && closed != watermark
        {
            match self.ports.watermarks.advance_watermark(WATERMARK, watermark, to).await {
                Ok(()) => report.watermark = closed,
                Err(StoreError::Conflict(_)) => tracing::info!("survey.watermark_moved_by_another"),
                Err(other) => return Err(other.into()),
            }
        }
        tracing::info!(
            buckets = report.buckets_read,
            items = report.items_read,
            due = report.due,
            sent = report.sent,
            failures = report.failures,
            "survey.run"
        );
        Ok(report)
    }

    /// One index entry, possibly stale: acts only if its survey is due, re-reading after a
    /// lost race.
    async fn process(
        &self,
        mut ticket: Ticket,
        now: Timestamp,
        report: &mut SendReport,
    ) -> Result<(), SendError> {
        let mut counted = false;
        for _ in 0..MAX_ATTEMPTS {
            let Some(due) = ticket.survey.as_ref().and_then(|s| s.due_at) else { return Ok(()) };
            if due > now {
                return Ok(());
            }
            if !counted {
                report.due += 1;
                counted = true;
            }
            let expected = ticket.version;
            let mut next = ticket.clone();
            let mut claims = Vec::new();
            let mut job = None;
            let event = match self.decide(&ticket, now).await? {
                Decision::Skip(reason) => {
                    let survey = next.survey.get_or_insert_with(Default::default);
                    survey.due_at = None;
                    survey.skipped = Some(reason.to_owned());
                    next.record(Actor::System, EventKind::SurveySkipped { reason: reason.to_owned() }, now)
                }
                Decision::Send { customer, destination, lang } => {
                    if !self.claim_cooldown(&customer, &ticket, now).await? {
                        report.conflicts += 1;
                        continue;
                    }
                    let id = self.keys.survey_id(ticket.number, due);
                    let expires_at = later(due, self.rules.link_valid);
                    let token = self.keys.token(&id, expires_at);
                    let sent = self.job(&ticket, destination, lang, &token, now);
                    if let Destination::Email(mail) = &sent.destination {
                        claims.push(ThreadClaim {
                            key: ThreadKey::email_message(&mail.message_id),
                            ticket: ticket.number,
                            replaces: None,
                        });
                    }
                    claims.push(ThreadClaim { key: token_key(&id), ticket: ticket.number, replaces: None });
                    let survey = next.survey.get_or_insert_with(Default::default);
                    survey.due_at = None;
                    survey.sent_at = Some(now);
                    survey.token_id = Some(id);
                    survey.expires_at = Some(expires_at);
                    let kind = EventKind::SurveySent {
                        channel: Some(ticket.channel),
                        team: ticket.team.clone(),
                        agent: ticket.assignee.clone(),
                    };
                    job = Some(sent);
                    next.record(Actor::System, kind, now)
                }
            };
            crate::sla::derive_due(&mut next, now);
            if let Some(job) = &job {
                // Queued before the commit: a crash in between leaves the ticket due, and the
                // next run queues the same job id again, which the dispatcher sends once.
                self.ports.outbound.send(seal(job)).await?;
            }
            let commit = TicketCommit {
                ticket: next.clone(),
                expected_version: Some(expected),
                messages: Vec::new(),
                events: vec![event],
                thread_claims: claims,
                idempotency: None,
            };
            match self.ports.tickets.commit(commit).await {
                Ok(()) => {
                    match (&job, &next.survey.as_ref().and_then(|s| s.skipped.clone())) {
                        (Some(_), _) => {
                            report.sent += 1;
                            tracing::info!(ticket = next.number.0, "survey.sent");
                        }
                        (None, Some(reason)) => {
                            *report.skipped.entry(reason.clone()).or_default() += 1;
                            tracing::info!(ticket = next.number.0, reason, "survey.skipped");
                        }
                        (None, None) => {}
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => {
                    report.conflicts += 1;
                    match self.ports.tickets.ticket(ticket.number).await? {
                        Some(fresh) => ticket = fresh,
                        None => return Ok(()),
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(SendError::Contended(ticket.number.0))
    }

    /// Whether the survey may go, and where.
    async fn decide(&self, ticket: &Ticket, now: Timestamp) -> Result<Decision, SendError> {
        if ticket.merged_into.is_some() {
            return Ok(Decision::Skip("merged"));
        }
        if ticket.tags.contains(SPAM_TAG) {
            return Ok(Decision::Skip("spam"));
        }
        if ticket.erased_at.is_some() {
            return Ok(Decision::Skip("erased"));
        }
        if !matches!(ticket.status, Status::Solved | Status::Closed) {
            return Ok(Decision::Skip("reopened"));
        }
        let Some(customer) = self.customer(&ticket.requester).await? else {
            return Ok(Decision::Skip("no_customer"));
        };
        if customer.erased_at.is_some() {
            return Ok(Decision::Skip("erased"));
        }
        if customer.survey_opt_out {
            return Ok(Decision::Skip("opted_out"));
        }
        if customer
            .last_survey
            .is_some_and(|last| last.ticket != ticket.number && self.rules.in_cooldown(last.at, now))
        {
            return Ok(Decision::Skip("cooldown"));
        }
        let thread = self.ports.tickets.messages(ticket.number).await?;
        let last_inbound: Vec<&ChannelRef> = thread
            .iter()
            .rev()
            .filter(|m| m.direction == Direction::Inbound)
            .map(|m| &m.channel_ref)
            .collect();
        let mail_ref = last_inbound.iter().find(|r| matches!(r, ChannelRef::Email { .. })).copied();
        let lang = Lang::from_tag(ticket.language.as_deref().or(match mail_ref {
            Some(ChannelRef::Email { language, .. }) => language.as_deref(),
            _ => None,
        }));
        let destination = match ticket.channel {
            Channel::Chat => {
                let Some((inbox, conversation_id)) = last_inbound.iter().find_map(|r| match r {
                    ChannelRef::Chat { inbox, conversation_id, .. } => {
                        Some((inbox.clone(), conversation_id.clone()))
                    }
                    _ => None,
                }) else {
                    return Ok(Decision::Skip("no_conversation"));
                };
                let visitor_id = customer.identities.iter().find_map(|i| match i {
                    Identity::ChatVisitor { inbox: own, visitor } if *own == inbox => Some(visitor.clone()),
                    _ => None,
                });
                Destination::Chat { inbox, conversation_id, visitor_id }
            }
            // Mail tickets: the address the customer wrote from; phone tickets: only an address
            // the customer verified (a claimed identity), else no survey.
            Channel::Email | Channel::Phone => {
                let Some(rules) = &self.email else { return Ok(Decision::Skip("no_email_channel")) };
                let candidates: Vec<&String> = if ticket.channel == Channel::Email {
                    emails(customer.identities.iter().chain(&customer.unverified))
                } else {
                    emails(customer.identities.iter())
                };
                if candidates.is_empty() {
                    return Ok(Decision::Skip("no_address"));
                }
                let Some(to) = candidates.into_iter().find(|a| !customer.is_bouncing(a, now)) else {
                    return Ok(Decision::Skip("bouncing"));
                };
                let reference = if ticket.channel == Channel::Email { mail_ref } else { None };
                Destination::Email(email_destination(rules, ticket, to.clone(), reference, lang))
            }
            Channel::Wechat
            | Channel::Messenger
            | Channel::Instagram
            | Channel::Whatsapp
            | Channel::Forum
            | Channel::Social => return Ok(Decision::Skip("unsupported_channel")),
        };
        Ok(Decision::Send { customer, destination, lang })
    }

    /// The customer record, following one merge.
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let customer = self.ports.customers.customer(id).await?;
        match customer.as_ref().and_then(|c| c.merged_into.clone()) {
            Some(into) => Ok(self.ports.customers.customer(&into).await?.or(customer)),
            None => Ok(customer),
        }
    }

    /// Takes the customer's cooldown slot for this ticket; `false` if another writer changed
    /// the customer first (decide again on a fresh read).
    async fn claim_cooldown(
        &self,
        customer: &Customer,
        ticket: &Ticket,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        if customer.last_survey.is_some_and(|last| last.ticket == ticket.number) {
            return Ok(true);
        }
        let mut next = customer.clone();
        next.last_survey = Some(LastSurvey { at: now, ticket: ticket.number });
        next.updated_at = now;
        next.version = customer.version + 1;
        match self.ports.customers.update(&next, customer.version).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    fn job(
        &self,
        ticket: &Ticket,
        destination: Destination,
        lang: Lang,
        token: &str,
        now: Timestamp,
    ) -> OutboundJob {
        let form = format!("{}/v1/surveys/{token}", self.base_url);
        let links = SurveyLinks { unsubscribe: format!("{form}/unsubscribe?lang={}", lang.tag()), form };
        let text = match &destination {
            Destination::Email(_) => survey_mail_text(ticket.number, &links, lang),
            _ => Texts::fill(lang.texts().chat_message, ticket.number)
                .replace("{link}", &format!("{}?lang={}", links.form, lang.tag())),
        };
        OutboundJob {
            id: OutboundJob::survey_id(ticket.number),
            ticket: ticket.number,
            message: crate::model::MessageId::new(format!("survey_{}", ticket.number.0)),
            kind: OutboundKind::Survey,
            destination,
            text,
            created_at: now,
            survey: Some(links),
        }
    }
}

fn emails<'a>(identities: impl Iterator<Item = &'a Identity>) -> Vec<&'a String> {
    identities
        .filter_map(|i| match i {
            Identity::Email { address } => Some(address),
            _ => None,
        })
        .collect()
}

/// A survey mail: to the customer only, in the ticket's thread when it has one.
fn email_destination(
    rules: &EmailRules,
    ticket: &Ticket,
    to: String,
    reference: Option<&ChannelRef>,
    lang: Lang,
) -> EmailDestination {
    let (in_reply_to, mut references, mailbox) = match reference {
        Some(ChannelRef::Email { message_id, references, mailbox, .. }) => {
            (Some(message_id.clone()), references.clone(), mailbox.clone())
        }
        _ => (None, Vec::new(), None),
    };
    if let Some(parent) = &in_reply_to {
        references.retain(|id| id != parent);
        references.push(parent.clone());
    }
    EmailDestination {
        to,
        cc: Vec::new(),
        from: mailbox.unwrap_or_else(|| format!("{}@{}", rules.reply_local_part, rules.domain)),
        reply_to: ticket.reply_token.as_deref().map(|token| rules.reply_address(token)),
        subject: Texts::fill(lang.texts().subject, ticket.number),
        message_id: format!("survey-{}@{}", ticket.number.0, rules.domain),
        in_reply_to,
        references,
        language: lang.tag().to_owned(),
    }
}
