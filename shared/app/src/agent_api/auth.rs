//! Who is calling the agent API, and what their role lets them do.
//!
//! In AWS the HTTP API's JWT authorizer has already verified the Cognito token; the function
//! hands the verified claims to [`ClaimsAuthenticator`] through a request extension. Locally,
//! bearer tokens from the config file map to a user and a role ([`BearerTokens`]). Either way
//! every route needs a principal (401 without) and the role rules below (403 when outside).

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing.
    Analyst,
    /// Works tickets.
    Agent,
    /// Also merges customers and exports their data.
    Supervisor,
    /// Also erases customers.
    Admin,
}

impl Role {
    /// The Cognito group names, one per role, exactly.
    pub fn from_group(group: &str) -> Option<Role> {
        match group {
            "analyst" => Some(Role::Analyst),
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn may(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::Work => self >= Role::Agent,
            Action::MergeCustomers | Action::Export | Action::ManageCanned | Action::Refund => {
                self >= Role::Supervisor
            }
            Action::Erase => self == Role::Admin,
        }
    }
}

/// What a route does, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    /// Reply, note, change, assign and merge tickets; set one's presence.
    Work,
    MergeCustomers,
    Export,
    /// Add, change and delete canned responses.
    ManageCanned,
    Erase,
    /// Record a return's refund: money leaves the shop.
    Refund,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user: String,
    pub role: Role,
}

impl Principal {
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.role.may(action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("the {} role may not do this", self.role.name())))
        }
    }
}

pub trait Authenticator: Send + Sync {
    fn authenticate(&self, parts: &Parts) -> Result<Principal, ApiError>;
}

/// Local bearer tokens. Tokens are kept hashed, so a heap dump or a debug print shows none.
pub struct BearerTokens {
    by_hash: HashMap<[u8; 32], Principal>,
}

impl BearerTokens {
    pub fn new(tokens: impl IntoIterator<Item = (String, Principal)>) -> Self {
        Self { by_hash: tokens.into_iter().map(|(token, who)| (hash(&token), who)).collect() }
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Authenticator for BearerTokens {
    fn authenticate(&self, parts: &Parts) -> Result<Principal, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        self.by_hash.get(&hash(token)).cloned().ok_or_else(|| ApiError::unauthorized("unknown token"))
    }
}

/// Claims an upstream authorizer verified, put on the request by the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaims {
    /// `cognito:username`, else `username`, else `sub`.
    pub user: String,
    /// `cognito:groups`.
    pub groups: Vec<String>,
}

impl VerifiedClaims {
    /// From the authorizer's claim map. `cognito:groups` is read in its two exact list
    /// forms only: API Gateway's `[agent supervisor]` and a JSON array of strings. Anything
    /// else (`agent,admin`, a bare name, stray brackets) grants no group: a claim that is
    /// not a list is not guessed at.
    pub fn from_claims(claims: &HashMap<String, String>) -> Option<Self> {
        let user = ["cognito:username", "username", "sub"]
            .iter()
            .find_map(|k| claims.get(*k).filter(|v| !v.is_empty()))?
            .clone();
        let groups = claims.get("cognito:groups").map(|raw| split_groups(raw)).unwrap_or_default();
        Some(Self { user, groups })
    }

    /// From an HTTP API request whose JWT authorizer verified the token; `None` without one.
    pub fn from_http_api(context: &ApiGatewayV2httpRequestContext) -> Option<Self> {
        let jwt = context.authorizer.as_ref()?.jwt.as_ref()?;
        Self::from_claims(&jwt.claims)
    }

    /// The highest role among the groups; `None` if the user is in no desk group.
    pub fn principal(&self) -> Option<Principal> {
        let role = self.groups.iter().filter_map(|g| Role::from_group(g)).max()?;
        Some(Principal { user: self.user.clone(), role })
    }
}

fn split_groups(raw: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    // `[a b c]`: one pair of brackets around names separated by single spaces.
    let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return Vec::new();
    };
    let names: Vec<&str> = inner.split(' ').collect();
    let well_formed = names.iter().all(|name| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '@'))
    });
    if inner.is_empty() || !well_formed {
        return Vec::new();
    }
    names.into_iter().map(str::to_owned).collect()
}

/// Reads the [`VerifiedClaims`] extension the function put on the request.
pub struct ClaimsAuthenticator;

impl Authenticator for ClaimsAuthenticator {
    fn authenticate(&self, parts: &Parts) -> Result<Principal, ApiError> {
        let claims = parts
            .extensions
            .get::<VerifiedClaims>()
            .ok_or_else(|| ApiError::unauthorized("no verified token on the request"))?;
        claims.principal().ok_or_else(|| ApiError::forbidden("the user is in no omnidesk group"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_the_issue_says() {
        use Action::*;
        let table = [
            (Role::Analyst, [true, false, false, false, false, false]),
            (Role::Agent, [true, true, false, false, false, false]),
            (Role::Supervisor, [true, true, true, true, true, false]),
            (Role::Admin, [true, true, true, true, true, true]),
        ];
        for (role, allowed) in table {
            let got = [Read, Work, MergeCustomers, Export, ManageCanned, Erase].map(|a| role.may(a));
            assert_eq!(got, allowed, "{role:?}");
        }
    }

    fn role_of(groups: &str) -> Option<Role> {
        let claims = HashMap::from([
            ("sub".to_owned(), "abc-123".to_owned()),
            ("cognito:groups".to_owned(), groups.to_owned()),
        ]);
        VerifiedClaims::from_claims(&claims)?.principal().map(|p| p.role)
    }

    #[test]
    fn input_hygiene_cognito_groups_are_read_only_in_the_exact_list_forms() {
        for (raw, role) in [
            ("[admin]", Some(Role::Admin)),
            ("[agent admin]", Some(Role::Admin)),
            ("[\"agent\",\"admin\"]", Some(Role::Admin)),
            ("[ \"admin\" ]", Some(Role::Admin)),
            ("[]", None),
            // Not a list, or not one of the two forms: no group at all.
            ("admin", None),
            ("admin,foo", None),
            ("agent,admin", None),
            ("[agent,admin]", None),
            ("[agent  admin]", None),
            ("[ admin]", None),
            ("[[admin]]", None),
            ("xadminx", None),
            ("[xadminx]", None),
            ("[Admin]", None),
            ("[\" admin\"]", None),
            ("[\"admin\"", None),
            ("admin]", None),
        ] {
            assert_eq!(role_of(raw), role, "{raw:?}");
        }
    }

    #[test]
    fn cognito_groups_parse_in_both_list_shapes_and_take_the_highest_role() {
        for raw in ["[agent supervisor]", "[\"agent\",\"supervisor\"]"] {
            let claims = HashMap::from([
                ("sub".to_owned(), "abc-123".to_owned()),
                ("cognito:username".to_owned(), "li".to_owned()),
                ("cognito:groups".to_owned(), raw.to_owned()),
            ]);
            let principal = VerifiedClaims::from_claims(&claims).unwrap().principal().unwrap();
            assert_eq!(principal, Principal { user: "li".into(), role: Role::Supervisor }, "{raw}");
        }
        let outsider = HashMap::from([("sub".to_owned(), "x".to_owned())]);
        assert_eq!(VerifiedClaims::from_claims(&outsider).unwrap().principal(), None);
        assert_eq!(VerifiedClaims::from_claims(&HashMap::new()), None);
    }
}
