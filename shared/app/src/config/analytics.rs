//! `[analytics]`: the rollup to Parquet. The pseudonym key is a secret (`sm:<name>` on AWS,
//! resolved only by analytics-rollup); the rest tunes which events a run reads, what counts
//! as a complaint, and when a category's (or channel's) hourly volume is a spike worth an
//! alert (`[analytics.spikes]`).

use std::time::Duration;

use omnidesk_domain::analytics::RollupSettings;
use omnidesk_domain::analytics::pseudonym::MIN_KEY_BYTES;
use omnidesk_domain::analytics::spikes::SpikeRules;
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
    /// When an hour's volume is a spike, and where alerts go besides the ops topic.
    #[serde(default)]
    pub spikes: SpikesConfig,
}

/// `[analytics.spikes]`: an hour's new tickets of a category (or channel) is a spike when
/// it is at least `min_count`, at least `ratio` times the mean of the same hour of the week
/// over the previous `baseline_weeks`, and its Poisson upper tail under that mean is below
/// `p_value`; no key alerts before `warm_up_weeks` of history.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikesConfig {
    /// Send alerts (the ops topic on AWS, and `notify_webhook`); off: the report still marks
    /// spikes.
    #[serde(default = "default_alert")]
    pub alert: bool,
    #[serde(default = "default_min_count")]
    pub min_count: u32,
    #[serde(default = "default_ratio")]
    pub ratio: f64,
    #[serde(default = "default_p_value")]
    pub p_value: f64,
    #[serde(default = "default_baseline_weeks")]
    pub baseline_weeks: u32,
    #[serde(default = "default_warm_up_weeks")]
    pub warm_up_weeks: u32,
    /// Also POST each alert to this on-call URL, as SLA escalations do (`notify_webhook`).
    #[serde(default)]
    pub notify_webhook: Option<String>,
}

impl Default for SpikesConfig {
    fn default() -> Self {
        let rules = SpikeRules::default();
        Self {
            alert: default_alert(),
            min_count: rules.min_count,
            ratio: rules.ratio,
            p_value: rules.p_value,
            baseline_weeks: rules.baseline_weeks,
            warm_up_weeks: rules.warm_up_weeks,
            notify_webhook: None,
        }
    }
}

fn default_alert() -> bool {
    true
}
fn default_min_count() -> u32 {
    SpikeRules::default().min_count
}
fn default_ratio() -> f64 {
    SpikeRules::default().ratio
}
fn default_p_value() -> f64 {
    SpikeRules::default().p_value
}
fn default_baseline_weeks() -> u32 {
    SpikeRules::default().baseline_weeks
}
fn default_warm_up_weeks() -> u32 {
    SpikeRules::default().warm_up_weeks
}

/// More weeks of baseline would read more history per run than it buys in stability.
pub const MAX_BASELINE_WEEKS: u32 = 12;

impl SpikesConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.min_count == 0 {
            return Err(invalid("analytics.spikes.min_count", "must be at least 1"));
        }
        if !(self.ratio.is_finite() && self.ratio >= 1.0) {
            return Err(invalid("analytics.spikes.ratio", "must be a number of at least 1.0"));
        }
        if !(self.p_value > 0.0 && self.p_value < 1.0) {
            return Err(invalid("analytics.spikes.p_value", "must lie between 0 and 1 (exclusive)"));
        }
        if !(1..=MAX_BASELINE_WEEKS).contains(&self.baseline_weeks) {
            return Err(invalid(
                "analytics.spikes.baseline_weeks",
                format!("must be 1–{MAX_BASELINE_WEEKS}"),
            ));
        }
        if self.warm_up_weeks > self.baseline_weeks {
            return Err(invalid("analytics.spikes.warm_up_weeks", "must not exceed baseline_weeks"));
        }
        if let Some(url) = &self.notify_webhook {
            super::validate_callback_url("analytics.spikes.notify_webhook", url)?;
        }
        Ok(())
    }

    /// The detector's thresholds.
    pub fn rules(&self) -> SpikeRules {
        SpikeRules {
            min_count: self.min_count,
            ratio: self.ratio,
            p_value: self.p_value,
            baseline_weeks: self.baseline_weeks,
            warm_up_weeks: self.warm_up_weeks,
        }
    }
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
        self.spikes.validate()
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

#[cfg(test)]
mod tests {
    use crate::config::{ConfigError, DeskConfig};

    fn with_spikes(lines: &str) -> Result<DeskConfig, ConfigError> {
        DeskConfig::from_toml(&format!(
            "[analytics]\npseudonym_key = \"analytics-key-0123456789\"\n[analytics.spikes]\n{lines}\n"
        ))
    }

    #[test]
    fn spike_thresholds_come_from_config_with_the_shipped_defaults() {
        let config =
            with_spikes("min_count = 12\nratio = 4.0\nnotify_webhook = \"https://oncall.example/spikes\"")
                .expect("a valid config");
        let spikes = &config.analytics.expect("[analytics]").spikes;
        let rules = spikes.rules();
        assert_eq!((rules.min_count, rules.ratio, rules.baseline_weeks), (12, 4.0, 4));
        assert!(spikes.alert);
    }

    #[test]
    fn bad_spike_thresholds_name_their_field() {
        for (line, field) in [
            ("min_count = 0", "analytics.spikes.min_count"),
            ("ratio = 0.5", "analytics.spikes.ratio"),
            ("p_value = 1.5", "analytics.spikes.p_value"),
            ("baseline_weeks = 40", "analytics.spikes.baseline_weeks"),
            ("warm_up_weeks = 6", "analytics.spikes.warm_up_weeks"),
            ("notify_webhook = \"ftp://oncall.example\"", "analytics.spikes.notify_webhook"),
            ("treshold = 3", "analytics.spikes"),
        ] {
            let error = with_spikes(line).expect_err(line).to_string();
            assert!(error.contains(field), "{line}: {error}");
        }
    }
}
