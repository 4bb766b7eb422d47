//! Reading and changing tickets: list, view, patch, assign, merge.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{AgentDesk, DeskError, Staff};
use crate::model::{
    Actor, AuthorKind, Direction, Identity, Message, MessageId, Priority, Status, Ticket, TicketEvent,
    TicketNumber, Visibility,
};
use crate::query::{TicketFilter, TicketPage};
use crate::sla::TimerView;
use crate::text;

/// A ticket with everything an agent reads on its page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketView {
    pub ticket: Ticket,
    /// Its thread and the threads of tickets merged into it, oldest first.
    pub messages: Vec<Message>,
    /// Its audit trail, by `seq`.
    pub events: Vec<TicketEvent>,
    /// Each SLA timer: target, due at, business time left, running or paused, met or
    /// breached. Empty without `[sla]`.
    pub sla: Vec<TimerView>,
}

/// Whether a merge may join two customers' tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeScope {
    /// Only tickets of the same requester.
    SameCustomer,
    /// Tickets of different requesters too: a supervisor's explicit decision.
    AcrossCustomers,
}

/// A change to a ticket. Fields left out stay as they are; `Some(None)` clears team,
/// assignee or category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    /// The version the client saw: a stale one is a conflict.
    pub version: u64,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present")]
    pub team: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub assignee: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<BTreeSet<String>>,
    #[serde(default, deserialize_with = "present")]
    pub category: Option<Option<String>>,
    /// Who is copied on the ticket's mail: the whole list, at most `[email] max_cc`
    /// addresses.
    #[serde(default)]
    pub cc: Option<BTreeSet<String>>,
}

/// Tells a field sent as `null` (clear it) from a field left out (keep it).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Longest tag, category or team id the desk stores.
const MAX_LABEL_CHARS: usize = 64;
const MAX_TAGS: usize = 50;

impl AgentDesk {
    pub async fn list(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, DeskError> {
        let position = match cursor {
            Some(cursor) => Some(self.cursors.open(filter, cursor).map_err(|_| bad_cursor())?),
            None => None,
        };
        let mut page = self.ports.tickets.list(filter, limit, position).await?;
        page.cursor = page.cursor.map(|position| self.cursors.seal(filter, &position));
        Ok(page)
    }

    pub async fn view(&self, number: TicketNumber) -> Result<TicketView, DeskError> {
        let ticket = self.load(number).await?;
        let mut messages = self.ports.tickets.messages(number).await?;
        for merged in &ticket.merged_from {
            messages.extend(self.ports.tickets.messages(*merged).await?);
        }
        messages.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        let events = self.ports.tickets.events(number).await?;
        let sla = match &self.sla {
            Some(policies) => ticket.sla.view(policies, self.ports.clock.now()),
            None => Vec::new(),
        };
        Ok(TicketView { ticket, messages, events, sla })
    }

    /// Applies `patch` as one commit; an assignee must be a known agent.
    pub async fn patch(
        &self,
        staff: &Staff,
        number: TicketNumber,
        patch: TicketPatch,
    ) -> Result<Ticket, DeskError> {
        let patch = clean_patch(patch)?;
        validate_patch(&patch)?;
        let cc = match &patch.cc {
            Some(cc) => Some(normalise_cc(cc, self.email.max_cc)?),
            None => None,
        };
        if let Some(Some(agent)) = &patch.assignee {
            self.ensure_agent(agent).await?;
        }
        if let (Some(Some(team)), Some(routing)) = (&patch.team, &self.routing)
            && routing.team(team).is_none()
        {
            return Err(DeskError::Invalid(format!("unknown team {team:?}")));
        }
        let mut ticket = self.load_at(number, Some(patch.version)).await?;
        if patch.tags.is_some() || patch.category.is_some() || cc.is_some() {
            Self::refuse_text_after_erasure(&ticket, "tags, category or copied addresses")?;
        }
        let previous = ticket.assignee.clone();
        let actor = staff.actor();
        let now = self.ports.clock.now();
        let mut events = Vec::new();
        if let Some(team) = patch.team {
            events.extend(ticket.set_team(&actor, team, format!("changed by {}", staff.0), now)?);
        }
        if let Some(assignee) = patch.assignee.clone() {
            events.extend(ticket.assign(&actor, assignee, now)?);
        }
        if let Some(priority) = patch.priority {
            events.extend(ticket.set_priority(&actor, priority, now)?);
        }
        if let Some(tags) = patch.tags {
            events.extend(ticket.set_tags(&actor, tags, now)?);
        }
        if let Some(category) = patch.category {
            events.extend(ticket.set_category(&actor, category, now)?);
        }
        if let Some(cc) = cc {
            events.extend(ticket.set_cc(&actor, cc, now)?);
        }
        if let Some(status) = patch.status {
            events.extend(ticket.set_status(&actor, status, now)?);
        }
        let ticket = self.save(ticket, patch.version, events).await?;
        if let Some(Some(agent)) = &patch.assignee {
            self.ports.agents.touch_assigned(agent, now).await?;
        }
        // A solved or handed-over ticket frees room: offer the queue again.
        if let Some(agent) =
            previous.filter(|a| ticket.assignee.as_ref() != Some(a) || !ticket.status.is_unfinished())
        {
            self.reoffer_for(&agent).await?;
        }
        Ok(ticket)
    }

    /// Assigns the ticket to `agent`, or (with `None`) to the best agent of its team. A
    /// conditional write on `version`: of two concurrent assignments one wins, the other is a
    /// conflict.
    pub async fn assign(
        &self,
        staff: &Staff,
        number: TicketNumber,
        agent: Option<String>,
        version: u64,
    ) -> Result<Ticket, DeskError> {
        let mut ticket = self.load_at(number, Some(version)).await?;
        let agent = match agent {
            Some(agent) => {
                self.ensure_agent(&agent).await?;
                agent
            }
            None => self.best_agent_for(&ticket).await?,
        };
        let now = self.ports.clock.now();
        let events = ticket.assign(&staff.actor(), Some(agent.clone()), now)?;
        let ticket = self.save(ticket, version, events).await?;
        self.ports.agents.touch_assigned(&agent, now).await?;
        Ok(ticket)
    }

    /// Merges `source` into `target`: the source closes and points at the target, whose view
    /// shows both threads; the source's own trail stays readable under its number. Repeating a
    /// merge that half-happened completes it. Tickets of two customers merge only with
    /// [`MergeScope::AcrossCustomers`] (the edge lets only supervisors ask for it): one
    /// customer's thread would otherwise show in another's.
    pub async fn merge(
        &self,
        staff: &Staff,
        source: TicketNumber,
        target: TicketNumber,
        scope: MergeScope,
    ) -> Result<Ticket, DeskError> {
        if source == target {
            return Err(DeskError::Invalid("a ticket cannot be merged into itself".into()));
        }
        let mut into = self.load(target).await?;
        if into.status == Status::Closed {
            return Err(DeskError::Invalid(format!("ticket {target} is closed")));
        }
        if into.merged_from.contains(&source) {
            return Ok(into);
        }
        let mut from = self.load(source).await?;
        if from.requester != into.requester && scope != MergeScope::AcrossCustomers {
            return Err(DeskError::Conflict(format!(
                "ticket {source} belongs to another customer than ticket {target}: merging them needs \
                 a supervisor and \"across_customers\": true"
            )));
        }
        let now = self.ports.clock.now();
        let actor = staff.actor();
        match from.merged_into {
            Some(already) if already == target => {}
            Some(other) => {
                return Err(DeskError::Conflict(format!("ticket {source} was merged into {other}")));
            }
            None => {
                let version = from.version;
                let events = from.merge_into(&actor, target, now)?;
                self.save(from, version, events).await?;
            }
        }
        let version = into.version;
        into.merged_from.insert(source);
        let note = self.merge_note(&into, source, &actor, now);
        let events = into.add_message(&actor, &note, now)?;
        self.commit(crate::ports::TicketCommit {
            ticket: into,
            expected_version: Some(version),
            messages: vec![note],
            events,
            thread_claims: Vec::new(),
            idempotency: None,
        })
        .await
    }

    /// The internal note that tells readers of the target where the merged thread came from.
    fn merge_note(&self, into: &Ticket, source: TicketNumber, actor: &Actor, at: jiff::Timestamp) -> Message {
        let author = match actor {
            Actor::Agent(login) => Some(login.clone()),
            _ => None,
        };
        Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: into.number,
            direction: Direction::Outbound,
            author: AuthorKind::Agent,
            author_id: author,
            visibility: Visibility::Internal,
            text: format!("Ticket {source} was merged into this ticket."),
            attachments: Vec::new(),
            channel_ref: crate::model::ChannelRef::None,
            created_at: at,
            flags: Default::default(),
        }
    }
}

