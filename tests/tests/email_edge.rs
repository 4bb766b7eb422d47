//! The email-inbound edge and the router on what real mailboxes deliver: the same mail twice
//! without a Message-ID, mail the desk cannot read, and mail too large for a queue message.
//! In memory, through the real `EmailInbound` and `RouterHandler`.

use std::sync::Arc;

use jiff::Timestamp;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::email_inbound::{EmailInbound, Ingested, MAX_INLINE_QUEUE_BYTES, QUEUED_PREFIX};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::envelope::open;
use omnidesk_domain::inbound::{InboundMessage, InboundPointer};
use omnidesk_domain::memory::{ManualClock, MemoryBlobStore, MemoryQueue, MemoryStore, QueueSettings};
use omnidesk_domain::model::{Direction, TicketNumber};
use omnidesk_domain::ports::{BlobStore, CustomerStore, Queue, TicketStore};
use omnidesk_domain::router::UNREADABLE_TAG;
use omnidesk_local::poller::poll_once;

const DESK: &str = "support@desk.example";

struct Edge {
    edge: EmailInbound,
    router: RouterHandler,
    inbound: Arc<MemoryQueue>,
    blobs: Arc<MemoryBlobStore>,
    store: Arc<MemoryStore>,
}

fn edge() -> Edge {
    let config = DeskConfig::from_toml(&format!("[email]\naddress = \"{DESK}\"\n")).expect("config");
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_790_000_000).unwrap()));
    let store = Arc::new(MemoryStore::new());
    let inbound = Arc::new(MemoryQueue::with_dead_letter("inbound", clock.clone(), QueueSettings::default()));
    let outbound =
        Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), QueueSettings::default()));
    let blobs = Arc::new(MemoryBlobStore::default());
    let edge = EmailInbound::new(
        config.email.clone().expect("[email]"),
        blobs.clone(),
        inbound.clone(),
        clock.clone(),
    );
    let router =
        RouterHandler::new(&config, omnidesk_domain::memory::router_ports(store.clone(), outbound, clock))
            .with_blobs(blobs.clone());
    Edge { edge, router, inbound, blobs, store }
}

impl Edge {
    /// Hands every queued inbound message to the router, as the SQS trigger would; every one
    /// must succeed.
    async fn route_all(&self) {
        let queue: Arc<dyn Queue> = self.inbound.clone();
        while poll_once(&queue, "inbound", |event| self.router.handle(event)).await.expect("poll") > 0 {}
        assert_eq!(queue.depth().await.expect("depth").total(), 0, "a message failed");
    }

    fn queued(&self) -> Vec<String> {
        self.inbound.bodies()
    }
}

