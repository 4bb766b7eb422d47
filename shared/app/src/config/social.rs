//! `[social]`: the WeChat Official Accounts, the Meta app (Messenger, Instagram, WhatsApp) and
//! the Discourse forum the desk answers on. Every credential is a [`Secret`] (a value or an
//! `sm:` reference); a verifying secret may have a `next_` one during a rotation.

use serde::Deserialize;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{ConfigError, DeskConfig, Secret, invalid, validate_callback_url};
use omnidesk_domain::forum_watch::{ForumDelay, ForumRules, MAX_DELAY_HOURS};
use omnidesk_domain::secrets::SecretResolver;
use omnidesk_domain::sla::SlaConfig;
use omnidesk_domain::social::{Platform, network};

/// The default API hosts; the local desk points them at its fakes.
pub const WECHAT_API: &str = "https://api.weixin.qq.com";
pub const GRAPH_API: &str = "https://graph.facebook.com/v21.0";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocialConfig {
    #[serde(default)]
    pub wechat: Vec<WechatAccount>,
    #[serde(default)]
    pub meta: Option<MetaApp>,
    #[serde(default)]
    pub forum: Option<ForumConfig>,
}

/// One WeChat Official Account: its messages come to `/v1/social/wechat/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatAccount {
    /// The path segment and the account's name on tickets, e.g. `shop`.
    pub id: String,
    /// The account's AppID (`wx…`): safe-mode messages end with it.
    pub app_id: String,
    /// The Token set in the account's server configuration (signs every push).
    pub token: Secret,
    #[serde(default)]
    pub next_token: Option<Secret>,
    /// The EncodingAESKey (43 characters): safe mode. Absent: plaintext only.
    #[serde(default)]
    pub encoding_aes_key: Option<Secret>,
    #[serde(default)]
    pub next_encoding_aes_key: Option<Secret>,
    /// The AppSecret, for the access token of the customer-service message API.
    pub app_secret: Secret,
    #[serde(default = "wechat_api")]
    pub api_base: String,
}

/// The Meta app whose webhook delivers Messenger, Instagram and WhatsApp messages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaApp {
    /// The App Secret: `X-Hub-Signature-256` is its HMAC of the body.
    pub app_secret: Secret,
    #[serde(default)]
    pub next_app_secret: Option<Secret>,
    /// The string typed as the webhook's Verify Token.
    pub verify_token: Secret,
    /// The Page access token (Messenger and Instagram replies); absent: those replies fail.
    #[serde(default)]
    pub page_token: Option<Secret>,
    /// The WhatsApp Cloud API token; absent: WhatsApp replies fail.
    #[serde(default)]
    pub whatsapp_token: Option<Secret>,
    #[serde(default = "graph_api")]
    pub api_base: String,
}

/// The Discourse forum: unanswered questions become tickets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForumConfig {
    /// The forum's name on tickets.
    #[serde(default = "forum_id")]
    pub id: String,
    /// The forum's address, e.g. `https://forum.shop.example`: replies are posted there.
    pub base_url: String,
    /// The webhook's secret (`X-Discourse-Event-Signature`).
    pub webhook_secret: Secret,
    #[serde(default)]
    pub next_webhook_secret: Option<Secret>,
    /// An API key allowed to post as `api_username`.
    pub api_key: Secret,
    pub api_username: String,
    /// A question no staff member has answered on the forum within this many business
    /// hours becomes a ticket; 0: every question is a ticket at once.
    #[serde(default = "forum_hours")]
    pub answer_within_business_hours: u32,
    /// The same in minutes, instead of hours (to try the local desk without waiting hours).
    #[serde(default)]
    pub answer_within_business_minutes: Option<u32>,
    /// The `[sla]` calendar those hours are counted on.
    #[serde(default = "forum_calendar")]
    pub calendar: String,
}

fn wechat_api() -> String {
    WECHAT_API.to_owned()
}
fn graph_api() -> String {
    GRAPH_API.to_owned()
}
fn forum_id() -> String {
    "forum".to_owned()
}
fn forum_hours() -> u32 {
    8
}
fn forum_calendar() -> String {
    omnidesk_domain::sla::BUSINESS_CALENDAR.to_owned()
}

const MAX_ACCOUNT_ID_LEN: usize = 64;

