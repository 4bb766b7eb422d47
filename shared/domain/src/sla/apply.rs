//! The one entry point every writer calls before it commits: [`SlaPolicies::apply`] reads
//! the events a change produced and starts, stops, pauses, resumes or re-targets the timers,
//! then derives `due_at`, the ticket's place in the due index.
//!
//! | event                                   | effect                                              |
//! |-----------------------------------------|-----------------------------------------------------|
//! | created                                 | first reply and resolution start                    |
//! | customer message after the first reply  | a next-reply cycle starts (unless one is running)   |
//! | public agent reply                      | first / next reply met                              |
//! | status into a pause status              | running timers pause (overdue ones keep running)    |
//! | status out of a pause status            | paused timers resume; the pause is added back       |
//! | solved / closed                         | resolution met, reply timers dropped                |
//! | solved → reopened                       | resolution resumes, the solved time added back      |
//! | priority or team change                 | policy and calendar chosen again, timers re-targeted|
//!
//! A conversation the chat bot holds (no person has it yet) runs no clock: a customer who
//! leaves it does not breach anyone's target. First reply and resolution start when it stops
//! being the bot's — handed to a person, or taken by an agent — unless it was solved there.

use jiff::Timestamp;

use super::SlaPolicies;
use super::policies::Policy;
use super::state::{Timer, TimerKind, TimerState};
use super::sweeper::OUTBOX_RETRY;
use crate::model::{Actor, EventKind, Status, Ticket, TicketEvent};
use crate::system::later;

impl SlaPolicies {
    /// Brings `ticket.sla` and `ticket.due_at` up to date with `events` (the events the
    /// change produced, in order; the ticket already reflects them). `customer_tier` is the
    /// requester's tier when the writer knows it; `None` keeps the one remembered.
    pub fn apply(&self, ticket: &mut Ticket, events: &[TicketEvent], customer_tier: Option<&str>) {
        if let Some(tier) = customer_tier {
            ticket.sla.customer_tier = Some(tier.to_owned());
        }
        let held = crate::bot::holds(ticket);
        for event in events {
            if held && matches!(event.kind, EventKind::Created { .. }) {
                continue;
            }
            self.on_event(ticket, event);
        }
        let now = events.last().map_or(ticket.updated_at, |e| e.at);
        if !held && ticket.bot.is_some() && ticket.status.is_unfinished() && !reply_clocks_started(ticket) {
            self.start_ticket(ticket, now);
        }
        self.refresh_due(ticket, now);
    }

    /// Derives `due_at`: the earliest warning or deadline of a running timer, or the retry
    /// instant of alerts waiting in the outbox. Never earlier than `now`: the sweeper has already read the
    /// buckets of the past, so an overdue ticket is filed under the present.
    pub fn refresh_due(&self, ticket: &mut Ticket, now: Timestamp) {
        derive_due(ticket, now);
    }

    fn on_event(&self, ticket: &mut Ticket, event: &TicketEvent) {
        let at = event.at;
        match &event.kind {
            EventKind::Created { .. } => self.start_ticket(ticket, at),
            EventKind::MessageIn { .. } if matches!(event.actor, Actor::Customer(_)) => {
                self.customer_wrote(ticket, at);
            }
            EventKind::MessageOut { internal: false, .. } if matches!(event.actor, Actor::Agent(_)) => {
                agent_replied(ticket, at);
            }
            EventKind::Status { from, to } => self.status_changed(ticket, *from, *to, at),
            EventKind::Priority { .. } => self.reselect(ticket, at, false),
            EventKind::Escalated { .. } => self.reselect(ticket, at, true),
            _ => {}
        }
    }

    fn start_ticket(&self, ticket: &mut Ticket, at: Timestamp) {
        let policy = self.policy_for(ticket, ticket.sla.customer_tier.as_deref());
        ticket.sla.policy = policy.map(|p| p.label.clone());
        ticket.sla.calendar = Some(self.calendar_name_for(ticket, policy));
        let Some(policy) = policy else { return };
        for kind in [TimerKind::FirstReply, TimerKind::Resolution] {
            if let Some(target) = policy.targets.of(kind) {
                self.start_timer(ticket, kind, target, at, 0);
            }
        }
    }

