//! Conversations the customer leaves with the bot, end to end on both backends: a bot answer
//! followed by silence past `[bot] close_after_minutes` is solved by the sweeper from the due
//! index (a `bot_abandoned` event, an internal note, no survey, nothing sent); a reply before
//! the limit keeps it open; a conversation handed to a person is never closed for silence; and
//! a customer writing after the close reopens the ticket with the bot's limits intact. The
//! desk has no `[sla]`: the bot alone makes the sweeper run. Time is the system clock shifted
//! by hand (as in the SLA scenario), and messages sent after a shift are signed at the desk's time.

use std::sync::Arc;

use jiff::SignedDuration;
use omnidesk_app::chat_callback::ChatCallback;
use omnidesk_domain::analytics::{EventRow, TableRows};
use omnidesk_domain::model::{EventKind, Status, Ticket, TicketEvent, TicketNumber, Visibility};
use omnidesk_domain::outbound::OutboundKind;
use omnidesk_domain::ports::Clock;

use crate::analytics_scenarios::export_last_two_hours;
use crate::kb_scenarios::{assert_two_different_answers_then_the_answer_limit, bot_events};
use crate::sla_scenarios::ShiftedClock;
use crate::{Backend, INBOX, TestDesk, chat_body, eventually};

/// The bot in the test inbox, closing conversations after 5 minutes of silence; no `[sla]`.
const BOT: &str = r#"
[routing]
default_team = "frontline"
teams = [{ id = "frontline", name = "Frontline", tier = 1 }]

[kb]
public_url = "http://127.0.0.1:9"

[bot]
inboxes = ["web"]
close_after_minutes = 5
"#;

struct IdleDesk {
    desk: TestDesk,
    clock: Arc<ShiftedClock>,
}

async fn idle_desk(backend: &Backend) -> IdleDesk {
    let clock = Arc::new(ShiftedClock::default());
    let desk = TestDesk::start_with(backend, None, BOT, clock.clone()).await;
    let added = desk.desk.seed_example_articles().await.expect("seed");
    assert!(added >= 20, "seeded {added} articles");
    IdleDesk { desk, clock }
}

impl IdleDesk {
    /// A chat message signed at the desk's (shifted) time.
    async fn say(&self, id: &str, conversation: &str, text: &str) {
        let body = chat_body(id, conversation, &format!("{conversation}-visitor"), text);
        let at = self.clock.now().as_second();
        let (status, answer) = self.desk.post_chat(INBOX, body.as_bytes(), Some(at)).await;
        assert_eq!(status, 202, "{answer}");
    }

    /// The callbacks of `conversation`, repeats dropped, once there are `count`.
    async fn callbacks(&self, conversation: &str, count: usize) -> Vec<ChatCallback> {
        let of = || {
            let mut seen = Vec::new();
            let mut out = Vec::new();
            for callback in self.desk.receiver.delivered() {
                if callback.conversation_id == conversation && !seen.contains(&callback.delivery_id) {
                    seen.push(callback.delivery_id.clone());
                    out.push(callback);
                }
            }
            out
        };
        let arrived = eventually(self.desk.backend.patience(), || async { of().len() >= count }).await;
        assert!(arrived, "{count} callbacks for {conversation}: {:?}", of());
        of()
    }

    async fn ticket_of(&self, conversation: &str) -> Ticket {
        let number = self.desk.ticket_of_conversation(conversation).await.expect("a ticket");
        self.desk.ticket(number.0).await.expect("the ticket")
    }

    async fn events(&self, number: TicketNumber) -> Vec<TicketEvent> {
        self.desk.observe.tickets.events(number).await.expect("events")
    }

    async fn bot_events(&self, number: TicketNumber) -> Vec<&'static str> {
        bot_events(&self.events(number).await)
    }

    /// Moves time on by `minutes` and sweeps until `done` holds or the sweeps have read every
    /// minute up to a few before now (a run stops starting buckets after its time limit, so
    /// on a loaded machine a later run carries on), at most ten runs. Returns how many
    /// conversations the runs closed.
    async fn pass_and_sweep(&self, minutes: i64, conversation: &str, done: fn(&Ticket) -> bool) -> usize {
        self.clock.shift(SignedDuration::from_mins(minutes));
        let read_up_to = self.clock.now() - SignedDuration::from_mins(4);
        let mut closed = 0;
        for _ in 0..10 {
            let report = self.desk.desk.sweep_sla().await.expect("the bot makes a sweeper").expect("sweep");
            closed += report.bot_closed;
            if done(&self.ticket_of(conversation).await) || report.watermark.is_some_and(|w| w >= read_up_to)
            {
                break;
            }
        }
        closed
    }
}