impl SocialConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for (i, account) in self.wechat.iter().enumerate() {
            let field = |name: &str| format!("social.wechat[{i}].{name}");
            check_id(&field("id"), &account.id)?;
            if !seen.insert(account.id.as_str()) {
                return Err(invalid(field("id"), format!("duplicate account id {:?}", account.id)));
            }
            if account.app_id.is_empty() || !account.app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid(field("app_id"), "the account's AppID, e.g. wx1234567890abcdef"));
            }
            validate_callback_url(&field("api_base"), &account.api_base)?;
        }
        if let Some(meta) = &self.meta {
            validate_callback_url("social.meta.api_base", &meta.api_base)?;
        }
        if let Some(forum) = &self.forum {
            check_id("social.forum.id", &forum.id)?;
            validate_callback_url("social.forum.base_url", &forum.base_url)?;
            if forum.api_username.trim().is_empty() {
                return Err(invalid("social.forum.api_username", "must not be empty"));
            }
            if forum.answer_within_business_hours > MAX_DELAY_HOURS {
                return Err(invalid(
                    "social.forum.answer_within_business_hours",
                    format!("at most {MAX_DELAY_HOURS} (0: every question is a ticket at once)"),
                ));
            }
            if forum.answer_within_business_minutes.is_some_and(|m| m > MAX_DELAY_HOURS * 60) {
                return Err(invalid(
                    "social.forum.answer_within_business_minutes",
                    format!("at most {} (0: every question is a ticket at once)", MAX_DELAY_HOURS * 60),
                ));
            }
        }
        for (field, secret) in self.secrets() {
            if let Some(value) = secret.value() {
                check_value(&field, value)?;
            }
        }
        Ok(())
    }

    /// Every secret with the name of its field.
    pub fn secrets(&self) -> Vec<(String, &Secret)> {
        let mut all = Vec::new();
        for (i, a) in self.wechat.iter().enumerate() {
            let field = |name: &str| format!("social.wechat[{i}].{name}");
            all.push((field("token"), &a.token));
            all.extend(a.next_token.as_ref().map(|s| (field("next_token"), s)));
            all.extend(a.encoding_aes_key.as_ref().map(|s| (field("encoding_aes_key"), s)));
            all.extend(a.next_encoding_aes_key.as_ref().map(|s| (field("next_encoding_aes_key"), s)));
            all.push((field("app_secret"), &a.app_secret));
        }
        if let Some(m) = &self.meta {
            all.push(("social.meta.app_secret".into(), &m.app_secret));
            all.extend(m.next_app_secret.as_ref().map(|s| ("social.meta.next_app_secret".into(), s)));
            all.push(("social.meta.verify_token".into(), &m.verify_token));
            all.extend(m.page_token.as_ref().map(|s| ("social.meta.page_token".into(), s)));
            all.extend(m.whatsapp_token.as_ref().map(|s| ("social.meta.whatsapp_token".into(), s)));
        }
        if let Some(f) = &self.forum {
            all.push(("social.forum.webhook_secret".into(), &f.webhook_secret));
            all.extend(
                f.next_webhook_secret.as_ref().map(|s| ("social.forum.next_webhook_secret".into(), s)),
            );
            all.push(("social.forum.api_key".into(), &f.api_key));
        }
        all
    }

    /// The platforms' API addresses, with the name of their field.
    pub fn urls(&self) -> Vec<(String, &str)> {
        let mut all: Vec<(String, &str)> = self
            .wechat
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("social.wechat[{i}].api_base"), a.api_base.as_str()))
            .collect();
        all.extend(self.meta.as_ref().map(|m| ("social.meta.api_base".to_owned(), m.api_base.as_str())));
        all.extend(self.forum.as_ref().map(|f| ("social.forum.base_url".to_owned(), f.base_url.as_str())));
        all
    }

    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut all = Vec::new();
        for (i, a) in self.wechat.iter_mut().enumerate() {
            let field = |name: &str| format!("social.wechat[{i}].{name}");
            all.push((field("token"), &mut a.token));
            all.extend(a.next_token.as_mut().map(|s| (field("next_token"), s)));
            all.extend(a.encoding_aes_key.as_mut().map(|s| (field("encoding_aes_key"), s)));
            all.extend(a.next_encoding_aes_key.as_mut().map(|s| (field("next_encoding_aes_key"), s)));
            all.push((field("app_secret"), &mut a.app_secret));
        }
        if let Some(m) = &mut self.meta {
            all.push(("social.meta.app_secret".into(), &mut m.app_secret));
            all.extend(m.next_app_secret.as_mut().map(|s| ("social.meta.next_app_secret".into(), s)));
            all.push(("social.meta.verify_token".into(), &mut m.verify_token));
            all.extend(m.page_token.as_mut().map(|s| ("social.meta.page_token".into(), s)));
            all.extend(m.whatsapp_token.as_mut().map(|s| ("social.meta.whatsapp_token".into(), s)));
        }
        if let Some(f) = &mut self.forum {
            all.push(("social.forum.webhook_secret".into(), &mut f.webhook_secret));
            all.extend(
                f.next_webhook_secret.as_mut().map(|s| ("social.forum.next_webhook_secret".into(), s)),
            );
            all.push(("social.forum.api_key".into(), &mut f.api_key));
        }
        all
    }

    /// Reads every referenced secret of `[social]` (social-webhook and outbound-dispatcher:
    /// only their roles may read them).
    pub async fn resolve(&mut self, resolver: &dyn SecretResolver) -> Result<(), ConfigError> {
        super::deployed::resolve_fields(self.secrets_mut(), resolver, |field, _, value| {
            check_value(field, value)
        })
        .await
    }

    /// Refuses references nobody resolved (the local desk has no secret store).
    pub(super) fn require_values(&self) -> Result<(), ConfigError> {
        for (field, secret) in self.secrets() {
            if let (Some(reference), None) = (secret.reference(), secret.value()) {
                return Err(invalid(
                    field,
                    format!("{reference} is resolved on AWS only; give the local desk the value itself"),
                ));
            }
        }
        Ok(())
    }
}

