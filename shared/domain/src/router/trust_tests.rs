//! Who may shape a thread (issue 12, items 1–4): typed contact details are hints, not links;
//! a third party's mail is flagged and its Cc never taken; only authenticated mail threads by
//! subject or links to a customer; merges across customers are explicit and are followed only
//! by the surviving ticket's own people.

use std::sync::Arc;

use super::email_tests::{
    Harness, LI, email_destination, first_ticket, harness, mail, mail_with, queued_jobs, ticket,
};
use super::*;
use crate::desk::{AgentDesk, DeskError, DeskPorts, MergeScope, Staff, TicketPatch};
use crate::inbound::{ContactHints, Sender};
use crate::mail_auth::{MailAuth, Verdict};
use crate::model::{EventKind, Identity, MessageFlag};
use crate::system::RandomIds;

const MALLORY: &str = "mallory@evil.example";
const WANG: &str = "wang.fang@example.com";

/// The agent desk on the router's store, with ids of its own.
fn desk(h: &Harness) -> AgentDesk {
    let ports = crate::memory::desk_ports(h.store.clone(), h.clock.clone());
    let ports = DeskPorts { ids: Arc::new(RandomIds), outbound: h.outbound.clone(), ..ports };
    AgentDesk::new(ports, None, EmailRules::default())
}

fn staff() -> Staff {
    Staff("sue".into())
}

fn chat_typing(message_id: &str, visitor: &str, email: &str) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key("web", message_id),
        source: Source::Chat {
            inbox: "web".into(),
            conversation_id: visitor.into(),
            message_id: message_id.into(),
        },
        sender: Sender { chat_visitor: Some(visitor.into()), ..Sender::default() }.with_contact(
            Some(email.into()),
            None,
            crate::inbound::Vouched::No,
        ),
        text: "show me my orders".into(),
        attachments: vec![],
        sent_at: None,
        received_at: h_now(),
    }
}

fn h_now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(super::email_tests::START).unwrap()
}

fn unauthenticated(mut inbound: InboundMessage) -> InboundMessage {
    if let Source::Email(email) = &mut inbound.source {
        email.auth = MailAuth { dmarc: Some(Verdict::Gray), spf: Some(Verdict::Fail), dkim: None };
    }
    // The edge keeps an unauthenticated From as a hint.
    let from = inbound.sender.email.take();
    inbound.sender.hints = ContactHints { email: from, phone: None };
    inbound
}

async fn flags(h: &Harness, number: u64, index: usize) -> std::collections::BTreeSet<MessageFlag> {
    let messages = h.store.messages(TicketNumber(number)).await.unwrap();
    let inbound: Vec<_> = messages.into_iter().filter(|m| m.author == AuthorKind::Customer).collect();
    inbound[index].flags.clone()
}

// --- item 1: typed contact details are hints ---------------------------------------------------

#[tokio::test]
async fn chat_visitor_typing_an_existing_customers_address_stays_a_separate_customer() {
    let h = harness();
    let anna = first_ticket(&h).await.customer;
    let visitor = h.router.route(&chat_typing("m1", "v-mallory", LI)).await.unwrap();
    assert_ne!(visitor.customer, anna, "a typed address must not lead to its owner");
    let stored = h.store.customer(&visitor.customer).await.unwrap().unwrap();
    let typed = Identity::email(LI).unwrap();
    assert!(!stored.identities.contains(&typed));
    assert_eq!(stored.unverified, vec![typed.clone()]);
    assert_eq!(h.store.customer_by_identity(&typed).await.unwrap(), Some(anna.clone()));

    // The agent sees the detail as unverified and the customer holding it as a candidate.
    let view = desk(&h).customer_view(&visitor.customer).await.unwrap();
    assert_eq!(view.tickets.len(), 1, "only the visitor's own ticket");
    assert_eq!(view.merge_candidates.len(), 1);
    assert_eq!((&view.merge_candidates[0].identity, &view.merge_candidates[0].customer), (&typed, &anna));

    // Typing it again adds nothing; the visitor stays who they are.
    let again = h.router.route(&chat_typing("m2", "v-mallory", LI)).await.unwrap();
    assert_eq!(again.customer, visitor.customer);
    assert_eq!(h.store.customer(&visitor.customer).await.unwrap().unwrap().unverified.len(), 1);
}

