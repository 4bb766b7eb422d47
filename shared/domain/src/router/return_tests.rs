//! Returns customers start by mail and in chat: a keyword and an order number in a mail's
//! subject start the return for the sender's order; damage without photos waits for them, and
//! the requester's next message (a mail in the thread, a chat message) with a photo files it;
//! someone else's order is never named back.

use std::sync::Arc;

use super::email_tests::{LI, harness, mail, queued_jobs};
use super::*;
use crate::model::AttachmentRef;
use crate::orders::fixtures::{an_order, line};
use crate::orders::{MemoryOrders, OrderPatterns, ReturnRules};

fn with_shop(router: TicketRouter, now: Timestamp) -> TicketRouter {
    let delivered = now.checked_sub(jiff::SignedDuration::from_hours(48)).unwrap();
    let orders = MemoryOrders::new(vec![
        an_order("#1001")
            .email(LI)
            .lines(vec![line("l1", "Celadon teapot", None)])
            .delivered(delivered)
            .build(),
        an_order("#2002").email("eve@example.com").delivered(delivered).build(),
    ]);
    router.with_orders(Arc::new(OrderLookup {
        orders: Arc::new(orders),
        patterns: OrderPatterns::default(),
        returns: ReturnRules::default(),
        email_keywords: vec!["return".into(), "退货".into()],
    }))
}

fn photo() -> AttachmentRef {
    AttachmentRef {
        key: "attachments/r/abc".into(),
        name: "lid.jpg".into(),
        content_type: "image/jpeg".into(),
        size: 1_000,
        content_id: None,
        inline: false,
        quarantined: false,
    }
}

fn acknowledgement_texts(h: &email_tests::Harness) -> Vec<String> {
    queued_jobs(h).into_iter().map(|job| job.text).collect()
}

#[tokio::test]
async fn a_damaged_return_by_mail_waits_for_photos_and_the_requesters_reply_with_one_files_it() {
    let h = harness();
    let router = with_shop(h.router, h.clock.now());
    let h = email_tests::Harness { router, ..h };
    let first = mail("m1@mail.example.com", LI, "Return #1001", "The teapot arrived broken.");
    let outcome = h.router.route(&first).await.unwrap();
    assert!(
        acknowledgement_texts(&h)[0].contains("send photos of the damage"),
        "{:?}",
        acknowledgement_texts(&h)
    );
    let ticket = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    assert!(ticket.order.as_ref().is_some_and(|o| o.pending_return.is_some() && o.returned.is_none()));

    let mut reply = mail("m2@mail.example.com", LI, "Re: [#1] Return #1001", "Here is a photo.");
    if let Source::Email(email) = &mut reply.source {
        email.in_reply_to = vec!["m1@mail.example.com".into()];
    }
    reply.attachments = vec![photo()];
    assert_eq!(h.router.route(&reply).await.unwrap().ticket, outcome.ticket);
    let ticket = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    let case = ticket.order.as_ref().and_then(|o| o.returned.clone()).expect("filed");
    assert_eq!((case.order.as_str(), case.evidence, case.damaged), ("#1001", 1, true));
    assert!(ticket.order.as_ref().is_some_and(|o| o.pending_return.is_none()));
    assert!(
        acknowledgement_texts(&h)
            .iter()
            .any(|t| t.starts_with("We received your return request for order #1001"))
    );
}

#[tokio::test]
async fn a_return_mail_naming_someone_elses_order_says_nothing_about_it_and_opens_no_return() {
    let h = harness();
    let router = with_shop(h.router, h.clock.now());
    let h = email_tests::Harness { router, ..h };
    let outcome =
        h.router.route(&mail("m1@mail.example.com", LI, "Return order #2002", "Take it back")).await.unwrap();
    let texts = acknowledgement_texts(&h);
    assert!(texts[0].contains("can't find that order"), "{texts:?}");
    assert!(!texts[0].contains("Teapot") && !texts[0].contains("eve@"), "{texts:?}");
    let events = h.store.events(outcome.ticket).await.unwrap();
    assert!(!events.iter().any(|e| matches!(e.kind, crate::model::EventKind::ReturnRequested { .. })));
}

#[tokio::test]
async fn a_mail_without_the_keyword_or_without_an_order_number_starts_no_return() {
    let h = harness();
    let router = with_shop(h.router, h.clock.now());
    let h = email_tests::Harness { router, ..h };
    h.router
        .route(&mail("m1@mail.example.com", LI, "Question about #1001", "Is it dishwasher safe?"))
        .await
        .unwrap();
    h.router
        .route(&mail("m2@mail.example.com", LI, "Return policy", "How long do I have to return things?"))
        .await
        .unwrap();
    for text in acknowledgement_texts(&h) {
        assert!(!text.contains("return request") && !text.contains("cannot be returned"), "{text}");
    }
}

