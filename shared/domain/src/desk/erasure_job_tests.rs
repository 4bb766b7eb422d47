//! Erasure jobs: queued by the request, run off it, verified, run again while something is
//! left, and harmless when delivered twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::privacy_tests::{World, admin, chat, world};
use super::*;
use crate::envelope::open;
use crate::memory::hooked::{HookedStore, StoreHooks};
use crate::memory::{MemoryQueue, MemoryStore, QueueSettings, SequentialIds};
use crate::model::{Message, TicketNumber};
use crate::ports::StoreError;

/// The world's desk, over `tickets`, queueing its erasure jobs on a queue of its own.
fn job_desk(world: &World, tickets: Arc<dyn TicketStore>) -> (AgentDesk, Arc<MemoryQueue>) {
    let jobs = Arc::new(MemoryQueue::new("inbound", world.clock.clone(), QueueSettings::default()));
    let ports = DeskPorts {
        tickets,
        customers: world.store.clone(),
        agents: Arc::new(crate::roster::Roster::new(Vec::new(), world.store.clone())),
        idempotency: world.store.clone(),
        outbound: world.outbound.clone(),
        blobs: world.blobs.clone(),
        clock: world.clock.clone(),
        ids: Arc::new(SequentialIds::default()),
    };
    let desk =
        AgentDesk::new(ports, None, crate::router::EmailRules::default()).with_erasure_queue(jobs.clone());
    (desk, jobs)
}

/// The job messages waiting in `queue`, taken off it.
async fn queued(queue: &MemoryQueue) -> Vec<ErasureJobMessage> {
    let received = queue.receive(10).await.unwrap();
    for r in &received {
        queue.delete(&r.receipt_handle).await.unwrap();
    }
    received.iter().map(|r| open::<ErasureJobMessage>(&r.body).unwrap()).collect()
}

fn finished(run: JobRun) -> ErasureJob {
    match run {
        JobRun::Finished(job) => job,
        JobRun::Again(job) => panic!("expected a finished job: {job:?}"),
    }
}

#[tokio::test]
async fn an_erasure_request_queues_a_job_that_runs_off_the_request_and_reports_every_store() {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "Where is my parcel, Li Wei here")).await.unwrap();
    let (desk, jobs) = job_desk(&world, world.store.clone());

    let job = desk.request_erasure(&admin(), &routed.customer).await.unwrap();
    assert_eq!((job.status, job.attempts), (ErasureStatus::Queued, 0));
    assert!(world.store.dump().contains("Li Wei"), "the request itself erases nothing");
    assert_eq!(desk.erasure_job(&routed.customer, &job.id).await.unwrap(), job);

    let messages = queued(&jobs).await;
    assert_eq!(messages, vec![ErasureJobMessage { customer: routed.customer.clone(), job: job.id.clone() }]);
    let done = finished(desk.run_erasure_job(&messages[0]).await.unwrap());
    assert_eq!((done.status, done.attempts), (ErasureStatus::Done, 1));
    assert!(done.leftovers.is_empty(), "{done:?}");
    assert!(!world.store.dump().contains("Li Wei"));
    let table = &done.stores["table"];
    for (kind, count) in
        [("ticket", 1), ("message", 2), ("customer", 1), ("identity_claim", 1), ("audit_entry", 1)]
    {
        assert_eq!(table[kind], count, "{kind} in {table:?}");
    }
    assert_eq!(done.stores["outbound_queue"]["job_dropped_on_receipt"], 1, "the acknowledgement");
    assert_eq!(done.stores["blob_store"]["attachment"], 0, "listed even when nothing was there");
    assert_eq!(done.stores["inbound_queue"]["ticket_closed_to_late_messages"], 1);
    assert_eq!(desk.erasure_job(&routed.customer, &job.id).await.unwrap(), done, "the status route reads it");

    // A second delivery of the same job changes nothing.
    let before = world.store.dump();
    assert_eq!(finished(desk.run_erasure_job(&messages[0]).await.unwrap()), done);
    assert_eq!(world.store.dump(), before);

    // A second request is a new job that finds nothing left.
    desk.request_erasure(&admin(), &routed.customer).await.unwrap();
    let again = finished(desk.run_erasure_job(&queued(&jobs).await[0]).await.unwrap());
    assert_eq!(again.status, ErasureStatus::Done);
    let nothing: usize =
        again.stores["table"].iter().filter(|(k, _)| *k != "audit_entry").map(|(_, n)| n).sum();
    assert_eq!(nothing, 0, "{again:?}");
}

