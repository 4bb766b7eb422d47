//! The `email-inbound` edge. SES receives a mail, stores the raw message in S3 (receipt rule
//! action 1) and invokes the function with headers and verdicts but no body (action 2). Here:
//! verdicts are checked, the raw message is read from the blob store and parsed, attachments
//! are stored under the mail's receipt, and one `InboundMessage` goes to the inbound queue. The router
//! does the rest (threading, dedupe, acknowledgement); this edge writes no ticket state.
//!
//! Every step is idempotent (an attachment's key is its receipt and content hash, the queue
//! message is keyed by sender and Message-ID downstream), so Lambda's retries of an
//! asynchronous invocation are safe.
//!
//! Every mail is accounted for: it is queued (as a customer message, a bounce, or, when it
//! cannot be read, as an "unreadable" message that opens a ticket with the raw mail attached),
//! or dropped for a spam verdict, or the invocation fails and is retried.

use std::sync::Arc;

use aws_lambda_events::ses::{SimpleEmailEvent, SimpleEmailRecord};
use omnidesk_domain::email::{self, AttachmentBytes, EmailError, ParsedEmail, Repair, check_auto_reply};
use omnidesk_domain::envelope::seal;
use omnidesk_domain::inbound::{EmailSource, InboundMessage, InboundPointer, Sender, Source, Vouched};
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::mail_auth::{MailAuth, Verdict};
use omnidesk_domain::model::AttachmentRef;
use omnidesk_domain::ports::{BlobStore, Clock, Queue, QueueError, StoreError};

use sha2::{Digest, Sha256};

use crate::config::EmailConfig;

/// Where SES's S3 action puts raw mail, before the SES message id.
pub const RAW_MAIL_PREFIX: &str = "inbound/";
/// Where attachments are kept: `attachments/<receipt id>/<sha256 of the bytes>`. Per received
/// mail, not per content: two customers who send the same file get an object each, so erasing
/// one never deletes the other's (a file repeated within one mail is stored once).
pub const ATTACHMENT_PREFIX: &str = "attachments/";
/// Where attachments of mail that did not pass the virus scan are kept, apart, so a bucket
/// policy can keep them from ever being read by anything but an investigation.
pub const QUARANTINE_PREFIX: &str = "quarantine/";
/// Where inbound messages too large for the queue wait for the router.
pub const QUEUED_PREFIX: &str = "queued/";
/// A queue message larger than this goes to the blob store and the queue carries a pointer:
/// SQS takes 256 KiB including attributes, and a mail can carry 64 KiB of text, its quoted
/// history's worth of references and hundreds of recipients and attachment names.
pub const MAX_INLINE_QUEUE_BYTES: usize = 192 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum EmailInboundError {
    /// The raw message is not (yet) in the bucket: SES writes it before invoking, so this is
    /// worth a retry, and after Lambda's retries the event goes to the function's DLQ.
    #[error("raw message {0} not found")]
    RawMissing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What SES says about a mail, as far as the desk cares. A verdict SES did not give is no
/// pass: the default is an unauthenticated mail whose attachments are quarantined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdicts {
    pub spam_failed: bool,
    /// The virus scan; anything but PASS quarantines the attachments.
    pub virus: Option<Verdict>,
    /// DMARC, SPF and DKIM: whether the From is believed.
    pub auth: MailAuth,
}

impl Verdicts {
    /// Every check passed: what the local desk assumes of mail handed to it directly (it has
    /// no receiver to check; tests simulate other verdicts explicitly).
    pub fn passed() -> Self {
        Self { spam_failed: false, virus: Some(Verdict::Pass), auth: MailAuth::passed() }
    }

    pub fn virus_passed(&self) -> bool {
        self.virus == Some(Verdict::Pass)
    }
}

/// One received mail, however it arrived (SES event, local `POST /local/email`, watched folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// SES's id for it: the fallback idempotency key when the mail has no Message-ID.
    pub receipt_id: String,
    /// Blob store key of the raw message.
    pub raw_key: String,
    pub verdicts: Verdicts,
}

/// What happened to one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Queued for the router under this idempotency key.
    Queued { key: String, bounce: bool, attachments_dropped: usize },
    /// Spam: no ticket; the raw message stays in S3 for its lifecycle.
    Dropped(&'static str),
    /// Not a usable message (no From, not mail at all): queued under this key as an
    /// "unreadable" message, which opens a ticket with the raw mail attached.
    Unreadable { key: String, reason: String },
}

pub struct EmailInbound {
    config: EmailConfig,
    blobs: Arc<dyn BlobStore>,
    inbound: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
}

