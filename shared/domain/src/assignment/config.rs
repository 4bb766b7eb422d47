//! What an operator writes: the teams (each with its unassigned queue), the ordered rules that
//! pick a team, and the customer tiers that raise priority. Plain serde data, checked once by
//! [`RoutingConfig::validate`] into a [`Routing`]: the rest of this module only accepts the
//! checked form, so a rule can never send a ticket to a team that does not exist.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::Routing;
use crate::model::{Channel, Priority};

/// Team ids end up in storage keys (the team's queue) and URLs: short and plain.
pub const MAX_TEAM_ID_LEN: usize = 64;

/// A group of agents sharing one unassigned queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// `a-z`, `0-9`, `-`, `_`; names the team's queue.
    pub id: String,
    /// Shown to agents and supervisors.
    pub name: String,
    /// 1 is the first line; escalation moves a ticket to a higher tier.
    pub tier: u8,
    /// Skills every ticket of this team needs from its agent, on top of the rule's.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub skills_required: BTreeSet<String>,
}

/// One routing rule. It matches when every condition it lists holds; a condition holds when
/// any one of its values does (`keywords = ["退款", "refund"]` is "退款 or refund").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique; the audit event quotes it as the reason for the routing.
    pub name: String,
    /// Where a matching ticket goes.
    pub team: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Compared with the ticket's category, ASCII case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Substrings of the subject or text, ASCII case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Compared with the customer's tier (`vip`), ASCII case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_tiers: Vec<String>,
    /// Skills the agent needs for a ticket this rule routed, beyond the team's.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub skills: BTreeSet<String>,
    /// A matching ticket's priority is raised to at least this (never lowered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

impl Rule {
    /// A rule with no conditions yet; fill them in with struct update syntax.
    pub fn new(name: impl Into<String>, team: impl Into<String>) -> Self {
        Rule {
            name: name.into(),
            team: team.into(),
            channels: vec![],
            categories: vec![],
            keywords: vec![],
            customer_tiers: vec![],
            skills: BTreeSet::new(),
            priority: None,
        }
    }

    pub(super) fn has_condition(&self) -> bool {
        !(self.channels.is_empty()
            && self.categories.is_empty()
            && self.keywords.is_empty()
            && self.customer_tiers.is_empty())
    }
}

/// The routing section of the desk configuration. [`Default`] is what the desk ships with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    pub teams: Vec<Team>,
    /// Tried in order; the first that matches wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Where a ticket no rule matches goes.
    pub default_team: String,
    /// Customer tier → the least priority its tickets get, whichever team they go to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tier_priority: BTreeMap<String, Priority>,
}

/// A configuration mistake; `field` is the path to it, e.g. `rules[2].team`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingConfigError {
    #[error("{field}: at least one team is required")]
    NoTeams { field: String },
    #[error("{field}: must not be empty")]
    Empty { field: String },
    #[error("{field}: \"{id}\" may hold only a-z, 0-9, '-' and '_', at most {MAX_TEAM_ID_LEN} of them")]
    BadTeamId { field: String, id: String },
    #[error("{field}: must be at least 1")]
    ZeroTier { field: String },
    #[error("{field}: duplicate {what} \"{value}\"")]
    Duplicate { field: String, what: &'static str, value: String },
    #[error("{field}: unknown team \"{team}\"")]
    UnknownTeam { field: String, team: String },
    /// A rule without conditions matches everything and hides every rule after it.
    #[error(
        "{field}: a rule needs at least one of channels, categories, keywords, customer_tiers \
         (use default_team for a catch-all)"
    )]
    NoCondition { field: String },
}

impl RoutingConfigError {
    /// The path to the bad field, for an edge that nests it (`routing.` + this).
    pub fn field(&self) -> &str {
        match self {
            RoutingConfigError::NoTeams { field }
            | RoutingConfigError::Empty { field }
            | RoutingConfigError::BadTeamId { field, .. }
            | RoutingConfigError::ZeroTier { field }
            | RoutingConfigError::Duplicate { field, .. }
            | RoutingConfigError::UnknownTeam { field, .. }
            | RoutingConfigError::NoCondition { field } => field,
        }
    }
}

impl RoutingConfig {
    /// Checks every field, then builds the [`Routing`] the engine runs on. The first mistake
    /// found is returned, in file order.
    pub fn validate(self) -> Result<Routing, RoutingConfigError> {
        self.check()?;
        Ok(Routing::new(self))
    }

    fn check(&self) -> Result<(), RoutingConfigError> {
        if self.teams.is_empty() {
            return Err(RoutingConfigError::NoTeams { field: "teams".into() });
        }
        let mut ids = HashSet::new();
        for (i, team) in self.teams.iter().enumerate() {
            let at = format!("teams[{i}]");
            check_team_id(&format!("{at}.id"), &team.id)?;
            if !ids.insert(team.id.as_str()) {
                return Err(duplicate(format!("{at}.id"), "team", &team.id));
            }
            not_blank(&format!("{at}.name"), &team.name)?;
            if team.tier == 0 {
                return Err(RoutingConfigError::ZeroTier { field: format!("{at}.tier") });
            }
            all_not_blank(&format!("{at}.skills_required"), &team.skills_required)?;
        }
        let known = |field: String, team: &str| {
            if ids.contains(team) {
                Ok(())
            } else {
                Err(RoutingConfigError::UnknownTeam { field, team: team.to_owned() })
            }
        };
        let mut names = HashSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            not_blank(&format!("{at}.name"), &rule.name)?;
            if !names.insert(rule.name.as_str()) {
                return Err(duplicate(format!("{at}.name"), "rule", &rule.name));
            }
            known(format!("{at}.team"), &rule.team)?;
            if !rule.has_condition() {
                return Err(RoutingConfigError::NoCondition { field: at });
            }
            all_not_blank(&format!("{at}.categories"), &rule.categories)?;
            all_not_blank(&format!("{at}.keywords"), &rule.keywords)?;
            all_not_blank(&format!("{at}.customer_tiers"), &rule.customer_tiers)?;
            all_not_blank(&format!("{at}.skills"), &rule.skills)?;
        }
        known("default_team".into(), &self.default_team)?;
        if self.tier_priority.keys().any(|tier| tier.trim().is_empty()) {
            return Err(RoutingConfigError::Empty { field: "tier_priority (a customer tier)".into() });
        }
        Ok(())
    }
}

fn check_team_id(field: &str, id: &str) -> Result<(), RoutingConfigError> {
    not_blank(field, id)?;
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if id.len() > MAX_TEAM_ID_LEN || !id.chars().all(plain) {
        return Err(RoutingConfigError::BadTeamId { field: field.to_owned(), id: id.to_owned() });
    }
    Ok(())
}

/// Blank counts as empty: a keyword of spaces would match nearly every message.
fn not_blank(field: &str, value: &str) -> Result<(), RoutingConfigError> {
    if value.trim().is_empty() {
        return Err(RoutingConfigError::Empty { field: field.to_owned() });
    }
    Ok(())
}

fn all_not_blank<'a>(
    field: &str,
    values: impl IntoIterator<Item = &'a String>,
) -> Result<(), RoutingConfigError> {
    values.into_iter().enumerate().try_for_each(|(j, value)| not_blank(&format!("{field}[{j}]"), value))
}

fn duplicate(field: String, what: &'static str, value: &str) -> RoutingConfigError {
    RoutingConfigError::Duplicate { field, what, value: value.to_owned() }
}
