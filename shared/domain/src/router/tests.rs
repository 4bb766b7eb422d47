use std::sync::Arc;

use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::envelope::open;
use crate::inbound::Sender;
use crate::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings};
use crate::model::EventKind;

struct Harness {
    store: Arc<MemoryStore>,
    outbound: Arc<MemoryQueue>,
    clock: Arc<ManualClock>,
    router: TicketRouter,
}

fn harness() -> Harness {
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_790_000_000).unwrap()));
    let store = Arc::new(MemoryStore::new());
    let outbound =
        Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), QueueSettings::default()));
    let ports = crate::memory::router_ports(store.clone(), outbound.clone(), clock.clone());
    let router = TicketRouter::new(ports, Acknowledgements::default());
    Harness { store, outbound, clock, router }
}

pub(super) fn chat(message_id: &str, conversation: &str, visitor: &str, text: &str) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key("web", message_id),
        source: Source::Chat {
            inbox: "web".into(),
            conversation_id: conversation.into(),
            message_id: message_id.into(),
        },
        sender: Sender { chat_visitor: Some(visitor.into()), ..Sender::default() },
        text: text.into(),
        attachments: vec![],
        sent_at: None,
        received_at: Timestamp::from_second(1_790_000_000).unwrap(),
    }
}

/// Solves and closes ticket `number` with a commit, as an agent and the closing timer would.
pub(super) async fn close_ticket(store: &MemoryStore, number: TicketNumber, now: Timestamp) {
    let mut ticket = store.ticket(number).await.unwrap().unwrap();
    let expected = ticket.version;
    let mut events = vec![];
    events.extend(ticket.set_status(&Actor::Agent("li.na".into()), Status::Solved, now).unwrap());
    events.extend(ticket.set_status(&Actor::System, Status::Closed, now).unwrap());
    let commit = TicketCommit {
        ticket,
        expected_version: Some(expected),
        messages: vec![],
        events,
        thread_claims: vec![],
        idempotency: None,
    };
    store.commit(commit).await.unwrap();
}

fn queued_jobs(h: &Harness) -> Vec<OutboundJob> {
    h.outbound.bodies().iter().map(|b| open::<OutboundJob>(b).unwrap()).collect()
}

#[tokio::test]
async fn first_message_opens_ticket_one_and_queues_an_acknowledgement() {
    let h = harness();
    let outcome = h.router.route(&chat("m1", "c1", "v1", "Where is my parcel?\nOrder 42")).await.unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));
    let ticket = h.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.subject, "Where is my parcel?");
    assert_eq!(ticket.status, Status::New);
    let jobs = queued_jobs(&h);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].text, "We received your message; your ticket is #1.");
    assert_eq!(jobs[0].id, "chat:web:m1:ack");
    let events: Vec<_> =
        h.store.events(TicketNumber(1)).await.unwrap().iter().map(|e| e.kind.name()).collect();
    assert_eq!(events, ["created", "message_in", "message_out"]);
    assert_eq!(h.store.messages(TicketNumber(1)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn second_message_in_conversation_joins_the_ticket_without_a_new_acknowledgement() {
    let h = harness();
    h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    let second = h.router.route(&chat("m2", "c1", "v1", "anyone?")).await.unwrap();
    assert_eq!(second.ticket, TicketNumber(1));
    assert!(!second.opened);
    assert_eq!(h.store.all_tickets().len(), 1);
    assert_eq!(queued_jobs(&h).len(), 1);
    assert_eq!(h.store.messages(TicketNumber(1)).await.unwrap().len(), 3);
}

#[tokio::test]
async fn duplicate_message_id_creates_nothing_and_names_the_same_delivery() {
    let h = harness();
    let first = h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    let again = h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.ticket, first.ticket);
    assert_eq!(h.store.messages(TicketNumber(1)).await.unwrap().len(), 2);
    assert_eq!(h.store.events(TicketNumber(1)).await.unwrap().len(), 3);
    // Re-queued in case the first delivery crashed before queueing; same id, so the
    // dispatcher sends it once.
    let jobs = queued_jobs(&h);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0], jobs[1]);
}

#[tokio::test]
async fn another_conversation_of_the_same_visitor_finds_the_same_customer() {
    let h = harness();
    let first = h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    let second = h.router.route(&chat("m2", "c2", "v1", "new topic")).await.unwrap();
    assert_eq!(second.ticket, TicketNumber(2));
    assert_eq!(first.customer, second.customer);
    assert_eq!(h.store.all_customers().len(), 1);
}

