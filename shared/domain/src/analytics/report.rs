//! The KPI report: one static HTML page of the last 30 days, drawn from `kpi_hourly` rows —
//! volume per channel, first-reply and resolution times, SLA attainment, CSAT, complaint
//! rate, top categories, spikes marked. Inline SVG and CSS only: no script, no external
//! asset, readable offline and on a phone. Names come from the data (categories, teams) and
//! are escaped: text is never markup.

use std::collections::BTreeMap;
use std::fmt::Write;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::hour_floor;
use super::rows::KpiRow;
use super::spikes::{NO_CATEGORY, Spike, SpikeRules, created_series, spike_starts};
use crate::markup::escape;

/// Days the report covers.
pub const REPORT_DAYS: i64 = 30;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;
const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

fn day_of(at: Timestamp) -> String {
    at.to_zoned(TimeZone::UTC).date().to_string()
}

#[derive(Default, Clone)]
struct Day {
    created: BTreeMap<String, i64>,
    solved: i64,
    sla_met: i64,
    csat_answers: i64,
    csat_sum: i64,
    complaints: i64,
    first_reply: Vec<(i64, i64)>,
    resolution: Vec<(i64, i64)>,
}

/// Weighted mean of hourly medians: a day's typical time (medians do not add up exactly).
fn typical(values: &[(i64, i64)]) -> Option<f64> {
    let weight: i64 = values.iter().map(|(_, w)| w).sum();
    (weight > 0).then(|| values.iter().map(|(v, w)| (v * w) as f64).sum::<f64>() / weight as f64)
}

