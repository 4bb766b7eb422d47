//! Spike alerts: after a scheduled run, each spike that starts in an hour the run exported is
//! sent to ops once, through every configured [`AlertSender`] (the ops topic on SNS, the
//! on-call webhook). The counts are the `kpi_hourly` rows — those the run just computed and,
//! for the baselines, those exported before ([`KpiHistory`]) — so an alert says what the
//! report marks. Each sender's delivery of a spike is an idempotency record: a rerun, the
//! next 15-minute run re-reading the hour, or a second hour of the same spike sends nothing
//! again, and a failed send is retried by the next run that still sees the hour.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::ExportError;
use super::rows::KpiRow;
use super::spikes::{NO_CATEGORY, Spike, SpikeRules, created_series, spike_starts};
use crate::envelope::seal;
use crate::model::{MessageId, TicketNumber};
use crate::outbound::{Destination, OutboundJob, OutboundKind};
use crate::ports::{Clock, Idempotency, IdempotencyRecord, IdempotencyStore, Queue, StoreError};

/// Sample ticket numbers an alert names.
pub const MAX_SAMPLES: usize = 5;
/// SNS refuses subjects of 100 characters or more.
const MAX_SUBJECT_CHARS: usize = 99;
/// How long a sent record outlives its hour: longer than any scheduled run re-reads it.
const SENT_KEPT: SignedDuration = SignedDuration::from_hours(24 * 7 * 8);
/// A run that dies while sending leaves its lease; the next run may send after this.
const LEASE: Duration = Duration::from_secs(300);
const HOUR: SignedDuration = SignedDuration::from_hours(1);
const WEEK: SignedDuration = SignedDuration::from_hours(24 * 7);

/// One spike as ops hear of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeAlert {
    pub spike: Spike,
    /// Tickets created in the spike's first hour with its category (or channel), lowest
    /// numbers first, at most [`MAX_SAMPLES`].
    pub samples: Vec<TicketNumber>,
}

impl SpikeAlert {
    /// Names the spike: its key and first hour, so every run names it the same.
    pub fn id(&self) -> String {
        format!("spike:{}:{}:{}", self.spike.dimension, self.spike.value, hour_label(self.spike.hour))
    }

    /// One line for a mail subject: ASCII only (SNS refuses anything else), under 100 characters.
    pub fn subject(&self) -> String {
        let value: String = self
            .spike
            .value
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .collect();
        let subject = format!(
            "omnidesk spike: {} {} - {} tickets, usually {:.1}",
            self.spike.dimension, value, self.spike.count, self.spike.baseline
        );
        subject.chars().take(MAX_SUBJECT_CHARS).collect()
    }

    /// The alert: what spiked, how much against its usual volume, and where to look. Names
    /// and numbers only; never a customer or their words.
    pub fn text(&self) -> String {
        let samples: Vec<String> = self.samples.iter().map(ToString::to_string).collect();
        format!(
            "Spike in {} \"{}\": {} new tickets in the hour from {} UTC, usually {:.1} (the same hour \
             of the week over the previous weeks; Poisson tail {:.1e}).\nSample tickets: {}.",
            self.spike.dimension,
            self.spike.value,
            self.spike.count,
            hour_label(self.spike.hour),
            self.spike.baseline,
            self.spike.p_value,
            if samples.is_empty() { String::from("none") } else { samples.join(", ") },
        )
    }
}

fn hour_label(hour: Timestamp) -> String {
    hour.to_zoned(TimeZone::UTC).strftime("%Y-%m-%d %H:00").to_string()
}

/// Sending an alert failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// The destination may take it later (throttled, unreachable): the next run retries.
    #[error("alert destination unavailable: {0}")]
    Unavailable(String),
    /// The destination refused it (no such topic, not allowed).
    #[error("alert refused: {0}")]
    Refused(String),
}

/// Where spike alerts go.
#[async_trait]
pub trait AlertSender: Send + Sync {
    /// A short, stable name (`sns`, `webhook`): each sender's delivery is remembered apart,
    /// so one that failed is retried without repeating the others.
    fn name(&self) -> &'static str;
    async fn send(&self, alert: &SpikeAlert) -> Result<(), AlertError>;
}

/// The `kpi_hourly` rows exported before: the baselines of the hours a run checks.
#[async_trait]
pub trait KpiHistory: Send + Sync {
    /// The rows of the hour starting at `hour` (none when it has no file).
    async fn kpi_rows(&self, hour: Timestamp) -> Result<Vec<KpiRow>, ExportError>;
}

/// What the rollup needs to alert: the thresholds, the history, the senders and where sent
/// alerts are remembered.
pub struct SpikeAlerting {
    pub rules: SpikeRules,
    pub history: Arc<dyn KpiHistory>,
    pub senders: Vec<Arc<dyn AlertSender>>,
    pub sent: Arc<dyn IdempotencyStore>,
}