#[tokio::test]
async fn email_given_later_is_claimed_for_the_customer_found_by_visitor_id() {
    let h = harness();
    let first = h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    let mut with_email = chat("m2", "c1", "v1", "my email");
    with_email.sender.email = Some("Li.Wei@Example.com".into());
    h.router.route(&with_email).await.unwrap();
    // A different inbox visitor with that email is the same person.
    let mut elsewhere = chat("m3", "c9", "v-other", "me again");
    elsewhere.sender.email = Some("li.wei@example.com".into());
    let third = h.router.route(&elsewhere).await.unwrap();
    assert_eq!(third.customer, first.customer);
    let customer = h.store.customer(&first.customer).await.unwrap().unwrap();
    assert_eq!(customer.identities.len(), 3);
}

#[tokio::test]
async fn customer_message_reopens_a_pending_ticket() {
    let h = harness();
    h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    let mut ticket = h.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let expected = ticket.version;
    let event =
        ticket.set_status(&Actor::Agent("li.na".into()), Status::Pending, h.clock.now()).unwrap().unwrap();
    h.store
        .commit(TicketCommit {
            ticket,
            expected_version: Some(expected),
            messages: vec![],
            events: vec![event],
            thread_claims: vec![],
            idempotency: None,
        })
        .await
        .unwrap();
    h.router.route(&chat("m2", "c1", "v1", "still waiting")).await.unwrap();
    assert_eq!(h.store.ticket(TicketNumber(1)).await.unwrap().unwrap().status, Status::Open);
}

#[tokio::test]
async fn message_to_a_closed_conversation_opens_a_linked_follow_up() {
    let h = harness();
    h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    close_ticket(&h.store, TicketNumber(1), h.clock.now()).await;

    let outcome = h.router.route(&chat("m2", "c1", "v1", "it broke again")).await.unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.follow_up_of, Some(TicketNumber(1)));
    let follow_up = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    assert_eq!(follow_up.follow_up_of, Some(TicketNumber(1)));
    // The conversation now continues the follow-up.
    let third = h.router.route(&chat("m3", "c1", "v1", "hello?")).await.unwrap();
    assert_eq!(third.ticket, outcome.ticket);
    assert_eq!(h.store.ticket(TicketNumber(1)).await.unwrap().unwrap().status, Status::Closed);
}

#[tokio::test]
async fn acknowledgement_can_be_turned_off_per_inbox() {
    let mut h = harness();
    let mut acks = Acknowledgements::default();
    acks.per_inbox.insert("web".into(), None);
    h.router.acknowledgements = acks;
    h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    assert!(h.outbound.is_empty());
}

#[tokio::test]
async fn concurrent_deliveries_of_one_message_write_it_once() {
    let h = Arc::new(harness());
    let message = chat("m1", "c1", "v1", "hello");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let h = h.clone();
        let message = message.clone();
        tasks.push(tokio::spawn(async move { h.router.route(&message).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(h.store.all_tickets().len(), 1);
    let messages = h.store.messages(TicketNumber(1)).await.unwrap();
    assert_eq!(messages.iter().filter(|m| m.author == AuthorKind::Customer).count(), 1);
}

#[test]
fn long_first_lines_are_cut_on_a_character_boundary() {
    let subject = subject_of(&"物流".repeat(100));
    assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS + 1);
    assert!(subject.ends_with('…'));
    assert_eq!(subject_of("\n\n  "), "(no subject)");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Each message delivered 1–3 times in random order: exactly one ticket message each,
    /// one ticket per conversation, one acknowledgement per ticket.
    #[test]
    fn redelivery_in_any_order_writes_each_message_once(
        plan in proptest::collection::vec((0usize..4, 1usize..=3), 1..12),
        seed in any::<u64>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let h = harness();
            let messages: Vec<InboundMessage> = plan.iter().enumerate()
                .map(|(i, (conversation, _))| chat(&format!("m{i}"), &format!("c{conversation}"), "v1", "text"))
                .collect();
            let mut deliveries: Vec<usize> = plan.iter().enumerate().flat_map(|(i, (_, n))| std::iter::repeat_n(i, *n)).collect();
            // Deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..deliveries.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                deliveries.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for index in deliveries {
                h.router.route(&messages[index]).await.unwrap();
            }
            let conversations: std::collections::BTreeSet<_> = plan.iter().map(|(c, _)| *c).collect();
            let tickets = h.store.all_tickets();
            assert_eq!(tickets.len(), conversations.len());
            let mut customer_messages = 0;
            for ticket in &tickets {
                let thread = h.store.messages(ticket.number).await.unwrap();
                customer_messages += thread.iter().filter(|m| m.author == AuthorKind::Customer).count();
                let events = h.store.events(ticket.number).await.unwrap();
                let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
                assert_eq!(seqs, (1..=ticket.version).collect::<Vec<_>>());
                assert_eq!(events.iter().filter(|e| matches!(e.kind, EventKind::Created { .. })).count(), 1);
            }
            assert_eq!(customer_messages, plan.len());
            let distinct_jobs: std::collections::BTreeSet<_> = queued_jobs(&h).into_iter().map(|j| j.id).collect();
            assert_eq!(distinct_jobs.len(), conversations.len());
        });
    }
}

