//! The end-to-end scenarios, written once and run on both backends (`all_scenarios!`): in
//! memory, and on the real AWS SDK against moto. Every scenario drives the desk over HTTP on
//! 127.0.0.1 (or its queues, where it plays SQS) and observes it only through its ports.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use omnidesk_domain::envelope::seal;
use omnidesk_domain::faults::FaultPlan;
use omnidesk_domain::inbound::{InboundMessage, Sender, Source};
use omnidesk_domain::model::{AuthorKind, TicketNumber};
use omnidesk_domain::ports::QueueMessage;

pub use crate::agent_scenarios::*;
pub use crate::analytics_scenarios::*;
pub use crate::bot_idle_scenarios::*;
pub use crate::chat_attachment_scenarios::*;
pub use crate::email_scenarios::*;
pub use crate::hygiene_scenarios::*;
pub use crate::identity_scenarios::*;
pub use crate::kb_scenarios::*;
pub use crate::orders_scenarios::*;
pub use crate::phone_scenarios::*;
pub use crate::privacy_scenarios::*;
pub use crate::returns_scenarios::*;
pub use crate::sla_scenarios::an_unanswered_chat_breaches_its_first_reply_and_is_escalated_once;
pub use crate::social_scenarios::*;
pub use crate::survey_scenarios::*;
use crate::{
    Backend, INBOX, MAX_RECEIVE_COUNT, THROTTLED_INBOX, THROTTLED_PER_MINUTE, TestDesk, chat_body,
    eventually, now, settle,
};

/// `delivery.attempts` in the test config.
const ATTEMPTS_PER_DELIVERY: usize = 2;

async fn assert_no_effect(t: &TestDesk) {
    settle(&t.backend).await;
    let depths = t.depths().await;
    assert_eq!(depths.inbound.total(), 0, "nothing may be queued");
    assert!(t.ticket(1).await.is_none(), "no ticket may exist");
    assert!(t.receiver.attempts().is_empty(), "nothing may be sent");
}

pub async fn signed_message_opens_ticket_one_and_the_acknowledgement_reaches_the_callback(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "Where is my parcel?").await, 202);

    assert!(
        eventually(backend.patience(), || async { t.receiver.delivered().len() == 1 }).await,
        "no acknowledgement"
    );
    let ack = &t.receiver.delivered()[0];
    assert_eq!(ack.ticket, "#1");
    assert_eq!(ack.text, "We received your message; your ticket is #1.");
    assert_eq!(ack.conversation_id, "conv-1");
    assert_eq!(ack.visitor_id.as_deref(), Some("visitor-1"));
    assert!(t.receiver.attempts().iter().all(|a| a.signature_valid));

    let ticket = t.ticket(1).await.expect("ticket #1");
    assert_eq!(ticket.subject, "Where is my parcel?");
    assert_eq!(t.ticket_of_conversation("conv-1").await, Some(TicketNumber(1)));
}

pub async fn conversation_continues_its_ticket_and_repeats_change_nothing(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "hello").await, 202);
    assert!(eventually(backend.patience(), || async { t.receiver.delivered().len() == 1 }).await);

    // A second message in the same conversation joins #1, with no second acknowledgement.
    assert_eq!(t.send_chat("m2", "conv-1", "visitor-1", "are you there?").await, 202);
    let joined =
        eventually(backend.patience(), || async { t.ticket(1).await.is_some_and(|t| t.version == 4) }).await;
    assert!(joined, "second message never joined #1");

    // The same message_id again: accepted, but nothing new is written or sent.
    let before = t.messages(TicketNumber(1)).await;
    let body = chat_body("m2", "conv-1", "visitor-1", "are you there?");
    let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now())).await;
    assert_eq!(
        (status, json["accepted"].as_bool(), json["message_id"].as_str()),
        (202, Some(true), Some("m2"))
    );
    assert!(t.drained().await);
    settle(backend).await;

    let after = t.messages(TicketNumber(1)).await;
    assert_eq!(after, before);
    assert_eq!(after.iter().filter(|m| m.author == AuthorKind::Customer).count(), 2);
    assert!(t.ticket(2).await.is_none());
    assert_eq!(t.receiver.attempts().len(), 1, "a repeat must send nothing");
}