/// The report of the `REPORT_DAYS` days up to `now` (its hour included), from every
/// `kpi_hourly` row there is (older rows feed the spike baselines).
pub fn render(rows: &[KpiRow], now: Timestamp, rules: &SpikeRules) -> String {
    let until = hour_floor(now) + SignedDuration::from_hours(1);
    // Whole UTC days, the last one today's: from midnight 29 days before today's.
    let today = until - SignedDuration::from_hours(1);
    let midnight = Timestamp::from_second(today.as_second().div_euclid(86_400) * 86_400).unwrap_or(today);
    let from = midnight - SignedDuration::from_hours(24 * (REPORT_DAYS - 1));
    let days: Vec<String> =
        (0..REPORT_DAYS).map(|d| day_of(from + SignedDuration::from_hours(24 * d))).collect();
    let mut by_day: BTreeMap<String, Day> = days.iter().map(|d| (d.clone(), Day::default())).collect();
    let mut categories: BTreeMap<String, i64> = BTreeMap::new();
    let series = created_series(rows);
    let first_hour = rows.iter().map(|r| r.hour).min().unwrap_or(from);
    for row in rows {
        let category = row.category.clone().unwrap_or_else(|| String::from(NO_CATEGORY));
        if row.hour < from || row.hour >= until {
            continue;
        }
        let Some(day) = by_day.get_mut(&day_of(row.hour)) else { continue };
        *day.created.entry(row.channel.clone()).or_default() += row.created;
        day.solved += row.solved;
        day.sla_met += row.sla_met;
        day.csat_answers += row.csat_answers;
        day.csat_sum += row.csat_sum;
        day.complaints += row.complaints;
        day.first_reply.extend(row.first_reply_p50_seconds.map(|v| (v, row.first_replies)));
        day.resolution.extend(row.resolution_p50_seconds.map(|v| (v, row.solved)));
        *categories.entry(category).or_default() += row.created;
    }
    let hours: Vec<Timestamp> = (0..24 * REPORT_DAYS)
        .map(|h| from + SignedDuration::from_hours(h))
        .take_while(|h| *h < until)
        .collect();
    let spikes: Vec<Spike> = series
        .iter()
        .flat_map(|((dimension, value), counts)| {
            spike_starts(dimension, value, counts, first_hour, hours.iter().copied(), rules)
        })
        .collect();
    let spike_days: Vec<usize> =
        spikes.iter().filter_map(|s| days.iter().position(|d| *d == day_of(s.hour))).collect();

    let channels: Vec<String> = {
        let mut all: Vec<String> = by_day.values().flat_map(|d| d.created.keys().cloned()).collect();
        all.sort();
        all.dedup();
        all
    };
    let column = |f: &dyn Fn(&Day) -> Option<f64>| -> Vec<Option<f64>> { by_day.values().map(f).collect() };
    let volume: Vec<(String, Vec<Option<f64>>)> = channels
        .iter()
        .map(|c| (c.clone(), column(&|d| Some(d.created.get(c).copied().unwrap_or(0) as f64))))
        .collect();
    let hours_of = |v: Option<f64>| v.map(|s| s / 3600.0);
    let times = vec![
        ("first reply (h)".to_owned(), column(&|d| hours_of(typical(&d.first_reply)))),
        ("resolution (h)".to_owned(), column(&|d| hours_of(typical(&d.resolution)))),
    ];
    let rate = |n: i64, of: i64| (of > 0).then(|| 100.0 * n as f64 / of as f64);
    let sla = vec![("SLA attainment (%)".to_owned(), column(&|d| rate(d.sla_met, d.solved)))];
    let csat = vec![(
        "CSAT average (1-5)".to_owned(),
        column(&|d| (d.csat_answers > 0).then(|| d.csat_sum as f64 / d.csat_answers as f64)),
    )];
    let complaints =
        vec![("complaint rate (%)".to_owned(), column(&|d| rate(d.complaints, d.created.values().sum())))];
    let mut top: Vec<(String, i64)> = categories.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(8);

    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>omnidesk KPI report</title><style>\
         body{{font-family:system-ui,sans-serif;margin:1rem auto;max-width:760px;padding:0 .5rem;color:#222}}\
         h1{{font-size:1.4rem}}h2{{font-size:1.05rem;margin:1.4rem 0 .3rem}}svg{{width:100%;height:auto}}\
         .legend span{{margin-right:1rem}}.note{{color:#666;font-size:.85rem}}table{{border-collapse:collapse}}\
         td,th{{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #ddd}}</style></head><body>\
         <h1>omnidesk KPI report</h1><p class=\"note\">{} to {} (UTC), from the analytics export. \
         Days with a spike are marked in red.</p>",
        escape(days.first().map_or("", String::as_str)),
        escape(days.last().map_or("", String::as_str))
    );
    chart(&mut html, "volume", "Tickets created per channel", &volume, &spike_days);
    chart(&mut html, "times", "First-reply and resolution times (business hours, typical)", &times, &[]);
    chart(&mut html, "sla", "SLA attainment", &sla, &[]);
    chart(&mut html, "csat", "Customer satisfaction", &csat, &[]);
    chart(&mut html, "complaints", "Complaint rate", &complaints, &[]);
    bars(&mut html, "Top categories (30 days)", &top);
    html.push_str("<h2>Spikes</h2>");
    if spikes.is_empty() {
        html.push_str("<p>None in these 30 days.</p>");
    } else {
        html.push_str(
            "<table id=\"spikes\"><tr><th>hour (UTC)</th><th>what</th><th>tickets</th><th>usual</th></tr>",
        );
        for spike in &spikes {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{:.1}</td></tr>",
                escape(&spike.hour.strftime("%Y-%m-%d %H:00").to_string()),
                escape(&spike.dimension),
                escape(&spike.value),
                spike.count,
                spike.baseline
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>\n");
    html
}

/// A line chart of daily values, one line per series; `marked` days get a red band.
fn chart(html: &mut String, id: &str, title: &str, series: &[(String, Vec<Option<f64>>)], marked: &[usize]) {
    let points = series.first().map_or(0, |(_, v)| v.len()).max(1);
    let max = series.iter().flat_map(|(_, v)| v.iter().flatten()).fold(0.0f64, |a, b| a.max(*b));
    let top = if max > 0.0 { max * 1.1 } else { 1.0 };
    let step = (WIDTH - LEFT - 8.0) / points as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let y = |v: f64| 8.0 + (HEIGHT - BOTTOM - 8.0) * (1.0 - v / top);
    let _ = write!(
        html,
        "<h2>{}</h2><svg id=\"chart-{id}\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"{}\">",
        escape(title),
        escape(title)
    );
    for day in marked {
        let _ = write!(
            html,
            "<rect class=\"spike\" x=\"{:.1}\" y=\"8\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#fdd\"/>",
            x(*day) - step / 2.0,
            step,
            HEIGHT - BOTTOM - 8.0
        );
    }
    let _ = write!(
        html,
        "<line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{WIDTH}\" y2=\"{b}\" stroke=\"#999\"/>\
         <line x1=\"{LEFT}\" y1=\"8\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#999\"/>\
         <text x=\"{t}\" y=\"16\" font-size=\"11\" text-anchor=\"end\">{top:.1}</text>\
         <text x=\"{t}\" y=\"{b}\" font-size=\"11\" text-anchor=\"end\">0</text>",
        b = HEIGHT - BOTTOM,
        t = LEFT - 4.0,
    );
    for (i, label) in [0, points / 2, points - 1].iter().enumerate() {
        let _ = write!(
            html,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x(*label),
            HEIGHT - 6.0,
            ["day 1", "day 15", "day 30"][i]
        );
    }
    for (n, (_, values)) in series.iter().enumerate() {
        let path: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let color = COLORS[n % COLORS.len()];
        let _ = write!(
            html,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        // A day on its own (no neighbour to join) still shows.
        for point in &path {
            if let Some((cx, cy)) = point.split_once(',') {
                let _ = write!(html, "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"2.5\" fill=\"{color}\"/>");
            }
        }
    }
    html.push_str("</svg><p class=\"legend\">");
    for (n, (name, _)) in series.iter().enumerate() {
        let _ = write!(
            html,
            "<span style=\"color:{}\">&#9632; {}</span>",
            COLORS[n % COLORS.len()],
            escape(name)
        );
    }
    html.push_str("</p>");
}

/// Horizontal bars.
fn bars(html: &mut String, title: &str, bars: &[(String, i64)]) {
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1) as f64;
    let height = 22.0 * bars.len().max(1) as f64 + 8.0;
    let _ = write!(
        html,
        "<h2>{}</h2><svg id=\"chart-categories\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"{}\">",
        escape(title),
        escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 4.0 + 22.0 * i as f64;
        let width = (WIDTH - 220.0) * (*value as f64) / max;
        let _ = write!(
            html,
            "<text x=\"150\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
             <rect x=\"158\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"16\" fill=\"#1f77b4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{value}</text>",
            y + 13.0,
            escape(label),
            162.0 + width,
            y + 13.0
        );
    }
    html.push_str("</svg>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hour: Timestamp, category: &str, created: i64) -> KpiRow {
        KpiRow {
            hour,
            channel: "chat".into(),
            team: None,
            category: Some(category.into()),
            created,
            solved: created,
            first_replies: created,
            first_reply_p50_seconds: Some(600),
            first_reply_p90_seconds: Some(900),
            resolution_p50_seconds: Some(3600),
            resolution_p90_seconds: Some(7200),
            sla_met: created,
            sla_attainment: Some(1.0),
            fcr_solved: 0,
            fcr_rate: Some(0.0),
            csat_answers: 1,
            csat_sum: 4,
            csat_satisfied: 1,
            csat_average: Some(4.0),
            csat_satisfied_rate: Some(1.0),
            complaints: 0,
            complaint_rate: Some(0.0),
        }
    }

    #[test]
    fn the_report_draws_every_chart_inline_and_escapes_names() {
        let until: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let rows = vec![row(until - SignedDuration::from_hours(30), "<script>alert(1)</script>", 3)];
        let html = render(&rows, until, &SpikeRules::default());
        for id in
            ["chart-volume", "chart-times", "chart-sla", "chart-csat", "chart-complaints", "chart-categories"]
        {
            assert!(html.contains(id), "{id}");
        }
        assert!(!html.contains("<script"), "names are escaped");
        assert!(html.contains("&lt;script&gt;"));
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains(" src="),
            "no external asset"
        );
    }
}
