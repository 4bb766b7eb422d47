//! WeChat's push signatures and safe mode: `signature` is the SHA-1 of the sorted Token,
//! timestamp and nonce (plus the ciphertext for `msg_signature`); safe-mode messages are
//! AES-256-CBC under the EncodingAESKey, laid out as 16 random bytes, the length, the
//! message and the AppID, padded (PKCS#7) to 32 bytes.

use aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha1::{Digest, Sha1};

/// The EncodingAESKey is base64 of 32 bytes without its `=`, and its last character carries
/// two bits more than the key has: a strict decoder refuses the keys WeChat issues.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// WeChat pads to 32 bytes, not the cipher's 16.
const PAD_BLOCK: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the EncodingAESKey must be 43 characters of base64")]
    BadKey,
    #[error("the ciphertext is not base64 of whole AES blocks")]
    Malformed,
    #[error("the ciphertext does not decrypt to a message of this account")]
    Refused,
}

/// `hex(sha1(sorted parts joined))`, as WeChat signs: three parts for `signature`, four
/// (with `Encrypt`) for `msg_signature`.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    hex::encode(Sha1::digest(sorted.concat().as_bytes()))
}

/// Compares in constant time (the signature is hex, both sides the same length or unequal).
pub fn signature_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.to_ascii_lowercase().into_bytes());
    a.len() == b.len() && a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The 32-byte AES key of an EncodingAESKey.
pub fn aes_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    if encoding_aes_key.len() != 43 {
        return Err(CryptoError::BadKey);
    }
    let bytes = LENIENT.decode(format!("{encoding_aes_key}=")).map_err(|_| CryptoError::BadKey)?;
    bytes.try_into().map_err(|_| CryptoError::BadKey)
}

/// The message inside `encrypted` (the `Encrypt` field), checked to end with `app_id`.
pub fn decrypt(key: &[u8; 32], encrypted: &str, app_id: &str) -> Result<String, CryptoError> {
    let ciphertext = STANDARD.decode(encrypted.trim()).map_err(|_| CryptoError::Malformed)?;
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return Err(CryptoError::Malformed);
    }
    let mut buffer = ciphertext;
    let plain = cbc::Decryptor::<Aes256>::new_from_slices(key, &key[..16])
        .map_err(|_| CryptoError::BadKey)?
        .decrypt_padded::<NoPadding>(&mut buffer)
        .map_err(|_| CryptoError::Malformed)?;
    let pad = usize::from(*plain.last().ok_or(CryptoError::Refused)?);
    if !(1..=PAD_BLOCK).contains(&pad)
        || pad > plain.len()
        || plain[plain.len() - pad..].iter().any(|&b| usize::from(b) != pad)
    {
        return Err(CryptoError::Refused);
    }
    let body = &plain[..plain.len() - pad];
    let length: [u8; 4] = body.get(16..20).and_then(|b| b.try_into().ok()).ok_or(CryptoError::Refused)?;
    let end = 20usize.checked_add(u32::from_be_bytes(length) as usize).ok_or(CryptoError::Refused)?;
    let message = body.get(20..end).ok_or(CryptoError::Refused)?;
    if &body[end..] != app_id.as_bytes() {
        return Err(CryptoError::Refused);
    }
    String::from_utf8(message.to_vec()).map_err(|_| CryptoError::Refused)
}

/// `message` as WeChat would send it: what tests and the local desk's walk-through sign.
pub fn encrypt(key: &[u8; 32], random: &[u8; 16], message: &str, app_id: &str) -> String {
    let mut plain = random.to_vec();
    plain.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(app_id.as_bytes());
    let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let Ok(encryptor) = cbc::Encryptor::<Aes256>::new_from_slices(key, &key[..16]) else {
        unreachable!("a 32-byte key and a 16-byte IV always fit");
    };
    let length = plain.len();
    match encryptor.encrypt_padded::<NoPadding>(&mut plain, length) {
        Ok(ciphertext) => STANDARD.encode(ciphertext),
        Err(_) => unreachable!("padded to whole blocks above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn wechat_signature_matches_the_published_vectors() {
        assert_eq!(
            signature(&["AAAAA", "1714036504", "1514711492"]),
            "f464b24fc39322e44b38aa78f5edd27bd1441696"
        );
        assert_eq!(
            signature(&["AAAAA", "1714037059", "486452656"]),
            "899cf89e464efb63f54ddac96b0a0a235f53aa78"
        );
    }

    #[test]
    fn wechat_safe_mode_encrypts_the_official_java_vector() {
        let key = aes_key(KEY_A).unwrap();
        let encrypted = encrypt(&key, b"aaaabbbbccccdddd", "我是中文abcd123", "wxb11529c136998cb6");
        assert_eq!(
            encrypted,
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
        );
        assert_eq!(decrypt(&key, &encrypted, "wxb11529c136998cb6").unwrap(), "我是中文abcd123");
    }

    #[test]
    fn wechat_safe_mode_decrypts_the_official_python_vector_and_checks_its_msg_signature() {
        let encrypted = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
        assert_eq!(
            signature(&["spamtest", "1409735669", "1320562132", encrypted]),
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
        );
        let message = decrypt(&aes_key(KEY_A).unwrap(), encrypted, "wx2c2769f8efd9abc2").unwrap();
        assert!(message.contains("<Content><![CDATA[abcdteT]]></Content>"), "{message}");
        assert!(message.contains("<MsgId>6054768590064713728</MsgId>"), "{message}");
    }

    #[test]
    fn wechat_safe_mode_refuses_a_tampered_ciphertext_and_another_accounts_message() {
        let key = aes_key(KEY_A).unwrap();
        let encrypted = encrypt(&key, b"aaaabbbbccccdddd", "<xml></xml>", "wxb11529c136998cb6");
        let mut bytes = STANDARD.decode(&encrypted).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        assert!(decrypt(&key, &STANDARD.encode(&bytes), "wxb11529c136998cb6").is_err());
        bytes[last] ^= 0x01;
        bytes[20] ^= 0x40;
        assert!(decrypt(&key, &STANDARD.encode(&bytes), "wxb11529c136998cb6").is_err());
        assert_eq!(decrypt(&key, &encrypted, "wx0000000000000000"), Err(CryptoError::Refused));
        assert_eq!(decrypt(&key, "not base64!", "wxb11529c136998cb6"), Err(CryptoError::Malformed));
        assert_eq!(aes_key("short"), Err(CryptoError::BadKey));
    }
}
