//! The desk's side of the shop: the recent orders of a ticket's or customer's requester for
//! agents, and proactive notices — a late or failed parcel opens a ticket and writes to the
//! customer first (in their open chat instead, when they have one: `notice_chat`), once per
//! order and problem (the commit carries an idempotency record keyed
//! by both, so a webhook delivered three times makes one ticket and one message).

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{AgentDesk, DeskError};
use crate::envelope::seal;
use crate::kb::Language;
use crate::model::{
    Actor, AuthorKind, Channel, ChannelRef, Customer, CustomerId, Direction, EventKind, Identity, Message,
    MessageId, Ticket, TicketEvent, TicketNumber, Visibility,
};
use crate::orders::{
    Contact, NoticeRules, Order, OrderSignal, OrderTexts, Orders, OrdersError, Problem, ReturnRules,
    notice_key, orders_of_all, problems,
};
use crate::outbound::OutboundJob;
use crate::ports::{IdempotencyRecord, StoreError, ThreadClaim, ThreadKey, TicketCommit};
use crate::router::IDEMPOTENCY_TTL;
use crate::system::later;

/// What the desk knows of the shop.
pub struct ShopDesk {
    /// Usually a [`crate::orders::CachedOrders`] over the shop's adapter.
    pub orders: Arc<dyn Orders>,
    pub notices: NoticeRules,
    pub returns: ReturnRules,
    /// Signs the help centre form's confirmation links; none: the form is off.
    pub links: Option<super::ReturnLinks>,
}

/// What one notice did; kept with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeOutcome {
    pub order: String,
    pub problem: Problem,
    pub ticket: TicketNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<OutboundJob>,
    /// A repeat: nothing was written this time.
    #[serde(skip)]
    pub repeat: bool,
}

impl From<OrdersError> for DeskError {
    fn from(error: OrdersError) -> Self {
        DeskError::Store(StoreError::Unavailable(error.to_string()))
    }
}

impl AgentDesk {
    pub(super) fn shop(&self) -> Result<&ShopDesk, DeskError> {
        self.shop.as_deref().ok_or_else(|| DeskError::NotFound("a shop (no [shop] is configured)".into()))
    }

    /// Whether a shop is configured (the views then list orders).
    pub fn has_shop(&self) -> bool {
        self.shop.is_some()
    }

    /// The recent orders placed with the customer's verified contact details, newest first.
    pub async fn customer_orders(&self, id: &CustomerId) -> Result<Vec<Order>, DeskError> {
        let shop = self.shop()?;
        let customer = self.customer(id).await?;
        Ok(orders_of_all(&*shop.orders, &Contact::of_identities(&customer.identities)).await?)
    }

    /// The orders of a ticket's requester.
    pub async fn ticket_orders(&self, number: TicketNumber) -> Result<Vec<Order>, DeskError> {
        let ticket = self.load(number).await?;
        self.customer_orders(&ticket.requester).await
    }

    /// Looks at the order a shop webhook named and writes to its customer about each problem
    /// it has now, once per order and problem.
    pub async fn check_order(&self, signal: &OrderSignal) -> Result<Vec<NoticeOutcome>, DeskError> {
        let shop = self.shop()?;
        let Some(order) = shop.orders.order(&signal.order).await? else {
            tracing::info!(topic = %signal.topic, "orders.signal_for_unknown_order");
            return Ok(Vec::new());
        };
        let now = self.ports.clock.now();
        let mut outcomes = Vec::new();
        for problem in problems(&order, now, &shop.notices) {
            outcomes.push(self.notice(&order, problem, now).await?);
        }
        Ok(outcomes)
    }

