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
}

impl Versioned for OutboundJob {
    const KIND: &'static str = "outbound_job";
    const VERSION: u32 = 1;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundKind {
    /// "We received your message; your ticket is #N."
    Acknowledgement,
    AgentReply,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Destination {
    Chat { inbox: String, conversation_id: String, visitor_id: Option<String> },
}
