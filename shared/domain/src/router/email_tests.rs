//! The router on email: every threading strategy (In-Reply-To, References, reply token,
//! `[#N]` from the requester or cc only), follow-ups of closed tickets, duplicate delivery,
//! the acknowledgement mail and every reason it is not sent (automatic mail, DMARC failure,
//! the per-sender cap, bouncing addresses).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::envelope::open;
use crate::inbound::{EmailSource, Sender};
use crate::mail_auth::{MailAuth, Verdict};
use crate::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings};
use crate::outbound::{EmailDestination, OutboundKind};

pub(super) const START: i64 = 1_790_000_000;
const MAILBOX: &str = "support@desk.example";
pub(super) const LI: &str = "li.wei@example.com";

pub(super) struct Harness {
    pub(super) store: Arc<MemoryStore>,
    pub(super) outbound: Arc<MemoryQueue>,
    pub(super) clock: Arc<ManualClock>,
    pub(super) router: TicketRouter,
}

pub(super) fn harness() -> Harness {
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(START).unwrap()));
    let store = Arc::new(MemoryStore::new());
    let outbound =
        Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), QueueSettings::default()));
    let ports = crate::memory::router_ports(store.clone(), outbound.clone(), clock.clone());
    let router =
        TicketRouter::new(ports, Acknowledgements::default()).with_email_rules(EmailRules::default());
    Harness { store, outbound, clock, router }
}

/// A mail from `from` to the desk's mailbox, with nothing that threads it.
pub(super) fn mail(message_id: &str, from: &str, subject: &str, text: &str) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::email_idempotency_key(from, message_id),
        source: Source::Email(EmailSource {
            mailbox: MAILBOX.into(),
            message_id: message_id.into(),
            subject: subject.into(),
            language: "en".into(),
            raw_key: Some(format!("inbound/{message_id}")),
            auth: MailAuth::passed(),
            ..EmailSource::default()
        }),
        sender: Sender { name: Some("Li Wei".into()), email: Some(from.into()), ..Sender::default() },
        text: text.into(),
        attachments: vec![],
        sent_at: None,
        received_at: Timestamp::from_second(START).unwrap(),
    }
}

fn email_mut(inbound: &mut InboundMessage) -> &mut EmailSource {
    match &mut inbound.source {
        Source::Email(email) => email,
        Source::Chat { .. } | Source::Phone(_) | Source::Social(_) => unreachable!("built as email"),
    }
}

/// `mail(..)` changed by `change`.
pub(super) fn mail_with(
    message_id: &str,
    from: &str,
    subject: &str,
    change: impl FnOnce(&mut EmailSource),
) -> InboundMessage {
    let mut inbound = mail(message_id, from, subject, "more details");
    change(email_mut(&mut inbound));
    inbound
}

pub(super) fn queued_jobs(h: &Harness) -> Vec<OutboundJob> {
    h.outbound.bodies().iter().map(|b| open::<OutboundJob>(b).unwrap()).collect()
}

pub(super) fn email_destination(job: &OutboundJob) -> &EmailDestination {
    match &job.destination {
        Destination::Email(destination) => destination,
        other => panic!("not an email job: {other:?}"),
    }
}

/// Acknowledgements queued to `address`.
fn acknowledgements_to(h: &Harness, address: &str) -> Vec<OutboundJob> {
    queued_jobs(h).into_iter().filter(|j| email_destination(j).to == address).collect()
}

pub(super) async fn ticket(h: &Harness, number: u64) -> Ticket {
    h.store.ticket(TicketNumber(number)).await.unwrap().expect("ticket exists")
}

async fn customer_messages(h: &Harness, number: u64) -> usize {
    let messages = h.store.messages(TicketNumber(number)).await.unwrap();
    messages.iter().filter(|m| m.author == AuthorKind::Customer).count()
}

pub(super) async fn close(h: &Harness, number: u64) {
    super::tests::close_ticket(&h.store, TicketNumber(number), h.clock.now()).await;
}

/// Ticket 1, opened by Li's first mail `first@mail.example.com`.
pub(super) async fn first_ticket(h: &Harness) -> RouteOutcome {
    let outcome = h
        .router
        .route(&mail("first@mail.example.com", LI, "Where is my parcel?", "Order NW-1042 has not arrived."))
        .await
        .unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));
    outcome
}

