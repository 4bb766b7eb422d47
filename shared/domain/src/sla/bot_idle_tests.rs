//! The router arms the close of a conversation the bot keeps, and the sweeper solves it from
//! the due index once the customer has been silent long enough — never a conversation that
//! moved on, even when the customer's message lands between the sweeper's read and its commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use super::engine_tests::{policies, sh};
use super::*;
use crate::bot::{BotRules, DEFAULT_MIN_CONFIDENCE, default_detectors};
use crate::inbound::InboundMessage;
use crate::kb::{ArticleInput, Catalogue, KbEditor, Language, SearchSettings};
use crate::memory::hooked::{HookedStore, StoreHooks};
use crate::memory::{ManualClock, MemoryArticles, MemoryQueue, MemoryStore, QueueSettings, router_ports};
use crate::model::{EventKind, Message, Status, Ticket, TicketEvent, TicketNumber, Visibility};
use crate::ports::{StoreError, TicketStore};
use crate::router::{Acknowledgements, ChatBot, TicketRouter};

const MONDAY: jiff::civil::Date = jiff::civil::date(2026, 11, 30);
/// The conversations here close after an hour of silence.
const LIMIT: u32 = 60;

struct Desk {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    router: Arc<TicketRouter>,
}

async fn desk() -> Desk {
    let clock = Arc::new(ManualClock::new(sh(MONDAY, 9, 0)));
    let store = Arc::new(MemoryStore::new());
    let articles = Arc::new(MemoryArticles::default());
    let editor = KbEditor::new(articles.clone(), clock.clone());
    for (slug, title, body) in [
        ("returns", "How to return an item", "Return any item within 30 days for a refund."),
        ("delivery-times", "How long does delivery take", "Standard delivery takes 3 to 5 working days."),
        ("payment", "Can I pay by card", "We take Visa, Mastercard and UnionPay cards."),
    ] {
        let input = ArticleInput {
            title: title.into(),
            body: body.into(),
            language: Language::En,
            category: None,
            tags: Default::default(),
            examples: Vec::new(),
            counter_examples: Vec::new(),
        };
        let article = editor.create(slug, input, "li").await.unwrap();
        editor.publish(slug, article.version, "li").await.unwrap();
    }
    let bot = ChatBot {
        rules: BotRules {
            inboxes: ["web".to_owned()].into(),
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            help_centre_url: "https://help.example".into(),
            close_after_minutes: LIMIT,
        },
        detectors: default_detectors(),
        catalogue: Arc::new(Catalogue::new(articles, SearchSettings::default())),
    };
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let router =
        TicketRouter::new(router_ports(store.clone(), outbound, clock.clone()), Acknowledgements::default())
            .with_sla(Arc::new(policies()))
            .with_bot(Arc::new(bot));
    Desk { store, clock, router: Arc::new(router) }
}

