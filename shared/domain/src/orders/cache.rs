//! A per-container cache in front of an [`Orders`] adapter: a burst of questions about one
//! order (a customer asking twice, fifty chats after a carrier's bad day) costs one shop
//! call. Lookups of one key wait for the first one in flight instead of racing it. Answers
//! are kept [`DEFAULT_CACHE_TTL`] by the `Clock` port; failures are not kept, so the next
//! question tries the shop again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::lock::Mutex as AsyncMutex;
use jiff::Timestamp;

use super::{Contact, Order, Orders, OrdersError};
use crate::ports::Clock;
use crate::system::later;

/// Long enough for a burst, short enough that a parcel's new scan shows within a minute.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// Keys kept at most; past it the expired ones go, then everything (a container's memory is
/// bounded whatever the traffic).
pub const MAX_CACHED_LOOKUPS: usize = 10_000;

#[derive(Clone)]
enum Cached {
    Orders(Vec<Order>),
    Order(Option<Order>),
}

type Slot = Arc<AsyncMutex<Option<(Timestamp, Cached)>>>;

pub struct CachedOrders {
    inner: Arc<dyn Orders>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl CachedOrders {
    pub fn new(inner: Arc<dyn Orders>, clock: Arc<dyn Clock>) -> Self {
        Self::with_ttl(inner, clock, DEFAULT_CACHE_TTL)
    }

    pub fn with_ttl(inner: Arc<dyn Orders>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self { inner, clock, ttl, slots: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, key: String) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slots.len() >= MAX_CACHED_LOOKUPS && !slots.contains_key(&key) {
            // Slots nobody waits on hold nothing worth keeping once the map is full.
            slots.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        slots.entry(key).or_default().clone()
    }

    async fn cached<F, Fut>(&self, key: String, fetch: F) -> Result<Cached, OrdersError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Cached, OrdersError>>,
    {
        let slot = self.slot(key);
        let mut entry = slot.lock().await;
        let now = self.clock.now();
        if let Some((expires, value)) = entry.as_ref()
            && *expires > now
        {
            return Ok(value.clone());
        }
        let value = fetch().await?;
        *entry = Some((later(now, self.ttl), value.clone()));
        Ok(value)
    }
}

#[async_trait]
impl Orders for CachedOrders {
    async fn orders_of(&self, contact: &Contact) -> Result<Vec<Order>, OrdersError> {
        let key = format!("contact:{}:{}", contact.kind(), contact.value());
        match self.cached(key, || async { self.inner.orders_of(contact).await.map(Cached::Orders) }).await? {
            Cached::Orders(orders) => Ok(orders),
            Cached::Order(_) => Err(OrdersError::Invalid("cache slot mixed up".into())),
        }
    }

    async fn order(&self, name: &str) -> Result<Option<Order>, OrdersError> {
        let key = format!("order:{name}");
        match self.cached(key, || async { self.inner.order(name).await.map(Cached::Order) }).await? {
            Cached::Order(order) => Ok(order),
            Cached::Orders(_) => Err(OrdersError::Invalid("cache slot mixed up".into())),
        }
    }
}
