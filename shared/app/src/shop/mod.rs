//! The shop's edges: the two [`Orders`] adapters (Shopify's Admin GraphQL API and the
//! generic JSON contract, both over one bounded HTTP client), the shop webhook route, the
//! fake shop that follows both contracts (tests and the local desk), and the wiring of a
//! `[shop]` section into the router's and the desk's order lookups, sharing one cache per
//! container.

pub mod fake;
pub mod generic;
mod http;
pub mod return_form;
pub mod shopify;
pub mod webhook;

use std::sync::Arc;

use omnidesk_domain::desk::{ReturnLinks, ShopDesk};
use omnidesk_domain::orders::{CachedOrders, Orders};
use omnidesk_domain::ports::Clock;
use omnidesk_domain::router::OrderLookup;

pub use http::ShopHttp;

use crate::config::{ShopConfig, ShopKind};

/// The shop as one container uses it: one cached adapter for the router and the desk.
#[derive(Clone)]
pub struct Shop {
    pub orders: Arc<dyn Orders>,
    pub lookup: Arc<OrderLookup>,
    pub desk: Arc<ShopDesk>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("shop.{0}: the secret was never resolved")]
    Unresolved(&'static str),
    #[error("cannot build the shop's HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

impl Shop {
    /// The adapter `config` names, behind a cache kept for `cache_seconds`.
    pub fn from_config(config: &ShopConfig, clock: Arc<dyn Clock>) -> Result<Self, ShopError> {
        let token = config.token.value().ok_or(ShopError::Unresolved("token"))?;
        let http =
            ShopHttp::new(config.timeout(), config.attempts).map_err(|e| ShopError::Http(e.to_string()))?;
        let adapter: Arc<dyn Orders> = match config.kind {
            ShopKind::Shopify => {
                Arc::new(shopify::ShopifyOrders::new(http, config.base_url(), &config.api_version, token))
            }
            ShopKind::Generic => {
                Arc::new(generic::GenericOrders::new(http, config.base_url(), token, clock.clone()))
            }
        };
        Self::over(adapter, config, clock)
    }

    /// `adapter` (any, e.g. the memory twin) with `config`'s cache and rules.
    pub fn over(
        adapter: Arc<dyn Orders>,
        config: &ShopConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ShopError> {
        let orders: Arc<dyn Orders> = Arc::new(CachedOrders::with_ttl(adapter, clock, config.cache_ttl()));
        let lookup = Arc::new(OrderLookup {
            orders: orders.clone(),
            patterns: config.patterns()?,
            returns: config.return_rules(),
            email_keywords: config.email_keywords(),
        });
        let desk = Arc::new(ShopDesk {
            orders: orders.clone(),
            notices: config.notice_rules(),
            returns: config.return_rules(),
            links: None,
        });
        Ok(Self { orders, lookup, desk })
    }

    /// Lets the desk mail the help centre form's confirmation links, with `config`'s key and
    /// validity, pointing at `help_centre_url` (`[kb] public_url`). Without a resolved
    /// `shop.returns.link_key` the form stays off.
    pub fn with_return_links(mut self, config: &ShopConfig, help_centre_url: Option<&str>) -> Self {
        let (Some(key), Some(base)) = (config.link_key(), help_centre_url) else { return self };
        let links =
            ReturnLinks { key, base_url: base.trim_end_matches('/').to_owned(), valid: config.link_valid() };
        let desk = ShopDesk {
            orders: self.desk.orders.clone(),
            notices: self.desk.notices.clone(),
            returns: self.desk.returns.clone(),
            links: Some(links),
        };
        self.desk = Arc::new(desk);
        self
    }
}

#[cfg(test)]
mod contract_tests;