/// On the `at`-th read of a customer's ticket list (and with `repeat` on every `at`-th), puts
/// `restore` back first: a write that lands after the erasure's last pass.
struct LateWrite {
    reads: AtomicUsize,
    at: usize,
    repeat: bool,
    restore: (TicketNumber, Message),
}

#[async_trait]
impl StoreHooks for LateWrite {
    async fn before_list(&self, store: &MemoryStore) -> Result<(), StoreError> {
        let read = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        if read == self.at || (self.repeat && read.is_multiple_of(self.at)) {
            let (number, message) = &self.restore;
            store.rewrite_messages(*number, std::slice::from_ref(message)).await?;
        }
        Ok(())
    }
}

/// A job over a store where the customer's message reappears at the `at`-th list read.
async fn late_write_job(at: usize, repeat: bool) -> (World, AgentDesk, ErasureJobMessage) {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "My card ends 4242")).await.unwrap();
    let original = world.store.messages(routed.ticket).await.unwrap().remove(0);
    let tickets = HookedStore::new(
        world.store.clone(),
        LateWrite { reads: AtomicUsize::new(0), at, repeat, restore: (routed.ticket, original) },
    );
    let (desk, jobs) = job_desk(&world, tickets);
    desk.request_erasure(&admin(), &routed.customer).await.unwrap();
    let message = queued(&jobs).await.remove(0);
    (world, desk, message)
}

#[tokio::test]
async fn a_job_whose_verification_finds_leftovers_runs_again_until_nothing_is_left() {
    // Reads: the first pass, the second (which finds nothing), then the verification.
    let (world, desk, message) = late_write_job(3, false).await;
    let first = match desk.run_erasure_job(&message).await.unwrap() {
        JobRun::Again(job) => job,
        JobRun::Finished(job) => panic!("the verification missed the late write: {job:?}"),
    };
    assert_eq!((first.status, first.attempts), (ErasureStatus::Running, 1));
    assert_eq!(first.leftovers.get("message"), Some(&1), "{first:?}");
    assert!(world.store.dump().contains("4242"), "the late write is there until the next run");

    let second = finished(desk.run_erasure_job(&message).await.unwrap());
    assert_eq!((second.status, second.attempts), (ErasureStatus::Done, 2));
    assert!(second.leftovers.is_empty());
    assert_eq!(second.stores["table"]["message"], 3, "two erased in run 1, the late one in run 2");
    assert!(!world.store.dump().contains("4242"));
}

#[tokio::test]
async fn a_job_still_finding_leftovers_after_its_last_run_fails_with_a_status() {
    // Each run reads the list three times (two passes, the verification), and the message
    // comes back before every verification.
    let (world, desk, message) = late_write_job(3, true).await;
    for attempt in 1..MAX_ERASURE_ATTEMPTS {
        let run = desk.run_erasure_job(&message).await.unwrap();
        assert!(matches!(&run, JobRun::Again(job) if job.attempts == attempt), "{run:?}");
    }
    let failed = finished(desk.run_erasure_job(&message).await.unwrap());
    assert_eq!((failed.status, failed.attempts), (ErasureStatus::Failed, MAX_ERASURE_ATTEMPTS));
    assert_eq!(failed.leftovers.get("message"), Some(&1));
    let trail = world.store.audit_trail(&message.customer).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == "erase" && e.detail.as_deref().unwrap_or("").contains("failed"))
    );
    // A failed job stays failed: another delivery changes nothing; a new request starts over.
    assert_eq!(finished(desk.run_erasure_job(&message).await.unwrap()), failed);
}

#[test]
fn job_ids_are_checked_before_any_read() {
    assert!(check_job_id("era_000001").is_ok());
    for bad in ["", "era_", "000001", "era_../x", &format!("era_{}", "a".repeat(80))] {
        assert!(matches!(check_job_id(bad), Err(DeskError::NotFound(_))), "{bad:?}");
    }
}
