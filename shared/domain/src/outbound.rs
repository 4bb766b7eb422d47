//! Outbound jobs: what the router and the agent API queue for `outbound-dispatcher`, the one
//! sender to customers.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::envelope::Versioned;
use crate::model::{MessageId, TicketNumber};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundJob {
    /// Stable for this delivery: the dispatcher's idempotency key and the receiver's
    /// de-duplication id.
    pub id: String,
    pub ticket: TicketNumber,
    pub message: MessageId,
    pub kind: OutboundKind,
    pub destination: Destination,
    pub text: String,
    pub created_at: Timestamp,
    /// A satisfaction survey's links, so the mail carries a rating row and an unsubscribe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveyLinks>,
}

/// The links of a survey mail: the form (one per rating, preselecting it) and the opt-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyLinks {
    /// The form's URL; `?rating=N` preselects a rating.
    pub form: String,
    pub unsubscribe: String,
}

impl Versioned for OutboundJob {
    const KIND: &'static str = "outbound_job";
    const VERSION: u32 = 1;
}

impl OutboundJob {
    /// The acknowledgement of the inbound message with idempotency key `inbound_key`: every
    /// retry of that message names the same delivery.
    pub fn acknowledgement_id(inbound_key: &str) -> String {
        format!("{inbound_key}:ack")
    }

    /// The chat bot's answer to an inbound message (one per message).
    pub fn bot_id(inbound_key: &str) -> String {
        format!("{inbound_key}:bot")
    }

    /// The survey of `ticket` (one per ticket: a retried or racing send names the same one).
    pub fn survey_id(ticket: TicketNumber) -> String {
        format!("survey:{}", ticket.0)
    }

    /// The delivery of an agent's reply `message`.
    pub fn reply_id(message: &MessageId) -> String {
        format!("reply:{message}")
    }

    /// The dispatcher's idempotency key for job `id`: erasure marks it done so a job still
    /// queued for an erased customer is dropped on receipt.
    pub fn dispatch_key(id: &str) -> String {
        format!("out:{id}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundKind {
    /// "We received your message; your ticket is #N."
    Acknowledgement,
    AgentReply,
    /// An SLA warning or breach, to a team mailbox or an on-call webhook.
    SlaAlert,
    /// An unusual volume of one category or channel (analytics), to an on-call webhook.
    SpikeAlert,
    /// The satisfaction survey of a solved ticket.
    Survey,
    /// A callback for agents: a Connect task in the team's queue.
    Callback,
    /// The chat bot's answer from the knowledge base, with "did this help?" choices.
    BotAnswer,
    /// Anything else the chat bot says (rephrase, glad it helped, passing you to a person).
    BotMessage,
}

/// Where a job goes: a chat conversation, a mail, or (SLA alerts) a JSON POST to an on-call
/// webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Destination {
    Chat {
        inbox: String,
        conversation_id: String,
        visitor_id: Option<String>,
    },
    Email(EmailDestination),
    Webhook {
        url: String,
    },
    /// A Connect task asking the team to call the customer back.
    Callback(CallbackTask),
    /// A message on a social platform (WeChat, Messenger, Instagram, WhatsApp, the forum).
    Social(SocialDestination),
}

/// Where on a platform a reply goes: the account it goes out from and the conversation (the
/// user's platform id; the topic on the forum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialDestination {
    pub platform: crate::social::Platform,
    pub account: String,
    pub conversation: String,
    /// The customer's message being answered (a forum reply quotes its post).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
}

/// A callback task (StartTaskContact on Amazon Connect), scheduled or at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackTask {
    /// The team whose queue takes it (the task flow routes on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The missed call, linked as the task's previous contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// When the task should reach an agent: the next business minute after hours; `None`: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<Timestamp>,
    /// Why (`abandoned_in_queue`, `after_hours`, `agent_request`, …).
    pub reason: String,
}

impl OutboundJob {
    /// The callback of a missed call: one per call, however often its events arrive.
    pub fn callback_id(contact_id: &str) -> String {
        format!("callback:{contact_id}")
    }
}

/// Most recipients (To and Cc together) of one mail: SES refuses more.
pub const MAX_MAIL_RECIPIENTS: usize = 50;

/// A mail in a ticket's thread. The dispatcher composes it (text and HTML) from the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailDestination {
    pub to: String,
    pub cc: Vec<String>,
    /// The desk mailbox it goes out from.
    pub from: String,
    /// The ticket's token address: answers come back to the ticket whatever the client does.
    pub reply_to: Option<String>,
    /// Already carries the `[#N]` tracking number.
    pub subject: String,
    /// Without angle brackets: the Message-ID this mail gets, so a retry sends the same mail.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// The chain so far, oldest first, ending with `in_reply_to`.
    pub references: Vec<String>,
    /// Primary language tag of the text, for the HTML `lang` and Content-Language.
    pub language: String,
}

impl EmailDestination {
    /// To and Cc together.
    pub fn recipient_count(&self) -> usize {
        1 + self.cc.len()
    }

    /// Whether the mail has more recipients than [`MAX_MAIL_RECIPIENTS`].
    pub fn over_recipient_limit(&self) -> bool {
        self.recipient_count() > MAX_MAIL_RECIPIENTS
    }
}

/// A platform's refusal of a job, for the router to record on its ticket (see
/// `TicketRouter::record_refusal`): sent by the dispatcher on the inbound queue, since the
/// router is the one writer of ticket state from what comes back from outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRefused {
    /// The refused job's id: the refusal is recorded once per job.
    pub job: String,
    pub ticket: TicketNumber,
    /// The message that was not delivered.
    pub message: MessageId,
    /// The platform's reason, as it gave it (bounded).
    pub reason: String,
    pub at: Timestamp,
}

impl Versioned for DeliveryRefused {
    const KIND: &'static str = "delivery_refused";
    const VERSION: u32 = 1;
}

/// Longest platform reason kept on a ticket.
pub const MAX_REFUSAL_CHARS: usize = 500;