#[tokio::test]
async fn a_merge_of_customers_turns_the_shared_hint_into_nothing_more_to_merge() {
    let h = harness();
    let anna = first_ticket(&h).await.customer;
    let visitor = h.router.route(&chat_typing("m1", "v-anna", LI)).await.unwrap().customer;
    desk(&h).merge_customers(&staff(), &visitor, &anna).await.unwrap();
    let view = desk(&h).customer_view(&anna).await.unwrap();
    assert!(view.customer.unverified.is_empty(), "{:?}", view.customer.unverified);
    assert!(view.merge_candidates.is_empty());
    assert_eq!(view.tickets.len(), 2);
}

// --- item 2: third-party mail and the cc list ------------------------------------------------

#[tokio::test]
async fn a_strangers_reply_with_cc_is_third_party_and_copies_nobody() {
    let h = harness();
    first_ticket(&h).await;
    // Mallory learnt the thread's Message-ID and answers it, copying herself elsewhere.
    let reply = mail_with("exfil@evil.example", MALLORY, "Re: Where is my parcel?", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
        e.cc = vec!["exfil@evil.example".into()];
    });
    let outcome = h.router.route(&reply).await.unwrap();
    assert_eq!(outcome.ticket, TicketNumber(1));
    let t = ticket(&h, 1).await;
    assert!(t.cc.is_empty(), "a stranger's Cc was taken: {:?}", t.cc);
    assert!(t.tags.contains(THIRD_PARTY_TAG));
    assert!(flags(&h, 1, 1).await.contains(&MessageFlag::ThirdParty));

    // The next agent reply goes to the requester alone.
    desk(&h).reply(&staff(), TicketNumber(1), "It ships today.", false, None, None).await.unwrap();
    let jobs = queued_jobs(&h);
    let sent = email_destination(jobs.last().expect("a reply job"));
    assert_eq!((sent.to.as_str(), sent.cc.len()), (LI, 0));
}

#[tokio::test]
async fn cc_is_taken_from_the_requesters_mail_only_and_up_to_the_cap() {
    let h = harness();
    let copied: Vec<String> = (0..15).map(|i| format!("colleague{i}@example.com")).collect();
    let opening = mail_with("first@mail.example.com", LI, "Where is my parcel?", |e| e.cc = copied.clone());
    h.router.route(&opening).await.unwrap();
    let t = ticket(&h, 1).await;
    assert_eq!(t.cc.len(), email::DEFAULT_MAX_CC);
    // Someone on the cc list answers, copying another: they belong, but shape nothing.
    let from_cc = mail_with("cc@mail.example.com", "colleague0@example.com", "Re: parcel", |e| {
        e.in_reply_to = vec!["first@mail.example.com".into()];
        e.cc = vec!["someone.else@example.com".into()];
    });
    assert_eq!(h.router.route(&from_cc).await.unwrap().ticket, TicketNumber(1));
    let t = ticket(&h, 1).await;
    assert!(!t.cc.contains("someone.else@example.com"));
    assert!(!t.tags.contains(THIRD_PARTY_TAG));
    assert!(flags(&h, 1, 1).await.is_empty());
}