pub async fn another_conversation_of_the_same_visitor_finds_the_same_customer(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "first topic").await, 202);
    assert!(eventually(backend.patience(), || async { t.receiver.delivered().len() == 1 }).await);
    assert_eq!(t.send_chat("m2", "conv-2", "visitor-1", "second topic").await, 202);
    assert!(eventually(backend.patience(), || async { t.receiver.delivered().len() == 2 }).await);

    let first = t.ticket(1).await.expect("#1");
    let second = t.ticket(2).await.expect("#2");
    assert_eq!(t.ticket_of_conversation("conv-2").await, Some(TicketNumber(2)));
    assert_eq!(first.requester, second.requester);
    assert_eq!(t.customer_of_visitor("visitor-1").await, Some(first.requester));
}

pub async fn unsigned_wrongly_signed_and_stale_requests_are_401_and_change_nothing(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let body = chat_body("m1", "conv-1", "visitor-1", "hello");
    let (status, json) = t.post_chat(INBOX, body.as_bytes(), None).await;
    assert_eq!((status, json["error"]["code"].as_str()), (401, Some("unauthorized")));

    let wrong = omnidesk_app::signature::sign(b"not-the-inbox-secret", now(), body.as_bytes());
    let response = t
        .http
        .post(t.url("/v1/chat/web/messages"))
        .header("x-omnidesk-signature", wrong)
        .body(body.clone())
        .send()
        .await
        .expect("desk answers");
    assert_eq!(response.status().as_u16(), 401);

    let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now() - 301)).await;
    assert_eq!(status, 401);
    assert!(json["error"]["message"].as_str().unwrap_or_default().contains("clock skew"));
    assert_no_effect(&t).await;
}

pub async fn malformed_json_and_missing_fields_are_400_naming_the_field(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let cases: [(&str, &str); 6] = [
        ("{not json", "key must be a string"),
        (r#"{"conversation_id":"c","visitor":{"id":"v"},"text":"hi"}"#, "message_id"),
        (
            r#"{"message_id":"m","conversation_id":"c","visitor":{},"text":"hi"}"#,
            "visitor: missing field `id`",
        ),
        (r#"{"message_id":"m","conversation_id":"c","visitor":{"id":"v"},"text":42}"#, "text:"),
        (
            r#"{"message_id":"m","conversation_id":"c","visitor":{"id":"v"},"text":"  "}"#,
            "text: must contain visible text",
        ),
        (
            r#"{"message_id":"m","conversation_id":"c","visitor":{"id":"v","email":"nope"},"text":"hi"}"#,
            "visitor.email",
        ),
    ];
    for (body, names) in cases {
        let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now())).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(json["error"]["code"], "bad_request");
        let message = json["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(names), "{message:?} should name {names:?}");
    }
    assert_no_effect(&t).await;
}

pub async fn a_65_kib_body_is_413(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let body = chat_body("m1", "conv-1", "visitor-1", &"x".repeat(65 * 1024));
    let (status, json) = t.post_chat(INBOX, body.as_bytes(), Some(now())).await;
    assert_eq!((status, json["error"]["code"].as_str()), (413, Some("too_large")));
    assert_no_effect(&t).await;
}

/// No inbox enumeration: a request to an inbox that does not exist fails exactly as a wrong
/// signature on a real inbox does.
pub async fn an_unknown_inbox_is_401_like_a_bad_signature(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let body = chat_body("m1", "conv-1", "visitor-1", "hello");
    let unknown = t.post_chat("no-such-inbox", body.as_bytes(), Some(now())).await;
    let forged = t
        .http
        .post(t.url(&format!("/v1/chat/{INBOX}/messages")))
        .header("content-type", "application/json")
        .header("x-omnidesk-signature", format!("t={},v1={}", now(), "ab".repeat(32)))
        .body(body.clone())
        .send()
        .await
        .expect("desk answers");
    let forged = (forged.status().as_u16(), forged.json::<serde_json::Value>().await.unwrap_or_default());
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, forged, "an unknown inbox must read like a bad signature");
    let (status, _) = t.post_chat("no-such-inbox", body.as_bytes(), None).await;
    assert_eq!(status, 401);
    let (status, _) = t.post_chat("web/extra", body.as_bytes(), Some(now())).await;
    assert_eq!(status, 404, "a path that is no route at all");
    assert_no_effect(&t).await;
}

