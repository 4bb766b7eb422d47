//! Request signing shared by the chat webhook (verify) and the chat callback (sign):
//! `X-Omnidesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-omnidesk-signature";

/// Signatures older or newer than this are refused, which bounds replays.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing signature header")]
    Missing,
    #[error("malformed signature header")]
    Malformed,
    #[error("signature timestamp outside the allowed clock skew")]
    Stale,
    #[error("signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` signed at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks a header against the body, in constant time, within [`MAX_CLOCK_SKEW`] of `now`.
pub fn verify(
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
    now: Timestamp,
) -> Result<(), SignatureError> {
    verify_any(header, &[secret], body, now)
}

/// [`verify`] against several keys (a secret and the next one, during a rotation): any one
/// of them may have signed. No keys: nothing verifies.
pub fn verify_any(
    header: Option<&str>,
    secrets: &[&[u8]],
    body: &[u8],
    now: Timestamp,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                candidates.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            // Unknown schemes are ignored so a future v2 can be added beside v1.
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let skew = now.as_second().abs_diff(timestamp);
    if skew > MAX_CLOCK_SKEW.as_secs() {
        return Err(SignatureError::Stale);
    }
    let matches = |secret: &&[u8]| {
        let expected = mac(secret, timestamp, body);
        candidates.iter().any(|candidate| expected.clone().verify_slice(candidate).is_ok())
    };
    if secrets.iter().any(matches) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-secret-of-some-length";

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn signed_body_verifies() {
        let header = sign(SECRET, 1_790_000_000, b"{}");
        assert_eq!(verify(Some(&header), SECRET, b"{}", at(1_790_000_000)), Ok(()));
    }

    #[test]
    fn known_vector_matches_an_independent_hmac() {
        // printf '1700000000.hello' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign(b"key", 1_700_000_000, b"hello"),
            "t=1700000000,v1=4d583a269f4f276a3fa80ff31b5a01879a848096983222a17893d198418939aa"
        );
    }

    #[test]
    fn tampered_body_or_wrong_secret_is_a_mismatch() {
        let header = sign(SECRET, 1_790_000_000, b"{}");
        assert_eq!(verify(Some(&header), SECRET, b"{ }", at(1_790_000_000)), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(&header), b"other", b"{}", at(1_790_000_000)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn skew_of_300_seconds_passes_and_301_fails() {
        let header = sign(SECRET, 1_790_000_000, b"{}");
        assert_eq!(verify(Some(&header), SECRET, b"{}", at(1_790_000_300)), Ok(()));
        assert_eq!(verify(Some(&header), SECRET, b"{}", at(1_789_999_700)), Ok(()));
        assert_eq!(verify(Some(&header), SECRET, b"{}", at(1_790_000_301)), Err(SignatureError::Stale));
    }

    #[test]
    fn missing_or_garbled_headers_are_refused() {
        let now = at(1_790_000_000);
        assert_eq!(verify(None, SECRET, b"{}", now), Err(SignatureError::Missing));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1790000000,v1=zz", "nonsense"] {
            assert!(verify(Some(bad), SECRET, b"{}", now).is_err(), "{bad}");
        }
    }
}
