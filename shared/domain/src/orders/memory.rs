//! The in-memory twin of the shop: the orders a test or the local desk put in, looked up as
//! the adapters look them up (newest first, at most [`MAX_ORDERS_PER_LOOKUP`], a name matched
//! exactly), a count of calls, and a switch that makes the shop unavailable.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use super::{Contact, MAX_ORDERS_PER_LOOKUP, Order, Orders, OrdersError};

#[derive(Default)]
pub struct MemoryOrders {
    orders: Mutex<Vec<Order>>,
    calls: AtomicUsize,
    down: AtomicBool,
}

impl MemoryOrders {
    pub fn new(orders: Vec<Order>) -> Self {
        Self { orders: Mutex::new(orders), ..Default::default() }
    }

    /// Adds `order`, or replaces the one with its id.
    pub fn put(&self, order: Order) {
        let mut orders = self.lock();
        orders.retain(|o| o.id != order.id);
        orders.push(order);
    }

    pub fn all(&self) -> Vec<Order> {
        self.lock().clone()
    }

    /// Lookups answered or refused so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Makes every lookup fail as a shop that does not answer.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Order>> {
        self.orders.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn answer(&self) -> Result<(), OrdersError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(OrdersError::Unavailable("the shop is down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Orders for MemoryOrders {
    async fn orders_of(&self, contact: &Contact) -> Result<Vec<Order>, OrdersError> {
        self.answer()?;
        let mut found: Vec<Order> =
            self.lock().iter().filter(|o| o.belongs_to(std::slice::from_ref(contact))).cloned().collect();
        found.sort_by_key(|order| std::cmp::Reverse(order.created_at));
        found.truncate(MAX_ORDERS_PER_LOOKUP);
        Ok(found)
    }

    async fn order(&self, name: &str) -> Result<Option<Order>, OrdersError> {
        self.answer()?;
        Ok(self.lock().iter().find(|o| o.name == name).cloned())
    }
}