impl EmailInbound {
    pub fn new(
        config: EmailConfig,
        blobs: Arc<dyn BlobStore>,
        inbound: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { config, blobs, inbound, clock }
    }

    /// The Lambda entry: every record, in order. An error fails the invocation, and Lambda
    /// retries it; records done before it are done again harmlessly.
    pub async fn handle(&self, event: SimpleEmailEvent) -> Result<Vec<Ingested>, EmailInboundError> {
        let mut results = Vec::with_capacity(event.records.len());
        for record in &event.records {
            results.push(self.ingest(&received_from_record(record)).await?);
        }
        Ok(results)
    }

    /// For callers that hold the raw bytes (the local desk): stores them where SES would and
    /// ingests them as if every check passed.
    pub async fn ingest_raw(&self, receipt_id: &str, raw: Vec<u8>) -> Result<Ingested, EmailInboundError> {
        self.ingest_raw_with(receipt_id, raw, Verdicts::passed()).await
    }

    /// [`EmailInbound::ingest_raw`] with the verdicts a receiver would have given.
    pub async fn ingest_raw_with(
        &self,
        receipt_id: &str,
        raw: Vec<u8>,
        verdicts: Verdicts,
    ) -> Result<Ingested, EmailInboundError> {
        let raw_key = format!("{RAW_MAIL_PREFIX}{receipt_id}");
        self.blobs.put(&raw_key, raw, "message/rfc822").await?;
        let mail = ReceivedMail { receipt_id: receipt_id.to_owned(), raw_key, verdicts };
        self.ingest(&mail).await
    }

    pub async fn ingest(&self, mail: &ReceivedMail) -> Result<Ingested, EmailInboundError> {
        if mail.verdicts.spam_failed {
            tracing::warn!(receipt = %mail.receipt_id, verdict = "spam", "email.dropped");
            return Ok(Ingested::Dropped("spam"));
        }
        let raw = self
            .blobs
            .get(&mail.raw_key)
            .await?
            .ok_or_else(|| EmailInboundError::RawMissing(mail.raw_key.clone()))?;
        let (parsed, bytes) = match email::parse_with_attachments(&raw) {
            Ok(parsed) => parsed,
            Err(error) => return self.ingest_unreadable(mail, raw, &error).await,
        };
        let quarantine = !mail.verdicts.virus_passed();
        if quarantine {
            tracing::warn!(receipt = %mail.receipt_id, "email.quarantined");
        }
        let (attachments, dropped) =
            self.store_attachments(&mail.receipt_id, &parsed, bytes, quarantine).await?;
        let message = self.inbound_message(mail, &parsed, attachments, &dropped);
        let key = message.idempotency_key.clone();
        let bounce = message.is_bounce();
        self.enqueue(&message).await?;
        tracing::info!(receipt = %mail.receipt_id, key = %Hashed(&key), bounce, attachments_dropped = dropped.len(), "email.queued");
        Ok(Ingested::Queued { key, bounce, attachments_dropped: dropped.len() })
    }

    /// A mail the desk cannot read still reaches an agent: the raw mail is kept as an
    /// attachment and queued as an unreadable message, which opens a ticket. The
    /// `email.unreadable` event feeds the `EmailUnreadable` metric and its alarm.
    async fn ingest_unreadable(
        &self,
        mail: &ReceivedMail,
        raw: Vec<u8>,
        error: &EmailError,
    ) -> Result<Ingested, EmailInboundError> {
        tracing::warn!(receipt = %mail.receipt_id, reason = error.code(), %error, "email.unreadable");
        let key = InboundMessage::unreadable_email_idempotency_key(&raw);
        let (_, digest) = key.rsplit_once(':').unwrap_or(("", key.as_str()));
        // A mail that failed the virus scan stays apart, like its attachments would.
        let quarantined = !mail.verdicts.virus_passed();
        let prefix = if quarantined { QUARANTINE_PREFIX } else { ATTACHMENT_PREFIX };
        let original = AttachmentRef {
            key: blob_key(prefix, &mail.receipt_id, digest),
            name: "original.eml".to_owned(),
            content_type: "message/rfc822".to_owned(),
            size: raw.len() as u64,
            content_id: None,
            inline: false,
            quarantined,
        };
        // Kept per received mail like every attachment: raw mail under inbound/ expires, this
        // stays until the ticket's customer is erased.
        self.blobs.put(&original.key, raw, &original.content_type).await?;
        let message = InboundMessage {
            idempotency_key: key.clone(),
            source: Source::Email(EmailSource {
                mailbox: self.config.address.to_lowercase(),
                message_id: format!("{digest}@unreadable.{}", self.domain()),
                subject: "Unreadable mail".to_owned(),
                language: String::new(),
                raw_key: Some(mail.raw_key.clone()),
                unreadable: Some(error.to_string()),
                ..EmailSource::default()
            }),
            sender: Sender::default(),
            text: format!(
                "The desk could not read this mail ({error}). The original is attached as \
                 original.eml: open it to see who wrote and what, then merge this ticket's \
                 placeholder customer into theirs."
            ),
            attachments: vec![original],
            sent_at: None,
            received_at: self.clock.now(),
        };
        self.enqueue(&message).await?;
        Ok(Ingested::Unreadable { key, reason: error.to_string() })
    }

