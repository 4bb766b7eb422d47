//! Mail into the local desk, standing in for SES receiving: `POST /local/email` with a raw
//! RFC 822 message as the body, and a watched folder where every `.eml` file dropped in is
//! received once. Both hand the bytes to the very `EmailInbound` edge the email-inbound
//! function runs, under a fresh receipt id (SES's message id on AWS).
//!
//! There is no SES here to check senders or scan for viruses: mail handed to the local desk
//! is treated as if every check passed. To try what the desk does with other verdicts, name
//! them on the POST: `/local/email?dmarc=FAIL&spf=PASS&dkim=GRAY&virus=FAIL` (each one of
//! SES's `PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`; `none` for a verdict SES left out). The
//! watched folder always passes. Nothing in a mail itself can change its verdicts.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use omnidesk_app::email_inbound::{EmailInbound, EmailInboundError, Ingested, Verdicts};
use omnidesk_app::error::ApiError;
use omnidesk_domain::mail_auth::Verdict;
use omnidesk_domain::ports::{IdSource, QueueError};
use omnidesk_domain::system::RandomIds;
use serde_json::{Value, json};

use crate::LocalDesk;

/// Largest raw message accepted, by POST or from the folder: SES's own limit for receiving.
pub const MAX_LOCAL_MAIL_BYTES: usize = 10 * 1024 * 1024;
/// How often the watched folder is looked at.
pub const MAIL_DROP_INTERVAL: Duration = Duration::from_millis(250);
/// Files taken per look, so one huge drop cannot starve the rest of the desk.
const MAX_FILES_PER_SCAN: usize = 50;
/// A file changed more recently than this may still be being written: it waits a turn.
const SETTLE_TIME: Duration = Duration::from_millis(200);
/// Tries per file when the desk itself fails (queue or blob store unavailable).
const MAX_ATTEMPTS: u32 = 5;
/// Where files go once received, or once given up on (each with a `.reason.txt`).
pub const PROCESSED_DIR: &str = "processed";
pub const FAILED_DIR: &str = "failed";

/// A fresh receipt id, like SES's message id: the fallback idempotency key of a mail with
/// no Message-ID.
fn receipt_id() -> String {
    format!("local-{}", RandomIds.token())
}

pub fn router(desk: Arc<LocalDesk>) -> Router {
    Router::new()
        .route("/local/email", post(receive))
        .layer(DefaultBodyLimit::max(MAX_LOCAL_MAIL_BYTES))
        .with_state(desk)
}

async fn receive(
    State(desk): State<Arc<LocalDesk>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(email) = &desk.email else {
        return Err(ApiError::not_found("the email channel is off: add an [email] section to the config"));
    };
    let verdicts = simulated_verdicts(query.as_deref().unwrap_or(""))?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!("a mail is at most {MAX_LOCAL_MAIL_BYTES} bytes"))
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty body: post a raw RFC 822 message (curl --data-binary @mail.eml)",
        ));
    }
    let receipt = receipt_id();
    let ingested = email.ingest_raw_with(&receipt, body.to_vec(), verdicts).await.map_err(api_error)?;
    Ok((StatusCode::ACCEPTED, Json(answer(&receipt, &ingested))))
}

/// The verdicts a test asks for (see the module comment); every other one passes.
fn simulated_verdicts(query: &str) -> Result<Verdicts, ApiError> {
    let mut verdicts = Verdicts::passed();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let verdict = if value.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(Verdict::parse(value).ok_or_else(|| {
                ApiError::bad_request(format!("{name}: use PASS, FAIL, GRAY, PROCESSING_FAILED or none"))
            })?)
        };
        match name {
            "dmarc" => verdicts.auth.dmarc = verdict,
            "spf" => verdicts.auth.spf = verdict,
            "dkim" => verdicts.auth.dkim = verdict,
            "virus" => verdicts.virus = verdict,
            _ => return Err(ApiError::bad_request("query: only dmarc, spf, dkim and virus")),
        }
    }
    Ok(verdicts)
}

