//! Folds one ticket's trail into its facts (the `tickets` row) and the moments the hourly
//! KPIs count (created, first reply, solved, survey answer), each with the ticket's channel,
//! team and category as they were at that moment. Times are business seconds on the SLA
//! calendar of the ticket's team at that moment.

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::model::{Actor, Channel, CustomerId, EventKind, Priority, Status, TicketEvent, TicketNumber};
use crate::sla::SlaPolicies;

/// What a KPI counts, at the instant it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum MomentKind {
    Created,
    FirstReply { seconds: i64 },
    Solved { seconds: i64, sla_met: bool, first_contact: bool },
    Answered { score: u8 },
}

/// A counted moment with the ticket's dimensions at that instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub at: Timestamp,
    pub ticket: TicketNumber,
    pub channel: String,
    pub team: Option<String>,
    pub category: Option<String>,
    pub complaint: bool,
    pub kind: MomentKind,
}

/// A ticket as its trail tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFacts {
    pub number: TicketNumber,
    pub channel: Option<Channel>,
    pub requester: Option<CustomerId>,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub category: Option<String>,
    pub tags: BTreeSet<String>,
    pub priority: Priority,
    pub status: Status,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub first_reply_at: Option<Timestamp>,
    pub first_reply_seconds: Option<i64>,
    pub solved_at: Option<Timestamp>,
    pub resolution_seconds: Option<i64>,
    pub sla_breached: bool,
    pub reopen_count: u32,
    pub public_replies: u32,
    pub replies_until_solved: Option<u32>,
    pub csat: Option<u8>,
    /// Closed spans in which the resolution clock stood still (pause statuses, solved).
    stopped: Vec<(Timestamp, Timestamp)>,
    stopped_since: Option<Timestamp>,
}

impl TicketFacts {
    fn new(number: TicketNumber) -> Self {
        Self {
            number,
            channel: None,
            requester: None,
            team: None,
            agent: None,
            category: None,
            tags: BTreeSet::new(),
            priority: Priority::default(),
            status: Status::New,
            created_at: None,
            updated_at: None,
            first_reply_at: None,
            first_reply_seconds: None,
            solved_at: None,
            resolution_seconds: None,
            sla_breached: false,
            reopen_count: 0,
            public_replies: 0,
            replies_until_solved: None,
            csat: None,
            stopped: Vec::new(),
            stopped_since: None,
        }
    }

    /// Whether the category or a tag names a complaint (`markers`, lower case).
    pub fn is_complaint(&self, markers: &[String]) -> bool {
        let marked = |text: &str| markers.iter().any(|m| m.eq_ignore_ascii_case(text));
        self.category.as_deref().is_some_and(marked) || self.tags.iter().any(|t| marked(t))
    }

    pub fn channel_name(&self) -> &'static str {
        self.channel.map_or("unknown", Channel::as_str)
    }

    /// Solved and no SLA breach; `None` while unsolved.
    pub fn sla_met(&self) -> Option<bool> {
        self.solved_at.map(|_| !self.sla_breached)
    }

    /// At most one public reply before the first solve, and never reopened.
    pub fn first_contact_resolution(&self) -> Option<bool> {
        self.replies_until_solved.map(|replies| replies <= 1 && self.reopen_count == 0)
    }
}

/// Folds `trail` (sorted by `seq`), ignoring events at or after `up_to`.
pub fn fold(
    trail: &[TicketEvent],
    up_to: Timestamp,
    policies: &SlaPolicies,
    complaint_markers: &[String],
) -> Option<(TicketFacts, Vec<Moment>)> {
    let first = trail.first()?;
    let mut facts = TicketFacts::new(first.ticket);
    let mut moments = Vec::new();
    for event in trail.iter().filter(|e| e.at < up_to) {
        if let Some(kind) = apply(&mut facts, event, policies) {
            moments.push(Moment {
                at: event.at,
                ticket: facts.number,
                channel: facts.channel_name().to_owned(),
                team: facts.team.clone(),
                category: facts.category.clone(),
                complaint: facts.is_complaint(complaint_markers),
                kind,
            });
        }
    }
    // A ticket created before its trail was kept, or whose `created` lies beyond `up_to`,
    // has no creation to measure from: not a ticket of this export.
    facts.created_at?;
    // Dimensions settle in the same commit as the moment (routing follows creation): a
    // `created` moment takes the team and category the creation's commit gave it.
    settle_created(&mut moments, trail, &facts, policies, complaint_markers);
    Some((facts, moments))
}