    /// Queues `message`, or, when it is too large for a queue message, keeps it in the blob
    /// store and queues a pointer to it.
    async fn enqueue(&self, message: &InboundMessage) -> Result<(), EmailInboundError> {
        let sealed = seal(message);
        if sealed.body.len() <= MAX_INLINE_QUEUE_BYTES {
            self.inbound.send(sealed).await?;
            return Ok(());
        }
        // Named after the idempotency key (a hash for mail), so a retry overwrites itself.
        let key = format!("{QUEUED_PREFIX}{}.json", message.idempotency_key.replace(':', "-"));
        let size = sealed.body.len();
        self.blobs.put(&key, sealed.body.into_bytes(), "application/json").await?;
        tracing::info!(size, "email.queued_by_pointer");
        self.inbound.send(seal(&InboundPointer { key })).await?;
        Ok(())
    }

    fn domain(&self) -> String {
        let (_, domain) = self.config.address.rsplit_once('@').unwrap_or(("", "desk.invalid"));
        domain.to_lowercase()
    }

    /// Keeps the attachments within the configured limits; returns references to them and a
    /// line for each one dropped. Quarantined ones are kept apart and marked.
    async fn store_attachments(
        &self,
        receipt_id: &str,
        parsed: &ParsedEmail,
        bytes: Vec<AttachmentBytes>,
        quarantine: bool,
    ) -> Result<(Vec<AttachmentRef>, Vec<String>), StoreError> {
        let prefix = if quarantine { QUARANTINE_PREFIX } else { ATTACHMENT_PREFIX };
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for (attachment, data) in parsed.attachments.iter().zip(bytes) {
            if kept.len() >= self.config.max_attachments {
                dropped.push(format!(
                    "{} (more than {} attachments)",
                    attachment.filename, self.config.max_attachments
                ));
                continue;
            }
            if attachment.size > self.config.max_attachment_bytes {
                dropped.push(format!(
                    "{} ({} bytes, over the limit of {})",
                    attachment.filename, attachment.size, self.config.max_attachment_bytes
                ));
                continue;
            }
            let key = blob_key(prefix, receipt_id, &attachment.sha256);
            self.blobs.put(&key, data.bytes, &attachment.content_type).await?;
            kept.push(AttachmentRef {
                key,
                name: attachment.filename.clone(),
                content_type: attachment.content_type.clone(),
                size: attachment.size,
                content_id: attachment.content_id.clone(),
                inline: attachment.inline,
                quarantined: quarantine,
            });
        }
        Ok((kept, dropped))
    }