fn api_error(error: EmailInboundError) -> ApiError {
    match error {
        EmailInboundError::Queue(error) => error.into(),
        error => {
            tracing::error!(%error, "local.mail_ingest_failed");
            ApiError::unavailable("try again shortly")
        }
    }
}

/// `{"accepted": true, "queued": …, "receipt_id": …}` and what became of the mail.
pub fn answer(receipt: &str, ingested: &Ingested) -> Value {
    match ingested {
        Ingested::Queued { key, bounce, attachments_dropped } => json!({
            "accepted": true, "queued": true, "receipt_id": receipt, "key": key,
            "bounce": bounce, "attachments_dropped": attachments_dropped,
        }),
        Ingested::Dropped(verdict) => json!({
            "accepted": true, "queued": false, "receipt_id": receipt, "dropped": verdict,
        }),
        Ingested::Unreadable { key, reason } => json!({
            "accepted": true, "queued": true, "receipt_id": receipt, "key": key, "unreadable": reason,
        }),
    }
}

/// The watched folder: `.eml` files in `dir` are received, then moved to `dir/processed/`
/// (queued, unreadable mail too, or dropped by a verdict) or `dir/failed/` (too large, or the desk
/// failed [`MAX_ATTEMPTS`] times), so each is received once. Hidden files and files still
/// being written are left alone; a bad file never stops the loop.
pub struct MailDrop {
    email: Arc<EmailInbound>,
    dir: PathBuf,
    /// Desk failures so far, per file still waiting.
    attempts: HashMap<PathBuf, u32>,
    /// Received but could not be moved away: never received again.
    stuck: HashSet<PathBuf>,
}

/// What one look at the folder did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanReport {
    pub processed: usize,
    pub failed: usize,
    pub retrying: usize,
}

enum Outcome {
    /// Taken away before it could be read: nothing to do.
    Gone,
    Processed,
    Failed(String),
    Retry(String),
}

impl MailDrop {
    pub fn new(email: Arc<EmailInbound>, dir: impl Into<PathBuf>) -> Self {
        Self { email, dir: dir.into(), attempts: HashMap::new(), stuck: HashSet::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Looks at the folder every [`MAIL_DROP_INTERVAL`], forever.
    pub async fn run(mut self) {
        loop {
            if let Err(error) = self.scan_once().await {
                tracing::warn!(dir = %self.dir.display(), %error, "local.mail_drop_unreadable");
            }
            tokio::time::sleep(MAIL_DROP_INTERVAL).await;
        }
    }

    /// One look: receives the files ready now (at most [`MAX_FILES_PER_SCAN`]).
    pub async fn scan_once(&mut self) -> std::io::Result<ScanReport> {
        let dir = self.dir.clone();
        let ready = blocking(move || ready_files(&dir)).await?;
        let mut report = ScanReport::default();
        for (path, size) in ready {
            if self.stuck.contains(&path) {
                continue;
            }
            let receipt = receipt_id();
            let outcome = self.receive_file(&path, size, &receipt).await;
            let (destination, reason) = match outcome {
                Outcome::Gone => {
                    self.attempts.remove(&path);
                    continue;
                }
                Outcome::Processed => (PROCESSED_DIR, None),
                Outcome::Failed(reason) => (FAILED_DIR, Some(reason)),
                Outcome::Retry(reason) => {
                    let attempts = self.attempts.entry(path.clone()).or_default();
                    *attempts += 1;
                    if *attempts < MAX_ATTEMPTS {
                        tracing::warn!(file = %path.display(), attempt = *attempts, %reason, "local.mail_drop_retry");
                        report.retrying += 1;
                        continue;
                    }
                    (FAILED_DIR, Some(format!("gave up after {MAX_ATTEMPTS} attempts: {reason}")))
                }
            };
            self.attempts.remove(&path);
            if reason.is_some() {
                report.failed += 1;
            } else {
                report.processed += 1;
            }
            let (dir, from) = (self.dir.clone(), path.clone());
            let moved =
                blocking(move || move_away(&dir, &from, destination, &receipt, reason.as_deref())).await;
            match moved {
                Ok(to) => tracing::info!(file = %path.display(), to = %to.display(), "local.mail_drop_done"),
                Err(error) => {
                    tracing::error!(file = %path.display(), %error, "local.mail_drop_move_failed");
                    self.stuck.insert(path);
                }
            }
        }
        Ok(report)
    }

    async fn receive_file(&self, path: &Path, size: u64, receipt: &str) -> Outcome {
        if size > MAX_LOCAL_MAIL_BYTES as u64 {
            return Outcome::Failed(format!("{size} bytes, over the limit of {MAX_LOCAL_MAIL_BYTES}"));
        }
        let file = path.to_owned();
        let raw = match blocking(move || read_no_follow(&file)).await {
            Ok(raw) => raw,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Outcome::Gone,
            Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
                return Outcome::Failed(format!("not read: {error}"));
            }
            Err(error) => return Outcome::Retry(format!("cannot read: {error}")),
        };
        match self.email.ingest_raw(receipt, raw).await {
            Ok(Ingested::Queued { .. } | Ingested::Dropped(_) | Ingested::Unreadable { .. }) => {
                Outcome::Processed
            }
            Err(EmailInboundError::Queue(error @ QueueError::TooLarge(_))) => {
                Outcome::Failed(error.to_string())
            }
            Err(error) => Outcome::Retry(error.to_string()),
        }
    }
}

/// Runs file-system work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)?
}

