//! The agent desk: what agents and supervisors do to tickets and customers through the agent
//! API — list and read tickets, reply, note, change and assign them, merge tickets and
//! customers, set their presence, export and erase a customer's data.
//!
//! Every change to a ticket is one version-conditioned commit: a client sends the version it
//! saw, and a stale version is a [`DeskError::Conflict`] (409), so two agents never overwrite
//! each other and two concurrent assignments of one ticket cannot both win. Permissions by
//! role are the edge's business; here every caller is a signed-in member of staff.

mod agents;
mod attachments;
mod callback;
mod customers;
mod erasure;
mod erasure_job;
#[cfg(test)]
mod erasure_job_tests;
mod notice_chat;
mod orders;
#[cfg(test)]
mod orders_tests;
mod privacy;
#[cfg(test)]
mod privacy_tests;
mod reply;
mod return_form;
mod returns;
#[cfg(test)]
mod tests;
mod tickets;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use attachments::{ATTACHMENT_LINK_TTL, AttachmentLink};
pub use callback::CallbackOutcome;
pub use customers::{CustomerView, MergeCandidate, MergedCustomers};
pub use erasure::{ERASED_TEXT, ERASURE_TOMBSTONE_TTL, ErasureReport, MAX_ERASURE_PASSES, QueuesReached};
pub use erasure_job::{
    ERASURE_JOB_TTL, ErasureJob, ErasureJobMessage, ErasureStatus, JobRun, MAX_ERASURE_ATTEMPTS, check_job_id,
};
pub use orders::{NoticeOutcome, ShopDesk};
pub use privacy::{CustomerExport, EXPORT_LINK_TTL, ExportedFile, ExportedMessage, TicketExport};
pub use reply::{Delivery, ReplyOutcome};
pub use return_form::{ConfirmOutcome, FormOutcome, ReturnConfirmation, ReturnFormRequest, ReturnLinks};
pub use returns::{ReturnOutcome, StartReturn};
pub use tickets::{MergeScope, TicketPatch, TicketView};

use crate::assignment::Routing;
use crate::cursor::CursorKey;
use crate::lifecycle::LifecycleError;
use crate::model::{Actor, Ticket, TicketEvent, TicketNumber};
use crate::ports::{
    AgentStore, BlobStore, Clock, CustomerStore, IdSource, IdempotencyStore, Queue, QueueError, StoreError,
    TicketCommit, TicketStore,
};
use crate::router::EmailRules;
use crate::sla::SlaPolicies;
use crate::survey::SurveyRules;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("{0} not found")]
    NotFound(String),
    /// A stale version, or someone else changed it first.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// An idempotency key sent again with a different request.
    #[error("{0}")]
    KeyReused(String),
    /// Well-formed, but the message cannot go out as asked (e.g. too many recipients).
    #[error("{0}")]
    Unsendable(String),
    /// Well-formed, but a business rule says no (e.g. a return outside its window); the
    /// message names the rule.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<crate::text::TextError> for DeskError {
    fn from(error: crate::text::TextError) -> Self {
        DeskError::Invalid(error.to_string())
    }
}

impl From<StoreError> for DeskError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(reason) => DeskError::Conflict(reason),
            StoreError::Invalid(reason) => DeskError::Invalid(reason),
            other => DeskError::Store(other),
        }
    }
}

/// What the desk needs from the outside world.
#[derive(Clone)]
pub struct DeskPorts {
    pub tickets: Arc<dyn TicketStore>,
    pub customers: Arc<dyn CustomerStore>,
    pub agents: Arc<dyn AgentStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub outbound: Arc<dyn Queue>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

pub struct AgentDesk {
    ports: DeskPorts,
    routing: Option<Routing>,
    email: EmailRules,
    sla: Option<Arc<SlaPolicies>>,
    /// Satisfaction surveys: solving a ticket schedules one.
    survey: Option<Arc<SurveyRules>>,
    /// Signs the list cursors handed out.
    cursors: CursorKey,
    /// Where erasure jobs are queued for their runs (the inbound queue on AWS).
    erasure_queue: Option<Arc<dyn Queue>>,
    /// Target of a requested callback's SLA timer (`phone.callback_minutes`).
    callback_minutes: u32,
    /// The shop: order lists, proactive notices and returns; none without a `[shop]`.
    shop: Option<Arc<orders::ShopDesk>>,
}

/// Who is acting: the signed-in user's login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff(pub String);

impl Staff {
    fn actor(&self) -> Actor {
        Actor::Agent(self.0.clone())
    }
}

impl AgentDesk {
    /// Cursors are signed with a random key until [`AgentDesk::with_cursor_key`] sets the
    /// deployment's: enough for one process, not for several serving one desk. (The key is
    /// never observable, so it is not drawn from the ports' id source, whose ids tests see.)
    pub fn new(ports: DeskPorts, routing: Option<Routing>, email: EmailRules) -> Self {
        let cursors = CursorKey::derive(crate::system::RandomIds.token().as_bytes());
        Self {
            ports,
            routing,
            email,
            sla: None,
            survey: None,
            cursors,
            erasure_queue: None,
            callback_minutes: crate::phone::DEFAULT_CALLBACK_MINUTES,
            shop: None,
        }
    }

