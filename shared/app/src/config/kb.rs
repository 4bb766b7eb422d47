//! `[kb]` (the knowledge base's search and where its public pages live) and `[bot]` (the chat
//! bot: the inboxes it answers in, off everywhere else, and how sure it must be).

use std::collections::BTreeSet;

use omnidesk_domain::bot::idle::{
    DEFAULT_CLOSE_AFTER_MINUTES, MAX_CLOSE_AFTER_MINUTES, MIN_CLOSE_AFTER_MINUTES,
};
use omnidesk_domain::bot::{BotRules, DEFAULT_MIN_CONFIDENCE};
use omnidesk_domain::kb::{SearchSettings, Synonyms};
use serde::Deserialize;

use super::{ConfigError, invalid, validate_callback_url};

const MAX_SYNONYM_GROUPS: usize = 1000;
const MAX_GROUP_MEMBERS: usize = 20;
const MAX_MEMBER_CHARS: usize = 40;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbConfig {
    /// Where the help centre answers, e.g. `https://help.shop.example`: article links in bot
    /// answers and mail suggestions are `<public_url>/v1/kb/articles/<slug>.html`.
    pub public_url: String,
    /// How much a word in an article's title counts next to one in its body.
    #[serde(default = "default_title_boost")]
    pub title_boost: f32,
    /// Groups of words customers use for the same thing, e.g. `["快递", "物流", "包裹"]`.
    #[serde(default)]
    pub synonyms: Vec<Vec<String>>,
    /// Mail acknowledgements list up to 3 articles at least this sure; 0 turns it off.
    #[serde(default = "default_suggest_confidence")]
    pub suggest_min_confidence: f32,
}

fn default_title_boost() -> f32 {
    SearchSettings::default().title_boost
}

/// Stricter than the bot's threshold: a mail lists articles beside a person's answer. Not
/// by much: an English mail names things no article does ("the jacket I bought"), and each
/// such word lowers every article's coverage (README BENCHMARKS, sixth round).
fn default_suggest_confidence() -> f32 {
    0.35
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// The chat inboxes the bot answers in (their `chat_inboxes[].id`); none: no bot.
    #[serde(default)]
    pub inboxes: Vec<String>,
    /// How sure (0–1: the best article's confidence, raised for a question it covers much of;
    /// `bot::sureness`) the bot must be to answer.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f32,
    /// A conversation the bot keeps is solved after this many minutes without a word from the
    /// customer since the bot's last message (a day by default).
    #[serde(default = "default_close_after")]
    pub close_after_minutes: u32,
}

fn default_min_confidence() -> f32 {
    DEFAULT_MIN_CONFIDENCE
}

fn default_close_after() -> u32 {
    DEFAULT_CLOSE_AFTER_MINUTES
}

fn unit(field: &str, value: f32) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&value) { Ok(()) } else { Err(invalid(field, "must be between 0 and 1")) }
}

