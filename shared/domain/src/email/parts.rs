//! Choosing among the MIME parts: which one is the body, which ones are attachments.
//!
//! `mail-parser` already walks the tree (mixed > alternative > related, any depth) and lists
//! the parts a mail client would show as the body (`text_body`) and as attachments. A
//! text/plain body wins over HTML, unless it is blank: some clients send an empty text
//! alternative beside the real HTML.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use super::html::html_to_text;
use super::lenient::{self, Repair};
use super::{Attachment, AttachmentBytes, EmailError, MAX_ATTACHMENTS};
use crate::text;

/// The message's body as plain text, line ends normalised to `\n`, and the repairs the
/// lenient reading made ([`lenient`]).
pub(super) fn body_text(message: &Message<'_>) -> (String, Vec<Repair>) {
    let mut repairs = Vec::new();
    let text = body_of(message, &mut repairs, MAX_ENCLOSED_DEPTH);
    // The one sanitiser; it also turns `\r\n` and a lone `\r` into `\n`.
    (text::body(&text), repairs)
}

/// Forwards of forwards are followed this deep for a body.
const MAX_ENCLOSED_DEPTH: usize = 3;

fn body_of(message: &Message<'_>, repairs: &mut Vec<Repair>, depth: usize) -> String {
    if let Some(root) = lenient::boundaryless_root(message) {
        repairs.push(Repair::MissingBoundary);
        return String::from_utf8_lossy(root.contents()).into_owned();
    }
    let plain = join_parts(message, &message.text_body, false, repairs);
    if !plain.trim().is_empty() {
        return plain;
    }
    let html = join_parts(message, &message.html_body, true, repairs);
    if !html.trim().is_empty() || depth == 0 {
        return html;
    }
    // Nothing of its own: a mail forwarded as an attachment is what the customer wants read.
    let enclosed = message.attachments().find_map(|part| part.message());
    match enclosed {
        Some(enclosed) => {
            let mut inner = Vec::new();
            let text = body_of(enclosed, &mut inner, depth - 1);
            if !text.trim().is_empty() {
                repairs.push(Repair::EnclosedMessage);
                repairs.extend(inner);
            }
            text
        }
        None => html,
    }
}

/// Several body parts (Apple Mail splits text around inline images) are joined by a newline.
fn join_parts(message: &Message<'_>, ids: &[u32], html_only: bool, repairs: &mut Vec<Repair>) -> String {
    let texts = ids.iter().filter_map(|&id| message.part(id)).filter_map(|part| {
        if let Some((text, undecoded_bytes)) = lenient::broken_base64_text(message, part) {
            if !repairs.contains(&Repair::InvalidBase64 { undecoded_bytes }) {
                repairs.push(Repair::InvalidBase64 { undecoded_bytes });
            }
            let is_html = part
                .content_type()
                .is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("html")));
            return Some(if is_html { html_to_text(&text) } else { text });
        }
        match &part.body {
            PartType::Text(text) if !html_only => Some(text.to_string()),
            PartType::Html(html) => Some(html_to_text(html)),
            _ => None,
        }
    });
    texts.filter(|t| !t.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

/// The attachments, with their bytes when asked for.
pub(super) fn attachments(
    message: &Message<'_>,
    keep_bytes: bool,
) -> Result<(Vec<Attachment>, Vec<AttachmentBytes>), EmailError> {
    // A multipart without a boundary is read as the body, not offered as a file.
    let body_part = lenient::boundaryless_root(message).map(|_| 0);
    let count = message.attachments.iter().filter(|&&id| Some(id) != body_part).count();
    if count > MAX_ATTACHMENTS {
        return Err(EmailError::TooManyAttachments { count, max: MAX_ATTACHMENTS });
    }
    let mut attachments = Vec::with_capacity(count);
    let mut all_bytes = Vec::new();
    let parts =
        message.attachments.iter().filter(|&&id| Some(id) != body_part).filter_map(|&id| message.part(id));
    for (index, part) in parts.enumerate() {
        let bytes = part.contents();
        let sha256 = hex::encode(Sha256::digest(bytes));
        let content_type = content_type(part);
        attachments.push(Attachment {
            filename: filename(part, index + 1, &content_type),
            size: bytes.len() as u64,
            content_id: part.content_id().and_then(clean_content_id),
            inline: is_inline(part),
            sha256: sha256.clone(),
            content_type,
        });
        if keep_bytes {
            all_bytes.push(AttachmentBytes { sha256, bytes: bytes.to_vec() });
        }
    }
    Ok((attachments, all_bytes))
}

fn content_type(part: &MessagePart<'_>) -> String {
    let Some(ct) = part.content_type() else {
        // No Content-Type means text/plain (RFC 2045), except for a nested message.
        return if part.message().is_some() { "message/rfc822" } else { "text/plain" }.to_string();
    };
    let subtype = ct.subtype().unwrap_or("octet-stream");
    let valid = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if valid(ct.ctype()) && valid(subtype) {
        format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase()
    } else {
        "application/octet-stream".to_string()
    }
}

/// Disposition `inline`, or no disposition but a Content-ID (an image the HTML refers to).
fn is_inline(part: &MessagePart<'_>) -> bool {
    match part.content_disposition() {
        Some(disposition) => disposition.is_inline(),
        None => part.content_id().is_some(),
    }
}

fn clean_content_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// Longest file name kept, in characters; longer names keep their end (the extension).
const MAX_FILENAME_CHARS: usize = 200;

/// The sender's file name, made safe to show and to store: no directories, no control,
/// bidi or invisible characters. A nested message is named after its subject.
fn filename(part: &MessagePart<'_>, index: usize, content_type: &str) -> String {
    let given = part
        .attachment_name()
        .map(str::to_string)
        .or_else(|| part.message().and_then(|m| m.subject()).map(|s| format!("{s}.eml")));
    let cleaned = given.as_deref().map(clean_filename).filter(|n| !n.is_empty());
    cleaned.unwrap_or_else(|| format!("attachment-{index}.{}", extension(content_type)))
}

/// A sender's file name made safe to show and to store (every channel's files are named by this).
pub(crate) fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    // Control characters, bidi overrides (`invoice\u{202E}fdp.exe`) and invisible ones go.
    let cleaned = text::line(base);
    let cleaned = cleaned.trim_start_matches('.').trim();
    let count = cleaned.chars().count();
    cleaned.chars().skip(count.saturating_sub(MAX_FILENAME_CHARS)).collect()
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/csv" => "csv",
        "text/calendar" => "ics",
        "message/rfc822" | "message/global" => "eml",
        "message/delivery-status" | "message/disposition-notification" | "text/rfc822-headers" => "txt",
        _ => "bin",
    }
}

#[cfg(test)]
mod hygiene_tests {
    use crate::email::parse;

    #[test]
    fn input_hygiene_attachment_names_and_bodies_lose_control_and_bidi_characters() {
        let raw = "From: anna@example.com\r\nTo: support@desk.example\r\nSubject: files\r\n\
                   MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                   --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                   see \u{202E}attached\u{0}\r\n\tthanks\r\n\
                   --b\r\nContent-Type: application/octet-stream\r\n\
                   Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe%E2%80%8B\r\n\r\n\
                   MZ\r\n--b--\r\n";
        let parsed = parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.attachments[0].filename, "invoicefdp.exe");
        assert_eq!(parsed.text, "see attached\n\tthanks");
    }
}
