//! The SLA sweeper: once a minute, read the due index bucket by bucket from the watermark up
//! to now, and for each due ticket record its warnings and breaches, escalate, queue the
//! alerts and move its timers on ([`SlaPolicies::sweep`]); a conversation the customer left
//! with the chat bot is solved in the same commit ([`crate::bot::idle`]).
//!
//! Exactly once, with any number of sweepers and retries:
//! - each ticket change is committed conditioned on the version that was read, so of two
//!   sweepers racing on a ticket one records the breach and the other finds it recorded;
//! - alerts go into the ticket's outbox in that same commit, then to the outbound queue, then
//!   the outbox is cleared (an `sla_notified` event). A crash in between leaves the ticket
//!   due with its outbox, and a later sweep queues the same jobs again: their ids are fixed,
//!   so the dispatcher delivers each once;
//! - buckets stay open for [`GRACE`] after they end (the index is eventually consistent and
//!   clocks drift); the watermark moves only past buckets read completely without failure,
//!   so after downtime the next runs catch up every missed minute, [`SweepLimits`] at a time.
//!
//! A bucket's tickets are swept [`SweepLimits::concurrency`] at a time: at peak, 20,000
//! timers fall due in one minute, and one commit after another would not finish within it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::SlaPolicies;
use super::escalation::EscalationTrigger;
use crate::envelope::seal;
use crate::forum_watch::{ForumSweep, due_message};
use crate::model::{Actor, EventKind, Ticket, TicketNumber};
use crate::ports::{Clock, Queue, QueueError, StoreError, TicketCommit, TicketStore, Watermarks};

/// The watermark's name in the store.
pub const WATERMARK: &str = "sla";
/// One bucket of the due index per minute.
pub const BUCKET_SECONDS: i64 = 60;
/// How long a bucket stays open after its minute ends.
pub const GRACE: Duration = Duration::from_secs(120);
/// A ticket whose alerts are still in its outbox this long after they were recorded is
/// assumed abandoned by the sweeper that recorded them, and its alerts are queued again.
pub const OUTBOX_RETRY: Duration = Duration::from_secs(60);
/// Commits that lose a race re-read the ticket and try again this many times.
const MAX_ATTEMPTS: usize = 5;

/// How much one run may do, so it ends well within the function's timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepLimits {
    pub max_buckets: usize,
    pub max_tickets: usize,
    /// Where the very first run starts, before any watermark exists.
    pub first_run_lookback: Duration,
    /// Tickets of one bucket swept at the same time.
    pub concurrency: usize,
    /// No new bucket is started after the run has taken this long (wall time), so a run
    /// that meets a slow store still ends within the function's timeout.
    pub max_run: Duration,
}

impl Default for SweepLimits {
    fn default() -> Self {
        Self {
            max_buckets: 240,
            // A peak minute's due timers (20,000 at 1×) and then some, in one run.
            max_tickets: 30_000,
            first_run_lookback: Duration::from_secs(2 * 3600),
            concurrency: 32,
            max_run: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("ticket {0} kept changing under the sweeper")]
    Contended(TicketNumber),
}

#[derive(Clone)]
pub struct SweeperPorts {
    pub tickets: Arc<dyn TicketStore>,
    pub watermarks: Arc<dyn Watermarks>,
    pub outbound: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub buckets_read: usize,
    /// Index entries read: what the run cost, to compare with what was due.
    pub items_read: usize,
    pub tickets_changed: usize,
    pub breaches: usize,
    pub warnings: usize,
    pub escalations: usize,
    pub alerts_queued: usize,
    /// Commits lost to another writer (then retried on a fresh read).
    pub conflicts: usize,
    /// Tickets left for the next run because of an error.
    pub failures: usize,
    /// Forum questions past their deadline without a staff answer, queued to the router to
    /// become tickets (see [`crate::forum_watch`]).
    pub forum_questions_due: usize,
    /// Conversations the customer left with the bot, solved (see [`crate::bot::idle`]).
    pub bot_closed: usize,
    /// The watermark after the run.
    pub watermark: Option<Timestamp>,
}

impl SweepReport {
    /// Adds what one ticket's sweep did.
    fn absorb(&mut self, part: &SweepReport) {
        self.tickets_changed += part.tickets_changed;
        self.breaches += part.breaches;
        self.warnings += part.warnings;
        self.escalations += part.escalations;
        self.alerts_queued += part.alerts_queued;
        self.bot_closed += part.bot_closed;
        self.conflicts += part.conflicts;
        self.failures += part.failures;
    }
}

pub struct SlaSweeper {
    ports: SweeperPorts,
    policies: Arc<SlaPolicies>,
    limits: SweepLimits,
    /// Forum questions waiting for staff share the due index and the watermark.
    forum: Option<ForumSweep>,
}

/// The start of the minute `at` falls in (UTC; minutes are the same everywhere).
pub fn bucket_of(at: Timestamp) -> Timestamp {
    let second = at.as_second().div_euclid(BUCKET_SECONDS) * BUCKET_SECONDS;
    Timestamp::from_second(second).unwrap_or(at)
}

/// The due index's partition key for `at`: its UTC minute, `2026-11-27T09:55`.
pub fn bucket_key(at: Timestamp) -> String {
    bucket_of(at).strftime("%Y-%m-%dT%H:%M").to_string()
}

fn plus(at: Timestamp, seconds: i64) -> Timestamp {
    at.checked_add(SignedDuration::from_secs(seconds)).unwrap_or(at)
}

impl SlaSweeper {
    pub fn new(ports: SweeperPorts, policies: Arc<SlaPolicies>) -> Self {
        Self { ports, policies, limits: SweepLimits::default(), forum: None }
    }