    async fn notice(
        &self,
        order: &Order,
        problem: Problem,
        now: Timestamp,
    ) -> Result<NoticeOutcome, DeskError> {
        let key = notice_key(&order.name, problem);
        if let Some(done) = self.notice_done(&key, now).await? {
            return Ok(done);
        }
        // A customer chatting with us now hears it there rather than by mail.
        if let Some(contact) = order.contact()
            && let Some(open) = self.open_chat(&contact).await?
        {
            return self.notice_in_chat(order, problem, &key, open, now).await;
        }
        let Some(Contact::Email(address)) = order.contact() else {
            // A phone-only order: an agent calls; a ticket without a message still says so.
            tracing::info!(order = %order.name, "orders.notice_without_email");
            return Err(DeskError::Unsendable(format!(
                "order {} has no email address to write to",
                order.name
            )));
        };
        let customer = self.customer_for(&address, now).await?;
        let number = self.ports.tickets.allocate_number().await?;
        let texts = OrderTexts::new(Language::En);
        let (mut ticket, created) = Ticket::open(
            number,
            Channel::Email,
            texts.notice_subject(&order.name, problem),
            customer,
            None,
            now,
        );
        let token = self.ports.ids.token();
        ticket.reply_token = Some(token.clone());
        let mut events = vec![created];
        events.extend(crate::router::link_order(&mut ticket, order.name.clone(), now));
        events.push(ticket.record(
            Actor::System,
            EventKind::ProactiveNotice { order: order.name.clone(), problem: problem.as_str().to_owned() },
            now,
        ));
        let message = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: number,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: None,
            visibility: Visibility::Public,
            text: texts.notice(order, problem, number),
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        };
        events.extend(ticket.add_message(&Actor::System, &message, now)?);
        let job = self.reply_job(&ticket, &message, &[]).await?.map(|mut job| {
            // One delivery per order and problem, whichever attempt queues it.
            job.id = format!("notice:{}:{}", order.name, problem.as_str());
            job
        });
        let outcome =
            NoticeOutcome { order: order.name.clone(), problem, ticket: number, job, repeat: false };
        let commit = opening_commit(ticket, vec![message], events, &token, &key, &outcome, now);
        match self.commit(commit).await {
            Ok(_) => {}
            // A concurrent delivery of the same problem won: its result stands.
            Err(DeskError::Conflict(_)) => {
                if let Some(done) = self.notice_done(&key, now).await? {
                    return Ok(done);
                }
                return Err(DeskError::Conflict(format!("notice for order {} raced", order.name)));
            }
            Err(other) => return Err(other),
        }
        if let Some(job) = &outcome.job {
            self.ports.outbound.send(seal(job)).await?;
        }
        tracing::info!(ticket = number.0, problem = problem.as_str(), "orders.proactive_notice");
        Ok(outcome)
    }

    /// The first result of a notice already made; its message is queued again in case that
    /// run stopped between commit and queue (the dispatcher sends each job once).
    async fn notice_done(&self, key: &str, now: Timestamp) -> Result<Option<NoticeOutcome>, DeskError> {
        let Some(stored) = self.ports.idempotency.result(key, now).await? else {
            return Ok(None);
        };
        let mut outcome: NoticeOutcome = serde_json::from_value(stored)
            .map_err(|e| DeskError::Store(StoreError::Corrupt(format!("notice result: {e}"))))?;
        if let Some(job) = &outcome.job {
            self.ports.outbound.send(seal(job)).await?;
        }
        outcome.repeat = true;
        Ok(Some(outcome))
    }

    /// The customer holding `address`, created if nobody does: the shop vouches for the
    /// address its order was placed with.
    pub(super) async fn customer_for(&self, address: &str, now: Timestamp) -> Result<CustomerId, DeskError> {
        let identity =
            Identity::email(address).map_err(|e| DeskError::Invalid(format!("order email: {e}")))?;
        for _ in 0..3 {
            if let Some(id) = self.ports.customers.customer_by_identity(&identity).await? {
                return Ok(id);
            }
            let customer = Customer::new(
                CustomerId::from_token(&self.ports.ids.token()),
                None,
                vec![identity.clone()],
                now,
            );
            match self.ports.customers.create(&customer).await {
                Ok(()) => return Ok(customer.id),
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(DeskError::Conflict("the order's customer kept changing".into()))
    }
}

/// The commit that opens a ticket the desk starts itself (a notice, a confirmed return): its
/// mail thread token claimed, and its outcome kept under `key` so a repeat of the same trigger
/// opens nothing more.
pub(super) fn opening_commit<T: Serialize>(
    ticket: Ticket,
    messages: Vec<Message>,
    events: Vec<TicketEvent>,
    token: &str,
    key: &str,
    outcome: &T,
    now: Timestamp,
) -> TicketCommit {
    let number = ticket.number;
    TicketCommit {
        ticket,
        expected_version: None,
        messages,
        events,
        thread_claims: vec![ThreadClaim {
            key: ThreadKey::email_token(token),
            ticket: number,
            replaces: None,
        }],
        idempotency: Some(IdempotencyRecord {
            key: key.to_owned(),
            result: serde_json::to_value(outcome).unwrap_or_default(),
            expires_at: later(now, IDEMPOTENCY_TTL),
        }),
    }
}
