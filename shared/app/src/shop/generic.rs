//! The generic shop contract as an [`Orders`] adapter, for shop systems that are not
//! Shopify (README "Shop contract"):
//!
//! - `GET {base}/orders?customer=email:<address>` or `?customer=phone:<E.164>` →
//!   `{"orders": [Order, …]}`, newest first;
//! - `GET {base}/orders/{name}` (the name URL-encoded, `%231001`) → `Order`, or 404;
//! - every request signed like our chat callbacks: `X-Omnidesk-Signature: t=<unix
//!   seconds>,v1=<hex HMAC-SHA256(key, "<t>.<path and query>")>`;
//! - 429 with `Retry-After` when busy; 5xx is retried.
//!
//! `Order` is [`omnidesk_domain::orders::Order`] as JSON.

use std::sync::Arc;

use async_trait::async_trait;
use omnidesk_domain::orders::{
    Contact, MAX_ORDER_NAME_CHARS, MAX_ORDERS_PER_LOOKUP, Order, Orders, OrdersError,
};
use omnidesk_domain::ports::Clock;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

use super::http::{ShopHttp, json_body, verdict};
use crate::signature::{SIGNATURE_HEADER, sign};

/// The list answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderList {
    pub orders: Vec<Order>,
}

pub struct GenericOrders {
    http: ShopHttp,
    base: String,
    key: String,
    clock: Arc<dyn Clock>,
}

impl GenericOrders {
    pub fn new(http: ShopHttp, base_url: &str, key: &str, clock: Arc<dyn Clock>) -> Self {
        Self { http, base: base_url.to_owned(), key: key.to_owned(), clock }
    }

    fn url(&self, segments: &[&str], customer: Option<&str>) -> Result<Url, OrdersError> {
        let mut url = Url::parse(&self.base).map_err(|e| OrdersError::Invalid(format!("shop.url: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| OrdersError::Invalid("shop.url cannot take a path".into()))?
            .pop_if_empty()
            .extend(segments);
        if let Some(customer) = customer {
            url.query_pairs_mut().append_pair("customer", customer);
        }
        Ok(url)
    }

    async fn get(&self, url: Url) -> Result<Option<serde_json::Value>, OrdersError> {
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        self.http
            .send(
                || {
                    let signature =
                        sign(self.key.as_bytes(), self.clock.now().as_second(), target.as_bytes());
                    self.http.client.get(url.clone()).header(SIGNATURE_HEADER, signature)
                },
                |response| async move {
                    if let Err(verdict) = verdict(&response) {
                        return verdict.map(Err);
                    }
                    if response.status() == StatusCode::NOT_FOUND {
                        return Ok(Ok(None));
                    }
                    json_body(response).await.map(|v| Ok(Some(v)))
                },
            )
            .await
    }
}

#[async_trait]
impl Orders for GenericOrders {
    async fn orders_of(&self, contact: &Contact) -> Result<Vec<Order>, OrdersError> {
        let customer = format!("{}:{}", contact.kind(), contact.value());
        let Some(value) = self.get(self.url(&["orders"], Some(&customer))?).await? else {
            return Ok(Vec::new());
        };
        let list: OrderList =
            serde_json::from_value(value).map_err(|e| OrdersError::Invalid(format!("orders: {e}")))?;
        // The contract promises the customer's orders; the desk checks anyway.
        let mut orders: Vec<Order> =
            list.orders.into_iter().filter(|o| o.belongs_to(std::slice::from_ref(contact))).collect();
        orders.truncate(MAX_ORDERS_PER_LOOKUP);
        Ok(orders)
    }

    async fn order(&self, name: &str) -> Result<Option<Order>, OrdersError> {
        if name.is_empty() || name.chars().count() > MAX_ORDER_NAME_CHARS {
            return Ok(None);
        }
        let Some(value) = self.get(self.url(&["orders", name], None)?).await? else {
            return Ok(None);
        };
        let order: Order =
            serde_json::from_value(value).map_err(|e| OrdersError::Invalid(format!("order: {e}")))?;
        Ok((order.name == name).then_some(order))
    }
}