fn chat(message_id: &str, text: &str, at: Timestamp) -> InboundMessage {
    InboundMessage { text: text.into(), ..super::router_tests::chat(message_id, at) }
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

impl Desk {
    fn sweeper_on(&self, tickets: Arc<dyn TicketStore>) -> SlaSweeper {
        let outbound = Arc::new(MemoryQueue::new("alerts", self.clock.clone(), QueueSettings::default()));
        let ports =
            SweeperPorts { tickets, watermarks: self.store.clone(), outbound, clock: self.clock.clone() };
        SlaSweeper::new(ports, Arc::new(policies()))
    }

    async fn sweep_at(&self, at: Timestamp) -> SweepReport {
        self.clock.set(at);
        self.sweeper_on(self.store.clone()).run().await.unwrap()
    }

    async fn say(&self, id: &str, text: &str, at: Timestamp) {
        self.clock.set(at);
        self.router.route(&chat(id, text, at)).await.unwrap();
    }

    async fn ticket(&self) -> Ticket {
        self.store.ticket(TicketNumber(1)).await.unwrap().unwrap()
    }

    async fn events(&self) -> Vec<TicketEvent> {
        self.store.events(TicketNumber(1)).await.unwrap()
    }

    async fn named(&self, name: &str) -> Vec<TicketEvent> {
        self.events().await.into_iter().filter(|e| e.kind.name() == name).collect()
    }
}

#[tokio::test]
async fn a_bot_answer_left_unanswered_is_solved_by_the_sweeper_once_the_limit_passes() {
    let d = desk().await;
    d.say("m1", "how do I return an item?", sh(MONDAY, 9, 0)).await;
    let ticket = d.ticket().await;
    assert_eq!(d.named("bot_answered").await.len(), 1);
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 10, 0)), "on the due index at the close, without SLA clocks");
    assert!(ticket.sla.timers.is_empty());

    assert_eq!(d.sweep_at(sh(MONDAY, 9, 59)).await.bot_closed, 0);
    assert!(d.ticket().await.status.is_unfinished());
    let report = d.sweep_at(sh(MONDAY, 10, 0) + SignedDuration::from_secs(30)).await;
    assert_eq!(report.bot_closed, 1);
    let ticket = d.ticket().await;
    assert_eq!(ticket.status, Status::Solved);
    assert_eq!((ticket.team.clone(), ticket.survey.clone(), ticket.due_at), (None, None, None));
    let abandoned = d.named("bot_abandoned").await;
    assert!(matches!(
        &abandoned[..],
        [TicketEvent { kind: EventKind::BotAbandoned { article: Some(a), idle_minutes: 60, .. }, .. }] if a == "returns"
    ));
    let notes: Vec<Message> = d
        .store
        .messages(TicketNumber(1))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.visibility == Visibility::Internal && m.text.contains("without a reply"))
        .collect();
    assert_eq!(notes.len(), 1, "one note");
    assert!(notes[0].text.contains("1 hour") && notes[0].text.contains("returns"), "{}", notes[0].text);

    // Later sweeps find nothing to do.
    assert_eq!(d.sweep_at(sh(MONDAY, 12, 0)).await.bot_closed, 0);
    assert_eq!(d.named("bot_abandoned").await.len(), 1);
}

#[tokio::test]
async fn a_customer_reply_before_the_limit_moves_the_close_to_an_hour_after_the_bots_next_message() {
    let d = desk().await;
    d.say("m1", "how do I return an item?", sh(MONDAY, 9, 0)).await;
    d.say("m2", "how long does delivery take?", sh(MONDAY, 9, 50)).await;
    assert_eq!(d.ticket().await.due_at, Some(sh(MONDAY, 10, 50)));
    assert_eq!(d.sweep_at(sh(MONDAY, 10, 30)).await.bot_closed, 0);
    assert!(d.ticket().await.status.is_unfinished());
    assert_eq!(d.sweep_at(sh(MONDAY, 10, 51)).await.bot_closed, 1);
    assert!(matches!(
        &d.named("bot_abandoned").await[..],
        [TicketEvent { kind: EventKind::BotAbandoned { article: Some(a), .. }, .. }] if a == "delivery-times"
    ));
}

#[tokio::test]
async fn a_handed_off_conversation_is_never_closed_for_silence() {
    let d = desk().await;
    d.say("m1", "how do I return an item?", sh(MONDAY, 9, 0)).await;
    d.say("m2", "talk to a person", sh(MONDAY, 9, 5)).await;
    let ticket = d.ticket().await;
    assert_eq!(ticket.bot.as_ref().and_then(|s| s.close_at), None);
    for hour in [10, 12, 17] {
        assert_eq!(d.sweep_at(sh(MONDAY, hour, 0)).await.bot_closed, 0);
    }
    assert!(d.ticket().await.status.is_unfinished());
    assert!(d.named("bot_abandoned").await.is_empty());
}

