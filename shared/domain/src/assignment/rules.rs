//! Picking the team: the first rule whose conditions all hold wins, else the default team.
//!
//! Keywords are substrings, not words: Chinese puts no spaces between words, and `refund`
//! should also catch `refunded`. ASCII letters compare case-insensitively, everything else as
//! written. Only the first [`MAX_SCANNED_TEXT_BYTES`] of the subject and of the text are read:
//! what a message is about is said early, and a pasted log must not make routing slow.

use std::collections::BTreeSet;
use std::fmt;

use super::{RoutingConfig, Rule};
use crate::model::{Channel, Customer, Priority, Ticket};

/// How much of the subject, and of the text, keyword rules look at.
pub const MAX_SCANNED_TEXT_BYTES: usize = 16 * 1024;

/// What routing looks at. The caller supplies the text of the new message (without quoted
/// history, which would match old keywords) and the language it detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketFacts<'a> {
    pub channel: Channel,
    pub category: Option<&'a str>,
    pub subject: &'a str,
    pub text: &'a str,
    pub customer_tier: Option<&'a str>,
    /// A language tag (`zh`, `en`, `zh-CN`); `None`: any agent will do.
    pub language: Option<&'a str>,
    pub priority: Priority,
}

impl<'a> TicketFacts<'a> {
    /// The facts of a ticket, its newest message and its customer.
    pub fn of(
        ticket: &'a Ticket,
        text: &'a str,
        customer: Option<&'a Customer>,
        language: Option<&'a str>,
    ) -> Self {
        TicketFacts {
            channel: ticket.channel,
            category: ticket.category.as_deref(),
            subject: &ticket.subject,
            text,
            customer_tier: customer.and_then(|c| c.tier.as_deref()),
            language,
            priority: ticket.priority,
        }
    }
}

/// Where routing sends a ticket, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamChoice {
    pub team: String,
    pub matched: Matched,
    /// What the agent needs: the team's required skills and the matched rule's.
    pub skills: BTreeSet<String>,
    /// The ticket's priority, raised by the rule and the customer's tier, never lowered.
    pub priority: Priority,
}

/// Which rule decided; its [`Display`](fmt::Display) is the audit event's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// `index` into the configured rules; `on` lists the value that satisfied each condition.
    Rule {
        index: usize,
        name: String,
        on: Vec<Condition>,
    },
    Default,
}

/// One condition of a rule that held, with the configured value that made it hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Channel(Channel),
    Category(String),
    Keyword(String),
    CustomerTier(String),
}

impl fmt::Display for Matched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matched::Default => f.write_str("no rule matched: default team"),
            Matched::Rule { name, on, .. } => {
                write!(f, "rule \"{name}\"")?;
                for (i, condition) in on.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { ", " })?;
                    match condition {
                        Condition::Channel(channel) => write!(f, "channel {}", channel.as_str())?,
                        Condition::Category(value) => write!(f, "category \"{value}\"")?,
                        Condition::Keyword(value) => write!(f, "keyword \"{value}\"")?,
                        Condition::CustomerTier(value) => write!(f, "customer tier \"{value}\"")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// A rule with its values lowered once, when the configuration is validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CompiledRule {
    channels: Vec<Channel>,
    /// (lowered, as configured)
    categories: Vec<(String, String)>,
    keywords: Vec<(String, String)>,
    tiers: Vec<(String, String)>,
}

/// Keywords are matched as written, spaces included; categories and tiers are names, trimmed.
fn lowered(values: &[String], trim: bool) -> Vec<(String, String)> {
    let key = |v: &String| if trim { v.trim().to_ascii_lowercase() } else { v.to_ascii_lowercase() };
    values.iter().map(|v| (key(v), v.clone())).collect()
}

impl CompiledRule {
    pub(super) fn new(rule: &Rule) -> Self {
        CompiledRule {
            channels: rule.channels.clone(),
            categories: lowered(&rule.categories, true),
            keywords: lowered(&rule.keywords, false),
            tiers: lowered(&rule.customer_tiers, true),
        }
    }

    /// The conditions that held, one per condition the rule lists, or `None` if one failed.
    fn check(&self, facts: &Lowered) -> Option<Vec<Condition>> {
        let mut on = Vec::new();
        if !self.channels.is_empty() {
            on.push(Condition::Channel(*self.channels.iter().find(|&&c| c.covers(facts.channel))?));
        }
        if !self.categories.is_empty() {
            let category = facts.category.as_deref()?;
            let (_, value) = self.categories.iter().find(|(low, _)| low == category)?;
            on.push(Condition::Category(value.clone()));
        }
        if !self.keywords.is_empty() {
            let (_, value) = self
                .keywords
                .iter()
                .find(|(low, _)| facts.subject.contains(low.as_str()) || facts.text.contains(low.as_str()))?;
            on.push(Condition::Keyword(value.clone()));
        }
        if !self.tiers.is_empty() {
            let tier = facts.tier.as_deref()?;
            let (_, value) = self.tiers.iter().find(|(low, _)| low == tier)?;
            on.push(Condition::CustomerTier(value.clone()));
        }
        Some(on)
    }
}

/// The facts, lowered once per routing rather than once per rule.
struct Lowered {
    channel: Channel,
    category: Option<String>,
    tier: Option<String>,
    subject: String,
    text: String,
}

impl Lowered {
    fn of(facts: &TicketFacts) -> Self {
        Lowered {
            channel: facts.channel,
            category: facts.category.map(|c| c.trim().to_ascii_lowercase()),
            tier: facts.customer_tier.map(|t| t.trim().to_ascii_lowercase()),
            subject: clip(facts.subject).to_ascii_lowercase(),
            text: clip(facts.text).to_ascii_lowercase(),
        }
    }
}

/// The first [`MAX_SCANNED_TEXT_BYTES`] of `text`, cut at a character boundary.
fn clip(text: &str) -> &str {
    &text[..text.floor_char_boundary(MAX_SCANNED_TEXT_BYTES)]
}

/// The team for `facts`. `config` is validated and `compiled` is built from its rules, in order.
pub(super) fn choose(config: &RoutingConfig, compiled: &[CompiledRule], facts: &TicketFacts) -> TeamChoice {
    let low = Lowered::of(facts);
    let hit = compiled.iter().enumerate().find_map(|(index, rule)| rule.check(&low).map(|on| (index, on)));
    let (team, rule, matched) = match hit {
        Some((index, on)) => {
            let rule = &config.rules[index];
            (rule.team.as_str(), Some(rule), Matched::Rule { index, name: rule.name.clone(), on })
        }
        None => (config.default_team.as_str(), None, Matched::Default),
    };
    let mut skills =
        config.teams.iter().find(|t| t.id == team).map(|t| t.skills_required.clone()).unwrap_or_default();
    skills.extend(rule.iter().flat_map(|r| r.skills.iter().cloned()));
    let by_tier = low.tier.as_deref().into_iter().flat_map(|tier| {
        config.tier_priority.iter().filter(move |(t, _)| t.trim().eq_ignore_ascii_case(tier)).map(|(_, &p)| p)
    });
    let priority = by_tier.chain(rule.and_then(|r| r.priority)).fold(facts.priority, Priority::max);
    TeamChoice { team: team.to_owned(), matched, skills, priority }
}
