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

pub(super) fn chat(message_id: &str, at: Timestamp) -> InboundMessage {
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

/// A router with the chat bot in inbox `web` and no articles: every question is one the bot
/// cannot answer, so it asks again and keeps the conversation.
fn router_with_bot(store: Arc<MemoryStore>, clock: Arc<ManualClock>) -> TicketRouter {
    use crate::bot::{BotRules, default_detectors};
    use crate::kb::{Catalogue, SearchSettings};
    use crate::router::ChatBot;
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let bot = ChatBot {
        rules: BotRules {
            inboxes: ["web".to_owned()].into(),
            min_confidence: 0.5,
            help_centre_url: "https://help.example".into(),
            close_after_minutes: crate::bot::idle::DEFAULT_CLOSE_AFTER_MINUTES,
        },
        detectors: default_detectors(),
        catalogue: Arc::new(Catalogue::new(
            Arc::new(crate::memory::MemoryArticles::default()),
            SearchSettings::default(),
        )),
    };
    TicketRouter::new(router_ports(store, outbound, clock), Acknowledgements::default())
        .with_sla(Arc::new(policies()))
        .with_bot(Arc::new(bot))
}

#[tokio::test]
async fn a_conversation_the_bot_holds_runs_no_clock_until_a_person_takes_it() {
    let clock = Arc::new(ManualClock::new(sh(MONDAY, 9, 0)));
    let store = Arc::new(MemoryStore::new());
    let router = router_with_bot(store.clone(), clock.clone());
    router.route(&chat("m1", sh(MONDAY, 9, 0))).await.unwrap();
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert!(crate::bot::holds(&ticket), "the bot asked again and keeps the conversation");
    assert!(ticket.sla.timers.is_empty(), "{:?}", ticket.sla.timers);
    // A customer who leaves the bot breaches nothing; the ticket is on the due index only
    // for the bot's close of the conversation, a day after its last message.
    let close = sh(MONDAY, 9, 0) + jiff::SignedDuration::from_hours(24);
    assert_eq!(ticket.due_at, Some(close));
    assert!(store.due_tickets(sh(MONDAY, 9, 0), sh(MONDAY, 23, 0), 10).await.unwrap().is_empty());

    clock.set(sh(MONDAY, 9, 30));
    let mut handoff = chat("m2", sh(MONDAY, 9, 30));
    handoff.text = "I want to talk to a person".into();
    router.route(&handoff).await.unwrap();
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert!(!crate::bot::holds(&ticket));
    let first = ticket.sla.timer(TimerKind::FirstReply).expect("first reply starts at the handoff");
    assert_eq!((first.state, first.started_at), (TimerState::Running, sh(MONDAY, 9, 30)));
    assert_eq!(first.due_at, sh(MONDAY, 10, 30));
    assert!(ticket.sla.timer(TimerKind::Resolution).is_some());
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 10, 18)), "indexed at the warning");

    // Later messages keep the clocks that started; none restarts them.
    clock.set(sh(MONDAY, 9, 40));
    router.route(&chat("m3", sh(MONDAY, 9, 40))).await.unwrap();
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(ticket.sla.timer(TimerKind::FirstReply).unwrap().due_at, sh(MONDAY, 10, 30));
}

#[tokio::test]
async fn a_handoff_word_as_the_first_message_starts_the_clocks_at_once() {
    let clock = Arc::new(ManualClock::new(sh(MONDAY, 9, 0)));
    let store = Arc::new(MemoryStore::new());
    let router = router_with_bot(store.clone(), clock.clone());
    let mut first = chat("m1", sh(MONDAY, 9, 0));
    first.text = "转人工".into();
    router.route(&first).await.unwrap();
    let ticket = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    let timer = ticket.sla.timer(TimerKind::FirstReply).expect("a person has it from the start");
    assert_eq!((timer.started_at, timer.due_at), (sh(MONDAY, 9, 0), sh(MONDAY, 10, 0)));
}
