//! Header fields, normalised: addresses lower-cased, ids without brackets, the date as an
//! instant. `mail-parser` has already unfolded and decoded them (RFC 2047).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use mail_parser::{Address, HeaderName, HeaderValue, Message, MimeHeaders};

use super::{Automation, EmailError, MAX_FIELD_BYTES, MAX_RECIPIENTS, MAX_REFERENCES, Mailbox, clip};
use crate::model::Identity;
use crate::text;

/// 64 bytes of local part, `@`, 255 of domain (RFC 5321 §4.5.3.1).
const MAX_ADDRESS_BYTES: usize = 320;
/// Real message ids are well under this; longer ones are dropped rather than used as keys.
const MAX_ID_BYTES: usize = 255;

/// The first usable From mailbox. A message without one cannot be answered.
pub(super) fn from(message: &Message<'_>) -> Result<Mailbox, EmailError> {
    let Some(address) = message.from() else {
        return Err(if message.header(HeaderName::From).is_some() {
            EmailError::InvalidFrom
        } else {
            EmailError::MissingFrom
        });
    };
    mailboxes(Some(address)).into_iter().next().ok_or(EmailError::InvalidFrom)
}

/// Every mailbox with a valid address, groups flattened, at most [`MAX_RECIPIENTS`].
pub(super) fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else { return Vec::new() };
    let addrs: Vec<_> = match address {
        Address::List(list) => list.iter().collect(),
        Address::Group(groups) => groups.iter().flat_map(|g| g.addresses.iter()).collect(),
    };
    addrs
        .into_iter()
        .filter_map(|addr| {
            let raw = addr.address.as_deref()?;
            let Ok(Identity::Email { address }) = Identity::email(raw) else { return None };
            if address.len() > MAX_ADDRESS_BYTES {
                return None;
            }
            Some(Mailbox { address, name: display_name(addr.name.as_deref()) })
        })
        .take(MAX_RECIPIENTS)
        .collect()
}

/// Cleaned by the desk's one sanitiser and cut to [`text::MAX_NAME_CHARS`]; `None` when
/// nothing visible is left.
fn display_name(name: Option<&str>) -> Option<String> {
    text::name(name?.trim().trim_matches('"'))
}

pub(super) fn subject(message: &Message<'_>) -> String {
    message.subject().map(|s| clip(&text::line(s), MAX_FIELD_BYTES)).unwrap_or_default()
}

pub(super) fn message_id(message: &Message<'_>) -> Option<String> {
    message.message_id().and_then(clean_id)
}

pub(super) fn in_reply_to(message: &Message<'_>) -> Vec<String> {
    ids(message.in_reply_to())
}

/// References, trimmed to the thread root and the most recent ids.
pub(super) fn references(message: &Message<'_>) -> Vec<String> {
    let mut refs = ids(message.references());
    if refs.len() > MAX_REFERENCES {
        let tail = refs.split_off(refs.len() - (MAX_REFERENCES - 1));
        refs.truncate(1);
        refs.extend(tail);
    }
    refs
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => clean_id(id).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn clean_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && id.len() <= MAX_ID_BYTES && !id.chars().any(char::is_whitespace))
        .then(|| id.to_string())
}

/// The Date header as an instant; `None` when missing or not a real date.
pub(super) fn date(message: &Message<'_>) -> Option<Timestamp> {
    let d = message.date()?;
    if !d.is_valid() {
        return None;
    }
    let civil = DateTime::new(
        i16::try_from(d.year).ok()?,
        i8::try_from(d.month).ok()?,
        i8::try_from(d.day).ok()?,
        i8::try_from(d.hour).ok()?,
        i8::try_from(d.minute).ok()?,
        i8::try_from(d.second).ok()?,
        0,
    )
    .ok()?;
    let seconds = i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60;
    let offset = Offset::from_seconds(if d.tz_before_gmt { -seconds } else { seconds }).ok()?;
    civil.to_zoned(TimeZone::fixed(offset)).ok().map(|z| z.timestamp())
}