fn mail_without_message_id(received_by: &str) -> Vec<u8> {
    format!(
        "Received: by {received_by}; Mon, 23 Nov 2026 09:00:01 +0000\r\n\
         From: Li Wei <li.wei@example.com>\r\nTo: {DESK}\r\nSubject: Parcel\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Where is my parcel?\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn idempotency_a_mail_without_message_id_delivered_twice_has_one_key() {
    let e = edge();
    // Two receipts of one mail (SES retried, or two MX hosts took it): the receipt ids and
    // the Received lines differ; sender, Date, subject and body do not.
    let first = e.edge.ingest_raw("ses-1", mail_without_message_id("mx1.example")).await.unwrap();
    let second = e.edge.ingest_raw("ses-2", mail_without_message_id("mx2.example")).await.unwrap();
    let (Ingested::Queued { key: a, .. }, Ingested::Queued { key: b, .. }) = (&first, &second) else {
        panic!("{first:?} {second:?}");
    };
    assert_eq!(a, b);
    e.route_all().await;
    e.route_all().await;
    assert!(e.store.ticket(TicketNumber(1)).await.unwrap().is_some());
    let messages = e.store.messages(TicketNumber(1)).await.unwrap();
    assert_eq!(messages.iter().filter(|m| m.direction == Direction::Inbound).count(), 1);
    // Another mail of the same sender without a Message-ID is another message.
    let other =
        String::from_utf8(mail_without_message_id("mx1.example")).unwrap().replace("Where is", "Where was");
    let third = e.edge.ingest_raw("ses-3", other.into_bytes()).await.unwrap();
    assert!(matches!(&third, Ingested::Queued { key, .. } if key != a), "{third:?}");
}

#[tokio::test]
async fn unreadable_mail_opens_a_ticket_flagged_unreadable_with_the_raw_mail_attached() {
    let e = edge();
    let cases: [&[u8]; 3] = [
        b"this is not a mail at all",
        b"To: support@desk.example\r\nSubject: who am I\r\n\r\nNo From at all.\r\n",
        b"From: Li Wei\r\nTo: support@desk.example\r\nSubject: no address\r\n\r\nhello\r\n",
    ];
    for (n, raw) in cases.iter().enumerate() {
        let ingested = e.edge.ingest_raw(&format!("ses-{n}"), raw.to_vec()).await.unwrap();
        assert!(matches!(ingested, Ingested::Unreadable { .. }), "{ingested:?}");
        // Delivered twice: still one ticket.
        e.edge.ingest_raw(&format!("ses-again-{n}"), raw.to_vec()).await.unwrap();
    }
    e.route_all().await;
    let tickets = e.store.all_tickets();
    assert_eq!(tickets.len(), cases.len(), "one ticket per unreadable mail, however often delivered");
    let mut originals = Vec::new();
    for ticket in &tickets {
        assert!(ticket.tags.contains(UNREADABLE_TAG), "{ticket:?}");
        let messages = e.store.messages(ticket.number).await.unwrap();
        assert_eq!(messages.len(), 1, "no acknowledgement: nobody to send it to");
        let original = &messages[0].attachments[0];
        assert_eq!(original.name, "original.eml");
        originals.push(e.blobs.get(&original.key).await.unwrap().expect("the raw mail is kept"));
        // Its own placeholder customer, with no identity to link or write to.
        let customer = e.store.customer(&ticket.requester).await.unwrap().expect("placeholder");
        assert!(customer.identities.is_empty());
    }
    originals.sort();
    let mut raws: Vec<Vec<u8>> = cases.iter().map(|r| r.to_vec()).collect();
    raws.sort();
    assert_eq!(originals, raws);
    assert_eq!(e.store.all_customers().len(), cases.len());
}

#[tokio::test]
async fn unreadable_oversized_messages_travel_by_pointer_and_the_router_loads_them() {
    let e = edge();
    // A hundred long References, two hundred long recipient addresses, and 64 KiB of text
    // made of characters JSON must escape: over what a queue message may carry.
    let mut raw =
        "From: Li Wei <li.wei@example.com>\r\nSubject: Big\r\nMessage-ID: <big@example.com>\r\n".to_string();
    let long_domain = format!("{0}.{0}.{0}.example", "d".repeat(60));
    let people = |list: &str| -> String {
        (0..100)
            .map(|i| format!("<{}{i}@{list}{long_domain}>", "p".repeat(58)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    raw.push_str(&format!("To: {DESK}, {}\r\nCc: {}\r\n", people("to."), people("cc.")));
    let refs: Vec<String> = (0..100).map(|i| format!("<{}{i}@example.com>", "r".repeat(230))).collect();
    raw.push_str(&format!("References: {}\r\n", refs.join(" ")));
    raw.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    raw.push_str(&"\"\x01\\\x02".repeat(40_000));
    let ingested = e.edge.ingest_raw("ses-big", raw.into_bytes()).await.unwrap();
    assert!(matches!(ingested, Ingested::Queued { .. }), "{ingested:?}");

    let queued = e.queued();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].len() < MAX_INLINE_QUEUE_BYTES);
    let pointer: InboundPointer = open(&queued[0]).expect("a pointer");
    assert!(pointer.key.starts_with(QUEUED_PREFIX));
    let stored = e.blobs.get(&pointer.key).await.unwrap().expect("the message is kept");
    assert!(stored.len() > MAX_INLINE_QUEUE_BYTES);
    let message: InboundMessage = open(std::str::from_utf8(&stored).unwrap()).unwrap();
    assert!(!message.text.contains('\u{1}'), "C0 control characters are stripped");

    e.route_all().await;
    let ticket = e.store.all_tickets().pop().expect("a ticket");
    let messages = e.store.messages(ticket.number).await.unwrap();
    assert_eq!(messages[0].text, message.text);
}
