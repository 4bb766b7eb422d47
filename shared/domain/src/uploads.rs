//! Files a customer hands the desk on a channel with no virus scan in front of it (chat): only
//! photos and PDFs, each recognised by its bytes as the type it claims, under a name made safe
//! the way mail attachments' names are. Mail keeps any file because SES scans it and a failed
//! scan quarantines it; nothing scans a chat upload, so what may come in is narrow instead.

use sha2::{Digest, Sha256};

/// One accepted type: its canonical name, the names it is also sent under, the extensions a
/// file of it may carry (the first is added to a name without one), and whether its bytes are it.
struct Kind {
    content_type: &'static str,
    aliases: &'static [&'static str],
    extensions: &'static [&'static str],
    sniff: fn(&[u8]) -> bool,
}

const KINDS: &[Kind] = &[
    Kind {
        content_type: "image/jpeg",
        aliases: &["image/jpg", "image/pjpeg"],
        extensions: &["jpg", "jpeg", "jpe"],
        sniff: |b| b.starts_with(&[0xFF, 0xD8, 0xFF]),
    },
    Kind {
        content_type: "image/png",
        aliases: &[],
        extensions: &["png"],
        sniff: |b| b.starts_with(b"\x89PNG\r\n\x1a\n"),
    },
    Kind {
        content_type: "image/gif",
        aliases: &[],
        extensions: &["gif"],
        sniff: |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
    },
    Kind {
        content_type: "image/webp",
        aliases: &[],
        extensions: &["webp"],
        sniff: |b| b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP",
    },
    Kind {
        content_type: "image/heic",
        aliases: &["image/heif"],
        extensions: &["heic", "heif"],
        sniff: is_heif,
    },
    Kind {
        content_type: "application/pdf",
        aliases: &[],
        extensions: &["pdf"],
        sniff: |b| b.starts_with(b"%PDF-"),
    },
];

/// What the refusal names as accepted.
pub const ACCEPTED_TYPES: &str = "image/jpeg, image/png, image/gif, image/webp, image/heic, application/pdf";

/// An ISO base media file whose major brand is one of HEIF's (what phones save photos as).
fn is_heif(bytes: &[u8]) -> bool {
    const BRANDS: [&[u8]; 8] = [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"];
    bytes.len() >= 12 && &bytes[4..8] == b"ftyp" && BRANDS.contains(&&bytes[8..12])
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("empty file")]
    Empty,
    #[error("content type {0:?} is not accepted: only {ACCEPTED_TYPES}")]
    NotAccepted(String),
    #[error("the file is not the {0} it claims to be")]
    NotWhatItClaims(&'static str),
    #[error("the file name's extension does not fit {content_type}: use .{}", extensions.join(" or ."))]
    WrongExtension { content_type: &'static str, extensions: &'static [&'static str] },
}

/// An accepted file: its safe name, canonical type and the hex SHA-256 of its bytes (its key
/// within the message it came with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub name: String,
    pub content_type: &'static str,
    pub sha256: String,
}

/// Accepts `bytes`, sent as the `position`-th file (from 1) named `name` with type
/// `declared`, when the type is accepted, the bytes are of it and the name's extension (if
/// it has one) fits it.
pub fn accept(position: usize, name: &str, declared: &str, bytes: &[u8]) -> Result<Upload, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    // `image/JPEG; name=x` is image/jpeg.
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let kind = KINDS
        .iter()
        .find(|k| k.content_type == essence || k.aliases.contains(&essence.as_str()))
        .ok_or_else(|| UploadError::NotAccepted(crate::text::line(declared).chars().take(100).collect()))?;
    if !(kind.sniff)(bytes) {
        return Err(UploadError::NotWhatItClaims(kind.content_type));
    }
    let cleaned = crate::email::clean_filename(name);
    let name = match cleaned.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => {
            if !kind.extensions.contains(&extension.to_ascii_lowercase().as_str()) {
                return Err(UploadError::WrongExtension {
                    content_type: kind.content_type,
                    extensions: kind.extensions,
                });
            }
            cleaned
        }
        _ if cleaned.is_empty() => format!("attachment-{position}.{}", kind.extensions[0]),
        _ => format!("{cleaned}.{}", kind.extensions[0]),
    };
    Ok(Upload { name, content_type: kind.content_type, sha256: hex::encode(Sha256::digest(bytes)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];

    #[test]
    fn photos_and_pdfs_recognised_by_their_bytes_are_accepted_under_their_canonical_type() {
        let photo = accept(1, "IMG_0001.JPG", "image/jpg", JPEG).unwrap();
        assert_eq!((photo.name.as_str(), photo.content_type), ("IMG_0001.JPG", "image/jpeg"));
        assert_eq!(photo.sha256.len(), 64);
        let heic = [&[0, 0, 0, 24][..], b"ftypheic", &[0; 8]].concat();
        assert_eq!(accept(1, "lid", "image/HEIC; x=1", &heic).unwrap().name, "lid.heic");
        assert_eq!(accept(2, "", "application/pdf", b"%PDF-1.7\n").unwrap().name, "attachment-2.pdf");
    }

    #[test]
    fn a_type_outside_the_list_bytes_of_another_type_or_a_foreign_extension_are_refused() {
        assert_eq!(
            accept(1, "setup.exe", "application/x-msdownload", b"MZ").unwrap_err(),
            UploadError::NotAccepted("application/x-msdownload".into())
        );
        let svg = accept(1, "x.svg", "image/svg+xml", b"<svg/>").unwrap_err().to_string();
        assert!(svg.contains("only image/jpeg"), "an SVG can carry script: {svg}");
        assert_eq!(
            accept(1, "a.jpg", "image/jpeg", b"MZ\x90\0").unwrap_err(),
            UploadError::NotWhatItClaims("image/jpeg")
        );
        assert_eq!(
            accept(1, "a.png", "image/png", JPEG).unwrap_err(),
            UploadError::NotWhatItClaims("image/png")
        );
        let wrong = accept(1, "photo.jpg.exe", "image/jpeg", JPEG).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "the file name's extension does not fit image/jpeg: use .jpg or .jpeg or .jpe"
        );
        assert_eq!(accept(1, "a.jpg", "image/jpeg", b"").unwrap_err(), UploadError::Empty);
    }

    #[test]
    fn input_hygiene_upload_names_lose_directories_and_bidi_characters() {
        let photo = accept(1, "../../etc/lid\u{202E}gpj.jpg", "image/jpeg", JPEG).unwrap();
        assert_eq!(photo.name, "lidgpj.jpg");
        assert_eq!(accept(1, ".jpg", "image/jpeg", JPEG).unwrap().name, "jpg.jpg");
    }
}