/// The primary subtag of the first Content-Language tag (message, else first text part).
pub(super) fn content_language(message: &Message<'_>) -> Option<String> {
    let from_part = message.text_part(0).map(|part| part.content_language());
    [message.root_part().content_language()].into_iter().chain(from_part).find_map(|value| {
        let tag = match value {
            HeaderValue::Text(tag) => tag.as_ref(),
            HeaderValue::TextList(tags) => tags.first()?.as_ref(),
            _ => return None,
        };
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        let valid = (2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
        valid.then_some(primary)
    })
}

/// The loop and automation signals, read from the raw header fields.
pub(super) fn automation(message: &Message<'_>) -> Automation {
    let field = |name: &str| first_raw(message, name);
    Automation {
        auto_submitted: field("Auto-Submitted").map(|v| v.to_ascii_lowercase()),
        precedence: field("Precedence").map(|v| v.to_ascii_lowercase()),
        list_id: field("List-Id").map(|v| list_id(&v)),
        list_unsubscribe: field("List-Unsubscribe").is_some(),
        x_autoreply: field("X-Autoreply").is_some(),
        x_autorespond: field("X-Autorespond").is_some(),
        return_path: field("Return-Path").map(|v| return_path(&v)),
        report_type: report_type(message),
        auto_response_suppress: field("X-Auto-Response-Suppress")
            .map(|v| clip(&v, MAX_FIELD_BYTES).to_ascii_lowercase()),
        exchange_rules_loop: field("X-MS-Exchange-Inbox-Rules-Loop").is_some(),
        exchange_generated_by: field("X-MS-Exchange-Generated-Message-Source")
            .map(|v| clip(&v, MAX_FIELD_BYTES)),
    }
}

/// The first field of that name, unfolded and trimmed. Empty fields count as present.
fn first_raw(message: &Message<'_>, name: &str) -> Option<String> {
    message.headers_raw().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, value)| unfold(value))
}

fn unfold(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Shop sellers <sellers.lists.example>` → `sellers.lists.example`.
fn list_id(value: &str) -> String {
    match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => value[open + 1..close].trim().to_string(),
        _ => value.trim().to_string(),
    }
}

/// `<bounces@x.example>` → `bounces@x.example`; `<>` → empty.
fn return_path(value: &str) -> String {
    let value = match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    value.trim().to_ascii_lowercase()
}

fn report_type(message: &Message<'_>) -> Option<String> {
    let content_type = message.root_part().content_type()?;
    let is_report = content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"));
    is_report.then(|| {
        content_type.attribute("report-type").map(|t| t.trim().to_ascii_lowercase()).unwrap_or_default()
    })
}

#[cfg(test)]
mod hygiene_tests {
    use crate::email::parse;

    #[test]
    fn input_hygiene_subjects_and_display_names_lose_control_and_bidi_characters() {
        // RFC 2047 lets a sender put any character into a header, controls and overrides too.
        let raw = "From: =?UTF-8?Q?Anna_=E2=80=AE_Admin=07?= <anna@example.com>\r\n\
                   Cc: =?UTF-8?Q?=E2=80=8B=E2=81=A6?= <bob@example.com>\r\n\
                   To: support@desk.example\r\n\
                   Subject: =?UTF-8?Q?Refund=E2=80=AEtxt.exe_=1B[31m_now?=\r\n\r\nhello\r\n";
        let parsed = parse(raw.as_bytes()).unwrap();
        assert_eq!(parsed.subject, "Refundtxt.exe [31m now");
        assert_eq!(parsed.from.name.as_deref(), Some("Anna  Admin"));
        assert_eq!(parsed.cc[0].name, None, "an invisible-only name is no name");
        let long = format!("From: {} <anna@example.com>\r\nSubject: x\r\n\r\nhi", "A".repeat(500));
        let parsed = parse(long.as_bytes()).unwrap();
        assert_eq!(parsed.from.name.map(|n| n.chars().count()), Some(crate::text::MAX_NAME_CHARS));
    }
}
