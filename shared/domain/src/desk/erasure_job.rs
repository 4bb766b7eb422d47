//! Erasure as a job: requested over the agent API, run off the request path (the ticket
//! router takes it from the inbound queue), verified, and run again until a verification
//! finds nothing left; its status and report stay readable for a while.
//!
//! A request records the job (`queued`) and queues an [`ErasureJobMessage`]; the caller gets
//! the job id at once. Each run makes the erasure passes ([`AgentDesk::erase`]) and then a
//! verification that reads every place again. Nothing left: `done`. Something left (a
//! message routed after the last pass, a ticket the requester index showed late): the job
//! stays `running` and the run asks to be delivered again ([`JobRun::Again`]); after
//! [`MAX_ERASURE_ATTEMPTS`] runs it is `failed` and logged as `erasure.failed` (alarmed).
//! A delivery of a finished job changes nothing, so a job is safe to run twice.
//!
//! The job record lives in the idempotency store under a key of the customer and job ids:
//! it holds ids and counts only, no personal data.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::erasure::{is_customer_erased, is_erased, is_ticket_erased};
use super::{AgentDesk, DeskError, ErasureReport, Staff};
use crate::envelope::{Versioned, seal};
use crate::model::{Customer, CustomerId};
use crate::ports::IdempotencyRecord;
use crate::system::later;

/// Runs of one job at most. The inbound queue dead-letters a message after 5 receives; the
/// job gives up before that, so a job ends with a status, not only in the dead-letter queue.
pub const MAX_ERASURE_ATTEMPTS: u32 = 4;

/// How long a job's status and report stay readable. The customer's audit trail keeps that
/// the erasure happened for good.
pub const ERASURE_JOB_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// Longest job id accepted in a path.
const MAX_JOB_ID_BYTES: usize = 64;

const JOB_ID_PREFIX: &str = "era_";

/// The queue message that asks for one run of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureJobMessage {
    pub customer: CustomerId,
    pub job: String,
}

impl Versioned for ErasureJobMessage {
    const KIND: &'static str = "erasure_job";
    const VERSION: u32 = 1;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// Recorded and queued; no run yet.
    Queued,
    /// Ran at least once; another run follows.
    Running,
    /// A verification found nothing left.
    Done,
    /// Still something left after the last allowed run; request the erasure again.
    Failed,
}

impl ErasureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureStatus::Queued => "queued",
            ErasureStatus::Running => "running",
            ErasureStatus::Done => "done",
            ErasureStatus::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, ErasureStatus::Done | ErasureStatus::Failed)
    }
}

/// A job as the status route shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureJob {
    pub id: String,
    pub customer: CustomerId,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub updated_at: Timestamp,
    pub status: ErasureStatus,
    /// Runs so far.
    pub attempts: u32,
    /// Erasure passes over all runs.
    pub passes: usize,
    /// Every store the erasure goes through, each with what it changed there by kind (zero
    /// where it found nothing): `table`, `blob_store`, `outbound_queue`, `inbound_queue`.
    pub stores: BTreeMap<String, BTreeMap<String, usize>>,
    /// What the last verification still found, by kind; empty once done.
    pub leftovers: BTreeMap<String, usize>,
    /// Inbound messages for the erased tickets received before this instant are dropped
    /// when they reach the router (from the queue or a redrive of its dead letters).
    #[serde(default)]
    pub inbound_received_before: Option<Timestamp>,
    #[serde(default)]
    pub error: Option<String>,
}

/// What a run asks of the queue that delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobRun {
    /// Finished (done or failed): delete the message.
    Finished(ErasureJob),
    /// Something was left: deliver the message again later.
    Again(ErasureJob),
}

/// The kinds each store reports, listed even when zero so the report shows where it looked.
const TABLE_KINDS: [&str; 9] = [
    "ticket",
    "message",
    "event",
    "customer",
    "identity_claim",
    "erased_identity",
    "idempotency_record",
    "outbound_job_drop_mark",
    "audit_entry",
];
const BLOB_KINDS: [&str; 2] = ["attachment", "raw_mail"];