impl IdleDesk {
    /// The analytics export of the last hours (to the desk's time): its `ticket_events` rows.
    async fn exported_events(&self) -> Vec<EventRow> {
        let (export, _) = export_last_two_hours(&self.desk, self.clock.clone()).await;
        export
            .files()
            .values()
            .flat_map(|rows| match rows {
                TableRows::Events(rows) => rows.clone(),
                _ => Vec::new(),
            })
            .collect()
    }
}

fn solved(ticket: &Ticket) -> bool {
    ticket.status == Status::Solved
}

fn never(_: &Ticket) -> bool {
    false
}

pub async fn a_bot_answer_then_silence_past_the_limit_is_solved_by_the_sweeper_with_a_note_and_bot_abandoned(
    backend: &Backend,
) {
    let t = idle_desk(backend).await;
    t.say("idle-1", "idle-conv-1", "How do I return an item?").await;
    let callbacks = t.callbacks("idle-conv-1", 1).await;
    assert_eq!(callbacks[0].kind, OutboundKind::BotAnswer, "{}", callbacks[0].text);
    let ticket = t.ticket_of("idle-conv-1").await;
    let close = ticket.bot.as_ref().and_then(|s| s.close_at).expect("the close is armed");
    assert_eq!(ticket.due_at, Some(close), "on the due index at the close");

    // Four minutes: nothing yet.
    assert_eq!(t.pass_and_sweep(4, "idle-conv-1", never).await, 0);
    assert!(t.ticket_of("idle-conv-1").await.status.is_unfinished());

    // Past five (and the sweeper's grace): solved, once, however many sweeps run.
    let closed = t.pass_and_sweep(4, "idle-conv-1", solved).await;
    let ticket = t.ticket_of("idle-conv-1").await;
    assert_eq!(ticket.status, Status::Solved);
    assert!(closed <= 1, "closed {closed} times");
    assert_eq!(t.desk.desk.sweep_sla().await.expect("sweeper").expect("sweep").bot_closed, 0);
    assert_eq!(ticket.team, None, "it never reached a queue");
    assert!(ticket.survey.is_none(), "no survey for a conversation the customer left");
    assert_eq!(t.bot_events(ticket.number).await, ["bot_answered", "bot_abandoned"]);
    let events = t.events(ticket.number).await;
    assert!(events.iter().any(|e| matches!(
        &e.kind,
        EventKind::BotAbandoned { article: Some(article), idle_minutes: 5, .. } if article == "return-policy"
    )));
    let thread = t.desk.messages(ticket.number).await;
    let notes: Vec<&str> = thread
        .iter()
        .filter(|m| m.visibility == Visibility::Internal && m.text.contains("without a reply"))
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("after 5 minutes") && notes[0].contains("return-policy"), "{}", notes[0]);
    // The analytics export carries it like the other bot events, for deflection queries.
    let exported = t.exported_events().await;
    let row = exported
        .iter()
        .find(|row| row.event == "bot_abandoned")
        .unwrap_or_else(|| panic!("no bot_abandoned row: {exported:?}"));
    let details: serde_json::Value = serde_json::from_str(&row.details).expect("details are JSON");
    assert_eq!(details["article"], "return-policy");
    assert_eq!(details["idle_minutes"], 5);
    assert_eq!(exported.iter().filter(|row| row.event == "bot_answered").count(), 1);
    // Nothing more went to the customer, who has left.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(t.callbacks("idle-conv-1", 1).await.len(), 1);
}

