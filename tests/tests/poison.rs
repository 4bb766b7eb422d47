//! A message that fails every time ends in the dead-letter queue after the max receive count,
//! while the other messages of its batch succeed.

use std::time::Duration;

use omnidesk_domain::envelope::seal;
use omnidesk_domain::inbound::{InboundMessage, Sender, Source};
use omnidesk_domain::ports::{Queue, QueueMessage};
use omnidesk_tests::{TestDesk, eventually};

fn inbound(message_id: &str, conversation: &str) -> QueueMessage {
    seal(&InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key("web", message_id),
        source: Source::Chat {
            inbox: "web".into(),
            conversation_id: conversation.into(),
            message_id: message_id.into(),
        },
        sender: Sender { chat_visitor: Some("visitor-1".into()), ..Sender::default() },
        text: "hello".into(),
        attachments: vec![],
        sent_at: None,
        received_at: jiff::Timestamp::now(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_is_dead_lettered_while_its_batch_mates_succeed() {
    let t = TestDesk::start().await;
    let poison = QueueMessage {
        body: r#"{"kind":"inbound_message","version":99,"body":{}}"#.into(),
        kind: "inbound_message".into(),
        version: 99,
    };
    // All three go in one batch: the poller receives up to 10 at a time.
    t.desk.inbound.send_batch(vec![inbound("m1", "c1"), poison, inbound("m2", "c2")]).await.unwrap();

    let dlq = t.desk.inbound.dead_letter().expect("inbound has a DLQ").clone();
    assert!(eventually(Duration::from_secs(10), || dlq.len() == 1).await, "poison never dead-lettered");
    assert!(dlq.bodies()[0].contains("\"version\":99"));
    assert!(t.desk.inbound.is_empty());
    assert_eq!(t.desk.store.all_tickets().len(), 2);
    assert!(eventually(Duration::from_secs(10), || t.receiver.delivered().len() == 2).await);
}
