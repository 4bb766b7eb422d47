//! Keyed pseudonyms for customer ids: the same customer gets the same pseudonym in every
//! file (analysts can count repeat contacts), and without the key nobody can map one back
//! or test a guess. The key is a secret (`sm:<name>` on AWS); rotating it starts new
//! pseudonyms.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// Under this many bytes a key could be guessed.
pub const MIN_KEY_BYTES: usize = 16;

#[derive(Clone)]
pub struct Pseudonyms {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonyms(..)")
    }
}

impl Pseudonyms {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// `p_` and 32 hex digits (128 bits of HMAC-SHA256): short, and collisions would need
    /// about 2^64 customers.
    pub fn of(&self, id: &str) -> String {
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&self.key) else {
            // HMAC takes keys of any length; this branch cannot run.
            return String::from("p_");
        };
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("p_{}", hex::encode(&digest[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_across_keys() {
        let a = Pseudonyms::new(b"0123456789abcdef");
        let b = Pseudonyms::new(b"fedcba9876543210");
        assert_eq!(a.of("cus_1"), a.of("cus_1"));
        assert_ne!(a.of("cus_1"), a.of("cus_2"));
        assert_ne!(a.of("cus_1"), b.of("cus_1"));
        assert_eq!(a.of("cus_1").len(), 34);
    }
}
