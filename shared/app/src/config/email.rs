//! The `[email]` section: the desk's mailbox, acknowledgement templates per language, the
//! per-sender cap on automatic mail and the attachment limits.

use std::collections::BTreeMap;
use std::time::Duration;

use omnidesk_domain::model::Identity;
use omnidesk_domain::outbound::MAX_MAIL_RECIPIENTS;
use omnidesk_domain::router::email::{DEFAULT_MAX_CC, default_templates};
use omnidesk_domain::router::{EmailRules, EmailTemplate};
use serde::Deserialize;

use super::{ConfigError, invalid, validate_template};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The desk's mailbox, e.g. `support@desk.example`: where SES receives, what replies come
    /// from, and (with `+<token>`) every ticket's reply address.
    pub address: String,
    /// Other addresses that deliver to the desk: mail from them is never answered.
    #[serde(default)]
    pub other_addresses: Vec<String>,
    /// Send an acknowledgement when a mail opens a ticket.
    #[serde(default = "yes")]
    pub acknowledge: bool,
    /// The template used when none matches the mail's language.
    #[serde(default = "default_language")]
    pub default_language: String,
    /// By primary language tag; built-in `en` and `zh` unless replaced.
    #[serde(default)]
    pub templates: BTreeMap<String, TemplateConfig>,
    /// Automatic mails to one address per window, at most.
    #[serde(default = "default_auto_reply_limit")]
    pub auto_reply_limit: u32,
    #[serde(default = "default_auto_reply_window_minutes")]
    pub auto_reply_window_minutes: u64,
    /// Attachments kept per mail; the rest are dropped with a note on the ticket.
    #[serde(default = "default_max_attachments")]
    pub max_attachments: usize,
    /// Largest attachment kept, in bytes.
    #[serde(default = "default_max_attachment_bytes")]
    pub max_attachment_bytes: u64,
    /// Most addresses on a ticket's cc list: taken from the requester's own mail (the rest
    /// are left out) and the most an agent may set. With the customer, a reply must stay
    /// within SES's 50 recipients.
    #[serde(default = "default_max_cc")]
    pub max_cc: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// `{ticket}` becomes `#N`, `{subject}` the customer's subject.
    pub subject: String,
    /// `{ticket}` becomes `#N`.
    pub text: String,
}

fn yes() -> bool {
    true
}
fn default_language() -> String {
    "en".into()
}
fn default_auto_reply_limit() -> u32 {
    3
}
fn default_auto_reply_window_minutes() -> u64 {
    60
}
fn default_max_attachments() -> usize {
    20
}
fn default_max_attachment_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_max_cc() -> usize {
    DEFAULT_MAX_CC
}

impl EmailConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let (local, _) = split_address(&self.address)
            .ok_or_else(|| invalid("email.address", "must be an address like support@desk.example"))?;
        if local.contains('+') {
            return Err(invalid("email.address", "must not contain '+': the desk adds +<token> itself"));
        }
        for (i, other) in self.other_addresses.iter().enumerate() {
            if split_address(other).is_none() {
                return Err(invalid(format!("email.other_addresses[{i}]"), "must be an email address"));
            }
        }
        for (language, template) in &self.templates {
            validate_template(&format!("email.templates.{language}.subject"), &template.subject)?;
            validate_template(&format!("email.templates.{language}.text"), &template.text)?;
        }
        if !self.templates().contains_key(&self.default_language) {
            return Err(invalid("email.default_language", "has no template"));
        }
        if self.auto_reply_window_minutes == 0 {
            return Err(invalid("email.auto_reply_window_minutes", "must be at least 1"));
        }
        // The customer is the one more recipient.
        if self.max_cc >= MAX_MAIL_RECIPIENTS {
            return Err(invalid(
                "email.max_cc",
                format!(
                    "must be at most {}: a mail goes to at most {MAX_MAIL_RECIPIENTS} recipients",
                    MAX_MAIL_RECIPIENTS - 1
                ),
            ));
        }
        Ok(())
    }

    /// Lower-cased `(local part, domain)` of the desk's address.
    fn parts(&self) -> (String, String) {
        split_address(&self.address).unwrap_or_default()
    }

    fn templates(&self) -> BTreeMap<String, EmailTemplate> {
        let mut templates = default_templates();
        for (language, template) in &self.templates {
            let template = EmailTemplate { subject: template.subject.clone(), text: template.text.clone() };
            templates.insert(language.to_lowercase(), template);
        }
        templates
    }

    pub fn rules(&self) -> EmailRules {
        let (local, domain) = self.parts();
        EmailRules {
            reply_local_part: local,
            domain,
            acknowledge: self.acknowledge,
            templates: self.templates(),
            default_language: self.default_language.clone(),
            auto_reply_limit: self.auto_reply_limit,
            auto_reply_window: Duration::from_secs(self.auto_reply_window_minutes * 60),
            max_cc: self.max_cc,
        }
    }

    /// Every address of the desk, lower-cased: mail from them is never answered.
    pub fn own_addresses(&self) -> Vec<String> {
        std::iter::once(&self.address).chain(&self.other_addresses).map(|a| a.trim().to_lowercase()).collect()
    }

    /// The token of a `local+<token>@domain` address of the desk, if `address` is one.
    pub fn reply_token<'a>(&self, address: &'a str) -> Option<&'a str> {
        let (local, domain) = self.parts();
        let (their_local, their_domain) = address.rsplit_once('@')?;
        if !their_domain.eq_ignore_ascii_case(&domain) {
            return None;
        }
        let (base, token) = their_local.split_once('+')?;
        let token_ok =
            !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        (base.eq_ignore_ascii_case(&local) && token_ok).then_some(token)
    }

    /// Whether `address` is one of the desk's (with or without `+<token>`).
    pub fn is_own(&self, address: &str) -> bool {
        let Some((local, domain)) = split_address(address) else {
            return false;
        };
        let base = local.split_once('+').map_or(local.as_str(), |(base, _)| base);
        self.own_addresses()
            .iter()
            .filter_map(|own| split_address(own))
            .any(|(own_local, own_domain)| own_local == base && own_domain == domain)
    }
}

