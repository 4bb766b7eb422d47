//! The SLA engine: configuration, `apply` on each kind of change, the agent view, and the
//! sweep of one ticket. Instants are Shanghai civil times on the default `business`
//! calendar (Mon–Fri 09:00–18:00) unless a test says otherwise.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::*;
use crate::model::{
    Actor, AuthorKind, Channel, ChannelRef, CustomerId, Direction, EventKind, Message, MessageId, Priority,
    Status, Ticket, TicketEvent, TicketNumber, Visibility,
};

// 2026-11-27 is a Friday.
const FRIDAY: Date = date(2026, 11, 27);
const MONDAY: Date = date(2026, 11, 30);
const TUESDAY: Date = date(2026, 12, 1);

pub(super) fn sh(d: Date, h: i8, m: i8) -> Timestamp {
    d.at(h, m, 0, 0).in_tz("Asia/Shanghai").unwrap().timestamp()
}

/// Defaults, with one email policy per priority: first reply 60, next reply 120, resolution
/// 600 business minutes; a complaints team with its own resolution target.
pub(super) fn config() -> SlaConfig {
    let policy = |priority, team: Option<&str>, first, next, resolution| PolicySpec {
        priority,
        team: team.map(str::to_owned),
        first_reply_minutes: first,
        next_reply_minutes: next,
        resolution_minutes: resolution,
        ..PolicySpec::default()
    };
    SlaConfig {
        policies: vec![
            policy(Some(Priority::Normal), None, Some(60), Some(120), Some(600)),
            policy(Some(Priority::High), None, Some(30), Some(60), Some(300)),
            policy(Some(Priority::Urgent), None, Some(60), Some(60), Some(240)),
            policy(None, Some("complaints"), None, None, Some(1_440)),
        ],
        ..SlaConfig::default()
    }
}

pub(super) fn policies() -> SlaPolicies {
    config().validate().unwrap()
}

pub(super) fn open(policies: &SlaPolicies, at: Timestamp) -> Ticket {
    let (mut ticket, created) =
        Ticket::open(TicketNumber(7), Channel::Email, "Parcel".into(), CustomerId::new("cus_1"), None, at);
    let mut events = vec![created];
    events.extend(
        ticket.add_message(&customer(), &message(Direction::Inbound, AuthorKind::Customer, at), at).unwrap(),
    );
    policies.apply(&mut ticket, &events, None);
    ticket
}

fn customer() -> Actor {
    Actor::Customer(CustomerId::new("cus_1"))
}

fn agent() -> Actor {
    Actor::Agent("li.na".into())
}

fn message(direction: Direction, author: AuthorKind, at: Timestamp) -> Message {
    Message {
        id: MessageId::new(format!("msg_{}", at.as_second())),
        ticket: TicketNumber(7),
        direction,
        author,
        author_id: None,
        visibility: Visibility::Public,
        text: "text".into(),
        attachments: vec![],
        channel_ref: ChannelRef::None,
        created_at: at,
        flags: Default::default(),
    }
}

pub(super) fn reply(policies: &SlaPolicies, ticket: &mut Ticket, at: Timestamp, visibility: Visibility) {
    let message = Message { visibility, ..message(Direction::Outbound, AuthorKind::Agent, at) };
    let events = ticket.add_message(&agent(), &message, at).unwrap();
    policies.apply(ticket, &events, None);
}

fn customer_writes(policies: &SlaPolicies, ticket: &mut Ticket, at: Timestamp) {
    let events =
        ticket.add_message(&customer(), &message(Direction::Inbound, AuthorKind::Customer, at), at).unwrap();
    policies.apply(ticket, &events, None);
}

fn status(policies: &SlaPolicies, ticket: &mut Ticket, to: Status, at: Timestamp) {
    let events: Vec<TicketEvent> = ticket.set_status(&agent(), to, at).unwrap().into_iter().collect();
    policies.apply(ticket, &events, None);
}

fn due(ticket: &Ticket, kind: TimerKind) -> Timestamp {
    ticket.sla.timer(kind).unwrap().due_at
}

#[test]
fn a_ticket_opened_friday_1755_with_a_one_hour_first_reply_is_due_monday_0955() {
    let policies = policies();
    let ticket = open(&policies, sh(FRIDAY, 17, 55));
    assert_eq!(due(&ticket, TimerKind::FirstReply), sh(MONDAY, 9, 55));
    assert_eq!(ticket.sla.policy.as_deref(), Some("policies[0]"));
    assert_eq!(ticket.sla.calendar.as_deref(), Some(BUSINESS_CALENDAR));
    // The sweeper's first look is the 80 % warning: 48 business minutes in.
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 9, 43)));
}

