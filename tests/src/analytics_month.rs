//! A seeded month of realistic ticket events for the analytics tests, and the KPIs of
//! infra/athena/queries.sql computed from what the generator decided (not from the events):
//! chat, email and phone tickets in four teams, more in business hours and on weekdays,
//! first replies minutes to a day later, pending spells waiting on the customer,
//! reopenings, SLA breaches and surveys with changed answers. Personal data is planted
//! where the event log can carry it (customer ids, call contact ids, escalation reasons,
//! tags) so a test can prove none of it is exported.

use std::collections::BTreeMap;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::model::{
    Actor, Channel, Customer, CustomerId, EventKind, MessageId, Priority, Status, TicketEvent, TicketNumber,
};
use omnidesk_domain::sla::{SlaConfig, SlaPolicies};
use serde_json::{Value, json};

pub const TEAMS: [&str; 4] = ["billing", "shipping", "returns", "vip"];
pub const CATEGORIES: [&str; 5] = ["delivery", "refund", "payment", "account", "complaint"];
pub const AGENTS: [&str; 6] = ["ann", "bo", "chen", "dara", "eli", "fay"];

/// A splitmix64 generator: seeded, so the month is the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Seconds, log-uniform between `min` and `max`: many quick answers, a long tail.
    pub fn spread(&mut self, min: i64, max: i64) -> i64 {
        let (lo, hi) = ((min.max(1)) as f64, (max.max(2)) as f64);
        (lo * (hi / lo).powf(self.unit())) as i64
    }

    /// A Poisson draw (Knuth's method; the means here are small).
    pub fn poisson(&mut self, mean: f64) -> u64 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= self.unit();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

/// What the generator decided for one ticket, as far as the month reaches.
#[derive(Debug, Clone)]
pub struct Truth {
    pub number: u64,
    pub channel: Channel,
    pub team: String,
    pub category: String,
    pub created: Timestamp,
    pub first_reply: Option<Timestamp>,
    pub replies: u32,
    pub replies_at_first_solve: Option<u32>,
    pub solves: Vec<Timestamp>,
    pub solved_now: bool,
    pub reopens: u32,
    /// Spans the resolution clock stood still (pending, solved before a reopen).
    pub stopped: Vec<(Timestamp, Timestamp)>,
    pub breached: bool,
    pub csat: Option<u8>,
}

pub struct Month {
    pub start: Timestamp,
    pub end: Timestamp,
    pub events: Vec<TicketEvent>,
    pub truth: Vec<Truth>,
    pub customers: Vec<Customer>,
    /// Personal data planted in the inputs; none may reach an export.
    pub pii: Vec<String>,
    pub policies: SlaPolicies,
}

/// The SLA calendars of the month: the shipped defaults (Mon–Fri 09:00–18:00 Shanghai,
/// pending and on hold pause), with the VIP team on the round-the-clock calendar.
pub fn policies() -> SlaPolicies {
    let mut config = SlaConfig::default();
    config.team_calendars.insert("vip".into(), "24x7".into());
    config.validate().expect("the test SLA configuration is valid")
}

struct Trail<'a> {
    number: TicketNumber,
    seq: u64,
    at: Timestamp,
    end: Timestamp,
    events: &'a mut Vec<TicketEvent>,
}

impl Trail<'_> {
    /// Appends at `at` (never before the previous event); `false` once past the month.
    fn push(&mut self, at: Timestamp, actor: Actor, kind: EventKind) -> bool {
        let at = at.max(self.at);
        if at >= self.end {
            return false;
        }
        self.at = at;
        self.seq += 1;
        self.events.push(TicketEvent { ticket: self.number, seq: self.seq, at, actor, kind });
        true
    }
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

fn agent(name: &str) -> Actor {
    Actor::Agent(name.to_owned())
}

fn message(n: u64, k: u32) -> MessageId {
    MessageId::new(format!("msg_{n}_{k}"))
}

/// Tickets per hour, per the hour's place in Shanghai's week.
fn hourly_mean(hour: Timestamp, scale: f64) -> f64 {
    let local = hour.to_zoned(TimeZone::get("Asia/Shanghai").expect("bundled zone"));
    let weekend = matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday);
    let base = match local.hour() {
        9..=17 => 3.0,
        7 | 8 | 18..=21 => 1.2,
        _ => 0.25,
    };
    base * if weekend { 0.4 } else { 1.0 } * scale
}

