//! What an operator writes in `[sla]`: calendars, targets per priority (optionally per
//! channel, customer tier and team), pause statuses, the warning threshold and the escalation
//! rules. Plain serde data with shipped defaults, checked once by [`SlaConfig::validate`] into
//! [`SlaPolicies`]; every error names its field, e.g. `policies[2].first_reply_minutes: must
//! be positive`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::time;
use serde::{Deserialize, Serialize};

use super::escalation::{Escalation, EscalationTrigger};
use super::policies::{Policy, SlaPolicies, Targets};
use super::state::TimerKind;
use super::{Calendar, CalendarSpec, Interval, WeeklyHours};
use crate::model::{Channel, Priority, Status};

/// The calendar every team uses unless `team_calendars` says otherwise.
pub const BUSINESS_CALENDAR: &str = "business";
/// The round-the-clock calendar urgent tickets run on by default.
pub const ALWAYS_OPEN_CALENDAR: &str = "24x7";
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";
/// Targets beyond a year are a typo, and would make every deadline search the horizon.
pub const MAX_TARGET_MINUTES: u32 = 366 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// A warning is recorded when this share of a target has elapsed; 0 turns warnings off.
    #[serde(default = "default_warning_percent")]
    pub warning_percent: u8,
    /// Statuses that stop the clock (the desk waits on the customer or a third party).
    #[serde(default = "default_pause_statuses")]
    pub pause_statuses: Vec<Status>,
    /// Named calendars; `business` (Mon–Fri 09:00–18:00 Shanghai) and `24x7` exist unless
    /// redefined here.
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarSpec>,
    #[serde(default = "default_calendar")]
    pub default_calendar: String,
    /// Urgent tickets run on this calendar unless their policy names one; empty: no special case.
    #[serde(default = "default_urgent_calendar")]
    pub urgent_calendar: String,
    /// Team id → calendar name.
    #[serde(default)]
    pub team_calendars: BTreeMap<String, String>,
    #[serde(default = "default_policies")]
    pub policies: Vec<PolicySpec>,
    #[serde(default)]
    pub escalations: Vec<EscalationSpec>,
    /// The sender of alert mail to teams (defaults to `email.address` when the desk has one).
    #[serde(default)]
    pub notify_from: Option<String>,
}

impl Default for SlaConfig {
    fn default() -> Self {
        Self {
            warning_percent: default_warning_percent(),
            pause_statuses: default_pause_statuses(),
            calendars: BTreeMap::new(),
            default_calendar: default_calendar(),
            urgent_calendar: default_urgent_calendar(),
            team_calendars: BTreeMap::new(),
            policies: default_policies(),
            escalations: Vec::new(),
            notify_from: None,
        }
    }
}

/// Targets for the tickets it matches. Every matcher is optional; of the policies matching a
/// ticket the most specific wins (matchers rank team, customer tier, channel, priority), the
/// first listed among equals. A policy naming a team
/// gives a ticket entering that team a fresh resolution deadline ("complaints get 24 hours
/// from the moment they take it").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Overrides the team's (or the urgent) calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_reply_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reply_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_minutes: Option<u32>,
}

/// What happens when a timer breaches (or warns). A rule applies when every condition it
/// lists holds; all matching rules apply, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSpec {
    /// Unique; quoted as the reason in the audit trail.
    pub name: String,
    #[serde(default)]
    pub on: EscalationTrigger,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<TimerKind>,
    /// The ticket's team when the timer fires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// ASCII case-insensitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_team: Option<String>,
    /// One step up (low → normal → high → urgent).
    #[serde(default)]
    pub raise_priority: bool,
    /// Raised to at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify_emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_webhook: Option<String>,
}

/// A configuration mistake; the message starts with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SlaConfigError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> SlaConfigError {
    SlaConfigError { field: field.into(), message: message.into() }
}

fn default_warning_percent() -> u8 {
    80
}

fn default_pause_statuses() -> Vec<Status> {
    vec![Status::Pending, Status::OnHold]
}

fn default_calendar() -> String {
    BUSINESS_CALENDAR.to_owned()
}

fn default_urgent_calendar() -> String {
    ALWAYS_OPEN_CALENDAR.to_owned()
}

/// Email within hours, chat within minutes, urgent around the clock.
fn default_policies() -> Vec<PolicySpec> {
    let policy = |priority, channel, first, next, resolution| PolicySpec {
        priority: Some(priority),
        channel,
        first_reply_minutes: Some(first),
        next_reply_minutes: Some(next),
        resolution_minutes: Some(resolution),
        ..PolicySpec::default()
    };
    vec![
        policy(Priority::Urgent, None, 30, 60, 240),
        policy(Priority::High, None, 60, 120, 540),
        policy(Priority::Normal, None, 240, 480, 2_700),
        policy(Priority::Low, None, 480, 960, 5_400),
        policy(Priority::High, Some(Channel::Chat), 1, 3, 240),
        policy(Priority::Normal, Some(Channel::Chat), 2, 5, 540),
    ]
}

fn builtin_calendars() -> BTreeMap<String, CalendarSpec> {
    let nine_to_six = vec![Interval::new(time(9, 0, 0, 0), time(18, 0, 0, 0))];
    BTreeMap::from([
        (
            BUSINESS_CALENDAR.to_owned(),
            CalendarSpec {
                time_zone: DEFAULT_TIME_ZONE.to_owned(),
                always_open: false,
                hours: WeeklyHours::weekdays(nine_to_six),
                holidays: Vec::new(),
                make_up_days: Vec::new(),
            },
        ),
        (
            ALWAYS_OPEN_CALENDAR.to_owned(),
            CalendarSpec {
                time_zone: DEFAULT_TIME_ZONE.to_owned(),
                always_open: true,
                hours: WeeklyHours::default(),
                holidays: Vec::new(),
                make_up_days: Vec::new(),
            },
        ),
    ])
}

