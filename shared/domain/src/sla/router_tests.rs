//! The router keeps SLA timers: a ticket it opens carries them (its own acknowledgement is no
//! first reply), and a customer's follow-up message keeps them running.

use std::sync::Arc;

use jiff::Timestamp;

use super::engine_tests::{policies, sh};
use super::*;
use crate::inbound::{InboundMessage, Sender, Source};
use crate::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings, router_ports};
use crate::model::TicketNumber;
use crate::ports::TicketStore;
use crate::router::{Acknowledgements, TicketRouter};

const MONDAY: jiff::civil::Date = jiff::civil::date(2026, 11, 30);

fn chat(message_id: &str, at: Timestamp) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key("web", message_id),
        source: Source::Chat {
            inbox: "web".into(),
            conversation_id: "c1".into(),
            message_id: message_id.into(),
        },
        sender: Sender { chat_visitor: Some("v1".into()), ..Sender::default() },
        text: "Where is my parcel?".into(),
        attachments: vec![],
        sent_at: None,
        received_at: at,
    }
}

#[tokio::test]
async fn tickets_the_router_opens_and_continues_carry_their_timers() {
    let clock = Arc::new(ManualClock::new(sh(MONDAY, 9, 0)));
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let router =
        TicketRouter::new(router_ports(store.clone(), outbound, clock.clone()), Acknowledgements::default())
            .with_sla(Arc::new(policies()));
    router.route(&chat("m1", sh(MONDAY, 9, 0))).await.unwrap();
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let first = ticket.sla.timer(TimerKind::FirstReply).expect("first reply timer");
    assert_eq!(first.state, TimerState::Running, "the acknowledgement is not a reply");
    assert_eq!(first.due_at, sh(MONDAY, 10, 0));
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 9, 48)), "indexed at the warning");

    clock.set(sh(MONDAY, 9, 30));
    router.route(&chat("m2", sh(MONDAY, 9, 30))).await.unwrap();
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.sla.timer(TimerKind::FirstReply).unwrap().due_at, sh(MONDAY, 10, 0));
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 9, 48)));
    assert_eq!(store.due_tickets(sh(MONDAY, 9, 48), sh(MONDAY, 9, 49), 10).await.unwrap().len(), 1);
}