/// `days` days from `start` (a UTC midnight); `scale` multiplies the volume.
pub fn generate(seed: u64, start: Timestamp, days: i64, scale: f64) -> Month {
    let mut rng = Rng::new(seed);
    let end = start + secs(days * 86_400);
    let policies = policies();
    let mut customers = Vec::new();
    let mut pii = Vec::new();
    for k in 0..300u32 {
        let email = format!("alice.{k}@example.com");
        let phone = format!("+8613800{k:05}");
        let name = format!("Alice Example{k}");
        let id = CustomerId::new(format!("cus_{email}"));
        let mut customer = Customer::new(id.clone(), Some(name.clone()), Vec::new(), start);
        customer.tier = (k % 10 == 0).then(|| "vip".to_owned());
        pii.extend([email, phone, name, id.to_string()]);
        customers.push(customer);
    }
    let mut events = Vec::new();
    let mut truth = Vec::new();
    let mut hour = start;
    let mut number = 0u64;
    while hour < end {
        for _ in 0..rng.poisson(hourly_mean(hour, scale)) {
            number += 1;
            let created = hour + secs(rng.below(3600) as i64);
            let k = rng.below(customers.len() as u64) as usize;
            truth.push(ticket(&mut rng, number, created, end, &customers[k], k, &policies, &mut events));
        }
        hour += secs(3600);
    }
    events.sort_by_key(|e| (e.at, e.ticket, e.seq));
    Month { start, end, events, truth, customers, pii, policies }
}

#[allow(clippy::too_many_arguments)]
fn ticket(
    rng: &mut Rng,
    n: u64,
    created: Timestamp,
    end: Timestamp,
    customer: &Customer,
    k: usize,
    policies: &SlaPolicies,
    events: &mut Vec<TicketEvent>,
) -> Truth {
    let channel = match rng.below(20) {
        0..=8 => Channel::Chat,
        9..=15 => Channel::Email,
        _ => Channel::Phone,
    };
    let team = TEAMS[rng.below(TEAMS.len() as u64) as usize].to_owned();
    // delivery 30 %, refund 20 %, payment 20 %, account 15 %, complaint 15 %.
    let category = match rng.below(20) {
        0..=5 => CATEGORIES[0],
        6..=9 => CATEGORIES[1],
        10..=13 => CATEGORIES[2],
        14..=16 => CATEGORIES[3],
        _ => CATEGORIES[4],
    }
    .to_owned();
    let owner = AGENTS[rng.below(AGENTS.len() as u64) as usize];
    let me = Actor::Customer(customer.id.clone());
    let mut truth = Truth {
        number: n,
        channel,
        team: team.clone(),
        category: category.clone(),
        created,
        first_reply: None,
        replies: 0,
        replies_at_first_solve: None,
        solves: Vec::new(),
        solved_now: false,
        reopens: 0,
        stopped: Vec::new(),
        breached: false,
        csat: None,
    };
    let mut t = Trail { number: TicketNumber(n), seq: 0, at: created, end, events };
    let requester = customer.id.clone();
    t.push(created, me.clone(), EventKind::Created { channel, requester, follow_up_of: None });
    t.push(created, me.clone(), EventKind::MessageIn { message: message(n, 0) });
    if channel == Channel::Phone {
        let contact = format!("contact-+8613800{k:05}");
        t.push(
            created,
            Actor::System,
            EventKind::Call {
                contact,
                stage: "answered".into(),
                agent: Some(owner.into()),
                talk_seconds: Some(180),
                reason: None,
            },
        );
    }
    let reason = format!("routing rule; caller Alice Example{k}");
    t.push(
        created,
        Actor::System,
        EventKind::Escalated { from_team: None, to_team: Some(team.clone()), reason },
    );
    t.push(created, Actor::System, EventKind::Category { from: None, to: Some(category.clone()) });
    t.push(
        created,
        Actor::System,
        EventKind::Tags { added: vec![format!("alice.{k}@example.com")], removed: vec![] },
    );
    if rng.chance(0.1) {
        t.push(created, Actor::System, EventKind::Priority { from: Priority::Normal, to: Priority::High });
    }
    // The acknowledgement is the system's, not a reply.
    t.push(created, Actor::System, EventKind::MessageOut { message: message(n, 1), internal: false });
    let assigned = created + secs(rng.spread(30, 1800));
    if !t.push(assigned, Actor::System, EventKind::Assigned { from: None, to: Some(owner.into()) }) {
        return truth;
    }
    t.push(assigned, Actor::System, EventKind::Status { from: Status::New, to: Status::Open });
    if rng.chance(0.3) {
        t.push(
            assigned + secs(60),
            agent(owner),
            EventKind::MessageOut { message: message(n, 2), internal: true },
        );
    }
    let first = assigned + secs(rng.spread(120, 30 * 3600));
    let first_reply_business = policies.team_calendar(Some(&team)).business_between(created, first).as_secs();
    if first_reply_business > 4 * 3600 {
        if !t.push(first, Actor::System, EventKind::SlaBreached { timer: "first_reply".into() }) {
            return truth;
        }
        truth.breached = true;
    }
    if !t.push(first, agent(owner), EventKind::MessageOut { message: message(n, 3), internal: false }) {
        return truth;
    }
    truth.first_reply = Some(first);
    truth.replies = 1;
    let mut last = first;
    if rng.chance(0.3) {
        // Waiting on the customer: the clock stops until they write back.
        t.push(first, agent(owner), EventKind::Status { from: Status::Open, to: Status::Pending });
        let back = first + secs(rng.spread(600, 48 * 3600));
        if !t.push(back, me.clone(), EventKind::MessageIn { message: message(n, 4) }) {
            return truth;
        }
        t.push(back, me.clone(), EventKind::Status { from: Status::Pending, to: Status::Open });
        truth.stopped.push((first, back));
        let answer = back + secs(rng.spread(300, 8 * 3600));
        if !t.push(answer, agent(owner), EventKind::MessageOut { message: message(n, 5), internal: false }) {
            return truth;
        }
        truth.replies += 1;
        last = answer;
    }
    if !rng.chance(0.85) {
        return truth;
    }
    let solved = last + secs(rng.spread(300, 12 * 3600));
    if !t.push(solved, agent(owner), EventKind::Status { from: Status::Open, to: Status::Solved }) {
        return truth;
    }
    truth.solves.push(solved);
    truth.solved_now = true;
    truth.replies_at_first_solve = Some(truth.replies);
    let mut solved_at = solved;
    if rng.chance(0.15) {
        let back = solved + secs(rng.spread(3600, 72 * 3600));
        if !t.push(back, me.clone(), EventKind::MessageIn { message: message(n, 6) }) {
            return truth;
        }
        t.push(back, me.clone(), EventKind::Status { from: Status::Solved, to: Status::Open });
        truth.stopped.push((solved, back));
        truth.reopens += 1;
        truth.solved_now = false;
        let answer = back + secs(rng.spread(300, 6 * 3600));
        if !t.push(answer, agent(owner), EventKind::MessageOut { message: message(n, 7), internal: false }) {
            return truth;
        }
        truth.replies += 1;
        let again = answer + secs(rng.spread(60, 3600));
        if !t.push(again, agent(owner), EventKind::Status { from: Status::Open, to: Status::Solved }) {
            return truth;
        }
        truth.solves.push(again);
        truth.solved_now = true;
        solved_at = again;
    }
    if rng.chance(0.5) {
        let sent = solved_at + secs(86_400);
        let survey = EventKind::SurveySent {
            channel: Some(channel),
            team: Some(team.clone()),
            agent: Some(owner.into()),
        };
        if !t.push(sent, Actor::System, survey) {
            return truth;
        }
        let score = [5, 5, 4, 4, 4, 3, 2, 1, 5, 4][rng.below(10) as usize];
        let answered = sent + secs(rng.spread(600, 30 * 3600));
        let answer = |score: u8, previous: Option<u8>| EventKind::SurveyAnswered {
            score,
            channel: Some(channel),
            team: Some(team.clone()),
            agent: Some(owner.into()),
            previous,
            follow_up: None,
        };
        if !t.push(answered, me.clone(), answer(score, None)) {
            return truth;
        }
        truth.csat = Some(score);
        if rng.chance(0.2) {
            let changed = if score > 3 { 3 } else { 5 };
            if t.push(answered + secs(3600), me.clone(), answer(changed, Some(score))) {
                truth.csat = Some(changed);
            }
        }
    }
    truth
}