// --- threading -------------------------------------------------------------------------------

#[tokio::test]
async fn in_reply_to_an_earlier_message_id_continues_its_ticket() {
    let h = harness();
    first_ticket(&h).await;
    let reply = mail_with("second@mail.example.com", LI, "Re: parcel", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(!outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));
    // The reply's own id now names the ticket too: an answer to it threads.
    let third = mail_with("third@mail.example.com", LI, "Re: parcel", |e| {
        e.in_reply_to = vec!["second@mail.example.com".into()];
    });
    assert_eq!(h.router.route(&third).await.unwrap().ticket, TicketNumber(1));
    assert_eq!(h.store.all_tickets().len(), 1);
    assert_eq!(customer_messages(&h, 1).await, 3);
    // Only the opening mail is acknowledged.
    assert_eq!(queued_jobs(&h).len(), 1);
}

#[tokio::test]
async fn in_reply_to_the_acknowledgement_alone_continues_the_ticket() {
    let h = harness();
    first_ticket(&h).await;
    let ack_id = email_destination(&queued_jobs(&h)[0]).message_id.clone();
    // A client that sends In-Reply-To without References, to the plain mailbox, with a new
    // subject: only the acknowledgement's Message-ID ties it to the ticket.
    let reply = mail_with("reply@mail.example.com", LI, "one more thing", |e| {
        e.in_reply_to = vec![ack_id];
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(!outcome.opened, "a reply to the acknowledgement opened ticket {}", outcome.ticket);
    assert_eq!(outcome.ticket, TicketNumber(1));
}

#[tokio::test]
async fn a_reply_that_overtakes_the_mail_it_answers_shares_one_ticket_and_one_acknowledgement() {
    let h = harness();
    // Li writes twice within seconds; the second ("forgot the photo") arrives first.
    let mut reply = mail_with("second@mail.example.com", LI, "Re: Where is my parcel?", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
    });
    reply.sent_at = Some(Timestamp::from_second(START - 30).unwrap());
    let opened = h.router.route(&reply).await.unwrap();
    assert!(opened.opened);
    let mut first =
        mail("first@mail.example.com", LI, "Where is my parcel?", "Order NW-1042 has not arrived.");
    first.sent_at = Some(Timestamp::from_second(START - 60).unwrap());
    let joined = h.router.route(&first).await.unwrap();
    assert!(!joined.opened, "the overtaken mail opened ticket {}", joined.ticket);
    assert_eq!(joined.ticket, opened.ticket);
    assert_eq!(h.store.all_tickets().len(), 1);
    assert_eq!(customer_messages(&h, opened.ticket.0).await, 2);
    assert_eq!(queued_jobs(&h).len(), 1, "one acknowledgement");
    // The earlier mail's subject is the ticket's, and its id threads from now on.
    assert_eq!(ticket(&h, opened.ticket.0).await.subject, "Where is my parcel?");
    let third = mail_with("third@mail.example.com", LI, "Re: parcel", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
    });
    assert_eq!(h.router.route(&third).await.unwrap().ticket, opened.ticket);
}

#[tokio::test]
async fn a_stranger_sending_under_an_awaited_message_id_gets_a_ticket_of_their_own() {
    let h = harness();
    let reply = mail_with("second@mail.example.com", LI, "Re: Where is my parcel?", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
    });
    let opened = h.router.route(&reply).await.unwrap();
    let stranger = mail("first@mail.example.com", "anna@example.com", "Hello", "my own question");
    let outcome = h.router.route(&stranger).await.unwrap();
    assert!(outcome.opened);
    assert_ne!(outcome.ticket, opened.ticket);
    assert_eq!(customer_messages(&h, opened.ticket.0).await, 1, "nothing of Anna's on Li's ticket");
}

