//! What the sweeper does to one due ticket, purely: record each warning and breach, apply
//! the escalation rules (move team, raise priority) with the reason in the audit trail, and
//! put the alerts in the ticket's outbox. The caller commits the ticket conditioned on the
//! version it read, so two sweepers racing on it record everything once.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::SlaPolicies;
use super::config::{EscalationSpec, SlaConfigError, check_escalation};
use super::state::{TimerKind, TimerState};
use crate::model::{Actor, EventKind, MessageId, Priority, Ticket, TicketEvent};
use crate::outbound::{Destination, EmailDestination, OutboundJob, OutboundKind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTrigger {
    #[default]
    Breach,
    Warning,
}

/// A validated escalation rule.
#[derive(Debug, Clone)]
pub(super) struct Escalation {
    spec: EscalationSpec,
}

impl Escalation {
    pub(super) fn validate(
        i: usize,
        spec: &EscalationSpec,
        notify_from: Option<&str>,
        names: &mut BTreeSet<String>,
    ) -> Result<Self, SlaConfigError> {
        check_escalation(i, spec, notify_from, names)?;
        Ok(Self { spec: spec.clone() })
    }

    pub(super) fn team_references(&self, i: usize) -> Vec<(String, String)> {
        let mut refs: Vec<(String, String)> = self
            .spec
            .teams
            .iter()
            .enumerate()
            .map(|(j, t)| (format!("escalations[{i}].teams[{j}]"), t.clone()))
            .collect();
        if let Some(team) = &self.spec.to_team {
            refs.push((format!("escalations[{i}].to_team"), team.clone()));
        }
        refs
    }

    fn matches(&self, trigger: EscalationTrigger, kind: TimerKind, ticket: &Ticket) -> bool {
        let spec = &self.spec;
        spec.on == trigger
            && (spec.timers.is_empty() || spec.timers.contains(&kind))
            && (spec.teams.is_empty() || ticket.team.as_ref().is_some_and(|t| spec.teams.contains(t)))
            && (spec.priorities.is_empty() || spec.priorities.contains(&ticket.priority))
            && (spec.categories.is_empty()
                || ticket
                    .category
                    .as_ref()
                    .is_some_and(|c| spec.categories.iter().any(|want| want.eq_ignore_ascii_case(c))))
    }
}

/// A warning or breach the sweeper found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub kind: TimerKind,
    pub trigger: EscalationTrigger,
    pub cycle: u32,
}

/// What sweeping one ticket did; the ticket itself carries the changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepChange {
    pub fired: Vec<Fired>,
    pub events: Vec<TicketEvent>,
    /// Alerts now in the ticket's outbox.
    pub alerts: usize,
    pub escalations: usize,
}

