//! The ticket lifecycle as an explicit state machine. A ticket changes only through the
//! methods here; each change bumps the version by one and returns the one event it produced.
//!
//! ```text
//!            agent/system: any working status          system only
//!  new ──► open ◄──► pending ◄──► on_hold ◄──► solved ──────────► closed (terminal)
//!   customer message: pending/solved ──► open; new/open/on_hold stay
//! ```

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;

use crate::model::{
    Actor, AuthorKind, Channel, CustomerId, Direction, EventKind, Message, Priority, Status, Ticket,
    TicketEvent, TicketNumber, Visibility,
};

/// The kind of actor, which is what the transition rules care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
    System,
}

impl From<&Actor> for Role {
    fn from(actor: &Actor) -> Self {
        match actor {
            Actor::Customer(_) => Role::Customer,
            Actor::Agent(_) => Role::Agent,
            Actor::System => Role::System,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::System => "system",
        })
    }
}

/// What happened to the ticket, as far as its status is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A public message from the customer.
    CustomerMessage,
    /// A public reply by an agent.
    AgentReply,
    /// Someone assigned the ticket to an agent.
    Assigned,
    /// An explicit status change.
    SetStatus(Status),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// Nothing changes a closed ticket; a customer writing again gets a linked follow-up.
    #[error("ticket {0} is closed")]
    Closed(TicketNumber),
    #[error("a {role} may not move a ticket from {from} to {to}")]
    Forbidden { role: Role, from: Status, to: Status },
    #[error("a {role} may not {action}")]
    NotAllowed { role: Role, action: &'static str },
}

/// Statuses agents move tickets between while working them.
const WORKING: [Status; 4] = [Status::Open, Status::Pending, Status::OnHold, Status::Solved];

/// The whole rule table: the status after `trigger` by `role`, or why it may not happen.
pub fn next_status(from: Status, role: Role, trigger: Trigger) -> Result<Status, LifecycleError> {
    use Status::*;
    let forbidden = |to| Err(LifecycleError::Forbidden { role, from, to });
    if from == Closed {
        return Err(LifecycleError::Closed(TicketNumber(0)));
    }
    match trigger {
        Trigger::CustomerMessage => match from {
            Pending | Solved => Ok(Open),
            other => Ok(other),
        },
        Trigger::AgentReply | Trigger::Assigned => Ok(if from == New { Open } else { from }),
        Trigger::SetStatus(to) if to == from => Ok(from),
        Trigger::SetStatus(to) => match role {
            Role::Customer => forbidden(to),
            Role::Agent | Role::System if WORKING.contains(&to) => Ok(to),
            Role::System if from == Solved && to == Closed => Ok(Closed),
            Role::Agent | Role::System => forbidden(to),
        },
    }
}

impl Ticket {
    /// A new ticket, version 1, with its `created` event.
    pub fn open(
        number: TicketNumber,
        channel: Channel,
        subject: String,
        requester: CustomerId,
        follow_up_of: Option<TicketNumber>,
        at: Timestamp,
    ) -> (Ticket, TicketEvent) {
        let mut ticket = Ticket {
            number,
            status: Status::New,
            priority: Priority::default(),
            channel,
            subject,
            subject_at: None,
            requester: requester.clone(),
            team: None,
            assignee: None,
            tags: Default::default(),
            category: None,
            follow_up_of,
            reply_token: None,
            cc: Default::default(),
            created_at: at,
            updated_at: at,
            solved_at: None,
            closed_at: None,
            skills: Default::default(),
            language: None,
            merged_into: None,
            merged_from: Default::default(),
            erased_at: None,
            missed_calls: Vec::new(),
            version: 0,
            sla: Default::default(),
            due_at: None,
            survey: None,
            bot: None,
            order: None,
        };
        let event = ticket.record(
            Actor::Customer(requester.clone()),
            EventKind::Created { channel, requester, follow_up_of },
            at,
        );
        (ticket, event)
    }