#[test]
fn a_holiday_moves_the_deadline_further() {
    let mut config = config();
    let mut business = config.calendars.get(BUSINESS_CALENDAR).cloned().unwrap_or_else(|| CalendarSpec {
        time_zone: DEFAULT_TIME_ZONE.into(),
        always_open: false,
        hours: WeeklyHours::weekdays(vec![Interval::new(
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(18, 0, 0, 0),
        )]),
        holidays: vec![],
        make_up_days: vec![],
    });
    business.holidays.push(MONDAY);
    config.calendars.insert(BUSINESS_CALENDAR.into(), business);
    let policies = config.validate().unwrap();
    let ticket = open(&policies, sh(FRIDAY, 17, 55));
    assert_eq!(due(&ticket, TimerKind::FirstReply), sh(TUESDAY, 9, 55));
}

#[test]
fn urgent_runs_on_the_24x7_calendar_and_is_due_in_exactly_one_hour() {
    let policies = policies();
    let mut ticket = open(&policies, sh(FRIDAY, 17, 55));
    let events: Vec<_> =
        ticket.set_priority(&agent(), Priority::Urgent, sh(FRIDAY, 17, 55)).unwrap().into_iter().collect();
    policies.apply(&mut ticket, &events, None);
    assert_eq!(ticket.sla.calendar.as_deref(), Some(ALWAYS_OPEN_CALENDAR));
    assert_eq!(due(&ticket, TimerKind::FirstReply), sh(FRIDAY, 18, 55));
    assert_eq!(due(&ticket, TimerKind::Resolution), sh(FRIDAY, 21, 55));
}

#[test]
fn pending_for_three_business_hours_moves_the_resolution_deadline_by_three_business_hours() {
    let policies = policies();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    let before = due(&ticket, TimerKind::Resolution);
    assert_eq!(before, sh(TUESDAY, 10, 0), "600 business minutes");
    reply(&policies, &mut ticket, sh(MONDAY, 9, 30), Visibility::Public);
    status(&policies, &mut ticket, Status::Pending, sh(MONDAY, 10, 0));
    assert_eq!(ticket.sla.timer(TimerKind::Resolution).unwrap().state, TimerState::Paused);
    assert_eq!(ticket.due_at, None, "a paused ticket is out of the due index");
    customer_writes(&policies, &mut ticket, sh(MONDAY, 13, 0));
    assert_eq!(ticket.status, Status::Open);
    assert_eq!(due(&ticket, TimerKind::Resolution), sh(TUESDAY, 13, 0));
}

#[test]
fn an_agent_reply_meets_first_reply_and_the_next_customer_message_starts_next_reply() {
    let policies = policies();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    reply(&policies, &mut ticket, sh(MONDAY, 9, 10), Visibility::Internal);
    assert_eq!(
        ticket.sla.timer(TimerKind::FirstReply).unwrap().state,
        TimerState::Running,
        "notes do not count"
    );
    reply(&policies, &mut ticket, sh(MONDAY, 9, 20), Visibility::Public);
    assert_eq!(ticket.sla.timer(TimerKind::FirstReply).unwrap().state, TimerState::Met);
    assert!(ticket.sla.timer(TimerKind::NextReply).is_none());
    customer_writes(&policies, &mut ticket, sh(MONDAY, 11, 0));
    customer_writes(&policies, &mut ticket, sh(MONDAY, 11, 30));
    assert_eq!(due(&ticket, TimerKind::NextReply), sh(MONDAY, 13, 0), "the first unanswered message counts");
    reply(&policies, &mut ticket, sh(MONDAY, 12, 0), Visibility::Public);
    customer_writes(&policies, &mut ticket, sh(MONDAY, 14, 0));
    let next = ticket.sla.timer(TimerKind::NextReply).unwrap();
    assert_eq!((next.cycle, next.due_at), (1, sh(MONDAY, 16, 0)));
}

#[test]
fn solving_meets_resolution_and_reopening_adds_the_solved_time_back() {
    let policies = policies();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    reply(&policies, &mut ticket, sh(MONDAY, 9, 30), Visibility::Public);
    status(&policies, &mut ticket, Status::Solved, sh(MONDAY, 10, 0));
    assert_eq!(ticket.sla.timer(TimerKind::Resolution).unwrap().state, TimerState::Met);
    assert_eq!(ticket.due_at, None);
    customer_writes(&policies, &mut ticket, sh(MONDAY, 12, 0));
    assert_eq!(due(&ticket, TimerKind::Resolution), sh(TUESDAY, 12, 0));
}

