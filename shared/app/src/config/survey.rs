//! `[survey]`: satisfaction surveys. The rules (delays, cooldown, link validity, follow-ups)
//! become [`SurveyRules`]; the link key is a secret (`sm:<name>` on AWS, resolved only by the
//! two survey functions), with a previous key accepted during a rotation; `base_url` is where
//! customers open `/v1/surveys/{token}`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use omnidesk_domain::model::Channel;
use omnidesk_domain::survey::{FollowUpMode, SurveyRules, TokenKeys};
use serde::Deserialize;

use super::{ConfigError, Secret, invalid};

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 3600;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyConfig {
    /// Where the survey pages are served, e.g. `https://help.shop.example` (the HTTP API's
    /// URL or a custom domain); links are `<base_url>/v1/surveys/<token>`.
    pub base_url: String,
    /// Signs the links (HMAC). On AWS `sm:<name>`.
    pub token_secret: Secret,
    /// During a rotation, the key links sent before it were signed with: still accepted.
    #[serde(default)]
    pub previous_token_secret: Option<Secret>,
    /// Minutes after solving that the survey is sent.
    #[serde(default = "default_delay")]
    pub delay_minutes: u32,
    /// Per channel (`chat`, `email`, `phone`, a social platform's, or `social` for all of
    /// them), overriding `delay_minutes`.
    #[serde(default)]
    pub channel_delay_minutes: BTreeMap<String, u32>,
    /// A customer who got a survey is not asked again for this many days.
    #[serde(default = "default_cooldown")]
    pub cooldown_days: u32,
    /// Days a link stays open (answers can be changed until then).
    #[serde(default = "default_link_valid")]
    pub link_valid_days: u32,
    /// A rating at or below this opens a follow-up; 0: never.
    #[serde(default = "default_low_rating")]
    pub low_rating: u8,
    /// `ticket` (a linked follow-up ticket) or `reopen` (the rated ticket reopens).
    #[serde(default)]
    pub follow_up: FollowUpMode,
    /// Team id → login of the supervisor who gets its follow-ups.
    #[serde(default)]
    pub supervisors: BTreeMap<String, String>,
}

fn default_delay() -> u32 {
    24 * 60
}
fn default_cooldown() -> u32 {
    7
}
fn default_link_valid() -> u32 {
    14
}
fn default_low_rating() -> u8 {
    2
}

impl SurveyConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let url = reqwest::Url::parse(&self.base_url)
            .ok()
            .filter(|u| u.has_host() && matches!(u.scheme(), "https" | "http"))
            .ok_or_else(|| {
                invalid("survey.base_url", "must be an absolute URL such as https://help.shop.example")
            })?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("survey.base_url", "must have no query or fragment"));
        }
        super::validate_callback_url("survey.base_url", &self.base_url)?;
        for name in self.channel_delay_minutes.keys() {
            if channel(name).is_none() {
                return Err(invalid(
                    format!("survey.channel_delay_minutes.{name}"),
                    "unknown channel; use chat, email, phone, wechat, messenger, instagram, whatsapp, forum or social (every social channel)",
                ));
            }
        }
        for (name, secret) in self.secrets() {
            if let Some(value) = secret.value() {
                super::check_secret_value(&format!("survey.{name}"), secret.reference(), value)?;
            }
        }
        self.rules().check().map_err(|e| invalid(e.field, e.message))
    }

    /// The link key and, during a rotation, the previous one, with their field names.
    pub(super) fn secrets(&self) -> impl Iterator<Item = (&'static str, &Secret)> {
        std::iter::once(("token_secret", &self.token_secret))
            .chain(self.previous_token_secret.iter().map(|s| ("previous_token_secret", s)))
    }

    pub(super) fn secrets_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Secret)> {
        std::iter::once(("token_secret", &mut self.token_secret))
            .chain(self.previous_token_secret.iter_mut().map(|s| ("previous_token_secret", s)))
    }

    pub fn rules(&self) -> SurveyRules {
        let minutes = |m: u32| Duration::from_secs(u64::from(m) * MINUTE);
        let days = |d: u32| Duration::from_secs(u64::from(d) * DAY);
        SurveyRules {
            delay: minutes(self.delay_minutes),
            channel_delay: self
                .channel_delay_minutes
                .iter()
                .filter_map(|(c, m)| Some((channel(c)?, minutes(*m))))
                .collect(),
            cooldown: days(self.cooldown_days),
            link_valid: days(self.link_valid_days),
            low_rating: self.low_rating,
            follow_up: self.follow_up,
            supervisors: self.supervisors.clone(),
        }
    }

    /// The link keys; `None` until the secrets are resolved (only the survey functions do).
    pub fn keys(&self) -> Option<TokenKeys> {
        let current = self.token_secret.value()?;
        let previous = match &self.previous_token_secret {
            Some(secret) => Some(secret.value()?),
            None => None,
        };
        Some(TokenKeys::new(current.as_bytes(), previous.map(str::as_bytes)))
    }
}

impl super::DeskConfig {
    /// The survey rules, if the file has a `[survey]` section.
    pub fn survey_rules(&self) -> Option<Arc<SurveyRules>> {
        self.survey.as_ref().map(|s| Arc::new(s.rules()))
    }
}

fn channel(name: &str) -> Option<Channel> {
    match name {
        "chat" => Some(Channel::Chat),
        "email" => Some(Channel::Email),
        "phone" => Some(Channel::Phone),
        "wechat" => Some(Channel::Wechat),
        "messenger" => Some(Channel::Messenger),
        "instagram" => Some(Channel::Instagram),
        "whatsapp" => Some(Channel::Whatsapp),
        "forum" => Some(Channel::Forum),
        // Every social channel without a delay of its own.
        "social" => Some(Channel::Social),
        _ => None,
    }
}