    /// Adds a message to the thread: `message_in` / `message_out`, then the status change the
    /// message implies (a customer writing to a pending ticket reopens it).
    pub fn add_message(
        &mut self,
        actor: &Actor,
        message: &Message,
        at: Timestamp,
    ) -> Result<Vec<TicketEvent>, LifecycleError> {
        self.ensure_not_closed()?;
        let role = Role::from(actor);
        let trigger = match (message.author, message.visibility) {
            (AuthorKind::Customer, _) if role == Role::Customer => Some(Trigger::CustomerMessage),
            (AuthorKind::Customer, _) => {
                return Err(LifecycleError::NotAllowed { role, action: "write as the customer" });
            }
            (AuthorKind::Agent, Visibility::Public) if role == Role::Agent => Some(Trigger::AgentReply),
            (AuthorKind::Agent, _) if role != Role::Agent => {
                return Err(LifecycleError::NotAllowed { role, action: "write as an agent" });
            }
            _ => None,
        };
        let next = match trigger {
            Some(trigger) => Some(next_status(self.status, role, trigger).map_err(|e| self.own(e))?),
            None => None,
        };
        let kind = match message.direction {
            Direction::Inbound => EventKind::MessageIn { message: message.id.clone() },
            Direction::Outbound => EventKind::MessageOut {
                message: message.id.clone(),
                internal: message.visibility == Visibility::Internal,
            },
        };
        let mut events = vec![self.record(actor.clone(), kind, at)];
        if let Some(to) = next.filter(|to| *to != self.status) {
            events.push(self.change_status(actor.clone(), to, at));
        }
        Ok(events)
    }

    /// An explicit status change; `None` when the ticket already has that status.
    pub fn set_status(
        &mut self,
        actor: &Actor,
        to: Status,
        at: Timestamp,
    ) -> Result<Option<TicketEvent>, LifecycleError> {
        let next =
            next_status(self.status, Role::from(actor), Trigger::SetStatus(to)).map_err(|e| self.own(e))?;
        Ok((next != self.status).then(|| self.change_status(actor.clone(), next, at)))
    }

    /// Assigns the ticket (or unassigns with `None`); a new ticket becomes open when someone
    /// takes it.
    pub fn assign(
        &mut self,
        actor: &Actor,
        to: Option<String>,
        at: Timestamp,
    ) -> Result<Vec<TicketEvent>, LifecycleError> {
        self.ensure_not_closed()?;
        let role = Role::from(actor);
        if role == Role::Customer {
            return Err(LifecycleError::NotAllowed { role, action: "assign tickets" });
        }
        if to == self.assignee {
            return Ok(Vec::new());
        }
        let from = std::mem::replace(&mut self.assignee, to.clone());
        let mut events = vec![self.record(actor.clone(), EventKind::Assigned { from, to: to.clone() }, at)];
        if to.is_some() {
            let next = next_status(self.status, role, Trigger::Assigned).map_err(|e| self.own(e))?;
            if next != self.status {
                events.push(self.change_status(actor.clone(), next, at));
            }
        }
        Ok(events)
    }

    /// Moves the ticket to `team` (or out of every team), with the reason for the audit
    /// trail. A team change is an `escalated` event, whether it is the first routing of a new
    /// ticket or a later move; `None` when the ticket is already there.
    pub fn set_team(
        &mut self,
        actor: &Actor,
        team: Option<String>,
        reason: String,
        at: Timestamp,
    ) -> Result<Option<TicketEvent>, LifecycleError> {
        self.ensure_not_closed()?;
        let role = Role::from(actor);
        if role == Role::Customer {
            return Err(LifecycleError::NotAllowed { role, action: "change teams" });
        }
        if team == self.team {
            return Ok(None);
        }
        let from_team = std::mem::replace(&mut self.team, team.clone());
        Ok(Some(self.record(actor.clone(), EventKind::Escalated { from_team, to_team: team, reason }, at)))
    }

    pub fn set_priority(
        &mut self,
        actor: &Actor,
        to: Priority,
        at: Timestamp,
    ) -> Result<Option<TicketEvent>, LifecycleError> {
        self.ensure_not_closed()?;
        let role = Role::from(actor);
        if role == Role::Customer {
            return Err(LifecycleError::NotAllowed { role, action: "change priority" });
        }
        if to == self.priority {
            return Ok(None);
        }
        let from = std::mem::replace(&mut self.priority, to);
        Ok(Some(self.record(actor.clone(), EventKind::Priority { from, to }, at)))
    }

    /// Replaces the addresses copied on the ticket's mail (already validated and
    /// normalised); `None` when they are unchanged.
    pub fn set_cc(
        &mut self,
        actor: &Actor,
        cc: BTreeSet<String>,
        at: Timestamp,
    ) -> Result<Option<TicketEvent>, LifecycleError> {
        self.ensure_staff(actor, "change who is copied")?;
        if cc == self.cc {
            return Ok(None);
        }
        let added = cc.difference(&self.cc).count();
        let removed = self.cc.difference(&cc).count();
        self.cc = cc;
        Ok(Some(self.record(actor.clone(), EventKind::Cc { added, removed }, at)))
    }