    fn inbound_message(
        &self,
        mail: &ReceivedMail,
        parsed: &ParsedEmail,
        attachments: Vec<AttachmentRef>,
        dropped: &[String],
    ) -> InboundMessage {
        let message_id = match &parsed.message_id {
            Some(id) => id.clone(),
            // The same mail delivered twice (two receipts) has the same content: a stand-in
            // from it dedupes where SES's receipt id would not. Never a real Message-ID.
            None => format!("{}@content.{}", content_digest(parsed), self.domain()),
        };
        let recipients = || parsed.to.iter().chain(&parsed.cc).map(|m| m.address.as_str());
        let mailbox = recipients()
            .find(|a| self.config.is_own(a))
            .map(base_address)
            .unwrap_or_else(|| self.config.address.to_lowercase());
        let reply_token = recipients().find_map(|a| self.config.reply_token(a)).map(str::to_owned);
        let sender = parsed.from.address.as_str();
        let cc: Vec<String> =
            recipients().filter(|a| !self.config.is_own(a) && *a != sender).map(str::to_owned).collect();
        let automatic =
            check_auto_reply(parsed, &self.config.own_addresses()).err().map(|r| format!("{r:?}"));
        let bounce = parsed.bounce.as_ref().map(|b| b.failed().map(|r| r.address.clone()).collect());
        // What a bounce says it is about; the router checks these against mail it sent.
        let bounce_refers_to = match &parsed.bounce {
            Some(report) => report
                .original_message_id
                .iter()
                .chain(&parsed.in_reply_to)
                .chain(parsed.references.iter().rev())
                .take(MAX_BOUNCE_REFERENCES)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let mut text = parsed.text.clone();
        if !dropped.is_empty() {
            text.push_str(&format!("\n\n[omnidesk: not kept: {}]", dropped.join("; ")));
        }
        for repair in &parsed.repairs {
            if let Repair::InvalidBase64 { undecoded_bytes } = repair {
                text.push_str(&format!(
                    "\n\n[omnidesk: {undecoded_bytes} bytes of this mail were not valid base64 and are \
                     not shown; the original mail is kept]"
                ));
            }
        }
        let received_at = self.clock.now();
        InboundMessage {
            idempotency_key: InboundMessage::email_idempotency_key(sender, &message_id),
            source: Source::Email(EmailSource {
                mailbox,
                message_id,
                in_reply_to: parsed.in_reply_to.clone(),
                references: parsed.references.clone(),
                subject: parsed.subject.clone(),
                cc,
                reply_token,
                language: parsed.language.clone(),
                automatic,
                auth: mail.verdicts.auth,
                quarantined: !mail.verdicts.virus_passed(),
                raw_key: Some(mail.raw_key.clone()),
                bounce,
                bounce_refers_to,
                unreadable: None,
            }),
            // Only an authenticated From is an identity; otherwise it is a hint (and still
            // where answers go).
            sender: Sender { name: parsed.from.name.clone(), ..Sender::default() }.with_contact(
                Some(sender.to_owned()),
                None,
                if mail.verdicts.auth.authenticated() { Vouched::Yes } else { Vouched::No },
            ),
            text,
            attachments,
            // The Date header orders the thread (the router clamps it to arrival).
            sent_at: Some(parsed.date.unwrap_or(received_at)),
            received_at,
        }
    }
}

/// The blob key of an attachment of the mail received as `receipt_id`.
pub fn attachment_key(receipt_id: &str, sha256: &str) -> String {
    blob_key(ATTACHMENT_PREFIX, receipt_id, sha256)
}

/// `<prefix><receipt id>/<sha256>`: attachments, or quarantined ones, of one received mail.
fn blob_key(prefix: &str, receipt_id: &str, sha256: &str) -> String {
    format!("{prefix}{receipt_id}/{sha256}")
}

/// Ids of the original mail a bounce may name, looked up by the router.
const MAX_BOUNCE_REFERENCES: usize = 5;

/// A mail's content, for a mail without a Message-ID: sender, Date, subject and a digest of
/// the body (text, quoted history, attachment hashes). Headers added on the way (Received,
/// the SES receipt) are not part of it, so every delivery of one mail has the same digest.
fn content_digest(parsed: &ParsedEmail) -> String {
    let mut body = Sha256::new();
    body.update(parsed.text.as_bytes());
    body.update([0]);
    body.update(parsed.quoted.as_bytes());
    for attachment in &parsed.attachments {
        body.update([0]);
        body.update(attachment.sha256.as_bytes());
    }
    let date = parsed.date.map(|d| d.as_second().to_string()).unwrap_or_default();
    let content =
        format!("{}\n{date}\n{}\n{}", parsed.from.address, parsed.subject, hex::encode(body.finalize()));
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// `support+tok@desk.example` → `support@desk.example`.
fn base_address(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let base = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{base}@{domain}").to_lowercase()
        }
        None => address.to_lowercase(),
    }
}

