use super::*;
use crate::model::TicketNumber;

fn queued(number: u64, priority: Priority, queued_at: i64) -> QueuedTicket {
    QueuedTicket { ticket: TicketNumber(number), priority, queued_at: at(queued_at), needs: Needs::default() }
}

fn pairs(assignments: &[Assignment]) -> Vec<(u64, &str)> {
    assignments.iter().map(|a| (a.ticket.0, a.agent.as_str())).collect()
}

#[test]
fn reoffer_never_exceeds_capacity() {
    let agents = [Agent { capacity: 2, load: 1, ..agent("a") }, Agent { capacity: 1, load: 0, ..agent("b") }];
    let queue: Vec<_> = (1..=5).map(|n| queued(n, Priority::Normal, n as i64)).collect();
    let made = reoffer(FRONTLINE, &queue, &agents, at(100));
    // a has room for one, b for one: two assignments, the two oldest tickets.
    assert_eq!(pairs(&made), [(1, "b"), (2, "a")]);
}

#[test]
fn reoffer_serves_the_most_urgent_then_the_oldest() {
    let agents = [Agent { capacity: 3, ..agent("a") }];
    let queue = [
        queued(1, Priority::Normal, 1),
        queued(2, Priority::Low, 0),
        queued(3, Priority::Urgent, 9),
        queued(4, Priority::Normal, 0),
        queued(5, Priority::High, 5),
    ];
    let made = reoffer(FRONTLINE, &queue, &agents, at(100));
    assert_eq!(pairs(&made), [(3, "a"), (5, "a"), (4, "a")]);
}

#[test]
fn reoffer_takes_turns_between_equally_free_agents() {
    let agents = [agent("a"), agent("b")];
    let queue: Vec<_> = (1..=4).map(|n| queued(n, Priority::Normal, n as i64)).collect();
    let made = reoffer(FRONTLINE, &queue, &agents, at(100));
    assert_eq!(pairs(&made), [(1, "a"), (2, "b"), (3, "a"), (4, "b")]);
}

#[test]
fn reoffer_skips_a_ticket_nobody_fits_and_serves_the_next() {
    let agents = [Agent { languages: set(&["en"]), ..agent("a") }];
    let queue = [
        QueuedTicket { needs: needs(&[], Some("zh")), ..queued(1, Priority::Urgent, 0) },
        QueuedTicket { needs: needs(&["legal"], None), ..queued(2, Priority::High, 0) },
        queued(3, Priority::Normal, 0),
    ];
    assert_eq!(pairs(&reoffer(FRONTLINE, &queue, &agents, at(100))), [(3, "a")]);
}

#[test]
fn reoffer_assigns_a_ticket_listed_twice_once() {
    let agents = [agent("a"), agent("b")];
    let queue = [queued(7, Priority::Normal, 0), queued(7, Priority::Normal, 0)];
    assert_eq!(pairs(&reoffer(FRONTLINE, &queue, &agents, at(100))), [(7, "a")]);
}

#[test]
fn reoffer_with_nobody_online_or_free_assigns_nothing() {
    let queue = [queued(1, Priority::Urgent, 0)];
    let away = [Agent { presence: Presence::Away, ..agent("a") }];
    let full = [Agent { load: 3, ..agent("b") }];
    let other_team = [Agent { teams: set(&[TECHNICAL]), ..agent("c") }];
    for agents in [&away[..], &full, &other_team, &[]] {
        assert_eq!(reoffer(FRONTLINE, &queue, agents, at(100)), [], "{agents:?}");
    }
}

#[test]
fn reoffer_prefers_the_agent_who_just_came_online_with_the_lowest_load() {
    // An agent comes online empty-handed while a colleague is busy: they take the backlog
    // first, until their load matches.
    let agents = [Agent { load: 2, capacity: 5, ..agent("busy") }, Agent { capacity: 5, ..agent("fresh") }];
    let queue: Vec<_> = (1..=4).map(|n| queued(n, Priority::Normal, n as i64)).collect();
    let made = reoffer(FRONTLINE, &queue, &agents, at(100));
    assert_eq!(pairs(&made), [(1, "fresh"), (2, "fresh"), (3, "busy"), (4, "fresh")]);
}
