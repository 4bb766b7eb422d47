//! The desk configuration: one TOML file, read by the local desk from disk and by every
//! Lambda function from one S3 object at start (see ARCHITECTURE.md). Parsed, then
//! validated; every error names its field, e.g. `chat_inboxes[1].secret: must be at least 16
//! characters`. Secrets are references on AWS ([`deployed`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use omnidesk_domain::assignment::{Routing, RoutingConfig};
use omnidesk_domain::router::{Acknowledgements, DEFAULT_ACKNOWLEDGEMENT};
use serde::Deserialize;

mod analytics;
mod deployed;
mod email;
mod kb;
mod phone;
mod secret;
mod shop;
mod sla;
mod social;
mod staff;
mod survey;

pub use analytics::AnalyticsConfig;
pub use deployed::Runtime;
pub use email::{EmailConfig, TemplateConfig};
pub use kb::{BotConfig, KbConfig};
pub use omnidesk_domain::sla::SlaConfig;
pub use phone::PhoneConfig;
pub use secret::Secret;
pub use shop::{OrderNumbersConfig, ReturnsConfig, ShopConfig, ShopKind};
pub use social::{ForumConfig, MetaApp, SocialConfig, WechatAccount};
pub use staff::{AgentConfig, AuthConfig, TokenConfig};
pub use survey::SurveyConfig;

/// The largest configuration file read. A desk of 200 agents, 20 teams and three calendars
/// with a year of holidays is 38 KB; this leaves room and bounds what init reads.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

const MIN_SECRET_LEN: usize = 16;
const MAX_INBOX_ID_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), message: message.into() }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    #[serde(default)]
    pub acknowledgement: AcknowledgementConfig,
    #[serde(default)]
    pub chat_inboxes: Vec<ChatInbox>,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// The email channel; absent: the desk takes no mail.
    #[serde(default)]
    pub email: Option<EmailConfig>,
    /// Teams and the rules that put new tickets in them; absent: tickets stay unrouted.
    #[serde(default)]
    pub routing: Option<RoutingConfig>,
    /// The agents: teams, skills, languages and capacity. Presence is set through the API.
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
    /// Bearer tokens of the local desk's agent API (in AWS a Cognito JWT authorizer instead).
    #[serde(default)]
    pub auth: AuthConfig,
    /// SLA targets, calendars and escalations; absent: tickets have no SLA timers.
    #[serde(default)]
    pub sla: Option<SlaConfig>,
    /// Satisfaction surveys; absent: none are sent.
    #[serde(default)]
    pub survey: Option<SurveyConfig>,
    /// The analytics rollup (Parquet export); absent: analytics-rollup refuses to start and
    /// the local desk exports nothing.
    #[serde(default)]
    pub analytics: Option<AnalyticsConfig>,
    /// The phone channel (Amazon Connect); absent: its defaults.
    #[serde(default)]
    pub phone: Option<PhoneConfig>,
    /// The knowledge base's search and public help centre; absent: no help centre.
    #[serde(default)]
    pub kb: Option<KbConfig>,
    /// The chat bot; absent or no inboxes: no bot anywhere.
    #[serde(default)]
    pub bot: Option<BotConfig>,
    /// WeChat, Meta's messaging apps and the community forum; absent: none.
    #[serde(default)]
    pub social: Option<SocialConfig>,
    /// The shop's orders: order status, proactive notices, returns; absent: none of them.
    #[serde(default)]
    pub shop: Option<ShopConfig>,
    /// Only read by omnidesk-local.
    #[serde(default)]
    pub local: LocalConfig,
    /// `[routing]` and `[sla]` as validated at load, shared by everyone who asks.
    #[serde(skip)]
    validated: Validated,
}