/// `.eml` files directly in `dir` that are not hidden and have settled, oldest name first,
/// with their sizes. Creates the folders on the first look. A symbolic link named `.eml` is
/// listed too, so that it is refused and moved to `failed/` rather than left lying there.
fn ready_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64)>> {
    real_dir(&dir.join(PROCESSED_DIR))?;
    real_dir(&dir.join(FAILED_DIR))?;
    let now = SystemTime::now();
    let mut ready = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        // One unreadable entry (vanished, no permission) is skipped, not fatal.
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_eml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
        if !is_eml || name.starts_with('.') {
            continue;
        }
        // The entry's own metadata: a symbolic link is not followed.
        let Ok(metadata) = entry.metadata() else { continue };
        if metadata.is_symlink() {
            ready.push((path, 0));
            continue;
        }
        if !metadata.is_file() {
            continue;
        }
        let age = metadata.modified().ok().and_then(|m| now.duration_since(m).ok()).unwrap_or(SETTLE_TIME);
        if age < SETTLE_TIME {
            continue;
        }
        ready.push((path, metadata.len()));
    }
    ready.sort();
    ready.truncate(MAX_FILES_PER_SCAN);
    Ok(ready)
}

/// Moves `file` into `dir/<destination>/`, keeping its name unless taken, and writes the
/// reason beside it. Returns the new path.
fn move_away(
    dir: &Path,
    file: &Path,
    destination: &str,
    receipt: &str,
    reason: Option<&str>,
) -> std::io::Result<PathBuf> {
    let folder = dir.join(destination);
    real_dir(&folder)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".eml").unwrap_or(&name).to_owned();
    let mut target = folder.join(&name);
    // Anything at the name, a dangling link included, is in the way.
    if std::fs::symlink_metadata(&target).is_ok() {
        target = folder.join(format!("{stem}.{receipt}.eml"));
    }
    // rename replaces the name itself: it never writes through a link at the target.
    std::fs::rename(file, &target)?;
    if let Some(reason) = reason {
        let note = target.with_extension("reason.txt");
        let text = format!("{reason}\n");
        match write_new(&note, &text) {
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                write_new(&folder.join(format!("{stem}.{receipt}.reason.txt")), &text)?;
            }
            other => other?,
        }
    }
    Ok(target)
}

