//! Secrets by reference: the desk configuration says where a secret lives — `sm:<name>`, a
//! Secrets Manager secret — instead of holding it, and a [`SecretResolver`] reads it once,
//! when a function starts. So the configuration text can be stored and shown without
//! exposing anything, and each function's IAM role decides which secrets it can read at all.
//!
//! Secrets Manager only, not SSM parameters too: one store means one IAM shape to get right,
//! and rotation is built in. `ssm:` is recognised, to say so rather than take it as a value.

use std::fmt;

use async_trait::async_trait;

/// Secrets Manager names and ARNs are at most 2,048 characters.
pub const MAX_SECRET_NAME_LEN: usize = 2_048;
/// Secrets Manager holds at most 64 KiB per secret; anything larger is not one of ours.
pub const MAX_SECRET_BYTES: usize = 65_536;

const SECRETS_MANAGER: &str = "sm:";
const PARAMETER_STORE: &str = "ssm:";

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretRef {
    /// A Secrets Manager secret by name or ARN; its `SecretString` is the value.
    SecretsManager(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    #[error("{0} needs a name after the prefix")]
    Empty(&'static str),
    #[error("the name is over {MAX_SECRET_NAME_LEN} characters")]
    TooLong,
    #[error("{0:?} is not allowed in a secret name")]
    BadCharacter(char),
    #[error("SSM parameters are not supported; keep the secret in Secrets Manager (sm:<name>)")]
    Parameter,
}

impl SecretRef {
    /// `Some` if `text` is a reference (`sm:…`), checked; `None` if it is a literal value.
    pub fn parse(text: &str) -> Option<Result<Self, SecretRefError>> {
        if let Some(name) = text.strip_prefix(SECRETS_MANAGER) {
            Some(check_name(SECRETS_MANAGER, name).map(|()| Self::SecretsManager(name.to_owned())))
        } else if text.starts_with(PARAMETER_STORE) {
            Some(Err(SecretRefError::Parameter))
        } else {
            None
        }
    }

    /// The secret's name or ARN, without the prefix.
    pub fn name(&self) -> &str {
        match self {
            Self::SecretsManager(name) => name,
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecretsManager(name) => write!(f, "{SECRETS_MANAGER}{name}"),
        }
    }
}

/// The characters Secrets Manager allows in names (`A-Za-z0-9/_+=.@-`, and `:` in ARNs);
/// anything else is a typo we can name before a call fails.
fn check_name(prefix: &'static str, name: &str) -> Result<(), SecretRefError> {
    if name.is_empty() {
        return Err(SecretRefError::Empty(prefix));
    }
    if name.len() > MAX_SECRET_NAME_LEN {
        return Err(SecretRefError::TooLong);
    }
    match name.chars().find(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-:".contains(*c))) {
        Some(c) => Err(SecretRefError::BadCharacter(c)),
        None => Ok(()),
    }
}

/// Reading a secret failed. `Unavailable` is worth a retry (a cold start is retried by
/// Lambda anyway); the others need an operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{0}: not found")]
    NotFound(SecretRef),
    #[error("{0}: access denied (is it under the prefix the function's role may read?)")]
    Denied(SecretRef),
    #[error("{0}: {1}")]
    Unusable(SecretRef, String),
    #[error("{0}: unavailable: {1}")]
    Unavailable(SecretRef, String),
}

/// Reads the value a reference points at. Called in init, once per distinct reference.
#[async_trait]
pub trait SecretResolver: Send + Sync {
    async fn resolve(&self, reference: &SecretRef) -> Result<String, SecretError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_literals_are_not_references() {
        assert_eq!(
            SecretRef::parse("sm:omnidesk/chat/web"),
            Some(Ok(SecretRef::SecretsManager("omnidesk/chat/web".into())))
        );
        let arn = "sm:arn:aws:secretsmanager:us-east-1:123456789012:secret:omnidesk/chat/web-AbCdEf";
        assert!(matches!(SecretRef::parse(arn), Some(Ok(SecretRef::SecretsManager(_)))));
        assert_eq!(SecretRef::parse("local-dev-secret-change-me"), None);
        assert_eq!(
            SecretRef::parse("sm:omnidesk/chat/web").and_then(Result::ok).map(|r| r.to_string()).as_deref(),
            Some("sm:omnidesk/chat/web")
        );
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        assert_eq!(SecretRef::parse("sm:"), Some(Err(SecretRefError::Empty("sm:"))));
        assert_eq!(SecretRef::parse("ssm:/omnidesk/web"), Some(Err(SecretRefError::Parameter)));
        assert_eq!(SecretRef::parse("sm:omnidesk web"), Some(Err(SecretRefError::BadCharacter(' '))));
        assert_eq!(
            SecretRef::parse(&format!("sm:{}", "a".repeat(2_049))),
            Some(Err(SecretRefError::TooLong))
        );
    }
}
