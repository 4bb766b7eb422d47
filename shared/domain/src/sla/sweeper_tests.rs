//! The sweeper over the in-memory store and queue, with a clock the tests move.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use super::engine_tests::{config, sh};
use super::sweeper::{GRACE, OUTBOX_RETRY, WATERMARK, bucket_of};
use super::*;
use crate::envelope::open;
use crate::memory::hooked::{HookedStore, StoreHooks};
use crate::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings};
use crate::model::{Channel, CustomerId, EventKind, Priority, Ticket, TicketEvent, TicketNumber};
use crate::outbound::OutboundJob;
use crate::ports::{
    Clock, Queue, QueueDepth, QueueError, QueueMessage, Received, StoreError, TicketCommit, TicketStore,
    Watermarks,
};

const MONDAY: jiff::civil::Date = jiff::civil::date(2026, 11, 30);

fn alerting_policies() -> Arc<SlaPolicies> {
    let mut config = config();
    config.escalations = vec![EscalationSpec {
        name: "page on-call".into(),
        notify_webhook: Some("https://oncall.example/hook".into()),
        raise_priority: true,
        ..EscalationSpec::default()
    }];
    Arc::new(config.validate().unwrap())
}

struct Desk {
    store: Arc<MemoryStore>,
    outbound: Arc<MemoryQueue>,
    clock: Arc<ManualClock>,
    policies: Arc<SlaPolicies>,
}

impl Desk {
    fn new(start: Timestamp) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
        Self { store: Arc::new(MemoryStore::new()), outbound, clock, policies: alerting_policies() }
    }

    fn sweeper_on(&self, tickets: Arc<dyn TicketStore>, outbound: Arc<dyn Queue>) -> SlaSweeper {
        let ports =
            SweeperPorts { tickets, watermarks: self.store.clone(), outbound, clock: self.clock.clone() };
        SlaSweeper::new(ports, self.policies.clone())
    }

    fn sweeper(&self) -> SlaSweeper {
        self.sweeper_on(self.store.clone(), self.outbound.clone())
    }

    /// Opens ticket `number` now, as the router would (email, normal priority).
    async fn open(&self, number: u64, priority: Priority) {
        let now = self.clock.now();
        let (mut ticket, created) =
            Ticket::open(TicketNumber(number), Channel::Email, "s".into(), CustomerId::new("c"), None, now);
        ticket.priority = priority;
        self.policies.apply(&mut ticket, std::slice::from_ref(&created), None);
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages: vec![],
            events: vec![created],
            thread_claims: vec![],
            idempotency: None,
        };
        self.store.commit(commit).await.unwrap();
    }

    async fn events(&self, number: u64, name: &str) -> Vec<TicketEvent> {
        let events = self.store.events(TicketNumber(number)).await.unwrap();
        events.into_iter().filter(|e| e.kind.name() == name).collect()
    }

    fn queued(&self) -> Vec<OutboundJob> {
        self.outbound.bodies().iter().map(|b| open::<OutboundJob>(b).unwrap()).collect()
    }
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

#[tokio::test]
async fn a_breach_is_recorded_in_the_first_sweep_after_the_due_minute() {
    let desk = Desk::new(sh(MONDAY, 9, 0));
    desk.open(1, Priority::Normal).await;
    // First reply: warning at 09:48, due 10:00.
    desk.clock.set(sh(MONDAY, 9, 59) + SignedDuration::from_secs(59));
    let report = desk.sweeper().run().await.unwrap();
    assert_eq!((report.warnings, report.breaches), (1, 0));
    assert!(desk.events(1, "sla_breached").await.is_empty());

    desk.clock.set(sh(MONDAY, 10, 0) + SignedDuration::from_secs(30));
    let report = desk.sweeper().run().await.unwrap();
    assert_eq!(report.breaches, 1);
    let breaches = desk.events(1, "sla_breached").await;
    assert!(
        matches!(&breaches[..], [TicketEvent { kind: EventKind::SlaBreached { timer }, .. }] if timer == "first_reply")
    );
    let ticket = desk.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.priority, Priority::High, "bumped with the breach");
    assert!(ticket.sla.outbox.is_empty(), "alerts queued and cleared");
    assert_eq!(desk.events(1, "sla_notified").await.len(), 1, "the rule pages on breach only");
    let jobs = desk.queued();
    assert_eq!(jobs.len(), 1);
    assert!(jobs.iter().all(|j| matches!(j.destination, crate::outbound::Destination::Webhook { .. })));
}

/// Yields before each read of a ticket, each commit and after each read of the due index, so
/// two sweepers on one task interleave: both read the same due tickets before either commits.
struct Yielding;

#[async_trait]
impl StoreHooks for Yielding {
    async fn before_ticket(&self) {
        tokio::task::yield_now().await;
    }
    async fn before_commit(&self) {
        tokio::task::yield_now().await;
    }
    async fn after_due_tickets(&self, _due: &[Ticket]) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        Ok(())
    }
}

#[tokio::test]
async fn concurrent_sweeps_record_each_breach_and_queue_each_alert_once() {
    let desk = Desk::new(sh(MONDAY, 9, 0));
    for number in 1..=20 {
        desk.open(number, Priority::Normal).await;
    }
    desk.clock.set(sh(MONDAY, 10, 1));
    let racing = HookedStore::new(desk.store.clone(), Yielding);
    let (a, b) = (
        desk.sweeper_on(racing.clone(), desk.outbound.clone()),
        desk.sweeper_on(racing, desk.outbound.clone()),
    );
    let (ra, rb) = tokio::join!(a.run(), b.run());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.breaches + rb.breaches, 20);
    assert!(ra.conflicts + rb.conflicts > 0, "the sweepers did race");
    for number in 1..=20 {
        assert_eq!(desk.events(number, "sla_breached").await.len(), 1, "ticket {number}");
        assert_eq!(desk.events(number, "priority").await.len(), 1, "ticket {number}");
    }
    let jobs = desk.queued();
    let mut ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((jobs.len(), ids.len()), (20, 20), "one alert per breach, none twice");
    // A retried run changes nothing.
    let again = desk.sweeper().run().await.unwrap();
    assert_eq!((again.breaches, again.warnings, desk.queued().len()), (0, 0, 20));
}