fn split_address(address: &str) -> Option<(String, String)> {
    match Identity::email(address) {
        Ok(Identity::Email { address }) => {
            let (local, domain) = address.rsplit_once('@')?;
            Some((local.to_owned(), domain.to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DeskConfig;

    fn email(extra: &str) -> Result<EmailConfig, String> {
        let text = format!("[email]\naddress = \"Support@Desk.example\"\n{extra}");
        DeskConfig::from_toml(&text).map(|c| c.email.expect("email section")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_give_english_and_chinese_templates_and_a_cap_of_three_an_hour() {
        let config = email("").unwrap();
        let rules = config.rules();
        assert_eq!((rules.reply_local_part.as_str(), rules.domain.as_str()), ("support", "desk.example"));
        assert!(rules.templates.contains_key("en") && rules.templates.contains_key("zh"));
        assert_eq!((rules.auto_reply_limit, rules.auto_reply_window), (3, Duration::from_secs(3600)));
        assert_eq!(rules.reply_address("abc"), "support+abc@desk.example");
        assert_eq!(rules.max_cc, 10);
    }

    #[test]
    fn max_cc_is_kept_within_the_recipient_limit_of_a_mail() {
        assert_eq!(email("max_cc = 49").unwrap().rules().max_cc, 49);
        assert_eq!(
            email("max_cc = 50").unwrap_err(),
            "email.max_cc: must be at most 49: a mail goes to at most 50 recipients"
        );
    }

    #[test]
    fn reply_tokens_and_own_addresses_are_recognised() {
        let config = email("other_addresses = [\"help@desk.example\"]").unwrap();
        assert_eq!(config.reply_token("support+a1B2@desk.example"), Some("a1B2"));
        assert_eq!(config.reply_token("SUPPORT+x@DESK.example"), Some("x"));
        assert_eq!(config.reply_token("support@desk.example"), None);
        assert_eq!(config.reply_token("support+x@other.example"), None);
        assert_eq!(config.reply_token("sales+x@desk.example"), None);
        assert_eq!(config.reply_token("support+<x>@desk.example"), None);
        assert!(config.is_own("help@desk.example"));
        assert!(config.is_own("Support+tok@desk.example"));
        assert!(!config.is_own("li@example.com"));
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            email("templates.en = { subject = \"hi\", text = \"{ticket}\" }").unwrap_err(),
            "email.templates.en.subject: must contain {ticket}, where the tracking number goes"
        );
        assert_eq!(
            email("default_language = \"fr\"").unwrap_err(),
            "email.default_language: has no template"
        );
        assert!(email("other_addresses = [\"nope\"]").unwrap_err().starts_with("email.other_addresses[0]"));
        let plus = DeskConfig::from_toml("[email]\naddress = \"a+b@desk.example\"").unwrap_err().to_string();
        assert!(plus.starts_with("email.address"), "{plus}");
    }
}