#[test]
fn entering_a_team_with_its_own_policy_starts_its_own_resolution_deadline() {
    let policies = policies();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    let at = sh(MONDAY, 10, 0);
    let events: Vec<_> = ticket
        .set_team(&agent(), Some("complaints".into()), "by hand".into(), at)
        .unwrap()
        .into_iter()
        .collect();
    policies.apply(&mut ticket, &events, None);
    let resolution = ticket.sla.timer(TimerKind::Resolution).unwrap();
    assert_eq!((resolution.cycle, resolution.started_at, resolution.target_minutes), (1, at, 1_440));
    assert!(ticket.sla.timer(TimerKind::FirstReply).is_none(), "that policy times resolution only");
}

#[test]
fn the_view_shows_remaining_business_time_and_state() {
    let policies = policies();
    let mut ticket = open(&policies, sh(FRIDAY, 17, 30));
    let view = ticket.sla.view(&policies, sh(FRIDAY, 17, 50));
    let first = view.iter().find(|v| v.kind == TimerKind::FirstReply).unwrap();
    assert_eq!(
        (first.remaining_business_seconds, first.state, first.warning),
        (40 * 60, TimerState::Running, false)
    );
    let json = serde_json::to_value(first).unwrap();
    assert_eq!(json["state"], "running");
    assert_eq!(json["kind"], "first_reply");
    status(&policies, &mut ticket, Status::OnHold, sh(FRIDAY, 17, 50));
    let paused = ticket.sla.view(&policies, sh(MONDAY, 12, 0));
    assert_eq!(paused[0].state, TimerState::Paused);
    assert_eq!(paused[0].remaining_business_seconds, 40 * 60, "a paused clock keeps what it had left");
    assert!(!ticket.sla.breached());
}

#[test]
fn a_breached_timer_stops_counting_when_it_is_finally_met() {
    let policies = policies();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    policies.sweep(&mut ticket, sh(MONDAY, 10, 1));
    assert!(ticket.sla.breached());
    status(&policies, &mut ticket, Status::Solved, sh(MONDAY, 10, 30));
    for later in [sh(MONDAY, 11, 0), sh(MONDAY, 17, 0)] {
        let view = ticket.sla.view(&policies, later);
        let first = view.iter().find(|v| v.kind == TimerKind::FirstReply).unwrap();
        assert_eq!((first.state, first.remaining_business_seconds), (TimerState::Breached, -30 * 60));
    }
}

#[test]
fn sweeping_records_a_warning_then_a_breach_once_each() {
    let policies = policies();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    assert!(policies.sweep(&mut ticket, sh(MONDAY, 9, 47)).is_empty());
    let warned = policies.sweep(&mut ticket, sh(MONDAY, 9, 48));
    assert!(
        matches!(&warned.events[..], [TicketEvent { kind: EventKind::SlaWarning { timer }, .. }] if timer == "first_reply")
    );
    assert_eq!(ticket.due_at, Some(sh(MONDAY, 10, 0)));
    let breached = policies.sweep(&mut ticket, sh(MONDAY, 10, 0));
    assert!(
        matches!(&breached.events[..], [TicketEvent { kind: EventKind::SlaBreached { timer }, .. }] if timer == "first_reply")
    );
    assert!(ticket.sla.breached());
    assert!(policies.sweep(&mut ticket, sh(MONDAY, 10, 5)).is_empty(), "a breach is recorded once");
}

#[test]
fn a_breach_escalates_by_the_rules_with_the_reason_and_queues_alerts() {
    let mut config = config();
    config.notify_from = Some("desk@shop.example".into());
    config.escalations = vec![
        EscalationSpec {
            name: "frontline first reply".into(),
            timers: vec![TimerKind::FirstReply],
            teams: vec!["frontline".into()],
            to_team: Some("technical".into()),
            raise_priority: true,
            notify_emails: vec!["leads@shop.example".into()],
            notify_webhook: Some("https://oncall.example/hook".into()),
            ..EscalationSpec::default()
        },
        EscalationSpec {
            name: "complaints".into(),
            categories: vec!["complaint".into()],
            to_team: Some("complaints".into()),
            ..EscalationSpec::default()
        },
    ];
    let policies = config.validate().unwrap();
    let mut ticket = open(&policies, sh(MONDAY, 9, 0));
    ticket.team = Some("frontline".into());
    let change = policies.sweep(&mut ticket, sh(MONDAY, 10, 1));
    let kinds: Vec<&str> = change.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["sla_breached", "escalated", "priority"]);
    assert!(
        matches!(&change.events[1].kind, EventKind::Escalated { reason, .. } if reason == "sla first_reply breached: rule frontline first reply")
    );
    assert_eq!((ticket.team.as_deref(), ticket.priority), (Some("technical"), Priority::High));
    assert_eq!(ticket.sla.outbox.len(), 2);
    assert_eq!(ticket.sla.outbox[0].id, "sla:7:first_reply:0:breach:frontline first reply:email0");
    // High priority re-targets the resolution timer: 300 business minutes from 09:00.
    assert_eq!(due(&ticket, TimerKind::Resolution), sh(MONDAY, 14, 0));
    let seqs: Vec<u64> = change.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [3, 4, 5], "events continue the ticket's versions");
}