#[tokio::test]
async fn catch_up_after_two_hours_of_downtime_processes_every_missed_timer_once() {
    let start = sh(MONDAY, 9, 0);
    let desk = Desk::new(start);
    desk.sweeper().run().await.unwrap();
    // Urgent runs round the clock: first reply due 60 minutes after opening. One ticket a
    // minute for two hours, while no sweeper runs.
    for i in 0..120 {
        desk.clock.set(start + mins(i));
        desk.open(i as u64 + 1, Priority::Urgent).await;
    }
    let now = start + mins(180);
    desk.clock.set(now);
    let report = desk.sweeper().run().await.unwrap();
    assert_eq!(report.breaches, 120, "{report:?}");
    assert_eq!(report.warnings, 0, "a breach overtakes its unsent warning");
    assert_eq!(report.items_read, 120, "each ticket read once");
    for number in 1..=120 {
        assert_eq!(desk.events(number, "sla_breached").await.len(), 1, "ticket {number}");
    }
    let closable = bucket_of(now - SignedDuration::try_from(GRACE).unwrap()) - mins(1);
    assert_eq!(desk.store.watermark(WATERMARK).await.unwrap(), Some(closable));
    let again = desk.sweeper().run().await.unwrap();
    assert_eq!((again.breaches, again.items_read), (0, 0));
}

#[tokio::test]
async fn a_run_stops_at_its_limits_and_the_next_continues_where_it_stopped() {
    let desk = Desk::new(sh(MONDAY, 9, 0));
    for number in 1..=5 {
        desk.open(number, Priority::Urgent).await;
    }
    desk.clock.set(sh(MONDAY, 10, 30));
    let limits = SweepLimits { max_tickets: 3, ..SweepLimits::default() };
    let first = desk.sweeper().with_limits(limits).run().await.unwrap();
    let second = desk.sweeper().with_limits(limits).run().await.unwrap();
    assert_eq!((first.breaches, second.breaches), (3, 2));
}

#[tokio::test]
async fn a_peak_minute_of_due_tickets_is_swept_in_one_run_each_ticket_once() {
    let desk = Desk::new(sh(MONDAY, 9, 0));
    for number in 1..=1_500 {
        desk.open(number, Priority::Urgent).await;
    }
    desk.clock.set(sh(MONDAY, 10, 30));
    let first = desk.sweeper().run().await.unwrap();
    let second = desk.sweeper().run().await.unwrap();
    assert_eq!((first.breaches, first.failures), (1_500, 0));
    assert_eq!(second.breaches, 0);
}

#[tokio::test]
async fn a_run_out_of_time_starts_no_bucket_and_the_next_run_catches_up() {
    let desk = Desk::new(sh(MONDAY, 9, 0));
    for number in 1..=3 {
        desk.open(number, Priority::Urgent).await;
    }
    desk.clock.set(sh(MONDAY, 10, 30));
    let spent = SweepLimits { max_run: Duration::ZERO, ..SweepLimits::default() };
    let first = desk.sweeper().with_limits(spent).run().await.unwrap();
    assert_eq!((first.buckets_read, first.breaches), (0, 0));
    let second = desk.sweeper().run().await.unwrap();
    assert_eq!(second.breaches, 3);
}

/// A queue that can be switched off.
struct Flaky {
    inner: Arc<MemoryQueue>,
    down: AtomicBool,
}

#[async_trait]
impl Queue for Flaky {
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable("down".into()));
        }
        self.inner.send(message).await
    }
    async fn receive(&self, max: usize) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(max).await
    }
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt_handle).await
    }
    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        self.inner.depth().await
    }
}

#[tokio::test]
async fn alerts_recorded_before_a_failed_enqueue_are_queued_by_a_later_sweep() {
    let desk = Desk::new(sh(MONDAY, 9, 0));
    desk.open(1, Priority::Urgent).await;
    let flaky = Arc::new(Flaky { inner: desk.outbound.clone(), down: AtomicBool::new(true) });
    desk.clock.set(sh(MONDAY, 10, 0));
    let report = desk.sweeper_on(desk.store.clone(), flaky.clone()).run().await.unwrap();
    assert_eq!((report.breaches, report.failures), (1, 1));
    let ticket = desk.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.sla.outbox.len(), 1, "the alert waits on the ticket");
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 10, 0) + SignedDuration::try_from(OUTBOX_RETRY).unwrap()));

    flaky.down.store(false, Ordering::SeqCst);
    desk.clock.set(sh(MONDAY, 10, 0) + mins(1));
    let report = desk.sweeper_on(desk.store.clone(), flaky).run().await.unwrap();
    assert_eq!((report.breaches, report.alerts_queued), (0, 1));
    assert_eq!(desk.queued().len(), 1);
    assert_eq!(desk.events(1, "sla_breached").await.len(), 1);
    assert_eq!(desk.events(1, "sla_notified").await.len(), 1);
    let counts: BTreeMap<String, usize> = desk.queued().iter().fold(BTreeMap::new(), |mut m, j| {
        *m.entry(j.id.clone()).or_default() += 1;
        m
    });
    assert!(counts.values().all(|c| *c == 1));
}