    /// Replaces the tags; `None` when they are unchanged.
    pub fn set_tags(
        &mut self,
        actor: &Actor,
        tags: BTreeSet<String>,
        at: Timestamp,
    ) -> Result<Option<TicketEvent>, LifecycleError> {
        self.ensure_staff(actor, "change tags")?;
        if tags == self.tags {
            return Ok(None);
        }
        let added = tags.difference(&self.tags).cloned().collect();
        let removed = self.tags.difference(&tags).cloned().collect();
        self.tags = tags;
        Ok(Some(self.record(actor.clone(), EventKind::Tags { added, removed }, at)))
    }

    pub fn set_category(
        &mut self,
        actor: &Actor,
        to: Option<String>,
        at: Timestamp,
    ) -> Result<Option<TicketEvent>, LifecycleError> {
        self.ensure_staff(actor, "change the category")?;
        if to == self.category {
            return Ok(None);
        }
        let from = std::mem::replace(&mut self.category, to.clone());
        Ok(Some(self.record(actor.clone(), EventKind::Category { from, to }, at)))
    }

    /// Closes the ticket as merged into `target`, whose thread continues it.
    pub fn merge_into(
        &mut self,
        actor: &Actor,
        target: TicketNumber,
        at: Timestamp,
    ) -> Result<Vec<TicketEvent>, LifecycleError> {
        self.ensure_staff(actor, "merge tickets")?;
        self.merged_into = Some(target);
        let mut events = vec![self.record(actor.clone(), EventKind::Merged { into: target }, at)];
        events.push(self.change_status(actor.clone(), Status::Closed, at));
        Ok(events)
    }

    /// Hands the ticket to the customer its requester was merged into. Allowed on closed
    /// tickets too: a customer's whole history moves.
    pub fn set_requester(&mut self, actor: &Actor, to: CustomerId, at: Timestamp) -> Option<TicketEvent> {
        if to == self.requester {
            return None;
        }
        let from = std::mem::replace(&mut self.requester, to.clone());
        Some(self.record(actor.clone(), EventKind::Requester { from, to }, at))
    }

    /// Removes what identifies the requester (subject, copied addresses, tags, category) and
    /// marks the ticket erased; the facts metrics need stay. Allowed on closed tickets: erasure reaches the whole history.
    pub fn erase_personal_data(&mut self, actor: &Actor, placeholder: &str, at: Timestamp) -> TicketEvent {
        self.subject = placeholder.to_owned();
        self.cc.clear();
        // Agents type tags and categories; they may say who the customer is.
        self.tags.clear();
        self.category = None;
        self.erased_at.get_or_insert(at);
        self.record(actor.clone(), EventKind::Erased, at)
    }

    fn ensure_staff(&self, actor: &Actor, action: &'static str) -> Result<(), LifecycleError> {
        self.ensure_not_closed()?;
        match Role::from(actor) {
            Role::Customer => Err(LifecycleError::NotAllowed { role: Role::Customer, action }),
            _ => Ok(()),
        }
    }

    fn ensure_not_closed(&self) -> Result<(), LifecycleError> {
        if self.status == Status::Closed { Err(LifecycleError::Closed(self.number)) } else { Ok(()) }
    }

    /// `next_status` does not know the ticket; put its number into the error.
    fn own(&self, error: LifecycleError) -> LifecycleError {
        match error {
            LifecycleError::Closed(_) => LifecycleError::Closed(self.number),
            other => other,
        }
    }

    fn change_status(&mut self, actor: Actor, to: Status, at: Timestamp) -> TicketEvent {
        let from = std::mem::replace(&mut self.status, to);
        match to {
            Status::Solved => self.solved_at = Some(at),
            Status::Closed => self.closed_at = Some(at),
            _ => self.solved_at = None,
        }
        self.record(actor, EventKind::Status { from, to }, at)
    }

    /// The single place where a change becomes an event: one version, one event.
    pub(crate) fn record(&mut self, actor: Actor, kind: EventKind, at: Timestamp) -> TicketEvent {
        self.version += 1;
        self.updated_at = at;
        TicketEvent { ticket: self.number, seq: self.version, at, actor, kind }
    }
}

#[cfg(test)]
mod tests;
