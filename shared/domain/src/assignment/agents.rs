//! Picking the agent within a team.
//!
//! An agent fits a ticket when they are in the team, online, have every skill it needs, read
//! its language and hold fewer open tickets than their capacity. Among those the lowest load
//! wins, so work spreads evenly; on equal load the one idle longest (earliest last assignment,
//! never assigned first), so nobody sits idle while a colleague takes ticket after ticket; then
//! the smallest id, so the same input always gives the same answer.
//!
//! When nobody fits, the reason is the first filter that left nobody, in the order above:
//! "nobody online" is a staffing problem, "all at capacity" a matter of waiting.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    /// Signed in but not taking new work (break, meeting): offered nothing.
    Away,
    Offline,
}

/// An agent as routing sees them. Stored; `load` and `last_assigned_at` change with every
/// assignment the caller makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub teams: BTreeSet<String>,
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Language tags the agent reads and writes: `zh`, `en`.
    pub languages: BTreeSet<String>,
    /// The most open tickets the agent holds at once.
    pub capacity: u32,
    /// Open tickets the agent holds now.
    pub load: u32,
    pub presence: Presence,
    /// When the agent last got a ticket; `None`: never, which counts as idle the longest.
    #[serde(default)]
    pub last_assigned_at: Option<Timestamp>,
}

/// What a ticket asks of its agent, fixed when it is routed and kept with it in the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// `None`: the language is unknown, and any agent will do.
    #[serde(default)]
    pub language: Option<String>,
}

impl Agent {
    pub fn has_room(&self) -> bool {
        self.load < self.capacity
    }

    /// Whether the agent reads `language`. Tags compare by their primary part, ASCII
    /// case-insensitively: an agent with `zh` reads a `zh-CN` ticket.
    pub fn speaks(&self, language: &str) -> bool {
        self.languages.iter().any(|own| primary(own).eq_ignore_ascii_case(primary(language)))
    }

    fn can_handle(&self, needs: &Needs) -> bool {
        needs.skills.is_subset(&self.skills)
    }

    /// Whether this agent may take a ticket of `team` with `needs` now.
    pub fn fits(&self, team: &str, needs: &Needs) -> bool {
        self.teams.contains(team)
            && self.presence == Presence::Online
            && self.can_handle(needs)
            && needs.language.as_deref().is_none_or(|l| self.speaks(l))
            && self.has_room()
    }
}

fn primary(tag: &str) -> &str {
    tag.trim().split(['-', '_']).next().unwrap_or_default()
}

/// Why a ticket waits in its team's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum QueueReason {
    /// The team has no agents at all.
    NoAgents,
    NobodyOnline,
    /// Nobody online has every one of these skills.
    NoSkill {
        skills: BTreeSet<String>,
    },
    /// Nobody online with the skills reads this language.
    NoLanguage {
        language: String,
    },
    /// Everyone who fits already holds as many tickets as their capacity.
    AllAtCapacity,
}

impl fmt::Display for QueueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueReason::NoAgents => f.write_str("the team has no agents"),
            QueueReason::NobodyOnline => f.write_str("nobody in the team is online"),
            QueueReason::NoSkill { skills } => {
                let skills: Vec<&str> = skills.iter().map(String::as_str).collect();
                write!(f, "nobody online has the skills {}", skills.join(", "))
            }
            QueueReason::NoLanguage { language } => write!(f, "nobody online reads {language}"),
            QueueReason::AllAtCapacity => f.write_str("everyone who fits is at capacity"),
        }
    }
}

/// The agent of `team` who should take a ticket with `needs`, or why nobody can.
pub fn best_agent<'a>(team: &str, needs: &Needs, agents: &'a [Agent]) -> Result<&'a Agent, QueueReason> {
    pick(team, needs, agents).map(|i| &agents[i])
}

/// [`best_agent`] by index, for callers that then update the agent.
pub(super) fn pick(team: &str, needs: &Needs, agents: &[Agent]) -> Result<usize, QueueReason> {
    let mut left: Vec<usize> = (0..agents.len()).filter(|&i| agents[i].teams.contains(team)).collect();
    if left.is_empty() {
        return Err(QueueReason::NoAgents);
    }
    left.retain(|&i| agents[i].presence == Presence::Online);
    if left.is_empty() {
        return Err(QueueReason::NobodyOnline);
    }
    left.retain(|&i| agents[i].can_handle(needs));
    if left.is_empty() {
        return Err(QueueReason::NoSkill { skills: needs.skills.clone() });
    }
    if let Some(language) = &needs.language {
        left.retain(|&i| agents[i].speaks(language));
        if left.is_empty() {
            return Err(QueueReason::NoLanguage { language: language.clone() });
        }
    }
    left.into_iter()
        .filter(|&i| agents[i].has_room())
        .min_by(|&a, &b| rank(&agents[a]).cmp(&rank(&agents[b])))
        .ok_or(QueueReason::AllAtCapacity)
}

/// Smaller is better: least loaded, then idle longest (`None` sorts first), then by id.
fn rank(agent: &Agent) -> (u32, Option<Timestamp>, &str) {
    (agent.load, agent.last_assigned_at, agent.id.as_str())
}