/// The sections validation turns into the domain's types, kept from the first (successful)
/// validation: the router, the desk, the phone rules and the forum rules of one function
/// then share one copy instead of each validating the section again (a year of holidays in
/// three calendars is expanded once). The sections are not changed after loading (resolving
/// secrets touches secret values only), so what is kept stays true.
#[derive(Debug, Clone, Default)]
struct Validated {
    routing: OnceLock<Option<Routing>>,
    sla: OnceLock<Option<Arc<omnidesk_domain::sla::SlaPolicies>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementConfig {
    /// Send "we received your message" when a ticket is opened.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `{ticket}` becomes `#N`.
    #[serde(default = "default_acknowledgement")]
    pub text: String,
}

impl Default for AcknowledgementConfig {
    fn default() -> Self {
        Self { enabled: true, text: default_acknowledgement() }
    }
}

fn yes() -> bool {
    true
}

fn default_acknowledgement() -> String {
    DEFAULT_ACKNOWLEDGEMENT.to_owned()
}

/// A chat provider or site widget posting to `/v1/chat/{id}/messages`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatInbox {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Shared HMAC secret for both directions: callbacks are signed with it.
    pub secret: Secret,
    /// During a rotation, the secret the provider is moving to: requests signed with either
    /// are accepted.
    #[serde(default)]
    pub next_secret: Option<Secret>,
    /// Where agent replies and acknowledgements are POSTed.
    pub callback_url: String,
    /// Overrides the desk-wide acknowledgement text for this inbox.
    #[serde(default)]
    pub acknowledgement: Option<String>,
    /// Turns the acknowledgement off for this inbox.
    #[serde(default)]
    pub acknowledge: Option<bool>,
    /// The provider signs its users in and vouches for the `visitor.email` and
    /// `visitor.phone` it sends: they then link the visitor to the customer holding them.
    /// Off by default: typed contact details are unverified hints an agent may merge by.
    #[serde(default)]
    pub verified_identity: bool,
    /// Signed messages accepted per minute before the webhook answers 429 (the provider
    /// retries later); `0` turns the limit off. Default [`DEFAULT_INBOX_MESSAGES_PER_MINUTE`].
    #[serde(default = "default_inbox_rate")]
    pub max_messages_per_minute: u32,
}

/// 20 messages a second, sustained for a minute, from one inbox: far above a shop's chat
/// traffic, far below what would cost real money if a leaked secret were abused.
pub const DEFAULT_INBOX_MESSAGES_PER_MINUTE: u32 = 1200;

fn default_inbox_rate() -> u32 {
    DEFAULT_INBOX_MESSAGES_PER_MINUTE
}

impl ChatInbox {
    /// The keys a request's signature may be made with: the secret, and the next one during
    /// a rotation. Unresolved references give none, so nothing verifies.
    pub fn verifying_keys(&self) -> Vec<&[u8]> {
        deployed::secrets_of(self).filter_map(|(_, secret)| secret.value()).map(str::as_bytes).collect()
    }

    /// The key callbacks are signed with; `None` if the secret was never resolved.
    pub fn signing_key(&self) -> Option<&[u8]> {
        self.secret.value().map(str::as_bytes)
    }
}

impl std::fmt::Debug for ChatInbox {
    // Keeps the secret out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatInbox")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("callback_url", &self.callback_url)
            .field("verified_identity", &self.verified_identity)
            .field("secret", &self.secret)
            .field("next_secret", &self.next_secret)
            .finish_non_exhaustive()
    }
}

/// How the dispatcher retries a callback within one queue delivery; SQS redelivery and the
/// dead-letter queue take over after that.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            attempts: default_attempts(),
            backoff_ms: default_backoff_ms(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

fn default_attempts() -> u32 {
    3
}
fn default_backoff_ms() -> u64 {
    200
}
fn default_timeout_ms() -> u64 {
    5_000
}

impl DeliveryConfig {
    pub fn backoff(&self) -> Duration {
        Duration::from_millis(self.backoff_ms)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// The local desk's queues mimic SQS with these settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    #[serde(default = "default_visibility_timeout_ms")]
    pub visibility_timeout_ms: u64,
    #[serde(default = "default_max_receive_count")]
    pub max_receive_count: u32,
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// How often the local desk runs the SLA sweeper (Lambda: every minute).
    #[serde(default = "default_sweep_interval_ms")]
    pub sla_sweep_interval_ms: u64,
    /// How often the local desk runs the survey sender (Lambda: every 5 minutes).
    #[serde(default = "default_survey_interval_ms")]
    pub survey_interval_ms: u64,
    /// How often the local desk runs the analytics rollup with `--export DIR` (Lambda: every
    /// 15 minutes).
    #[serde(default = "default_export_interval_ms")]
    pub export_interval_ms: u64,
    /// Serve a fake shop with example orders at `/local/shop` (point `[shop] url` at
    /// `http://127.0.0.1:<port>/local/shop`): order status, notices and returns without a shop.
    #[serde(default)]
    pub fake_shop: bool,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            visibility_timeout_ms: default_visibility_timeout_ms(),
            max_receive_count: default_max_receive_count(),
            poll_interval_ms: default_poll_interval_ms(),
            sla_sweep_interval_ms: default_sweep_interval_ms(),
            survey_interval_ms: default_survey_interval_ms(),
            export_interval_ms: default_export_interval_ms(),
            fake_shop: false,
        }
    }
}

