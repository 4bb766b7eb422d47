use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::model::{ChannelRef, MessageId};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + second).unwrap()
}

fn customer() -> Actor {
    Actor::Customer(CustomerId::new("cus_1"))
}

fn agent() -> Actor {
    Actor::Agent("li.na".into())
}

fn new_ticket() -> Ticket {
    Ticket::open(TicketNumber(7), Channel::Chat, "hello".into(), CustomerId::new("cus_1"), None, at(0)).0
}

fn message(author: AuthorKind, direction: Direction, visibility: Visibility) -> Message {
    Message {
        id: MessageId::new("msg_1"),
        ticket: TicketNumber(7),
        direction,
        author,
        author_id: None,
        visibility,
        text: "text".into(),
        attachments: vec![],
        channel_ref: ChannelRef::None,
        created_at: at(1),
        flags: Default::default(),
    }
}

fn customer_message() -> Message {
    message(AuthorKind::Customer, Direction::Inbound, Visibility::Public)
}

#[test]
fn opening_a_ticket_produces_version_one_and_a_created_event() {
    let (ticket, event) =
        Ticket::open(TicketNumber(1), Channel::Chat, "s".into(), CustomerId::new("cus_1"), None, at(0));
    assert_eq!(ticket.status, Status::New);
    assert_eq!(ticket.version, 1);
    assert_eq!(event.seq, 1);
    assert_eq!(event.kind.name(), "created");
}

#[test]
fn customer_message_reopens_pending_and_solved_tickets() {
    for from in [Status::Pending, Status::Solved] {
        let mut ticket = new_ticket();
        ticket.set_status(&agent(), from, at(1)).unwrap();
        let events = ticket.add_message(&customer(), &customer_message(), at(2)).unwrap();
        assert_eq!(ticket.status, Status::Open, "from {from}");
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].kind, EventKind::Status { from, to: Status::Open });
        assert_eq!(ticket.solved_at, None);
    }
}

#[test]
fn customer_message_keeps_new_open_and_on_hold() {
    for from in [Status::New, Status::Open, Status::OnHold] {
        let mut ticket = new_ticket();
        ticket.set_status(&agent(), from, at(1)).ok();
        let events = ticket.add_message(&customer(), &customer_message(), at(2)).unwrap();
        assert_eq!(ticket.status, from);
        assert_eq!(events.len(), 1);
    }
}

#[test]
fn message_to_closed_ticket_is_refused_so_the_router_opens_a_follow_up() {
    let mut ticket = new_ticket();
    ticket.set_status(&agent(), Status::Solved, at(1)).unwrap();
    ticket.set_status(&Actor::System, Status::Closed, at(2)).unwrap();
    let before = ticket.clone();
    assert_eq!(
        ticket.add_message(&customer(), &customer_message(), at(3)),
        Err(LifecycleError::Closed(TicketNumber(7)))
    );
    assert_eq!(ticket, before);
}

#[test]
fn agents_cannot_close_and_nobody_returns_to_new() {
    let mut ticket = new_ticket();
    ticket.set_status(&agent(), Status::Solved, at(1)).unwrap();
    assert!(matches!(
        ticket.set_status(&agent(), Status::Closed, at(2)),
        Err(LifecycleError::Forbidden { .. })
    ));
    assert!(matches!(ticket.set_status(&agent(), Status::New, at(2)), Err(LifecycleError::Forbidden { .. })));
    assert!(matches!(
        ticket.set_status(&customer(), Status::Open, at(2)),
        Err(LifecycleError::Forbidden { .. })
    ));
}

#[test]
fn only_solved_tickets_close() {
    let mut ticket = new_ticket();
    ticket.set_status(&agent(), Status::Open, at(1)).unwrap();
    assert!(ticket.set_status(&Actor::System, Status::Closed, at(2)).is_err());
    ticket.set_status(&agent(), Status::Solved, at(3)).unwrap();
    ticket.set_status(&Actor::System, Status::Closed, at(4)).unwrap();
    assert_eq!(ticket.closed_at, Some(at(4)));
}

#[test]
fn assigning_a_new_ticket_opens_it() {
    let mut ticket = new_ticket();
    let events = ticket.assign(&agent(), Some("li.na".into()), at(1)).unwrap();
    assert_eq!(events.iter().map(|e| e.kind.name()).collect::<Vec<_>>(), ["assigned", "status"]);
    assert_eq!(ticket.status, Status::Open);
}

#[test]
fn nobody_may_impersonate_another_author() {
    let mut ticket = new_ticket();
    let agent_reply = message(AuthorKind::Agent, Direction::Outbound, Visibility::Public);
    assert!(ticket.add_message(&customer(), &agent_reply, at(1)).is_err());
    assert!(ticket.add_message(&agent(), &customer_message(), at(1)).is_err());
    assert_eq!(ticket.version, 1);
}

// --- property tests over random event sequences -------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    CustomerWrites,
    AgentReplies,
    AgentNote,
    SystemAck,
    SetStatus(Role, Status),
    Assign(Option<&'static str>),
    Priority(Role, Priority),
}

fn actor_for(role: Role) -> Actor {
    match role {
        Role::Customer => customer(),
        Role::Agent => agent(),
        Role::System => Actor::System,
    }
}

