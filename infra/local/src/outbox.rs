//! The local desk's "SES": every mail the dispatcher sends is written, exactly as it would go
//! out, as an `.eml` file in the outbox folder. Open it in a mail client, or feed it back in
//! as a reply (`POST /local/email`, or the watched folder).
//!
//! File names sort by sending time: `<UTC time>-<sequence>-<Message-ID>.eml`. Each file is
//! written under a hidden temporary name and renamed into place, so a reader never sees half
//! a mail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use jiff::Timestamp;
use omnidesk_domain::ports::{Clock, MailError, Mailer, OutgoingMail};

/// Longest Message-ID part of a file name; the rest is cut.
const MAX_ID_IN_NAME: usize = 80;

pub struct OutboxMailer {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    sequence: AtomicU64,
}

impl OutboxMailer {
    /// Writes into `dir`, created on the first mail.
    pub fn new(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        Self { dir: dir.into(), clock, sequence: AtomicU64::new(0) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file_name(&self, raw: &[u8]) -> String {
        let now = self.clock.now();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let id = message_id(raw).map(|id| file_safe(&id)).filter(|id| !id.is_empty());
        format!("{}-{sequence:06}-{}.eml", stamp(now), id.as_deref().unwrap_or("no-message-id"))
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send_raw(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        // Refused as SES (and the in-memory twin) refuse it.
        if mail.to.is_empty() {
            return Err(MailError::Rejected("no recipients".into()));
        }
        let name = self.file_name(&mail.raw);
        let dir = self.dir.clone();
        let raw = mail.raw.clone();
        let target = name.clone();
        let written = tokio::task::spawn_blocking(move || write_atomically(&dir, &target, &raw))
            .await
            .map_err(|e| MailError::Unavailable(format!("outbox writer stopped: {e}")))?;
        written.map_err(|e| MailError::Unavailable(format!("outbox {}: {e}", self.dir.display())))?;
        tracing::info!(file = %name, recipients = mail.to.len(), "local.mail_written");
        Ok(name)
    }
}

/// Writes `bytes` to `dir/.name.tmp`, then renames it to `dir/name`.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// `20261123T090000.123Z`: sorts like the time it names.
fn stamp(at: Timestamp) -> String {
    format!("{}.{:03}Z", at.strftime("%Y%m%dT%H%M%S"), at.subsec_millisecond())
}

/// The Message-ID header of a raw message, without its angle brackets.
pub fn message_id(raw: &[u8]) -> Option<String> {
    header(raw, "message-id").map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
}

/// The first header named `name` (case-insensitive), unfolded, of a raw message.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut found: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break; // the end of the header section
        }
        if line.starts_with([' ', '\t']) {
            if let Some(value) = found.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if found.is_some() {
            break;
        }
        if let Some((field, value)) = line.split_once(':')
            && field.trim().eq_ignore_ascii_case(name)
        {
            found = Some(value.trim().to_owned());
        }
    }
    found
}

/// Letters, digits and `.-_@+` kept; anything else becomes `_`.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() || ".-_@+".contains(c) { c } else { '_' })
        .take(MAX_ID_IN_NAME)
        .collect()
}

#[cfg(test)]
mod tests {
    use omnidesk_domain::memory::ManualClock;

    use super::*;

    const RAW: &[u8] = b"From: support@desk.example\r\nSubject: [#1] hi\r\nMessage-ID:\r\n <ack.1/x@desk.example>\r\n\r\nMessage-ID: <body@x>\r\n";

    #[test]
    fn headers_are_read_unfolded_and_only_from_the_header_section() {
        assert_eq!(message_id(RAW).as_deref(), Some("ack.1/x@desk.example"));
        assert_eq!(header(RAW, "subject").as_deref(), Some("[#1] hi"));
        assert_eq!(header(RAW, "auto-submitted"), None);
    }

    #[tokio::test]
    async fn each_mail_is_one_file_named_by_time_sequence_and_message_id() {
        let dir = std::env::temp_dir().join(format!("omnidesk-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let clock = Arc::new(ManualClock::new(Timestamp::from_millisecond(1_795_424_400_123).unwrap()));
        let mailer = OutboxMailer::new(&dir, clock);
        let mail = OutgoingMail {
            from: "support@desk.example".into(),
            to: vec!["li@example.com".into()],
            raw: RAW.to_vec(),
        };

        let first = mailer.send_raw(&mail).await.unwrap();
        let second = mailer.send_raw(&mail).await.unwrap();

        assert_eq!(first, "20261123T090000.123Z-000001-ack.1_x@desk.example.eml");
        assert_ne!(first, second, "a resend is a second file");
        assert_eq!(std::fs::read(dir.join(&first)).unwrap(), RAW);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        names.sort();
        assert_eq!(names, vec![first, second], "no temporary file is left behind");
        let refused = mailer.send_raw(&OutgoingMail { to: vec![], ..mail }).await;
        assert!(matches!(refused, Err(MailError::Rejected(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