fn default_visibility_timeout_ms() -> u64 {
    30_000
}
fn default_max_receive_count() -> u32 {
    5
}
fn default_poll_interval_ms() -> u64 {
    50
}
fn default_survey_interval_ms() -> u64 {
    10_000
}
fn default_export_interval_ms() -> u64 {
    15 * 60 * 1000
}
fn default_sweep_interval_ms() -> u64 {
    sla::DEFAULT_SWEEP_INTERVAL_MS
}

impl DeskConfig {
    /// The local desk's reading: secrets are values (a reference is an error naming its
    /// field), bearer tokens and loopback URLs are fine.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config = Self::parse(text, Runtime::LocalDesk)?;
        config.require_secret_values()?;
        if let Some(social) = &config.social {
            social.require_values()?;
        }
        Ok(config)
    }

    /// Parses and validates everything but the values behind secret references, which
    /// [`DeskConfig::resolve_secrets`] reads.
    pub fn parse(text: &str, runtime: Runtime) -> Result<Self, ConfigError> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(invalid(
                "(file)",
                format!("{} bytes is over the limit of {MAX_CONFIG_BYTES}", text.len()),
            ));
        }
        let deserializer =
            toml::Deserializer::parse(text).map_err(|e| invalid("(file)", e.message().to_owned()))?;
        let config: DeskConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            invalid(
                if field == "." { "(top level)".to_owned() } else { field },
                e.into_inner().message().to_owned(),
            )
        })?;
        config.validate()?;
        deployed::check_runtime(&config, runtime)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_toml(&text)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        validate_template("acknowledgement.text", &self.acknowledgement.text)?;
        let mut seen = HashSet::new();
        for (i, inbox) in self.chat_inboxes.iter().enumerate() {
            let field = |name: &str| format!("chat_inboxes[{i}].{name}");
            let id_ok = !inbox.id.is_empty()
                && inbox.id.len() <= MAX_INBOX_ID_LEN
                && inbox
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !id_ok {
                return Err(invalid(field("id"), "use 1–64 characters of a-z, 0-9, - and _"));
            }
            if !seen.insert(inbox.id.as_str()) {
                return Err(invalid(field("id"), format!("duplicate inbox id {:?}", inbox.id)));
            }
            for (name, secret) in deployed::secrets_of(inbox) {
                if let Some(value) = secret.value() {
                    check_secret_value(&field(name), secret.reference(), value)?;
                }
            }
            validate_callback_url(&field("callback_url"), &inbox.callback_url)?;
            if let Some(text) = &inbox.acknowledgement {
                validate_template(&field("acknowledgement"), text)?;
            }
        }
        if let Some(social) = &self.social {
            social.validate()?;
        }
        if self.delivery.attempts == 0 {
            return Err(invalid("delivery.attempts", "must be at least 1"));
        }
        if self.local.export_interval_ms == 0 {
            return Err(invalid("local.export_interval_ms", "must be at least 1"));
        }
        if self.local.survey_interval_ms == 0 {
            return Err(invalid("local.survey_interval_ms", "must be at least 1"));
        }
        if let Some(survey) = &self.survey {
            survey.validate()?;
        }
        if let Some(analytics) = &self.analytics {
            analytics.validate()?;
        }
        if self.local.sla_sweep_interval_ms == 0 {
            return Err(invalid("local.sla_sweep_interval_ms", "must be at least 1"));
        }
        if self.local.max_receive_count == 0 {
            return Err(invalid("local.max_receive_count", "must be at least 1"));
        }
        if let Some(email) = &self.email {
            email.validate()?;
        }
        if let Some(kb) = &self.kb {
            kb.validate()?;
        }
        if let Some(shop) = &self.shop {
            shop.validate()?;
        }
        if let Some(bot) = &self.bot {
            let inboxes = self.chat_inboxes.iter().map(|i| i.id.as_str()).collect();
            bot.validate(&inboxes, self.kb.as_ref())?;
        }
        self.routing()?;
        staff::validate(&self.agents, &self.auth, self.routing.as_ref())?;
        self.sla_policies()?;
        self.forum_rules()?;
        if let Some(phone) = &self.phone {
            phone.rules(self.routing()?.as_ref())?;
        }
        if let Some(sla) = &self.sla {
            for (i, escalation) in sla.escalations.iter().enumerate() {
                if let Some(url) = &escalation.notify_webhook {
                    validate_callback_url(&format!("sla.escalations[{i}].notify_webhook"), url)?;
                }
            }
        }
        Ok(())
    }

    /// The bot's rules, if a `[bot]` names inboxes (validation made sure `[kb]` is there).
    pub fn bot_rules(&self) -> Option<omnidesk_domain::bot::BotRules> {
        let (bot, kb) = (self.bot.as_ref()?, self.kb.as_ref()?);
        (!bot.inboxes.is_empty()).then(|| bot.rules(kb))
    }

    /// The validated routing rules, if the file has a `[routing]` section; validated once,
    /// then shared ([`Routing`] clones share its rules).
    pub fn routing(&self) -> Result<Option<Routing>, ConfigError> {
        if let Some(routing) = self.validated.routing.get() {
            return Ok(routing.clone());
        }
        let routing = self.validate_routing()?;
        Ok(self.validated.routing.get_or_init(|| routing).clone())
    }

    fn validate_routing(&self) -> Result<Option<Routing>, ConfigError> {
        let Some(routing) = &self.routing else {
            return Ok(None);
        };
        routing.clone().validate().map(Some).map_err(|e| {
            let field = format!("routing.{}", e.field());
            let message = e.to_string();
            let message = message.strip_prefix(&format!("{}: ", e.field())).unwrap_or(&message).to_owned();
            invalid(field, message)
        })
    }

    /// The phone rules (validated at load; a hand-built config with bad ones gets the defaults).
    pub fn phone_rules(&self) -> omnidesk_domain::phone::PhoneRules {
        let phone = self.phone.clone().unwrap_or_default();
        phone.rules(self.routing().ok().flatten().as_ref()).unwrap_or_else(|error| {
            tracing::error!(%error, "config.phone_invalid");
            omnidesk_domain::phone::PhoneRules::default()
        })
    }

    /// The key the agent API signs list cursors with (see [`AuthConfig::cursor_key`]).
    /// The agents: the profiles listed here joined with the presence in `activity`. Nothing
    /// is written to build it, so a function's start costs no store write.
    pub fn roster(
        &self,
        activity: Arc<dyn omnidesk_domain::ports::AgentActivityStore>,
    ) -> omnidesk_domain::roster::Roster {
        omnidesk_domain::roster::Roster::new(self.agents.iter().map(|agent| agent.agent()), activity)
    }

    pub fn cursor_key(&self) -> Option<omnidesk_domain::cursor::CursorKey> {
        // The resolved values: a reference (`sm:…`) names a secret, it is none.
        let inbox_secrets: Vec<&str> = self.chat_inboxes.iter().filter_map(|i| i.secret.value()).collect();
        self.auth.cursor_key(&inbox_secrets)
    }

    pub fn inboxes(&self) -> Arc<InboxDirectory> {
        Arc::new(InboxDirectory(self.chat_inboxes.iter().map(|i| (i.id.clone(), i.clone())).collect()))
    }

    pub fn acknowledgements(&self) -> Acknowledgements {
        let default = self.acknowledgement.enabled.then(|| self.acknowledgement.text.clone());
        let per_inbox = self
            .chat_inboxes
            .iter()
            .filter(|i| i.acknowledge.is_some() || i.acknowledgement.is_some())
            .map(|i| {
                let text = match i.acknowledge {
                    Some(false) => None,
                    _ => i.acknowledgement.clone().or_else(|| Some(self.acknowledgement.text.clone())),
                };
                (i.id.clone(), text)
            })
            .collect();
        Acknowledgements { default, per_inbox }
    }
}

