//! Fault injection: wraps any port so that a chosen fraction of calls fails the way AWS calls
//! fail — throttled, a 5xx, or a timeout after the request was carried out (the dangerous
//! one: the write happened, the caller was told it failed). Like the SDK, the wrapper retries
//! up to [`MAX_ATTEMPTS`] times; only when every attempt fails does the error reach the
//! caller. A retried write that had landed meets its own condition, exactly as a real SDK
//! retry would.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::model::{Customer, CustomerId, Identity, Message, Ticket, TicketEvent, TicketNumber};
use crate::ports::{
    AuditEntry, CustomerStore, Idempotency, IdempotencyRecord, IdempotencyStore, Queue, QueueDepth,
    QueueError, QueueMessage, RateLimiter, Received, StoreError, ThreadClaim, ThreadKey, TicketCommit,
    TicketStore,
};
use crate::query::{TicketFilter, TicketPage};

/// The SDK's attempts per call (omnidesk_aws::MAX_ATTEMPTS).
pub const MAX_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttled,
    ServerError,
    /// The call went through; its answer was lost.
    TimeoutAfterApplying,
}

/// Decides which attempts fail, from a seeded generator, so a failing run can be replayed.
pub struct FaultPlan {
    /// The failing fraction, as `f64` bits: [`FaultPlan::heal`] ends an outage mid-run.
    rate: AtomicU64,
    state: Mutex<u64>,
    injected: AtomicU64,
    attempts: AtomicU64,
}

impl FaultPlan {
    /// Fails `rate` (0.0–1.0) of all attempts.
    pub fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate: AtomicU64::new(rate.to_bits()),
            state: Mutex::new(seed | 1),
            injected: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
        }
    }

    /// The outage is over: no attempt fails from now on.
    pub fn heal(&self) {
        self.rate.store(0f64.to_bits(), Ordering::Relaxed);
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    fn next_unit(&self) -> f64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // xorshift64*: plenty for picking faults, and reproducible from the seed.
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let value = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (value >> 11) as f64 / (1u64 << 53) as f64
    }

    fn roll(&self) -> Option<Fault> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if self.next_unit() >= f64::from_bits(self.rate.load(Ordering::Relaxed)) {
            return None;
        }
        self.injected.fetch_add(1, Ordering::Relaxed);
        Some(match (self.next_unit() * 3.0) as u32 {
            0 => Fault::Throttled,
            1 => Fault::ServerError,
            _ => Fault::TimeoutAfterApplying,
        })
    }

    /// Runs `call` as the SDK would, with faults: up to [`MAX_ATTEMPTS`] attempts.
    async fn run<T, E, Fut>(
        &self,
        mut call: impl FnMut() -> Fut,
        unavailable: impl Fn(String) -> E,
    ) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let mut last = String::new();
        for _ in 0..MAX_ATTEMPTS {
            match self.roll() {
                None => return call().await,
                Some(Fault::TimeoutAfterApplying) => {
                    // Deliberately ignored: the effect stays, the answer is lost.
                    let _lost = call().await;
                    last = "injected timeout after the call was applied".into();
                }
                Some(fault) => last = format!("injected {fault:?}"),
            }
        }
        Err(unavailable(last))
    }
}

/// A port with faults injected by `plan`.
pub struct Faulty<T: ?Sized> {
    plan: std::sync::Arc<FaultPlan>,
    inner: std::sync::Arc<T>,
}

impl<T: ?Sized> Faulty<T> {
    pub fn new(inner: std::sync::Arc<T>, plan: std::sync::Arc<FaultPlan>) -> Self {
        Self { plan, inner }
    }
}

fn store_down(reason: String) -> StoreError {
    StoreError::Unavailable(reason)
}

fn queue_down(reason: String) -> QueueError {
    QueueError::Unavailable(reason)
}

#[async_trait]
impl<T: TicketStore + ?Sized> TicketStore for Faulty<T> {
    async fn allocate_numbers(&self, count: u64) -> Result<TicketNumber, StoreError> {
        self.plan.run(|| self.inner.allocate_numbers(count), store_down).await
    }
    async fn ticket(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError> {
        self.plan.run(|| self.inner.ticket(number), store_down).await
    }
    async fn messages(&self, number: TicketNumber) -> Result<Vec<Message>, StoreError> {
        self.plan.run(|| self.inner.messages(number), store_down).await
    }
    async fn events(&self, number: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        self.plan.run(|| self.inner.events(number), store_down).await
    }
    async fn thread_ticket(&self, key: &ThreadKey) -> Result<Option<TicketNumber>, StoreError> {
        self.plan.run(|| self.inner.thread_ticket(key), store_down).await
    }
    async fn commit(&self, commit: TicketCommit) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.commit(commit.clone()), store_down).await
    }
    async fn claim_thread(&self, claim: &ThreadClaim) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.claim_thread(claim), store_down).await
    }
    async fn list(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, StoreError> {
        self.plan.run(|| self.inner.list(filter, limit, cursor), store_down).await
    }
    async fn assigned_load(&self, agent: &str) -> Result<u32, StoreError> {
        self.plan.run(|| self.inner.assigned_load(agent), store_down).await
    }
    async fn rewrite_messages(&self, number: TicketNumber, messages: &[Message]) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.rewrite_messages(number, messages), store_down).await
    }
    async fn rewrite_events(&self, number: TicketNumber, events: &[TicketEvent]) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.rewrite_events(number, events), store_down).await
    }

    async fn due_tickets(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        self.plan.run(|| self.inner.due_tickets(bucket, up_to, limit), store_down).await
    }
}

