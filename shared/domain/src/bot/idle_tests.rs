use jiff::{SignedDuration, Timestamp};

use super::idle::{self, DEFAULT_CLOSE_AFTER_MINUTES};
use super::*;
use crate::model::{Channel, CustomerId, EventKind, Status, Ticket, TicketNumber, Visibility};

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_795_424_400).unwrap() + SignedDuration::from_mins(minutes)
}

/// A chat ticket where the bot answered `returns` at minute 0 and keeps the conversation.
fn held() -> Ticket {
    let (mut ticket, _) =
        Ticket::open(TicketNumber(7), Channel::Chat, "s".into(), CustomerId::new("cus_a"), None, at(0));
    let mut state = BotState { answered: vec!["returns".into()], awaiting: true, ..BotState::default() };
    idle::arm(&mut state, "question", at(0), DEFAULT_CLOSE_AFTER_MINUTES);
    ticket.bot = Some(state);
    ticket
}

#[test]
fn a_conversation_the_bot_keeps_closes_only_once_the_silence_reaches_the_limit() {
    let mut ticket = held();
    assert_eq!(idle::due_at(&ticket), Some(at(1440)));
    assert!(!idle::is_due(&ticket, at(1439)));
    assert_eq!(idle::close(&mut ticket, at(1439)).unwrap(), None, "a minute early changes nothing");

    let close = idle::close(&mut ticket, at(1441)).unwrap().expect("due");
    let names: Vec<&str> = close.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(names, ["bot_abandoned", "message_out", "status"]);
    assert!(matches!(
        &close.events[0].kind,
        EventKind::BotAbandoned { intent, article: Some(article), idle_minutes: 1440 }
            if intent == "question" && article == "returns"
    ));
    assert_eq!(ticket.status, Status::Solved);
    assert_eq!(close.note.visibility, Visibility::Internal);
    assert!(close.note.text.contains("after 24 hours without a reply"), "{}", close.note.text);
    assert!(close.note.text.contains("returns"), "{}", close.note.text);
    // The counts stay for a customer who comes back; nothing is armed any more.
    let state = ticket.bot.clone().unwrap();
    assert_eq!(
        (state.answered.clone(), state.done, state.close_at),
        (vec!["returns".to_owned()], false, None)
    );
    assert_eq!(idle::due_at(&ticket), None);
}

#[test]
fn closing_a_closed_conversation_again_is_a_no_op() {
    let mut ticket = held();
    idle::close(&mut ticket, at(1500)).unwrap().expect("due");
    let version = ticket.version;
    assert_eq!(idle::close(&mut ticket, at(1600)).unwrap(), None);
    assert_eq!(ticket.version, version);
}

#[test]
fn a_conversation_a_person_has_is_never_closed_for_silence() {
    let mut assigned = held();
    assigned.assignee = Some("li".into());
    let mut handed_over = held();
    let handoff = BotDecision::Handoff { reason: HandoffReason::Requested, article: None, best: None };
    handed_over.bot = Some(next_state(handed_over.bot.as_ref().unwrap(), &handoff));
    let mut helped = held();
    helped.bot =
        Some(next_state(helped.bot.as_ref().unwrap(), &BotDecision::Helped { article: "returns".into() }));
    for mut ticket in [assigned, handed_over, helped] {
        assert_eq!(idle::due_at(&ticket), None);
        assert_eq!(idle::close(&mut ticket, at(100_000)).unwrap(), None);
        assert_eq!(ticket.status, Status::New);
    }
}

#[test]
fn a_customer_message_disarms_the_close_and_a_short_limit_reads_in_minutes() {
    let mut ticket = held();
    idle::disarm(&mut ticket);
    assert_eq!(idle::close(&mut ticket, at(100_000)).unwrap(), None);
    let mut state = ticket.bot.clone().unwrap();
    idle::arm(&mut state, "order_status", at(10), 90);
    ticket.bot = Some(state);
    let close = idle::close(&mut ticket, at(100)).unwrap().expect("due");
    assert!(close.note.text.contains("after 90 minutes"), "{}", close.note.text);
    assert!(close.note.text.contains("intent order_status"), "{}", close.note.text);
}