#[tokio::test]
async fn two_customers_replying_to_the_same_unknown_mail_get_a_ticket_each() {
    let h = harness();
    // A newsletter the desk never saw, answered by two people.
    for (i, from) in [LI, "anna@example.com"].into_iter().enumerate() {
        let reply = mail_with(&format!("r{i}@mail.example.com"), from, "Re: Sale!", |e| {
            e.in_reply_to = vec!["newsletter@shop.example".into()];
        });
        let outcome = h.router.route(&reply).await.expect("routed, not contended");
        assert!(outcome.opened);
    }
    assert_eq!(h.store.all_tickets().len(), 2);
}

#[tokio::test]
async fn references_alone_find_the_ticket() {
    let h = harness();
    first_ticket(&h).await;
    // In-Reply-To names a mail the desk never saw (the customer's own note to a colleague);
    // References still carry the thread's root.
    let reply = mail_with("refs@mail.example.com", LI, "Re: Where is my parcel?", |e| {
        e.in_reply_to = vec!["unknown@elsewhere.example".into()];
        e.references = vec!["first@mail.example.com".into(), "unknown@elsewhere.example".into()];
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(!outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));

    // Without In-Reply-To at all.
    let bare = mail_with("refs2@mail.example.com", LI, "no subject token", |e| {
        e.references = vec!["first@mail.example.com".into()];
    });
    assert_eq!(h.router.route(&bare).await.unwrap().ticket, TicketNumber(1));
    assert_eq!(h.store.all_tickets().len(), 1);
}

#[tokio::test]
async fn reply_token_address_continues_the_ticket_whatever_the_headers_say() {
    let h = harness();
    first_ticket(&h).await;
    let token = ticket(&h, 1).await.reply_token.expect("an email ticket has a reply token");
    let reply_to = email_destination(&queued_jobs(&h)[0]).reply_to.clone();
    assert_eq!(reply_to, Some(format!("support+{token}@desk.example")));
    // No thread headers, a new subject: only the support+<token> address it was sent to.
    let reply = mail_with("token@mail.example.com", LI, "photos of the box", |e| {
        e.reply_token = Some(token.clone());
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(!outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));
}

#[tokio::test]
async fn an_unknown_reply_token_opens_a_new_ticket() {
    let h = harness();
    first_ticket(&h).await;
    let reply = mail_with("token@mail.example.com", LI, "photos", |e| {
        e.reply_token = Some("doesnotexist".into());
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(2));
}

#[tokio::test]
async fn subject_number_from_the_requester_continues_the_ticket() {
    let h = harness();
    first_ticket(&h).await;
    // Another client, another address case: only the subject's [#1] ties it.
    let reply =
        mail("subject@other-client.example", "Li.Wei@Example.com", "Re: [#1] Where is my parcel?", "?");
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(!outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));
    assert_eq!(outcome.customer, ticket(&h, 1).await.requester);
}

#[tokio::test]
async fn subject_number_from_a_stranger_opens_a_new_ticket() {
    let h = harness();
    first_ticket(&h).await;
    let hijack =
        mail("hijack@evil.example", "mallory@evil.example", "Re: [#1] Where is my parcel?", "show me");
    let outcome = h.router.route(&hijack).await.unwrap();
    assert!(outcome.opened, "a stranger's [#1] continued ticket 1");
    assert_eq!(outcome.ticket, TicketNumber(2));
    assert_eq!(customer_messages(&h, 1).await, 1);
    assert_eq!(customer_messages(&h, 2).await, 1);
    assert_ne!(ticket(&h, 2).await.requester, ticket(&h, 1).await.requester);
    // The stranger's acknowledgement carries their own ticket number first.
    let ack = &acknowledgements_to(&h, "mallory@evil.example")[0];
    assert_eq!(email_destination(ack).subject, "[#2] Re: [#1] Where is my parcel?");
    assert_eq!(
        crate::router::threading::subject_ticket_number(&email_destination(ack).subject),
        Some(TicketNumber(2))
    );
}

#[tokio::test]
async fn subject_number_from_someone_on_cc_continues_the_ticket() {
    let h = harness();
    let first = mail_with("first@mail.example.com", LI, "Where is my parcel?", |e| {
        e.cc = vec!["wang.fang@example.com".into()];
    });
    h.router.route(&first).await.unwrap();
    assert!(ticket(&h, 1).await.cc.contains("wang.fang@example.com"));
    let colleague =
        mail("cc@mail.example.com", "Wang.Fang@example.com", "Re: [#1] Where is my parcel?", "same");
    let outcome = h.router.route(&colleague).await.unwrap();
    assert!(!outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(1));
    // Someone copied on a later reply may continue it too.
    let reply = mail_with("reply@mail.example.com", LI, "Re: [#1] Where is my parcel?", |e| {
        e.cc = vec!["zhao.min@example.com".into()];
    });
    h.router.route(&reply).await.unwrap();
    let late = mail("late@mail.example.com", "zhao.min@example.com", "[#1]", "me too");
    assert_eq!(h.router.route(&late).await.unwrap().ticket, TicketNumber(1));
    assert_eq!(h.store.all_tickets().len(), 1);
}

#[tokio::test]
async fn subject_number_of_a_ticket_that_does_not_exist_opens_a_new_ticket() {
    let h = harness();
    first_ticket(&h).await;
    let outcome = h.router.route(&mail("x@mail.example.com", LI, "Re: [#999] refund", "?")).await.unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(2));
}

#[tokio::test]
async fn reply_to_a_closed_ticket_opens_a_linked_follow_up() {
    let h = harness();
    first_ticket(&h).await;
    close(&h, 1).await;
    let reply = mail_with("again@mail.example.com", LI, "Re: Where is my parcel?", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
        e.references = vec!["first@mail.example.com".into()];
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.ticket, TicketNumber(2));
    assert_eq!(outcome.follow_up_of, Some(TicketNumber(1)));
    let follow_up = ticket(&h, 2).await;
    assert_eq!(follow_up.follow_up_of, Some(TicketNumber(1)));
    assert_eq!(follow_up.requester, ticket(&h, 1).await.requester);
    assert_ne!(follow_up.reply_token, ticket(&h, 1).await.reply_token);
    assert_eq!(ticket(&h, 1).await.status, Status::Closed);
    assert_eq!(customer_messages(&h, 1).await, 1);
    // The follow-up is acknowledged with its own number.
    let acks = acknowledgements_to(&h, LI);
    assert_eq!(acks.len(), 2);
    assert_eq!(email_destination(&acks[1]).subject, "[#2] Re: Where is my parcel?");
    // Answers to the follow-up's mail continue the follow-up.
    let next = mail_with("next@mail.example.com", LI, "Re: [#2] Re: Where is my parcel?", |e| {
        e.in_reply_to = vec!["again@mail.example.com".into()];
    });
    let next = h.router.route(&next).await.unwrap();
    assert!(!next.opened);
    assert_eq!(next.ticket, TicketNumber(2));
}

#[tokio::test]
async fn subject_number_of_a_closed_ticket_from_the_requester_opens_a_follow_up() {
    let h = harness();
    first_ticket(&h).await;
    close(&h, 1).await;
    let outcome = h.router.route(&mail("s@mail.example.com", LI, "Re: [#1] parcel", "broken")).await.unwrap();
    assert!(outcome.opened);
    assert_eq!(outcome.follow_up_of, Some(TicketNumber(1)));
}

#[tokio::test]
async fn duplicate_message_id_writes_one_message() {
    let h = harness();
    let first = first_ticket(&h).await;
    // SES delivers the same mail again (another receipt, same Message-ID).
    let mut again =
        mail("first@mail.example.com", LI, "Where is my parcel?", "Order NW-1042 has not arrived.");
    email_mut(&mut again).raw_key = Some("inbound/another-receipt".into());
    let outcome = h.router.route(&again).await.unwrap();
    assert!(outcome.duplicate);
    assert_eq!(outcome.ticket, first.ticket);
    assert_eq!(outcome.message, first.message);
    assert_eq!(h.store.all_tickets().len(), 1);
    assert_eq!(customer_messages(&h, 1).await, 1);
    // The acknowledgement is queued again under the same id: the dispatcher sends it once.
    let jobs = queued_jobs(&h);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0], jobs[1]);

    // A duplicate of a reply is one message as well.
    let reply =
        mail_with("r@mail.example.com", LI, "Re", |e| e.in_reply_to = vec!["first@mail.example.com".into()]);
    h.router.route(&reply).await.unwrap();
    assert!(h.router.route(&reply).await.unwrap().duplicate);
    assert_eq!(customer_messages(&h, 1).await, 2);
}

