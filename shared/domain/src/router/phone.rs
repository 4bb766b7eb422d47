//! Calls on tickets. Every contact event of a call is one inbound message; the call's
//! contact id is its thread key. The first event routed (whichever Connect delivered first)
//! joins the caller's open ticket the flow named, or opens a phone ticket, and adds the
//! call's one message; every event adds a `call` event. A call nobody answered gets one
//! callback (a Connect task, through the outbound queue), scheduled at the next business
//! minute of the team's calendar after hours, with a callback SLA timer; a second missed
//! call within a day on the same ticket raises its priority.

use std::time::Duration;

use jiff::Timestamp;

use super::{Plan, RouteError, RouteOutcome, TicketRouter};
use crate::inbound::{CallStage, InboundMessage, PhoneSource};
use crate::model::{
    Actor, CustomerId, EventKind, MAX_MISSED_CALLS, MessageId, MissedCall, Ticket, TicketEvent,
};
use crate::outbound::{CallbackTask, Destination, OutboundJob, OutboundKind};
use crate::ports::{StoreError, ThreadClaim, TicketCommit};
use crate::system::earlier;

/// Missed calls within this window on one open ticket make a repeat caller.
pub const REPEAT_CALLER_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// How many missed calls in the window raise the ticket's priority.
pub const REPEAT_CALLER_MISSED: usize = 2;

impl TicketRouter {
    /// The ticket a call is already on: later events of a call need no identity lookup (and
    /// a withheld caller's events no second customer).
    pub(super) async fn call_ticket(&self, inbound: &InboundMessage) -> Result<Option<Ticket>, RouteError> {
        let crate::inbound::Source::Phone(_) = &inbound.source else { return Ok(None) };
        let Some(number) = self.ports.tickets.thread_ticket(&inbound.thread_key()).await? else {
            return Ok(None);
        };
        Ok(self.ports.tickets.ticket(number).await?)
    }

    pub(super) async fn plan_call(
        &self,
        inbound: &InboundMessage,
        phone: &PhoneSource,
        customer: &CustomerId,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let tickets = &*self.ports.tickets;
        let key = inbound.thread_key();
        if let Some(number) = tickets.thread_ticket(&key).await? {
            let ticket = tickets.ticket(number).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("call thread points at missing ticket #{}", number.0))
            })?;
            if ticket.erased_at.is_none() {
                return self.call_step(inbound, phone, customer, ticket, now);
            }
            // Its ticket was erased, and this event came after (earlier ones were dropped): a
            // new contact. The call's key moves to a ticket of its own, not linked to it.
            let previous = super::FollowUp { of: ticket.number, key: Some(key), linked: false };
            let mut plan = self.open_ticket(inbound, customer, Some(previous), true, now).await?;
            let events =
                self.call_changes(&mut plan.commit.ticket, &mut plan.outcome.outbound, phone, inbound, now)?;
            plan.commit.events.extend(events);
            plan.commit.idempotency = Some(self.record(inbound, &plan.outcome, now));
            return Ok(plan);
        }
        let joined = match phone.open_ticket {
            Some(number) => tickets
                .ticket(number)
                .await?
                .filter(|t| t.requester == *customer && t.status.is_unfinished() && t.merged_into.is_none()),
            None => None,
        };
        let mut plan = match joined {
            Some(ticket) => {
                let number = ticket.number;
                let mut plan = self.continue_ticket(inbound, customer, ticket, false, now).await?;
                plan.commit.thread_claims.push(ThreadClaim { key, ticket: number, replaces: None });
                plan
            }
            // Claims the call's key: a concurrent first event of the same call loses the
            // commit and retries onto this ticket.
            None => self.open_ticket(inbound, customer, None, true, now).await?,
        };
        let events =
            self.call_changes(&mut plan.commit.ticket, &mut plan.outcome.outbound, phone, inbound, now)?;
        plan.commit.events.extend(events);
        plan.commit.idempotency = Some(self.record(inbound, &plan.outcome, now));
        Ok(plan)
    }

    /// A later event of a call already on its ticket: its `call` event (and a callback if
    /// it is the missed call's disconnect), no message.
    pub(super) fn call_step(
        &self,
        inbound: &InboundMessage,
        phone: &PhoneSource,
        customer: &CustomerId,
        mut ticket: Ticket,
        now: Timestamp,
    ) -> Result<Plan, RouteError> {
        let expected_version = Some(ticket.version);
        let mut outbound = Vec::new();
        let events = self.call_changes(&mut ticket, &mut outbound, phone, inbound, now)?;
        let outcome = RouteOutcome {
            ticket: ticket.number,
            message: MessageId::from_token(&self.ports.ids.token()),
            customer: customer.clone(),
            opened: false,
            follow_up_of: None,
            outbound,
            duplicate: false,
            dropped: false,
        };
        let commit = TicketCommit {
            ticket,
            expected_version,
            messages: Vec::new(),
            events,
            thread_claims: Vec::new(),
            idempotency: Some(self.record(inbound, &outcome, now)),
        };
        Ok(Plan { commit, outcome })
    }

    /// The ticket changes one contact event makes: its `call` event; for an answered call
    /// the callback met; for a missed call (once per call) the callback and the repeat-caller
    /// priority.
    fn call_changes(
        &self,
        ticket: &mut Ticket,
        outbound: &mut Vec<OutboundJob>,
        phone: &PhoneSource,
        inbound: &InboundMessage,
        now: Timestamp,
    ) -> Result<Vec<TicketEvent>, RouteError> {
        let stage = match (phone.stage, phone.missed) {
            (CallStage::Disconnected, Some(_)) => "missed".to_owned(),
            (stage, _) => stage.as_str().to_owned(),
        };
        let mut events = vec![ticket.record(
            Actor::System,
            EventKind::Call {
                contact: phone.contact_id.clone(),
                stage,
                agent: phone.agent.clone(),
                talk_seconds: phone.talk_seconds,
                reason: phone.disconnect_reason.clone(),
            },
            now,
        )];
        if phone.stage == CallStage::Answered
            && let Some(sla) = &self.sla
        {
            sla.callback_met(ticket, now);
        }
        let first_miss =
            phone.missed.is_some() && !ticket.missed_calls.iter().any(|m| m.contact == phone.contact_id);
        if let (Some(reason), true) = (phone.missed, first_miss) {
            let called_at = inbound.thread_at();
            ticket.missed_calls.push(MissedCall { contact: phone.contact_id.clone(), at: called_at });
            let excess = ticket.missed_calls.len().saturating_sub(MAX_MISSED_CALLS);
            ticket.missed_calls.drain(..excess);
            let since = earlier(called_at, REPEAT_CALLER_WINDOW);
            let recent = ticket.missed_calls.iter().filter(|m| m.at > since).count();
            if recent >= REPEAT_CALLER_MISSED {
                let raised = ticket.priority.raised();
                events.extend(ticket.set_priority(&Actor::System, raised, now)?);
            }
            let job = self.callback_job(ticket, Some(&phone.contact_id), reason.as_str(), now);
            events.push(self.note_callback(ticket, &job, now));
            outbound.push(job);
        }
        if let Some(sla) = &self.sla {
            sla.apply(ticket, &events, None);
        }
        Ok(events)
    }

    /// A callback job for `ticket`: scheduled at the next business minute of the team's
    /// calendar when now is outside it (no calendar: at once).
    pub(crate) fn callback_job(
        &self,
        ticket: &Ticket,
        contact: Option<&str>,
        reason: &str,
        now: Timestamp,
    ) -> OutboundJob {
        callback_job(self.sla.as_deref(), ticket, contact, reason, &*self.ports.ids, now)
    }

    /// Records the callback on the ticket and starts its SLA timer.
    fn note_callback(&self, ticket: &mut Ticket, job: &OutboundJob, now: Timestamp) -> TicketEvent {
        note_callback(self.sla.as_deref(), self.phone.callback_minutes, ticket, job, now)
    }
}

