//! Mail loops are impossible (ARCHITECTURE.md §5), shown end to end in memory through the real edges:
//! raw mail → `EmailInbound` (blob store + inbound queue) → `RouterHandler` → outbound queue →
//! `DispatcherHandler` → `ChannelNotifier` → `MailNotifier` → `MemoryMailer`, against an
//! autoresponder that answers everything the desk sends it.

use std::sync::Arc;

use jiff::Timestamp;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::email_inbound::{EmailInbound, Ingested};
use omnidesk_app::outbound_channels::{ChannelNotifier, MailNotifier};
use omnidesk_app::outbound_dispatcher::DispatcherHandler;
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::email::{ParsedEmail, parse};
use omnidesk_domain::memory::{
    ManualClock, MemoryBlobStore, MemoryMailer, MemoryQueue, MemoryStore, QueueSettings, RecordingNotifier,
    SequentialIds,
};
use omnidesk_domain::model::{AuthorKind, TicketNumber};
use omnidesk_domain::ports::{Queue, TicketStore};
use omnidesk_local::poller::poll_once;

/// The person behind the autoresponder: they write once, then go on holiday.
const CUSTOMER: &str = "li.wei@shop-customer.example";
const DESK: &str = "support@desk.example";
const ROUNDS: usize = 100;
/// The default per-sender cap on automatic mail (3 an hour).
const CAP: usize = 3;

struct Desk {
    inbound_edge: EmailInbound,
    router: RouterHandler,
    dispatcher: DispatcherHandler,
    inbound: Arc<MemoryQueue>,
    outbound: Arc<MemoryQueue>,
    store: Arc<MemoryStore>,
    mailer: Arc<MemoryMailer>,
    receipts: usize,
}

impl Desk {
    fn new() -> Self {
        let config = DeskConfig::from_toml(&format!("[email]\naddress = \"{DESK}\"\n")).expect("config");
        // The clock stands still: all 100 rounds happen within one cap window.
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_790_000_000).unwrap()));
        let store = Arc::new(MemoryStore::new());
        let inbound =
            Arc::new(MemoryQueue::with_dead_letter("inbound", clock.clone(), QueueSettings::default()));
        let outbound =
            Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), QueueSettings::default()));
        let blobs = Arc::new(MemoryBlobStore::default());
        let mailer = Arc::new(MemoryMailer::default());
        mailer.verify("desk.example");
        let inbound_edge =
            EmailInbound::new(config.email.clone().expect("[email]"), blobs, inbound.clone(), clock.clone());
        let router = RouterHandler::new(
            &config,
            omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock.clone()),
        );
        let notifier = ChannelNotifier::new(
            Arc::new(RecordingNotifier::default()),
            Some(Arc::new(MailNotifier::new(mailer.clone()))),
        );
        let dispatcher = DispatcherHandler::new(DispatcherPorts {
            idempotency: store.clone(),
            notifier: Arc::new(notifier),
            clock,
            ids: Arc::new(SequentialIds::default()),
        });
        Self { inbound_edge, router, dispatcher, inbound, outbound, store, mailer, receipts: 0 }
    }

    /// SES receives `raw`: the edge stores and queues it.
    async fn receive(&mut self, raw: String) {
        self.receipts += 1;
        let receipt = format!("ses-{:04}", self.receipts);
        let ingested = self.inbound_edge.ingest_raw(&receipt, raw.into_bytes()).await.expect("ingest");
        assert!(matches!(ingested, Ingested::Queued { bounce: false, .. }), "{ingested:?}");
    }

    /// Runs both queues through their handlers, as the event source mappings would, until
    /// neither has a visible message.
    async fn drain(&self) {
        let inbound: Arc<dyn Queue> = self.inbound.clone();
        let outbound: Arc<dyn Queue> = self.outbound.clone();
        loop {
            let routed =
                poll_once(&inbound, "inbound", |e| self.router.handle(e)).await.expect("poll inbound");
            let sent =
                poll_once(&outbound, "outbound", |e| self.dispatcher.handle(e)).await.expect("poll outbound");
            if routed + sent == 0 {
                break;
            }
        }
        assert!(self.inbound.is_empty() && self.outbound.is_empty(), "every record succeeded");
        let dead = |q: &MemoryQueue| q.dead_letter().map_or(0, |d| d.len());
        assert_eq!((dead(&self.inbound), dead(&self.outbound)), (0, 0), "nothing dead-lettered");
    }

    /// Every mail the desk sent to `address`, parsed, in sending order.
    fn mail_to(&self, address: &str) -> Vec<ParsedEmail> {
        self.mailer
            .sent()
            .iter()
            .filter(|m| m.to.iter().any(|to| to == address))
            .map(|m| parse(&m.raw).expect("the desk's mail parses"))
            .collect()
    }

    async fn customer_messages(&self, ticket: u64) -> usize {
        let messages = self.store.messages(TicketNumber(ticket)).await.expect("messages");
        messages.iter().filter(|m| m.author == AuthorKind::Customer).count()
    }
}