fn bad_cursor() -> DeskError {
    DeskError::Invalid("cursor: not one this list handed out; start again without it".into())
}

/// Tags, category, team and assignee through the one sanitiser: invisible-only is refused.
fn clean_patch(mut patch: TicketPatch) -> Result<TicketPatch, DeskError> {
    let clean = |field: &str, value: &str| text::required_line(field, value, MAX_LABEL_CHARS);
    if let Some(tags) = patch.tags.take() {
        patch.tags = Some(tags.iter().map(|t| clean("tags", t)).collect::<Result<_, _>>()?);
    }
    for (field, value) in
        [("team", &mut patch.team), ("assignee", &mut patch.assignee), ("category", &mut patch.category)]
    {
        if let Some(Some(raw)) = value {
            *raw = clean(field, raw)?;
        }
    }
    Ok(patch)
}
/// Each address valid and lower-cased, at most `max` of them.
fn normalise_cc(cc: &BTreeSet<String>, max: usize) -> Result<BTreeSet<String>, DeskError> {
    if cc.len() > max {
        return Err(DeskError::Invalid(format!("cc: at most {max} addresses")));
    }
    cc.iter()
        .map(|raw| match Identity::email(raw) {
            Ok(Identity::Email { address }) if address.len() <= MAX_ADDRESS_CHARS => Ok(address),
            _ => Err(DeskError::Invalid(format!("cc: {raw:?} is not an email address"))),
        })
        .collect()
}

/// Longest address a cc list takes (RFC 5321's path limit).
const MAX_ADDRESS_CHARS: usize = 254;

fn validate_patch(patch: &TicketPatch) -> Result<(), DeskError> {
    let label = |field: &str, value: &str| {
        if value.trim().is_empty() || value.chars().count() > MAX_LABEL_CHARS {
            Err(DeskError::Invalid(format!("{field}: use 1–{MAX_LABEL_CHARS} characters")))
        } else {
            Ok(())
        }
    };
    if let Some(tags) = &patch.tags {
        if tags.len() > MAX_TAGS {
            return Err(DeskError::Invalid(format!("tags: at most {MAX_TAGS}")));
        }
        tags.iter().try_for_each(|t| label("tags", t))?;
    }
    for (field, value) in
        [("team", &patch.team), ("assignee", &patch.assignee), ("category", &patch.category)]
    {
        if let Some(Some(value)) = value {
            label(field, value)?;
        }
    }
    Ok(())
}