/// A chat provider posting more than its inbox's `max_messages_per_minute` is told to slow
/// down (429) and nothing of the refused message is queued; other inboxes are unaffected.
pub async fn an_inbox_over_its_rate_limit_answers_429(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let mut statuses = Vec::new();
    for n in 0..THROTTLED_PER_MINUTE + 2 {
        let body = chat_body(&format!("k{n}"), &format!("kiosk-{n}"), "visitor-k", "hello");
        statuses.push(t.post_chat(THROTTLED_INBOX, body.as_bytes(), Some(now())).await);
    }
    // A minute boundary may fall inside the burst and open a fresh budget: allow for one.
    let accepted = statuses.iter().filter(|(status, _)| *status == 202).count() as u32;
    let limited: Vec<_> = statuses.iter().filter(|(status, _)| *status == 429).collect();
    assert!((THROTTLED_PER_MINUTE..=THROTTLED_PER_MINUTE + 1).contains(&accepted), "{statuses:?}");
    assert!(!limited.is_empty(), "{statuses:?}");
    assert_eq!(limited[0].1["error"]["code"], "rate_limited");
    assert_eq!(t.send_chat("w1", "conv-w", "visitor-w", "hello").await, 202, "another inbox");
    assert!(t.drained().await);
    let tickets = eventually(backend.patience(), || async {
        let mut opened = 0;
        for n in 0..THROTTLED_PER_MINUTE + 2 {
            let key = omnidesk_domain::ports::ThreadKey::chat(THROTTLED_INBOX, &format!("kiosk-{n}"));
            opened += usize::from(t.observe.tickets.thread_ticket(&key).await.expect("read").is_some());
        }
        opened == accepted as usize
    })
    .await;
    assert!(tickets, "exactly the accepted messages opened tickets");
}

pub async fn callback_receiver_down_retries_then_dead_letters_with_the_ticket_intact(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    t.receiver.set_down(true);
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "hello").await, 202);

    let dead_lettered =
        eventually(backend.patience(), || async { t.depths().await.outbound_dead_letter.total() == 1 }).await;
    assert!(dead_lettered, "acknowledgement never dead-lettered");
    // Every receive (the template's maxReceiveCount) made `delivery.attempts` tries.
    assert_eq!(t.receiver.attempts().len(), MAX_RECEIVE_COUNT as usize * ATTEMPTS_PER_DELIVERY);
    assert_eq!(t.depths().await.outbound.total(), 0);
    let dead = t.observe.outbound_dead_letter.receive(10).await.expect("read the DLQ");
    assert!(dead[0].body.contains("We received your message; your ticket is #1."));

    let ticket = t.ticket(1).await.expect("ticket intact");
    assert_eq!(t.messages(ticket.number).await.len(), 2);
    assert_eq!(t.depths().await.inbound_dead_letter.total(), 0);
}

fn inbound(message_id: &str, conversation: &str, visitor: &str, text: &str) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key(INBOX, message_id),
        source: Source::Chat {
            inbox: INBOX.into(),
            conversation_id: conversation.into(),
            message_id: message_id.into(),
        },
        sender: Sender { chat_visitor: Some(visitor.into()), ..Sender::default() },
        text: text.into(),
        attachments: vec![],
        sent_at: None,
        received_at: jiff::Timestamp::now(),
    }
}

pub async fn poison_message_is_dead_lettered_while_its_batch_mates_succeed(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let poison = QueueMessage {
        body: r#"{"kind":"inbound_message","version":99,"body":{}}"#.into(),
        kind: "inbound_message".into(),
        version: 99,
    };
    // All three go in one batch: the poller receives up to 10 at a time.
    let batch =
        vec![seal(&inbound("m1", "c1", "v1", "hello")), poison, seal(&inbound("m2", "c2", "v2", "hi"))];
    t.observe.inbound.send_batch(batch).await.expect("enqueue");

    let dead_lettered =
        eventually(backend.patience(), || async { t.depths().await.inbound_dead_letter.total() == 1 }).await;
    assert!(dead_lettered, "poison never dead-lettered");
    let dead = t.observe.inbound_dead_letter.receive(10).await.expect("read the DLQ");
    assert!(dead[0].body.contains("\"version\":99"));
    assert!(t.drained().await);
    assert!(t.ticket_of_conversation("c1").await.is_some());
    assert!(t.ticket_of_conversation("c2").await.is_some());
    assert!(eventually(backend.patience(), || async { t.receiver.delivered().len() == 2 }).await);
}

/// A reproducible shuffle (xorshift), so a failure can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