    /// Starts (or restarts) the callback timer of a missed call: `minutes` of business time
    /// on the ticket's calendar from `at` (the callback's scheduled time), on the due index
    /// like every other timer. A running callback timer is kept: one callback at a time.
    pub fn start_callback(&self, ticket: &mut Ticket, minutes: u32, at: Timestamp, now: Timestamp) {
        if ticket.sla.calendar.is_none() {
            let policy = self.policy_for(ticket, ticket.sla.customer_tier.as_deref());
            ticket.sla.calendar = Some(self.calendar_name_for(ticket, policy));
        }
        let current = ticket.sla.timer(TimerKind::Callback);
        if current.is_some_and(Timer::is_live) {
            return;
        }
        let cycle = current.map_or(0, |t| t.cycle + 1);
        self.start_timer(ticket, TimerKind::Callback, minutes, at, cycle);
        self.refresh_due(ticket, now);
    }

    /// An agent reached the caller (a call answered on the ticket): the callback is met.
    pub fn callback_met(&self, ticket: &mut Ticket, at: Timestamp) {
        if let Some(timer) = ticket.sla.timer_mut(TimerKind::Callback)
            && (timer.is_live() || (timer.state == TimerState::Breached && timer.met_at.is_none()))
        {
            timer.met_at = Some(at);
            timer.paused_at = None;
            if timer.state != TimerState::Breached {
                timer.state = TimerState::Met;
            }
        }
        self.refresh_due(ticket, at);
    }

    /// Starts the timer of a return's new step: `minutes` of business time on the ticket's
    /// calendar from `at`; the previous step's timer is met first. `None`: the step has no
    /// target, and only the previous step's timer is met.
    pub fn start_return_step(&self, ticket: &mut Ticket, minutes: Option<u32>, at: Timestamp) {
        if ticket.sla.calendar.is_none() {
            let policy = self.policy_for(ticket, ticket.sla.customer_tier.as_deref());
            ticket.sla.calendar = Some(self.calendar_name_for(ticket, policy));
        }
        let current = ticket.sla.timer_mut(TimerKind::ReturnStep);
        let cycle = current.as_ref().map_or(0, |t| t.cycle + 1);
        if let Some(timer) = current
            && (timer.is_live() || (timer.state == TimerState::Breached && timer.met_at.is_none()))
        {
            timer.met_at = Some(at);
            timer.paused_at = None;
            if timer.state != TimerState::Breached {
                timer.state = TimerState::Met;
            }
        }
        if let Some(minutes) = minutes {
            self.start_timer(ticket, TimerKind::ReturnStep, minutes, at, cycle);
        }
        self.refresh_due(ticket, at);
    }

    fn start_timer(&self, ticket: &mut Ticket, kind: TimerKind, target: u32, at: Timestamp, cycle: u32) {
        let mut timer = Timer {
            kind,
            cycle,
            target_minutes: target,
            started_at: at,
            paused_seconds: 0,
            paused_at: None,
            due_at: at,
            warn_at: None,
            state: TimerState::Running,
            warned: false,
            breached_at: None,
            met_at: None,
        };
        if self.is_paused_status(ticket.status) {
            timer.state = TimerState::Paused;
            timer.paused_at = Some(at);
        }
        let calendar = self.calendar(ticket.sla.calendar.as_deref().unwrap_or_default());
        self.schedule(&mut timer, calendar);
        ticket.sla.timers.retain(|t| t.kind != kind);
        ticket.sla.timers.push(timer);
        ticket.sla.timers.sort_by_key(|t| t.kind);
    }