impl ErasureJob {
    fn new(id: String, customer: CustomerId, staff: &Staff, now: Timestamp) -> Self {
        let mut stores = BTreeMap::new();
        let zero = |kinds: &[&str]| kinds.iter().map(|k| ((*k).to_owned(), 0)).collect::<BTreeMap<_, _>>();
        stores.insert("table".to_owned(), zero(&TABLE_KINDS));
        stores.insert("blob_store".to_owned(), zero(&BLOB_KINDS));
        stores.insert("outbound_queue".to_owned(), zero(&["job_dropped_on_receipt"]));
        stores.insert("inbound_queue".to_owned(), zero(&["ticket_closed_to_late_messages"]));
        Self {
            id,
            customer,
            requested_by: staff.0.clone(),
            requested_at: now,
            updated_at: now,
            status: ErasureStatus::Queued,
            attempts: 0,
            passes: 0,
            stores,
            leftovers: BTreeMap::new(),
            inbound_received_before: None,
            error: None,
        }
    }

    /// Adds one run's report to the totals.
    fn add(&mut self, report: &ErasureReport) {
        self.passes += report.passes;
        let mut add = |store: &str, kind: &str, count: usize| {
            *self.stores.entry(store.to_owned()).or_default().entry(kind.to_owned()).or_default() += count;
        };
        for (kind, count) in &report.table {
            add("table", kind, *count);
        }
        for (kind, count) in &report.blobs {
            add("blob_store", kind, *count);
        }
        add("outbound_queue", "job_dropped_on_receipt", report.queues.outbound_jobs_dropped_on_receipt);
        add("inbound_queue", "ticket_closed_to_late_messages", report.tickets);
        self.inbound_received_before = Some(report.queues.inbound_received_before);
    }

    /// The status path of this job under the agent API.
    pub fn status_path(&self) -> String {
        format!("/v1/customers/{}/erasures/{}", self.customer, self.id)
    }
}

/// `Invalid` unless `id` looks like a job id this desk hands out.
pub fn check_job_id(id: &str) -> Result<(), DeskError> {
    let ok = id.len() <= MAX_JOB_ID_BYTES
        && id.strip_prefix(JOB_ID_PREFIX).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if ok { Ok(()) } else { Err(DeskError::NotFound(format!("erasure job {id}"))) }
}

fn job_key(customer: &CustomerId, job: &str) -> String {
    format!("erasure-job:{customer}:{job}")
}

impl AgentDesk {
    /// Records an erasure job for the customer and queues its first run; the erasure itself
    /// happens off the request path. Another request makes another job, which finds nothing
    /// left if the first finished.
    pub async fn request_erasure(&self, staff: &Staff, id: &CustomerId) -> Result<ErasureJob, DeskError> {
        let Some(queue) = &self.erasure_queue else {
            return Err(DeskError::Unsendable("this desk runs no erasure jobs (no queue configured)".into()));
        };
        let customer = self.customer(id).await?;
        let now = self.ports.clock.now();
        let job_id = format!("{JOB_ID_PREFIX}{}", self.ports.ids.token());
        let mut job = ErasureJob::new(job_id.clone(), customer.id.clone(), staff, now);
        self.save_job(&job).await?;
        let message = ErasureJobMessage { customer: customer.id.clone(), job: job_id };
        if let Err(error) = queue.send(seal(&message)).await {
            job.status = ErasureStatus::Failed;
            job.error = Some("the job could not be queued: request the erasure again".into());
            self.save_job(&job).await?;
            return Err(error.into());
        }
        tracing::info!(customer = %customer.id, job = %job.id, "erasure.requested");
        Ok(job)
    }

    /// A job of this customer's, as last saved.
    pub async fn erasure_job(&self, customer: &CustomerId, job: &str) -> Result<ErasureJob, DeskError> {
        check_job_id(job)?;
        let now = self.ports.clock.now();
        let stored = self.ports.idempotency.result(&job_key(customer, job), now).await?;
        let stored = stored.ok_or_else(|| DeskError::NotFound(format!("erasure job {job}")))?;
        serde_json::from_value(stored).map_err(|e| DeskError::Invalid(format!("erasure job {job}: {e}")))
    }

