//! The SLA end to end, on both backends: a chat the desk leaves unanswered breaches its
//! first-reply target, and two sweeps racing on it record the breach and the escalation
//! once. Time is the system clock shifted by hand, so queues, signatures and moto keep
//! working in real time while the test jumps to the deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::model::{EventKind, TicketNumber};
use omnidesk_domain::ports::Clock;
use omnidesk_domain::sla::TimerKind;

use crate::{Backend, TestDesk, eventually};

/// The system clock plus an offset the test moves.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_seconds: AtomicI64,
}

impl ShiftedClock {
    pub fn shift(&self, by: SignedDuration) {
        self.offset_seconds.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        let offset = SignedDuration::from_secs(self.offset_seconds.load(Ordering::SeqCst));
        Timestamp::now().checked_add(offset).unwrap_or(Timestamp::MAX)
    }
}

/// Chat answered within a minute, round the clock; frontline breaches go to technical.
const SLA: &str = r#"
[routing]
default_team = "frontline"
teams = [{ id = "frontline", name = "Frontline", tier = 1 }, { id = "technical", name = "Technical", tier = 2 }]

[sla]
[[sla.policies]]
channel = "chat"
calendar = "24x7"
first_reply_minutes = 1
resolution_minutes = 60

[[sla.escalations]]
name = "frontline first reply"
timers = ["first_reply"]
teams = ["frontline"]
to_team = "technical"
raise_priority = true
"#;

pub async fn an_unanswered_chat_breaches_its_first_reply_and_is_escalated_once(backend: &Backend) {
    let clock = Arc::new(ShiftedClock::default());
    // The desk's own ticker may sweep too: more sweepers racing, the same outcome.
    let t = TestDesk::start_with(backend, None, SLA, clock.clone()).await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "Where is my parcel?").await, 202);
    assert!(
        eventually(backend.patience(), || async { t.ticket(1).await.is_some_and(|t| t.due_at.is_some()) })
            .await,
        "the ticket never got its timers"
    );
    let ticket = t.ticket(1).await.expect("ticket #1");
    let first_reply = ticket.sla.timer(TimerKind::FirstReply).expect("first reply timer");
    assert_eq!(first_reply.due_at, ticket.created_at + SignedDuration::from_mins(1));
    assert_eq!(ticket.team.as_deref(), Some("frontline"));

    clock.shift(SignedDuration::from_mins(2));
    let (a, b) = tokio::join!(t.desk.sweep_sla(), t.desk.sweep_sla());
    let (a, b) = (a.expect("sla configured").expect("sweep"), b.expect("sla configured").expect("sweep"));
    // A run stops starting buckets after its time limit; on a loaded machine the first runs
    // (reading back from no watermark) may stop short, and a later one carries on.
    let mut recorded = a.breaches + b.breaches;
    for _ in 0..10 {
        if t.ticket(1).await.is_some_and(|t| t.sla.breached()) {
            break;
        }
        recorded += t.desk.sweep_sla().await.expect("sla configured").expect("sweep").breaches;
    }
    assert!(recorded <= 1, "the breach recorded {recorded} times");
    let again = t.desk.sweep_sla().await.expect("sla configured").expect("sweep");
    assert_eq!(again.breaches, 0);

    let ticket = t.ticket(1).await.expect("ticket #1");
    assert!(ticket.sla.breached());
    assert_eq!(ticket.team.as_deref(), Some("technical"));
    let events = t.observe.tickets.events(TicketNumber(1)).await.expect("events");
    let breaches = events.iter().filter(|e| matches!(e.kind, EventKind::SlaBreached { .. })).count();
    let escalations: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Escalated { reason, .. } if reason.starts_with("sla ") => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(breaches, 1);
    assert_eq!(escalations, ["sla first_reply breached: rule frontline first reply"]);
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "events without gaps or repeats");
}
