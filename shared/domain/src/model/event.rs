use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Channel, CustomerId, MessageId, Priority, Status, TicketNumber};

/// Who caused a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Customer(CustomerId),
    Agent(String),
    System,
}

/// What changed. Analytics reads these; the list follows ARCHITECTURE.md §1, plus `sla_warning` (a
/// timer passed its warning threshold) and `sla_notified` (the sweeper queued the alerts it
/// had recorded; their outbound job ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        channel: Channel,
        requester: CustomerId,
        follow_up_of: Option<TicketNumber>,
    },
    MessageIn {
        message: MessageId,
    },
    MessageOut {
        message: MessageId,
        internal: bool,
    },
    Status {
        from: Status,
        to: Status,
    },
    Assigned {
        from: Option<String>,
        to: Option<String>,
    },
    Priority {
        from: Priority,
        to: Priority,
    },
    SlaBreached {
        timer: String,
    },
    SlaWarning {
        timer: String,
    },
    SlaNotified {
        jobs: Vec<String>,
    },
    Escalated {
        from_team: Option<String>,
        to_team: Option<String>,
        reason: String,
    },
    /// A satisfaction survey went out. Channel, team and agent are the ticket's when it was
    /// sent, so the analytics rollup groups CSAT and response rates without a join.
    SurveySent {
        #[serde(default)]
        channel: Option<Channel>,
        #[serde(default)]
        team: Option<String>,
        #[serde(default)]
        agent: Option<String>,
    },
    /// The customer's rating (1–5); a changed answer is an event of its own, with the rating
    /// it replaced. The comment stays on the ticket, never in the event log.
    SurveyAnswered {
        score: u8,
        #[serde(default)]
        channel: Option<Channel>,
        #[serde(default)]
        team: Option<String>,
        #[serde(default)]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        follow_up: Option<TicketNumber>,
    },
    /// A due survey was not sent: `cooldown`, `opted_out`, `erased`, `no_address`, …
    SurveySkipped {
        reason: String,
    },
    Merged {
        into: TicketNumber,
    },
    Tags {
        added: Vec<String>,
        removed: Vec<String>,
    },
    Category {
        from: Option<String>,
        to: Option<String>,
    },
    /// Staff changed who is copied on the ticket's mail. Counts only: the event log feeds
    /// analytics, which keeps no addresses.
    Cc {
        added: usize,
        removed: usize,
    },
    /// The requester was merged into another customer.
    Requester {
        from: CustomerId,
        to: CustomerId,
    },
    /// The requester's personal data was removed from the ticket (right to erasure).
    Erased,
    /// A step of a phone call on the ticket, from Amazon Connect's contact events: `stage`
    /// is `initiated`, `queued`, `answered` (with the agent), `disconnected` (with the talk
    /// time and Connect's disconnect reason) or `missed`. `contact` is Connect's contact id.
    Call {
        contact: String,
        stage: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        talk_seconds: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A callback was requested (a missed call, or an agent): a Connect task in the team's
    /// queue, scheduled at `scheduled_for` (the next business minute after hours).
    Callback {
        job: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_for: Option<Timestamp>,
    },
    /// The chat bot answered with a knowledge-base article. `confidence` in percent.
    BotAnswered {
        intent: String,
        article: String,
        confidence: u8,
    },
    /// The customer said the bot's answer helped: solved as self-served.
    BotHelped {
        intent: String,
        article: String,
    },
    /// The bot handed the conversation to a person; `reason` says why, `article` is the last
    /// one it gave.
    BotHandoff {
        intent: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        article: Option<String>,
    },
    /// The customer said nothing for `idle_minutes` after the bot's last message, so the
    /// conversation was solved without them; `article` is the last one the bot gave.
    BotAbandoned {
        intent: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        article: Option<String>,
        idle_minutes: u32,
    },
    /// The ticket concerns this shop order (named in a message, or answered on by the bot).
    OrderLinked {
        order: String,
    },
    /// The desk wrote to the customer first about a problem with an order (`late`,
    /// `exception`); once per order and problem.
    ProactiveNotice {
        order: String,
        problem: String,
    },
    /// A return of one order line was requested; `reason` is the customer's category of
    /// reason (`damaged` or `other`), never their words.
    ReturnRequested {
        order: String,
        line: String,
        reason: String,
    },
    ReturnApproved {
        order: String,
    },
    ReturnRejected {
        order: String,
        reason: String,
    },
    ReturnLabelSent {
        order: String,
    },
    ReturnReceived {
        order: String,
    },
    Refunded {
        order: String,
    },
    Exchanged {
        order: String,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::MessageIn { .. } => "message_in",
            EventKind::MessageOut { .. } => "message_out",
            EventKind::Status { .. } => "status",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Priority { .. } => "priority",
            EventKind::SlaBreached { .. } => "sla_breached",
            EventKind::SlaWarning { .. } => "sla_warning",
            EventKind::SlaNotified { .. } => "sla_notified",
            EventKind::Escalated { .. } => "escalated",
            EventKind::SurveySent { .. } => "survey_sent",
            EventKind::SurveyAnswered { .. } => "survey_answered",
            EventKind::SurveySkipped { .. } => "survey_skipped",
            EventKind::Merged { .. } => "merged",
            EventKind::Tags { .. } => "tags",
            EventKind::Cc { .. } => "cc",
            EventKind::Category { .. } => "category",
            EventKind::Requester { .. } => "requester",
            EventKind::Erased => "erased",
            EventKind::Call { .. } => "call",
            EventKind::Callback { .. } => "callback",
            EventKind::BotAnswered { .. } => "bot_answered",
            EventKind::BotHelped { .. } => "bot_helped",
            EventKind::BotHandoff { .. } => "bot_handoff",
            EventKind::BotAbandoned { .. } => "bot_abandoned",
            EventKind::OrderLinked { .. } => "order_linked",
            EventKind::ProactiveNotice { .. } => "proactive_notice",
            EventKind::ReturnRequested { .. } => "return_requested",
            EventKind::ReturnApproved { .. } => "return_approved",
            EventKind::ReturnRejected { .. } => "return_rejected",
            EventKind::ReturnLabelSent { .. } => "return_label_sent",
            EventKind::ReturnReceived { .. } => "return_received",
            EventKind::Refunded { .. } => "refunded",
            EventKind::Exchanged { .. } => "exchanged",
        }
    }
}

/// One change to a ticket. `seq` is the ticket version the change produced, so a ticket's
/// events are numbered 1, 2, 3… without gaps and sort in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    pub ticket: TicketNumber,
    pub seq: u64,
    pub at: Timestamp,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}