pub async fn a_chat_reply_before_the_bot_close_keeps_the_conversation_open(backend: &Backend) {
    let t = idle_desk(backend).await;
    t.say("idle-2", "idle-conv-2", "How do I return an item?").await;
    t.callbacks("idle-conv-2", 1).await;
    t.clock.shift(SignedDuration::from_mins(4));
    t.say("idle-3", "idle-conv-2", "when will i get my refund").await;
    let callbacks = t.callbacks("idle-conv-2", 2).await;
    assert_eq!(callbacks[1].kind, OutboundKind::BotAnswer, "{}", callbacks[1].text);
    let ticket = t.ticket_of("idle-conv-2").await;
    let said = ticket.bot.as_ref().and_then(|s| s.said_at).expect("the bot spoke");
    assert_eq!(ticket.due_at, Some(said + SignedDuration::from_mins(5)), "armed again by the bot's answer");

    // Eight minutes after the first answer, four after the second: still open.
    assert_eq!(t.pass_and_sweep(4, "idle-conv-2", never).await, 0);
    let ticket = t.ticket_of("idle-conv-2").await;
    assert!(ticket.status.is_unfinished(), "{:?}", ticket.status);
    assert_eq!(t.bot_events(ticket.number).await, ["bot_answered", "bot_answered"]);
}

pub async fn a_handed_off_chat_is_never_closed_for_silence(backend: &Backend) {
    let t = idle_desk(backend).await;
    t.say("idle-4", "idle-conv-3", "How do I return an item?").await;
    t.callbacks("idle-conv-3", 1).await;
    t.say("idle-5", "idle-conv-3", "talk to a person").await;
    t.callbacks("idle-conv-3", 2).await;
    let ticket = t.ticket_of("idle-conv-3").await;
    assert_eq!(ticket.team.as_deref(), Some("frontline"));
    assert_eq!(ticket.bot.as_ref().and_then(|s| s.close_at), None);

    assert_eq!(t.pass_and_sweep(60, "idle-conv-3", never).await, 0);
    let ticket = t.ticket_of("idle-conv-3").await;
    assert!(ticket.status.is_unfinished(), "{:?}", ticket.status);
    assert_eq!(t.bot_events(ticket.number).await, ["bot_answered", "bot_handoff"]);
}

pub async fn a_chat_customer_writing_after_the_bot_closed_it_reopens_it_and_the_bot_limits_hold(
    backend: &Backend,
) {
    let t = idle_desk(backend).await;
    t.say("idle-6", "idle-conv-4", "How do I return an item?").await;
    t.callbacks("idle-conv-4", 1).await;
    t.pass_and_sweep(8, "idle-conv-4", solved).await;
    let first = t.ticket_of("idle-conv-4").await;
    assert_eq!(first.status, Status::Solved);

    // Back later: the same ticket reopens and the bot answers again, with a new article.
    t.clock.shift(SignedDuration::from_mins(30));
    t.say("idle-7", "idle-conv-4", "when will i get my refund").await;
    let callbacks = t.callbacks("idle-conv-4", 2).await;
    assert_eq!(callbacks[1].kind, OutboundKind::BotAnswer, "{}", callbacks[1].text);
    let ticket = t.ticket_of("idle-conv-4").await;
    assert_eq!(ticket.number, first.number, "reopened, not a new ticket");
    assert!(ticket.status.is_unfinished(), "{:?}", ticket.status);

    // A third question goes to a person: never a third bot answer, never the same article.
    t.say("idle-8", "idle-conv-4", "how long does delivery take").await;
    let callbacks = t.callbacks("idle-conv-4", 3).await;
    assert!(callbacks[2].text.contains("passing you to a person"), "{}", callbacks[2].text);
    assert_eq!(callbacks.iter().filter(|c| c.kind == OutboundKind::BotAnswer).count(), 2);
    assert_eq!(
        t.bot_events(ticket.number).await,
        ["bot_answered", "bot_abandoned", "bot_answered", "bot_handoff"]
    );
    assert_two_different_answers_then_the_answer_limit(&t.events(ticket.number).await);
    let ticket = t.ticket_of("idle-conv-4").await;
    assert_eq!(ticket.team.as_deref(), Some("frontline"));
    assert_eq!(t.pass_and_sweep(60, "idle-conv-4", never).await, 0, "a person has it now");
}