#[test]
fn configuration_errors_name_the_field() {
    let error = |config: SlaConfig| config.validate().unwrap_err().to_string();
    let mut bad = config();
    bad.policies[2].first_reply_minutes = Some(0);
    assert_eq!(error(bad), "policies[2].first_reply_minutes: must be positive");
    let bad = SlaConfig { default_calendar: "nights".into(), ..config() };
    assert_eq!(error(bad), "default_calendar: unknown calendar \"nights\"");
    let bad = SlaConfig { warning_percent: 100, ..config() };
    assert!(error(bad).starts_with("warning_percent: "));
    let mut bad = config();
    bad.escalations.push(EscalationSpec {
        name: "loud".into(),
        notify_emails: vec!["a@b.example".into()],
        ..EscalationSpec::default()
    });
    assert!(error(bad).starts_with("notify_from: "));
    let mut bad = config();
    bad.escalations.push(EscalationSpec {
        name: "x".into(),
        notify_webhook: Some("ftp://x".into()),
        ..EscalationSpec::default()
    });
    assert_eq!(error(bad), "escalations[0].notify_webhook: must be an absolute http(s) URL");
    let mut bad = config();
    bad.calendars.insert(
        "x".into(),
        CalendarSpec {
            time_zone: "Mars/Olympus".into(),
            always_open: true,
            hours: WeeklyHours::default(),
            holidays: vec![],
            make_up_days: vec![],
        },
    );
    assert_eq!(error(bad), "calendars.x: time_zone: unknown \"Mars/Olympus\"");
}

#[test]
fn the_most_specific_policy_wins() {
    let mut config = config();
    config.policies.push(PolicySpec {
        priority: Some(Priority::Normal),
        customer_tier: Some("vip".into()),
        first_reply_minutes: Some(10),
        ..PolicySpec::default()
    });
    let policies = config.validate().unwrap();
    let (mut ticket, created) = Ticket::open(
        TicketNumber(1),
        Channel::Chat,
        "hi".into(),
        CustomerId::new("c"),
        None,
        sh(MONDAY, 9, 0),
    );
    policies.apply(&mut ticket, &[created], Some("VIP"));
    assert_eq!(due(&ticket, TimerKind::FirstReply), sh(MONDAY, 9, 10));
    assert!(ticket.sla.timer(TimerKind::Resolution).is_none());
}

fn business_instant() -> impl Strategy<Value = Timestamp> {
    // Within 2026–2027, to the minute.
    (1_767_225_600i64..1_830_297_600).prop_map(|s| Timestamp::from_second(s - s % 60).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pausing_moves_the_deadline_by_exactly_the_business_time_inside_the_pause(
        opened in business_instant(),
        start_after in 0i64..600,
        length in 1i64..7_200,
    ) {
        let policies = policies();
        let mut ticket = open(&policies, opened);
        let calendar = policies.calendar(BUSINESS_CALENDAR).clone();
        let before = due(&ticket, TimerKind::Resolution);
        let from = opened + jiff::SignedDuration::from_mins(start_after);
        let to = from + jiff::SignedDuration::from_mins(length);
        prop_assume!(from < before);
        reply(&policies, &mut ticket, from, Visibility::Public);
        status(&policies, &mut ticket, Status::Pending, from);
        status(&policies, &mut ticket, Status::Open, to);
        let inside = calendar.business_between(from, to);
        prop_assert_eq!(due(&ticket, TimerKind::Resolution), calendar.add_business(before, inside).unwrap());
        prop_assert_eq!(
            calendar.business_between(opened, due(&ticket, TimerKind::Resolution)),
            std::time::Duration::from_secs(600 * 60) + inside
        );
    }

    #[test]
    fn a_later_opening_never_gives_an_earlier_deadline(a in business_instant(), b in business_instant()) {
        let policies = policies();
        let (early, late) = (a.min(b), a.max(b));
        for kind in [TimerKind::FirstReply, TimerKind::Resolution] {
            prop_assert!(due(&open(&policies, early), kind) <= due(&open(&policies, late), kind));
        }
    }
}
