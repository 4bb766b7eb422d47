//! Reading what real clients send when it is not quite MIME: a header section that runs into
//! the body without a blank line, a multipart without a boundary, base64 that breaks off.
//! Each repair is the reading Python's `email` package (a mature, lenient parser) makes of the
//! same bytes, except where noted; each is reported as a [`Repair`] so an agent can tell.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

/// What the lenient reading had to do to read a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    /// No blank line ended the header section: the body starts at the first line that is not
    /// a header field (Python: `MissingHeaderBodySeparatorDefect`, same reading).
    MissingHeaderSeparator,
    /// A `multipart/*` without a `boundary` parameter: its body is read as text (Python:
    /// `NoBoundaryInMultipartDefect`, and the payload is the text).
    MissingBoundary,
    /// The mail's own body was empty and it encloses a forwarded `message/rfc822`: the
    /// enclosed mail's text is shown (Python keeps it as a nested message; `get_body()` finds
    /// no body).
    EnclosedMessage,
    /// Base64 that stops being base64: the valid prefix is decoded, this many bytes after it
    /// are not (Python: `InvalidBase64CharactersDefect`; it skips the bad characters and
    /// decodes on, which can splice unrelated bytes together, so the desk stops instead).
    InvalidBase64 { undecoded_bytes: usize },
}

/// `raw` with a blank line inserted where its body starts, when the header section runs
/// straight into the body; `None` when the mail needs no repair.
///
/// A line that is not a header field (`name:` with a printable name without spaces, or a
/// folded continuation) ends the header section, as in Python. One exception keeps a stray
/// garbage line inside real headers from eating them: when only header fields follow it up
/// to a blank line, the line is dropped (mail-parser's reading) and the headers stand.
pub(super) fn repair_header_separator(raw: &[u8]) -> Option<Vec<u8>> {
    let mut offset = 0;
    let mut seen_header = false;
    let mut body_start: Option<usize> = None;
    for (index, line) in raw.split(|&b| b == b'\n').enumerate() {
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        if offset + line.len() == raw.len() && text.is_empty() {
            // What follows the last line break is no line.
            break;
        }
        if text.is_empty() {
            // The real separator: a stray line before it was garbage inside the headers.
            return None;
        }
        let header = is_header_field(text) || (index == 0 && text.starts_with(b"From "));
        let continuation = seen_header && (text.starts_with(b" ") || text.starts_with(b"\t"));
        match body_start {
            None if header || continuation => seen_header = true,
            None if !seen_header => return None,
            None => body_start = Some(offset),
            Some(start) if !(header || continuation) => return Some(insert_blank_line(raw, start)),
            Some(_) => {}
        }
        offset += line.len() + 1;
    }
    // The mail ended inside what followed the first non-header line.
    body_start.map(|start| insert_blank_line(raw, start))
}

/// `name:` where name is printable US-ASCII without space or colon (RFC 5322 §2.2).
fn is_header_field(line: &[u8]) -> bool {
    let name_len = line.iter().take_while(|&&b| (0x21..=0x7e).contains(&b) && b != b':').count();
    name_len > 0 && line.get(name_len) == Some(&b':')
}

fn insert_blank_line(raw: &[u8], at: usize) -> Vec<u8> {
    let crlf = raw[..at].ends_with(b"\r\n");
    let mut repaired = Vec::with_capacity(raw.len() + 2);
    repaired.extend_from_slice(&raw[..at]);
    repaired.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    repaired.extend_from_slice(&raw[at..]);
    repaired
}

/// The root part when it says `multipart/*` but had no boundary to split on: mail-parser
/// keeps its body as one opaque part.
pub(super) fn boundaryless_root<'a>(message: &'a Message<'a>) -> Option<&'a MessagePart<'a>> {
    let root = message.root_part();
    let multipart = root.content_type().is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"));
    (multipart && !matches!(root.body, PartType::Multipart(_))).then_some(root)
}

