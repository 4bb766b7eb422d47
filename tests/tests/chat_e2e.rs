//! The chat channel end to end over HTTP on 127.0.0.1: signed message → ticket → signed
//! acknowledgement at the provider's callback, exactly once.

use std::time::Duration;

use omnidesk_domain::model::{AuthorKind, TicketNumber};
use omnidesk_domain::ports::TicketStore;
use omnidesk_tests::{TestDesk, eventually, settle};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_message_opens_ticket_one_and_the_acknowledgement_reaches_the_callback() {
    let t = TestDesk::start().await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "Where is my parcel?").await, 202);

    assert!(eventually(WAIT, || t.receiver.delivered().len() == 1).await, "no acknowledgement arrived");
    let ack = &t.receiver.delivered()[0];
    assert_eq!(ack.ticket, "#1");
    assert_eq!(ack.text, "We received your message; your ticket is #1.");
    assert_eq!(ack.conversation_id, "conv-1");
    assert_eq!(ack.visitor_id.as_deref(), Some("visitor-1"));
    assert!(t.receiver.attempts().iter().all(|a| a.signature_valid));

    let ticket = t.desk.store.ticket(TicketNumber(1)).await.unwrap().expect("ticket #1");
    assert_eq!(ticket.subject, "Where is my parcel?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_continues_its_ticket_and_repeats_change_nothing() {
    let t = TestDesk::start().await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "hello").await, 202);
    assert!(eventually(WAIT, || t.receiver.delivered().len() == 1).await);

    // A second message in the same conversation joins #1, with no second acknowledgement.
    assert_eq!(t.send_chat("m2", "conv-1", "visitor-1", "are you there?").await, 202);
    assert!(
        eventually(WAIT, || t.desk.store.all_tickets().first().is_some_and(|ticket| ticket.version == 4))
            .await,
        "second message never joined #1"
    );

    // The same message_id again: accepted, but nothing new is written or sent.
    let before = t.desk.store.messages(TicketNumber(1)).await.unwrap();
    let (status, body) = t
        .post_chat(
            "web",
            omnidesk_tests::chat_body("m2", "conv-1", "visitor-1", "are you there?").as_bytes(),
            Some(omnidesk_tests::now()),
        )
        .await;
    assert_eq!(
        (status, body["accepted"].as_bool(), body["message_id"].as_str()),
        (202, Some(true), Some("m2"))
    );
    assert!(eventually(WAIT, || t.desk.inbound.is_empty() && t.desk.outbound.is_empty()).await);
    settle().await;

    let tickets = t.desk.store.all_tickets();
    assert_eq!(tickets.len(), 1);
    let after = t.desk.store.messages(TicketNumber(1)).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.iter().filter(|m| m.author == AuthorKind::Customer).count(), 2);
    assert_eq!(t.receiver.attempts().len(), 1, "a repeat must send nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_conversation_of_the_same_visitor_finds_the_same_customer() {
    let t = TestDesk::start().await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "first topic").await, 202);
    assert!(eventually(WAIT, || t.receiver.delivered().len() == 1).await);
    assert_eq!(t.send_chat("m2", "conv-2", "visitor-1", "second topic").await, 202);
    assert!(eventually(WAIT, || t.receiver.delivered().len() == 2).await);

    let tickets = t.desk.store.all_tickets();
    assert_eq!(tickets.iter().map(|t| t.number).collect::<Vec<_>>(), [TicketNumber(1), TicketNumber(2)]);
    assert_eq!(tickets[0].requester, tickets[1].requester);
    assert_eq!(t.desk.store.all_customers().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_receiver_down_retries_then_dead_letters_with_the_ticket_intact() {
    let t = TestDesk::start().await;
    t.receiver.set_down(true);
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "hello").await, 202);

    let outbound_dlq = t.desk.outbound.dead_letter().expect("outbound has a DLQ").clone();
    assert!(eventually(WAIT, || outbound_dlq.len() == 1).await, "acknowledgement never dead-lettered");
    // 3 receives (max_receive_count) × 2 attempts each (delivery.attempts).
    assert_eq!(t.receiver.attempts().len(), 6);
    assert!(t.desk.outbound.is_empty());
    assert!(outbound_dlq.bodies()[0].contains("We received your message; your ticket is #1."));

    let ticket = t.desk.store.ticket(TicketNumber(1)).await.unwrap().expect("ticket intact");
    assert_eq!(t.desk.store.messages(ticket.number).await.unwrap().len(), 2);
    assert!(t.desk.inbound.dead_letter().is_some_and(|dlq| dlq.is_empty()));
}
