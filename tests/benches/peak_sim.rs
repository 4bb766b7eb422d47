//! The Double-11 load simulation (`scripts/peak-sim.sh`): a seeded traffic model driven
//! through the real router, dispatcher, agent desk and SLA sweeper on the memory twin, in
//! simulated time (nothing sleeps), at 1× to 100× of the peak rate. The memory store books
//! what the DynamoDB adapters would read and write per partition (`MemoryStore::record_heat`),
//! so each step reports the hottest partition of the table and of each index against
//! DynamoDB's 1,000 WCU / 3,000 RCU per partition. CAPACITY.md explains the model.
//!
//! `cargo bench --workspace --bench peak_sim -- [--steps 1,2,5,10,20,50,100] [--seconds S]
//! [--seed N]`. Each step simulates S seconds (default 2) after a warm-up second, on a desk
//! whose earlier tickets are the follow-ups' conversations.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use omnidesk_domain::assignment::Presence;
use omnidesk_domain::desk::Staff;
use omnidesk_domain::envelope::seal;
use omnidesk_domain::heat::{Access, HeatReport, PartitionHeat, TABLE};
use omnidesk_domain::inbound::{CallStage, EmailSource, InboundMessage, PhoneSource, Sender, Source};
use omnidesk_domain::mail_auth::MailAuth;
use omnidesk_domain::memory::{MemoryStore, RecordingNotifier};
use omnidesk_domain::model::{Channel, CustomerId, Priority, Ticket, TicketNumber};
use omnidesk_domain::outbound::Destination;
use omnidesk_domain::ports::{Clock, TicketCommit, TicketStore};
use omnidesk_local::{DeskPorts, LocalDesk};
use omnidesk_tests::test_config_with;

/// Double 11 at a mid-size shop: 50,000 inbound messages a minute at the peak.
const PEAK_PER_MINUTE: f64 = 50_000.0;
/// Share of inbound messages that open a ticket (1 M tickets a day at the peak's shape).
const NEW_SHARE: f64 = 0.40;
/// Channel mix of inbound messages: chat, email, the rest phone.
const CHAT_SHARE: f64 = 0.55;
const EMAIL_SHARE: f64 = 0.35;
/// Agent replies per inbound message.
const REPLY_SHARE: f64 = 0.20;
/// First-reply timers falling due per minute at 1×: every ticket opened in a minute 24
/// minutes earlier reaches its warning together.
const DUE_PER_MINUTE: f64 = PEAK_PER_MINUTE * NEW_SHARE;
/// Simulated time between arrivals batches.
const TICK: Duration = Duration::from_millis(100);
/// Agents online, each in the big team.
const AGENTS: usize = 200;
/// A DynamoDB call as the handlers see it, in simulated time: the sweeper's run spreads its
/// requests over its minute this way instead of landing them in one instant.
const SWEEP_REQUEST: Duration = Duration::from_millis(4);
/// Lambda's default concurrent executions per account and region.
const ACCOUNT_CONCURRENCY: f64 = 1_000.0;
/// SES's sending rate a production account starts with (messages a second; raised on request).
const SES_DEFAULT_RATE: f64 = 14.0;

/// Simulated time: set by the driver; while a sweep runs, every reading moves it on by
/// [`SWEEP_REQUEST`], so the sweep's requests spread as a real run's would.
struct SimClock {
    now: Mutex<Timestamp>,
    sweeping: Mutex<Option<Timestamp>>,
}

