//! Inbound email, parsed into what the desk needs: who wrote, in which thread, the new text
//! (without the quoted history), the attachments, and the signals that say whether a machine
//! wrote it. Pure: the email channel function reads the raw message from S3 and hands the bytes
//! here; storing attachments and deciding on tickets happen elsewhere.
//!
//! MIME structure, transfer encodings and charsets (GB2312/GBK/GB18030, Big5, ISO-2022-JP, the
//! ISO-8859 and Windows code pages, RFC 2047 words, RFC 2231 parameters) are `mail-parser`'s
//! job. This module chooses among its parts and normalises what it returns. No input panics:
//! malformed mail gives a best-effort [`ParsedEmail`] or an [`EmailError`] that says why not.
//!
//! Attachment bytes are not part of [`ParsedEmail`] (it is stored and queued as JSON);
//! [`parse_with_attachments`] returns them beside it, in the same order, for the blob store.

mod bounce;
pub mod compose;
mod headers;
mod html;
mod language;
mod lenient;
pub mod loop_guard;
mod parts;
mod quote;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use html::html_to_text;
pub use lenient::Repair;
pub use loop_guard::{Refusal, check_auto_reply};
pub(crate) use parts::clean_filename;
pub use quote::split_quoted;

/// SES accepts inbound mail up to 40 MB; anything larger did not come through SES.
pub const MAX_RAW_BYTES: usize = 40 * 1024 * 1024;
/// More attachments than this is not a customer writing; the raw mail stays in S3.
pub const MAX_ATTACHMENTS: usize = 100;
/// The new text and the quoted history are each cut to this many bytes (at a character
/// boundary), as a chat message is; the full text stays in the raw mail.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// To, Cc and Reply-To keep this many mailboxes each; a support answer needs no more.
pub const MAX_RECIPIENTS: usize = 100;
/// Subjects and display names are cut to the length of a header line (RFC 5322 §2.1.1).
pub const MAX_FIELD_BYTES: usize = 998;
/// Threading needs the root and the recent ids; a References header of 2,000 ids is kept as
/// its first id and the last `MAX_REFERENCES - 1` ones, as RFC 5322 §3.6.4 suggests trimming.
pub const MAX_REFERENCES: usize = 100;

/// Why a raw message could not be parsed. Messages carry no addresses: errors are logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("message is empty")]
    Empty,
    #[error("message of {size} bytes is over the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("not an email message: no header fields found")]
    NotAMessage,
    #[error("message has no From address")]
    MissingFrom,
    #[error("From is not a usable email address")]
    InvalidFrom,
    #[error("message has {count} attachments, over the limit of {max}")]
    TooManyAttachments { count: usize, max: usize },
}

impl EmailError {
    /// A short name for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            EmailError::Empty => "empty",
            EmailError::TooLarge { .. } => "too_large",
            EmailError::NotAMessage => "not_a_message",
            EmailError::MissingFrom => "missing_from",
            EmailError::InvalidFrom => "invalid_from",
            EmailError::TooManyAttachments { .. } => "too_many_attachments",
        }
    }
}

/// One inbound email, as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedEmail {
    /// The first From mailbox.
    pub from: Mailbox,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Decoded subject, empty when the header is missing.
    pub subject: String,
    /// Without angle brackets; the idempotency key of the email channel (ARCHITECTURE.md §5).
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    /// At most [`MAX_REFERENCES`] ids, oldest first.
    pub references: Vec<String>,
    /// The Date header, when it parses.
    pub date: Option<Timestamp>,
    /// A lowercase primary language tag: the first Content-Language when present, else guessed
    /// from the script of the new text: `zh` when mostly CJK (`ja`/`ko` for mostly kana/Hangul),
    /// otherwise `en`.
    pub language: String,
    /// What the sender wrote in this message, as plain text.
    pub text: String,
    /// The quoted history split off the text: `>` lines, attributions and reply header blocks,
    /// and all after them (see [`split_quoted`]). Empty for a forward (`Fwd:` subject): what is
    /// forwarded is what the customer wants read.
    pub quoted: String,
    /// Either text was cut to [`MAX_TEXT_BYTES`].
    pub text_truncated: bool,
    pub attachments: Vec<Attachment>,
    pub automation: Automation,
    /// Present when the message is a delivery status notification.
    pub bounce: Option<Bounce>,
    /// What the lenient reading repaired to read a malformed mail, in the order met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<Repair>,
}

/// An address with its display name. The address is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub address: String,
    pub name: Option<String>,
}

/// A file that came with the message. Its bytes come from [`parse_with_attachments`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Decoded and stripped of any path; `attachment-N.ext` when the sender gave none.
    pub filename: String,
    /// `type/subtype`, lower-case, without parameters.
    pub content_type: String,
    /// Bytes after transfer decoding. Text parts are kept as UTF-8, whatever their charset.
    pub size: u64,
    /// Without angle brackets, for `cid:` references in the HTML.
    pub content_id: Option<String>,
    /// Meant to be shown in the body rather than offered as a download.
    pub inline: bool,
    /// Lower-case hex SHA-256 of the bytes: a content address for the blob store.
    pub sha256: String,
}

