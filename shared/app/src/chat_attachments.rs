//! Files on a chat message: inline in the signed body (base64, with a name and a type), held
//! to limits that keep the whole request inside one Lambda invocation, checked
//! ([`omnidesk_domain::uploads`]) and stored where mail attachments are, one folder per
//! message. Inline rather than a URL the desk fetches: the signature then covers the bytes,
//! and the desk never makes a request a sender chose (no SSRF, no slow or huge downloads).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use omnidesk_domain::model::AttachmentRef;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::uploads::{self, Upload};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::email_inbound::attachment_key;
use crate::error::ApiError;

/// Files on one message, at most.
pub const MAX_CHAT_ATTACHMENTS: usize = 4;
/// Largest file, decoded.
pub const MAX_CHAT_ATTACHMENT_BYTES: usize = 2 * 1024 * 1024;
/// All of a message's files together, decoded.
pub const MAX_CHAT_ATTACHMENTS_BYTES: usize = 3 * 1024 * 1024;
/// The body besides its files' `data`: the message as it was before files (text, ids, names).
/// It also keeps the queued message far below SQS's 256 KiB.
pub const MAX_CHAT_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest request body: the message plus its files in base64 (4 characters per 3 bytes):
/// 4,259,840 bytes. Lambda takes at most 6 MB per synchronous invocation, and API Gateway
/// base64-encodes a body it does not take for text, so the body must stay under 4.5 MiB with
/// room for the request's headers and context; HTTP APIs accept 10 MB.
pub const MAX_CHAT_BODY_BYTES: usize = MAX_CHAT_MESSAGE_BYTES + MAX_CHAT_ATTACHMENTS_BYTES.div_ceil(3) * 4;

// Held at compile time: a body at the limit, base64-encoded by API Gateway, leaves 64 KiB of
// Lambda's 6 MB for headers and context; one file fits in a message's allowance.
const _: () = assert!(MAX_CHAT_BODY_BYTES.div_ceil(3) * 4 + 64 * 1024 <= 6 * 1024 * 1024);
const _: () = assert!(MAX_CHAT_ATTACHMENT_BYTES <= MAX_CHAT_ATTACHMENTS_BYTES);

/// One file as posted.
#[derive(Debug, Deserialize)]
pub struct AttachmentIn {
    /// The file's name on the customer's device; made safe, never a key.
    #[serde(default)]
    pub name: String,
    pub content_type: String,
    /// The bytes, base64 (RFC 4648, standard alphabet, padded).
    pub data: String,
}

/// A file that passed every check, with its bytes.
#[derive(Debug)]
pub struct CheckedFile {
    upload: Upload,
    bytes: Vec<u8>,
}

/// Checks a message's files against the limits and the accepted types, reading nothing but
/// the request: a refusal leaves nothing behind. `body_len` is the whole body's length.
pub fn check(files: &[AttachmentIn], body_len: usize) -> Result<Vec<CheckedFile>, ApiError> {
    let data: usize = files.iter().map(|f| f.data.len()).sum();
    if body_len.saturating_sub(data) > MAX_CHAT_MESSAGE_BYTES {
        return Err(ApiError::too_large(format!(
            "body is over {MAX_CHAT_MESSAGE_BYTES} bytes besides its attachments' data"
        )));
    }
    if files.len() > MAX_CHAT_ATTACHMENTS {
        return Err(ApiError::too_large(format!(
            "attachments: {} files; a message may carry at most {MAX_CHAT_ATTACHMENTS}",
            files.len()
        )));
    }
    let mut checked = Vec::with_capacity(files.len());
    let mut total = 0;
    for (index, file) in files.iter().enumerate() {
        let field = format!("attachments[{index}]");
        // A cheap bound before decoding: base64 holds 3 bytes in 4 characters.
        if file.data.len() / 4 * 3 > MAX_CHAT_ATTACHMENT_BYTES + 3 {
            return Err(over_file_limit(&field));
        }
        let bytes = STANDARD
            .decode(file.data.as_bytes())
            .map_err(|_| ApiError::bad_request(format!("{field}.data: not base64 (RFC 4648, padded)")))?;
        if bytes.len() > MAX_CHAT_ATTACHMENT_BYTES {
            return Err(over_file_limit(&field));
        }
        total += bytes.len();
        if total > MAX_CHAT_ATTACHMENTS_BYTES {
            return Err(ApiError::too_large(format!(
                "attachments: over {MAX_CHAT_ATTACHMENTS_BYTES} bytes together (decoded)"
            )));
        }
        let upload = uploads::accept(index + 1, &file.name, &file.content_type, &bytes)
            .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))?;
        checked.push(CheckedFile { upload, bytes });
    }
    Ok(checked)
}