#[tokio::test]
async fn patching_cc_validates_each_address_enforces_the_cap_and_checks_the_version() {
    let h = harness();
    first_ticket(&h).await;
    let desk = desk(&h);
    let version = ticket(&h, 1).await.version;
    let patch = |cc: Vec<&str>, version: u64| TicketPatch {
        version,
        cc: Some(cc.into_iter().map(str::to_owned).collect()),
        ..TicketPatch::default()
    };
    let bad = desk.patch(&staff(), TicketNumber(1), patch(vec!["not an address"], version)).await;
    assert!(matches!(bad, Err(DeskError::Invalid(ref m)) if m.starts_with("cc:")), "{bad:?}");
    let many: Vec<String> = (0..11).map(|i| format!("c{i}@example.com")).collect();
    let too_many = desk
        .patch(&staff(), TicketNumber(1), patch(many.iter().map(String::as_str).collect(), version))
        .await;
    assert!(matches!(too_many, Err(DeskError::Invalid(ref m)) if m.contains("at most 10")), "{too_many:?}");
    let set =
        desk.patch(&staff(), TicketNumber(1), patch(vec!["Wang.Fang@Example.com"], version)).await.unwrap();
    assert_eq!(set.cc.iter().collect::<Vec<_>>(), [WANG]);
    let stale = desk.patch(&staff(), TicketNumber(1), patch(vec![], version)).await;
    assert!(matches!(stale, Err(DeskError::Conflict(_))), "{stale:?}");
    let events = h.store.events(TicketNumber(1)).await.unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::Cc { added: 1, removed: 0 }));
}

#[tokio::test]
async fn a_reply_to_more_than_fifty_recipients_is_refused_and_nothing_is_written() {
    let h = harness();
    first_ticket(&h).await;
    // A ticket from before the cap, copied to fifty people.
    let mut t = ticket(&h, 1).await;
    let expected = t.version;
    t.cc = (0..50).map(|i| format!("c{i}@example.com")).collect();
    t.version += 1;
    let commit = TicketCommit {
        ticket: t,
        expected_version: Some(expected),
        messages: vec![],
        events: vec![],
        thread_claims: vec![],
        idempotency: None,
    };
    h.store.commit(commit).await.unwrap();
    let before = h.store.messages(TicketNumber(1)).await.unwrap().len();
    let jobs = queued_jobs(&h).len();
    let refused = desk(&h).reply(&staff(), TicketNumber(1), "Hello all", false, None, None).await;
    assert!(matches!(refused, Err(DeskError::Unsendable(ref m)) if m.contains("51")), "{refused:?}");
    assert_eq!(h.store.messages(TicketNumber(1)).await.unwrap().len(), before);
    assert_eq!(queued_jobs(&h).len(), jobs);
}

// --- item 3: mail authentication -------------------------------------------------------------

#[tokio::test]
async fn unauthenticated_mail_neither_links_to_the_customer_nor_threads_by_subject() {
    let h = harness();
    let li = first_ticket(&h).await.customer;
    let forged =
        unauthenticated(mail("forged@evil.example", LI, "Re: [#1] Where is my parcel?", "send it to me"));
    let outcome = h.router.route(&forged).await.unwrap();
    assert!(outcome.opened, "an unauthenticated [#1] joined ticket #1");
    assert_ne!(outcome.customer, li);
    let stranger = h.store.customer(&outcome.customer).await.unwrap().unwrap();
    assert!(stranger.identities.is_empty());
    assert_eq!(stranger.unverified, vec![Identity::email(LI).unwrap()]);
    let t = ticket(&h, outcome.ticket.0).await;
    assert!(t.tags.contains(UNAUTHENTICATED_TAG));
    assert!(flags(&h, outcome.ticket.0, 0).await.contains(&MessageFlag::Unauthenticated));
    // An agent merges the records once satisfied; until then the view offers it.
    let view = desk(&h).customer_view(&outcome.customer).await.unwrap();
    assert_eq!(view.merge_candidates[0].customer, li);
}

#[tokio::test]
async fn replies_on_an_unauthenticated_ticket_still_go_to_its_from_address() {
    let h = harness();
    let outcome = h
        .router
        .route(&unauthenticated(mail(
            "weak@small.example",
            "owner@small.example",
            "Order 77",
            "Where is it?",
        )))
        .await
        .unwrap();
    // Not a DMARC failure: the acknowledgement goes out, to the From.
    let acks = queued_jobs(&h);
    assert_eq!(email_destination(&acks[0]).to, "owner@small.example");
    let reply = desk(&h).reply(&staff(), outcome.ticket, "It left today.", false, None, None).await.unwrap();
    assert_eq!(reply.delivery, crate::desk::Delivery::Queued);
    let jobs = queued_jobs(&h);
    assert_eq!(email_destination(jobs.last().unwrap()).to, "owner@small.example");
}

