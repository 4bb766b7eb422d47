use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{CustomerId, TicketNumber};
use crate::sla::SlaState;

/// Where a ticket is in its life. Changes only through [`crate::lifecycle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::New, Status::Open, Status::Pending, Status::OnHold, Status::Solved, Status::Closed];

    /// New, open, pending or on hold: still someone's work, counted in an agent's load.
    pub fn is_unfinished(self) -> bool {
        matches!(self, Status::New | Status::Open | Status::Pending | Status::OnHold)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Pending => "pending",
            Status::OnHold => "on_hold",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    /// The name serde gives it, for stores and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// One step up; urgent stays urgent.
    pub fn raised(self) -> Priority {
        match self {
            Priority::Low => Priority::Normal,
            Priority::Normal => Priority::High,
            Priority::High | Priority::Urgent => Priority::Urgent,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Chat,
    Email,
    Phone,
    /// A WeChat Official Account.
    Wechat,
    Messenger,
    Instagram,
    Whatsapp,
    /// The community forum (Discourse): answers there are public.
    Forum,
    /// Any social platform, as tickets stored before channels named their platform say (the
    /// platform is on their messages), and as configuration may still say: a rule for
    /// `social` covers every social channel ([`Channel::covers`]). Never written on a new ticket.
    Social,
}

impl Channel {
    /// The name serde gives it, for stores and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Wechat => "wechat",
            Channel::Messenger => "messenger",
            Channel::Instagram => "instagram",
            Channel::Whatsapp => "whatsapp",
            Channel::Forum => "forum",
            Channel::Social => "social",
        }
    }

    /// A social platform's own channel.
    pub fn of_platform(platform: crate::social::Platform) -> Channel {
        use crate::social::Platform;
        match platform {
            Platform::Wechat => Channel::Wechat,
            Platform::Messenger => Channel::Messenger,
            Platform::Instagram => Channel::Instagram,
            Platform::Whatsapp => Channel::Whatsapp,
            Platform::Forum => Channel::Forum,
        }
    }

    /// A social platform's channel, or the old `social` of stored tickets.
    pub fn is_social(self) -> bool {
        matches!(
            self,
            Channel::Wechat
                | Channel::Messenger
                | Channel::Instagram
                | Channel::Whatsapp
                | Channel::Forum
                | Channel::Social
        )
    }

    /// Whether a rule (SLA policy, routing rule, survey delay) for `self` applies to a ticket
    /// on `ticket`: the same channel, or `social` for every social channel.
    pub fn covers(self, ticket: Channel) -> bool {
        self == ticket || (self == Channel::Social && ticket.is_social())
    }
}

/// Missed calls kept per ticket: enough to count repeats within a day.
pub const MAX_MISSED_CALLS: usize = 10;

/// A call nobody answered, kept on its ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedCall {
    pub contact: String,
    pub at: Timestamp,
}

/// A customer's request and everything the desk knows about its handling. `version` grows by
/// one with every change and guards every write (optimistic concurrency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNumber,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub subject: String,
    /// When the message the subject was taken from was sent: a message sent earlier that
    /// arrives later gives the ticket its subject instead. `None` on tickets from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_at: Option<Timestamp>,
    pub requester: CustomerId,
    pub team: Option<String>,
    pub assignee: Option<String>,
    #[serde(default)]
    pub tags: BTreeSet<String>,
    pub category: Option<String>,
    /// Set on a follow-up opened by a message to a closed ticket.
    pub follow_up_of: Option<TicketNumber>,
    /// The token of the ticket's reply address (`support+<token>@domain`), for email.
    #[serde(default)]
    pub reply_token: Option<String>,
    /// Addresses copied on the ticket's mail: they may continue it by `[#N]` in a subject.
    #[serde(default)]
    pub cc: BTreeSet<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub solved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// Skills its agent needs, from the routing rule that placed it: a re-offer matches on
    /// them as the first routing did.
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Primary language tag of the customer's writing, when the channel says (email).
    #[serde(default)]
    pub language: Option<String>,
    /// Set when the ticket was merged into another and closed.
    #[serde(default)]
    pub merged_into: Option<TicketNumber>,
    /// Tickets merged into this one: their threads and trails belong to it now.
    #[serde(default)]
    pub merged_from: BTreeSet<TicketNumber>,
    /// Set when the requester's personal data was erased: a message received before this
    /// that still reaches the router is dropped (see `router::erased`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<Timestamp>,
    /// Missed calls on this ticket (Connect contact ids, newest last, at most
    /// [`MAX_MISSED_CALLS`]): one callback per call, and repeat callers get a higher priority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed_calls: Vec<MissedCall>,
    pub version: u64,
    /// The SLA timers (issue 7), kept up to date by `SlaPolicies::apply` before every commit.
    #[serde(default)]
    pub sla: SlaState,
    /// When the SLA sweeper must next look at this ticket (a warning or a deadline of a live
    /// timer); `None` keeps the ticket out of the due index. Derived from `sla`.
    #[serde(default)]
    pub due_at: Option<Timestamp>,
    /// The satisfaction survey: scheduled when the ticket is solved, then sent and answered
    /// (see `crate::survey`). Its due instant joins `due_at`, so it lives on the same index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<crate::survey::SurveyState>,
    /// The chat bot's place in the conversation, while it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<crate::bot::BotState>,
    /// The shop orders this ticket concerns, and the return it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<crate::orders::TicketOrder>,
}

#[cfg(test)]
mod channel_tests {
    use super::Channel;
    use crate::social::Platform;

    #[test]
    fn a_social_ticket_has_its_platforms_channel_and_a_rule_for_social_covers_them_all() {
        assert_eq!(Channel::of_platform(Platform::Whatsapp).as_str(), "whatsapp");
        assert_eq!(serde_json::to_value(Channel::Forum).unwrap(), "forum");
        assert_eq!(serde_json::from_value::<Channel>("social".into()).unwrap(), Channel::Social);
        for platform in
            [Platform::Wechat, Platform::Messenger, Platform::Instagram, Platform::Whatsapp, Platform::Forum]
        {
            let channel = Channel::of_platform(platform);
            assert!(Channel::Social.covers(channel) && channel.covers(channel) && channel.is_social());
            assert!(!channel.covers(Channel::Chat) && !Channel::Social.covers(Channel::Email));
        }
        assert!(
            !Channel::Wechat.covers(Channel::Social),
            "a WeChat rule does not take old tickets of any platform"
        );
    }
}