impl Truth {
    fn business(&self, policies: &SlaPolicies, from: Timestamp, to: Timestamp) -> i64 {
        policies.team_calendar(Some(&self.team)).business_between(from, to).as_secs() as i64
    }

    pub fn first_reply_seconds(&self, policies: &SlaPolicies) -> Option<i64> {
        self.first_reply.map(|at| self.business(policies, self.created, at))
    }

    pub fn resolution_seconds(&self, policies: &SlaPolicies) -> Option<i64> {
        let solved = *self.solves.last()?;
        let stopped: i64 = self
            .stopped
            .iter()
            .filter(|(from, _)| *from < solved)
            .map(|(from, to)| self.business(policies, *from, (*to).min(solved)))
            .sum();
        Some(self.business(policies, self.created, solved) - stopped)
    }

    pub fn first_contact(&self) -> Option<bool> {
        self.replies_at_first_solve.map(|replies| replies <= 1 && self.reopens == 0)
    }

    pub fn complaint(&self) -> bool {
        self.category == "complaint"
    }
}

fn day(at: Timestamp) -> String {
    at.to_zoned(TimeZone::UTC).date().to_string()
}

fn mean(values: impl IntoIterator<Item = f64>) -> Value {
    let values: Vec<f64> = values.into_iter().collect();
    if values.is_empty() { Value::Null } else { json!(values.iter().sum::<f64>() / values.len() as f64) }
}

