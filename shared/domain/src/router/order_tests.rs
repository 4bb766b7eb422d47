//! Order: the inbound queue does not keep it, so a conversation's thread and its ticket's
//! subject follow when each message was sent, not when it was routed.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::inbound::MAX_SENT_BEFORE_ARRIVAL;
use crate::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

/// A router on a fresh store, its clock a little after the messages the tests send.
fn router() -> (TicketRouter, Arc<MemoryStore>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at(1_790_000_100)));
    let store = Arc::new(MemoryStore::new());
    let outbound =
        Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), QueueSettings::default()));
    let ports = crate::memory::router_ports(store.clone(), outbound, clock.clone());
    (TicketRouter::new(ports, Acknowledgements::default()), store, clock)
}

fn chat(message_id: &str, text: &str, sent_at: Option<Timestamp>, received_at: Timestamp) -> InboundMessage {
    InboundMessage { sent_at, received_at, ..super::tests::chat(message_id, "c1", "v1", text) }
}

#[tokio::test]
async fn order_a_conversation_routed_in_reverse_reads_in_sent_order_with_the_first_messages_subject() {
    let (router, store, clock) = router();
    let texts = ["Where is my parcel?", "Order 42, paid on Monday", "Any news?"];
    // Sent a second apart, accepted right after; routed last-first, as after a crash.
    let inbound: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let sent = at(1_790_000_000 + i as i64);
            chat(&format!("m{i}"), text, Some(sent), sent.checked_add(Duration::from_millis(300)).unwrap())
        })
        .collect();
    for message in inbound.iter().rev() {
        clock.advance(Duration::from_secs(60));
        router.route(message).await.unwrap();
    }
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.subject, "Where is my parcel?");
    assert_eq!(ticket.subject_at, Some(at(1_790_000_000)));
    let thread: Vec<_> = store
        .messages(TicketNumber(1))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.author == AuthorKind::Customer)
        .map(|m| m.text)
        .collect();
    assert_eq!(thread, texts);
    assert_eq!(store.all_tickets().len(), 1);
}

#[test]
fn order_sent_at_is_clamped_to_arrival() {
    let received = at(1_790_000_000);
    let message = |sent| chat("m", "hi", sent, received);
    assert_eq!(message(None).thread_at(), received, "no sent_at: the instant accepted");
    assert_eq!(message(Some(at(1_789_999_990))).thread_at(), at(1_789_999_990));
    assert_eq!(message(Some(at(1_790_000_500))).thread_at(), received, "never after arrival");
    let week_before = received.checked_sub(MAX_SENT_BEFORE_ARRIVAL).unwrap();
    assert_eq!(message(Some(at(0))).thread_at(), week_before, "not absurdly earlier");
}

#[tokio::test]
async fn order_a_later_message_never_takes_the_subject() {
    let (router, store, _) = router();
    router.route(&chat("m1", "Broken zipper", Some(at(1_790_000_000)), at(1_790_000_001))).await.unwrap();
    router.route(&chat("m2", "Thanks", Some(at(1_790_000_050)), at(1_790_000_051))).await.unwrap();
    assert_eq!(store.ticket(TicketNumber(1)).await.unwrap().unwrap().subject, "Broken zipper");
}

#[tokio::test]
async fn order_an_earlier_message_from_someone_else_in_the_thread_does_not_take_the_subject() {
    let (router, store, _) = router();
    router.route(&chat("m1", "Broken zipper", Some(at(1_790_000_000)), at(1_790_000_001))).await.unwrap();
    // Another visitor in the same conversation claims an earlier instant.
    let mut other = chat("m2", "Click here", Some(at(1_789_999_000)), at(1_790_000_051));
    other.sender.chat_visitor = Some("v2".into());
    assert_eq!(router.route(&other).await.unwrap().ticket, TicketNumber(1));
    assert_eq!(store.ticket(TicketNumber(1)).await.unwrap().unwrap().subject, "Broken zipper");
}
