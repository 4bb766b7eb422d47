//! The `[phone]` rules the channel and the router share, validated once.

use std::collections::BTreeMap;

/// Business minutes an agent has to call a missed caller back, unless configured.
pub const DEFAULT_CALLBACK_MINUTES: u32 = 120;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneRules {
    /// Numbers without a country code are read as this region's (CN unless configured).
    pub default_region: phonenumber::country::Id,
    /// Target of the callback SLA timer, in business minutes.
    pub callback_minutes: u32,
    /// The team a caller goes to when routing has no better answer (else routing's default).
    pub default_team: Option<String>,
    /// Team id → Connect queue (name or ARN) the flow transfers to; the answer's `queue`.
    pub team_queues: BTreeMap<String, String>,
    /// The queue of the safe default answer, and of teams without one.
    pub default_queue: Option<String>,
}

impl Default for PhoneRules {
    fn default() -> Self {
        Self {
            default_region: phonenumber::country::Id::CN,
            callback_minutes: DEFAULT_CALLBACK_MINUTES,
            default_team: None,
            team_queues: BTreeMap::new(),
            default_queue: None,
        }
    }
}

impl PhoneRules {
    /// The Connect queue of `team`, else the default queue.
    pub fn queue_of(&self, team: Option<&str>) -> Option<&str> {
        team.and_then(|t| self.team_queues.get(t)).or(self.default_queue.as_ref()).map(String::as_str)
    }
}
