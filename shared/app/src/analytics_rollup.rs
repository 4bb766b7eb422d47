//! The `analytics-rollup` edge: an EventBridge schedule event runs one incremental pass
//! ([`omnidesk_domain::analytics::Rollup::run`]); an invocation carrying
//! `{"backfill": {"from": "<RFC 3339>", "to": "<RFC 3339>"}}` exports that window instead
//! and leaves the watermark alone. Like the other schedules, the event carries nothing a
//! scheduled run needs: a late, repeated or missed invocation changes only how much the
//! next run catches up.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::alerts::{AlertSender, KpiHistory, SpikeAlerting, WebhookAlerts};
use omnidesk_domain::analytics::{Rollup, RollupError, RollupReport};
use omnidesk_domain::ports::{Clock, IdempotencyStore, Queue};
use serde::Deserialize;

/// A backfill longer than this is split by the operator: one invocation must finish within
/// the function's timeout (the local desk's `export --since` has no such limit).
pub const MAX_BACKFILL_DAYS: i64 = 31;

/// What an invocation may carry besides the schedule event's own fields.
#[derive(Debug, Default, Deserialize)]
pub struct RollupInput {
    #[serde(default)]
    pub backfill: Option<BackfillWindow>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillWindow {
    pub from: Timestamp,
    pub to: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum RollupRunError {
    #[error(transparent)]
    Rollup(#[from] RollupError),
    #[error("invalid input: {0}")]
    Input(String),
}

pub struct RollupHandler {
    rollup: Rollup,
}

impl RollupHandler {
    pub fn new(rollup: Rollup) -> Self {
        Self { rollup }
    }

    pub fn rollup(&self) -> &Rollup {
        &self.rollup
    }

    /// Runs on the invocation's JSON: a schedule event, or one with a `backfill` window.
    pub async fn handle(&self, payload: serde_json::Value) -> Result<RollupReport, RollupRunError> {
        let input: RollupInput =
            serde_json::from_value(payload).map_err(|e| RollupRunError::Input(e.to_string()))?;
        let Some(window) = input.backfill else {
            return Ok(self.rollup.run().await?);
        };
        if window.to <= window.from {
            return Err(RollupRunError::Input(String::from("backfill.to must be after backfill.from")));
        }
        if window.to.duration_since(window.from) > SignedDuration::from_hours(24 * MAX_BACKFILL_DAYS) {
            return Err(RollupRunError::Input(format!(
                "a backfill covers at most {MAX_BACKFILL_DAYS} days per invocation"
            )));
        }
        tracing::info!(from = %window.from, to = %window.to, "analytics.backfill");
        Ok(self.rollup.backfill(window.from, window.to, None).await?)
    }
}

/// The rollup the configuration describes: `None` without `[analytics]` or before its key
/// is resolved. Business times use the `[sla]` calendars (the shipped defaults without one).
pub fn rollup(
    config: &crate::config::DeskConfig,
    ports: omnidesk_domain::analytics::RollupPorts,
) -> Result<Option<Rollup>, crate::config::ConfigError> {
    let Some(analytics) = config.analytics.as_ref() else { return Ok(None) };
    let Some(key) = analytics.key() else { return Ok(None) };
    let policies = match config.sla_policies()? {
        Some(policies) => policies,
        None => std::sync::Arc::new(
            omnidesk_domain::sla::SlaConfig::default()
                .validate()
                .map_err(|e| crate::config::ConfigError::Invalid { field: e.field, message: e.message })?,
        ),
    };
    Ok(Some(Rollup::new(ports, analytics.settings(), policies, key)))
}

/// What spike alerting needs besides the configuration: where the exported KPI rows are read
/// back, where sent alerts are remembered, the ops destination (the SNS topic on AWS, a
/// memory twin locally) and the outbound queue for `notify_webhook`.
pub struct AlertWiring {
    pub history: Arc<dyn KpiHistory>,
    pub sent: Arc<dyn IdempotencyStore>,
    pub ops: Option<Arc<dyn AlertSender>>,
    pub outbound: Option<Arc<dyn Queue>>,
    pub clock: Arc<dyn Clock>,
}

/// The spike alerting `[analytics.spikes]` asks for: `None` without `[analytics]`, with
/// `alert = false`, or with nowhere to send.
pub fn spike_alerting(config: &crate::config::DeskConfig, wiring: AlertWiring) -> Option<SpikeAlerting> {
    let spikes = &config.analytics.as_ref()?.spikes;
    if !spikes.alert {
        return None;
    }
    let mut senders: Vec<Arc<dyn AlertSender>> = wiring.ops.into_iter().collect();
    if let (Some(url), Some(outbound)) = (&spikes.notify_webhook, wiring.outbound) {
        senders.push(Arc::new(WebhookAlerts::new(outbound, url.clone(), wiring.clock)));
    }
    (!senders.is_empty()).then(|| SpikeAlerting {
        rules: spikes.rules(),
        history: wiring.history,
        senders,
        sent: wiring.sent,
    })
}