fn apply(facts: &mut TicketFacts, event: &TicketEvent, policies: &SlaPolicies) -> Option<MomentKind> {
    let at = event.at;
    facts.updated_at = Some(at);
    match &event.kind {
        EventKind::Created { channel, requester, .. } => {
            facts.channel = Some(*channel);
            facts.requester = Some(requester.clone());
            facts.created_at = Some(at);
            return Some(MomentKind::Created);
        }
        EventKind::MessageOut { internal: false, .. } if matches!(event.actor, Actor::Agent(_)) => {
            facts.public_replies += 1;
            if facts.first_reply_at.is_none() {
                let created = facts.created_at?;
                let seconds = business_seconds(policies, facts.team.as_deref(), created, at, &[]);
                facts.first_reply_at = Some(at);
                facts.first_reply_seconds = Some(seconds);
                return Some(MomentKind::FirstReply { seconds });
            }
        }
        EventKind::Status { from, to } => {
            let was_stopped = stops(policies, *from);
            let now_stopped = stops(policies, *to);
            if was_stopped && !now_stopped {
                if let Some(since) = facts.stopped_since.take() {
                    facts.stopped.push((since, at));
                }
            } else if !was_stopped && now_stopped {
                facts.stopped_since = Some(at);
            }
            if matches!(from, Status::Solved | Status::Closed) && to.is_unfinished() {
                facts.reopen_count += 1;
            }
            facts.status = *to;
            if *to == Status::Solved {
                let created = facts.created_at?;
                let seconds = business_seconds(policies, facts.team.as_deref(), created, at, &facts.stopped);
                facts.solved_at = Some(at);
                facts.resolution_seconds = Some(seconds);
                facts.replies_until_solved.get_or_insert(facts.public_replies);
                let first_contact = facts.public_replies <= 1 && facts.reopen_count == 0;
                return Some(MomentKind::Solved { seconds, sla_met: !facts.sla_breached, first_contact });
            }
        }
        EventKind::Assigned { to, .. } => facts.agent = to.clone(),
        EventKind::Escalated { to_team, .. } => facts.team = to_team.clone(),
        EventKind::Priority { to, .. } => facts.priority = *to,
        EventKind::Category { to, .. } => facts.category = to.clone(),
        EventKind::Tags { added, removed } => {
            for tag in removed {
                facts.tags.remove(tag);
            }
            facts.tags.extend(added.iter().cloned());
        }
        EventKind::SlaBreached { .. } => facts.sla_breached = true,
        EventKind::SurveyAnswered { score, .. } => {
            facts.csat = Some(*score);
            return Some(MomentKind::Answered { score: *score });
        }
        EventKind::Requester { to, .. } => facts.requester = Some(to.clone()),
        _ => {}
    }
    None
}

/// The resolution clock stands still in the SLA's pause statuses and while solved.
fn stops(policies: &SlaPolicies, status: Status) -> bool {
    policies.is_paused_status(status) || matches!(status, Status::Solved | Status::Closed)
}

/// Business seconds in `[from, to)` on the team's calendar, less the business time of the
/// `stopped` spans.
fn business_seconds(
    policies: &SlaPolicies,
    team: Option<&str>,
    from: Timestamp,
    to: Timestamp,
    stopped: &[(Timestamp, Timestamp)],
) -> i64 {
    let calendar = policies.team_calendar(team);
    let total = calendar.business_between(from, to).as_secs();
    let paused: u64 = stopped
        .iter()
        .map(|(start, end)| calendar.business_between((*start).max(from), (*end).min(to)).as_secs())
        .sum();
    i64::try_from(total.saturating_sub(paused)).unwrap_or(i64::MAX)
}

/// Gives the `created` moment the team, category and complaint mark of the ticket after
/// every event of the creation's instant (its commit).
fn settle_created(
    moments: &mut [Moment],
    trail: &[TicketEvent],
    facts: &TicketFacts,
    policies: &SlaPolicies,
    markers: &[String],
) {
    let Some(created) = facts.created_at else { return };
    let mut settled = TicketFacts::new(facts.number);
    for event in trail.iter().take_while(|e| e.at <= created) {
        apply(&mut settled, event, policies);
    }
    for moment in moments.iter_mut().filter(|m| m.kind == MomentKind::Created) {
        moment.team = settled.team.clone();
        moment.category = settled.category.clone();
        moment.complaint = settled.is_complaint(markers);
    }
}