    /// Queues erasure jobs on `queue`; without one, [`AgentDesk::request_erasure`] refuses.
    pub fn with_erasure_queue(mut self, queue: Arc<dyn Queue>) -> Self {
        self.erasure_queue = Some(queue);
        self
    }

    pub fn with_callback_minutes(mut self, minutes: u32) -> Self {
        self.callback_minutes = minutes;
        self
    }

    pub fn with_cursor_key(mut self, key: CursorKey) -> Self {
        self.cursors = key;
        self
    }

    /// Keeps SLA timers on every change, and shows them in the ticket view.
    pub fn with_sla(mut self, policies: Arc<SlaPolicies>) -> Self {
        self.sla = Some(policies);
        self
    }

    /// Schedules a satisfaction survey when a ticket is solved.
    pub fn with_survey(mut self, rules: Arc<SurveyRules>) -> Self {
        self.survey = Some(rules);
        self
    }

    /// Lists orders, sends proactive notices and runs returns with `shop`.
    pub fn with_shop(mut self, shop: Arc<orders::ShopDesk>) -> Self {
        self.shop = Some(shop);
        self
    }

    pub fn ports(&self) -> &DeskPorts {
        &self.ports
    }

    async fn load(&self, number: TicketNumber) -> Result<Ticket, DeskError> {
        self.ports
            .tickets
            .ticket(number)
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("ticket {number}")))
    }

    /// The ticket, provided it is still at the version the client saw.
    async fn load_at(&self, number: TicketNumber, version: Option<u64>) -> Result<Ticket, DeskError> {
        let ticket = self.load(number).await?;
        match version {
            Some(seen) if seen != ticket.version => Err(stale(number, seen, ticket.version)),
            _ => Ok(ticket),
        }
    }

    /// Refuses new text on a ticket whose customer was erased: what an agent types there is
    /// about a person who asked to be forgotten, and no later erasure pass would reach it.
    fn refuse_text_after_erasure(ticket: &Ticket, what: &str) -> Result<(), DeskError> {
        match ticket.erased_at {
            Some(_) => Err(DeskError::Unsendable(format!(
                "ticket {}: its customer was erased, so it takes no more {what}",
                ticket.number
            ))),
            None => Ok(()),
        }
    }

    /// Writes `ticket` (changed from `expected_version`) with `events`.
    async fn save(
        &self,
        ticket: Ticket,
        expected_version: u64,
        events: Vec<TicketEvent>,
    ) -> Result<Ticket, DeskError> {
        if events.is_empty() {
            return Ok(ticket);
        }
        self.commit(TicketCommit {
            ticket,
            expected_version: Some(expected_version),
            messages: Vec::new(),
            events,
            thread_claims: Vec::new(),
            idempotency: None,
        })
        .await
    }

    /// Every ticket write of the desk: the SLA timers follow the events first (a reply meets
    /// a timer, pending pauses them, a priority or team change re-targets them).
    async fn commit(&self, mut commit: TicketCommit) -> Result<Ticket, DeskError> {
        if let Some(sla) = &self.sla {
            sla.apply(&mut commit.ticket, &commit.events, None);
        }
        // Solved schedules the survey; a reopen, merge, spam tag or erasure drops it.
        match &self.survey {
            Some(rules) => rules.apply(&mut commit.ticket, &commit.events),
            None => crate::survey::follow(&mut commit.ticket, &commit.events),
        }
        let ticket = commit.ticket.clone();
        self.ports.tickets.commit(commit).await?;
        Ok(ticket)
    }
}

fn stale(number: TicketNumber, seen: u64, current: u64) -> DeskError {
    DeskError::Conflict(format!("ticket {number} is at version {current}, not {seen}: reload it"))
}
