//! The validated SLA configuration and the two questions the engine asks it: which policy
//! (targets) a ticket is held to, and on which calendar its clock runs.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::Calendar;
use super::config::PolicySpec;
use super::escalation::Escalation;
use super::state::{Timer, TimerKind};
use crate::model::{Priority, Status, Ticket};

/// Target minutes per timer; `None`: the policy does not time that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub first_reply: Option<u32>,
    pub next_reply: Option<u32>,
    pub resolution: Option<u32>,
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.first_reply.is_none() && self.next_reply.is_none() && self.resolution.is_none()
    }

    pub fn of(&self, kind: TimerKind) -> Option<u32> {
        match kind {
            TimerKind::FirstReply => self.first_reply,
            TimerKind::NextReply => self.next_reply,
            TimerKind::Resolution => self.resolution,
            // Its target comes with the callback (phone config), never from a policy.
            TimerKind::Callback | TimerKind::ReturnStep => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Policy {
    /// Its name, or `policies[i]`; stored on the ticket so a change of policy is noticed.
    pub label: String,
    pub spec: PolicySpec,
    pub calendar: Option<String>,
    pub targets: Targets,
}

impl Policy {
    fn matches(&self, ticket: &Ticket, tier: Option<&str>) -> bool {
        let spec = &self.spec;
        spec.priority.is_none_or(|p| p == ticket.priority)
            && spec.channel.is_none_or(|c| c.covers(ticket.channel))
            && spec.team.as_ref().is_none_or(|t| ticket.team.as_ref() == Some(t))
            && spec
                .customer_tier
                .as_ref()
                .is_none_or(|t| tier.is_some_and(|have| have.eq_ignore_ascii_case(t)))
    }

    /// Matchers rank team, then customer tier, then channel, then priority: a policy naming
    /// a team beats any policy that does not.
    fn specificity(&self) -> u8 {
        let spec = &self.spec;
        u8::from(spec.priority.is_some())
            | u8::from(spec.channel.is_some()) << 1
            | u8::from(spec.customer_tier.is_some()) << 2
            | u8::from(spec.team.is_some()) << 3
    }
}

/// The `[sla]` section, validated: build it with [`super::SlaConfig::validate`].
#[derive(Debug, Clone)]
pub struct SlaPolicies {
    pub(super) warning_percent: u8,
    pub(super) pause_statuses: Vec<Status>,
    pub(super) calendars: BTreeMap<String, Calendar>,
    pub(super) default_calendar: String,
    /// The default calendar itself, for names no longer configured.
    pub(super) fallback: Calendar,
    pub(super) urgent_calendar: Option<String>,
    pub(super) team_calendars: BTreeMap<String, String>,
    pub(super) policies: Vec<Policy>,
    pub(super) escalations: Vec<Escalation>,
    pub(super) notify_from: Option<String>,
}

impl SlaPolicies {
    /// Whether a policy looks at customer tiers, so a writer knows to read the customer.
    pub fn uses_customer_tier(&self) -> bool {
        self.policies.iter().any(|p| p.spec.customer_tier.is_some())
    }

    /// Team ids the configuration names (calendars, policies, escalations), for checking
    /// against the routing teams.
    pub fn team_references(&self) -> Vec<(String, String)> {
        let mut refs: Vec<(String, String)> =
            self.team_calendars.keys().map(|t| (format!("team_calendars.{t}"), t.clone())).collect();
        for (i, policy) in self.policies.iter().enumerate() {
            if let Some(team) = &policy.spec.team {
                refs.push((format!("policies[{i}].team"), team.clone()));
            }
        }
        for (i, escalation) in self.escalations.iter().enumerate() {
            refs.extend(escalation.team_references(i));
        }
        refs
    }

    pub fn is_paused_status(&self, status: Status) -> bool {
        self.pause_statuses.contains(&status)
    }

    pub fn warning_percent(&self) -> u8 {
        self.warning_percent
    }

    /// The most specific matching policy; the first listed among equals.
    pub(super) fn policy_for(&self, ticket: &Ticket, tier: Option<&str>) -> Option<&Policy> {
        let mut best: Option<&Policy> = None;
        for policy in self.policies.iter().filter(|p| p.matches(ticket, tier)) {
            if best.is_none_or(|b| policy.specificity() > b.specificity()) {
                best = Some(policy);
            }
        }
        best
    }

    pub(super) fn policy_by_label(&self, label: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.label == label)
    }

    /// The policy's calendar, else urgent's, else the team's, else the default.
    pub(super) fn calendar_name_for(&self, ticket: &Ticket, policy: Option<&Policy>) -> String {
        if let Some(name) = policy.and_then(|p| p.calendar.clone()) {
            return name;
        }
        if ticket.priority == Priority::Urgent
            && let Some(name) = &self.urgent_calendar
        {
            return name.clone();
        }
        ticket
            .team
            .as_ref()
            .and_then(|team| self.team_calendars.get(team))
            .cloned()
            .unwrap_or_else(|| self.default_calendar.clone())
    }

    /// The calendar a team's tickets run on by default (its `team_calendars` entry, else the
    /// default calendar): what "business hours" means for the team's phone line.
    pub fn team_calendar(&self, team: Option<&str>) -> &Calendar {
        let name = team.and_then(|t| self.team_calendars.get(t)).unwrap_or(&self.default_calendar);
        self.calendar(name)
    }

    /// The calendar configured under `name`, if there is one (for rules outside the SLA that
    /// count business hours, such as a forum's wait for staff).
    pub fn named_calendar(&self, name: &str) -> Option<&Calendar> {
        self.calendars.get(name)
    }

    pub(super) fn calendar(&self, name: &str) -> &Calendar {
        // Names on tickets come from this configuration; one from an older configuration
        // falls back to the default calendar rather than stopping the clock.
        self.calendars.get(name).unwrap_or(&self.fallback)
    }

    /// Sets the timer's deadline and warning instant: its target plus the business time it
    /// spent paused, counted in business time from its start.
    pub(super) fn schedule(&self, timer: &mut Timer, calendar: &Calendar) {
        let paused = Duration::from_secs(timer.paused_seconds);
        let target = Duration::from_secs(u64::from(timer.target_minutes) * 60);
        timer.due_at = add(calendar, timer.started_at, target + paused);
        let warning = target * u32::from(self.warning_percent) / 100;
        timer.warn_at = if self.warning_percent == 0 {
            None
        } else {
            Some(add(calendar, timer.started_at, warning + paused))
        };
    }
}

/// `start + duration` of business time. A calendar that cannot supply it within the horizon
/// (e.g. every day a holiday) falls back to wall-clock time rather than never breaching.
fn add(calendar: &Calendar, start: Timestamp, duration: Duration) -> Timestamp {
    calendar.add_business(start, duration).unwrap_or_else(|error| {
        tracing::warn!(%error, "sla.calendar_exhausted");
        let wall = SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX);
        start.checked_add(wall).unwrap_or(Timestamp::MAX)
    })
}