    /// One run of a job: the erasure passes, then a verification of every place. A run of a
    /// finished job changes nothing.
    pub async fn run_erasure_job(&self, message: &ErasureJobMessage) -> Result<JobRun, DeskError> {
        let mut job = self.erasure_job(&message.customer, &message.job).await?;
        if job.status.is_final() {
            return Ok(JobRun::Finished(job));
        }
        let now = self.ports.clock.now();
        job.attempts += 1;
        job.status = ErasureStatus::Running;
        job.updated_at = now;
        let staff = Staff(job.requested_by.clone());
        let customer = self.customer(&job.customer).await?;
        let mut report = ErasureReport::new(customer.id.clone(), now);
        let passes = self.erase_until_quiet(&staff, &customer, now, &mut report).await;
        job.add(&report);
        match passes {
            Ok(()) => job.error = None,
            // Kept changing: the verification counts what is left, and a later run goes on.
            Err(DeskError::Conflict(reason)) => job.error = Some(reason),
            Err(other) => {
                // The queue delivers the run again; the counts so far are kept.
                job.error = Some(other.to_string());
                self.save_job(&job).await?;
                return Err(other);
            }
        }
        // The record may have been merged meanwhile: verify what it is now.
        let customer = self.customer(&job.customer).await?;
        job.leftovers = self.erasure_leftovers(&customer).await?;
        if job.leftovers.is_empty() {
            job.status = ErasureStatus::Done;
            job.error = None;
        } else if job.attempts >= MAX_ERASURE_ATTEMPTS {
            job.status = ErasureStatus::Failed;
            tracing::error!(
                customer = %job.customer, job = %job.id, attempts = job.attempts,
                leftovers = ?job.leftovers, "erasure.failed"
            );
        }
        if job.status.is_final() {
            let detail = format!("job {}: {} after {} runs", job.id, job.status.as_str(), job.attempts);
            self.audit(&staff, &job.customer, "erase", Some(detail)).await?;
            *job.stores.entry("table".into()).or_default().entry("audit_entry".into()).or_default() += 1;
            tracing::info!(customer = %job.customer, job = %job.id, status = job.status.as_str(), "erasure.finished");
        }
        self.save_job(&job).await?;
        Ok(if job.status.is_final() { JobRun::Finished(job) } else { JobRun::Again(job) })
    }

    /// What of the customer's data is still there, by kind: read only, from every record,
    /// ticket, message and event, as the passes read them.
    async fn erasure_leftovers(&self, customer: &Customer) -> Result<BTreeMap<String, usize>, DeskError> {
        let mut left: BTreeMap<String, usize> = BTreeMap::new();
        let mut count = |kind: &str, n: usize| {
            if n > 0 {
                *left.entry(kind.to_owned()).or_default() += n;
            }
        };
        let mut records = vec![customer.id.clone()];
        records.extend(customer.merged_from.iter().cloned());
        for id in &records {
            count("customer", usize::from(!is_customer_erased(&self.load_customer(id).await?)));
        }
        for ticket in self.tickets_of(&customer.id, usize::MAX).await? {
            count("ticket", usize::from(!is_ticket_erased(&ticket)));
            let messages = self.ports.tickets.messages(ticket.number).await?;
            count("message", messages.iter().filter(|m| !is_erased(m)).count());
            let events = self.ports.tickets.events(ticket.number).await?;
            count("event", events.into_iter().filter_map(super::erasure::erase_event).count());
        }
        Ok(left)
    }

    async fn save_job(&self, job: &ErasureJob) -> Result<(), DeskError> {
        let result = serde_json::to_value(job).map_err(|e| DeskError::Invalid(e.to_string()))?;
        let record = IdempotencyRecord {
            key: job_key(&job.customer, &job.id),
            result,
            expires_at: later(job.updated_at, ERASURE_JOB_TTL),
        };
        self.ports.idempotency.complete(record).await?;
        Ok(())
    }
}
