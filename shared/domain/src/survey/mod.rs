//! Satisfaction surveys (after-sale 回访): solving a ticket schedules one survey on the due
//! index the SLA sweeper reads; `survey-sender` sends the due ones on the ticket's channel
//! with a signed, expiring link; `survey-web` shows the form (recording nothing) and records
//! what a person submits, exactly once; a low rating opens a follow-up for the supervisor.
//!
//! - [`SurveyRules`]: the validated `[survey]` section, and [`SurveyRules::apply`], which every
//!   writer of the agent desk calls before committing (solved → scheduled). [`follow`] is its
//!   configuration-free half, which the router calls too: a reopen, merge, spam tag or erasure
//!   drops a survey not yet sent.
//! - [`token`]: the link's token and the form's anti-forgery field, HMAC-signed with a key
//!   from the secret store (current and previous, for rotation).
//! - [`sender`]: reads due surveys only, applies cooldown, opt-out and address rules, sends once.
//! - [`answer`]: the form, the answer, the follow-up, the unsubscribe.

pub mod answer;
mod rules;
pub mod sender;
pub mod texts;
pub mod token;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use answer::{AnswerOutcome, SurveyDesk, SurveyError, SurveyForm, SurveyPorts, SurveyView};
pub use rules::{FollowUpMode, SurveyRules, SurveyRulesError};
pub use sender::{SendLimits, SendReport, SenderPorts, SurveySender};
pub use token::{TokenError, TokenKeys};

use crate::model::{EventKind, Status, Ticket, TicketEvent, TicketNumber};

/// The tag that marks a ticket as spam: no survey for it.
pub const SPAM_TAG: &str = "spam";
/// Ratings run from 1 (very dissatisfied) to 5 (very satisfied).
pub const MAX_RATING: u8 = 5;
/// The longest comment kept, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// A ticket's survey, from scheduling to answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyState {
    /// When it is to be sent; `None` once sent, skipped or dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// The link's id (hex): what the token carries instead of the ticket number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<SurveyAnswer>,
    /// How many answers were recorded (a change is one more): binds each form to the state
    /// it was rendered in.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub answers: u32,
    /// The follow-up ticket a low rating opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<TicketNumber>,
    /// Why it was not sent (cooldown, opted out, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the customer submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: Timestamp,
}

/// Drops a survey not yet sent when the events say it must not go: the ticket reopened (a
/// customer message or an agent), was merged into another, was tagged spam, or its
/// customer's data was erased (which also removes a comment). Needs no configuration, so
/// every writer can call it.
pub fn follow(ticket: &mut Ticket, events: &[TicketEvent]) {
    let Some(survey) = ticket.survey.as_mut() else { return };
    let mut changed = false;
    for event in events {
        let drop = match &event.kind {
            EventKind::Status { from: Status::Solved, to } => !matches!(to, Status::Solved | Status::Closed),
            EventKind::Merged { .. } => true,
            EventKind::Tags { added, .. } => added.iter().any(|t| t == SPAM_TAG),
            EventKind::Erased => {
                if let Some(answer) = survey.answer.as_mut() {
                    answer.comment = None;
                }
                true
            }
            _ => false,
        };
        if drop && survey.due_at.is_some() {
            survey.due_at = None;
            changed = true;
        }
    }
    if changed {
        let now = events.last().map_or(ticket.updated_at, |e| e.at);
        crate::sla::derive_due(ticket, now);
    }
}

/// The thread key under which a survey link's id finds its ticket (stored as a digest).
pub fn token_key(token_id: &str) -> crate::ports::ThreadKey {
    crate::ports::ThreadKey(format!("survey:{token_id}"))
}

/// The thread key that makes a low rating's follow-up ticket unique per surveyed ticket.
pub fn follow_up_key(ticket: TicketNumber) -> crate::ports::ThreadKey {
    crate::ports::ThreadKey(format!("survey-follow-up:{}", ticket.0))
}
