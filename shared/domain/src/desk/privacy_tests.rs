//! Export and erasure on one in-memory store, with the router and the dispatcher that feed
//! and drain the same queue.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::dispatch::{DispatchOutcome, Dispatcher, DispatcherPorts};
use crate::envelope::open;
use crate::inbound::{InboundMessage, Sender, Source};
use crate::memory::{
    ManualClock, MemoryBlobStore, MemoryQueue, MemoryRateLimiter, MemoryStore, QueueSettings,
    RecordingNotifier, SequentialIds,
};
use crate::model::{AttachmentRef, EventKind, TicketNumber, Visibility};
use crate::outbound::OutboundJob;
use crate::router::{Acknowledgements, RouterPorts, TicketRouter};

pub(super) struct World {
    pub(super) clock: Arc<ManualClock>,
    pub(super) store: Arc<MemoryStore>,
    pub(super) outbound: Arc<MemoryQueue>,
    pub(super) blobs: Arc<MemoryBlobStore>,
    pub(super) router: TicketRouter,
    pub(super) desk: AgentDesk,
}

pub(super) fn world() -> World {
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let blobs = Arc::new(MemoryBlobStore::default());
    // One id source: the router's and the desk's message ids must not collide.
    let ids = Arc::new(SequentialIds::default());
    let router = TicketRouter::new(
        RouterPorts {
            tickets: store.clone(),
            customers: store.clone(),
            idempotency: store.clone(),
            outbound: outbound.clone(),
            limiter: Arc::new(MemoryRateLimiter::default()),
            agents: Arc::new(crate::roster::Roster::new(Vec::new(), store.clone())),
            clock: clock.clone(),
            ids: ids.clone(),
        },
        Acknowledgements::default(),
    );
    let ports = DeskPorts {
        tickets: store.clone(),
        customers: store.clone(),
        agents: Arc::new(crate::roster::Roster::new(Vec::new(), store.clone())),
        idempotency: store.clone(),
        outbound: outbound.clone(),
        blobs: blobs.clone(),
        clock: clock.clone(),
        ids,
    };
    let desk = AgentDesk::new(ports, None, EmailRules::default());
    World { clock, store, outbound, blobs, router, desk }
}

pub(super) fn chat(world: &World, message_id: &str, text: &str) -> InboundMessage {
    InboundMessage {
        idempotency_key: InboundMessage::chat_idempotency_key("web", message_id),
        source: Source::Chat {
            inbox: "web".into(),
            conversation_id: "conv-private".into(),
            message_id: message_id.into(),
        },
        sender: Sender {
            chat_visitor: Some("visitor-1".into()),
            name: Some("Li Wei".into()),
            ..Sender::default()
        },
        text: text.into(),
        attachments: vec![],
        sent_at: None,
        received_at: world.clock.now(),
    }
}

pub(super) fn admin() -> Staff {
    Staff("adam".into())
}

/// The jobs waiting in the outbound queue, taken off it.
async fn queued_jobs(world: &World) -> Vec<OutboundJob> {
    let received = world.outbound.receive(10).await.unwrap();
    received.iter().map(|r| open::<OutboundJob>(&r.body).unwrap()).collect()
}

#[tokio::test]
async fn after_erasure_a_job_for_that_customer_in_the_queue_is_dropped() {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "Where is my parcel?")).await.unwrap();
    let reply = world
        .desk
        .reply(&Staff("li".into()), routed.ticket, "It left today.", false, None, None)
        .await
        .unwrap();
    assert_eq!(reply.delivery, Delivery::Queued);

    let report = world.desk.erase(&admin(), &routed.customer).await.unwrap();
    assert_eq!(report.queues.outbound_jobs_dropped_on_receipt, 2, "the acknowledgement and the reply");

    let notifier = Arc::new(RecordingNotifier::default());
    let dispatcher = Dispatcher::new(DispatcherPorts {
        idempotency: world.store.clone(),
        notifier: notifier.clone(),
        clock: world.clock.clone(),
        ids: Arc::new(SequentialIds::default()),
    });
    let jobs = queued_jobs(&world).await;
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(dispatcher.dispatch(job).await.unwrap(), DispatchOutcome::DroppedErased);
    }
    assert!(notifier.delivered().is_empty(), "nothing reaches an erased customer");
}