    /// A customer waiting for an answer again starts a next-reply cycle, once the first reply
    /// is out; while a cycle runs, more messages do not restart it.
    fn customer_wrote(&self, ticket: &mut Ticket, at: Timestamp) {
        if ticket.sla.first_replied_at.is_none() {
            return;
        }
        let current = ticket.sla.timer(TimerKind::NextReply);
        if current.is_some_and(|t| t.is_live() || (t.state == TimerState::Breached && t.met_at.is_none())) {
            return;
        }
        let Some(target) = self.current_policy(ticket).and_then(|p| p.targets.next_reply) else {
            return;
        };
        let cycle = current.map_or(0, |t| t.cycle + 1);
        self.start_timer(ticket, TimerKind::NextReply, target, at, cycle);
    }

    fn status_changed(&self, ticket: &mut Ticket, from: Status, to: Status, at: Timestamp) {
        let calendar_name = ticket.sla.calendar.clone().unwrap_or_default();
        if self.is_paused_status(from) && !self.is_paused_status(to) {
            for timer in ticket.sla.timers.iter_mut().filter(|t| t.state == TimerState::Paused) {
                if let Some(paused_at) = timer.paused_at.take() {
                    let since = paused_at.max(timer.started_at);
                    let calendar = self.calendar(&calendar_name);
                    timer.paused_seconds += calendar.business_between(since, at).as_secs();
                }
                timer.state = TimerState::Running;
                self.schedule(timer, self.calendar(&calendar_name));
            }
        }
        if from == Status::Solved && !matches!(to, Status::Solved | Status::Closed) {
            self.reopen(ticket, at);
        }
        match to {
            Status::Solved | Status::Closed => {
                ticket.sla.timers.retain(|t| {
                    matches!(t.kind, TimerKind::Resolution | TimerKind::Callback | TimerKind::ReturnStep)
                        || !t.is_live()
                });
                for timer in
                    ticket.sla.timers.iter_mut().filter(|t| t.is_live() || t.state == TimerState::Breached)
                {
                    if timer.met_at.is_none() {
                        timer.met_at = Some(at);
                    }
                    if timer.state != TimerState::Breached {
                        timer.state = TimerState::Met;
                    }
                    timer.paused_at = None;
                }
            }
            to if self.is_paused_status(to) && !self.is_paused_status(from) => {
                // An overdue timer keeps running, so the sweeper still records its breach.
                for timer in
                    ticket.sla.timers.iter_mut().filter(|t| t.state == TimerState::Running && t.due_at > at)
                {
                    timer.state = TimerState::Paused;
                    timer.paused_at = Some(at);
                }
            }
            _ => {}
        }
    }

    /// A solved ticket reopened: its resolution clock continues, the solved time added back
    /// like a pause.
    fn reopen(&self, ticket: &mut Ticket, at: Timestamp) {
        let calendar_name = ticket.sla.calendar.clone().unwrap_or_default();
        if let Some(timer) = ticket.sla.timer_mut(TimerKind::Resolution)
            && timer.state == TimerState::Met
            && let Some(met_at) = timer.met_at.take()
        {
            let calendar = self.calendar(&calendar_name);
            timer.paused_seconds += calendar.business_between(met_at, at).as_secs();
            timer.state = TimerState::Running;
            self.schedule(timer, calendar);
        }
    }