/// The bytes of one attachment, in the order of [`ParsedEmail::attachments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentBytes {
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Header fields that say a machine or a list sent the message; see [`loop_guard`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Automation {
    /// Auto-Submitted (RFC 3834), lower-cased, e.g. `auto-replied`.
    pub auto_submitted: Option<String>,
    /// Precedence, lower-cased, e.g. `bulk`.
    pub precedence: Option<String>,
    /// The List-Id identifier, without the description and brackets.
    pub list_id: Option<String>,
    pub list_unsubscribe: bool,
    pub x_autoreply: bool,
    pub x_autorespond: bool,
    /// Return-Path without brackets; `Some("")` for the null sender `<>` of bounces.
    pub return_path: Option<String>,
    /// `report-type` of a `multipart/report` (delivery-status, disposition-notification).
    pub report_type: Option<String>,
    /// X-Auto-Response-Suppress, lower-cased, e.g. `all` or `dr, rn, nrn, oof, autoreply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_response_suppress: Option<String>,
    /// X-MS-Exchange-Inbox-Rules-Loop: an Exchange inbox rule (auto-reply, forward) sent it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exchange_rules_loop: bool,
    /// X-MS-Exchange-Generated-Message-Source, e.g. `Mailbox Rules Agent`: Exchange made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_generated_by: Option<String>,
}

/// A delivery status notification (RFC 3464): which recipients failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    pub reporting_mta: Option<String>,
    pub recipients: Vec<BounceRecipient>,
    /// The Message-ID of the mail that bounced, from the copy or the headers of it that the
    /// report encloses: whether it is one the desk sent is what makes the report believable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BounceRecipient {
    /// Final-Recipient (else Original-Recipient), without the `rfc822;` type, lower-cased.
    pub address: String,
    pub original_recipient: Option<String>,
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`, lower-cased.
    pub action: Option<String>,
    /// Enhanced status code, e.g. `5.1.1`.
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

impl Bounce {
    /// Recipients the mail will never reach (`Action: failed`).
    pub fn failed(&self) -> impl Iterator<Item = &BounceRecipient> {
        self.recipients.iter().filter(|r| r.action.as_deref() == Some("failed"))
    }
}

/// Parses a raw RFC 5322 message.
pub fn parse(raw: &[u8]) -> Result<ParsedEmail, EmailError> {
    parse_inner(raw, false).map(|(email, _)| email)
}

/// Like [`parse`], and also returns each attachment's bytes, in the order of
/// [`ParsedEmail::attachments`], for the caller to store (keyed by `sha256`).
pub fn parse_with_attachments(raw: &[u8]) -> Result<(ParsedEmail, Vec<AttachmentBytes>), EmailError> {
    parse_inner(raw, true)
}

fn parse_inner(raw: &[u8], keep_bytes: bool) -> Result<(ParsedEmail, Vec<AttachmentBytes>), EmailError> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(EmailError::TooLarge { size: raw.len(), max: MAX_RAW_BYTES });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(EmailError::Empty);
    }
    let repaired = lenient::repair_header_separator(raw);
    let raw = repaired.as_deref().unwrap_or(raw);
    let message = mail_parser::MessageParser::default().parse(raw).ok_or(EmailError::NotAMessage)?;
    if message.parts.is_empty() || message.headers().is_empty() {
        return Err(EmailError::NotAMessage);
    }

    let from = headers::from(&message)?;
    let (attachments, bytes) = parts::attachments(&message, keep_bytes)?;
    let (body, mut repairs) = parts::body_text(&message);
    if repaired.is_some() {
        repairs.insert(0, Repair::MissingHeaderSeparator);
    }
    let body = strip_control_chars(body);
    let subject = headers::subject(&message);
    let forward = quote::is_forward_subject(&subject);
    let (text, quoted) = if forward { (body.trim().to_string(), String::new()) } else { split_quoted(&body) };
    let (text, text_cut) = truncate(text, MAX_TEXT_BYTES);
    let (quoted, quoted_cut) = truncate(quoted, MAX_TEXT_BYTES);
    let language =
        headers::content_language(&message).unwrap_or_else(|| language::guess(&text, &subject).to_string());

    let email = ParsedEmail {
        from,
        reply_to: headers::mailboxes(message.reply_to()),
        to: headers::mailboxes(message.to()),
        cc: headers::mailboxes(message.cc()),
        subject,
        message_id: headers::message_id(&message),
        in_reply_to: headers::in_reply_to(&message),
        references: headers::references(&message),
        date: headers::date(&message),
        language,
        text,
        quoted,
        text_truncated: text_cut || quoted_cut,
        attachments,
        automation: headers::automation(&message),
        bounce: bounce::from_message(&message),
        repairs,
    };
    Ok((email, bytes))
}

/// Without C0 control characters other than newline and tab: they mean nothing in a text an
/// agent reads, and each would cost six bytes as a JSON escape in the queue message.
fn strip_control_chars(text: String) -> String {
    if !text.chars().any(is_stripped_control) {
        return text;
    }
    text.chars().filter(|c| !is_stripped_control(*c)).collect()
}

fn is_stripped_control(c: char) -> bool {
    c < ' ' && c != '\n' && c != '\t'
}

/// `text` cut to at most `max` bytes at a character boundary.
fn clip(text: &str, max: usize) -> String {
    truncate(text.to_string(), max).0
}

/// Cuts `text` to at most `max` bytes at a character boundary; says whether it did.
fn truncate(mut text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}
