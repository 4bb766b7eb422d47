//! `[analytics]`: the rollup to Parquet. The pseudonym key is a secret (`sm:<name>` on AWS,
//! resolved only by analytics-rollup); the rest tunes which events a run reads and what
//! counts as a complaint.

use std::time::Duration;

use omnidesk_domain::analytics::RollupSettings;
use omnidesk_domain::analytics::pseudonym::MIN_KEY_BYTES;
use serde::Deserialize;

use super::{ConfigError, Secret, invalid};

const MINUTE: u64 = 60;
/// A lookback over a week would re-read a week of the log every 15 minutes: use a backfill.
const MAX_LOOKBACK_MINUTES: u32 = 7 * 24 * 60;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// Keys the customer pseudonyms (HMAC). On AWS `sm:<name>`; rotating it starts new
    /// pseudonyms.
    pub pseudonym_key: Secret,
    /// Minutes a run leaves to commits in flight before exporting them.
    #[serde(default = "default_settle")]
    pub settle_minutes: u32,
    /// How far behind its watermark each scheduled run re-reads the log.
    #[serde(default = "default_lookback")]
    pub lookback_minutes: u32,
    /// Where the very first scheduled run starts, in hours before now.
    #[serde(default = "default_first_run")]
    pub first_run_hours: u32,
    /// A ticket whose category or a tag is one of these counts as a complaint.
    #[serde(default = "default_markers")]
    pub complaint_markers: Vec<String>,
}

fn default_settle() -> u32 {
    2
}
fn default_lookback() -> u32 {
    60
}
fn default_first_run() -> u32 {
    24
}
fn default_markers() -> Vec<String> {
    vec![String::from("complaint")]
}

impl AnalyticsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.lookback_minutes > MAX_LOOKBACK_MINUTES {
            return Err(invalid(
                "analytics.lookback_minutes",
                format!("at most {MAX_LOOKBACK_MINUTES}; export older windows with a backfill"),
            ));
        }
        if self.first_run_hours == 0 {
            return Err(invalid("analytics.first_run_hours", "must be at least 1"));
        }
        if self.complaint_markers.iter().any(|m| m.trim().is_empty() || m.len() > 64) {
            return Err(invalid("analytics.complaint_markers", "each marker is 1–64 characters"));
        }
        if let Some(value) = self.pseudonym_key.value() {
            check_key(self.pseudonym_key.reference(), value)?;
        }
        Ok(())
    }

    pub fn settings(&self) -> RollupSettings {
        let minutes = |m: u32| Duration::from_secs(u64::from(m) * MINUTE);
        RollupSettings {
            settle: minutes(self.settle_minutes),
            lookback: minutes(self.lookback_minutes),
            first_run: minutes(self.first_run_hours.saturating_mul(60)),
            complaint_markers: self.complaint_markers.clone(),
            ..RollupSettings::default()
        }
    }

    /// The pseudonym key; `None` until the secret is resolved (only analytics-rollup does).
    pub fn key(&self) -> Option<&[u8]> {
        self.pseudonym_key.value().map(str::as_bytes)
    }

    pub(super) fn key_mut(&mut self) -> &mut Secret {
        &mut self.pseudonym_key
    }
}

pub(super) fn check_key(
    reference: Option<&omnidesk_domain::secrets::SecretRef>,
    value: &str,
) -> Result<(), ConfigError> {
    if value.len() >= MIN_KEY_BYTES.max(16) {
        return Ok(());
    }
    super::check_secret_value("analytics.pseudonym_key", reference, value)
}