/// Where the desk POSTs signed customer data: https, or plain http to this machine only
/// (`127.0.0.1`, `::1`, `localhost`: a receiver for the local desk and tests). Used for every
/// outbound URL in the file.
pub(crate) fn validate_callback_url(field: &str, raw: &str) -> Result<(), ConfigError> {
    let url = reqwest::Url::parse(raw)
        .ok()
        .filter(|u| u.has_host())
        .ok_or_else(|| invalid(field, "must be an absolute https URL"))?;
    // The parsed host is normalised (`[0:0::1]` → `[::1]`, `2130706433` → `127.0.0.1`).
    let loopback = url
        .host_str()
        .is_some_and(|h| matches!(h, "127.0.0.1" | "[::1]") || h.eq_ignore_ascii_case("localhost"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(field, "must be https (plain http only to 127.0.0.1, ::1 or localhost)")),
    }
}

/// A secret's value, literal or resolved: long enough to be worth a MAC.
fn check_secret_value(
    field: &str,
    reference: Option<&omnidesk_domain::secrets::SecretRef>,
    value: &str,
) -> Result<(), ConfigError> {
    if value.len() >= MIN_SECRET_LEN {
        return Ok(());
    }
    let message = format!("must be at least {MIN_SECRET_LEN} characters");
    Err(match reference {
        Some(reference) => invalid(field, format!("the value of {reference} {message}")),
        None => invalid(field, message),
    })
}