fn over_file_limit(field: &str) -> ApiError {
    ApiError::too_large(format!("{field}: over {MAX_CHAT_ATTACHMENT_BYTES} bytes (decoded)"))
}

/// A checked file with the reference the message will carry.
#[derive(Debug)]
pub struct KeyedFile {
    pub reference: AttachmentRef,
    bytes: Vec<u8>,
}

/// Keys each file `attachments/chat-<digest of the message's idempotency key>/<sha256>`,
/// beside mail's `attachments/<receipt>/<sha256>`, so erasure, export and the agents' links
/// treat both alike. Keyed per message (a redelivery writes the same objects) and never by
/// what the sender typed; a file repeated within one message is one object, as in mail.
pub fn keyed(idempotency_key: &str, files: Vec<CheckedFile>) -> Vec<KeyedFile> {
    let receipt = format!("chat-{}", hex::encode(&Sha256::digest(idempotency_key.as_bytes())[..16]));
    let mut keyed: Vec<KeyedFile> = Vec::with_capacity(files.len());
    for CheckedFile { upload, bytes } in files {
        let key = attachment_key(&receipt, &upload.sha256);
        if keyed.iter().any(|k| k.reference.key == key) {
            continue;
        }
        let reference = AttachmentRef {
            key,
            name: upload.name,
            content_type: upload.content_type.to_owned(),
            size: bytes.len() as u64,
            content_id: None,
            inline: false,
            // Nothing scans chat files: the narrow list of types, checked by their bytes,
            // stands in for the scan (see `omnidesk_domain::uploads`).
            quarantined: false,
        };
        keyed.push(KeyedFile { reference, bytes });
    }
    keyed
}

/// Writes the files under their keys. A failure is worth a retry by the provider: the keys
/// are the same then.
pub async fn store(blobs: &dyn BlobStore, files: Vec<KeyedFile>) -> Result<(), ApiError> {
    for KeyedFile { reference, bytes } in files {
        blobs.put(&reference.key, bytes, &reference.content_type).await.map_err(|error| {
            tracing::error!(%error, "chat.attachment_store_failed");
            ApiError::unavailable("try again shortly")
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];

    fn file(name: &str, content_type: &str, bytes: &[u8]) -> AttachmentIn {
        AttachmentIn { name: name.into(), content_type: content_type.into(), data: STANDARD.encode(bytes) }
    }

    #[test]
    fn chat_attachments_over_a_limit_are_413_and_a_bad_file_is_400_naming_it() {
        let big = vec![0xFF; MAX_CHAT_ATTACHMENT_BYTES + 1];
        let refused = check(&[file("a.jpg", "image/jpeg", &big)], 10).unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.message.as_str()),
            (413, "attachments[0]: over 2097152 bytes (decoded)")
        );
        let five: Vec<_> = (0..5).map(|_| file("a.jpg", "image/jpeg", JPEG)).collect();
        assert_eq!(check(&five, 10).unwrap_err().status.as_u16(), 413);
        let mut near = JPEG.to_vec();
        near.resize(MAX_CHAT_ATTACHMENT_BYTES, 0);
        let two = [file("a.jpg", "image/jpeg", &near), file("b.jpg", "image/jpeg", &near)];
        let refused = check(&two, 10).unwrap_err();
        assert!(refused.message.contains("together"), "{}", refused.message);
        let refused =
            check(&[file("a.jpg", "image/jpeg", JPEG), file("x.exe", "application/x-msdownload", b"MZ")], 10)
                .unwrap_err();
        assert_eq!(refused.status.as_u16(), 400);
        assert!(refused.message.starts_with("attachments[1]: content type"), "{}", refused.message);
        let garbled =
            AttachmentIn { name: "a.jpg".into(), content_type: "image/jpeg".into(), data: "@@@".into() };
        assert_eq!(
            check(&[garbled], 10).unwrap_err().message,
            "attachments[0].data: not base64 (RFC 4648, padded)"
        );
    }

    #[test]
    fn a_repeated_file_is_one_object_under_the_messages_own_folder() {
        let files =
            check(&[file("a.jpg", "image/jpeg", JPEG), file("b.jpg", "image/jpeg", JPEG)], 100).unwrap();
        let first = keyed("chat:web:m1", files);
        assert_eq!(first.len(), 1);
        let key = &first[0].reference.key;
        assert!(key.starts_with("attachments/chat-") && !key.contains("m1"), "{key}");
        let again = check(&[file("a.jpg", "image/jpeg", JPEG)], 100).unwrap();
        assert_ne!(&keyed("chat:web:m2", again)[0].reference.key, key, "per message, not per content");
    }
}
