//! The bot's answer to "where is my order?": from the orders placed with the customer's
//! verified contact details only. A named order that is not theirs gets the same answer as
//! one that does not exist, so nobody learns whether someone else's order number is real.

use super::{Contact, Order, Orders, OrdersError};

/// What the bot can say about the customer's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderAnswer {
    /// The order to tell the customer about.
    Status(Order),
    /// Several open orders and none named: ask which (their names).
    Choose(Vec<String>),
    /// The named order is not one of the customer's (or does not exist): nothing shown.
    NotYours,
    /// No orders under the customer's contact details.
    NoOrders,
    /// The shop did not answer: a person will follow up.
    Unavailable,
}

impl OrderAnswer {
    pub fn name(&self) -> &'static str {
        match self {
            OrderAnswer::Status(_) => "status",
            OrderAnswer::Choose(_) => "choose",
            OrderAnswer::NotYours => "not_yours",
            OrderAnswer::NoOrders => "no_orders",
            OrderAnswer::Unavailable => "shop_unavailable",
        }
    }
}

/// The answer for a customer with `contacts` who named `named` orders (maybe none).
pub async fn answer_for(orders: &dyn Orders, contacts: &[Contact], named: &[String]) -> OrderAnswer {
    if let Some(name) = named.first() {
        if contacts.is_empty() {
            return OrderAnswer::NotYours;
        }
        return match orders.order(name).await {
            Ok(Some(order)) if order.belongs_to(contacts) => OrderAnswer::Status(order),
            Ok(_) => OrderAnswer::NotYours,
            Err(error) => {
                tracing::warn!(%error, "orders.lookup_failed");
                OrderAnswer::Unavailable
            }
        };
    }
    let found = match orders_of_all(orders, contacts).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "orders.lookup_failed");
            return OrderAnswer::Unavailable;
        }
    };
    let open: Vec<&Order> = found.iter().filter(|o| o.is_open()).collect();
    match (open.as_slice(), found.first()) {
        ([one], _) => OrderAnswer::Status((*one).clone()),
        ([], Some(latest)) => OrderAnswer::Status(latest.clone()),
        ([], None) => OrderAnswer::NoOrders,
        (several, _) => OrderAnswer::Choose(several.iter().map(|o| o.name.clone()).collect()),
    }
}

/// The orders placed with any of `contacts`, each once, newest first.
pub async fn orders_of_all(orders: &dyn Orders, contacts: &[Contact]) -> Result<Vec<Order>, OrdersError> {
    let mut found: Vec<Order> = Vec::new();
    for contact in contacts {
        for order in orders.orders_of(contact).await? {
            if !found.iter().any(|o| o.id == order.id) {
                found.push(order);
            }
        }
    }
    found.sort_by_key(|order| std::cmp::Reverse(order.created_at));
    Ok(found)
}