#[tokio::test]
async fn a_queued_mail_without_verdicts_is_unauthenticated() {
    let inbound = mail("old@mail.example.com", LI, "hello", "text");
    let mut json = serde_json::to_value(&inbound).unwrap();
    json["source"].as_object_mut().unwrap().remove("auth");
    let old: InboundMessage = serde_json::from_value(json).unwrap();
    assert!(!old.authenticated());
    assert!(old.identities().is_empty());
    assert_eq!(old.hints(), vec![Identity::email(LI).unwrap()]);
    assert_eq!(old.from_address().as_deref(), Some(LI));
}

#[tokio::test]
async fn mail_failing_the_virus_scan_flags_its_ticket() {
    let h = harness();
    let infected = mail_with("virus@mail.example.com", LI, "invoice", |e| e.quarantined = true);
    let outcome = h.router.route(&infected).await.unwrap();
    assert!(ticket(&h, outcome.ticket.0).await.tags.contains(VIRUS_QUARANTINED_TAG));
}

// --- item 4: merges --------------------------------------------------------------------------

/// Ticket 1 from Li, ticket 2 from Wang.
async fn two_customers(h: &Harness) {
    first_ticket(h).await;
    let wang = mail("wang@mail.example.com", WANG, "Refund", "Please refund order 88.");
    assert_eq!(h.router.route(&wang).await.unwrap().ticket, TicketNumber(2));
}

#[tokio::test]
async fn merging_tickets_of_two_customers_needs_the_explicit_flag() {
    let h = harness();
    two_customers(&h).await;
    let desk = desk(&h);
    let refused = desk.merge(&staff(), TicketNumber(2), TicketNumber(1), MergeScope::SameCustomer).await;
    assert!(
        matches!(refused, Err(DeskError::Conflict(ref m)) if m.contains("across_customers")),
        "{refused:?}"
    );
    assert_eq!(ticket(&h, 2).await.merged_into, None, "a refused merge changes nothing");
    desk.merge(&staff(), TicketNumber(2), TicketNumber(1), MergeScope::AcrossCustomers).await.unwrap();
    assert_eq!(ticket(&h, 2).await.merged_into, Some(TicketNumber(1)));
}

#[tokio::test]
async fn after_a_merge_a_sender_outside_the_surviving_ticket_opens_a_new_ticket() {
    let h = harness();
    two_customers(&h).await;
    desk(&h).merge(&staff(), TicketNumber(2), TicketNumber(1), MergeScope::AcrossCustomers).await.unwrap();
    // Wang answers his own thread: it was merged into Li's ticket, where he does not belong.
    let wang = mail_with("wang2@mail.example.com", WANG, "Re: Refund", |e| {
        e.in_reply_to = vec!["wang@mail.example.com".into()];
    });
    let outcome = h.router.route(&wang).await.unwrap();
    assert!(outcome.opened, "Wang's reply followed the merge into Li's ticket");
    assert_eq!((outcome.ticket, outcome.follow_up_of), (TicketNumber(3), Some(TicketNumber(2))));
    // His next mail in that thread joins the new ticket.
    let again = mail_with("wang3@mail.example.com", WANG, "Re: Refund", |e| {
        e.in_reply_to = vec!["wang@mail.example.com".into()];
    });
    assert_eq!(h.router.route(&again).await.unwrap().ticket, TicketNumber(3));
    // Li, the surviving ticket's requester, still follows a merge of her own tickets.
    let li_second = mail("li2@mail.example.com", LI, "Also: the invoice", "Please send the invoice.");
    assert_eq!(h.router.route(&li_second).await.unwrap().ticket, TicketNumber(4));
    desk(&h).merge(&staff(), TicketNumber(4), TicketNumber(1), MergeScope::SameCustomer).await.unwrap();
    let li_reply = mail_with("li3@mail.example.com", LI, "Re: invoice", |e| {
        e.in_reply_to = vec!["li2@mail.example.com".into()];
    });
    let followed = h.router.route(&li_reply).await.unwrap();
    assert_eq!((followed.ticket, followed.opened), (TicketNumber(1), false));
}