fn validate_template(field: &str, text: &str) -> Result<(), ConfigError> {
    if text.contains("{ticket}") {
        Ok(())
    } else {
        Err(invalid(field, "must contain {ticket}, where the tracking number goes"))
    }
}

/// Chat inboxes by id.
#[derive(Debug, Clone, Default)]
pub struct InboxDirectory(HashMap<String, ChatInbox>);

impl InboxDirectory {
    pub fn get(&self, id: &str) -> Option<&ChatInbox> {
        self.0.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [[chat_inboxes]]
        id = "web"
        secret = "0123456789abcdef"
        callback_url = "https://shop.example/omnidesk/callback"

        [[chat_inboxes]]
        id = "app"
        secret = "fedcba9876543210"
        callback_url = "http://127.0.0.1:4000/cb"
        acknowledge = false
    "#;

    fn error_of(text: &str) -> String {
        DeskConfig::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_parses_with_defaults() {
        let config = DeskConfig::from_toml(GOOD).unwrap();
        assert_eq!(config.chat_inboxes.len(), 2);
        assert_eq!(config.delivery.attempts, 3);
        let acks = config.acknowledgements();
        assert_eq!(acks.default.as_deref(), Some(DEFAULT_ACKNOWLEDGEMENT));
        assert_eq!(acks.per_inbox.get("app"), Some(&None));
        assert!(config.inboxes().get("web").is_some());
        assert!(!config.chat_inboxes[0].verified_identity, "typed details are hints unless said otherwise");
        let verified =
            DeskConfig::from_toml(&GOOD.replace("acknowledge = false", "verified_identity = true"));
        assert!(verified.unwrap().chat_inboxes[1].verified_identity);
        assert!(
            error_of(&GOOD.replace("acknowledge = false", "verified_identity = \"yes\""))
                .starts_with("chat_inboxes[1].verified_identity: invalid type"),
            "{}",
            error_of(&GOOD.replace("acknowledge = false", "verified_identity = \"yes\""))
        );
    }

    #[test]
    fn a_missing_field_is_named_with_its_index() {
        let text = GOOD.replace("secret = \"fedcba9876543210\"", "");
        assert_eq!(error_of(&text), "chat_inboxes[1]: missing field `secret`");
    }

    #[test]
    fn a_short_secret_is_named() {
        let text = GOOD.replace("fedcba9876543210", "short");
        assert_eq!(error_of(&text), "chat_inboxes[1].secret: must be at least 16 characters");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let text = GOOD.replace("acknowledge = false", "acknowlege = false");
        assert!(
            error_of(&text).starts_with("chat_inboxes[1].acknowlege: unknown field"),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn bad_urls_ids_and_templates_are_named() {
        assert_eq!(
            error_of(&GOOD.replace("http://127.0.0.1:4000/cb", "ftp://x")),
            "chat_inboxes[1].callback_url: must be https (plain http only to 127.0.0.1, ::1 or localhost)"
        );
        assert_eq!(
            error_of(&GOOD.replace("http://127.0.0.1:4000/cb", "/relative")),
            "chat_inboxes[1].callback_url: must be an absolute https URL"
        );
        assert_eq!(
            error_of(&GOOD.replace("id = \"app\"", "id = \"web\"")),
            "chat_inboxes[1].id: duplicate inbox id \"web\""
        );
        assert_eq!(
            error_of(&GOOD.replace("id = \"app\"", "id = \"Web Chat\"")).split(':').next(),
            Some("chat_inboxes[1].id")
        );
        assert_eq!(
            error_of(&format!("{GOOD}\n[acknowledgement]\ntext = \"thanks\"")),
            "acknowledgement.text: must contain {ticket}, where the tracking number goes"
        );
    }

    #[test]
    fn input_hygiene_callback_urls_must_be_https_except_to_loopback() {
        for url in [
            "https://shop.example/cb",
            "http://127.0.0.1:4000/cb",
            "http://[::1]:4000/cb",
            "http://localhost/cb",
        ] {
            assert!(DeskConfig::from_toml(&GOOD.replace("http://127.0.0.1:4000/cb", url)).is_ok(), "{url}");
        }
        for url in [
            "http://shop.example/cb",
            "http://10.0.0.1/cb",
            "http://127.0.0.2/cb",
            "http://localhost.shop.example/cb",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
        ] {
            let error = error_of(&GOOD.replace("http://127.0.0.1:4000/cb", url));
            assert!(error.starts_with("chat_inboxes[1].callback_url: must be"), "{url}: {error}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = DeskConfig::from_toml(GOOD).unwrap();
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
    }

    const ROUTING: &str = r#"
        [routing]
        default_team = "frontline"
        teams = [
            { id = "frontline", name = "Frontline", tier = 1 },
            { id = "complaints", name = "Complaints", tier = 2 },
        ]
        tier_priority = { vip = "high" }

        [[routing.rules]]
        name = "refunds"
        team = "complaints"
        keywords = ["退款", "refund"]
    "#;

    #[test]
    fn a_routing_section_is_validated_and_names_its_bad_field() {
        let config = DeskConfig::from_toml(&format!("{GOOD}{ROUTING}")).unwrap();
        let routing = config.routing().unwrap().expect("routing");
        assert!(routing.team("complaints").is_some());
        assert!(routing.uses_customer_tier());
        assert!(DeskConfig::from_toml(GOOD).unwrap().routing().unwrap().is_none());
        let bad = ROUTING.replace("team = \"complaints\"", "team = \"billing\"");
        assert_eq!(error_of(&format!("{GOOD}{bad}")), "routing.rules[0].team: unknown team \"billing\"");
    }

    #[test]
    fn routing_rules_and_sla_policies_are_validated_once_per_load() {
        let config = DeskConfig::from_toml(&format!("{GOOD}{ROUTING}\n[sla]\n")).unwrap();
        // Loading validated both; every later reader gets that one copy, not a new validation.
        let (first, again) = (config.routing().unwrap().unwrap(), config.routing().unwrap().unwrap());
        assert!(std::ptr::eq(first.config(), again.config()), "the routing rules are shared");
        let (first, again) =
            (config.sla_policies().unwrap().unwrap(), config.sla_policies().unwrap().unwrap());
        assert!(Arc::ptr_eq(&first, &again), "the SLA policies are shared");
        assert!(Arc::ptr_eq(&first, &config.clone().sla_policies().unwrap().unwrap()));
    }
}
