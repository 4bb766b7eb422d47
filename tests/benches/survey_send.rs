//! What the survey sender costs with many solved tickets of which few surveys are due: index
//! items read per due survey, and surveys sent per second, in memory. Figures are printed;
//! nothing is asserted on time.
//!
//! `cargo bench --workspace --bench survey_send` (release, one thread): 100,000 solved tickets
//! (`-- N` for another count), each with a customer of its own and an email thread; 1,000 of
//! their surveys are due in the 3 minutes after the sender's watermark, the rest over the
//! next day (buckets the run does not read). Steady state, as the 5-minute schedule sees it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings};
use omnidesk_domain::model::{
    Actor, AuthorKind, Channel, ChannelRef, Customer, CustomerId, Direction, Identity, Message, MessageId,
    Status, Ticket, TicketNumber, Visibility,
};
use omnidesk_domain::ports::{Clock, CustomerStore, TicketCommit, TicketStore, Watermarks};
use omnidesk_domain::router::EmailRules;
use omnidesk_domain::sla::sweeper::bucket_of;
use omnidesk_domain::survey::sender::WATERMARK;
use omnidesk_domain::survey::{SendLimits, SenderPorts, SurveyRules, SurveySender, TokenKeys};

const DUE: usize = 1_000;

fn run_at() -> Timestamp {
    Timestamp::from_second(1_795_424_430).expect("valid instant")
}

async fn solved(store: &MemoryStore, rules: &SurveyRules, number: u64, due_in: SignedDuration) {
    let delay = SignedDuration::try_from(rules.delay).expect("delay");
    let at = run_at() + due_in - delay;
    let customer = CustomerId::new(format!("c{number}"));
    let identity = Identity::email(&format!("customer{number}@example.com")).expect("address");
    store.create(&Customer::new(customer.clone(), None, vec![identity], at)).await.expect("customer");
    let (mut ticket, created) =
        Ticket::open(TicketNumber(number), Channel::Email, "Parcel".into(), customer.clone(), None, at);
    let message = Message {
        id: MessageId::new(format!("m{number}")),
        ticket: TicketNumber(number),
        direction: Direction::Inbound,
        author: AuthorKind::Customer,
        author_id: None,
        visibility: Visibility::Public,
        text: "Where is my parcel?".into(),
        attachments: Vec::new(),
        channel_ref: ChannelRef::Email {
            message_id: format!("m{number}@mail.example.com"),
            in_reply_to: None,
            references: Vec::new(),
            mailbox: None,
            language: Some(if number.is_multiple_of(3) { "zh".into() } else { "en".into() }),
            raw_key: None,
        },
        created_at: at,
        flags: Default::default(),
    };
    let mut events = vec![created];
    events.extend(ticket.add_message(&Actor::Customer(customer), &message, at).expect("message"));
    events.extend(ticket.set_status(&Actor::Agent("li".into()), Status::Solved, at).expect("solve"));
    rules.apply(&mut ticket, &events);
    let commit = TicketCommit {
        ticket,
        expected_version: None,
        messages: vec![message],
        events,
        thread_claims: Vec::new(),
        idempotency: None,
    };
    store.commit(commit).await.expect("commit");
}

async fn bench(solved_tickets: usize) {
    let clock = Arc::new(ManualClock::new(run_at()));
    let store = Arc::new(MemoryStore::new());
    let rules = SurveyRules::default();
    let started = Instant::now();
    for i in 0..solved_tickets {
        // The first DUE fall in the 3 minutes before the run; the rest over the next day.
        let due_in = if i < DUE {
            SignedDuration::from_secs(-170 + (i as i64 % 170))
        } else {
            SignedDuration::from_secs(600 + (i as i64 * 7919) % 86_000)
        };
        solved(&store, &rules, i as u64 + 1, due_in).await;
    }
    let seeded = started.elapsed();
    let watermark = bucket_of(run_at()) - SignedDuration::from_mins(4);
    store.advance_watermark(WATERMARK, None, watermark).await.expect("watermark");
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let ports = SenderPorts {
        tickets: store.clone(),
        customers: store.clone(),
        watermarks: store.clone(),
        outbound: outbound.clone(),
        clock: clock.clone(),
    };
    let limits = SendLimits { max_tickets: DUE * 2, ..SendLimits::default() };
    let sender = SurveySender::new(
        ports,
        Arc::new(rules),
        TokenKeys::new(b"bench-survey-key-0123456789", None),
        "https://help.example",
        Some(EmailRules::default()),
    )
    .with_limits(limits);
    let run = Instant::now();
    let report = sender.run_at(clock.now(), true).await.expect("run");
    let took = run.elapsed();
    let again = Instant::now();
    let second = sender.run_at(clock.now() + Duration::from_secs(60), true).await.expect("second run");
    let second_took = again.elapsed();
    println!(
        "solved tickets {solved_tickets:>9} (seeded in {:.1?}) | due {} | buckets {} | items read {} | \
         read/due {:.2} | sent {} | run {:.1?} = {:.0} surveys/s | next run reads {} items in {:.2?}",
        seeded,
        report.due,
        report.buckets_read,
        report.items_read,
        report.items_read as f64 / report.due.max(1) as f64,
        report.sent,
        took,
        report.sent as f64 / took.as_secs_f64(),
        second.items_read,
        second_took,
    );
    assert_eq!(report.sent, DUE, "{report:?}");
    assert_eq!(outbound.len(), DUE);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![100_000] } else { sizes };
    for size in sizes {
        bench(size.max(DUE)).await;
    }
}