/// How the autoresponder behaves.
#[derive(Debug, Clone, Copy)]
struct Autoresponder {
    /// Marks its answers `Auto-Submitted: auto-replied` (RFC 3834), as a good one does.
    auto_submitted: bool,
    /// Keeps the thread (In-Reply-To, the Reply-To address, `Re: ` + subject); when false, it
    /// writes to the From address with a subject of its own, so each answer looks new.
    keeps_thread: bool,
    /// Writes Outlook's `Automatic reply:` subject, its only sign of being a machine.
    outlook_subject: bool,
}

impl Autoresponder {
    /// Its answer to `desk_mail`: a new mail with a fresh Message-ID.
    fn answer(&self, desk_mail: &ParsedEmail, n: usize) -> String {
        let desk_id = desk_mail.message_id.as_deref().expect("the desk's mail has a Message-ID");
        let mut headers = vec![
            format!("From: Li Wei <{CUSTOMER}>"),
            format!("Message-ID: <auto-{n:03}@shop-customer.example>"),
            "Date: Mon, 23 Nov 2026 09:00:00 +0800".to_owned(),
            "MIME-Version: 1.0".to_owned(),
            "Content-Type: text/plain; charset=utf-8".to_owned(),
        ];
        if self.keeps_thread {
            let to = desk_mail.reply_to.first().unwrap_or(&desk_mail.from);
            headers.push(format!("To: {}", to.address));
            headers.push(format!("Subject: Re: {}", desk_mail.subject));
            headers.push(format!("In-Reply-To: <{desk_id}>"));
        } else {
            headers.push(format!("To: {}", desk_mail.from.address));
            let prefix = if self.outlook_subject { "Automatic reply: " } else { "" };
            headers.push(format!("Subject: {prefix}Away until Monday"));
        }
        if self.auto_submitted {
            headers.push("Auto-Submitted: auto-replied".to_owned());
        }
        format!(
            "{}\r\n\r\nI am away until Monday and will read your mail then.\r\n我周一回来后回复您。\r\n",
            headers.join("\r\n")
        )
    }
}

/// The customer's own first mail, from the address the autoresponder answers for.
fn human_mail() -> String {
    format!(
        "From: Li Wei <{CUSTOMER}>\r\nTo: {DESK}\r\nSubject: Where is my parcel?\r\n\
         Message-ID: <human-1@shop-customer.example>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0800\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nOrder NW-1042 has not arrived. Can you check?\r\n"
    )
}

struct LoopResult {
    desk: Desk,
    /// Mails the autoresponder sent into the desk.
    answers: usize,
    /// Rounds in which the desk had sent it something new.
    provoked: usize,
}

/// The human mail, then `ROUNDS` rounds: the autoresponder answers every mail the desk sent it
/// since the last round; in a round with nothing new it answers the latest one again (the
/// worst case: it fires on every mail it sees, however often). Queues drain after each mail.
async fn run_loop(autoresponder: Autoresponder) -> LoopResult {
    let mut desk = Desk::new();
    desk.receive(human_mail()).await;
    desk.drain().await;
    let mut answered = 0;
    let mut answers = 0;
    let mut provoked = 0;
    for _ in 0..ROUNDS {
        let received = desk.mail_to(CUSTOMER);
        let Some(latest) = received.last() else {
            break;
        };
        let to_answer: Vec<&ParsedEmail> =
            if received.len() > answered { received[answered..].iter().collect() } else { vec![latest] };
        if received.len() > answered {
            provoked += 1;
        }
        answered = received.len();
        for desk_mail in to_answer {
            answers += 1;
            let raw = autoresponder.answer(desk_mail, answers);
            desk.receive(raw).await;
            desk.drain().await;
        }
    }
    LoopResult { desk, answers, provoked }
}

