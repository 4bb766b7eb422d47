//! Smart routing: which team a ticket belongs to, and which of its agents takes it.
//!
//! 1. [`Routing::choose_team`]: ordered rules on channel, category, keywords (Chinese and
//!    English) and customer tier pick the team; the first match wins, else the default team.
//! 2. [`best_agent`]: the least loaded online agent of that team with the skills and language
//!    the ticket needs and room left; nobody fits → the ticket waits in the team's unassigned
//!    queue, with the reason.
//! 3. [`reoffer`]: when an agent comes online or frees capacity, the queue is handed out again.
//!
//! Pure and deterministic: the caller loads the agents and the queue, passes the time in, and
//! stores what comes back (the assignment, the agent's new load, the reason for the audit
//! event). The same input always gives the same answer, so a redelivered message is routed the
//! same way twice.

mod agents;
mod config;
mod defaults;
mod reoffer;
mod rules;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use jiff::Timestamp;

pub use agents::{Agent, Needs, Presence, QueueReason, best_agent};
pub use config::{MAX_TEAM_ID_LEN, RoutingConfig, RoutingConfigError, Rule, Team};
pub use defaults::{COMPLAINTS, FRONTLINE, TECHNICAL};
pub use reoffer::{Assignment, QueuedTicket, reoffer};
pub use rules::{Condition, MAX_SCANNED_TEXT_BYTES, Matched, TeamChoice, TicketFacts};

use crate::model::TicketNumber;
use rules::CompiledRule;

/// A validated [`RoutingConfig`], ready to route. Built by [`RoutingConfig::validate`];
/// deserializing one validates too, and serializing gives the configuration back. Cloning
/// shares the validated rules: the router, the desk and the phone flow of one function hold
/// one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RoutingConfig", into = "RoutingConfig")]
pub struct Routing {
    config: Arc<RoutingConfig>,
    compiled: Arc<[CompiledRule]>,
}

impl Routing {
    /// Only [`RoutingConfig::validate`] calls this, after checking `config`.
    fn new(config: RoutingConfig) -> Self {
        let compiled = config.rules.iter().map(CompiledRule::new).collect();
        Routing { config: Arc::new(config), compiled }
    }

    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.config.teams.iter().find(|t| t.id == id)
    }

    /// The team a ticket goes to, the rule that sent it there, and what its agent needs.
    /// Whether choosing a team needs the customer's tier (a rule on tiers, or tier
    /// priorities): callers skip reading the customer otherwise.
    pub fn uses_customer_tier(&self) -> bool {
        !self.config.tier_priority.is_empty()
            || self.config.rules.iter().any(|r| !r.customer_tiers.is_empty())
    }

    pub fn choose_team(&self, facts: &TicketFacts) -> TeamChoice {
        rules::choose(&self.config, &self.compiled, facts)
    }

    /// Chooses the team, then the agent among `agents` (all of them; other teams' are skipped).
    pub fn route(&self, facts: &TicketFacts, agents: &[Agent]) -> Routed {
        let choice = self.choose_team(facts);
        let needs = Needs { skills: choice.skills.clone(), language: facts.language.map(str::to_owned) };
        let team = choice.team.clone();
        let decision = match best_agent(&team, &needs, agents) {
            Ok(agent) => Decision::Assign { team, agent: agent.id.clone() },
            Err(reason) => Decision::Queue { team, reason },
        };
        Routed { choice, needs, decision }
    }
}

impl Default for Routing {
    /// The shipped configuration, which a test proves valid.
    fn default() -> Self {
        Routing::new(RoutingConfig::default())
    }
}

impl TryFrom<RoutingConfig> for Routing {
    type Error = RoutingConfigError;

    fn try_from(config: RoutingConfig) -> Result<Self, Self::Error> {
        config.validate()
    }
}

impl From<Routing> for RoutingConfig {
    fn from(routing: Routing) -> Self {
        Arc::unwrap_or_clone(routing.config)
    }
}

/// What happens to a ticket now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Assign {
        team: String,
        agent: String,
    },
    /// Wait in `team`'s unassigned queue until [`reoffer`] finds someone.
    Queue {
        team: String,
        reason: QueueReason,
    },
}

impl Decision {
    pub fn team(&self) -> &str {
        match self {
            Decision::Assign { team, .. } | Decision::Queue { team, .. } => team,
        }
    }
}

/// The outcome of [`Routing::route`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub choice: TeamChoice,
    /// What the agent needs; kept with the ticket if it is queued.
    pub needs: Needs,
    pub decision: Decision,
}

impl Routed {
    /// The queue entry to store when the decision is to queue, stamped `at`.
    pub fn queued(&self, ticket: TicketNumber, at: Timestamp) -> Option<QueuedTicket> {
        match self.decision {
            Decision::Queue { .. } => Some(QueuedTicket {
                ticket,
                priority: self.choice.priority,
                queued_at: at,
                needs: self.needs.clone(),
            }),
            Decision::Assign { .. } => None,
        }
    }
}
