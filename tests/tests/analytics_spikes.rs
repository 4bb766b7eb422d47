//! Spike alerts (issue 16): eight simulated weeks of ordinary volume — a daily cycle in
//! Shanghai business hours, quieter weekends, Poisson noise — per category and per channel,
//! then a 5× burst in one category in one hour.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::analytics::hour_floor;
use omnidesk_domain::analytics::spikes::{Spike, SpikeRules, spike_starts};
use omnidesk_tests::analytics_month::{Month, generate};

const WEEKS: i64 = 8;

fn start() -> Timestamp {
    "2026-09-28T00:00:00Z".parse().expect("an instant")
}

/// Eight weeks at six times the acceptance month's volume: about 10,000 tickets.
fn weeks() -> Month {
    generate(42, start(), WEEKS * 7, 6.0)
}

type Series = BTreeMap<(String, String), BTreeMap<Timestamp, u32>>;

fn series(month: &Month) -> Series {
    let mut series: Series = BTreeMap::new();
    for t in &month.truth {
        let hour = hour_floor(t.created);
        for key in [("category", t.category.clone()), ("channel", t.channel.as_str().to_owned())] {
            *series.entry((key.0.to_owned(), key.1)).or_default().entry(hour).or_default() += 1;
        }
    }
    series
}

fn hours(from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let mut hours = Vec::new();
    let mut hour = from;
    while hour < to {
        hours.push(hour);
        hour += SignedDuration::from_hours(1);
    }
    hours
}

fn alerts(series: &Series, rules: &SpikeRules) -> Vec<Spike> {
    let all = hours(start(), start() + SignedDuration::from_hours(24 * 7 * WEEKS));
    series
        .iter()
        .flat_map(|((dimension, value), counts)| {
            spike_starts(dimension, value, counts, start(), all.iter().copied(), rules)
        })
        .collect()
}

#[test]
fn eight_weeks_of_ordinary_noise_raise_no_false_alarm() {
    let month = weeks();
    assert!(month.truth.len() > 10_000, "{} tickets", month.truth.len());
    let series = series(&month);
    let false_alarms = alerts(&series, &SpikeRules::default());
    let tested: usize = series.len() * 24 * 7 * (WEEKS as usize - 2);
    println!(
        "spike detector on 8 weeks of noise: {} tickets, {} key-hours tested after the 2-week \
         warm-up, {} false alarms: {false_alarms:?}",
        month.truth.len(),
        tested,
        false_alarms.len()
    );
    assert!(false_alarms.is_empty(), "{false_alarms:?}");
}

#[test]
fn a_five_fold_burst_in_one_category_in_one_hour_raises_exactly_one_alert() {
    let month = weeks();
    let mut series = series(&month);
    // Tuesday of the last week, 10:00 in Shanghai (02:00 UTC): a busy hour.
    let burst = start() + SignedDuration::from_hours(24 * 7 * (WEEKS - 1) + 24 + 2);
    let delivery = series.get_mut(&("category".to_owned(), "delivery".to_owned())).expect("delivery");
    let usual = delivery.get(&burst).copied().unwrap_or(0).max(5);
    let extra = 4 * usual;
    delivery.insert(burst, 5 * usual);
    // The burst's tickets come in on every channel, as the usual ones do.
    for (channel, share) in [("chat", 0.45), ("email", 0.35), ("phone", 0.2)] {
        let counts = series.get_mut(&("channel".to_owned(), channel.to_owned())).expect("channel");
        *counts.entry(burst).or_default() += (f64::from(extra) * share).round() as u32;
    }
    let alerts = alerts(&series, &SpikeRules::default());
    println!("5x burst ({} tickets in the hour): {alerts:?}", 5 * usual);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].value.as_str(), alerts[0].hour, alerts[0].count), ("delivery", burst, 5 * usual));
}

#[test]
fn a_spike_lasting_three_hours_alerts_once() {
    let month = weeks();
    let mut series = series(&month);
    let first = start() + SignedDuration::from_hours(24 * 7 * (WEEKS - 1) + 24 * 2 + 3);
    let refund = series.get_mut(&("category".to_owned(), "refund".to_owned())).expect("refund");
    for hour in 0..3 {
        let at = first + SignedDuration::from_hours(hour);
        let usual = refund.get(&at).copied().unwrap_or(0).max(5);
        refund.insert(at, 6 * usual);
    }
    let alerts = alerts(&series, &SpikeRules::default());
    assert_eq!(alerts.iter().map(|a| (a.value.as_str(), a.hour)).collect::<Vec<_>>(), [("refund", first)]);
}
