//! Conversations the customer leaves with the bot: after the bot's last message a timer runs
//! ([`BotRules::close_after_minutes`](super::BotRules)); if the customer says nothing more
//! before it ends, the ticket is solved, with an internal note and a `bot_abandoned` event,
//! so it neither stays open forever in no queue nor counts as helped or handed over.
//!
//! The instant sits on the ticket ([`BotState::close_at`]) and joins `due_at`, so the SLA
//! sweeper finds it on the due index like any timer (ARCHITECTURE.md §4); each message the
//! bot sends while it keeps the conversation arms it again, and a customer's message or a
//! person taking over disarms it. The close is one version-conditioned commit: a message
//! that lands first disarms it, one that lands after reopens the solved ticket.

use std::time::Duration;

use jiff::Timestamp;

use super::{BotState, holds};
use crate::lifecycle::LifecycleError;
use crate::model::{
    Actor, AuthorKind, ChannelRef, Direction, EventKind, Message, MessageId, Status, Ticket, TicketEvent,
    Visibility,
};
use crate::system::later;

/// A day: most customers who leave after an answer do not come back within it.
pub const DEFAULT_CLOSE_AFTER_MINUTES: u32 = 24 * 60;
/// Shortest allowed: a customer reading an article needs a few minutes.
pub const MIN_CLOSE_AFTER_MINUTES: u32 = 5;
/// Longest allowed: a week.
pub const MAX_CLOSE_AFTER_MINUTES: u32 = 7 * 24 * 60;

/// Arms the timer: the bot has just spoken (`intent`) and keeps the conversation.
pub fn arm(state: &mut BotState, intent: &str, now: Timestamp, close_after_minutes: u32) {
    state.intent = Some(intent.to_owned());
    state.said_at = Some(now);
    state.close_at = Some(later(now, Duration::from_secs(u64::from(close_after_minutes) * 60)));
}

/// Disarms the timer: the customer wrote (the bot's answer, if any, arms it again) or the
/// conversation is no longer the bot's.
pub fn disarm(ticket: &mut Ticket) {
    if let Some(state) = ticket.bot.as_mut() {
        state.close_at = None;
    }
}

/// When the sweeper must look at `ticket` for this: only while the bot keeps an unfinished
/// conversation.
pub fn due_at(ticket: &Ticket) -> Option<Timestamp> {
    if !holds(ticket) || !ticket.status.is_unfinished() {
        return None;
    }
    ticket.bot.as_ref()?.close_at
}

/// Whether the conversation is due to close at `now`.
pub fn is_due(ticket: &Ticket, now: Timestamp) -> bool {
    due_at(ticket).is_some_and(|at| at <= now)
}

/// What closing a conversation adds to its commit.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleClose {
    pub note: Message,
    pub events: Vec<TicketEvent>,
}

/// Closes `ticket` if it is due at `now`: `bot_abandoned`, the internal note, solved. `None`
/// when it is not due (the customer wrote, a person took it, or it was closed already). The
/// bot's counts stay, so a customer who comes back finds the same limits; no survey and no
/// message to the customer, who has left.
pub fn close(ticket: &mut Ticket, now: Timestamp) -> Result<Option<IdleClose>, LifecycleError> {
    if !is_due(ticket, now) {
        return Ok(None);
    }
    // Changed as a whole or not at all: a half-made close must not reach a commit.
    let mut next = ticket.clone();
    let closed = close_due(&mut next, now)?;
    *ticket = next;
    Ok(closed)
}

fn close_due(ticket: &mut Ticket, now: Timestamp) -> Result<Option<IdleClose>, LifecycleError> {
    let Some(state) = ticket.bot.as_mut() else { return Ok(None) };
    let close_at = state.close_at.take().unwrap_or(now);
    let said_at = state.said_at.unwrap_or(ticket.updated_at);
    let intent = state.intent.clone().unwrap_or_else(|| "question".to_owned());
    let article = state.answered.last().cloned();
    let idle_minutes = u32::try_from(close_at.duration_since(said_at).as_mins().max(0)).unwrap_or(u32::MAX);
    let mut events = vec![ticket.record(
        Actor::System,
        EventKind::BotAbandoned { intent: intent.clone(), article: article.clone(), idle_minutes },
        now,
    )];
    let note = Message {
        // One close per arming: a retry of the same close names the same message.
        id: MessageId::new(format!(
            "{}bot-idle-{}-{}",
            MessageId::PREFIX,
            ticket.number.0,
            close_at.as_second()
        )),
        ticket: ticket.number,
        direction: Direction::Outbound,
        author: AuthorKind::System,
        author_id: Some("bot".to_owned()),
        visibility: Visibility::Internal,
        text: note_text(idle_minutes, &intent, article.as_deref()),
        attachments: Vec::new(),
        channel_ref: ChannelRef::None,
        created_at: now,
        flags: Default::default(),
    };
    events.extend(ticket.add_message(&Actor::System, &note, now)?);
    events.extend(ticket.set_status(&Actor::System, Status::Solved, now)?);
    Ok(Some(IdleClose { note, events }))
}

fn note_text(idle_minutes: u32, intent: &str, article: Option<&str>) -> String {
    let waited = if idle_minutes >= 60 && idle_minutes.is_multiple_of(60) {
        let hours = idle_minutes / 60;
        format!("{hours} hour{}", if hours == 1 { "" } else { "s" })
    } else {
        format!("{idle_minutes} minute{}", if idle_minutes == 1 { "" } else { "s" })
    };
    match article {
        Some(article) => format!(
            "Bot closed the conversation after {waited} without a reply from the customer; last article answered: {article} (intent {intent}). Solved; a new message reopens it."
        ),
        None => format!(
            "Bot closed the conversation after {waited} without a reply from the customer; it had answered no article (intent {intent}). Solved; a new message reopens it."
        ),
    }
}
