//! The help centre's return form, on the desk. A typed email address is not a verified
//! identity, so the form starts nothing and shows nothing: when the order exists and was
//! placed with the address typed, a mail goes to that address — the order's own — with a
//! signed link that expires ([`crate::orders::return_link`]); the rules' refusal instead of
//! a link when they refuse. Anyone else gets nothing, and the page answers the same either
//! way. At most one such mail per order and item an hour. Following the link (and pressing
//! its button: mail scanners follow links) opens a ticket for the order's customer and starts
//! the return with the same rules, events and SLA timer as an agent's, routed to its team
//! like any new ticket.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AgentDesk, DeskError};
use crate::envelope::{Versioned, seal};
use crate::model::{
    Actor, AuthorKind, Channel, ChannelRef, Direction, Identity, Message, MessageId, Ticket, TicketNumber,
    Visibility,
};
use crate::orders::return_link::{LinkError, LinkKey, MAX_ITEM_CHARS, ReturnLink, link_id};
use crate::orders::returns::MAX_RETURN_REASON_CHARS;
use crate::orders::self_service::{decide, file_customer_return};
use crate::orders::{
    Contact, MAX_ORDER_NAME_CHARS, Order, OrderTexts, ReturnAnswer, ReturnRefusal, language_of_tag,
};
use crate::outbound::{Destination, EmailDestination, OutboundJob, OutboundKind};
use crate::ports::IdempotencyRecord;
use crate::system::later;

/// The form as posted, queued by the help centre for the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnFormRequest {
    pub order: String,
    /// As typed: a hint, never an identity.
    pub email: String,
    pub item: String,
    pub reason: String,
    #[serde(default)]
    pub damaged: bool,
    /// The form page's language (`en`, `zh`).
    pub language: String,
}

impl Versioned for ReturnFormRequest {
    const KIND: &'static str = "return_form";
    const VERSION: u32 = 1;
}

/// A followed (and confirmed) return link, queued by the help centre for the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnConfirmation {
    pub token: String,
}

impl Versioned for ReturnConfirmation {
    const KIND: &'static str = "return_confirmation";
    const VERSION: u32 = 1;
}

/// How return links are made.
#[derive(Clone)]
pub struct ReturnLinks {
    pub key: LinkKey,
    /// The help centre's public URL: links are `<base>/v1/returns/confirm/<token>`.
    pub base_url: String,
    pub valid: Duration,
}

/// What a posted form did; nothing of it reaches the person who posted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormOutcome {
    /// A link went to the order's address.
    Linked,
    /// The rules refuse it: the refusal went to the order's address.
    Refused,
    /// Unknown order, another address, or already mailed this hour: nothing sent.
    Ignored,
}

/// What a confirmed link did; kept with its idempotency key, so a link followed twice
/// starts one return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmOutcome {
    pub ticket: TicketNumber,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<OutboundJob>,
}

impl From<LinkError> for DeskError {
    fn from(error: LinkError) -> Self {
        DeskError::NotFound(error.to_string())
    }
}