#[tokio::test]
async fn a_naive_autoresponder_in_the_thread_gets_one_acknowledgement_and_one_ticket() {
    let run =
        run_loop(Autoresponder { auto_submitted: false, keeps_thread: true, outlook_subject: false }).await;
    let received = run.desk.mail_to(CUSTOMER);
    assert!(received.len() <= CAP, "the autoresponder received {} mails", received.len());
    // Only the opening mail is acknowledged: every answer continues the ticket.
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].subject, "[#1] Where is my parcel?");
    assert_eq!(received[0].automation.auto_submitted.as_deref(), Some("auto-replied"));
    assert_eq!(run.answers, ROUNDS);
    assert_eq!(run.provoked, 1);
    let tickets = run.desk.store.all_tickets();
    assert_eq!(tickets.len(), 1, "tickets: {:?}", tickets.iter().map(|t| &t.subject).collect::<Vec<_>>());
    assert_eq!(run.desk.customer_messages(1).await, 1 + ROUNDS);
    // The desk mailed nobody else.
    assert_eq!(run.desk.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_naive_autoresponder_that_loses_the_thread_gets_at_most_the_cap() {
    let run =
        run_loop(Autoresponder { auto_submitted: false, keeps_thread: false, outlook_subject: false }).await;
    let received = run.desk.mail_to(CUSTOMER);
    // Each answer looks like a new conversation and opens a ticket, but the per-sender cap
    // stops the acknowledgements after three.
    assert_eq!(received.len(), CAP, "the autoresponder received {} mails", received.len());
    assert_eq!(run.desk.store.all_tickets().len(), 1 + ROUNDS);
    assert_eq!(run.desk.mailer.sent().len(), CAP);
    let subjects: Vec<&str> = received.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["[#1] Where is my parcel?", "[#2] Away until Monday", "[#3] Away until Monday"]);
}

#[tokio::test]
async fn an_outlook_autoresponder_that_loses_the_thread_gets_only_the_first_acknowledgement() {
    let run =
        run_loop(Autoresponder { auto_submitted: false, keeps_thread: false, outlook_subject: true }).await;
    let received = run.desk.mail_to(CUSTOMER);
    // Its answers still open tickets (an agent sees them), but none is acknowledged: the
    // `Automatic reply:` subject is enough to know a machine wrote it.
    assert_eq!(received.len(), 1, "the autoresponder received {} mails", received.len());
    assert_eq!(received[0].subject, "[#1] Where is my parcel?");
    assert_eq!(run.desk.store.all_tickets().len(), 1 + ROUNDS);
}

#[tokio::test]
async fn an_rfc_3834_autoresponder_gets_exactly_one_acknowledgement() {
    for keeps_thread in [true, false] {
        let run =
            run_loop(Autoresponder { auto_submitted: true, keeps_thread, outlook_subject: false }).await;
        let received = run.desk.mail_to(CUSTOMER);
        assert_eq!(received.len(), 1, "keeps_thread {keeps_thread}");
        // The one acknowledgement answers the human mail.
        assert_eq!(received[0].in_reply_to, vec!["human-1@shop-customer.example"]);
        assert_eq!(run.desk.mailer.sent().len(), 1);
        assert_eq!(run.answers, ROUNDS);
        let tickets = run.desk.store.all_tickets().len();
        assert_eq!(tickets, if keeps_thread { 1 } else { 1 + ROUNDS }, "keeps_thread {keeps_thread}");
        if keeps_thread {
            assert_eq!(run.desk.customer_messages(1).await, 1 + ROUNDS);
        }
    }
}
