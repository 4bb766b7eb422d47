//! Returns and exchanges on a ticket: an agent starts one for a line of the requester's order
//! (customers start theirs through the router's return step or the help centre's link, on
//! the same rules), checked against the return rules;
//! each later step is one allowed transition ([`crate::orders::ReturnCase::apply`]) — an
//! event, a word to the customer in the conversation's language, and the step's SLA timer started (the
//! previous one met). A transition the state does not allow is a conflict naming the ones it
//! does. The refund status is read back from the shop when the refund is recorded.

use serde::{Deserialize, Serialize};

use super::{AgentDesk, DeskError, Staff};
use crate::envelope::seal;
use crate::model::{
    AuthorKind, ChannelRef, Direction, EventKind, Message, MessageId, Ticket, TicketEvent, TicketNumber,
    Visibility,
};
use crate::orders::returns::MAX_RETURN_REASON_CHARS;
use crate::orders::{Contact, OrderTexts, ReturnAction, ReturnRequest, ReturnState, conversation_language};
use crate::ports::TicketCommit;
use crate::text;

/// A return as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartReturn {
    pub order: String,
    pub line: String,
    pub reason: String,
    #[serde(default)]
    pub damaged: bool,
}

/// Where a return stands after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnOutcome {
    pub ticket: TicketNumber,
    pub version: u64,
    pub order: String,
    pub state: ReturnState,
    /// What may happen next.
    pub allowed: Vec<ReturnAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_status: Option<String>,
}

impl AgentDesk {
    /// Starts a return of `request.line` of the requester's order on ticket `number`.
    pub async fn start_return(
        &self,
        staff: &Staff,
        number: TicketNumber,
        request: &StartReturn,
    ) -> Result<ReturnOutcome, DeskError> {
        let shop = self.shop()?;
        let reason = text::required_body("reason", &request.reason)?;
        if reason.chars().count() > MAX_RETURN_REASON_CHARS {
            return Err(DeskError::Invalid(format!("reason: 1 to {MAX_RETURN_REASON_CHARS} characters")));
        }
        let mut ticket = self.load(number).await?;
        Self::refuse_text_after_erasure(&ticket, "returns")?;
        if ticket.order.as_ref().is_some_and(|o| o.returned.is_some()) {
            return Err(DeskError::Conflict(format!(
                "ticket {number} already runs a return; open another ticket"
            )));
        }
        let order = shop
            .orders
            .order(request.order.trim())
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("order {}", request.order.trim())))?;
        let requester = self.customer(&ticket.requester).await?;
        if !order.belongs_to(&Contact::of_identities(&requester.identities)) {
            return Err(DeskError::Refused(format!(
                "order {} was not placed with the contact details of this ticket's customer",
                order.name
            )));
        }
        let thread = self.ports.tickets.messages(number).await?;
        let photos = thread
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .flat_map(|m| &m.attachments)
            .filter(|a| a.content_type.starts_with("image/") && !a.quarantined)
            .count();
        let now = self.ports.clock.now();
        let ask = ReturnRequest { line: &request.line, reason: &reason, damaged: request.damaged, photos };
        let case = shop.returns.open(&order, &ask, now).map_err(|e| DeskError::Refused(e.to_string()))?;
        let expected = ticket.version;
        let mut events: Vec<TicketEvent> =
            crate::router::link_order(&mut ticket, order.name.clone(), now).into_iter().collect();
        events.push(ticket.record(
            staff.actor(),
            EventKind::ReturnRequested {
                order: order.name.clone(),
                line: case.line.clone(),
                reason: if case.damaged { "damaged" } else { "other" }.to_owned(),
            },
            now,
        ));
        ticket.order.get_or_insert_default().returned = Some(case);
        self.record_step(staff, ticket, expected, events, &thread, None).await
    }

    /// Moves the ticket's return on by `action`; `reason` goes with a rejection.
    pub async fn return_step(
        &self,
        staff: &Staff,
        number: TicketNumber,
        action: ReturnAction,
        reason: Option<&str>,
        version: Option<u64>,
    ) -> Result<ReturnOutcome, DeskError> {
        let shop = self.shop()?;
        let reason = match reason {
            Some(r) => Some(text::required_body("reason", r)?),
            None if action == ReturnAction::Reject => {
                return Err(DeskError::Invalid("reason: a rejection says why".into()));
            }
            None => None,
        };
        if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_RETURN_REASON_CHARS) {
            return Err(DeskError::Invalid(format!("reason: 1 to {MAX_RETURN_REASON_CHARS} characters")));
        }
        let mut ticket = self.load_at(number, version).await?;
        let expected = ticket.version;
        let now = self.ports.clock.now();
        let Some(case) = ticket.order.as_mut().and_then(|o| o.returned.as_mut()) else {
            return Err(DeskError::NotFound(format!("a return on ticket {number}")));
        };
        let kind =
            case.apply(action, reason.as_deref(), now).map_err(|e| DeskError::Conflict(e.to_string()))?;
        if action == ReturnAction::Refund {
            // The shop's own word on the refund, when it answers; the step stands either way.
            match shop.orders.order(&case.order).await {
                Ok(Some(order)) => {
                    case.refund_status = serde_json::to_value(order.financial)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned));
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, ticket = number.0, "orders.refund_status_unread"),
            }
        }
        let event = ticket.record(staff.actor(), kind, now);
        let thread = self.ports.tickets.messages(number).await?;
        self.record_step(staff, ticket, expected, vec![event], &thread, reason.as_deref()).await
    }

    /// Tells the customer, runs the step's timer and commits.
    async fn record_step(
        &self,
        staff: &Staff,
        mut ticket: Ticket,
        expected: u64,
        mut events: Vec<TicketEvent>,
        thread: &[Message],
        reason: Option<&str>,
    ) -> Result<ReturnOutcome, DeskError> {
        let shop = self.shop()?;
        let now = self.ports.clock.now();
        let Some(case) = ticket.order.as_ref().and_then(|o| o.returned.clone()) else {
            return Err(DeskError::NotFound(format!("a return on ticket {}", ticket.number)));
        };
        // The conversation's language, as the bot and the acknowledgement decide it.
        let language = conversation_language(thread, ticket.language.as_deref());
        let text = OrderTexts::new(language).return_step(&case.order, case.state, reason);
        let message = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: ticket.number,
            direction: Direction::Outbound,
            author: AuthorKind::Agent,
            author_id: Some(staff.0.clone()),
            visibility: Visibility::Public,
            text,
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        };
        events.extend(ticket.add_message(&staff.actor(), &message, now)?);
        let job = self.reply_job(&ticket, &message, thread).await?;
        if let Some(sla) = &self.sla {
            sla.start_return_step(&mut ticket, shop.returns.step_target(case.state), now);
        }
        let saved = self
            .commit(TicketCommit {
                ticket,
                expected_version: Some(expected),
                messages: vec![message],
                events,
                thread_claims: Vec::new(),
                idempotency: None,
            })
            .await?;
        if let Some(job) = &job {
            self.ports.outbound.send(seal(job)).await?;
        }
        tracing::info!(ticket = saved.number.0, state = case.state.as_str(), "orders.return_step");
        Ok(ReturnOutcome {
            ticket: saved.number,
            version: saved.version,
            order: case.order.clone(),
            state: case.state,
            allowed: case.state.allowed().to_vec(),
            refund_status: case.refund_status.clone(),
        })
    }
}