    /// Also queues the forum questions that fall due.
    pub fn with_forum(mut self, forum: ForumSweep) -> Self {
        self.forum = Some(forum);
        self
    }

    pub fn with_limits(mut self, limits: SweepLimits) -> Self {
        self.limits = limits;
        self
    }

    /// One run, as the 1-minute schedule invokes it.
    pub async fn run(&self) -> Result<SweepReport, SweepError> {
        let now = self.ports.clock.now();
        let current = bucket_of(now);
        let grace = SignedDuration::try_from(GRACE).unwrap_or(SignedDuration::ZERO);
        // The last bucket that may be closed: ended at least GRACE ago.
        let closable = plus(bucket_of(now.checked_sub(grace).unwrap_or(now)), -BUCKET_SECONDS);
        let watermark = self.ports.watermarks.watermark(WATERMARK).await?;
        let lookback =
            SignedDuration::try_from(self.limits.first_run_lookback).unwrap_or(SignedDuration::ZERO);
        let mut bucket = match watermark {
            Some(done) => plus(done, BUCKET_SECONDS),
            None => bucket_of(now.checked_sub(lookback).unwrap_or(now)),
        };
        let mut report = SweepReport { watermark, ..SweepReport::default() };
        let mut closed = watermark;
        let mut clean = true;
        let mut budget = self.limits.max_tickets;
        let started = Instant::now();
        for _ in 0..self.limits.max_buckets {
            if bucket > current || budget == 0 || started.elapsed() >= self.limits.max_run {
                break;
            }
            let due = match self.ports.tickets.due_tickets(bucket, now, budget + 1).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(bucket = %bucket, %error, "sla.bucket_unreadable");
                    report.failures += 1;
                    break;
                }
            };
            report.buckets_read += 1;
            report.items_read += due.len();
            let complete = due.len() <= budget;
            let taken: Vec<Ticket> = due.into_iter().take(budget).collect();
            budget -= taken.len();
            let mut swept = stream::iter(taken)
                .map(|ticket| async move {
                    let number = ticket.number;
                    let mut part = SweepReport::default();
                    let outcome = self.process(ticket, now, &mut part).await;
                    (number, outcome, part)
                })
                .buffer_unordered(self.limits.concurrency.max(1));
            while let Some((number, outcome, part)) = swept.next().await {
                report.absorb(&part);
                if let Err(error) = outcome {
                    tracing::warn!(ticket = number.0, %error, "sla.sweep_failed");
                    report.failures += 1;
                    clean = false;
                }
            }
            clean &= complete;
            if let Some(forum) = &self.forum {
                match forum_bucket(forum, bucket, now, budget).await {
                    Ok((queued, complete)) => {
                        report.forum_questions_due += queued;
                        budget = budget.saturating_sub(queued);
                        clean &= complete;
                    }
                    Err(error) => {
                        tracing::warn!(bucket = %bucket, %error, "sla.forum_bucket_failed");
                        report.failures += 1;
                        clean = false;
                    }
                }
            }
            if clean && bucket <= closable {
                closed = Some(bucket);
            }
            bucket = plus(bucket, BUCKET_SECONDS);
        }
        if let Some(to) = closed
            && closed != watermark
        {
            match self.ports.watermarks.advance_watermark(WATERMARK, watermark, to).await {
                Ok(()) => report.watermark = closed,
                // Another sweeper moved it: its run covered these buckets too.
                Err(StoreError::Conflict(_)) => tracing::info!("sla.watermark_moved_by_another"),
                Err(other) => return Err(other.into()),
            }
        }
        tracing::info!(
            buckets = report.buckets_read,
            items = report.items_read,
            breaches = report.breaches,
            warnings = report.warnings,
            failures = report.failures,
            bot_closed = report.bot_closed,
            "sla.swept"
        );
        Ok(report)
    }

    /// Sweeps one ticket as read from the index (possibly stale), retrying on a fresh read
    /// when a commit loses to another writer.
    async fn process(
        &self,
        mut ticket: Ticket,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        for _ in 0..MAX_ATTEMPTS {
            if outbox_abandoned(&ticket, now) {
                match self.flush(ticket.clone(), now, report).await? {
                    Some(flushed) => ticket = flushed,
                    None => return Ok(()),
                }
            }
            let mut next = ticket.clone();
            // A conversation the customer left with the bot, due now: closed in this commit.
            let closed = match crate::bot::idle::close(&mut next, now) {
                Ok(closed) => closed,
                Err(error) => {
                    tracing::warn!(ticket = ticket.number.0, %error, "bot.idle_close_refused");
                    None
                }
            };
            if let Some(close) = &closed {
                self.policies.apply(&mut next, &close.events, None);
            }
            let change = self.policies.sweep(&mut next, now);
            if change.is_empty() && closed.is_none() {
                if next.due_at != ticket.due_at && next.due_at.is_some_and(|d| d > now) {
                    // Only a configuration change moves an instant without an event; the
                    // entry refreshes on the ticket's next change.
                    tracing::info!(ticket = ticket.number.0, "sla.due_moved_without_event");
                }
                return Ok(());
            }
            let (mut events, messages) = match &closed {
                Some(close) => (close.events.clone(), vec![close.note.clone()]),
                None => (Vec::new(), Vec::new()),
            };
            events.extend(change.events.iter().cloned());
            let commit = TicketCommit {
                ticket: next.clone(),
                expected_version: Some(ticket.version),
                messages,
                events,
                thread_claims: Vec::new(),
                idempotency: None,
            };
            match self.ports.tickets.commit(commit).await {
                Ok(()) => {
                    report.tickets_changed += 1;
                    if closed.is_some() {
                        report.bot_closed += 1;
                        tracing::info!(ticket = next.number.0, "bot.idle_closed");
                    }
                    for fired in &change.fired {
                        match fired.trigger {
                            EscalationTrigger::Breach => report.breaches += 1,
                            EscalationTrigger::Warning => report.warnings += 1,
                        }
                        tracing::info!(ticket = next.number.0, timer = %fired.kind, trigger = ?fired.trigger, "sla.fired");
                    }
                    report.escalations += change.escalations;
                    if !next.sla.outbox.is_empty() {
                        self.flush(next, now, report).await?;
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
        Err(SweepError::Contended(ticket.number))
    }

    /// Queues the outbox, then clears it with an `sla_notified` event. Returns the ticket as
    /// committed, or `None` when another writer cleared the outbox first.
    async fn flush(
        &self,
        mut ticket: Ticket,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> Result<Option<Ticket>, SweepError> {
        let jobs = ticket.sla.outbox.clone();
        self.ports.outbound.send_batch(jobs.iter().map(seal).collect()).await?;
        report.alerts_queued += jobs.len();
        let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
        for _ in 0..MAX_ATTEMPTS {
            if !ticket.sla.outbox.iter().any(|j| ids.contains(&j.id)) {
                return Ok(None);
            }
            let expected = ticket.version;
            let mut next = ticket.clone();
            next.sla.outbox.retain(|j| !ids.contains(&j.id));
            let event = next.record(Actor::System, EventKind::SlaNotified { jobs: ids.clone() }, now);
            self.policies.refresh_due(&mut next, now);
            let commit = TicketCommit {
                ticket: next.clone(),
                expected_version: Some(expected),
                messages: Vec::new(),
                events: vec![event],
                thread_claims: Vec::new(),
                idempotency: None,
            };
            match self.ports.tickets.commit(commit).await {
                Ok(()) => return Ok(Some(next)),
                Err(StoreError::Conflict(_)) => {
                    report.conflicts += 1;
                    match self.ports.tickets.ticket(ticket.number).await? {
                        Some(fresh) => ticket = fresh,
                        None => return Ok(None),
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(SweepError::Contended(ticket.number))
    }
}

/// Queues the waiting forum questions due in `bucket` by `now` (at most `budget`): their
/// fixed keys make a repeat of this (another sweeper, a retry) open no second ticket.
/// Returns how many were queued and whether the bucket was read to its end.
async fn forum_bucket(
    forum: &ForumSweep,
    bucket: Timestamp,
    now: Timestamp,
    budget: usize,
) -> Result<(usize, bool), SweepError> {
    let due = forum.questions.due_questions(bucket, now, budget + 1).await?;
    let complete = due.len() <= budget;
    let messages: Vec<_> = due.iter().take(budget).filter_map(due_message).map(|m| seal(&m)).collect();
    let queued = messages.len();
    if queued > 0 {
        forum.inbound.send_batch(messages).await?;
        tracing::info!(bucket = %bucket, queued, "sla.forum_questions_due");
    }
    Ok((queued, complete))
}

/// Alerts recorded long enough ago that whoever recorded them must have failed to queue them.
fn outbox_abandoned(ticket: &Ticket, now: Timestamp) -> bool {
    let retry = SignedDuration::try_from(OUTBOX_RETRY).unwrap_or(SignedDuration::ZERO);
    ticket
        .sla
        .outbox
        .iter()
        .map(|job| job.created_at)
        .max()
        .is_some_and(|recorded| recorded.checked_add(retry).is_ok_and(|stale| stale <= now))
}
