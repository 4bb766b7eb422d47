//! The survey link's token and the form's anti-forgery field.
//!
//! A token is `hex(version ‖ id ‖ expiry ‖ tag)`: a 16-byte id (derived from the key and the
//! ticket, so it says nothing about the ticket and a retried send makes the same link), the
//! expiry in unix seconds, and a 16-byte HMAC-SHA-256 tag. No database id is in it. A
//! tampered, truncated or foreign token fails the tag (404); a genuine one past its expiry is
//! [`TokenError::Expired`] (410). Keys rotate: tokens are made with the current key and either
//! the current or the previous key verifies them, so links sent before a rotation keep working
//! until the previous key is retired.
//!
//! The form field is `hex(issued ‖ generation ‖ tag)` over the token id: only a GET of the
//! page hands it out, so a cross-site form or a bare replayed URL cannot answer. It expires
//! after [`FORM_TTL`]. `generation` is how many answers were recorded when the form was
//! rendered: a POST of a form rendered before the latest answer (a mail scanner replaying the
//! customer's earlier POST after they changed it) is recognised as a replay and changes
//! nothing.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::model::TicketNumber;

const VERSION: u8 = 1;
const ID_BYTES: usize = 16;
const TAG_BYTES: usize = 16;
const TOKEN_BYTES: usize = 1 + ID_BYTES + 8 + TAG_BYTES;
/// A token's length in hex digits; anything else is malformed.
pub const TOKEN_CHARS: usize = TOKEN_BYTES * 2;
const FORM_BYTES: usize = 8 + 4 + TAG_BYTES;
/// How long a form stays good after the GET that rendered it.
pub const FORM_TTL: Duration = Duration::from_secs(24 * 3600);
/// How far a form's issue time may lie ahead of the clock (clock skew between containers).
const FORM_SKEW: Duration = Duration::from_secs(300);
/// The shortest key accepted.
pub const MIN_KEY_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token we made (tampered, truncated, or signed with a retired key): 404.
    #[error("no such survey")]
    Invalid,
    /// A genuine token past its expiry: 410.
    #[error("this survey link has expired")]
    Expired,
}

/// A token's contents, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyToken {
    /// Hex of the 16-byte id.
    pub id: String,
    pub expires_at: Timestamp,
}