/// A callback job for `ticket` (see [`TicketRouter::callback_job`]); the agent API's
/// callback request uses it too.
pub fn callback_job(
    sla: Option<&crate::sla::SlaPolicies>,
    ticket: &Ticket,
    contact: Option<&str>,
    reason: &str,
    ids: &dyn crate::ports::IdSource,
    now: Timestamp,
) -> OutboundJob {
    let scheduled_for = sla
        .and_then(|sla| sla.team_calendar(ticket.team.as_deref()).next_open(now))
        .filter(|open| *open > now);
    let id = match contact {
        Some(contact) => OutboundJob::callback_id(contact),
        // An agent's request, at the ticket version they saw: a retried request names the
        // same delivery.
        None => format!("callback:ticket:{}:v{}", ticket.number.0, ticket.version),
    };
    OutboundJob {
        id,
        ticket: ticket.number,
        message: MessageId::from_token(&ids.token()),
        kind: OutboundKind::Callback,
        destination: Destination::Callback(CallbackTask {
            team: ticket.team.clone(),
            contact_id: contact.map(str::to_owned),
            scheduled_for,
            reason: reason.to_owned(),
        }),
        text: format!("Call back the customer of ticket {} ({})", ticket.number, reason.replace('_', " ")),
        created_at: now,
        survey: None,
    }
}

/// The `callback` event, and the callback SLA timer from the task's scheduled time.
pub fn note_callback(
    sla: Option<&crate::sla::SlaPolicies>,
    minutes: u32,
    ticket: &mut Ticket,
    job: &OutboundJob,
    now: Timestamp,
) -> TicketEvent {
    let (reason, scheduled_for) = match &job.destination {
        Destination::Callback(task) => (task.reason.clone(), task.scheduled_for),
        _ => (String::new(), None),
    };
    let event =
        ticket.record(Actor::System, EventKind::Callback { job: job.id.clone(), reason, scheduled_for }, now);
    if let Some(sla) = sla {
        sla.start_callback(ticket, minutes, scheduled_for.unwrap_or(now), now);
    }
    event
}