impl SlaConfig {
    /// Checks every field and builds the policies the engine runs on.
    pub fn validate(&self) -> Result<SlaPolicies, SlaConfigError> {
        if self.warning_percent >= 100 {
            return Err(error("warning_percent", "must be below 100 (0 turns warnings off)"));
        }
        let mut calendars = BTreeMap::new();
        let mut specs = builtin_calendars();
        specs.extend(self.calendars.clone());
        for (name, spec) in specs {
            let calendar =
                Calendar::new(spec).map_err(|e| error(format!("calendars.{name}"), e.to_string()))?;
            calendars.insert(name, calendar);
        }
        let known = |field: String, name: &str| {
            if calendars.contains_key(name) {
                Ok(name.to_owned())
            } else {
                Err(error(field, format!("unknown calendar {name:?}")))
            }
        };
        let default_calendar = known("default_calendar".into(), &self.default_calendar)?;
        let urgent_calendar = match self.urgent_calendar.as_str() {
            "" => None,
            name => Some(known("urgent_calendar".into(), name)?),
        };
        let mut team_calendars = BTreeMap::new();
        for (team, name) in &self.team_calendars {
            team_calendars.insert(team.clone(), known(format!("team_calendars.{team}"), name)?);
        }
        let mut policies = Vec::with_capacity(self.policies.len());
        let mut seen = BTreeSet::new();
        for (i, spec) in self.policies.iter().enumerate() {
            let field = |name: &str| format!("policies[{i}].{name}");
            let minutes = |name: &str, value: Option<u32>| match value {
                Some(0) => Err(error(field(name), "must be positive")),
                Some(m) if m > MAX_TARGET_MINUTES => {
                    Err(error(field(name), format!("must be at most {MAX_TARGET_MINUTES} (a year)")))
                }
                other => Ok(other),
            };
            let targets = Targets {
                first_reply: minutes("first_reply_minutes", spec.first_reply_minutes)?,
                next_reply: minutes("next_reply_minutes", spec.next_reply_minutes)?,
                resolution: minutes("resolution_minutes", spec.resolution_minutes)?,
            };
            if targets.is_empty() {
                return Err(error(
                    format!("policies[{i}]"),
                    "needs at least one of first_reply_minutes, next_reply_minutes, resolution_minutes",
                ));
            }
            let calendar = match &spec.calendar {
                Some(name) => Some(known(field("calendar"), name)?),
                None => None,
            };
            let key = (spec.priority, spec.channel, spec.customer_tier.clone(), spec.team.clone());
            if !seen.insert(format!("{key:?}")) {
                return Err(error(format!("policies[{i}]"), "matches the same tickets as an earlier policy"));
            }
            let label = spec.name.clone().unwrap_or_else(|| format!("policies[{i}]"));
            policies.push(Policy { label, spec: spec.clone(), calendar, targets });
        }
        let notify_from = self.notify_from.clone();
        let mut escalations = Vec::with_capacity(self.escalations.len());
        let mut names = BTreeSet::new();
        for (i, spec) in self.escalations.iter().enumerate() {
            escalations.push(Escalation::validate(i, spec, notify_from.as_deref(), &mut names)?);
        }
        let fallback = calendars.get(&default_calendar).cloned().ok_or_else(|| {
            error("default_calendar", format!("unknown calendar {:?}", self.default_calendar))
        })?;
        Ok(SlaPolicies {
            fallback,
            warning_percent: self.warning_percent,
            pause_statuses: self.pause_statuses.clone(),
            calendars,
            default_calendar,
            urgent_calendar,
            team_calendars,
            policies,
            escalations,
            notify_from,
        })
    }
}

pub(super) fn check_escalation(
    i: usize,
    spec: &EscalationSpec,
    notify_from: Option<&str>,
    names: &mut BTreeSet<String>,
) -> Result<(), SlaConfigError> {
    let field = |name: &str| format!("escalations[{i}].{name}");
    if spec.name.trim().is_empty() {
        return Err(error(field("name"), "must not be empty"));
    }
    if !names.insert(spec.name.clone()) {
        return Err(error(field("name"), format!("duplicate escalation name {:?}", spec.name)));
    }
    let acts = spec.to_team.is_some()
        || spec.raise_priority
        || spec.min_priority.is_some()
        || !spec.notify_emails.is_empty()
        || spec.notify_webhook.is_some();
    if !acts {
        return Err(error(
            format!("escalations[{i}]"),
            "needs at least one of to_team, raise_priority, min_priority, notify_emails, notify_webhook",
        ));
    }
    if let Some(team) = &spec.to_team
        && team.trim().is_empty()
    {
        return Err(error(field("to_team"), "must not be empty"));
    }
    for (j, address) in spec.notify_emails.iter().enumerate() {
        if !is_address(address) {
            return Err(error(format!("escalations[{i}].notify_emails[{j}]"), "must be an email address"));
        }
    }
    if !spec.notify_emails.is_empty() && notify_from.is_none_or(|from| !is_address(from)) {
        return Err(error(
            "notify_from",
            "alert mail needs a sender: set sla.notify_from or the [email] section's address",
        ));
    }
    if let Some(url) = &spec.notify_webhook {
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|host| host.is_empty() || host.starts_with('/')) {
            return Err(error(field("notify_webhook"), "must be an absolute http(s) URL"));
        }
    }
    Ok(())
}

fn is_address(text: &str) -> bool {
    matches!(text.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace))
}
