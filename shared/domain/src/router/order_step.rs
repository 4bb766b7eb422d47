//! The router's order step: order numbers in a message (and an email's subject) link its
//! ticket to those orders, and the bot's `order_status` intent is answered from the shop
//! with the customer's verified contact details ([`crate::orders::answer_for`]).

use std::sync::Arc;

use jiff::Timestamp;

use super::{RouteError, TicketRouter};
use crate::inbound::{InboundMessage, Source};
use crate::model::{Actor, CustomerId, EventKind, Ticket, TicketEvent};
use crate::orders::{Contact, OrderAnswer, OrderPatterns, Orders, ReturnRules, answer_for};

/// Orders linked to one ticket at most; names past it are left out.
pub const MAX_LINKED_ORDERS: usize = 10;

/// The shop the router consults, and how order numbers look.
pub struct OrderLookup {
    /// Usually a [`crate::orders::CachedOrders`] over the shop's adapter.
    pub orders: Arc<dyn Orders>,
    pub patterns: OrderPatterns,
    /// The rules a customer's own return request meets (the agents' too).
    pub returns: ReturnRules,
    /// Lower-cased words that, in a mail's subject or first lines next to an order number,
    /// start a return; empty: mail starts none.
    pub email_keywords: Vec<String>,
}

impl TicketRouter {
    pub fn with_orders(mut self, orders: Arc<OrderLookup>) -> Self {
        self.orders = Some(orders);
        self
    }

    /// Links `ticket` to the orders `inbound` names; an `order_linked` event per new one.
    pub(super) fn link_orders(
        &self,
        inbound: &InboundMessage,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Vec<TicketEvent> {
        let Some(lookup) = &self.orders else { return Vec::new() };
        let mut names = match &inbound.source {
            Source::Email(email) => lookup.patterns.find(&email.subject),
            _ => Vec::new(),
        };
        for name in lookup.patterns.find(&inbound.text) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.into_iter().filter_map(|name| link(ticket, name, now)).collect()
    }

    /// The shop's answer to an `order_status` message from `customer`.
    pub(super) async fn order_answer(
        &self,
        lookup: &OrderLookup,
        customer: &CustomerId,
        text: &str,
    ) -> Result<OrderAnswer, RouteError> {
        let contacts = match self.ports.customers.customer(customer).await? {
            Some(found) => Contact::of_identities(&found.identities),
            None => Vec::new(),
        };
        let named = lookup.patterns.find(text);
        Ok(answer_for(&*lookup.orders, &contacts, &named).await)
    }
}

/// Adds `name` to the ticket's orders; the event, if it is new and there is room.
pub fn link(ticket: &mut Ticket, name: String, now: Timestamp) -> Option<TicketEvent> {
    let orders = ticket.order.get_or_insert_default();
    if orders.linked.contains(&name) || orders.linked.len() >= MAX_LINKED_ORDERS {
        return None;
    }
    orders.linked.insert(name.clone());
    Some(ticket.record(Actor::System, EventKind::OrderLinked { order: name }, now))
}