#[tokio::test]
async fn after_erasure_the_ticket_takes_no_reply_note_tag_or_category_and_stores_nothing_new() {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "Where is my parcel?")).await.unwrap();
    world.desk.erase(&admin(), &routed.customer).await.unwrap();
    let before = world.store.messages(routed.ticket).await.unwrap().len();

    for internal in [false, true] {
        let refused = world
            .desk
            .reply(&Staff("li".into()), routed.ticket, "Li Wei called again", internal, None, None)
            .await
            .unwrap_err();
        assert!(matches!(&refused, DeskError::Unsendable(why) if why.contains("erased")), "{refused:?}");
    }
    assert_eq!(world.store.messages(routed.ticket).await.unwrap().len(), before, "nothing stored");

    let ticket = world.store.ticket(routed.ticket).await.unwrap().unwrap();
    let tags = TicketPatch {
        version: ticket.version,
        tags: Some(BTreeSet::from(["li-wei".to_owned()])),
        ..TicketPatch::default()
    };
    assert!(matches!(world.desk.patch(&admin(), routed.ticket, tags).await, Err(DeskError::Unsendable(_))));
    // Closing it is still fine: status carries no text.
    let close = TicketPatch {
        version: ticket.version,
        status: Some(crate::model::Status::Solved),
        ..TicketPatch::default()
    };
    world.desk.patch(&admin(), routed.ticket, close).await.unwrap();
}

#[tokio::test]
async fn erasure_clears_tags_and_category_and_a_second_run_finds_nothing_left() {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "Refund for Li Wei")).await.unwrap();
    let ticket = world.store.ticket(routed.ticket).await.unwrap().unwrap();
    let patch = TicketPatch {
        version: ticket.version,
        tags: Some(BTreeSet::from(["li-wei-vip".to_owned()])),
        category: Some(Some("refund-li-wei".into())),
        ..TicketPatch::default()
    };
    world.desk.patch(&admin(), routed.ticket, patch).await.unwrap();

    let report = world.desk.erase(&admin(), &routed.customer).await.unwrap();
    assert_eq!((report.tickets, report.passes), (1, 2), "one pass erases, the next finds nothing");
    for kind in ["ticket", "message", "customer", "identity_claim", "idempotency_record", "audit_entry"] {
        assert!(report.table.contains_key(kind), "{kind} missing from {:?}", report.table);
    }
    let ticket = world.store.ticket(routed.ticket).await.unwrap().unwrap();
    assert!(ticket.tags.is_empty() && ticket.category.is_none(), "{ticket:?}");
    assert_eq!(ticket.subject, ERASED_TEXT);
    assert!(ticket.erased_at.is_some());

    let again = world.desk.erase(&admin(), &routed.customer).await.unwrap();
    assert_eq!((again.tickets, again.messages, again.passes), (0, 0, 1), "{again:?}");
    assert_eq!(again.table.keys().collect::<Vec<_>>(), vec!["audit_entry"]);
}

#[tokio::test]
async fn erasure_clears_tag_and_category_names_from_the_ticket_events_too() {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "Refund please")).await.unwrap();
    let ticket = world.store.ticket(routed.ticket).await.unwrap().unwrap();
    let patch = TicketPatch {
        version: ticket.version,
        tags: Some(BTreeSet::from(["li-wei-vip".to_owned(), "neighbour-of-zhang".to_owned()])),
        category: Some(Some("refund-li-wei".into())),
        ..TicketPatch::default()
    };
    let patched = world.desk.patch(&admin(), routed.ticket, patch).await.unwrap();
    let events_before = world.store.events(routed.ticket).await.unwrap().len();
    let patch =
        TicketPatch { version: patched.version, tags: Some(BTreeSet::new()), ..TicketPatch::default() };
    world.desk.patch(&admin(), routed.ticket, patch).await.unwrap();

    let report = world.desk.erase(&admin(), &routed.customer).await.unwrap();
    let dump = world.store.dump();
    for typed in ["li-wei-vip", "neighbour-of-zhang", "refund-li-wei"] {
        assert!(!dump.contains(typed), "{typed:?} survived erasure in {dump}");
    }
    // The events stay where they were (analytics still counts tag changes), names replaced.
    let events = world.store.events(routed.ticket).await.unwrap();
    assert!(events.len() > events_before, "no event was dropped");
    let tags: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Tags { added, removed } => Some((added.len(), removed.len())),
            _ => None,
        })
        .collect();
    assert_eq!(tags, vec![(2, 0), (0, 2)]);
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Category { from: None, to: Some(t) } if t == ERASED_TEXT))
    );
    assert_eq!(report.table.get("event"), Some(&3), "{report:?}");
}

