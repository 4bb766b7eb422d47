//! The phone channel's ports: the caller lookup, what a contact flow learned per contact,
//! and Connect's task API. Each has an in-memory twin in [`crate::memory::phone`].

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Customer, CustomerId, Identity, Priority, Status, Ticket, TicketNumber};
use crate::outbound::CallbackTask;
use crate::ports::{NotifyError, StoreError};

/// A known caller: what the contact flow needs of the customer (absent if it could not be
/// be read in the same request) and of their newest tickets, newest first. Only these fields:
/// on DynamoDB they are what the `by_requester` index projects, so a ticket write that
/// changes none of them writes no index entry (ARCHITECTURE.md §4).
#[derive(Debug, Clone, PartialEq)]
pub struct CallerRecord {
    pub customer: Option<CallerProfile>,
    pub customer_id: CustomerId,
    pub tickets: Vec<CallerTicket>,
}

/// The caller's name and tier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerProfile {
    pub name: Option<String>,
    pub tier: Option<String>,
}

impl From<&Customer> for CallerProfile {
    fn from(customer: &Customer) -> Self {
        Self { name: customer.name.clone(), tier: customer.tier.clone() }
    }
}

/// One of the caller's tickets, as far as the flow routes by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerTicket {
    pub number: TicketNumber,
    pub status: Status,
    pub team: Option<String>,
    pub priority: Priority,
    pub language: Option<String>,
    pub merged_into: Option<TicketNumber>,
    pub created_at: Timestamp,
}

impl From<&Ticket> for CallerTicket {
    fn from(ticket: &Ticket) -> Self {
        Self {
            number: ticket.number,
            status: ticket.status,
            team: ticket.team.clone(),
            priority: ticket.priority,
            language: ticket.language.clone(),
            merged_into: ticket.merged_into,
            created_at: ticket.created_at,
        }
    }
}

/// Finds the customer holding a phone identity and their newest tickets in at most two
/// store reads: a contact flow waits on the answer while the phone rings.
#[async_trait]
pub trait CallerDirectory: Send + Sync {
    async fn caller(&self, identity: &Identity, recent: usize) -> Result<Option<CallerRecord>, StoreError>;
}

/// What the contact flow learned about a contact, kept for the contact events that follow:
/// Connect's contact events do not carry the caller's number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallNote {
    /// E.164; `None` when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_ticket: Option<TicketNumber>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_hours: bool,
    /// The flow recorded a voicemail (invoked again with `voicemail = true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub voicemail: bool,
}

/// Per-contact notes, expiring (a call's events arrive within minutes; a few days cover
/// redeliveries from a dead-letter queue).
#[async_trait]
pub trait CallNotes: Send + Sync {
    async fn keep(&self, contact_id: &str, note: &CallNote, expires_at: Timestamp) -> Result<(), StoreError>;
    async fn note(&self, contact_id: &str, now: Timestamp) -> Result<Option<CallNote>, StoreError>;
}

/// One callback task to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRequest {
    pub ticket: TicketNumber,
    pub task: CallbackTask,
    /// Shown to the agent (Connect caps a task name at 512 characters).
    pub name: String,
    pub description: String,
    /// The same for every retry of this callback: Connect starts one task per token.
    pub client_token: String,
}

/// Amazon Connect's task API (StartTaskContact).
#[async_trait]
pub trait ContactCenter: Send + Sync {
    /// Starts the task; returns its contact id.
    async fn start_task(&self, request: &TaskRequest) -> Result<String, NotifyError>;
}