impl SweepChange {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl SlaPolicies {
    /// Records every warning and breach due at `now` on `ticket`, escalates, queues alerts
    /// in its outbox and moves its timers on. Nothing due: an empty change, ticket untouched
    /// apart from `due_at` being derived again.
    pub fn sweep(&self, ticket: &mut Ticket, now: Timestamp) -> SweepChange {
        let mut change = SweepChange::default();
        for timer in ticket.sla.timers.iter_mut().filter(|t| t.state == TimerState::Running) {
            if timer.due_at <= now {
                timer.state = TimerState::Breached;
                timer.breached_at = Some(timer.due_at);
                // A warning not yet sent is overtaken by the breach itself.
                timer.warned = true;
                change.fired.push(Fired {
                    kind: timer.kind,
                    trigger: EscalationTrigger::Breach,
                    cycle: timer.cycle,
                });
            } else if !timer.warned && timer.warn_at.is_some_and(|w| w <= now) {
                timer.warned = true;
                change.fired.push(Fired {
                    kind: timer.kind,
                    trigger: EscalationTrigger::Warning,
                    cycle: timer.cycle,
                });
            }
        }
        for fired in change.fired.clone() {
            let kind = match fired.trigger {
                EscalationTrigger::Breach => EventKind::SlaBreached { timer: fired.kind.as_str().to_owned() },
                EscalationTrigger::Warning => EventKind::SlaWarning { timer: fired.kind.as_str().to_owned() },
            };
            change.events.push(ticket.record(Actor::System, kind, now));
            self.escalate(ticket, fired, now, &mut change);
        }
        // Team and priority changes re-target the remaining timers.
        let escalation_events: Vec<TicketEvent> = change
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Escalated { .. } | EventKind::Priority { .. }))
            .cloned()
            .collect();
        if escalation_events.is_empty() {
            self.refresh_due(ticket, now);
        } else {
            self.apply(ticket, &escalation_events, None);
        }
        change
    }

    fn escalate(&self, ticket: &mut Ticket, fired: Fired, now: Timestamp, change: &mut SweepChange) {
        let what = match fired.trigger {
            EscalationTrigger::Breach => "breached",
            EscalationTrigger::Warning => "warning",
        };
        // Rules match the ticket as the timer found it, not as an earlier rule left it.
        let snapshot = ticket.clone();
        for rule in self.escalations.iter().filter(|r| r.matches(fired.trigger, fired.kind, &snapshot)) {
            let spec = &rule.spec;
            let reason = format!("sla {} {what}: rule {}", fired.kind, spec.name);
            if let Some(team) = &spec.to_team
                && let Ok(Some(event)) =
                    ticket.set_team(&Actor::System, Some(team.clone()), reason.clone(), now)
            {
                change.events.push(event);
                change.escalations += 1;
            }
            let mut priority = ticket.priority;
            if spec.raise_priority {
                priority = priority.max(raised(ticket.priority));
            }
            if let Some(min) = spec.min_priority {
                priority = priority.max(min);
            }
            if priority > ticket.priority
                && let Ok(Some(event)) = ticket.set_priority(&Actor::System, priority, now)
            {
                change.events.push(event);
                change.escalations += 1;
            }
            let jobs = self.alerts(&snapshot, fired, spec, now);
            change.alerts += jobs.len();
            ticket.sla.outbox.extend(jobs);
        }
    }

    /// One job per destination of `rule`. Ids are fixed by ticket, timer, cycle, trigger,
    /// rule and destination: a job queued twice is delivered once.
    fn alerts(
        &self,
        ticket: &Ticket,
        fired: Fired,
        rule: &EscalationSpec,
        now: Timestamp,
    ) -> Vec<OutboundJob> {
        let trigger = match fired.trigger {
            EscalationTrigger::Breach => "breach",
            EscalationTrigger::Warning => "warning",
        };
        let base = format!("sla:{}:{}:{}:{trigger}:{}", ticket.number.0, fired.kind, fired.cycle, rule.name);
        let text = alert_text(ticket, fired, trigger);
        let job = |id: String, destination| OutboundJob {
            id: id.clone(),
            ticket: ticket.number,
            // Alerts answer no message; the id names the timer instead.
            message: MessageId::new(format!("sla-{}-{}-{}", ticket.number.0, fired.kind, fired.cycle)),
            kind: OutboundKind::SlaAlert,
            destination,
            text: text.clone(),
            created_at: now,
            survey: None,
        };
        let mut jobs = Vec::new();
        if let Some(from) = &self.notify_from {
            let domain = from.rsplit_once('@').map_or("omnidesk.invalid", |(_, d)| d);
            for (i, to) in rule.notify_emails.iter().enumerate() {
                let id = format!("{base}:email{i}");
                let destination = Destination::Email(EmailDestination {
                    to: to.clone(),
                    cc: Vec::new(),
                    from: from.clone(),
                    reply_to: None,
                    subject: format!("[{}] SLA {} {trigger}", ticket.number, fired.kind.label()),
                    message_id: format!("{}@{domain}", id.replace([':', ' '], ".")),
                    in_reply_to: None,
                    references: Vec::new(),
                    language: "en".to_owned(),
                });
                jobs.push(job(id, destination));
            }
        }
        if let Some(url) = &rule.notify_webhook {
            jobs.push(job(format!("{base}:webhook"), Destination::Webhook { url: url.clone() }));
        }
        jobs
    }
}

/// Names the ticket, timer, team and priority; never the customer or their words.
fn alert_text(ticket: &Ticket, fired: Fired, trigger: &str) -> String {
    let timer = ticket.sla.timer(fired.kind);
    let due = timer.map(|t| t.due_at.to_string()).unwrap_or_default();
    let target = timer.map_or(0, |t| t.target_minutes);
    format!(
        "Ticket {}: SLA {} {trigger} (target {target} business minutes, due {due}); team {}, priority {:?}.",
        ticket.number,
        fired.kind.label(),
        ticket.team.as_deref().unwrap_or("none"),
        ticket.priority,
    )
}

fn raised(priority: Priority) -> Priority {
    priority.raised()
}