fn op() -> impl Strategy<Value = Op> {
    let role = prop_oneof![Just(Role::Customer), Just(Role::Agent), Just(Role::System)];
    let priority = prop_oneof![
        Just(Priority::Low),
        Just(Priority::Normal),
        Just(Priority::High),
        Just(Priority::Urgent)
    ];
    prop_oneof![
        Just(Op::CustomerWrites),
        Just(Op::AgentReplies),
        Just(Op::AgentNote),
        Just(Op::SystemAck),
        (role.clone(), proptest::sample::select(Status::ALL.to_vec())).prop_map(|(r, s)| Op::SetStatus(r, s)),
        proptest::option::of(proptest::sample::select(vec!["li.na", "wang.fang"])).prop_map(Op::Assign),
        (role, priority).prop_map(|(r, p)| Op::Priority(r, p)),
    ]
}

fn apply(ticket: &mut Ticket, op: &Op, t: Timestamp) -> Result<Vec<TicketEvent>, LifecycleError> {
    match op {
        Op::CustomerWrites => ticket.add_message(&customer(), &customer_message(), t),
        Op::AgentReplies => ticket.add_message(
            &agent(),
            &message(AuthorKind::Agent, Direction::Outbound, Visibility::Public),
            t,
        ),
        Op::AgentNote => ticket.add_message(
            &agent(),
            &message(AuthorKind::Agent, Direction::Outbound, Visibility::Internal),
            t,
        ),
        Op::SystemAck => ticket.add_message(
            &Actor::System,
            &message(AuthorKind::System, Direction::Outbound, Visibility::Public),
            t,
        ),
        Op::SetStatus(role, to) => {
            ticket.set_status(&actor_for(*role), *to, t).map(|e| e.into_iter().collect())
        }
        Op::Assign(to) => ticket.assign(&agent(), to.map(String::from), t),
        Op::Priority(role, to) => {
            ticket.set_priority(&actor_for(*role), *to, t).map(|e| e.into_iter().collect())
        }
    }
}

/// Independent statement of which status moves are legal at all, whoever asks.
fn legal_move(from: Status, to: Status) -> bool {
    use Status::*;
    from == to
        || match (from, to) {
            (Closed, _) | (_, New) => false,
            (Solved, Closed) => true,
            (_, Closed) => false,
            _ => true,
        }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_sequences_keep_every_invariant(ops in proptest::collection::vec(op(), 1..60)) {
        let mut ticket = new_ticket();
        let mut left_new = false;
        for (i, op) in ops.iter().enumerate() {
            let before = ticket.clone();
            let t = at(i as i64 + 1);
            match apply(&mut ticket, op, t) {
                Err(_) => prop_assert_eq!(&ticket, &before, "a refused change must change nothing"),
                Ok(events) => {
                    // Versions only grow, by exactly one per event, and events are numbered by them.
                    prop_assert_eq!(ticket.version, before.version + events.len() as u64);
                    for (k, event) in events.iter().enumerate() {
                        prop_assert_eq!(event.seq, before.version + 1 + k as u64);
                        prop_assert_eq!(event.at, t);
                    }
                    // Every change produced exactly one event: a status change has one status event.
                    let status_events: Vec<_> = events.iter().filter_map(|e| match e.kind {
                        EventKind::Status { from, to } => Some((from, to)),
                        _ => None,
                    }).collect();
                    if ticket.status == before.status {
                        prop_assert!(status_events.is_empty());
                    } else {
                        prop_assert_eq!(status_events, vec![(before.status, ticket.status)]);
                    }
                    if ticket.assignee != before.assignee {
                        prop_assert_eq!(events.iter().filter(|e| e.kind.name() == "assigned").count(), 1);
                    }
                    if ticket.priority != before.priority {
                        prop_assert_eq!(events.iter().filter(|e| e.kind.name() == "priority").count(), 1);
                    }
                    if events.is_empty() {
                        prop_assert_eq!(&ticket, &before);
                    }
                }
            }
            // No illegal state is reachable.
            prop_assert!(legal_move(before.status, ticket.status), "{} -> {}", before.status, ticket.status);
            left_new |= ticket.status != Status::New;
            prop_assert!(!(left_new && ticket.status == Status::New));
            prop_assert_eq!(ticket.closed_at.is_some(), ticket.status == Status::Closed);
            if ticket.status == Status::Solved {
                prop_assert!(ticket.solved_at.is_some());
            }
            if before.status == Status::Closed {
                prop_assert_eq!(&ticket, &before);
            }
        }
    }
}

#[test]
fn a_team_change_is_one_escalated_event_and_customers_cannot_make_it() {
    let mut ticket = new_ticket();
    let version = ticket.version;
    let at = ticket.created_at;
    let event =
        ticket.set_team(&Actor::System, Some("technical".into()), "routed by default".into(), at).unwrap();
    assert!(matches!(
        event.map(|e| e.kind),
        Some(EventKind::Escalated { from_team: None, to_team: Some(ref t), .. }) if t == "technical"
    ));
    assert_eq!(ticket.version, version + 1);
    assert_eq!(ticket.set_team(&Actor::System, Some("technical".into()), "again".into(), at).unwrap(), None);
    let customer = Actor::Customer(ticket.requester.clone());
    assert!(ticket.set_team(&customer, None, "mine".into(), at).is_err());
}