pub async fn duplicate_deliveries_in_any_order_write_each_message_once(backend: &Backend) {
    let t = TestDesk::start(backend).await;
    let conversations = 8;
    let per_conversation = 3;
    let mut deliveries = Vec::new();
    for c in 0..conversations {
        for m in 0..per_conversation {
            let message =
                inbound(&format!("m{c}-{m}"), &format!("c{c}"), &format!("v{c}"), &format!("text {m}"));
            // Delivered 1–3 times, as SQS at-least-once delivery may.
            for _ in 0..=((c + m) % 3) {
                deliveries.push(seal(&message));
            }
        }
    }
    shuffle(&mut deliveries, 0x5eed);
    for chunk in deliveries.chunks(10) {
        t.observe.inbound.send_batch(chunk.to_vec()).await.expect("enqueue");
    }

    let complete = eventually(backend.patience(), || async {
        t.receiver.delivered().len() >= conversations && t.depths().await.inbound.total() == 0
    })
    .await;
    assert!(complete, "deliveries never settled");
    assert!(t.drained().await);
    settle(backend).await;
    for c in 0..conversations {
        let ticket = t.ticket_of_conversation(&format!("c{c}")).await.expect("ticket");
        let texts: Vec<String> = t
            .messages(ticket)
            .await
            .into_iter()
            .filter(|m| m.author == AuthorKind::Customer)
            .map(|m| m.text)
            .collect();
        let distinct: BTreeSet<&String> = texts.iter().collect();
        assert_eq!((texts.len(), distinct.len()), (per_conversation, per_conversation), "conversation c{c}");
    }
    assert_eq!(t.receiver.delivered().len(), conversations, "one acknowledgement per ticket");
    let depths = t.depths().await;
    assert_eq!((depths.inbound_dead_letter.total(), depths.outbound_dead_letter.total()), (0, 0));
}

/// What a workload left behind, in terms that do not depend on timing: per conversation its
/// customer's messages and acknowledgements.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    conversations: BTreeMap<String, ConversationOutcome>,
    customers: usize,
    dead_letters: (usize, usize),
}

#[derive(Debug, PartialEq, Eq)]
struct ConversationOutcome {
    customer_texts: Vec<String>,
    acknowledgements_written: usize,
    acknowledgements_delivered: usize,
}

const FAULT_MESSAGES_PER_CONVERSATION: usize = 4;

/// 500 messages in memory. moto answers a few hundred calls a second on one core, so there
/// the same workload runs at a fifth of the size to keep the tier within minutes.
fn fault_conversations(backend: &Backend) -> usize {
    match backend {
        Backend::Memory => 125,
        Backend::Moto(_) => 25,
    }
}

/// What a workload does once its messages are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFaults {
    Nothing,
    /// Waits until the work queues are empty (each message done or parked), ends the outage,
    /// and redrives both dead-letter queues twice through the local desk's route.
    HealAndRedrive,
}

/// Ends the outage and brings back what it parked; returns how many messages moved.
async fn heal_and_redrive(t: &TestDesk, plan: &FaultPlan) -> usize {
    // Every faulted call is retried after a visibility timeout, so at 40 % the storm drains in
    // several rounds: on a busy machine well past the usual patience.
    let patience = t.backend.patience() * 3;
    assert!(
        t.drained_within(patience).await,
        "the work queues never drained during the storm: {:?}",
        t.depths().await
    );
    plan.heal();
    let mut moved = 0;
    for queue in ["inbound", "outbound", "inbound", "outbound"] {
        let response = t
            .http
            .post(t.url(&format!("/local/dead-letters/{queue}/redrive")))
            .send()
            .await
            .expect("desk answers");
        assert_eq!(response.status().as_u16(), 200, "redrive {queue}");
        let report: serde_json::Value = response.json().await.expect("redrive report");
        moved += report["moved"].as_u64().expect("moved") as usize;
    }
    moved
}