impl AgentDesk {
    /// Sends the order's address a confirmation link (or the rules' refusal), if the order
    /// was placed with the address typed.
    pub async fn return_form(&self, form: &ReturnFormRequest) -> Result<FormOutcome, DeskError> {
        let shop = self.shop()?;
        let links = shop
            .links
            .as_ref()
            .ok_or_else(|| DeskError::NotFound("return links (no shop.returns.link_key)".into()))?;
        let now = self.ports.clock.now();
        // The help centre checked the form; a queued message is held to the same limits.
        let within = |s: &str, max: usize| s.chars().count() <= max;
        if !within(&form.order, MAX_ORDER_NAME_CHARS)
            || !within(&form.email, 254)
            || !within(&form.item, MAX_ITEM_CHARS)
            || !within(&form.reason, MAX_RETURN_REASON_CHARS)
        {
            return Err(DeskError::Invalid("return form: a field over its limit".into()));
        }
        let Some(order) = shop.orders.order(form.order.trim()).await? else {
            tracing::info!("orders.return_form_unknown_order");
            return Ok(FormOutcome::Ignored);
        };
        let Some(address) = matching_address(&order, &form.email) else {
            tracing::info!("orders.return_form_address_mismatch");
            return Ok(FormOutcome::Ignored);
        };
        // One mail per order and item an hour: the form cannot be used to flood an inbox.
        let hour = now.as_second() / 3600;
        let throttle =
            format!("return-form:{}", digest(&[&order.name, &form.item.to_lowercase(), &hour.to_string()]));
        if self.ports.idempotency.result(&throttle, now).await?.is_some() {
            tracing::info!("orders.return_form_throttled");
            return Ok(FormOutcome::Ignored);
        }
        let link = ReturnLink {
            order: order.name.clone(),
            item: form.item.clone(),
            reason: form.reason.clone(),
            damaged: form.damaged,
            language: if language_of_tag(&form.language) == crate::kb::Language::ZhCn { "zh" } else { "en" }
                .into(),
            expires: later(now, links.valid).as_second(),
        };
        let texts = OrderTexts::new(language_of_tag(&link.language));
        let (outcome, (subject, text)) = match decide(&order, &link.ask(), &shop.returns, now) {
            ReturnAnswer::Refused { refusal, .. } => {
                (FormOutcome::Refused, texts.return_refused_mail(&order.name, &refusal))
            }
            ReturnAnswer::ChooseLine { .. } => {
                let refusal = ReturnRefusal::UnknownLine(order.name.clone(), form.item.clone());
                (FormOutcome::Refused, texts.return_refused_mail(&order.name, &refusal))
            }
            _ => {
                let url = format!("{}/v1/returns/confirm/{}", links.base_url, links.key.sign(&link));
                (
                    FormOutcome::Linked,
                    texts.return_link_mail(&order.name, &form.item, &url, links.valid.as_secs() / 3600),
                )
            }
        };
        let id = format!("return-form:{}", digest(&[&throttle, &self.ports.ids.token()]));
        let job = OutboundJob {
            id: id.clone(),
            // No ticket yet: one opens when the link is followed.
            ticket: TicketNumber(0),
            message: MessageId::new(id.clone()),
            kind: OutboundKind::Acknowledgement,
            destination: Destination::Email(EmailDestination {
                to: address,
                cc: Vec::new(),
                from: format!("{}@{}", self.email.reply_local_part, self.email.domain),
                reply_to: None,
                subject,
                message_id: format!("{}@{}", &id["return-form:".len()..], self.email.domain),
                in_reply_to: None,
                references: Vec::new(),
                language: texts.tag().to_owned(),
            }),
            text,
            created_at: now,
            survey: None,
        };
        self.ports.outbound.send(seal(&job)).await?;
        self.ports
            .idempotency
            .complete(IdempotencyRecord {
                key: throttle,
                result: serde_json::json!({ "mailed_at": now }),
                expires_at: later(now, Duration::from_secs(3600)),
            })
            .await?;
        tracing::info!(outcome = ?outcome, "orders.return_form_mailed");
        Ok(outcome)
    }