/// The text of a part whose base64 mail-parser could not decode: the valid prefix, decoded
/// with the part's charset, and how many bytes were left undecoded. `None` for other parts.
pub(super) fn broken_base64_text(message: &Message<'_>, part: &MessagePart<'_>) -> Option<(String, usize)> {
    let base64 =
        part.content_transfer_encoding().is_some_and(|cte| cte.trim().eq_ignore_ascii_case("base64"));
    if !part.is_encoding_problem || !base64 {
        return None;
    }
    let raw = message.raw_message().get(part.offset_body as usize..part.offset_end as usize)?;
    let (bytes, undecoded) = decode_base64_prefix(raw);
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    let text = match charset.and_then(|c| charset_decoder(c.as_bytes())) {
        Some(decode) => decode(&bytes),
        None => String::from_utf8_lossy(&bytes).into_owned(),
    };
    Some((text, undecoded))
}

/// Decodes base64 up to the first byte that is neither base64 nor whitespace, or up to the
/// padding; returns the bytes and how many non-whitespace bytes followed unread.
pub(super) fn decode_base64_prefix(input: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut quantum: u32 = 0;
    let mut sextets = 0;
    let mut stop = input.len();
    for (index, &byte) in input.iter().enumerate() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => {
                stop = index;
                break;
            }
        };
        quantum = (quantum << 6) | u32::from(value);
        sextets += 1;
        if sextets == 4 {
            out.extend_from_slice(&quantum.to_be_bytes()[1..]);
            (quantum, sextets) = (0, 0);
        }
    }
    // A final partial quantum: two sextets carry one byte, three carry two.
    match sextets {
        2 => out.push((quantum >> 4) as u8),
        3 => out.extend_from_slice(&((quantum >> 2) as u16).to_be_bytes()),
        _ => {}
    }
    let rest = &input[stop..];
    let rest = &rest[rest.iter().take_while(|&&b| b == b'=' || b.is_ascii_whitespace()).count()..];
    (out, rest.iter().filter(|b| !b.is_ascii_whitespace()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_prefix_decodes_until_the_first_foreign_byte() {
        assert_eq!(decode_base64_prefix(b"SGVsbG8=\n"), (b"Hello".to_vec(), 0));
        assert_eq!(decode_base64_prefix(b"SGVs\r\nbG8h"), (b"Hello!".to_vec(), 0));
        assert_eq!(decode_base64_prefix(b"SGVsbG8=!! not base64"), (b"Hello".to_vec(), 11));
        assert_eq!(decode_base64_prefix(b"SGVs*bG8"), (b"Hel".to_vec(), 4));
        assert_eq!(decode_base64_prefix(b"SGk"), (b"Hi".to_vec(), 0));
        assert_eq!(decode_base64_prefix(b""), (Vec::new(), 0));
    }

    #[test]
    fn header_section_without_a_blank_line_ends_at_the_first_non_header_line() {
        let raw = b"From: a@b.example\nSubject: x\nHello, where is it?\nCan you check: it was due\n";
        let repaired = repair_header_separator(raw).expect("repaired");
        assert_eq!(
            repaired,
            b"From: a@b.example\nSubject: x\n\nHello, where is it?\nCan you check: it was due\n"
        );
        let crlf = b"From: a@b.example\r\nHello\r\n";
        assert_eq!(repair_header_separator(crlf).expect("repaired"), b"From: a@b.example\r\n\r\nHello\r\n");
    }

    #[test]
    fn well_formed_mail_and_a_stray_line_inside_real_headers_need_no_repair() {
        assert_eq!(repair_header_separator(b"From: a@b.example\nSubject: x\n\nbody\n"), None);
        assert_eq!(repair_header_separator(b"From: a@b.example\n no colon here\n\tfolded\n\nbody"), None);
        let stray = b"From: a@b.example\nThis line has no colon\nDate: Tue, 1 Apr 2025\n\nbody\n";
        assert_eq!(repair_header_separator(stray), None);
        assert_eq!(repair_header_separator(b"%PDF-1.4\nnot mail\n"), None);
        assert_eq!(repair_header_separator(b"From someone@x Tue Apr 1\nFrom: a@b.example\n\nbody"), None);
    }
}