    /// After a priority or team change: the policy and calendar are chosen again and live
    /// timers re-targeted from their own start. Entering a team that has a policy of its own
    /// starts a fresh resolution clock there.
    fn reselect(&self, ticket: &mut Ticket, at: Timestamp, team_changed: bool) {
        let policy = self.policy_for(ticket, ticket.sla.customer_tier.as_deref());
        let label = policy.map(|p| p.label.clone());
        let calendar = self.calendar_name_for(ticket, policy);
        if label == ticket.sla.policy && Some(&calendar) == ticket.sla.calendar.as_ref() {
            return;
        }
        ticket.sla.policy = label;
        ticket.sla.calendar = Some(calendar.clone());
        // A callback's target is its own: a new policy leaves it as it is.
        let Some(policy) = policy else {
            ticket.sla.timers.retain(|t| !t.is_live() || t.kind.has_own_target());
            return;
        };
        let targets = policy.targets;
        ticket.sla.timers.retain(|t| !t.is_live() || t.kind.has_own_target() || targets.of(t.kind).is_some());
        for timer in ticket.sla.timers.iter_mut().filter(|t| t.is_live()) {
            if let Some(target) = targets.of(timer.kind) {
                timer.target_minutes = target;
                self.schedule(timer, self.calendar(&calendar));
            }
        }
        // Timers the old policy did not have start from the ticket's own history.
        let created = ticket.created_at;
        if let Some(target) = targets.first_reply
            && ticket.sla.first_replied_at.is_none()
            && ticket.sla.timer(TimerKind::FirstReply).is_none()
        {
            self.start_timer(ticket, TimerKind::FirstReply, target, created, 0);
        }
        let fresh_team_clock = team_changed && policy.spec.team.is_some();
        let resolution = ticket.sla.timer(TimerKind::Resolution).map(|t| (t.cycle, t.state));
        if let Some(target) = targets.resolution
            && !matches!(ticket.status, Status::Solved | Status::Closed)
        {
            match resolution {
                None => self.start_timer(ticket, TimerKind::Resolution, target, created, 0),
                Some((cycle, _)) if fresh_team_clock => {
                    self.start_timer(ticket, TimerKind::Resolution, target, at, cycle + 1);
                }
                Some(_) => {}
            }
        }
    }

    fn current_policy(&self, ticket: &Ticket) -> Option<&Policy> {
        match &ticket.sla.policy {
            Some(label) => self.policy_by_label(label),
            None => self.policy_for(ticket, ticket.sla.customer_tier.as_deref()),
        }
    }
}

fn agent_replied(ticket: &mut Ticket, at: Timestamp) {
    if ticket.sla.first_replied_at.is_none() {
        ticket.sla.first_replied_at = Some(at);
    }
    for timer in ticket.sla.timers.iter_mut() {
        // A public answer reaches the customer: a callback counts as done too.
        let reply = matches!(timer.kind, TimerKind::FirstReply | TimerKind::NextReply | TimerKind::Callback);
        let waiting = timer.is_live() || (timer.state == TimerState::Breached && timer.met_at.is_none());
        if reply && waiting {
            timer.met_at = Some(at);
            timer.paused_at = None;
            if timer.state != TimerState::Breached {
                timer.state = TimerState::Met;
            }
        }
    }
}

/// Sets `ticket.due_at`: the earliest of the SLA's next instant, a scheduled survey
/// (`crate::survey`) and the close of a conversation the customer left with the bot
/// (`crate::bot::idle`), never earlier than `now`. All share the one due index; each sweeper
/// skips what is not its own.
pub fn derive_due(ticket: &mut Ticket, now: Timestamp) {
    let earliest = ticket.sla.timers.iter().filter_map(Timer::next_instant).min();
    // Queued alerts are normally flushed at once; if not, look again after OUTBOX_RETRY.
    let pending = ticket.sla.outbox.iter().map(|job| later(job.created_at, OUTBOX_RETRY)).max();
    let mut sla = match (earliest, pending) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if ticket.status == Status::Closed && ticket.sla.outbox.is_empty() {
        sla = None;
    }
    let survey = ticket.survey.as_ref().and_then(|s| s.due_at);
    // A conversation the customer left with the bot closes on the same index.
    let idle = crate::bot::idle::due_at(ticket);
    ticket.due_at = [sla, survey, idle].into_iter().flatten().min().map(|due| due.max(now));
}

/// Whether the ticket's own targets ever started (met and breached timers stay on the ticket).
fn reply_clocks_started(ticket: &Ticket) -> bool {
    ticket
        .sla
        .timers
        .iter()
        .any(|t| matches!(t.kind, TimerKind::FirstReply | TimerKind::NextReply | TimerKind::Resolution))
}