fn received_from_record(record: &SimpleEmailRecord) -> ReceivedMail {
    let receipt = &record.ses.receipt;
    let verdict = |status: &Option<String>| status.as_deref().and_then(Verdict::parse);
    let receipt_id = record.ses.mail.message_id.clone().unwrap_or_default();
    ReceivedMail {
        raw_key: format!("{RAW_MAIL_PREFIX}{receipt_id}"),
        receipt_id,
        verdicts: Verdicts {
            spam_failed: verdict(&receipt.spam_verdict.status) == Some(Verdict::Fail),
            virus: verdict(&receipt.virus_verdict.status),
            auth: MailAuth {
                dmarc: verdict(&receipt.dmarc_verdict.status),
                spf: verdict(&receipt.spf_verdict.status),
                dkim: verdict(&receipt.dkim_verdict.status),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::ses::SimpleEmailRecord;
    use jiff::Timestamp;
    use omnidesk_domain::envelope::open;
    use omnidesk_domain::memory::{ManualClock, MemoryBlobStore, MemoryQueue, QueueSettings};

    use super::*;
    use crate::config::DeskConfig;

    const RAW: &str = "From: Li Wei <li.wei@example.com>\r\n\
        To: support@desk.example\r\n\
        Cc: colleague@example.com\r\n\
        Message-ID: <a1@mail.example.com>\r\n\
        Subject: invoice\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\
        \r\n\
        --b\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        See the attached invoice.\r\n\
        --b\r\n\
        Content-Type: application/octet-stream; name=\"invoice.exe\"\r\n\
        Content-Disposition: attachment; filename=\"invoice.exe\"\r\n\
        Content-Transfer-Encoding: base64\r\n\
        \r\n\
        TVqQAAMAAAAEAAAA\r\n\
        --b--\r\n";

    fn edge() -> (EmailInbound, Arc<MemoryBlobStore>, Arc<MemoryQueue>) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_790_000_000).unwrap()));
        let blobs = Arc::new(MemoryBlobStore::default());
        let queue = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
        let config = DeskConfig::from_toml("[email]\naddress = \"support@desk.example\"").unwrap();
        (EmailInbound::new(config.email.unwrap(), blobs.clone(), queue.clone(), clock), blobs, queue)
    }

    async fn queued(verdicts: Verdicts) -> (InboundMessage, Arc<MemoryBlobStore>) {
        let (edge, blobs, queue) = edge();
        let ingested = edge.ingest_raw_with("r1", RAW.as_bytes().to_vec(), verdicts).await.unwrap();
        assert!(matches!(ingested, Ingested::Queued { .. }), "{ingested:?}");
        (open::<InboundMessage>(&queue.bodies()[0]).unwrap(), blobs)
    }

    #[test]
    fn ses_verdicts_are_all_read_and_a_missing_one_is_no_pass() {
        let mut record = SimpleEmailRecord::default();
        record.ses.mail.message_id = Some("ses-1".into());
        let receipt = &mut record.ses.receipt;
        receipt.dmarc_verdict.status = Some("GRAY".into());
        receipt.spf_verdict.status = Some("PASS".into());
        receipt.dkim_verdict.status = Some("FAIL".into());
        let verdicts = received_from_record(&record).verdicts;
        assert_eq!(verdicts.auth.dmarc, Some(Verdict::Gray));
        assert!(verdicts.auth.authenticated(), "no DMARC policy, SPF passes");
        assert_eq!(verdicts.virus, None);
        assert!(!verdicts.virus_passed(), "a missing virus verdict is no pass");
        record.ses.receipt.spf_verdict.status = Some("PROCESSING_FAILED".into());
        assert!(!received_from_record(&record).verdicts.auth.authenticated());
    }

    #[tokio::test]
    async fn an_unauthenticated_from_is_queued_as_a_hint_and_an_authenticated_one_as_an_identity() {
        let (passed, _) = queued(Verdicts::passed()).await;
        assert_eq!(passed.sender.email.as_deref(), Some("li.wei@example.com"));
        assert!(passed.sender.hints.is_empty());
        let unauthenticated = Verdicts { auth: MailAuth::default(), ..Verdicts::passed() };
        let (hinted, _) = queued(unauthenticated).await;
        assert_eq!(hinted.sender.email, None);
        assert_eq!(hinted.sender.hints.email.as_deref(), Some("li.wei@example.com"));
        assert_eq!(hinted.from_address().as_deref(), Some("li.wei@example.com"));
        assert!(hinted.identities().is_empty());
    }

    #[tokio::test]
    async fn a_virus_verdict_other_than_pass_quarantines_the_attachments_and_still_makes_a_ticket() {
        let (clean, _) = queued(Verdicts::passed()).await;
        assert!(clean.attachments.iter().all(|a| a.servable() && a.key.starts_with(ATTACHMENT_PREFIX)));
        for virus in [Some(Verdict::Fail), Some(Verdict::Gray), Some(Verdict::ProcessingFailed), None] {
            let (infected, blobs) = queued(Verdicts { virus, ..Verdicts::passed() }).await;
            let Source::Email(email) = &infected.source else { panic!("email") };
            assert!(email.quarantined, "{virus:?}");
            assert_eq!(infected.attachments.len(), 1);
            let attachment = &infected.attachments[0];
            assert!(attachment.quarantined && !attachment.servable());
            assert!(attachment.key.starts_with(QUARANTINE_PREFIX), "{}", attachment.key);
            assert!(blobs.get(&attachment.key).await.unwrap().is_some(), "quarantined bytes are kept");
        }
    }
}