async fn run_workload(backend: &Backend, faults: Option<Arc<FaultPlan>>, after: AfterFaults) -> Outcome {
    let started = std::time::Instant::now();
    let faulty = faults.is_some();
    let conversation_count = fault_conversations(backend);
    let t = TestDesk::start_with_faults(backend, faults.clone()).await;
    for m in 0..FAULT_MESSAGES_PER_CONVERSATION {
        for c in 0..conversation_count {
            let body = chat_body(
                &format!("m{c}-{m}"),
                &format!("c{c}"),
                &format!("v{}", c / 2),
                &format!("c{c} m{m}"),
            );
            // A chat provider retries what the desk could not accept (503).
            let mut accepted = false;
            for _ in 0..10 {
                if t.post_chat(INBOX, body.as_bytes(), Some(now())).await.0 == 202 {
                    accepted = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(accepted, "message m{c}-{m} never accepted");
        }
    }
    let messages = conversation_count * FAULT_MESSAGES_PER_CONVERSATION;
    eprintln!("workload (faults: {faulty}): {messages} messages accepted after {:?}", started.elapsed());
    if let (AfterFaults::HealAndRedrive, Some(plan)) = (after, &faults) {
        let moved = heal_and_redrive(&t, plan).await;
        eprintln!("workload: outage over, {moved} parked messages redriven after {:?}", started.elapsed());
    }
    let patience = backend.patience() * 3;
    let settled = eventually(patience, || async {
        let delivered: BTreeSet<String> = t.receiver.delivered().into_iter().map(|c| c.delivery_id).collect();
        let depths = t.depths().await;
        delivered.len() >= conversation_count && depths.inbound.total() == 0 && depths.outbound.total() == 0
    })
    .await;
    if !settled {
        let delivered: BTreeSet<String> = t.receiver.delivered().into_iter().map(|c| c.delivery_id).collect();
        panic!(
            "the workload never settled: {} acknowledgements delivered, queues {:?}",
            delivered.len(),
            t.depths().await
        );
    }
    settle(backend).await;
    eprintln!("workload (faults: {faulty}): settled after {:?}", started.elapsed());

    let delivered = t.receiver.delivered();
    let mut conversations = BTreeMap::new();
    let mut customers = BTreeSet::new();
    for c in 0..conversation_count {
        let conversation = format!("c{c}");
        let ticket = t.ticket_of_conversation(&conversation).await.expect("ticket");
        let messages = t.messages(ticket).await;
        let mut customer_texts: Vec<String> =
            messages.iter().filter(|m| m.author == AuthorKind::Customer).map(|m| m.text.clone()).collect();
        customer_texts.sort();
        let acknowledgements_written = messages.iter().filter(|m| m.author == AuthorKind::System).count();
        let delivery_ids: BTreeSet<&str> = delivered
            .iter()
            .filter(|d| d.conversation_id == conversation)
            .map(|d| d.delivery_id.as_str())
            .collect();
        customers.insert(t.customer_of_visitor(&format!("v{}", c / 2)).await.expect("customer"));
        conversations.insert(
            conversation,
            ConversationOutcome {
                customer_texts,
                acknowledgements_written,
                acknowledgements_delivered: delivery_ids.len(),
            },
        );
    }
    let depths = t.depths().await;
    Outcome {
        conversations,
        customers: customers.len(),
        dead_letters: (depths.inbound_dead_letter.total(), depths.outbound_dead_letter.total()),
    }
}

pub async fn injected_faults_change_nothing_in_the_outcome(backend: &Backend) {
    let clean = run_workload(backend, None, AfterFaults::Nothing).await;
    let conversations = fault_conversations(backend);
    assert_eq!(clean.conversations.len(), conversations);
    assert_eq!(clean.customers, conversations.div_ceil(2));
    assert_eq!(clean.dead_letters, (0, 0));

    let plan = Arc::new(FaultPlan::new(0.2, 20_261_123));
    let faulty = run_workload(backend, Some(plan.clone()), AfterFaults::Nothing).await;
    eprintln!("fault injection: {} of {} store/queue attempts failed", plan.injected(), plan.attempts());
    let expected_faults = (conversations * FAULT_MESSAGES_PER_CONVERSATION) as u64;
    assert!(plan.injected() > expected_faults, "too few faults to prove anything: {}", plan.injected());
    assert_eq!(faulty, clean);
}

/// An outage: 40 % of store and queue calls fail until it ends, so some messages exhaust their
/// receives and are parked. Then ops redrive each dead-letter queue (twice, as a nervous
/// operator would): the desk ends exactly where the fault-free run ends — every message once,
/// every acknowledgement once, nothing left parked.
pub async fn a_fault_storm_then_a_redrive_gives_the_fault_free_outcome(backend: &Backend) {
    let clean = run_workload(backend, None, AfterFaults::Nothing).await;
    let plan = Arc::new(FaultPlan::new(0.4, 20_261_206));
    let stormy = run_workload(backend, Some(plan.clone()), AfterFaults::HealAndRedrive).await;
    eprintln!("fault storm: {} of {} store/queue attempts failed", plan.injected(), plan.attempts());
    assert_eq!(stormy, clean);
}
