//! The router's return step: a customer starts a return themselves — by the bot's
//! `return_request` intent in chat, or by a configured keyword in a mail's subject or first
//! lines next to an order number. The request meets the same rules, events and SLA timer as
//! an agent's (`crate::desk::returns`); it is only ever about an order placed with the
//! customer's verified contact details. A request still missing its order, item or photos
//! waits on the ticket (`TicketOrder::pending_return`), and the customer's next message — a
//! chat message through the bot, or a mail in the thread — continues it.

use jiff::Timestamp;

use super::{OrderLookup, RouteError, TicketRouter};
use crate::inbound::{InboundMessage, Source};
use crate::model::{CustomerId, Ticket, TicketEvent};
use crate::orders::self_service::{file_customer_return, mentions};
use crate::orders::{Contact, ReturnAnswer, ReturnAsk, ReturnRefusal, answer_return};

/// Lines of a mail's body searched for a return keyword, after its subject.
pub const MAIL_KEYWORD_LINES: usize = 5;

impl TicketRouter {
    /// The return a mail asks for: a configured keyword in its subject or first lines, and an
    /// order number. Mail a machine wrote starts nothing.
    pub(super) fn mail_return_ask(&self, inbound: &InboundMessage) -> Option<ReturnAsk> {
        let (lookup, Source::Email(email)) = (self.orders.as_deref()?, &inbound.source) else {
            return None;
        };
        if email.automatic.is_some() || lookup.email_keywords.is_empty() {
            return None;
        }
        let opening: String = inbound.text.lines().take(MAIL_KEYWORD_LINES).collect::<Vec<_>>().join("\n");
        let keywords: Vec<&str> = lookup.email_keywords.iter().map(String::as_str).collect();
        if !mentions(&email.subject, &keywords) && !mentions(&opening, &keywords) {
            return None;
        }
        let named = lookup.patterns.find(&format!("{}\n{}", email.subject, opening));
        let order = named.into_iter().next()?;
        Some(ReturnAsk::default().and(
            Some(order),
            &format!("{}\n{}", email.subject, inbound.text),
            photos(inbound),
        ))
    }

    /// The return a chat message asks for, continuing the one waiting on `ticket`.
    pub(super) fn chat_return_ask(
        &self,
        inbound: &InboundMessage,
        ticket: Option<&Ticket>,
    ) -> Option<ReturnAsk> {
        let lookup = self.orders.as_deref()?;
        let pending = ticket.and_then(|t| t.order.as_ref()).and_then(|o| o.pending_return.clone());
        let named = lookup.patterns.find(&inbound.text).into_iter().next();
        Some(pending.unwrap_or_default().and(named, &inbound.text, photos(inbound)))
    }

    /// A mail from the requester on a ticket whose return request waits: the request goes on
    /// with it (its photos, the order or item it names), and the answer is mailed back in the
    /// thread. The reply, its delivery and the events.
    pub(super) async fn mail_return_continued(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Result<
        Option<(crate::model::Message, Option<crate::outbound::OutboundJob>, Vec<TicketEvent>)>,
        RouteError,
    > {
        let (Some(lookup), Source::Email(email)) = (self.orders.as_deref(), &inbound.source) else {
            return Ok(None);
        };
        if email.automatic.is_some() || ticket.requester != *customer || !Self::return_pending(Some(ticket)) {
            return Ok(None);
        }
        let Some(ask) = self.chat_return_ask(inbound, Some(ticket)) else { return Ok(None) };
        let answer = self.return_answer(lookup, customer, Some(ticket), &ask).await?;
        let events = self.apply_return(&answer, &ask, customer, ticket, now);
        let texts = crate::orders::OrderTexts::new(crate::orders::language_of_tag(&email.language));
        let reply = self.system_message(ticket.number, texts.return_answer(&answer, ticket.number), now);
        let job = inbound
            .from_address()
            .map(|to| super::email::reply_job(&self.email, inbound, email, to, ticket, &reply));
        Ok(Some((reply, job, events)))
    }

    /// Whether `ticket` waits for more of a customer's return request.
    pub(super) fn return_pending(ticket: Option<&Ticket>) -> bool {
        ticket.and_then(|t| t.order.as_ref()).is_some_and(|o| o.pending_return.is_some())
    }

    /// The workflow's answer to `ask` from `customer`.
    pub(super) async fn return_answer(
        &self,
        lookup: &OrderLookup,
        customer: &CustomerId,
        ticket: Option<&Ticket>,
        ask: &ReturnAsk,
    ) -> Result<ReturnAnswer, RouteError> {
        if let Some(case) = ticket.and_then(|t| t.order.as_ref()).and_then(|o| o.returned.as_ref()) {
            let refusal = ReturnRefusal::AlreadyReturning(case.order.clone());
            return Ok(ReturnAnswer::Refused { order: case.order.clone(), refusal });
        }
        let contacts = match self.ports.customers.customer(customer).await? {
            Some(found) => Contact::of_identities(&found.identities),
            None => Vec::new(),
        };
        let now = self.ports.clock.now();
        Ok(answer_return(&*lookup.orders, &contacts, ask, &lookup.returns, now).await)
    }

    /// Records `answer` on `ticket`: an opened return (its events, its approval timer), or
    /// the request kept for the customer's next message.
    pub(super) fn apply_return(
        &self,
        answer: &ReturnAnswer,
        ask: &ReturnAsk,
        customer: &CustomerId,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Vec<TicketEvent> {
        let Some(lookup) = self.orders.as_deref() else { return Vec::new() };
        let orders = ticket.order.get_or_insert_default();
        orders.pending_return = answer.waits().then(|| ask.clone());
        let ReturnAnswer::Requested(case) = answer else { return Vec::new() };
        let mut events: Vec<TicketEvent> =
            super::order_step::link(ticket, case.order.clone(), now).into_iter().collect();
        events.push(file_customer_return(ticket, customer, case, &lookup.returns, self.sla.as_deref(), now));
        tracing::info!(ticket = ticket.number.0, "orders.return_requested_by_customer");
        events
    }
}

/// Photos attached to this message (images that passed the virus scan).
fn photos(inbound: &InboundMessage) -> usize {
    inbound.attachments.iter().filter(|a| a.content_type.starts_with("image/") && !a.quarantined).count()
}
