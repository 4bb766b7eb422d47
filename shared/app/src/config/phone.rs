//! `[phone]`: the Amazon Connect channel's settings. Absent: the defaults (numbers read as
//! Chinese, callbacks due within 120 business minutes, the routing's default team).

use std::collections::BTreeMap;

use omnidesk_domain::assignment::Routing;
use omnidesk_domain::phone::{DEFAULT_CALLBACK_MINUTES, PhoneRules};
use serde::Deserialize;

use super::{ConfigError, invalid};

/// A callback target beyond a week is a typo.
const MAX_CALLBACK_MINUTES: u32 = 7 * 24 * 60;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneConfig {
    /// ISO 3166 region of numbers written without a country code.
    #[serde(default = "default_region")]
    pub default_region: String,
    /// Business minutes to call a missed caller back (the callback SLA timer).
    #[serde(default = "default_callback_minutes")]
    pub callback_minutes: u32,
    /// The team of callers routing gives no better answer for; default: routing's.
    #[serde(default)]
    pub default_team: Option<String>,
    /// Team id → Connect queue the contact flow transfers to (the answer's `queue`).
    #[serde(default)]
    pub team_queues: BTreeMap<String, String>,
    /// The queue of the safe default answer and of teams not listed.
    #[serde(default)]
    pub default_queue: Option<String>,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        Self {
            default_region: default_region(),
            callback_minutes: DEFAULT_CALLBACK_MINUTES,
            default_team: None,
            team_queues: BTreeMap::new(),
            default_queue: None,
        }
    }
}

fn default_region() -> String {
    "CN".to_owned()
}

fn default_callback_minutes() -> u32 {
    DEFAULT_CALLBACK_MINUTES
}

impl PhoneConfig {
    /// The rules, with every field checked (teams against `[routing]` when it has any).
    pub fn rules(&self, routing: Option<&Routing>) -> Result<PhoneRules, ConfigError> {
        let region =
            self.default_region.trim().to_ascii_uppercase().parse::<phonenumber::country::Id>().map_err(
                |_| invalid("phone.default_region", format!("unknown region {:?}", self.default_region)),
            )?;
        if self.callback_minutes == 0 || self.callback_minutes > MAX_CALLBACK_MINUTES {
            return Err(invalid("phone.callback_minutes", format!("use 1–{MAX_CALLBACK_MINUTES}")));
        }
        if let Some(routing) = routing {
            let teams = self.team_queues.keys().map(|t| (format!("phone.team_queues.{t}"), t));
            for (field, team) in
                self.default_team.iter().map(|t| ("phone.default_team".to_owned(), t)).chain(teams)
            {
                if routing.team(team).is_none() {
                    return Err(invalid(field, format!("unknown team {team:?}")));
                }
            }
        }
        Ok(PhoneRules {
            default_region: region,
            callback_minutes: self.callback_minutes,
            default_team: self.default_team.clone(),
            team_queues: self.team_queues.clone(),
            default_queue: self.default_queue.clone(),
        })
    }
}
