//! Spike detection: is this hour's volume of a category (or channel) far above its own
//! normal? The normal is the mean of the same hour of the week over the previous weeks, so
//! Monday mornings are compared with Monday mornings and Sunday nights with Sunday nights.
//! An hour is a spike when its count is at least `min_count`, at least `ratio` times that
//! baseline, and improbable under a Poisson distribution with the baseline as mean (upper
//! tail below `p_value`). The minimum count keeps quiet categories from alerting on three
//! tickets; the ratio keeps huge categories from alerting on a statistically significant
//! but harmless 20 %; the tail accounts for how noisy small counts are. A spike lasting
//! several hours is one spike: only its first hour alerts.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::rows::KpiRow;

const WEEK: SignedDuration = SignedDuration::from_hours(24 * 7);

/// The thresholds (`[analytics.spikes]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeRules {
    pub min_count: u32,
    pub ratio: f64,
    pub p_value: f64,
    /// Weeks of history the baseline averages.
    pub baseline_weeks: u32,
    /// Weeks of history needed before a key can alert at all.
    pub warm_up_weeks: u32,
}

impl Default for SpikeRules {
    fn default() -> Self {
        Self { min_count: 8, ratio: 3.0, p_value: 1e-6, baseline_weeks: 4, warm_up_weeks: 2 }
    }
}

/// One spike, as the alert tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// `category` or `channel`.
    pub dimension: String,
    pub value: String,
    /// The hour it started.
    pub hour: Timestamp,
    pub count: u32,
    pub baseline: f64,
    pub p_value: f64,
}

/// Hourly counts of new tickets per key: `("category", name)` (`(none)` for tickets without
/// one) and `("channel", name)`.
pub type Series = BTreeMap<(&'static str, String), BTreeMap<Timestamp, u32>>;

/// The label of tickets without a category.
pub const NO_CATEGORY: &str = "(none)";

/// The series of new tickets per category and per channel, from `kpi_hourly` rows: what the
/// report marks and what the alerts send are computed from the same counts.
pub fn created_series<'a>(rows: impl IntoIterator<Item = &'a KpiRow>) -> Series {
    let mut series = Series::new();
    for row in rows {
        let category = row.category.clone().unwrap_or_else(|| String::from(NO_CATEGORY));
        let created = u32::try_from(row.created).unwrap_or(0);
        *series.entry(("category", category)).or_default().entry(row.hour).or_default() += created;
        *series.entry(("channel", row.channel.clone())).or_default().entry(row.hour).or_default() += created;
    }
    series
}

/// `P(X >= k)` for `X ~ Poisson(mean)`, summed in log space so large counts do not overflow.
pub fn poisson_tail(k: u32, mean: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if mean <= 0.0 {
        return 0.0;
    }
    // 1 - P(X <= k - 1): sum the lower terms when they are few, else the upper ones.
    let log_term = |i: u32| -> f64 { f64::from(i) * mean.ln() - mean - ln_factorial(i) };
    if f64::from(k) <= mean {
        let lower: f64 = (0..k).map(|i| log_term(i).exp()).sum();
        return (1.0 - lower).max(0.0);
    }
    let mut total = 0.0;
    let mut i = k;
    loop {
        let term = log_term(i).exp();
        total += term;
        if term < total * 1e-16 || i > k + 10_000 {
            return total.min(1.0);
        }
        i += 1;
    }
}

fn ln_factorial(n: u32) -> f64 {
    (2..=n).map(|i| f64::from(i).ln()).sum()
}

/// The baseline of `hour`: the mean count of the same hour in the previous weeks (`None`
/// during the warm-up).
pub fn baseline(
    series: &BTreeMap<Timestamp, u32>,
    first_hour: Timestamp,
    hour: Timestamp,
    rules: &SpikeRules,
) -> Option<f64> {
    let mut counts = Vec::new();
    let mut at = hour;
    for _ in 0..rules.baseline_weeks {
        at = at.checked_sub(WEEK).ok()?;
        if at < first_hour {
            break;
        }
        counts.push(f64::from(series.get(&at).copied().unwrap_or(0)));
    }
    if counts.len() < rules.warm_up_weeks.max(1) as usize {
        return None;
    }
    Some(counts.iter().sum::<f64>() / counts.len() as f64)
}

/// Whether `hour` is a spike of `series` (hourly counts of one key; absent hours count 0,
/// history starts at `first_hour`): its count, baseline and tail.
pub fn check(
    series: &BTreeMap<Timestamp, u32>,
    first_hour: Timestamp,
    hour: Timestamp,
    rules: &SpikeRules,
) -> Option<(u32, f64, f64)> {
    let count = series.get(&hour).copied().unwrap_or(0);
    if count < rules.min_count {
        return None;
    }
    let baseline = baseline(series, first_hour, hour, rules)?;
    // An empty history is a baseline of half a ticket, not zero: one ticket is no spike.
    let mean = baseline.max(0.5);
    if f64::from(count) < rules.ratio * mean {
        return None;
    }
    let tail = poisson_tail(count, mean);
    (tail <= rules.p_value).then_some((count, baseline, tail))
}

/// The spikes that start in `hours` (each hour of one key's series): an hour whose previous
/// hour was a spike too continues that spike and raises no alert of its own.
pub fn spike_starts(
    dimension: &str,
    value: &str,
    series: &BTreeMap<Timestamp, u32>,
    first_hour: Timestamp,
    hours: impl IntoIterator<Item = Timestamp>,
    rules: &SpikeRules,
) -> Vec<Spike> {
    let mut spikes = Vec::new();
    for hour in hours {
        let Some((count, baseline, p_value)) = check(series, first_hour, hour, rules) else { continue };
        let previous = hour.checked_sub(SignedDuration::from_hours(1)).ok();
        if previous.is_some_and(|p| check(series, first_hour, p, rules).is_some()) {
            continue;
        }
        spikes.push(Spike {
            dimension: dimension.to_owned(),
            value: value.to_owned(),
            hour,
            count,
            baseline,
            p_value,
        });
    }
    spikes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tail_matches_known_values() {
        // P(X >= 1 | 1) = 1 - e^-1; P(X >= 10 | 2) ~ 4.65e-5.
        assert!((poisson_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert!((poisson_tail(10, 2.0) - 4.6498e-5).abs() < 1e-8, "{}", poisson_tail(10, 2.0));
        assert!(poisson_tail(40, 8.0) < 1e-12);
        assert_eq!(poisson_tail(0, 3.0), 1.0);
    }
}