/// The HMAC keys: the current one signs, both verify.
#[derive(Clone)]
pub struct TokenKeys {
    current: [u8; 32],
    previous: Option<[u8; 32]>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys for survey links only, derived from the secrets (a secret shared with another use
    /// signs nothing else here).
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Self {
        Self { current: derive(current), previous: previous.map(derive) }
    }

    /// The link's id for `ticket`'s survey scheduled at `due`: the same on every retry.
    pub fn survey_id(&self, ticket: TicketNumber, due: Timestamp) -> String {
        let mut mac = mac(&self.current, b"survey-id");
        mac.update(&ticket.0.to_be_bytes());
        mac.update(&due.as_nanosecond().to_be_bytes());
        hex::encode(&mac.finalize().into_bytes()[..ID_BYTES])
    }

    /// The token for the link with `id` (hex, from [`TokenKeys::survey_id`]) until `expires_at`.
    pub fn token(&self, id: &str, expires_at: Timestamp) -> String {
        let mut body = Vec::with_capacity(TOKEN_BYTES);
        body.push(VERSION);
        let mut raw_id = hex::decode(id).unwrap_or_default();
        raw_id.resize(ID_BYTES, 0);
        body.extend_from_slice(&raw_id);
        body.extend_from_slice(&expires_at.as_second().to_be_bytes());
        let tag = tag(&self.current, b"survey-token", &body);
        body.extend_from_slice(&tag);
        hex::encode(body)
    }

    /// The token's id and expiry if one of the keys made it; [`TokenError::Expired`] after
    /// its expiry (checked only once the tag holds, so a forgery never learns about time).
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<SurveyToken, TokenError> {
        let opened = self.open(token)?;
        if now >= opened.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(opened)
    }

    /// The token's contents if one of the keys made it, expired or not (an unsubscribe link
    /// keeps working after the survey closes).
    pub fn open(&self, token: &str) -> Result<SurveyToken, TokenError> {
        if token.len() != TOKEN_CHARS {
            return Err(TokenError::Invalid);
        }
        let bytes = hex::decode(token).map_err(|_| TokenError::Invalid)?;
        let (body, given) = bytes.split_at(TOKEN_BYTES - TAG_BYTES);
        if body[0] != VERSION || !self.keys().any(|key| verify_tag(key, b"survey-token", body, given)) {
            return Err(TokenError::Invalid);
        }
        let id = hex::encode(&body[1..1 + ID_BYTES]);
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(&body[1 + ID_BYTES..]);
        let expires_at =
            Timestamp::from_second(i64::from_be_bytes(seconds)).map_err(|_| TokenError::Invalid)?;
        Ok(SurveyToken { id, expires_at })
    }

    /// The anti-forgery field of a form rendered at `now` for the link with `id`, when
    /// `generation` answers had been recorded.
    pub fn form_field(&self, id: &str, generation: u32, now: Timestamp) -> String {
        let head = [&now.as_second().to_be_bytes()[..], &generation.to_be_bytes()[..]].concat();
        let tag = tag(&self.current, b"survey-form", &[id.as_bytes(), &head].concat());
        hex::encode([&head[..], &tag[..]].concat())
    }

    /// The generation of `field` if a GET of the link `id` handed it out less than
    /// [`FORM_TTL`] before `now`.
    pub fn form_generation(&self, id: &str, field: &str, now: Timestamp) -> Option<u32> {
        if field.len() != FORM_BYTES * 2 {
            return None;
        }
        let bytes = hex::decode(field).ok()?;
        let (head, given) = bytes.split_at(12);
        let signed = [id.as_bytes(), head].concat();
        if !self.keys().any(|key| verify_tag(key, b"survey-form", &signed, given)) {
            return None;
        }
        let mut seconds = [0u8; 8];
        seconds.copy_from_slice(&head[..8]);
        let mut generation = [0u8; 4];
        generation.copy_from_slice(&head[8..]);
        let issued = i64::from_be_bytes(seconds);
        let now = now.as_second();
        let ttl = i64::try_from(FORM_TTL.as_secs()).unwrap_or(i64::MAX);
        let skew = i64::try_from(FORM_SKEW.as_secs()).unwrap_or(0);
        let fresh = issued <= now.saturating_add(skew) && now.saturating_sub(issued) < ttl;
        fresh.then_some(u32::from_be_bytes(generation))
    }

    /// Whether `field` is a live form field of the link `id`, whatever its generation.
    pub fn form_field_ok(&self, id: &str, field: &str, now: Timestamp) -> bool {
        self.form_generation(id, field, now).is_some()
    }

    fn keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }
}

fn derive(secret: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"omnidesk survey link v1\0");
    hasher.update(secret);
    hasher.finalize().into()
}

fn mac(key: &[u8; 32], purpose: &[u8]) -> Hmac<Sha256> {
    // Any 32-byte key is a valid HMAC key.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(purpose);
    mac.update(&[0]);
    mac
}

fn tag(key: &[u8; 32], purpose: &[u8], body: &[u8]) -> [u8; TAG_BYTES] {
    let mut mac = mac(key, purpose);
    mac.update(body);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; TAG_BYTES];
    tag.copy_from_slice(&full[..TAG_BYTES]);
    tag
}

fn verify_tag(key: &[u8; 32], purpose: &[u8], body: &[u8], given: &[u8]) -> bool {
    let mut mac = mac(key, purpose);
    mac.update(body);
    // Constant time over the truncated tag.
    mac.verify_truncated_left(given).is_ok() && given.len() == TAG_BYTES
}
