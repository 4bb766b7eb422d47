//! The versioned JSON envelope every queue message travels in:
//! `{"kind": "inbound_message", "version": 1, "body": {...}}`. A consumer refuses kinds and
//! versions it does not know instead of guessing, so a half-finished deploy cannot misread a
//! message; the refused message ends in the dead-letter queue with its reason logged.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ports::QueueMessage;

/// A payload that travels in an envelope.
pub trait Versioned: Serialize + DeserializeOwned {
    const KIND: &'static str;
    const VERSION: u32;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("malformed envelope: {0}")]
    Malformed(String),
    #[error("expected a {expected} message, got {found}")]
    WrongKind { expected: &'static str, found: String },
    #[error("{kind} version {version} is not supported")]
    UnsupportedVersion { kind: &'static str, version: u32 },
}

#[derive(Serialize, Deserialize)]
struct Envelope<K, T> {
    kind: K,
    version: u32,
    body: T,
}

pub fn seal<T: Versioned>(payload: &T) -> QueueMessage {
    let envelope = Envelope { kind: T::KIND, version: T::VERSION, body: payload };
    QueueMessage {
        // Serialising our own plain structs into a String cannot fail.
        body: serde_json::to_string(&envelope).unwrap_or_default(),
        kind: T::KIND.to_owned(),
        version: T::VERSION,
    }
}

pub fn open<T: Versioned>(body: &str) -> Result<T, EnvelopeError> {
    let envelope: Envelope<String, serde_json::Value> =
        serde_json::from_str(body).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if envelope.kind != T::KIND {
        return Err(EnvelopeError::WrongKind { expected: T::KIND, found: envelope.kind });
    }
    if envelope.version != T::VERSION {
        return Err(EnvelopeError::UnsupportedVersion { kind: T::KIND, version: envelope.version });
    }
    serde_json::from_value(envelope.body).map_err(|e| EnvelopeError::Malformed(e.to_string()))
}
