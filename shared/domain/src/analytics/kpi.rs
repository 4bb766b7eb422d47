//! The hourly KPIs from the moments of one hour: per channel × team × category, counts and
//! the rates and percentiles built on them. Percentiles are nearest-rank (the smallest value
//! with at least p of the values at or below it), exact and easy to recompute.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::facts::{Moment, MomentKind};
use super::rows::KpiRow;

/// A rating at or above this counts as satisfied (4 or 5 of 5).
pub const SATISFIED_SCORE: u8 = 4;

/// Nearest-rank percentile of `values` (any order); `None` when empty.
pub fn percentile(values: &[i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn rate(count: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| count as f64 / of as f64)
}

#[derive(Default)]
struct Group {
    created: i64,
    complaints: i64,
    first_replies: Vec<i64>,
    resolutions: Vec<i64>,
    sla_met: i64,
    fcr: i64,
    scores: Vec<i64>,
}

/// The KPI rows of the hour starting at `hour`, from every moment in it; sorted by group.
pub fn hourly<'a>(hour: Timestamp, moments: impl IntoIterator<Item = &'a Moment>) -> Vec<KpiRow> {
    let mut groups: BTreeMap<(String, Option<String>, Option<String>), Group> = BTreeMap::new();
    for moment in moments {
        let key = (moment.channel.clone(), moment.team.clone(), moment.category.clone());
        let group = groups.entry(key).or_default();
        match moment.kind {
            MomentKind::Created => {
                group.created += 1;
                group.complaints += i64::from(moment.complaint);
            }
            MomentKind::FirstReply { seconds } => group.first_replies.push(seconds),
            MomentKind::Solved { seconds, sla_met, first_contact } => {
                group.resolutions.push(seconds);
                group.sla_met += i64::from(sla_met);
                group.fcr += i64::from(first_contact);
            }
            MomentKind::Answered { score } => group.scores.push(i64::from(score)),
        }
    }
    groups
        .into_iter()
        .map(|((channel, team, category), g)| {
            let solved = g.resolutions.len() as i64;
            let answers = g.scores.len() as i64;
            let csat_sum: i64 = g.scores.iter().sum();
            let satisfied = g.scores.iter().filter(|s| **s >= i64::from(SATISFIED_SCORE)).count() as i64;
            KpiRow {
                hour,
                channel,
                team,
                category,
                created: g.created,
                solved,
                first_replies: g.first_replies.len() as i64,
                first_reply_p50_seconds: percentile(&g.first_replies, 0.5),
                first_reply_p90_seconds: percentile(&g.first_replies, 0.9),
                resolution_p50_seconds: percentile(&g.resolutions, 0.5),
                resolution_p90_seconds: percentile(&g.resolutions, 0.9),
                sla_met: g.sla_met,
                sla_attainment: rate(g.sla_met, solved),
                fcr_solved: g.fcr,
                fcr_rate: rate(g.fcr, solved),
                csat_answers: answers,
                csat_sum,
                csat_satisfied: satisfied,
                csat_average: rate(csat_sum, answers),
                csat_satisfied_rate: rate(satisfied, answers),
                complaints: g.complaints,
                complaint_rate: rate(g.complaints, g.created),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_pick_stored_values() {
        let values = [50, 10, 40, 20, 30];
        assert_eq!(percentile(&values, 0.5), Some(30));
        assert_eq!(percentile(&values, 0.9), Some(50));
        assert_eq!(percentile(&[7], 0.9), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