/// The router of `h` with the bot in inbox `web` and the shop of [`with_shop`]; a customer
/// `cus_li` known by chat visitor `v-li` and (verified) `LI`.
async fn chat_router(h: email_tests::Harness) -> email_tests::Harness {
    use crate::bot::{BotRules, IntentDetector, OrderStatus, ReturnRequestIntent, default_detectors};
    use crate::kb::{Catalogue, SearchSettings};
    use crate::model::{Customer, CustomerId, Identity};
    let mut detectors: Vec<Box<dyn IntentDetector>> = default_detectors();
    detectors.push(Box::new(ReturnRequestIntent::new(OrderPatterns::default())));
    detectors.push(Box::new(OrderStatus::new(OrderPatterns::default())));
    let articles = Arc::new(crate::memory::MemoryArticles::default());
    let bot = ChatBot {
        rules: BotRules {
            inboxes: ["web".to_owned()].into(),
            min_confidence: 0.5,
            help_centre_url: "https://help.example".into(),
            close_after_minutes: crate::bot::idle::DEFAULT_CLOSE_AFTER_MINUTES,
        },
        detectors,
        catalogue: Arc::new(Catalogue::new(articles, SearchSettings::default())),
    };
    let identities = vec![Identity::chat_visitor("web", "v-li").unwrap(), Identity::email(LI).unwrap()];
    let customer = Customer::new(CustomerId::new("cus_li"), None, identities, h.clock.now());
    crate::ports::CustomerStore::create(&*h.store, &customer).await.unwrap();
    let now = h.clock.now();
    let router = with_shop(h.router, now).with_bot(Arc::new(bot));
    email_tests::Harness { router, ..h }
}

#[tokio::test]
async fn a_chat_return_for_a_damaged_item_asks_for_photos_and_the_next_message_with_one_files_it() {
    let h = chat_router(email_tests::harness()).await;
    let first =
        super::tests::chat("c1", "conv-li", "v-li", "I want to return my teapot from #1001, it is broken");
    let outcome = h.router.route(&first).await.unwrap();
    let texts = acknowledgement_texts(&h);
    assert!(texts.iter().any(|t| t.contains("send photos of the damage")), "{texts:?}");
    let mut photo_message = super::tests::chat("c2", "conv-li", "v-li", "here you go");
    photo_message.attachments = vec![photo()];
    assert_eq!(h.router.route(&photo_message).await.unwrap().ticket, outcome.ticket);
    let ticket = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    let case = ticket.order.as_ref().and_then(|o| o.returned.clone()).expect("filed with the photo");
    assert_eq!((case.order.as_str(), case.evidence), ("#1001", 1));
    assert!(ticket.bot.as_ref().is_some_and(|b| b.done), "filed: a person approves it, the bot is done");
    let texts = acknowledgement_texts(&h);
    assert!(
        texts.iter().any(|t| t.starts_with("We received your return request for order #1001")),
        "{texts:?}"
    );
}

/// The bot cannot look at a photo: a chat message with files and nothing pending goes to a
/// person at once, whatever its text says.
#[tokio::test]
async fn a_chat_message_with_a_photo_and_no_return_waiting_goes_to_a_person() {
    let h = chat_router(email_tests::harness()).await;
    let mut first = super::tests::chat("c1", "conv-li", "v-li", "");
    first.attachments = vec![photo()];
    let outcome = h.router.route(&first).await.unwrap();
    let ticket = h.store.ticket(outcome.ticket).await.unwrap().unwrap();
    assert!(ticket.bot.as_ref().is_some_and(|b| b.done), "handed over: the bot says nothing more");
    let events = h.store.events(outcome.ticket).await.unwrap();
    assert!(
        events.iter().any(
            |e| matches!(&e.kind, crate::model::EventKind::BotHandoff { reason, .. } if reason == "files")
        ),
        "{events:?}"
    );
    assert!(ticket.order.as_ref().and_then(|o| o.returned.as_ref()).is_none(), "no return was started");
}

/// A photo sent with "talk to a person" is a handoff the customer asked for: the reason
/// analysts count is theirs, not the file's.
#[tokio::test]
async fn a_chat_photo_with_a_request_for_a_person_is_handed_over_as_requested() {
    let h = chat_router(email_tests::harness()).await;
    let mut first = super::tests::chat("c1", "conv-li", "v-li", "talk to a human please");
    first.attachments = vec![photo()];
    let outcome = h.router.route(&first).await.unwrap();
    let events = h.store.events(outcome.ticket).await.unwrap();
    let reasons: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            crate::model::EventKind::BotHandoff { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, ["requested"]);
}
