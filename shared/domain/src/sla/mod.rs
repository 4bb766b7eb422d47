//! SLAs (issue 7): business-time arithmetic — "one business hour after Friday 17:55" is
//! Monday 09:55 in Shanghai, not Friday 18:55 — and the engine built on it.
//!
//! - [`Calendar`]: pure functions; the caller supplies every instant (from the `Clock`
//!   port), and all civil reasoning happens in the calendar's own time zone, never the
//!   process's, so a Lambda in UTC and a laptop in Beijing compute the same deadline.
//! - [`SlaConfig`] → [`SlaPolicies`]: the validated `[sla]` section.
//! - [`SlaPolicies::apply`]: every writer calls it before committing; it keeps the timers on
//!   the ticket ([`SlaState`]) and the ticket's place in the due index (`due_at`).
//! - [`SlaPolicies::sweep`] and [`SlaSweeper`]: warnings, breaches, escalation and alerts for
//!   the tickets that are due, read from the due index only.

mod apply;
mod calendar;
mod config;
mod escalation;
mod policies;
mod state;
pub mod sweeper;

pub use apply::derive_due;
pub use calendar::{Calendar, CalendarError, CalendarSpec, Interval, MakeUpDay, WeeklyHours};
pub use config::{
    ALWAYS_OPEN_CALENDAR, BUSINESS_CALENDAR, DEFAULT_TIME_ZONE, EscalationSpec, PolicySpec, SlaConfig,
    SlaConfigError,
};
pub use escalation::{EscalationTrigger, Fired, SweepChange};
pub use policies::{SlaPolicies, Targets};
pub use state::{SlaState, Timer, TimerKind, TimerState, TimerView};
pub use sweeper::{SlaSweeper, SweepError, SweepLimits, SweepReport, SweeperPorts};

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// How far ahead [`Calendar::add_business`] looks for enough open hours before giving up.
/// SLA targets are hours or days; a calendar that cannot supply them within three years is
/// misconfigured (e.g. every day a holiday), and must not make us loop forever.
pub const MAX_SCAN_DAYS: i64 = 3 * 366;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusinessTimeError {
    #[error("not enough business hours within {MAX_SCAN_DAYS} days")]
    BeyondHorizon,
    #[error("the deadline is outside the representable range of time")]
    OutOfRange,
}

impl Calendar {
    /// The instant at which `duration` of business time has elapsed after `start`. Outside
    /// opening hours the clock waits for the next opening; a zero duration is `start` itself.
    /// A deadline that lands exactly on a closing time is that closing time.
    pub fn add_business(&self, start: Timestamp, duration: Duration) -> Result<Timestamp, BusinessTimeError> {
        let mut remaining = SignedDuration::try_from(duration).map_err(|_| BusinessTimeError::OutOfRange)?;
        if remaining.is_zero() {
            return Ok(start);
        }
        if self.is_always_open() {
            return start.checked_add(remaining).map_err(|_| BusinessTimeError::OutOfRange);
        }
        // Start a day early: DST resolution can push yesterday's late hours past midnight.
        let mut date = self.date_of(start).yesterday().map_err(|_| BusinessTimeError::OutOfRange)?;
        let mut cursor = start;
        for _ in 0..MAX_SCAN_DAYS {
            for (open, close) in self.open_spans(date) {
                let open = open.max(cursor);
                if close <= open {
                    continue;
                }
                let available = close.duration_since(open);
                if remaining <= available {
                    return open.checked_add(remaining).map_err(|_| BusinessTimeError::OutOfRange);
                }
                remaining -= available;
                cursor = close;
            }
            date = date.tomorrow().map_err(|_| BusinessTimeError::OutOfRange)?;
        }
        Err(BusinessTimeError::BeyondHorizon)
    }

    /// Whether `at` lies in opening hours.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.next_open(at) == Some(at)
    }

    /// The first business instant at or after `at`: `at` itself during opening hours, else
    /// the next opening (a whole minute, as opening hours are).
    /// `None` when the calendar opens nowhere within [`MAX_SCAN_DAYS`]. A callback asked for
    /// after hours is scheduled here.
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        if self.is_always_open() {
            return Some(at);
        }
        let mut date = self.date_of(at).yesterday().ok()?;
        for _ in 0..MAX_SCAN_DAYS {
            for (open, close) in self.open_spans(date) {
                let start = open.max(at);
                if close > start {
                    return Some(start);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Business time inside `[from, to)`; zero when `to <= from`. This is what a pause (e.g.
    /// "pending on customer") is worth when it is added back to a deadline.
    pub fn business_between(&self, from: Timestamp, to: Timestamp) -> Duration {
        if to <= from {
            return Duration::ZERO;
        }
        if self.is_always_open() {
            return to.duration_since(from).unsigned_abs();
        }
        let last = self.date_of(to);
        let Ok(mut date) = self.date_of(from).yesterday() else {
            return Duration::ZERO;
        };
        let mut cursor = from;
        let mut total = SignedDuration::ZERO;
        while date <= last {
            for (open, close) in self.open_spans(date) {
                let (open, close) = (open.max(cursor), close.min(to));
                if close > open {
                    total += close.duration_since(open);
                    cursor = close;
                }
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        total.unsigned_abs()
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod engine_tests;

#[cfg(test)]
mod sweeper_tests;

#[cfg(test)]
mod router_tests;

#[cfg(test)]
mod bot_idle_tests;
