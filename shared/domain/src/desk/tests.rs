//! The desk's rules on one in-memory store; the agent API scenarios in `tests/` drive the
//! same workflows over HTTP on both backends.

use std::sync::Arc;

use jiff::Timestamp;

use super::*;
use crate::memory::{ManualClock, MemoryStore};
use crate::model::{Actor, Channel, CustomerId, Status, Ticket, TicketNumber};

fn desk() -> (AgentDesk, Arc<MemoryStore>) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
    let store = Arc::new(MemoryStore::new());
    let ports = crate::memory::desk_ports(store.clone(), clock);
    (AgentDesk::new(ports, None, EmailRules::default()), store)
}

async fn open_ticket(store: &MemoryStore, number: u64) -> Ticket {
    let at = Timestamp::from_second(1_795_424_000).unwrap();
    let (ticket, created) = Ticket::open(
        TicketNumber(number),
        Channel::Chat,
        "parcel".into(),
        CustomerId::new("cus_1"),
        None,
        at,
    );
    let commit = TicketCommit {
        ticket: ticket.clone(),
        expected_version: None,
        messages: Vec::new(),
        events: vec![created],
        thread_claims: Vec::new(),
        idempotency: None,
    };
    store.commit(commit).await.unwrap();
    ticket
}

fn staff() -> Staff {
    Staff("li".into())
}

#[tokio::test]
async fn a_patch_from_a_stale_version_is_a_conflict_and_changes_nothing() {
    let (desk, store) = desk();
    let ticket = open_ticket(&store, 1).await;
    let patch =
        TicketPatch { version: ticket.version, status: Some(Status::Pending), ..TicketPatch::default() };
    let patched = desk.patch(&staff(), TicketNumber(1), patch.clone()).await.unwrap();
    assert_eq!(patched.status, Status::Pending);
    let again = desk.patch(&staff(), TicketNumber(1), patch).await;
    assert!(matches!(again, Err(DeskError::Conflict(_))), "{again:?}");
    assert_eq!(store.ticket(TicketNumber(1)).await.unwrap().unwrap().version, patched.version);
}

#[tokio::test]
async fn a_reply_repeated_with_its_idempotency_key_is_written_once() {
    let (desk, store) = desk();
    open_ticket(&store, 1).await;
    let first = desk.reply(&staff(), TicketNumber(1), "On its way", false, None, Some("k-1")).await.unwrap();
    let again = desk.reply(&staff(), TicketNumber(1), "On its way", false, None, Some("k-1")).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(store.messages(TicketNumber(1)).await.unwrap().len(), 1);
    // No chat message in the thread: nowhere to send it.
    assert_eq!(first.delivery, Delivery::Undeliverable);
}

#[tokio::test]
async fn merging_closes_the_source_and_repeating_it_changes_nothing() {
    let (desk, store) = desk();
    open_ticket(&store, 1).await;
    open_ticket(&store, 2).await;
    assert!(matches!(
        desk.merge(&staff(), TicketNumber(1), TicketNumber(1), MergeScope::SameCustomer).await,
        Err(DeskError::Invalid(_))
    ));
    let target =
        desk.merge(&staff(), TicketNumber(2), TicketNumber(1), MergeScope::SameCustomer).await.unwrap();
    assert!(target.merged_from.contains(&TicketNumber(2)));
    let source = store.ticket(TicketNumber(2)).await.unwrap().unwrap();
    assert_eq!((source.status, source.merged_into), (Status::Closed, Some(TicketNumber(1))));
    let version = store.ticket(TicketNumber(1)).await.unwrap().unwrap().version;
    desk.merge(&staff(), TicketNumber(2), TicketNumber(1), MergeScope::SameCustomer).await.unwrap();
    assert_eq!(store.ticket(TicketNumber(1)).await.unwrap().unwrap().version, version);
}

#[tokio::test]
async fn empty_or_oversized_replies_and_unknown_agents_are_refused() {
    let (desk, store) = desk();
    let ticket = open_ticket(&store, 1).await;
    for text in ["", "   ", &"x".repeat(reply::MAX_REPLY_BYTES + 1)] {
        let refused = desk.reply(&staff(), TicketNumber(1), text, false, None, None).await;
        assert!(matches!(refused, Err(DeskError::Invalid(_))));
    }
    let nobody = desk.assign(&staff(), TicketNumber(1), Some("ghost".into()), ticket.version).await;
    assert!(matches!(nobody, Err(DeskError::Invalid(_))), "{nobody:?}");
}