// --- the acknowledgement ----------------------------------------------------------------------

#[tokio::test]
async fn acknowledgement_carries_the_number_the_thread_and_the_token_reply_address() {
    let h = harness();
    let first = mail_with("first@mail.example.com", "Li.Wei@Example.com", "  Where is my parcel?  ", |e| {
        e.references = vec!["root@mail.example.com".into()];
        e.in_reply_to = vec!["root@mail.example.com".into()];
    });
    let outcome = h.router.route(&first).await.unwrap();
    assert!(outcome.opened);
    let ticket = ticket(&h, 1).await;
    let token = ticket.reply_token.clone().unwrap();
    let jobs = queued_jobs(&h);
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(outcome.outbound, jobs);
    assert_eq!(job.kind, OutboundKind::Acknowledgement);
    assert_eq!(
        job.id,
        format!("{}:ack", InboundMessage::email_idempotency_key(LI, "first@mail.example.com"))
    );
    assert_eq!(job.ticket, TicketNumber(1));
    assert!(job.text.contains("your ticket is #1"), "{}", job.text);
    let mail = email_destination(job);
    assert_eq!(mail.subject, "[#1] Where is my parcel?");
    assert_eq!(mail.to, "li.wei@example.com");
    assert!(mail.cc.is_empty());
    assert_eq!(mail.from, MAILBOX);
    assert_eq!(mail.reply_to.as_deref(), Some(format!("support+{token}@desk.example").as_str()));
    assert_eq!(mail.in_reply_to.as_deref(), Some("first@mail.example.com"));
    assert_eq!(mail.references, vec!["root@mail.example.com", "first@mail.example.com"]);
    assert_eq!(mail.message_id, format!("{}@desk.example", job.message));
    assert_eq!(mail.language, "en");
    // The acknowledgement is on the ticket as a public system message.
    let messages = h.store.messages(TicketNumber(1)).await.unwrap();
    let ack = messages.iter().find(|m| m.id == job.message).expect("ack message stored");
    assert_eq!((ack.author, ack.direction), (AuthorKind::System, Direction::Outbound));
}

