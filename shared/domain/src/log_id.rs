//! Sender-controlled ids (chat message, conversation and visitor ids, Message-IDs, the
//! idempotency keys built from them) as logs show them: a short SHA-256 prefix. A sender
//! chooses these values, so printing them would let anyone write into our logs, and a
//! Message-ID often names a person's address; the hash still lets an operator follow one
//! message through every log line and match it against a suspect id they hash themselves.

use std::fmt;

use sha2::{Digest, Sha256};

/// Hex digits of the hash shown: 48 bits, plenty to tell a day's messages apart.
const SHOWN_HEX_DIGITS: usize = 12;

/// Displays as `h:` and the first [`SHOWN_HEX_DIGITS`] hex digits of the SHA-256 of the id.
/// Use it for every log field that holds a sender-controlled id: `key = %Hashed(&key)`.
#[derive(Clone, Copy)]
pub struct Hashed<'a>(pub &'a str);

impl fmt::Display for Hashed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digest = hex::encode(Sha256::digest(self.0.as_bytes()));
        write!(f, "h:{}", &digest[..SHOWN_HEX_DIGITS])
    }
}

impl fmt::Debug for Hashed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_ids_are_hashed_stable_and_free_of_the_senders_text() {
        let id = "email:<evil\n{\"level\":\"ERROR\"}@anna.example>";
        let shown = Hashed(id).to_string();
        assert_eq!(shown, Hashed(id).to_string());
        assert_eq!(shown.len(), 2 + SHOWN_HEX_DIGITS);
        assert!(shown.starts_with("h:") && shown[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!shown.contains("anna"));
        assert_ne!(shown, Hashed("email:other@anna.example").to_string());
    }
}