// --- routing new tickets to teams ---

fn routed_harness() -> Harness {
    let Harness { store, outbound, clock, router } = harness();
    Harness { store, outbound, clock, router: router.with_routing(crate::assignment::Routing::default()) }
}

#[tokio::test]
async fn a_refund_request_in_chinese_goes_to_complaints_with_the_reason_recorded() {
    let h = routed_harness();
    let outcome = h.router.route(&chat("m1", "c1", "v1", "我要退款，订单 A1029")).await.unwrap();
    let ticket = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    assert_eq!(ticket.team.as_deref(), Some("complaints"));
    let events = h.store.events(outcome.ticket).await.unwrap();
    let routed = events.iter().find_map(|e| match &e.kind {
        EventKind::Escalated { from_team: None, to_team: Some(team), reason } => Some((team, reason)),
        _ => None,
    });
    let (team, reason) = routed.expect("a routing event");
    assert_eq!(team, "complaints");
    assert!(reason.contains("退款"), "{reason}");
    // Still one event per version.
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=ticket.version).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_unmatched_message_goes_to_the_default_team_and_later_messages_keep_it() {
    let h = routed_harness();
    h.router.route(&chat("m1", "c1", "v1", "Where is my parcel?")).await.unwrap();
    h.router.route(&chat("m2", "c1", "v1", "It has a bug in the tracking page")).await.unwrap();
    let ticket = h.store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.team.as_deref(), Some("frontline"), "only a new ticket is routed");
}

#[tokio::test]
async fn a_vip_customer_gets_at_least_high_priority() {
    let h = routed_harness();
    h.router.route(&chat("m1", "c1", "v1", "hello")).await.unwrap();
    let mut customer = h.store.all_customers().remove(0);
    let expected = customer.version;
    customer.tier = Some("vip".into());
    customer.version += 1;
    h.store.update(&customer, expected).await.unwrap();
    let outcome = h.router.route(&chat("m2", "c2", "v1", "new question")).await.unwrap();
    let ticket = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    assert_eq!(ticket.priority, crate::model::Priority::High);
    assert_eq!(ticket.team.as_deref(), Some("frontline"));
}

/// A message from an identity erased after the message was received (it waited in a queue),
/// starting a new conversation, makes no customer and no ticket; one received after the
/// erasure is a new contact.
#[tokio::test]
async fn a_new_conversation_received_before_its_senders_erasure_is_dropped_and_makes_no_one() {
    let h = harness();
    let received = h.clock.now();
    let visitor = crate::model::Identity::chat_visitor("web", "v1").unwrap();
    let erased_at = Timestamp::from_second(1_790_000_100).unwrap();
    h.store.release_identity(&CustomerId::new("cus_gone"), &visitor, erased_at).await.unwrap();

    let mut waited = chat("m1", "c-new", "v1", "Please forget me");
    waited.received_at = received;
    let outcome = h.router.route(&waited).await.unwrap();
    assert!(outcome.dropped, "{outcome:?}");
    assert_eq!(h.store.customer_by_identity(&visitor).await.unwrap(), None, "nobody made again");
    assert_eq!(h.store.ticket(TicketNumber(1)).await.unwrap(), None);

    let mut after = chat("m2", "c-new", "v1", "Hello again");
    after.received_at = Timestamp::from_second(1_790_000_200).unwrap();
    let outcome = h.router.route(&after).await.unwrap();
    assert!(outcome.opened && !outcome.dropped, "a new contact: {outcome:?}");
    assert!(h.store.customer_by_identity(&visitor).await.unwrap().is_some());
}