#[tokio::test]
async fn a_mail_without_subject_is_acknowledged_under_the_tickets_subject() {
    let h = harness();
    h.router
        .route(&mail("nosubject@mail.example.com", LI, "", "Order A1029 never came.\nPlease help."))
        .await
        .unwrap();
    let jobs = queued_jobs(&h);
    assert_eq!(email_destination(&jobs[0]).subject, "[#1] Order A1029 never came.");
}

#[tokio::test]
async fn chinese_mail_gets_the_chinese_acknowledgement() {
    let h = harness();
    let first = mail_with("zh@mail.example.cn", "zhang.wei@example.cn", "我的包裹在哪里？", |e| {
        e.language = "zh".into();
    });
    h.router.route(&first).await.unwrap();
    let job = &queued_jobs(&h)[0];
    assert!(job.text.starts_with("您好！"), "{}", job.text);
    assert!(job.text.contains("工单号为 #1"), "{}", job.text);
    let mail = email_destination(job);
    assert_eq!(mail.subject, "[#1] 我的包裹在哪里？");
    assert_eq!(mail.language, "zh");
}

#[tokio::test]
async fn a_language_without_a_template_gets_the_default_one() {
    let h = harness();
    let first = mail_with("fr@mail.example.fr", "jean@example.fr", "Mon colis", |e| e.language = "fr".into());
    h.router.route(&first).await.unwrap();
    let job = &queued_jobs(&h)[0];
    assert!(job.text.starts_with("Hello,"), "{}", job.text);
    assert_eq!(email_destination(job).subject, "[#1] Mon colis");
}