fn agent(id: &str, skills: &[&str], presence: crate::assignment::Presence) -> crate::assignment::Agent {
    crate::assignment::Agent {
        id: id.into(),
        teams: ["complaints".to_owned()].into(),
        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        languages: ["zh".to_owned()].into(),
        capacity: 2,
        load: 0,
        presence,
        last_assigned_at: None,
    }
}

#[tokio::test]
async fn a_waiting_ticket_is_offered_only_to_an_agent_with_the_skills_its_routing_asked_for() {
    use crate::assignment::Presence;
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
    let store = Arc::new(MemoryStore::new());
    let mut ports = crate::memory::desk_ports(store.clone(), clock);
    let profiles =
        [agent("generalist", &[], Presence::Offline), agent("refunder", &["refunds"], Presence::Offline)];
    ports.agents = Arc::new(crate::roster::Roster::new(profiles, store.clone()));
    let desk = AgentDesk::new(ports, None, EmailRules::default());
    let mut ticket = open_ticket(&store, 1).await;
    let version = ticket.version;
    let event =
        ticket.set_team(&Actor::System, Some("complaints".into()), "routed".into(), ticket.created_at);
    ticket.skills = ["refunds".to_owned()].into();
    desk.save(ticket, version, event.unwrap().into_iter().collect()).await.unwrap();

    let (_, offered) = desk.set_presence("generalist", Presence::Online).await.unwrap();
    assert!(offered.is_empty(), "the generalist lacks the skill: {offered:?}");
    let (_, offered) = desk.set_presence("refunder", Presence::Online).await.unwrap();
    assert_eq!(offered.iter().map(|a| a.agent.as_str()).collect::<Vec<_>>(), ["refunder"]);
    let assigned = store.ticket(TicketNumber(1)).await.unwrap().unwrap();
    assert_eq!(assigned.assignee.as_deref(), Some("refunder"));
}

#[tokio::test]
async fn input_hygiene_an_idempotency_key_reused_with_a_different_body_is_refused() {
    let (desk, store) = desk();
    open_ticket(&store, 1).await;
    desk.reply(&staff(), TicketNumber(1), "On its way", false, None, Some("k-1")).await.unwrap();
    for (text, internal) in [("Refund sent", false), ("On its way", true)] {
        let reused = desk.reply(&staff(), TicketNumber(1), text, internal, None, Some("k-1")).await;
        assert!(matches!(reused, Err(DeskError::KeyReused(_))), "{reused:?}");
    }
    // The same request again (spacing aside: the stored text is what counts) is a retry,
    // whatever version it names: the version is a precondition, not what the key writes.
    desk.reply(&staff(), TicketNumber(1), " On its way\n", false, None, Some("k-1")).await.unwrap();
    desk.reply(&staff(), TicketNumber(1), "On its way", false, Some(99), Some("k-1")).await.unwrap();
    assert_eq!(store.messages(TicketNumber(1)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn input_hygiene_agent_tags_categories_and_replies_are_sanitised_and_invisible_ones_refused() {
    let (desk, store) = desk();
    let ticket = open_ticket(&store, 1).await;
    let patch = TicketPatch {
        version: ticket.version,
        tags: Some(["vip\u{202E}".to_owned(), "\u{200B}refund".to_owned()].into()),
        category: Some(Some("Billing\u{0}".to_owned())),
        ..TicketPatch::default()
    };
    let patched = desk.patch(&staff(), TicketNumber(1), patch).await.unwrap();
    assert_eq!(patched.tags, ["refund".to_owned(), "vip".to_owned()].into());
    assert_eq!(patched.category.as_deref(), Some("Billing"));
    for patch in [
        TicketPatch {
            version: patched.version,
            tags: Some(["\u{2066}\u{2069}".to_owned()].into()),
            ..Default::default()
        },
        TicketPatch {
            version: patched.version,
            category: Some(Some("\u{200B}".to_owned())),
            ..Default::default()
        },
    ] {
        let refused = desk.patch(&staff(), TicketNumber(1), patch).await;
        assert!(
            matches!(&refused, Err(DeskError::Invalid(m)) if m.ends_with("must contain visible text")),
            "{refused:?}"
        );
    }
    let refused = desk.reply(&staff(), TicketNumber(1), "\u{202E}\u{200B}", true, None, None).await;
    assert!(
        matches!(&refused, Err(DeskError::Invalid(m)) if m == "text: must contain visible text"),
        "{refused:?}"
    );
    desk.reply(&staff(), TicketNumber(1), "note\u{1B}[0m\u{202E}", true, None, None).await.unwrap();
    assert_eq!(store.messages(TicketNumber(1)).await.unwrap()[0].text, "note[0m");
}