impl KbConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        validate_callback_url("kb.public_url", &self.public_url)?;
        if !(0.1..=10.0).contains(&self.title_boost) {
            return Err(invalid("kb.title_boost", "must be between 0.1 and 10"));
        }
        unit("kb.suggest_min_confidence", self.suggest_min_confidence)?;
        if self.synonyms.len() > MAX_SYNONYM_GROUPS {
            return Err(invalid("kb.synonyms", format!("at most {MAX_SYNONYM_GROUPS} groups")));
        }
        for (i, group) in self.synonyms.iter().enumerate() {
            if !(2..=MAX_GROUP_MEMBERS).contains(&group.len()) {
                return Err(invalid(format!("kb.synonyms[{i}]"), format!("2–{MAX_GROUP_MEMBERS} words")));
            }
            for (j, word) in group.iter().enumerate() {
                let chars = word.trim().chars().count();
                if chars == 0 || chars > MAX_MEMBER_CHARS || word.chars().any(char::is_control) {
                    return Err(invalid(
                        format!("kb.synonyms[{i}][{j}]"),
                        format!("1–{MAX_MEMBER_CHARS} characters, no control characters"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn search_settings(&self) -> SearchSettings {
        SearchSettings {
            title_boost: self.title_boost,
            synonyms: Synonyms::new(&self.synonyms),
            ..Default::default()
        }
    }

    /// The public URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

impl BotConfig {
    /// Checks the inboxes exist and the threshold; a bot needs a `[kb]` for its links.
    pub(super) fn validate(
        &self,
        inboxes: &BTreeSet<&str>,
        kb: Option<&KbConfig>,
    ) -> Result<(), ConfigError> {
        for (i, inbox) in self.inboxes.iter().enumerate() {
            if !inboxes.contains(inbox.as_str()) {
                return Err(invalid(format!("bot.inboxes[{i}]"), format!("no chat inbox {inbox:?}")));
            }
        }
        unit("bot.min_confidence", self.min_confidence)?;
        if !(MIN_CLOSE_AFTER_MINUTES..=MAX_CLOSE_AFTER_MINUTES).contains(&self.close_after_minutes) {
            return Err(invalid(
                "bot.close_after_minutes",
                format!("must be between {MIN_CLOSE_AFTER_MINUTES} and {MAX_CLOSE_AFTER_MINUTES} (a week)"),
            ));
        }
        if kb.is_none() && !self.inboxes.is_empty() {
            return Err(invalid("bot", "needs a [kb] section (its answers link to the help centre)"));
        }
        Ok(())
    }

    pub fn rules(&self, kb: &KbConfig) -> BotRules {
        BotRules {
            inboxes: self.inboxes.iter().cloned().collect(),
            min_confidence: self.min_confidence,
            help_centre_url: kb.base_url().to_owned(),
            close_after_minutes: self.close_after_minutes,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::DeskConfig;

    const BASE: &str = r#"
[[chat_inboxes]]
id = "web"
secret = "0123456789abcdef0123"
callback_url = "http://127.0.0.1:3000/cb"
"#;

    fn error_of(extra: &str) -> String {
        DeskConfig::from_toml(&format!("{BASE}{extra}")).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn config_validation_names_the_bad_bot_or_kb_field() {
        let kb = "[kb]\npublic_url = \"http://127.0.0.1:3000\"\n";
        assert_eq!(
            error_of(&format!("{kb}[bot]\ninboxes = [\"web\", \"shop\"]\n")),
            "bot.inboxes[1]: no chat inbox \"shop\""
        );
        assert_eq!(
            error_of(&format!("{kb}[bot]\ninboxes = [\"web\"]\nmin_confidence = 1.5\n")),
            "bot.min_confidence: must be between 0 and 1"
        );
        assert_eq!(
            error_of(&format!("{kb}[bot]\ninboxes = [\"web\"]\nclose_after_minutes = 4\n")),
            "bot.close_after_minutes: must be between 5 and 10080 (a week)"
        );
        assert_eq!(
            error_of(&format!("{kb}[bot]\ninboxes = [\"web\"]\nclose_after_minutes = 10081\n")),
            "bot.close_after_minutes: must be between 5 and 10080 (a week)"
        );
        assert_eq!(
            error_of("[bot]\ninboxes = [\"web\"]\n"),
            "bot: needs a [kb] section (its answers link to the help centre)"
        );
        assert_eq!(error_of(&format!("{kb}synonyms = [[\"快递\"]]\n")), "kb.synonyms[0]: 2–20 words");
        assert_eq!(
            error_of("[kb]\npublic_url = \"http://help.example\"\n"),
            "kb.public_url: must be https (plain http only to 127.0.0.1, ::1 or localhost)"
        );
        assert_eq!(
            error_of(&format!("{kb}[bot]\ninboxes = [\"web\"]\nverbose = true\n")).split(':').next(),
            Some("bot.verbose")
        );
    }

    #[test]
    fn the_bot_is_off_in_inboxes_outside_its_list() {
        let config =
            DeskConfig::from_toml(&format!("{BASE}[kb]\npublic_url = \"http://127.0.0.1:3000\"\n")).unwrap();
        assert!(config.bot_rules().is_none());
        let extra = "[kb]\npublic_url = \"http://127.0.0.1:3000\"\n[bot]\ninboxes = [\"web\"]\n";
        let rules = DeskConfig::from_toml(&format!("{BASE}{extra}")).unwrap().bot_rules().unwrap();
        assert!(rules.enabled_for("web"));
        assert!(!rules.enabled_for("other"));
        assert_eq!(rules.close_after_minutes, 1440, "a day unless configured");
    }
}