/// What a run computed for the hours it exported: their `kpi_hourly` rows and the tickets
/// created in them by key.
#[derive(Debug, Default)]
pub struct Fresh {
    pub kpi: BTreeMap<Timestamp, Vec<KpiRow>>,
    /// `(hour, dimension, value)` → tickets created.
    pub created: BTreeMap<(Timestamp, &'static str, String), BTreeSet<TicketNumber>>,
}

impl Fresh {
    /// Notes a ticket created in `hour` with `channel` and `category`.
    pub fn created(&mut self, hour: Timestamp, ticket: TicketNumber, channel: &str, category: Option<&str>) {
        let category = category.unwrap_or(NO_CATEGORY).to_owned();
        for key in [(hour, "channel", channel.to_owned()), (hour, "category", category)] {
            self.created.entry(key).or_default().insert(ticket);
        }
    }
}

/// What alerting did in one run.
#[derive(Debug, Default)]
pub struct AlertOutcome {
    /// Deliveries made (one per spike and sender).
    pub sent: usize,
    /// Deliveries that failed, each with why.
    pub failed: Vec<String>,
}

impl SpikeAlerting {
    /// The spikes that start in `hours`, on counts from `fresh` and the history since
    /// `first_hour` (before it the desk exported nothing: no baseline).
    pub async fn spikes(
        &self,
        hours: &[Timestamp],
        fresh: &Fresh,
        first_hour: Timestamp,
    ) -> Result<Vec<SpikeAlert>, ExportError> {
        let mut wanted = BTreeSet::new();
        for &hour in hours {
            for at in [hour, hour - HOUR] {
                wanted.insert(at);
                for week in 1..=i64::from(self.rules.baseline_weeks) {
                    wanted.insert(at - WEEK * week as i32);
                }
            }
        }
        let mut rows = Vec::new();
        for at in wanted.into_iter().filter(|at| *at >= first_hour) {
            match fresh.kpi.get(&at) {
                Some(computed) => rows.extend(computed.iter().cloned()),
                None => rows.extend(self.history.kpi_rows(at).await?),
            }
        }
        let series = created_series(&rows);
        let mut alerts = Vec::new();
        for ((dimension, value), counts) in &series {
            for spike in
                spike_starts(dimension, value, counts, first_hour, hours.iter().copied(), &self.rules)
            {
                let samples = fresh
                    .created
                    .get(&(spike.hour, *dimension, value.clone()))
                    .map(|tickets| tickets.iter().take(MAX_SAMPLES).copied().collect())
                    .unwrap_or_default();
                alerts.push(SpikeAlert { spike, samples });
            }
        }
        Ok(alerts)
    }

    /// Sends each alert through each sender that has not sent it yet.
    pub async fn send(&self, alerts: &[SpikeAlert], now: Timestamp) -> Result<AlertOutcome, StoreError> {
        let mut outcome = AlertOutcome::default();
        let owner = format!("analytics-rollup:{now}");
        for alert in alerts {
            for sender in &self.senders {
                let key = format!("{}:{}", alert.id(), sender.name());
                if self.sent.begin(&key, &owner, now, LEASE).await? != Idempotency::Started {
                    continue;
                }
                match sender.send(alert).await {
                    Ok(()) => {
                        let expires_at = alert.spike.hour.checked_add(SENT_KEPT).unwrap_or(Timestamp::MAX);
                        let result = serde_json::json!({ "sent_at": now });
                        self.sent.complete(IdempotencyRecord { key, result, expires_at }).await?;
                        tracing::info!(
                            dimension = alert.spike.dimension,
                            count = alert.spike.count,
                            sender = sender.name(),
                            "analytics.spike_alerted"
                        );
                        outcome.sent += 1;
                    }
                    Err(error) => {
                        self.sent.release(&key).await?;
                        tracing::warn!(sender = sender.name(), %error, "analytics.spike_alert_failed");
                        outcome.failed.push(format!("{}: {error}", sender.name()));
                    }
                }
            }
        }
        Ok(outcome)
    }
}

/// Spike alerts to the on-call webhook, by the path SLA alerts take: an outbound job on the
/// outbound queue, which `outbound-dispatcher` POSTs (signed delivery id, retries, then the
/// dead-letter queue). The job id names the spike, so a job queued twice is delivered once.
pub struct WebhookAlerts {
    outbound: Arc<dyn Queue>,
    url: String,
    clock: Arc<dyn Clock>,
}

impl WebhookAlerts {
    pub fn new(outbound: Arc<dyn Queue>, url: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self { outbound, url: url.into(), clock }
    }

    /// The job for `alert`: it names the first sample ticket, as an SLA alert names its ticket.
    pub fn job(&self, alert: &SpikeAlert) -> OutboundJob {
        let id = alert.id();
        OutboundJob {
            id: format!("{id}:webhook"),
            ticket: alert.samples.first().copied().unwrap_or(TicketNumber(0)),
            message: MessageId::new(id),
            kind: OutboundKind::SpikeAlert,
            destination: Destination::Webhook { url: self.url.clone() },
            text: alert.text(),
            created_at: self.clock.now(),
            survey: None,
        }
    }
}

#[async_trait]
impl AlertSender for WebhookAlerts {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, alert: &SpikeAlert) -> Result<(), AlertError> {
        self.outbound
            .send(seal(&self.job(alert)))
            .await
            .map(|_| ())
            .map_err(|e| AlertError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(value: &str) -> SpikeAlert {
        SpikeAlert {
            spike: Spike {
                dimension: "category".into(),
                value: value.into(),
                hour: "2026-12-07T02:00:00Z".parse().unwrap(),
                count: 42,
                baseline: 3.25,
                p_value: 1.5e-20,
            },
            samples: vec![TicketNumber(7), TicketNumber(9)],
        }
    }

    #[test]
    fn alert_text_names_category_count_baseline_and_sample_tickets() {
        let text = alert("billing").text();
        for part in
            ["category \"billing\"", "42 new tickets", "2026-12-07 02:00 UTC", "usually 3.2", "#7, #9"]
        {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn alert_subject_is_short_ascii_for_sns() {
        let subject = alert(&"退款".repeat(80)).subject();
        assert!(subject.is_ascii() && subject.chars().count() < 100, "{subject}");
        assert!(subject.starts_with("omnidesk spike: category ??"));
    }
}