fn check_id(field: &str, id: &str) -> Result<(), ConfigError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ACCOUNT_ID_LEN
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(invalid(field, "use 1–64 characters of a-z, 0-9, - and _")) }
}

/// Each platform's own rule for its credentials: WeChat's Token is 3 to 32 letters and
/// digits, its EncodingAESKey 43; HMAC keys and API tokens at least 16 characters.
fn check_value(field: &str, value: &str) -> Result<(), ConfigError> {
    let alnum = |v: &str| v.chars().all(|c| c.is_ascii_alphanumeric());
    let message = if field.ends_with("token") && field.starts_with("social.wechat") {
        (!(3..=32).contains(&value.len()) || !alnum(value)).then_some("3 to 32 letters and digits")
    } else if field.ends_with("encoding_aes_key") {
        (value.len() != 43 || !alnum(value)).then_some("exactly 43 letters and digits")
    } else if field.ends_with("verify_token") {
        value.is_empty().then_some("must not be empty")
    } else {
        (value.len() < 16).then_some("must be at least 16 characters")
    };
    match message {
        Some(message) => Err(invalid(field, message)),
        None => Ok(()),
    }
}

impl DeskConfig {
    /// How long forum questions wait for a staff answer before they are tickets: `None`
    /// without a forum or with a delay of 0. The calendar must be one of `[sla]`'s (the
    /// built-in `business` and `24x7` without an `[sla]`).
    pub fn forum_rules(&self) -> Result<Option<Arc<ForumRules>>, ConfigError> {
        let Some(forum) = self.social.as_ref().and_then(|s| s.forum.as_ref()) else { return Ok(None) };
        let minutes = forum
            .answer_within_business_minutes
            .unwrap_or(forum.answer_within_business_hours.saturating_mul(60));
        if minutes == 0 {
            return Ok(None);
        }
        let policies = match self.sla_policies()? {
            Some(policies) => policies,
            None => Arc::new(
                SlaConfig::default()
                    .validate()
                    .map_err(|e| invalid(format!("sla.{}", e.field), e.message))?,
            ),
        };
        let calendar = policies.named_calendar(&forum.calendar).ok_or_else(|| {
            invalid("social.forum.calendar", format!("no calendar {:?} in [sla]", forum.calendar))
        })?;
        let delay =
            ForumDelay { calendar: calendar.clone(), delay: Duration::from_secs(u64::from(minutes) * 60) };
        let forums = HashMap::from([(network(Platform::Forum, &forum.id), delay)]);
        Ok(Some(Arc::new(ForumRules { forums })))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::DeskConfig;

    const GOOD: &str = r#"
[[social.wechat]]
id = "shop"
app_id = "wx1234567890abcdef"
token = "pamtest"
encoding_aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
app_secret = "0123456789abcdef0123456789abcdef"
"#;

    fn error_of(text: &str) -> String {
        DeskConfig::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn social_config_errors_name_their_field() {
        assert!(DeskConfig::from_toml(GOOD).is_ok());
        let short_key = GOOD.replace("ABCDEFG\"", "ABCDEF\"");
        assert!(
            error_of(&short_key).contains("social.wechat[0].encoding_aes_key"),
            "{}",
            error_of(&short_key)
        );
        let reference = GOOD.replace("\"pamtest\"", "\"sm:omnidesk/wechat/token\"");
        assert!(error_of(&reference).contains("social.wechat[0].token"), "{}", error_of(&reference));
        let bad_id = GOOD.replace("id = \"shop\"", "id = \"Shop!\"");
        assert!(error_of(&bad_id).contains("social.wechat[0].id"));
    }

    #[test]
    fn social_secrets_on_aws_are_references_and_their_apis_not_loopback() {
        use crate::config::Runtime;
        let literal = DeskConfig::parse(GOOD, Runtime::Aws).unwrap_err().to_string();
        assert!(literal.contains("social.wechat[0].token"), "{literal}");
        let referenced = GOOD
            .replace("\"pamtest\"", "\"sm:omnidesk/social/token\"")
            .replace("\"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\"", "\"sm:omnidesk/social/aes\"")
            .replace("\"0123456789abcdef0123456789abcdef\"", "\"sm:omnidesk/social/app\"");
        assert!(DeskConfig::parse(&referenced, Runtime::Aws).is_ok());
        let loopback = format!("{referenced}api_base = \"http://127.0.0.1:3000/fake\"\n");
        let error = DeskConfig::parse(&loopback, Runtime::Aws).unwrap_err().to_string();
        assert!(error.contains("social.wechat[0].api_base"), "{error}");
    }
}