#[tokio::test]
async fn after_the_automatic_close_a_new_message_reopens_it_and_the_bot_limits_still_hold() {
    let d = desk().await;
    d.say("m1", "how do I return an item?", sh(MONDAY, 9, 0)).await;
    assert_eq!(d.sweep_at(sh(MONDAY, 10, 1)).await.bot_closed, 1);

    // Back later: the solved ticket reopens and the bot takes it again, with its counts. The
    // same question does not get the same article again (no other fits: asked to rephrase).
    d.say("m2", "how do I return an item?", sh(MONDAY, 11, 0)).await;
    let ticket = d.ticket().await;
    assert_eq!(ticket.status, Status::Open, "reopened");
    assert_eq!(ticket.bot.as_ref().map(|s| s.unanswered), Some(1));
    d.say("m3", "how long does delivery take?", sh(MONDAY, 11, 1)).await;
    let ticket = d.ticket().await;
    assert_eq!(ticket.number, TicketNumber(1), "the same ticket");
    let answered: Vec<String> = d
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::BotAnswered { article, .. } => Some(article),
            _ => None,
        })
        .collect();
    assert_eq!(answered, ["returns", "delivery-times"], "never the same article twice");
    assert!(crate::bot::holds(&ticket) && ticket.status == Status::Open);

    // A third question goes to a person, never a third bot answer; nothing closes it then.
    d.say("m4", "can I pay by card?", sh(MONDAY, 11, 2)).await;
    let ticket = d.ticket().await;
    assert!(!crate::bot::holds(&ticket));
    assert!(
        d.named("bot_handoff")
            .await
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotHandoff { reason, .. } if reason == "answer_limit"))
    );
    assert_eq!(d.named("bot_answered").await.len(), 2);
    assert_eq!(d.sweep_at(sh(MONDAY, 13, 0)).await.bot_closed, 0);
    assert!(d.ticket().await.status.is_unfinished());
}

/// Routes a customer's message after the sweeper has read the due index and before it
/// commits: the message lands in between.
struct MessageInBetween {
    router: Arc<TicketRouter>,
    message: InboundMessage,
    sent: AtomicBool,
}

#[async_trait]
impl StoreHooks for MessageInBetween {
    async fn after_due_tickets(&self, due: &[Ticket]) -> Result<(), StoreError> {
        if !due.is_empty() && !self.sent.swap(true, Ordering::SeqCst) {
            self.router.route(&self.message).await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_customer_message_landing_while_the_sweeper_closes_is_answered_once_and_not_closed() {
    let d = desk().await;
    d.say("m1", "how do I return an item?", sh(MONDAY, 9, 0)).await;
    let late = sh(MONDAY, 10, 0) + SignedDuration::from_secs(20);
    d.clock.set(late);
    let racing = HookedStore::new(
        d.store.clone(),
        MessageInBetween {
            router: d.router.clone(),
            message: chat("m2", "how long does delivery take?", late),
            sent: AtomicBool::new(false),
        },
    );
    let report = d.sweeper_on(racing.clone()).run().await.unwrap();
    assert!(racing.hooks.sent.load(Ordering::SeqCst), "the message came in between");
    assert_eq!(report.bot_closed, 0);
    assert!(report.conflicts >= 1, "the sweeper's commit lost to the message");
    let ticket = d.ticket().await;
    assert!(ticket.status.is_unfinished());
    assert_eq!(ticket.due_at, Some(late + mins(60)), "armed again by the bot's answer");
    assert_eq!(d.named("bot_answered").await.len(), 2, "answered once");
    assert!(d.named("bot_abandoned").await.is_empty());
}

#[tokio::test]
async fn a_message_the_bot_cannot_take_goes_to_a_person_rather_than_waiting_unanswered() {
    let d = desk().await;
    d.say("m1", "how do I return an item?", sh(MONDAY, 9, 0)).await;
    // The same conversation, routed after the bot was switched off (or its articles could
    // not be read): nobody would answer, and nothing may close it for silence.
    let outbound = Arc::new(MemoryQueue::new("outbound", d.clock.clone(), QueueSettings::default()));
    let without_bot = TicketRouter::new(
        router_ports(d.store.clone(), outbound, d.clock.clone()),
        Acknowledgements::default(),
    )
    .with_sla(Arc::new(policies()));
    d.clock.set(sh(MONDAY, 9, 10));
    without_bot.route(&chat("m2", "are you still there?", sh(MONDAY, 9, 10))).await.unwrap();
    let ticket = d.ticket().await;
    assert!(!crate::bot::holds(&ticket), "a person has it");
    assert_eq!(ticket.bot.as_ref().and_then(|s| s.close_at), None);
    assert!(d.named("bot_handoff").await.iter().any(|e| matches!(
        &e.kind,
        EventKind::BotHandoff { reason, article: Some(a), .. } if reason == "unavailable" && a == "returns"
    )));
    assert!(ticket.sla.timer(TimerKind::FirstReply).is_some(), "the clocks run for a person");
    assert_eq!(d.sweep_at(sh(MONDAY, 10, 30)).await.bot_closed, 0);
    assert!(d.named("bot_abandoned").await.is_empty());
}
