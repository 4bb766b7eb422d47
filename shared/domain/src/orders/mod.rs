//! Orders and after-sale: the shop's orders as the desk sees them, the port that reads them
//! (Shopify, the generic JSON contract, or the in-memory twin), the per-container cache in
//! front of it, order numbers in customers' words, the bot's order-status answer, the late
//! parcel check behind proactive notices, the returns workflow's rules, and the returns
//! customers start themselves (chat, mail, the help centre's signed link).

mod cache;
mod memory;
mod model;
mod notices;
pub mod numbers;
pub mod return_link;
pub mod returns;
pub mod self_service;
pub mod status;
mod texts;

pub use cache::{CachedOrders, DEFAULT_CACHE_TTL, MAX_CACHED_LOOKUPS};
pub use memory::MemoryOrders;
pub use model::{
    Contact, FinancialStatus, FulfillmentStatus, Order, OrderLine, Shipment, ShipmentStatus, TicketOrder,
};
pub use notices::{NoticeRules, OrderSignal, Problem, notice_key, problems};
pub use numbers::{OrderPatterns, PatternError};
pub use returns::{
    ReturnAction, ReturnCase, ReturnRefusal, ReturnRequest, ReturnRules, ReturnState, TransitionError,
};
pub use self_service::{ReturnAnswer, ReturnAsk, answer_return};
pub use status::{OrderAnswer, answer_for, orders_of_all};
pub use texts::{OrderTexts, conversation_language, language_of_tag};

use async_trait::async_trait;

/// Most orders one lookup returns: the recent ones are what a customer asks about.
pub const MAX_ORDERS_PER_LOOKUP: usize = 10;
/// Longest order name the desk looks up (`#1001`, `SO-2026-000123`).
pub const MAX_ORDER_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrdersError {
    /// The shop did not answer in time or failed; worth trying again later.
    #[error("the shop is unavailable: {0}")]
    Unavailable(String),
    /// The shop throttled us (HTTP 429, or Shopify's cost throttling) beyond the retries.
    #[error("the shop is rate limiting: {0}")]
    RateLimited(String),
    /// The shop answered something that is not an order (a bug on one side).
    #[error("the shop's answer is unreadable: {0}")]
    Invalid(String),
    /// The shop refused our credentials.
    #[error("the shop refused access: {0}")]
    Denied(String),
}

/// Reads the shop's orders. Adapters: Shopify's Admin GraphQL API, the generic JSON
/// contract, and [`MemoryOrders`]. Nothing here writes to the shop.
#[async_trait]
pub trait Orders: Send + Sync {
    /// The recent orders placed with `contact`, newest first, at most
    /// [`MAX_ORDERS_PER_LOOKUP`].
    async fn orders_of(&self, contact: &Contact) -> Result<Vec<Order>, OrdersError>;
    /// The order named `name` (as the shop shows it, e.g. `#1001`), whoever placed it.
    async fn order(&self, name: &str) -> Result<Option<Order>, OrdersError>;
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
