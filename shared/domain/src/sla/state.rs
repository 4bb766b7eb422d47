//! The SLA timers as stored on the ticket, and the view agents see.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::SlaPolicies;
use crate::outbound::OutboundJob;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// From the ticket's creation to the first public agent reply.
    FirstReply,
    /// From a customer message to the agent's public answer, after the first reply.
    NextReply,
    /// From creation to solved; a reopened ticket's clock continues.
    Resolution,
    /// From a callback's scheduled time (a missed call) to an agent reaching the caller:
    /// its target is `phone.callback_minutes`, not a policy's.
    Callback,
    /// The current step of a return (approve the request, refund after receipt): its target
    /// is the return rules', not a policy's (`crate::orders::ReturnRules`).
    ReturnStep,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::FirstReply => "first_reply",
            TimerKind::NextReply => "next_reply",
            TimerKind::Resolution => "resolution",
            TimerKind::Callback => "callback",
            TimerKind::ReturnStep => "return_step",
        }
    }

    /// A timer whose target comes with what started it (a callback, a return step), so a
    /// policy change leaves it alone.
    pub fn has_own_target(self) -> bool {
        matches!(self, TimerKind::Callback | TimerKind::ReturnStep)
    }

    /// Words for alert texts.
    pub fn label(self) -> &'static str {
        match self {
            TimerKind::FirstReply => "first reply",
            TimerKind::NextReply => "next reply",
            TimerKind::Resolution => "resolution",
            TimerKind::Callback => "callback",
            TimerKind::ReturnStep => "return step",
        }
    }
}

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerState {
    Running,
    /// Stopped by a pause status; the business time until it resumes is added back.
    Paused,
    /// Done: answered, or solved.
    Met,
    /// Its deadline passed and the sweeper recorded it; no deadline is left to watch.
    Breached,
}

/// One SLA clock of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub kind: TimerKind,
    /// Counts restarts (each next reply, a fresh resolution in a new team): alerts of
    /// different cycles are different alerts.
    #[serde(default)]
    pub cycle: u32,
    pub target_minutes: u32,
    pub started_at: Timestamp,
    /// Business time spent in finished pauses, added to the deadline.
    #[serde(default)]
    pub paused_seconds: u64,
    /// Set while paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<Timestamp>,
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_at: Option<Timestamp>,
    pub state: TimerState,
    #[serde(default)]
    pub warned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
}

impl Timer {
    /// Still counting towards a deadline (running or paused, not yet breached).
    pub fn is_live(&self) -> bool {
        matches!(self.state, TimerState::Running | TimerState::Paused)
    }

    /// Breached: recorded by the sweeper, or met only after the deadline.
    pub fn is_breached(&self) -> bool {
        self.breached_at.is_some() || self.met_at.is_some_and(|met| met > self.due_at)
    }

    /// The next instant the sweeper must act on: the warning, then the deadline.
    pub fn next_instant(&self) -> Option<Timestamp> {
        if self.state != TimerState::Running {
            return None;
        }
        match self.warn_at {
            Some(warn) if !self.warned && warn < self.due_at => Some(warn),
            _ => Some(self.due_at),
        }
    }
}

/// The SLA state of a ticket. Kept by [`SlaPolicies::apply`]; stored with the ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaState {
    /// The policy the timers were set by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// Remembered from the writer that knew it, for policies per tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_tier: Option<String>,
    /// When an agent first answered publicly, whether or not a timer was running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_replied_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<Timer>,
    /// Alerts recorded but not yet queued: the sweeper queues them and clears this. While it
    /// is not empty the ticket stays due, so a crash between commit and queue loses nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<OutboundJob>,
}

/// One timer as the agent API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimerView {
    pub kind: TimerKind,
    pub target_minutes: u32,
    pub due_at: Timestamp,
    /// Business time left until the deadline (negative once overdue, frozen when answered
    /// late); zero once met in time.
    pub remaining_business_seconds: i64,
    pub state: TimerState,
    /// The warning threshold has passed.
    pub warning: bool,
}

impl SlaState {
    pub fn timer(&self, kind: TimerKind) -> Option<&Timer> {
        self.timers.iter().find(|t| t.kind == kind)
    }

    pub(super) fn timer_mut(&mut self, kind: TimerKind) -> Option<&mut Timer> {
        self.timers.iter_mut().find(|t| t.kind == kind)
    }

    /// Whether any timer of the ticket breached.
    pub fn breached(&self) -> bool {
        self.timers.iter().any(Timer::is_breached)
    }

    /// Each timer at `now`, in business time on the ticket's calendar.
    pub fn view(&self, policies: &SlaPolicies, now: Timestamp) -> Vec<TimerView> {
        let calendar = policies.calendar(self.calendar.as_deref().unwrap_or_default());
        self.timers
            .iter()
            .map(|timer| {
                let remaining = match timer.state {
                    // Met in time: nothing left; met late: how late, frozen at the answer.
                    TimerState::Met => match timer.met_at {
                        Some(met) if met > timer.due_at => signed_business(calendar, met, timer.due_at),
                        _ => 0,
                    },
                    // A paused clock keeps the business time it had left when it stopped.
                    TimerState::Paused => {
                        signed_business(calendar, timer.paused_at.unwrap_or(now), timer.due_at)
                    }
                    // A breached timer answered later stops counting at the answer.
                    TimerState::Running | TimerState::Breached => {
                        signed_business(calendar, timer.met_at.unwrap_or(now), timer.due_at)
                    }
                };
                let state = if timer.is_breached() { TimerState::Breached } else { timer.state };
                let warning = timer.warned || timer.warn_at.is_some_and(|w| w <= now && timer.is_live());
                TimerView {
                    kind: timer.kind,
                    target_minutes: timer.target_minutes,
                    due_at: timer.due_at,
                    remaining_business_seconds: remaining,
                    state,
                    warning,
                }
            })
            .collect()
    }
}

/// Business seconds from `from` to `to`, negative when `to` is earlier.
fn signed_business(calendar: &super::Calendar, from: Timestamp, to: Timestamp) -> i64 {
    let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    if to >= from {
        secs(calendar.business_between(from, to))
    } else {
        -secs(calendar.business_between(to, from))
    }
}
