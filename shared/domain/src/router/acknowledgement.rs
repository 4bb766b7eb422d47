//! The automatic acknowledgement of a new ticket, on its channel: the chat inbox's text as a
//! callback, or a mail in the thread when the loop guard allows one.

use jiff::Timestamp;

use super::{RouteError, TicketRouter, email};
use crate::inbound::{EmailSource, InboundMessage, Source};
use crate::model::{
    AuthorKind, ChannelRef, CustomerId, Direction, Message, MessageId, Ticket, TicketNumber, Visibility,
};
use crate::outbound::{Destination, OutboundJob, OutboundKind};

impl TicketRouter {
    /// The acknowledgement of a new ticket on its channel, if one may be sent; a mail's
    /// carries `outcome` too (what its return request did).
    pub(super) async fn acknowledgement(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: &Ticket,
        outcome: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<(Message, OutboundJob)>, RouteError> {
        match &inbound.source {
            Source::Chat { inbox, conversation_id, .. } => {
                let Some(text) = self.acknowledgements.chat_text(inbox, ticket.number) else {
                    return Ok(None);
                };
                let ack = self.system_message(ticket.number, text, now);
                let job = chat_acknowledgement_job(inbound, inbox, conversation_id, &ack);
                Ok(Some((ack, job)))
            }
            Source::Email(email) => {
                self.email_acknowledgement(inbound, email, customer, ticket, outcome, now).await
            }
            // The caller heard the flow's greeting; nothing to send.
            Source::Phone(_) => Ok(None),
            // Platforms limit what the desk may send (WeChat: five messages per 48 hours);
            // an automatic "we received it" would spend the agent's budget.
            Source::Social(_) => Ok(None),
        }
    }

    async fn email_acknowledgement(
        &self,
        inbound: &InboundMessage,
        email: &EmailSource,
        customer: &CustomerId,
        ticket: &Ticket,
        outcome: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<(Message, OutboundJob)>, RouteError> {
        let Some(mut text) = email::acknowledgement_text(&self.email, email, ticket.number) else {
            return Ok(None);
        };
        // Only an address we already know can be bouncing.
        let record = if self.email.acknowledge && email.automatic.is_none() {
            self.ports.customers.customer(customer).await?
        } else {
            None
        };
        let decision =
            email::may_acknowledge(&self.email, &*self.ports.limiter, inbound, email, record.as_ref(), now)
                .await?;
        let to = match decision {
            Ok(to) => to,
            Err(quiet) => {
                tracing::info!(ticket = ticket.number.0, reason = ?quiet, "router.no_acknowledgement");
                return Ok(None);
            }
        };
        if let Some(outcome) = outcome {
            text = format!("{text}\n\n{outcome}");
        }
        let text = text + &self.suggestions(inbound, email).await;
        let ack = self.system_message(ticket.number, text, now);
        let job = email::reply_job(&self.email, inbound, email, to, ticket, &ack);
        Ok(Some((ack, job)))
    }

    pub(super) fn system_message(&self, ticket: TicketNumber, text: String, now: Timestamp) -> Message {
        Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: None,
            visibility: Visibility::Public,
            text,
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        }
    }
}

fn chat_acknowledgement_job(
    inbound: &InboundMessage,
    inbox: &str,
    conversation_id: &str,
    ack: &Message,
) -> OutboundJob {
    let destination = Destination::Chat {
        inbox: inbox.to_owned(),
        conversation_id: conversation_id.to_owned(),
        visitor_id: inbound.sender.chat_visitor.clone(),
    };
    OutboundJob {
        // Derived from the inbound key, so every retry of this message names the same delivery.
        id: OutboundJob::acknowledgement_id(&inbound.idempotency_key),
        ticket: ack.ticket,
        message: ack.id.clone(),
        kind: OutboundKind::Acknowledgement,
        destination,
        text: ack.text.clone(),
        created_at: ack.created_at,
        survey: None,
    }
}