#[async_trait]
impl<T: CustomerStore + ?Sized> CustomerStore for Faulty<T> {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.plan.run(|| self.inner.customer(id), store_down).await
    }
    async fn customer_by_identity(&self, identity: &Identity) -> Result<Option<CustomerId>, StoreError> {
        self.plan.run(|| self.inner.customer_by_identity(identity), store_down).await
    }
    async fn create(&self, customer: &Customer) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.create(customer), store_down).await
    }
    async fn claim_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.claim_identity(id, identity, at), store_down).await
    }
    async fn update(&self, customer: &Customer, expected_version: u64) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.update(customer, expected_version), store_down).await
    }
    async fn move_identity(
        &self,
        identity: &Identity,
        from: &CustomerId,
        to: &CustomerId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.move_identity(identity, from, to, at), store_down).await
    }
    async fn release_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        erased_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.release_identity(id, identity, erased_at), store_down).await
    }
    async fn erased_identity(&self, identity: &Identity) -> Result<Option<Timestamp>, StoreError> {
        self.plan.run(|| self.inner.erased_identity(identity), store_down).await
    }
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.record_audit(entry), store_down).await
    }
    async fn audit_trail(&self, id: &CustomerId) -> Result<Vec<AuditEntry>, StoreError> {
        self.plan.run(|| self.inner.audit_trail(id), store_down).await
    }
}

#[async_trait]
impl<T: RateLimiter + ?Sized> RateLimiter for Faulty<T> {
    async fn try_acquire(
        &self,
        key: &str,
        holder: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.plan.run(|| self.inner.try_acquire(key, holder, limit, window, now), store_down).await
    }

    async fn count_requests(
        &self,
        key: &str,
        count: u32,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.plan.run(|| self.inner.count_requests(key, count, limit, window, now), store_down).await
    }
}

#[async_trait]
impl<T: IdempotencyStore + ?Sized> IdempotencyStore for Faulty<T> {
    async fn result(&self, key: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        self.plan.run(|| self.inner.result(key, now), store_down).await
    }
    async fn begin(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Idempotency, StoreError> {
        self.plan.run(|| self.inner.begin(key, owner, now, lease), store_down).await
    }
    async fn complete(&self, record: IdempotencyRecord) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.complete(record.clone()), store_down).await
    }
    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.plan.run(|| self.inner.release(key), store_down).await
    }
}

#[async_trait]
impl<T: Queue + ?Sized> Queue for Faulty<T> {
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError> {
        self.plan.run(|| self.inner.send(message.clone()), queue_down).await
    }
    async fn send_batch(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        self.plan.run(|| self.inner.send_batch(messages.clone()), queue_down).await
    }
    async fn receive(&self, max: usize) -> Result<Vec<Received>, QueueError> {
        // A lost receive answer leaves the messages in flight until their timeout: as on SQS.
        self.plan.run(|| self.inner.receive(max), queue_down).await
    }
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.plan.run(|| self.inner.delete(receipt_handle), queue_down).await
    }
    async fn delete_batch(&self, receipt_handles: &[String]) -> Result<(), QueueError> {
        self.plan.run(|| self.inner.delete_batch(receipt_handles), queue_down).await
    }
    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        self.inner.depth().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::memory::MemoryStore;

    #[tokio::test]
    async fn about_the_chosen_fraction_of_attempts_fail_and_retries_hide_most() {
        let plan = Arc::new(FaultPlan::new(0.2, 7));
        let store = Faulty::new(Arc::new(MemoryStore::new()), plan.clone());
        let mut failures = 0;
        for _ in 0..2_000 {
            if store.allocate_number().await.is_err() {
                failures += 1;
            }
        }
        let rate = plan.injected() as f64 / plan.attempts() as f64;
        assert!((0.17..0.23).contains(&rate), "injected rate {rate}");
        // All three attempts fail with probability 0.2³ = 0.8 %.
        assert!(failures < 60, "{failures} calls failed");
    }

    #[tokio::test]
    async fn a_timeout_after_applying_keeps_the_effect() {
        let plan = Arc::new(FaultPlan::new(1.0, 3));
        let inner = Arc::new(MemoryStore::new());
        let store = Faulty::new(inner.clone(), plan);
        for _ in 0..10 {
            assert!(store.allocate_number().await.is_err());
        }
        // Every call failed, yet the attempts that timed out after applying moved the counter.
        assert!(inner.allocate_number().await.unwrap().0 > 1);
    }
}