/// Creates `dir` if missing; refuses it when it is a symbolic link (or not a directory), so
/// files are never moved or written into a place someone pointed the folder at.
fn real_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir)?,
        Err(error) => return Err(error),
        Ok(_) => {}
    }
    // Looked at again after creating: whatever is there now is what files would go into.
    if std::fs::symlink_metadata(dir)?.is_dir() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("{} is a symbolic link or not a folder: refused", dir.display())))
    }
}

/// Writes a new file; fails if anything (a file, a link) already has the name. `create_new`
/// is `O_CREAT | O_EXCL`, which never follows a symbolic link.
/// Writes `text` to `path`, which must not exist yet (`AlreadyExists` otherwise). The note
/// appears whole: it is written under a hidden name first and then linked to `path`, so
/// whoever lists the folder never reads it half written.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let hidden = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&hidden)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    // A hard link never replaces what is at `path`, unlike a rename.
    let linked = written.and_then(|()| std::fs::hard_link(&hidden, path));
    let _ = std::fs::remove_file(&hidden);
    linked
}

/// Reads a regular file without following a symbolic link: the name is looked at first
/// (`lstat`), and the file opened must be that very file (same device and inode), so a link
/// swapped in between is caught too. Refusals are `InvalidInput`.
fn read_no_follow(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let refused = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned());
    let before = std::fs::symlink_metadata(path)?;
    if before.is_symlink() {
        return Err(refused("a symbolic link"));
    }
    if !before.is_file() {
        return Err(refused("not a regular file"));
    }
    let mut file = std::fs::File::open(path)?;
    let opened = file.metadata()?;
    if !same_file(&before, &opened) {
        return Err(refused("replaced while being opened"));
    }
    let mut raw = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0).min(MAX_LOCAL_MAIL_BYTES));
    file.by_ref().take(MAX_LOCAL_MAIL_BYTES as u64 + 1).read_to_end(&mut raw)?;
    Ok(raw)
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    b.is_file() && a.len() == b.len()
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("omnidesk-mail-in-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn input_hygiene_the_mail_folder_reads_and_writes_without_following_symlinks() {
        let dir = scratch("links");
        let outside = dir.join("outside");
        std::fs::create_dir(&outside).unwrap();
        let secret = outside.join("secret.txt");
        std::fs::write(&secret, "not mail").unwrap();

        // A link dropped in as mail is not read, and is moved away as itself.
        let link = dir.join("evil.eml");
        symlink(&secret, &link).unwrap();
        assert_eq!(read_no_follow(&link).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
        assert!(ready_files(&dir).unwrap().iter().any(|(p, _)| p == &link), "listed, to be refused");
        let moved = move_away(&dir, &link, FAILED_DIR, "r1", Some("a symbolic link")).unwrap();
        assert!(std::fs::symlink_metadata(&moved).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "not mail");

        // A link planted where the reason note goes is not written through.
        let mail = dir.join("a.eml");
        std::fs::write(&mail, "From: a@b.example\r\n\r\nhi").unwrap();
        symlink(&secret, dir.join(FAILED_DIR).join("a.reason.txt")).unwrap();
        move_away(&dir, &mail, FAILED_DIR, "r2", Some("unreadable")).unwrap();
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "not mail");
        assert_eq!(
            std::fs::read_to_string(dir.join(FAILED_DIR).join("a.r2.reason.txt")).unwrap(),
            "unreadable\n"
        );

        // A processed/ folder that is a link elsewhere is refused, not used.
        std::fs::remove_dir_all(dir.join(PROCESSED_DIR)).unwrap();
        symlink(&outside, dir.join(PROCESSED_DIR)).unwrap();
        assert!(ready_files(&dir).is_err());
        let mail = dir.join("b.eml");
        std::fs::write(&mail, "x").unwrap();
        assert!(move_away(&dir, &mail, PROCESSED_DIR, "r3", None).is_err());
        assert!(!outside.join("b.eml").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
