//! `[shop]`: the shop the desk reads orders from — Shopify's Admin GraphQL API or the
//! generic JSON contract — its credentials (secret references on AWS), how order numbers
//! look, when a parcel counts as late, and the return rules.

use std::collections::BTreeSet;
use std::time::Duration;

use omnidesk_domain::orders::{NoticeRules, OrderPatterns, ReturnRules};
use serde::Deserialize;

use super::{ConfigError, Secret, invalid, validate_callback_url};

const MAX_PREFIXES: usize = 20;
const MAX_CATEGORIES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopKind {
    /// `POST {url}/admin/api/{api_version}/graphql.json` with `X-Shopify-Access-Token`.
    Shopify,
    /// `GET {url}/orders?customer=…`, `GET {url}/orders/{name}`, signed like our callbacks.
    Generic,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    pub kind: ShopKind,
    /// Shopify: `https://<shop>.myshopify.com`; generic: the contract's base URL.
    pub url: String,
    /// Shopify's quarterly API version, e.g. `2025-01`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Shopify: the Admin API access token; generic: the key requests are signed with.
    pub token: Secret,
    /// The key shop webhooks are signed with (Shopify: the app's client secret).
    pub webhook_secret: Secret,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Tries per lookup, the first included (timeouts, 5xx, 429 and throttling are retried).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// How long a container keeps an answer.
    #[serde(default = "default_cache_seconds")]
    pub cache_seconds: u64,
    /// Hours past its promised date before a parcel is late.
    #[serde(default = "default_late_margin_hours")]
    pub late_margin_hours: u64,
    #[serde(default)]
    pub order_numbers: OrderNumbersConfig,
    #[serde(default)]
    pub returns: ReturnsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderNumbersConfig {
    /// Words before the digits: `#`, `order`, `订单`.
    #[serde(default = "default_prefixes")]
    pub prefixes: Vec<String>,
    /// How the shop names an order; `{digits}` is replaced.
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_min_digits")]
    pub min_digits: usize,
    #[serde(default = "default_max_digits")]
    pub max_digits: usize,
}

impl Default for OrderNumbersConfig {
    fn default() -> Self {
        Self {
            prefixes: default_prefixes(),
            name: default_name(),
            min_digits: default_min_digits(),
            max_digits: default_max_digits(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnsConfig {
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Product categories that cannot come back (e.g. `gift_card`, `underwear`).
    #[serde(default)]
    pub non_returnable: Vec<String>,
    #[serde(default = "yes")]
    pub damage_needs_photos: bool,
    /// Business minutes to approve or reject a request; 0: no timer.
    #[serde(default = "default_approve_minutes")]
    pub approve_within_minutes: u32,
    /// Business minutes from receipt to refund or exchange; 0: no timer.
    #[serde(default = "default_refund_minutes")]
    pub refund_within_minutes: u32,
    /// Words that, in a mail's subject or first lines next to an order number, start a
    /// return for the sender's order; empty: mail starts none.
    #[serde(default = "default_email_keywords")]
    pub email_keywords: Vec<String>,
    /// Signs the help centre form's confirmation links (`sm:<name>` on AWS); without it the
    /// form is off.
    #[serde(default)]
    pub link_key: Option<Secret>,
    /// How long a confirmation link works.
    #[serde(default = "default_link_valid_hours")]
    pub link_valid_hours: u32,
}

impl Default for ReturnsConfig {
    fn default() -> Self {
        Self {
            window_days: default_window_days(),
            non_returnable: Vec::new(),
            damage_needs_photos: true,
            approve_within_minutes: default_approve_minutes(),
            refund_within_minutes: default_refund_minutes(),
            email_keywords: default_email_keywords(),
            link_key: None,
            link_valid_hours: default_link_valid_hours(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_api_version() -> String {
    "2025-01".to_owned()
}
fn default_timeout_ms() -> u64 {
    3_000
}
fn default_attempts() -> u32 {
    3
}
fn default_cache_seconds() -> u64 {
    60
}
fn default_late_margin_hours() -> u64 {
    24
}
fn default_prefixes() -> Vec<String> {
    ["#", "order", "订单", "单号"].map(str::to_owned).to_vec()
}
fn default_name() -> String {
    "#{digits}".to_owned()
}
fn default_min_digits() -> usize {
    4
}
fn default_max_digits() -> usize {
    12
}
fn default_email_keywords() -> Vec<String> {
    ["return", "exchange", "退货", "退换", "换货"].map(str::to_owned).to_vec()
}
fn default_link_valid_hours() -> u32 {
    24
}
fn default_window_days() -> u32 {
    30
}
/// One business day.
fn default_approve_minutes() -> u32 {
    8 * 60
}
/// Three business days.
fn default_refund_minutes() -> u32 {
    3 * 8 * 60
}

impl ShopConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        validate_callback_url("shop.url", &self.url)?;
        let version_ok = self.api_version.len() == 7
            && self
                .api_version
                .chars()
                .enumerate()
                .all(|(i, c)| if i == 4 { c == '-' } else { c.is_ascii_digit() });
        if !version_ok {
            return Err(invalid("shop.api_version", "a quarterly version like 2025-01"));
        }
        if !(100..=30_000).contains(&self.timeout_ms) {
            return Err(invalid("shop.timeout_ms", "between 100 and 30000"));
        }
        if !(1..=5).contains(&self.attempts) {
            return Err(invalid("shop.attempts", "between 1 and 5"));
        }
        if self.cache_seconds > 3_600 {
            return Err(invalid("shop.cache_seconds", "at most 3600"));
        }
        if self.late_margin_hours > 24 * 30 {
            return Err(invalid("shop.late_margin_hours", "at most 720"));
        }
        for (name, secret) in self.secrets() {
            if let Some(value) = secret.value() {
                super::check_secret_value(&format!("shop.{name}"), secret.reference(), value)?;
            }
        }
        if self.order_numbers.prefixes.len() > MAX_PREFIXES {
            return Err(invalid("shop.order_numbers.prefixes", format!("at most {MAX_PREFIXES}")));
        }
        self.patterns()?;
        if self.returns.non_returnable.len() > MAX_CATEGORIES {
            return Err(invalid("shop.returns.non_returnable", format!("at most {MAX_CATEGORIES}")));
        }
        if !(1..=365).contains(&self.returns.window_days) {
            return Err(invalid("shop.returns.window_days", "between 1 and 365"));
        }
        if self.returns.email_keywords.len() > MAX_PREFIXES
            || self.returns.email_keywords.iter().any(|k| k.trim().is_empty() || k.chars().count() > 40)
        {
            return Err(invalid(
                "shop.returns.email_keywords",
                format!("at most {MAX_PREFIXES} words of 1–40 characters"),
            ));
        }
        if !(1..=168).contains(&self.returns.link_valid_hours) {
            return Err(invalid("shop.returns.link_valid_hours", "between 1 and 168"));
        }
        if let Some(value) = self.returns.link_key.as_ref().and_then(Secret::value)
            && value.len() < omnidesk_domain::orders::return_link::MIN_KEY_BYTES
        {
            return Err(invalid("shop.returns.link_key", "at least 16 bytes"));
        }
        Ok(())
    }

    /// The secret fields with their names.
    pub fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        let mut secrets = vec![("token", &self.token), ("webhook_secret", &self.webhook_secret)];
        secrets.extend(self.returns.link_key.as_ref().map(|key| ("returns.link_key", key)));
        secrets
    }

    pub(super) fn secrets_mut(&mut self) -> Vec<(&'static str, &mut Secret)> {
        let mut secrets = vec![("token", &mut self.token), ("webhook_secret", &mut self.webhook_secret)];
        secrets.extend(self.returns.link_key.as_mut().map(|key| ("returns.link_key", key)));
        secrets
    }

    /// The lower-cased words that start a return from a mail.
    pub fn email_keywords(&self) -> Vec<String> {
        self.returns.email_keywords.iter().map(|k| k.trim().to_lowercase()).collect()
    }

    /// The return-link key, once resolved.
    pub fn link_key(&self) -> Option<omnidesk_domain::orders::return_link::LinkKey> {
        let value = self.returns.link_key.as_ref()?.value()?;
        omnidesk_domain::orders::return_link::LinkKey::new(value.as_bytes())
    }

    pub fn link_valid(&self) -> Duration {
        Duration::from_secs(u64::from(self.returns.link_valid_hours) * 3600)
    }

    pub fn patterns(&self) -> Result<OrderPatterns, ConfigError> {
        let n = &self.order_numbers;
        OrderPatterns::new(&n.prefixes, &n.name, n.min_digits, n.max_digits).map_err(|e| {
            let message = e.to_string();
            let (field, message) = message.split_once(": ").unwrap_or(("", message.as_str()));
            invalid(format!("shop.order_numbers.{field}"), message.to_owned())
        })
    }

    pub fn notice_rules(&self) -> NoticeRules {
        NoticeRules { late_margin: Duration::from_secs(self.late_margin_hours * 3600) }
    }

    pub fn return_rules(&self) -> ReturnRules {
        let r = &self.returns;
        ReturnRules {
            window_days: r.window_days,
            non_returnable: r.non_returnable.iter().map(|c| c.to_lowercase()).collect::<BTreeSet<_>>(),
            damage_needs_photos: r.damage_needs_photos,
            approve_within_minutes: (r.approve_within_minutes > 0).then_some(r.approve_within_minutes),
            refund_within_minutes: (r.refund_within_minutes > 0).then_some(r.refund_within_minutes),
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_seconds)
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/')
    }
}
