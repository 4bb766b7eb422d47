//! The help centre's return link: what the form asked for (order, line, reason, damage, the
//! page's language) and an expiry, signed with the desk's return-link key. A typed email
//! address proves nothing, so the form changes nothing itself: the link goes to the address
//! the order was placed with, and only following it starts the return. The token carries
//! no customer data beyond what its own recipient typed; a tampered, truncated or foreign
//! token fails its tag, an old one its expiry.
//!
//! Format: `<hex(JSON payload)>.<hex(16-byte HMAC-SHA-256 tag)>`.

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::returns::MAX_RETURN_REASON_CHARS;
use super::{MAX_ORDER_NAME_CHARS, ReturnAsk};

const TAG_BYTES: usize = 16;
/// The longest token accepted: a full payload with the longest reason in hex, and room.
pub const MAX_TOKEN_CHARS: usize = 8_192;
/// The shortest key accepted.
pub const MIN_KEY_BYTES: usize = 16;
/// Longest item name or line id the form takes, in characters.
pub const MAX_ITEM_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a link we made: 404.
    #[error("no such return link")]
    Invalid,
    /// A genuine link past its expiry: 410.
    #[error("this return link has expired: send the form again")]
    Expired,
}

/// What the form asked for, as the link carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLink {
    #[serde(rename = "o")]
    pub order: String,
    /// The line id or item name the customer typed.
    #[serde(rename = "i")]
    pub item: String,
    #[serde(rename = "r")]
    pub reason: String,
    #[serde(rename = "d", default, skip_serializing_if = "std::ops::Not::not")]
    pub damaged: bool,
    /// `en` or `zh`: the form page's language, for the mails that follow.
    #[serde(rename = "g")]
    pub language: String,
    /// Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
}

impl ReturnLink {
    /// The request as the returns workflow reads it (no photos: the form takes none).
    pub fn ask(&self) -> ReturnAsk {
        let words = format!("{}\n{}", self.item, self.reason);
        ReturnAsk { order: Some(self.order.clone()), words, damaged: self.damaged, photos: 0 }
    }

    /// Whether each field is within its limit.
    pub fn within_limits(&self) -> bool {
        let chars = |s: &str| s.chars().count();
        (1..=MAX_ORDER_NAME_CHARS).contains(&chars(&self.order))
            && (1..=MAX_ITEM_CHARS).contains(&chars(&self.item))
            && chars(&self.reason) <= MAX_RETURN_REASON_CHARS
            && self.language.len() <= 8
    }
}

/// Signs and checks return links.
#[derive(Clone)]
pub struct LinkKey {
    key: Vec<u8>,
}

impl LinkKey {
    /// `None` for a key shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: &[u8]) -> Option<Self> {
        (key.len() >= MIN_KEY_BYTES).then(|| Self { key: key.to_vec() })
    }

    fn tag(&self, payload: &[u8]) -> [u8; TAG_BYTES] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(b"return-link\0");
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    pub fn sign(&self, link: &ReturnLink) -> String {
        let payload = serde_json::to_vec(link).unwrap_or_default();
        format!("{}.{}", hex::encode(&payload), hex::encode(self.tag(&payload)))
    }

    /// The link's contents, if we made it and it has not expired at `now`.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<ReturnLink, LinkError> {
        let link = self.open(token)?;
        if now.as_second() > link.expires {
            return Err(LinkError::Expired);
        }
        Ok(link)
    }

    /// The link's contents if we made it, expired or not.
    pub fn open(&self, token: &str) -> Result<ReturnLink, LinkError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(LinkError::Invalid);
        }
        let (payload, tag) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let payload = hex::decode(payload).map_err(|_| LinkError::Invalid)?;
        let tag = hex::decode(tag).map_err(|_| LinkError::Invalid)?;
        if tag.len() != TAG_BYTES {
            return Err(LinkError::Invalid);
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).map_err(|_| LinkError::Invalid)?;
        mac.update(b"return-link\0");
        mac.update(&payload);
        mac.verify_truncated_left(&tag).map_err(|_| LinkError::Invalid)?;
        let link: ReturnLink = serde_json::from_slice(&payload).map_err(|_| LinkError::Invalid)?;
        if !link.within_limits() {
            return Err(LinkError::Invalid);
        }
        Ok(link)
    }
}

/// The id of a link: one return per link, however often it is followed.
pub fn link_id(token: &str) -> String {
    let tag = token.rsplit('.').next().unwrap_or_default();
    format!("return-link:{}", &tag[..tag.len().min(32)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(expires: i64) -> ReturnLink {
        ReturnLink {
            order: "#1001".into(),
            item: "Teapot".into(),
            reason: "too small".into(),
            damaged: false,
            language: "en".into(),
            expires,
        }
    }

    #[test]
    fn a_return_link_verifies_until_it_expires_and_not_when_tampered_or_foreign() {
        let key = LinkKey::new(b"return-link-key-0123456789").unwrap();
        let token = key.sign(&link(1_000));
        assert_eq!(key.verify(&token, Timestamp::from_second(999).unwrap()), Ok(link(1_000)));
        assert_eq!(key.verify(&token, Timestamp::from_second(1_001).unwrap()), Err(LinkError::Expired));
        let forged = key.sign(&link(1_000)).replace(&hex::encode("#1001"), &hex::encode("#1002"));
        assert_ne!(forged, token);
        assert_eq!(key.verify(&forged, Timestamp::from_second(1).unwrap()), Err(LinkError::Invalid));
        let other = LinkKey::new(b"another-key-0123456789").unwrap();
        assert_eq!(other.verify(&token, Timestamp::from_second(1).unwrap()), Err(LinkError::Invalid));
        let (payload, tag) = token.split_once('.').unwrap();
        let truncated = format!("{payload}.{}", &tag[..8]);
        assert_eq!(key.verify(&truncated, Timestamp::from_second(1).unwrap()), Err(LinkError::Invalid));
        assert!(LinkKey::new(b"short").is_none());
    }
}