impl SimClock {
    fn set(&self, at: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    fn sweeping(&self, from: Option<Timestamp>) {
        *self.sweeping.lock().unwrap_or_else(|p| p.into_inner()) = from;
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        let mut sweeping = self.sweeping.lock().unwrap_or_else(|p| p.into_inner());
        match sweeping.as_mut() {
            Some(at) => {
                let now = *at;
                *at = now + SWEEP_REQUEST;
                now
            }
            None => *self.now.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

/// splitmix64: seeded, so every run is the same run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Chat,
    Email,
    Phone,
}

/// A customer conversation the model keeps writing to.
#[derive(Clone)]
struct Conversation {
    kind: Kind,
    id: u64,
    messages: u32,
}

const CONFIG: &str = r#"
[email]
address = "support@shop.example"

[routing]
default_team = "frontline"
teams = [
    { id = "frontline", name = "Frontline", tier = 1 },
    { id = "complaints", name = "Complaints", tier = 2 },
]

[[routing.rules]]
name = "refunds"
team = "complaints"
keywords = ["refund"]

[sla]
default_calendar = "24x7"
warning_percent = 80

[[sla.policies]]
priority = "normal"
first_reply_minutes = 30
resolution_minutes = 120
"#;

fn config() -> String {
    let mut text = CONFIG.to_owned();
    for n in 0..AGENTS {
        text.push_str(&format!(
            "\n[[agents]]\nid = \"agent-{n:03}\"\nteams = [\"frontline\"]\nlanguages = [\"en\", \"zh\"]\ncapacity = 20\n"
        ));
    }
    text
}

fn inbound(conversation: &Conversation, n: u64, at: Timestamp) -> InboundMessage {
    let id = conversation.id;
    let text = if id.is_multiple_of(7) {
        "I want a refund for order 88123"
    } else {
        "Where is my parcel? 我的包裹在哪里？"
    };
    let (source, sender, key) = match conversation.kind {
        Kind::Chat => (
            Source::Chat {
                inbox: "web".into(),
                conversation_id: format!("c{id}"),
                message_id: format!("m{n}"),
            },
            Sender { chat_visitor: Some(format!("v{id}")), name: Some("Li Wei".into()), ..Sender::default() },
            InboundMessage::chat_idempotency_key("web", &format!("m{n}")),
        ),
        Kind::Email => {
            let from = format!("buyer{id}@mail.example");
            let message_id = format!("m{n}@mail.example");
            let first = format!("m{id}-0@mail.example");
            let email = EmailSource {
                mailbox: "support@shop.example".into(),
                message_id: message_id.clone(),
                in_reply_to: if conversation.messages > 0 { vec![first.clone()] } else { vec![] },
                subject: format!("Order {id}"),
                language: "en".into(),
                auth: MailAuth::passed(),
                ..EmailSource::default()
            };
            let message_id = if conversation.messages == 0 { first } else { message_id };
            let email = EmailSource { message_id: message_id.clone(), ..email };
            let key = InboundMessage::email_idempotency_key(&from, &message_id);
            (Source::Email(email), Sender { email: Some(from), ..Sender::default() }, key)
        }
        Kind::Phone => {
            let stage = if conversation.messages == 0 { CallStage::Queued } else { CallStage::Disconnected };
            let phone = PhoneSource {
                contact_id: format!("contact-{id}"),
                event_type: if conversation.messages == 0 { "QUEUED" } else { "DISCONNECTED" }.into(),
                stage,
                agent: None,
                talk_seconds: None,
                disconnect_reason: None,
                missed: None,
                team: None,
                open_ticket: None,
                withheld: false,
            };
            let caller = format!("+8613{:09}", id % 1_000_000_000);
            let key = format!("phone:contact-{id}:{n}");
            (Source::Phone(phone), Sender { phone: Some(caller), ..Sender::default() }, key)
        }
    };
    InboundMessage {
        idempotency_key: key,
        source,
        sender,
        text: text.into(),
        attachments: vec![],
        sent_at: Some(at),
        received_at: at,
    }
}

/// Busy time of one handler in a step, to imply Lambda's concurrent executions.
#[derive(Default)]
struct Busy {
    invocations: u64,
    took: Duration,
}

impl Busy {
    fn add(&mut self, took: Duration) {
        self.invocations += 1;
        self.took += took;
    }

    /// Executions running at once on average (Little's law: busy seconds per second).
    fn concurrency(&self, seconds: f64) -> f64 {
        self.took.as_secs_f64() / seconds
    }
}

struct Sim {
    desk: Arc<LocalDesk>,
    store: Arc<MemoryStore>,
    clock: Arc<SimClock>,
    heat: Arc<PartitionHeat>,
    notifier: Arc<RecordingNotifier>,
    rng: Rng,
    conversations: Vec<Conversation>,
    next_conversation: u64,
    next_message: u64,
    tickets_seeded: u64,
}

/// What one step measured.
struct StepReport {
    multiple: f64,
    seconds: f64,
    inbound: u64,
    replies: u64,
    reply_failures: u64,
    swept: usize,
    due: usize,
    heat: HeatReport,
    router: Busy,
    dispatcher: Busy,
    agents: Busy,
    sweeper: Busy,
    max_inbound_depth: usize,
    emails: usize,
    deliveries: usize,
    wall: Duration,
}

impl Sim {
    async fn new(seed: u64, start: Timestamp) -> Self {
        let clock = Arc::new(SimClock { now: Mutex::new(start), sweeping: Mutex::new(None) });
        let config = test_config_with("http://127.0.0.1:9/unused", 30_000, &config());
        let ports = DeskPorts::memory(&config, clock.clone());
        let store = ports.memory.clone().expect("in-memory backend");
        let heat = PartitionHeat::new(clock.clone());
        store.record_heat(heat.clone());
        let notifier = Arc::new(RecordingNotifier::default());
        let desk = Arc::new(LocalDesk::with_notifier(config, clock.clone(), ports, notifier.clone()));
        for n in 0..AGENTS {
            desk.agent_desk.set_presence(&format!("agent-{n:03}"), Presence::Online).await.expect("presence");
        }
        Self {
            desk,
            store,
            clock,
            heat,
            notifier,
            rng: Rng(seed),
            conversations: Vec::new(),
            next_conversation: 1,
            next_message: 1,
            tickets_seeded: 0,
        }
    }

    /// `due` tickets opened 25 minutes before `minute`, their first-reply warnings falling
    /// due within the minute before it: written straight into the store, as the router left
    /// them then, for the step's sweep.
    async fn seed_due(&mut self, minute: Timestamp, due: usize) {
        let policies = self.desk.config.sla_policies().ok().flatten().expect("[sla]");
        for i in 0..due {
            let opened = minute - SignedDuration::from_mins(25)
                + SignedDuration::from_millis((i as i64 * 59_000) / due.max(1) as i64);
            self.tickets_seeded += 1;
            let number = TicketNumber(10_000_000_000 + self.tickets_seeded);
            let (mut ticket, created) = Ticket::open(
                number,
                Channel::Chat,
                "seeded".into(),
                CustomerId::new(format!("seed{i}")),
                None,
                opened,
            );
            ticket.priority = Priority::Normal;
            ticket.team = Some("frontline".into());
            policies.apply(&mut ticket, std::slice::from_ref(&created), None);
            let commit = TicketCommit {
                ticket,
                expected_version: None,
                messages: vec![],
                events: vec![],
                thread_claims: vec![],
                idempotency: None,
            };
            self.store.commit(commit).await.expect("seed");
        }
    }

    fn pick_conversation(&mut self) -> Conversation {
        let open = !self.conversations.is_empty() && self.rng.unit() >= NEW_SHARE;
        if open {
            let at = self.rng.below(self.conversations.len());
            let conversation = &mut self.conversations[at];
            conversation.messages += 1;
            return conversation.clone();
        }
        let roll = self.rng.unit();
        let kind = if roll < CHAT_SHARE {
            Kind::Chat
        } else if roll < CHAT_SHARE + EMAIL_SHARE {
            Kind::Email
        } else {
            Kind::Phone
        };
        let conversation = Conversation { kind, id: self.next_conversation, messages: 0 };
        self.next_conversation += 1;
        self.conversations.push(conversation.clone());
        conversation
    }

    /// One step at `multiple` × the peak for `seconds` simulated seconds, from `start`.
    async fn step(&mut self, multiple: f64, start: Timestamp, seconds: u64, measure: bool) -> StepReport {
        let rate = PEAK_PER_MINUTE / 60.0 * multiple;
        let due = (DUE_PER_MINUTE * multiple) as usize;
        if measure {
            self.seed_due(start, due).await;
        }
        self.heat.reset();
        let delivered_before = self.notifier.delivered().len();
        let wall = Instant::now();
        let mut report = StepReport {
            multiple,
            seconds: seconds as f64,
            inbound: 0,
            replies: 0,
            reply_failures: 0,
            swept: 0,
            due,
            heat: HeatReport::default(),
            router: Busy::default(),
            dispatcher: Busy::default(),
            agents: Busy::default(),
            sweeper: Busy::default(),
            max_inbound_depth: 0,
            emails: 0,
            deliveries: 0,
            wall: Duration::ZERO,
        };
        let ticks = seconds * 1_000 / TICK.as_millis() as u64;
        let (mut arrivals, mut replies) = (0.0, 0.0);
        for tick in 0..ticks {
            let now = start + SignedDuration::try_from(TICK * tick as u32).unwrap_or_default();
            self.clock.set(now);
            // The minute's sweep, half a second into the step (its schedule fires every minute).
            if measure && tick == 500 / TICK.as_millis() as u64 {
                self.clock.sweeping(Some(now));
                let t = Instant::now();
                if let Some(Ok(swept)) = self.desk.sweep_sla().await {
                    report.swept += swept.tickets_changed;
                }
                report.sweeper.add(t.elapsed());
                self.clock.sweeping(None);
                self.clock.set(now);
            }
            arrivals += rate * TICK.as_secs_f64();
            while arrivals >= 1.0 {
                arrivals -= 1.0;
                let conversation = self.pick_conversation();
                let message = inbound(&conversation, self.next_message, now);
                self.next_message += 1;
                self.desk.ports.inbound.send(seal(&message)).await.expect("queue");
                report.inbound += 1;
            }
            report.max_inbound_depth =
                report.max_inbound_depth.max(self.desk.ports.inbound.depth().await.map_or(0, |d| d.visible));
            loop {
                let t = Instant::now();
                if self.desk.poll_inbound().await.expect("router") == 0 {
                    break;
                }
                report.router.add(t.elapsed());
            }
            replies += rate * REPLY_SHARE * TICK.as_secs_f64();
            while replies >= 1.0 {
                replies -= 1.0;
                let Some(number) = self.recent_ticket().await else { continue };
                let staff = Staff(format!("agent-{:03}", self.rng.below(AGENTS)));
                let t = Instant::now();
                let result = self
                    .desk
                    .agent_desk
                    .reply(&staff, number, "Your parcel left the warehouse today.", false, None, None)
                    .await;
                report.agents.add(t.elapsed());
                match result {
                    Ok(_) => report.replies += 1,
                    Err(_) => report.reply_failures += 1,
                }
            }
            loop {
                let t = Instant::now();
                if self.desk.poll_outbound().await.expect("dispatcher") == 0 {
                    break;
                }
                report.dispatcher.add(t.elapsed());
            }
        }
        let delivered = self.notifier.delivered();
        let new = &delivered[delivered_before.min(delivered.len())..];
        report.deliveries = new.len();
        report.emails = new.iter().filter(|job| matches!(job.destination, Destination::Email(_))).count();
        report.heat = self.heat.report(3);
        report.wall = wall.elapsed();
        report
    }

    /// A ticket a customer wrote to lately, for an agent to answer.
    async fn recent_ticket(&mut self) -> Option<TicketNumber> {
        let seen = self.conversations.len();
        let recent = seen.saturating_sub(2_000);
        let conversation = self.conversations.get(recent + self.rng.below(seen - recent))?.clone();
        let key = match conversation.kind {
            Kind::Chat => omnidesk_domain::ports::ThreadKey::chat("web", &format!("c{}", conversation.id)),
            Kind::Email => omnidesk_domain::ports::ThreadKey::email_message(&format!(
                "m{}-0@mail.example",
                conversation.id
            )),
            Kind::Phone => return None,
        };
        self.store.thread_ticket(&key).await.ok().flatten()
    }
}

fn scope_line(report: &HeatReport, scope: &str, access: Access, seconds: f64) -> Option<String> {
    let heat = report.scope(scope, access)?;
    let hottest = heat.hottest.first()?;
    Some(format!(
        "    {scope:<13} {:<5} {:>9.0} units/s over {:>7} keys; hottest {:<34} {:>7.1} /s = {:>5.1} % of {:.0}",
        access.as_str(),
        heat.total_units / seconds,
        heat.keys,
        hottest.key,
        hottest.units_per_second,
        100.0 * heat.utilisation(),
        access.limit(),
    ))
}

fn print(step: &StepReport) {
    let s = step.seconds;
    let table_w = step.heat.scope(TABLE, Access::Write).map_or(0.0, |h| h.total_units);
    let table_r = step.heat.scope(TABLE, Access::Read).map_or(0.0, |h| h.total_units);
    let index_w: f64 = step
        .heat
        .scopes
        .iter()
        .filter(|h| h.scope != TABLE && h.access == Access::Write)
        .map(|h| h.total_units)
        .sum();
    let index_r: f64 = step
        .heat
        .scopes
        .iter()
        .filter(|h| h.scope != TABLE && h.access == Access::Read)
        .map(|h| h.total_units)
        .sum();
    let worst = step.heat.hottest();
    println!(
        "{:>5}×  {:>7.0} inbound/s ({} in {s:.0} s, {} replies, {} failed), {} of {} due timers swept; wall {:.1} s",
        step.multiple,
        step.inbound as f64 / s,
        step.inbound,
        step.replies,
        step.reply_failures,
        step.swept,
        step.due,
        step.wall.as_secs_f64()
    );
    println!(
        "       table {:.0} WCU/s {:.0} RCU/s; indexes {:.0} WCU/s {:.0} RCU/s; hottest partition: {}",
        table_w / s,
        table_r / s,
        index_w / s,
        index_r / s,
        worst
            .and_then(|h| h.hottest.first().map(|k| (h, k)))
            .map(|(h, k)| format!(
                "{} {} {} at {:.1} % of its limit",
                h.scope,
                h.access.as_str(),
                k.key,
                100.0 * h.utilisation()
            ))
            .unwrap_or_default()
    );
    let mut scopes: BTreeMap<(bool, String, Access), ()> = BTreeMap::new();
    for heat in &step.heat.scopes {
        scopes.insert((heat.scope != TABLE, heat.scope.clone(), heat.access), ());
    }
    for (_, scope, access) in scopes.keys() {
        if let Some(line) = scope_line(&step.heat, scope, *access, s) {
            println!("{line}");
        }
    }
    let lambda = [
        ("router", &step.router),
        ("dispatcher", &step.dispatcher),
        ("agent-api", &step.agents),
        ("sla-sweeper", &step.sweeper),
    ];
    let implied: f64 = lambda.iter().map(|(_, busy)| busy.concurrency(s)).sum();
    let parts: Vec<String> =
        lambda.iter().map(|(name, busy)| format!("{name} {:.1}", busy.concurrency(s))).collect();
    // Beyond the account's concurrency the router falls behind: the backlog grows by the
    // share of arrivals it cannot take.
    let behind = (1.0 - ACCOUNT_CONCURRENCY / implied).max(0.0);
    let backlog = step.inbound as f64 * behind;
    println!(
        "       Lambda executions implied (debug-build handler times): {:.1} ({}); inbound queue depth ≤ {} per tick, \
         backlog at {:.0} concurrent: {:.0} messages, oldest {:.1} s",
        implied,
        parts.join(", "),
        step.max_inbound_depth,
        ACCOUNT_CONCURRENCY,
        backlog,
        if behind > 0.0 { s * behind } else { 0.0 },
    );
    println!(
        "       SES sends {:.0}/s (default quota {SES_DEFAULT_RATE:.0}/s), all deliveries {:.0}/s",
        step.emails as f64 / s,
        step.deliveries as f64 / s
    );
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps: Vec<f64> = arg::<String>(&args, "--steps")
        .unwrap_or_else(|| "1,2,5,10,20,50,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let seconds: u64 = arg(&args, "--seconds").unwrap_or(2);
    let seed: u64 = arg(&args, "--seed").unwrap_or(11);
    // 2026-11-11 00:00 China time, the sale's first minute.
    let mut start = Timestamp::from_second(1_794_326_400).expect("valid instant");
    let mut sim = Sim::new(seed, start).await;
    println!(
        "Double-11 peak simulation: {PEAK_PER_MINUTE:.0} inbound/min at 1× ({:.0} % new tickets; chat {:.0} %, email {:.0} %, \
         phone {:.0} %; {:.0} agent replies per 100 inbound; {DUE_PER_MINUTE:.0} first-reply timers due per minute), \
         {seconds} simulated s per step after 1 s of warm-up, seed {seed}; partition limits {:.0} WCU / {:.0} RCU",
        NEW_SHARE * 100.0,
        CHAT_SHARE * 100.0,
        EMAIL_SHARE * 100.0,
        (1.0 - CHAT_SHARE - EMAIL_SHARE) * 100.0,
        REPLY_SHARE * 100.0,
        omnidesk_domain::heat::WRITE_UNITS_PER_PARTITION,
        omnidesk_domain::heat::READ_UNITS_PER_PARTITION,
    );
    println!(
        "shards: by_status {}, by_team {}, timers {} per minute",
        omnidesk_domain::partitions::STATUS_SHARDS,
        omnidesk_domain::partitions::TEAM_SHARDS,
        omnidesk_domain::partitions::TIMER_SHARDS
    );
    for multiple in steps {
        // A warm-up second gives the follow-ups conversations to write to.
        sim.step(multiple, start, 1, false).await;
        start += SignedDuration::from_mins(1);
        let report = sim.step(multiple, start, seconds, true).await;
        print(&report);
        start += SignedDuration::from_mins(1);
    }
}
