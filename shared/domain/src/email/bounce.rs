//! Delivery status notifications (RFC 3464): a `multipart/report; report-type=delivery-status`
//! whose `message/delivery-status` part lists, per recipient, what happened. Exim-style
//! bounces without one still name the failed addresses in `X-Failed-Recipients`.

use mail_parser::{Message, MimeHeaders, PartType};

use super::headers::clean_id;
use super::{Bounce, BounceRecipient, MAX_FIELD_BYTES, clip};

/// A DSN lists a few recipients; more than this is not worth keeping.
const MAX_BOUNCE_RECIPIENTS: usize = 100;

pub(super) fn from_message(message: &Message<'_>) -> Option<Bounce> {
    let report = message.parts.iter().find(|part| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct.subtype().is_some_and(|s| {
                    s.eq_ignore_ascii_case("delivery-status")
                        || s.eq_ignore_ascii_case("global-delivery-status")
                })
        })
    });
    let mut bounce = match report {
        Some(part) => parse_delivery_status(&String::from_utf8_lossy(part.contents())),
        None => failed_recipients_header(message)?,
    };
    bounce.original_message_id = original_message_id(message);
    Some(bounce)
}

/// The Message-ID of the returned mail: from an enclosed `message/rfc822` (RFC 3464 §2), an
/// enclosed `text/rfc822-headers` (RFC 6522), or, for Exim-style bounces that paste the copy
/// into their text, the first `Message-ID:` line of the body.
fn original_message_id(message: &Message<'_>) -> Option<String> {
    let is = |part: &mail_parser::MessagePart<'_>, ctype: &str, subtypes: &[&str]| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case(ctype)
                && ct.subtype().is_some_and(|s| subtypes.iter().any(|t| s.eq_ignore_ascii_case(t)))
        })
    };
    // The report's own root part is skipped: its Message-ID is the report's.
    let enclosed = message.parts.iter().skip(1).find_map(|part| {
        if let PartType::Message(copy) = &part.body {
            return copy.message_id().and_then(clean_id);
        }
        let headers = is(part, "text", &["rfc822-headers"]) || is(part, "message", &["rfc822-headers"]);
        headers.then(|| message_id_line(&String::from_utf8_lossy(part.contents()))).flatten()
    });
    enclosed.or_else(|| {
        message.text_body.iter().filter_map(|&id| message.part(id)).find_map(|part| match &part.body {
            PartType::Text(text) => message_id_line(text),
            _ => None,
        })
    })
}

fn message_id_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("message-id").then(|| clean_id(value)).flatten()
    })
}

/// The per-message block, then one block per recipient, separated by blank lines.
fn parse_delivery_status(body: &str) -> Bounce {
    let body = body.replace("\r\n", "\n");
    let blocks: Vec<_> = body.split("\n\n").map(fields).collect();
    let reporting_mta = blocks.iter().find_map(|block| value(block, "reporting-mta")).map(strip_type);
    // The per-message block has no recipient fields, so it drops out here.
    let recipients = blocks
        .iter()
        .filter_map(|block| {
            let final_recipient = value(block, "final-recipient").map(address);
            let original_recipient = value(block, "original-recipient").map(address);
            Some(BounceRecipient {
                address: final_recipient.or_else(|| original_recipient.clone())?,
                original_recipient,
                action: value(block, "action").map(|a| a.to_ascii_lowercase()),
                status: value(block, "status").map(str::to_string),
                diagnostic: value(block, "diagnostic-code").map(|d| clip(d, MAX_FIELD_BYTES)),
            })
        })
        .take(MAX_BOUNCE_RECIPIENTS)
        .collect();
    Bounce { reporting_mta, recipients, original_message_id: None }
}

/// `Name: value` fields of one block, continuation lines unfolded, names lower-cased.
fn fields(block: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    fields
}

fn value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// `rfc822; someone@example.com` → `someone@example.com`; `dns; mx.example` → `mx.example`.
fn strip_type(value: &str) -> String {
    value.split_once(';').map_or(value, |(_, v)| v).trim().to_string()
}

fn address(value: &str) -> String {
    strip_type(value).trim_start_matches('<').trim_end_matches('>').to_lowercase()
}

fn failed_recipients_header(message: &Message<'_>) -> Option<Bounce> {
    let (_, raw) =
        message.headers_raw().find(|(name, _)| name.eq_ignore_ascii_case("X-Failed-Recipients"))?;
    let recipients: Vec<BounceRecipient> = raw
        .split(',')
        .map(address)
        .filter(|a| a.contains('@'))
        .take(MAX_BOUNCE_RECIPIENTS)
        .map(|address| BounceRecipient {
            address,
            original_recipient: None,
            action: Some("failed".to_string()),
            status: None,
            diagnostic: None,
        })
        .collect();
    (!recipients.is_empty()).then_some(Bounce { reporting_mta: None, recipients, original_message_id: None })
}
