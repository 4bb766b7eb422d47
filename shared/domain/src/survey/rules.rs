//! The survey rules: when a solved ticket's survey is due, how long customers are left alone
//! between surveys, how long a link works, and what a low rating starts.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use super::{MAX_RATING, SurveyState, follow};
use crate::model::{Channel, EventKind, Status, Ticket, TicketEvent};
use crate::system::later;

/// What a low rating does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpMode {
    /// A new ticket linked to the rated one, for the team's supervisor, with its own SLA.
    #[default]
    Ticket,
    /// The rated ticket itself reopens (a merged or closed one gets a follow-up ticket).
    Reopen,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SurveyRulesError {
    pub field: String,
    pub message: String,
}

/// The validated `[survey]` rules (the secrets and the public URL live with the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRules {
    pub delay: Duration,
    pub channel_delay: BTreeMap<Channel, Duration>,
    pub cooldown: Duration,
    pub link_valid: Duration,
    /// Ratings at or below this start a follow-up; 0 turns follow-ups off.
    pub low_rating: u8,
    pub follow_up: FollowUpMode,
    /// Team id → the login of its supervisor, who gets the follow-up.
    pub supervisors: BTreeMap<String, String>,
}

pub const DEFAULT_DELAY: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_LINK_VALID: Duration = Duration::from_secs(14 * 24 * 3600);
pub const DEFAULT_LOW_RATING: u8 = 2;

impl Default for SurveyRules {
    fn default() -> Self {
        Self {
            delay: DEFAULT_DELAY,
            channel_delay: BTreeMap::new(),
            cooldown: DEFAULT_COOLDOWN,
            link_valid: DEFAULT_LINK_VALID,
            low_rating: DEFAULT_LOW_RATING,
            follow_up: FollowUpMode::Ticket,
            supervisors: BTreeMap::new(),
        }
    }
}

impl SurveyRules {
    pub fn check(&self) -> Result<(), SurveyRulesError> {
        let bad = |field: &str, message: &str| {
            Err(SurveyRulesError { field: format!("survey.{field}"), message: message.to_owned() })
        };
        if self.low_rating >= MAX_RATING {
            return bad("low_rating", "must be 0 (no follow-ups) to 4");
        }
        if self.link_valid.is_zero() {
            return bad("link_valid_days", "must be at least 1");
        }
        Ok(())
    }

    /// How long after solving the survey of a ticket on `channel` is due.
    pub fn delay_for(&self, channel: Channel) -> Duration {
        let own = self.channel_delay.get(&channel);
        // A delay for `social` covers every social channel without one of its own.
        let social = || channel.is_social().then(|| self.channel_delay.get(&Channel::Social)).flatten();
        own.or_else(social).copied().unwrap_or(self.delay)
    }

    /// Keeps the survey in step with `events` (the ticket already reflects them): solving
    /// schedules it once, a reopen, merge, spam tag or erasure drops it ([`follow`]).
    pub fn apply(&self, ticket: &mut Ticket, events: &[TicketEvent]) {
        let mut scheduled = false;
        for event in events {
            if let EventKind::Status { to: Status::Solved, .. } = event.kind
                && ticket.merged_into.is_none()
                && ticket.erased_at.is_none()
                && ticket.survey.as_ref().is_none_or(|s| s.sent_at.is_none() && s.skipped.is_none())
            {
                let due = later(event.at, self.delay_for(ticket.channel));
                let survey = ticket.survey.get_or_insert_with(SurveyState::default);
                survey.due_at = Some(due);
                scheduled = true;
            }
        }
        follow(ticket, events);
        if scheduled {
            let now = events.last().map_or(ticket.updated_at, |e| e.at);
            crate::sla::derive_due(ticket, now);
        }
    }

    /// Whether `last` (a survey sent at that instant) keeps the customer in cooldown at `now`.
    pub fn in_cooldown(&self, last: Timestamp, now: Timestamp) -> bool {
        now < later(last, self.cooldown)
    }
}
