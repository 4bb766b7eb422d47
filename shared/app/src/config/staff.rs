//! `[[agents]]` and `[auth]`: who works the desk, and (locally) how they sign in.

use std::collections::{BTreeSet, HashSet};

use omnidesk_domain::assignment::{Agent, Presence, RoutingConfig};
use omnidesk_domain::cursor::CursorKey;
use serde::Deserialize;

use super::{ConfigError, invalid};
use crate::agent_api::{BearerTokens, Principal, Role};

const MIN_TOKEN_LEN: usize = 16;
const MAX_LOGIN_LEN: usize = 64;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The login: the user name in Cognito, or a local token's `user`.
    pub id: String,
    pub teams: BTreeSet<String>,
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Language tags the agent reads and writes, e.g. `["zh", "en"]`.
    pub languages: BTreeSet<String>,
    /// Most unfinished tickets the agent holds at once.
    #[serde(default = "default_capacity")]
    pub capacity: u32,
}

fn default_capacity() -> u32 {
    5
}

impl AgentConfig {
    /// The routing profile; everyone starts offline until they say otherwise.
    pub fn agent(&self) -> Agent {
        Agent {
            id: self.id.clone(),
            teams: self.teams.clone(),
            skills: self.skills.clone(),
            languages: self.languages.clone(),
            capacity: self.capacity,
            load: 0,
            presence: Presence::Offline,
            last_assigned_at: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Signs the agent API's list cursors; the same on every instance of the desk. Absent:
    /// derived from the other secrets in this file (see [`AuthConfig::cursor_key`]).
    #[serde(default)]
    pub cursor_secret: Option<CursorSecret>,
}

/// A secret that never shows in debug output.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct CursorSecret(pub String);

impl std::fmt::Debug for CursorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSecret(..)")
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub token: String,
    pub user: String,
    pub role: Role,
}

impl std::fmt::Debug for TokenConfig {
    // Keeps the token out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("user", &self.user)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    pub fn bearer_tokens(&self) -> BearerTokens {
        BearerTokens::new(
            self.tokens.iter().map(|t| (t.token.clone(), Principal { user: t.user.clone(), role: t.role })),
        )
    }
}

impl AuthConfig {
    /// The list cursor key: from `cursor_secret`, else from the chat inbox secrets and agent
    /// tokens (every instance loads the same file, so they agree); `None` when the file holds
    /// no secret at all (the desk then signs with a key of its own process).
    pub fn cursor_key(&self, inbox_secrets: &[&str]) -> Option<CursorKey> {
        if let Some(secret) = &self.cursor_secret {
            return Some(CursorKey::derive(secret.0.as_bytes()));
        }
        let mut secrets: Vec<&str> = inbox_secrets.to_vec();
        secrets.extend(self.tokens.iter().map(|t| t.token.as_str()));
        if secrets.is_empty() {
            return None;
        }
        secrets.sort_unstable();
        // Length-prefixed, so no two lists of secrets give the same bytes.
        let material: Vec<u8> = secrets
            .iter()
            .flat_map(|s| (s.len() as u64).to_be_bytes().into_iter().chain(s.bytes()))
            .collect();
        Some(CursorKey::derive(&material))
    }
}

fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= MAX_LOGIN_LEN
        && login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

pub(super) fn validate(
    agents: &[AgentConfig],
    auth: &AuthConfig,
    routing: Option<&RoutingConfig>,
) -> Result<(), ConfigError> {
    let mut ids = HashSet::new();
    for (i, agent) in agents.iter().enumerate() {
        let field = |name: &str| format!("agents[{i}].{name}");
        if !valid_login(&agent.id) {
            return Err(invalid(field("id"), "use 1–64 characters of letters, digits, - _ . @"));
        }
        if !ids.insert(agent.id.as_str()) {
            return Err(invalid(field("id"), format!("duplicate agent {:?}", agent.id)));
        }
        if agent.teams.is_empty() {
            return Err(invalid(field("teams"), "name at least one team"));
        }
        if let Some(routing) = routing
            && let Some(unknown) =
                agent.teams.iter().find(|t| !routing.teams.iter().any(|team| &team.id == *t))
        {
            return Err(invalid(field("teams"), format!("unknown team {unknown:?}")));
        }
        if agent.languages.is_empty() {
            return Err(invalid(field("languages"), "name at least one language, e.g. \"zh\""));
        }
        if agent.capacity == 0 {
            return Err(invalid(field("capacity"), "must be at least 1"));
        }
    }
    if auth.cursor_secret.as_ref().is_some_and(|s| s.0.len() < MIN_TOKEN_LEN) {
        return Err(invalid("auth.cursor_secret", format!("must be at least {MIN_TOKEN_LEN} characters")));
    }
    let mut tokens = HashSet::new();
    for (i, token) in auth.tokens.iter().enumerate() {
        let field = |name: &str| format!("auth.tokens[{i}].{name}");
        if token.token.len() < MIN_TOKEN_LEN {
            return Err(invalid(field("token"), format!("must be at least {MIN_TOKEN_LEN} characters")));
        }
        if !tokens.insert(token.token.as_str()) {
            return Err(invalid(field("token"), "used twice"));
        }
        if !valid_login(&token.user) {
            return Err(invalid(field("user"), "use 1–64 characters of letters, digits, - _ . @"));
        }
    }
    Ok(())
}
