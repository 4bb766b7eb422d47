//! A secret field of the configuration: the value itself (the local desk), or a reference
//! (`sm:<name>`) that is resolved once, when a function starts. Functions that
//! never use a secret leave references unresolved: their roles may not read them.

use std::fmt;

use omnidesk_domain::secrets::SecretRef;
use serde::Deserialize;

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Secret {
    reference: Option<SecretRef>,
    /// The literal, or the resolved value of the reference.
    value: Option<String>,
}

impl Secret {
    /// A value given as it is (tests, the local desk).
    pub fn literal(value: impl Into<String>) -> Self {
        Self { reference: None, value: Some(value.into()) }
    }

    pub fn reference(&self) -> Option<&SecretRef> {
        self.reference.as_ref()
    }

    /// The value, if it was given literally or has been resolved.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    pub(super) fn set_resolved(&mut self, value: String) {
        self.value = Some(value);
    }
}

impl TryFrom<String> for Secret {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match SecretRef::parse(&text) {
            None => Ok(Self::literal(text)),
            Some(Ok(reference)) => Ok(Self { reference: Some(reference), value: None }),
            Some(Err(error)) => Err(format!("{text}: {error}")),
        }
    }
}

impl fmt::Debug for Secret {
    // Names where a secret lives, never what it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.reference, &self.value) {
            (Some(reference), Some(_)) => write!(f, "Secret({reference}, resolved)"),
            (Some(reference), None) => write!(f, "Secret({reference})"),
            (None, _) => f.write_str("Secret(literal)"),
        }
    }
}