#[tokio::test]
async fn thread_keys_are_stored_as_digests_so_erasure_leaves_no_conversation_id() {
    let world = world();
    let routed = world.router.route(&chat(&world, "m1", "hi")).await.unwrap();
    world.desk.erase(&admin(), &routed.customer).await.unwrap();
    let dump = world.store.dump();
    assert!(!dump.contains("conv-private"), "a thread key names the conversation: {dump}");
    assert!(!dump.contains("Li Wei") && !dump.contains("visitor-1"), "{dump}");
}

#[tokio::test]
async fn export_has_no_internal_note_and_links_attachments_for_a_while() {
    let world = world();
    let mut inbound = chat(&world, "m1", "Photo of the damage attached");
    let key = "attachments/receipt-1/abc123";
    world.blobs.put(key, b"jpeg".to_vec(), "image/jpeg").await.unwrap();
    inbound.attachments = vec![AttachmentRef {
        key: key.into(),
        name: "damage.jpg".into(),
        content_type: "image/jpeg".into(),
        size: 4,
        content_id: None,
        inline: false,
        quarantined: false,
    }];
    let routed = world.router.route(&inbound).await.unwrap();
    let li = Staff("li".into());
    world
        .desk
        .reply(&li, routed.ticket, "Customer sounds like Mr Zhang next door", true, None, None)
        .await
        .unwrap();
    world.desk.reply(&li, routed.ticket, "We will replace it.", false, None, None).await.unwrap();

    let export = world.desk.export(&admin(), &routed.customer).await.unwrap();
    let text = serde_json::to_string(&export).unwrap();
    assert!(!text.contains("Mr Zhang"), "an internal note was exported: {text}");
    assert!(text.contains("We will replace it."));
    let ticket = &export.tickets[0];
    assert!(ticket.events.iter().all(|e| !matches!(e.kind, EventKind::MessageOut { internal: true, .. })));
    let first = &ticket.messages[0];
    assert_eq!(first.attachments.len(), 1);
    let file = &first.attachments[0];
    assert!(file.url.starts_with("/local/blobs/attachments/receipt-1/abc123?expires="), "{}", file.url);
    assert_eq!(file.expires_at, world.clock.now() + EXPORT_LINK_TTL);
    assert!(!text.contains("\"key\""), "blob keys stay inside: {text}");
    let _ = Visibility::Public;
}

#[tokio::test]
async fn a_message_received_before_erasure_is_dropped_and_one_written_after_opens_a_new_ticket() {
    let world = world();
    let first = world.router.route(&chat(&world, "m1", "Where is my parcel?")).await.unwrap();
    // Received by the webhook now, but still in the queue when the erasure runs.
    let waiting = chat(&world, "m2", "My address is 88 Nanjing Road");
    world.clock.advance(Duration::from_secs(60));
    world.desk.erase(&admin(), &first.customer).await.unwrap();

    world.clock.advance(Duration::from_secs(60));
    let dropped = world.router.route(&waiting).await.unwrap();
    assert!(dropped.dropped, "{dropped:?}");
    assert_eq!(world.store.all_customers().len(), 1, "the dropped message re-created nobody");
    assert!(!world.store.dump().contains("Nanjing"));

    // The person writes again after the erasure: a new contact, not linked to the erased ticket.
    let again = world.router.route(&chat(&world, "m3", "Hello again")).await.unwrap();
    assert!(again.opened && !again.dropped);
    assert_ne!(again.ticket, first.ticket);
    assert_ne!(again.customer, first.customer);
    let ticket = world.store.ticket(again.ticket).await.unwrap().unwrap();
    assert_eq!(ticket.follow_up_of, None);
    let next = world.router.route(&chat(&world, "m4", "Still there?")).await.unwrap();
    assert_eq!(next.ticket, again.ticket, "the conversation now continues the new ticket");
    assert_eq!(world.store.messages(TicketNumber(first.ticket.0)).await.unwrap().len(), 2, "m1 and its ack");
}