#[tokio::test]
async fn automatic_mail_opens_a_ticket_without_acknowledgement() {
    let h = harness();
    let auto = mail_with("ooo@mail.example.com", LI, "Out of office", |e| {
        e.automatic = Some("AutoSubmitted".into());
    });
    let outcome = h.router.route(&auto).await.unwrap();
    assert!(outcome.opened);
    assert!(outcome.outbound.is_empty());
    assert!(h.outbound.is_empty());
    // Only the customer's message is on the ticket.
    assert_eq!(h.store.messages(TicketNumber(1)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn dmarc_failed_mail_is_tagged_and_not_acknowledged() {
    let h = harness();
    let spoofed = mail_with("spoof@mail.example.com", "ceo@bank.example", "Urgent refund", |e| {
        e.auth.dmarc = Some(Verdict::Fail);
    });
    let outcome = h.router.route(&spoofed).await.unwrap();
    assert!(outcome.opened);
    assert!(h.outbound.is_empty());
    assert!(ticket(&h, 1).await.tags.contains(DMARC_FAILED_TAG));
}

#[tokio::test]
async fn acknowledgements_can_be_turned_off() {
    let h = harness();
    let rules = EmailRules { acknowledge: false, ..EmailRules::default() };
    let router = TicketRouter { email: rules, ..h.router };
    let outcome = router.route(&mail("m@mail.example.com", LI, "parcel", "where")).await.unwrap();
    assert!(outcome.opened);
    assert!(h.outbound.is_empty());
}

#[tokio::test]
async fn the_fourth_new_ticket_within_the_hour_gets_no_acknowledgement_until_the_window_slides() {
    let h = harness();
    for i in 0..4 {
        let outcome = h
            .router
            .route(&mail(&format!("n{i}@mail.example.com"), LI, &format!("order {i}"), "?"))
            .await
            .unwrap();
        assert!(outcome.opened);
        assert_eq!(outcome.outbound.len(), usize::from(i < 3), "mail {i}");
        h.clock.advance(Duration::from_secs(10 * 60));
    }
    assert_eq!(acknowledgements_to(&h, LI).len(), 3);
    // The 4th ticket holds only the customer's message.
    assert_eq!(h.store.messages(TicketNumber(4)).await.unwrap().len(), 1);
    // Another sender has a cap of their own.
    let other =
        h.router.route(&mail("o@mail.example.com", "wang.fang@example.com", "hi", "?")).await.unwrap();
    assert_eq!(other.outbound.len(), 1);
    // Replies never take a slot, nor get an acknowledgement.
    let reply =
        mail_with("r@mail.example.com", LI, "Re", |e| e.in_reply_to = vec!["n0@mail.example.com".into()]);
    assert!(h.router.route(&reply).await.unwrap().outbound.is_empty());

    // At 59 min the window still holds the slots taken at 0, 10 and 20 min; at 60 min the
    // first one has left it.
    h.clock.set(Timestamp::from_second(START + 59 * 60).unwrap());
    let capped = h.router.route(&mail("n4@mail.example.com", LI, "order 4", "?")).await.unwrap();
    assert!(capped.outbound.is_empty());
    h.clock.set(Timestamp::from_second(START + 60 * 60).unwrap());
    let freed = h.router.route(&mail("n5@mail.example.com", LI, "order 5", "?")).await.unwrap();
    assert_eq!(freed.outbound.len(), 1);
    let again = h.router.route(&mail("n6@mail.example.com", LI, "order 6", "?")).await.unwrap();
    assert!(again.outbound.is_empty(), "the slot freed at 60 min was taken by n5");
    assert_eq!(acknowledgements_to(&h, LI).len(), 4);
}

#[tokio::test]
async fn the_cap_ignores_address_case() {
    let h = harness();
    for (i, from) in ["li.wei@example.com", "LI.WEI@example.com", "Li.Wei@EXAMPLE.com", "li.wei@Example.COM"]
        .into_iter()
        .enumerate()
    {
        h.router.route(&mail(&format!("c{i}@mail.example.com"), from, "x", "?")).await.unwrap();
    }
    assert_eq!(queued_jobs(&h).len(), 3);
}

/// The Message-ID of the first queued mail (the acknowledgement of #1).
fn acknowledgement_id(h: &Harness) -> String {
    match &queued_jobs(h)[0].destination {
        Destination::Email(EmailDestination { message_id, .. }) => message_id.clone(),
        other => panic!("not a mail: {other:?}"),
    }
}

fn dsn(id: &str, failed: &str, change: impl FnOnce(&mut EmailSource)) -> InboundMessage {
    mail_with(id, "mailer-daemon@mx.example.com", "Undelivered Mail", |e| {
        e.automatic = Some("Bounce".into());
        e.bounce = Some(vec![failed.into()]);
        change(e);
    })
}

#[tokio::test]
async fn bounces_a_dsn_of_the_desks_own_mail_marks_its_recipient_until_it_expires_or_they_write() {
    let h = harness();
    first_ticket(&h).await;
    let ack = acknowledgement_id(&h);
    let bounce = dsn("dsn@mx.example.com", "LI.WEI@example.com", |e| e.bounce_refers_to = vec![ack.clone()]);
    assert!(bounce.is_bounce());
    assert_eq!(h.router.record_bounce(&bounce).await.unwrap(), 1);
    // A redelivered bounce changes nothing more; a bounce makes no ticket.
    assert_eq!(h.router.record_bounce(&bounce).await.unwrap(), 0);
    assert_eq!(h.store.all_tickets().len(), 1);
    let requester = ticket(&h, 1).await.requester;
    let customer = h.store.customer(&requester).await.unwrap().unwrap();
    let now = h.clock.now();
    assert!(customer.is_bouncing(LI, now));
    // The mark lapses on its own...
    assert!(!customer.is_bouncing(LI, crate::system::later(now, crate::model::BOUNCE_MARK_TTL)));

    // ...and goes as soon as the address writes again: it receives mail after all.
    h.clock.advance(Duration::from_secs(2 * 3600));
    let later = h.router.route(&mail("later@mail.example.com", LI, "New order", "hello?")).await.unwrap();
    assert!(later.opened);
    assert_eq!(later.customer, requester);
    assert_eq!(later.outbound.len(), 1, "acknowledged again");
    assert!(h.store.customer(&requester).await.unwrap().unwrap().bouncing.is_empty());
}

#[tokio::test]
async fn bounces_a_forged_dsn_marks_nobody() {
    let h = harness();
    first_ticket(&h).await;
    let ack = acknowledgement_id(&h);
    // Anna is another customer: a report naming Li's ticket cannot silence her.
    h.router.route(&mail("anna@mail.example.com", "anna@example.com", "Hello", "?")).await.unwrap();
    let forgeries = [
        dsn("f1@evil.example", LI, |_| {}),
        dsn("f2@evil.example", LI, |e| e.bounce_refers_to = vec!["first@mail.example.com".into()]),
        dsn("f3@evil.example", LI, |e| e.bounce_refers_to = vec!["made-up@desk.example".into()]),
        dsn("f4@evil.example", LI, |e| e.reply_token = Some("guessed".into())),
        dsn("f5@evil.example", "anna@example.com", |e| e.bounce_refers_to = vec![ack.clone()]),
    ];
    for forged in &forgeries {
        assert_eq!(h.router.record_bounce(forged).await.unwrap(), 0, "{forged:?}");
    }
    assert!(h.store.all_customers().iter().all(|c| c.bouncing.is_empty()));
}

#[tokio::test]
async fn bounces_a_dsn_to_a_tickets_reply_address_is_believed() {
    let h = harness();
    first_ticket(&h).await;
    let token = ticket(&h, 1).await.reply_token.expect("reply token");
    let bounce = dsn("dsn@mx.example.com", LI, |e| e.reply_token = Some(token));
    assert_eq!(h.router.record_bounce(&bounce).await.unwrap(), 1);
}

#[tokio::test]
async fn a_bounce_for_an_unknown_address_changes_nothing() {
    let h = harness();
    let bounce = mail_with("dsn@mx.example.com", "mailer-daemon@mx.example.com", "Undelivered", |e| {
        e.bounce = Some(vec!["nobody@example.com".into(), "not an address".into()]);
    });
    assert_eq!(h.router.record_bounce(&bounce).await.unwrap(), 0);
    assert!(h.store.all_customers().is_empty());
    assert!(h.store.all_tickets().is_empty());
    // And then the address writes: a normal customer, acknowledged.
    let first = h.router.route(&mail("m@mail.example.com", "nobody@example.com", "hi", "?")).await.unwrap();
    assert_eq!(first.outbound.len(), 1);
}

#[tokio::test]
async fn a_second_reply_to_a_closed_thread_joins_the_first_follow_up() {
    let h = harness();
    first_ticket(&h).await;
    close(&h, 1).await;
    // The customer answers the old thread twice: a note, then the photo they forgot.
    for id in ["again@mail.example.com", "photo@mail.example.com"] {
        let reply = mail_with(id, LI, "Re: Where is my parcel?", |e| {
            e.in_reply_to = vec!["first@mail.example.com".into()];
            e.references = vec!["first@mail.example.com".into()];
        });
        h.router.route(&reply).await.unwrap();
    }
    let tickets: Vec<_> = h.store.all_tickets().iter().map(|t| (t.number.0, t.follow_up_of)).collect();
    assert_eq!(tickets, [(1, None), (2, Some(TicketNumber(1)))], "one follow-up, not one per reply");
    assert_eq!(customer_messages(&h, 2).await, 2);
    assert_eq!(acknowledgements_to(&h, LI).len(), 2);
}

#[tokio::test]
async fn a_dmarc_failed_mail_flags_the_ticket_it_continues() {
    let h = harness();
    first_ticket(&h).await;
    // Someone forges Li's From address (DMARC fails) and writes with [#1] in the subject: the
    // only check on a [#N] continuation is the From address, which is exactly what DMARC
    // says cannot be trusted here.
    let forged = mail_with("forged@evil.example", LI, "Re: [#1] Where is my parcel?", |e| {
        e.auth.dmarc = Some(Verdict::Fail);
    });
    let outcome = h.router.route(&forged).await.unwrap();
    assert!(outcome.outbound.is_empty());
    let ticket = ticket(&h, outcome.ticket.0).await;
    assert!(
        ticket.tags.contains(DMARC_FAILED_TAG),
        "ticket {} took a DMARC-failed mail (opened: {}) and is not flagged",
        outcome.ticket,
        outcome.opened
    );
}

// --- idempotency keys that cannot be stolen ------------------------------------------------------

#[tokio::test]
async fn idempotency_a_reused_message_id_from_another_sender_is_a_new_message() {
    let h = harness();
    first_ticket(&h).await;
    // Anna sends a mail under Li's Message-ID (she saw it in a Cc, or guessed it).
    let reused = mail("first@mail.example.com", "anna@example.com", "Hello", "my own question");
    let outcome = h.router.route(&reused).await.unwrap();
    assert!(!outcome.duplicate, "a stranger's mail is not Li's mail delivered again");
    assert!(outcome.opened);
    // (Its first commit lost on the taken id: number 2 is a gap.)
    assert_ne!(outcome.ticket, TicketNumber(1));
    assert_ne!(outcome.customer, ticket(&h, 1).await.requester);
    // The id still names Li's ticket: replies to Li's mail keep threading there.
    let key = ThreadKey::email_message("first@mail.example.com");
    assert_eq!(h.store.thread_ticket(&key).await.unwrap(), Some(TicketNumber(1)));
    // Li's own mail delivered again is still a duplicate.
    let again = mail("first@mail.example.com", LI, "Where is my parcel?", "Order NW-1042 has not arrived.");
    assert!(h.router.route(&again).await.unwrap().duplicate);
}

#[tokio::test]
async fn idempotency_a_mail_reusing_the_acknowledgements_message_id_is_routed_once() {
    let h = harness();
    first_ticket(&h).await;
    let ack = acknowledgement_id(&h);
    // Every recipient of the acknowledgement sees its Message-ID; a mail sent under it used
    // to lose every commit on the taken thread key and end in the dead-letter queue.
    for from in [LI, "anna@example.com"] {
        let reusing = mail(&ack, from, "Something else", "a new question");
        let outcome = h.router.route(&reusing).await.expect("routed, not contended");
        assert!(outcome.opened);
    }
    let key = ThreadKey::email_message(&ack);
    assert_eq!(h.store.thread_ticket(&key).await.unwrap(), Some(TicketNumber(1)));
    assert_eq!(h.store.all_tickets().len(), 3);
}