/// Every query of infra/athena/queries.sql, answered from the generator's own decisions:
/// `{name: [rows]}`, rows as the SQL orders them.
pub fn expected_kpis(month: &Month) -> Value {
    let p = &month.policies;
    let mut by_channel: BTreeMap<&str, Vec<&Truth>> = BTreeMap::new();
    for t in &month.truth {
        by_channel.entry(t.channel.as_str()).or_default().push(t);
    }
    let rows = |f: &dyn Fn(&str, &[&Truth]) -> Value| -> Value {
        Value::Array(by_channel.iter().map(|(c, ts)| f(c, ts)).collect())
    };
    let response_speed = rows(&|c, ts| {
        let times: Vec<f64> = ts.iter().filter_map(|t| t.first_reply_seconds(p)).map(|s| s as f64).collect();
        json!([c, times.len(), mean(times)])
    });
    let resolution_rate = rows(&|c, ts| {
        let solved: Vec<&&Truth> = ts.iter().filter(|t| t.solved_now).collect();
        json!([
            c,
            ts.len(),
            solved.len(),
            mean(solved.iter().filter_map(|t| t.resolution_seconds(p)).map(|s| s as f64)),
            mean(solved.iter().map(|t| if t.first_contact() == Some(true) { 1.0 } else { 0.0 })),
        ])
    });
    let satisfaction = rows(&|c, ts| {
        let scores: Vec<u8> = ts.iter().filter_map(|t| t.csat).collect();
        json!([
            c,
            scores.len(),
            mean(scores.iter().map(|s| f64::from(*s))),
            mean(scores.iter().map(|s| if *s >= 4 { 1.0 } else { 0.0 })),
        ])
    });
    let complaint_rate = rows(&|c, ts| {
        let complaints = ts.iter().filter(|t| t.complaint()).count();
        json!([c, complaints, mean(ts.iter().map(|t| if t.complaint() { 1.0 } else { 0.0 }))])
    });
    let mut by_team: BTreeMap<&str, Vec<&Truth>> = BTreeMap::new();
    for t in month.truth.iter().filter(|t| !t.solves.is_empty()) {
        by_team.entry(&t.team).or_default().push(t);
    }
    let sla_attainment: Vec<Value> = by_team
        .iter()
        .map(|(team, ts)| {
            json!([team, ts.len(), mean(ts.iter().map(|t| if t.breached { 0.0 } else { 1.0 }))])
        })
        .collect();
    let last_day = month.truth.iter().map(|t| day(t.created)).max().unwrap_or_default();
    let last = jiff::civil::Date::strptime("%Y-%m-%d", &last_day).expect("a date");
    let week_start = last.checked_sub(jiff::Span::new().days(7)).expect("a date").to_string();
    let mut categories: BTreeMap<&str, i64> = BTreeMap::new();
    for t in month.truth.iter().filter(|t| day(t.created) > week_start) {
        *categories.entry(&t.category).or_default() += 1;
    }
    let mut top: Vec<(&str, i64)> = categories.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<Value> = top.into_iter().take(5).map(|(c, n)| json!([c, n])).collect();
    let mut volume: BTreeMap<(String, &str), (i64, i64)> = BTreeMap::new();
    for t in &month.truth {
        volume.entry((day(t.created), t.channel.as_str())).or_default().0 += 1;
        for solve in &t.solves {
            volume.entry((day(*solve), t.channel.as_str())).or_default().1 += 1;
        }
    }
    let volume: Vec<Value> =
        volume.into_iter().map(|((d, c), (created, solved))| json!([d, c, created, solved])).collect();
    json!({
        "response_speed": response_speed,
        "resolution_rate": resolution_rate,
        "satisfaction": satisfaction,
        "complaint_rate": complaint_rate,
        "sla_attainment": sla_attainment,
        "top_categories_this_week": top,
        "volume_by_day": volume,
    })
}

/// Whether two query results agree: the same shape, numbers within 1e-9 relative.
pub fn same_results(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_results(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_results(v, w)))
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        // DuckDB prints decimals of avg over integers as strings in some versions.
        (Value::String(s), Value::Number(_)) | (Value::Number(_), Value::String(s)) => {
            s.parse::<f64>().is_ok_and(|v| same_results(&json!(v), if a.is_string() { b } else { a }))
        }
        _ => a == b,
    }
}

/// Runs `scripts/duckdb-queries.py` with `python` over the export in `export`, with the SQL
/// of infra/athena/queries.sql; its JSON on stdout.
pub fn duckdb_queries(python: &std::path::Path, export: &std::path::Path) -> std::process::Output {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::process::Command::new(python)
        .arg(root.join("scripts/duckdb-queries.py"))
        .arg(export)
        .arg(root.join("infra/athena/queries.sql"))
        .arg("--json")
        .output()
        .expect("python runs")
}