    /// Starts the return a followed link names: a ticket for the order's customer, the
    /// return on it, and a word to them. Once per link.
    pub async fn confirm_return(
        &self,
        confirmation: &ReturnConfirmation,
    ) -> Result<ConfirmOutcome, DeskError> {
        let shop = self.shop()?;
        let links = shop
            .links
            .as_ref()
            .ok_or_else(|| DeskError::NotFound("return links (no shop.returns.link_key)".into()))?;
        let now = self.ports.clock.now();
        let link = links.key.verify(&confirmation.token, now)?;
        let key = link_id(&confirmation.token);
        if let Some(done) = self.confirmed(&key, now).await? {
            return Ok(done);
        }
        let order = shop
            .orders
            .order(&link.order)
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("order {}", link.order)))?;
        let Some(Contact::Email(address)) = order.contact() else {
            return Err(DeskError::Unsendable(format!("order {} has no email address", order.name)));
        };
        let customer = self.customer_for(&address, now).await?;
        let texts = OrderTexts::new(language_of_tag(&link.language));
        let number = self.ports.tickets.allocate_number().await?;
        let (mut ticket, created) = Ticket::open(
            number,
            Channel::Email,
            texts.return_subject(&order.name),
            customer.clone(),
            None,
            now,
        );
        ticket.language = Some(link.language.clone());
        let token = self.ports.ids.token();
        ticket.reply_token = Some(token.clone());
        let mut events = vec![created];
        let request = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: number,
            direction: Direction::Inbound,
            author: AuthorKind::Customer,
            author_id: Some(customer.to_string()),
            visibility: Visibility::Public,
            text: texts.form_request(&link.item, &link.reason),
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        };
        events.extend(ticket.add_message(&Actor::Customer(customer.clone()), &request, now)?);
        events.extend(crate::router::link_order(&mut ticket, order.name.clone(), now));
        // Routed like any new ticket: the team its rules choose, and an agent of it.
        if let Some(routing) = &self.routing {
            let staff = crate::router::Staffing {
                customers: &*self.ports.customers,
                agents: &*self.ports.agents,
                tickets: &*self.ports.tickets,
            };
            let language = Some(link.language.as_str());
            events.extend(
                crate::router::route_new_ticket::<DeskError>(
                    routing,
                    staff,
                    &customer,
                    &mut ticket,
                    &request.text,
                    language,
                    now,
                )
                .await?,
            );
        }
        let ask = link.ask();
        let answer = decide(&order, &ask, &shop.returns, now);
        match &answer {
            ReturnAnswer::Requested(case) => {
                events.push(file_customer_return(
                    &mut ticket,
                    &customer,
                    case,
                    &shop.returns,
                    self.sla.as_deref(),
                    now,
                ));
            }
            waiting if waiting.waits() => {
                ticket.order.get_or_insert_default().pending_return = Some(ask.clone())
            }
            _ => {}
        }
        let reply = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: number,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: None,
            visibility: Visibility::Public,
            text: texts.return_answer(&answer, number),
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        };
        events.extend(ticket.add_message(&Actor::System, &reply, now)?);
        let job = self.reply_job(&ticket, &reply, &[]).await?;
        let outcome = ConfirmOutcome { ticket: number, answer: answer.name().to_owned(), job };
        let commit =
            super::orders::opening_commit(ticket, vec![request, reply], events, &token, &key, &outcome, now);
        match self.commit(commit).await {
            Ok(_) => {}
            // The same link followed twice at once: the first stands.
            Err(DeskError::Conflict(_)) => {
                if let Some(done) = self.confirmed(&key, now).await? {
                    return Ok(done);
                }
                return Err(DeskError::Conflict(format!("return link for order {} raced", order.name)));
            }
            Err(other) => return Err(other),
        }
        if let Some(job) = &outcome.job {
            self.ports.outbound.send(seal(job)).await?;
        }
        tracing::info!(ticket = number.0, answer = %outcome.answer, "orders.return_link_confirmed");
        Ok(outcome)
    }

    async fn confirmed(&self, key: &str, now: Timestamp) -> Result<Option<ConfirmOutcome>, DeskError> {
        let Some(stored) = self.ports.idempotency.result(key, now).await? else {
            return Ok(None);
        };
        let outcome: ConfirmOutcome = serde_json::from_value(stored).map_err(|e| {
            DeskError::Store(crate::ports::StoreError::Corrupt(format!("return link result: {e}")))
        })?;
        if let Some(job) = &outcome.job {
            self.ports.outbound.send(seal(job)).await?;
        }
        Ok(Some(outcome))
    }
}

/// The order's own address, if `typed` is it (compared normalised).
fn matching_address(order: &Order, typed: &str) -> Option<String> {
    let Ok(Identity::Email { address: typed }) = Identity::email(typed) else { return None };
    match order.contact() {
        Some(Contact::Email(address)) if address == typed => Some(address),
        _ => None,
    }
}

fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..16])
}
