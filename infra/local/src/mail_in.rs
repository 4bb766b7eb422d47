//! Mail into the local desk, standing in for SES receiving: `POST /local/email` with a raw
//! RFC 822 message as the body, and a watched folder where every `.eml` file dropped in is
//! received once. Both hand the bytes to the very `EmailInbound` edge the email-inbound
//! function runs, under a fresh receipt id (SES's message id on AWS); verdicts are PASS.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use omnidesk_app::email_inbound::{EmailInbound, EmailInboundError, Ingested};
use omnidesk_app::error::ApiError;
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
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(email) = &desk.email else {
        return Err(ApiError::not_found("the email channel is off: add an [email] section to the config"));
    };
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
    let ingested = email.ingest_raw(&receipt, body.to_vec()).await.map_err(api_error)?;
    Ok((StatusCode::ACCEPTED, Json(answer(&receipt, &ingested))))
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
        let raw = match blocking(move || std::fs::read(&file)).await {
            Ok(raw) => raw,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Outcome::Gone,
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
/// with their sizes. Creates the folders on the first look.
fn ready_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, u64)>> {
    std::fs::create_dir_all(dir.join(PROCESSED_DIR))?;
    std::fs::create_dir_all(dir.join(FAILED_DIR))?;
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
        let Ok(metadata) = entry.metadata() else { continue };
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
    std::fs::create_dir_all(&folder)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut target = folder.join(&name);
    if target.exists() {
        let stem = name.strip_suffix(".eml").unwrap_or(&name);
        target = folder.join(format!("{stem}.{receipt}.eml"));
    }
    std::fs::rename(file, &target)?;
    if let Some(reason) = reason {
        let note = target.with_extension("reason.txt");
        std::fs::write(note, format!("{reason}\n"))?;
    }
    Ok(target)
}
