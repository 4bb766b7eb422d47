//! The email channel end to end over the local desk in memory: raw mail in by
//! `POST /local/email` or the watched folder, through the email-inbound edge, the router and
//! the dispatcher, and out as `.eml` files in the outbox.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use omnidesk_app::config::DeskConfig;
use omnidesk_domain::model::{Direction, Ticket, TicketNumber};
use omnidesk_domain::router::UNREADABLE_TAG;
use omnidesk_domain::system::SystemClock;
use omnidesk_local::mail_in::{FAILED_DIR, PROCESSED_DIR};
use omnidesk_local::outbox::{header, message_id};
use omnidesk_local::{DeskPorts, LocalDesk, MailFolders};
use omnidesk_tests::{Backend, eventually, settle};
use serde_json::Value;
use tokio::net::TcpListener;

const DESK: &str = "support@desk.example";
const PATIENCE: Duration = Duration::from_secs(15);

struct MailDesk {
    desk: Arc<LocalDesk>,
    base: String,
    http: reqwest::Client,
    dir: PathBuf,
}

/// An agent's token for the agent API.
const AGENT_TOKEN: &str = "email-test-agent-token";

fn config(with_email: bool) -> DeskConfig {
    let email = if with_email { format!("[email]\naddress = \"{DESK}\"\n") } else { String::new() };
    let text = format!(
        "{email}\n[local]\nvisibility_timeout_ms = 300\nmax_receive_count = 5\npoll_interval_ms = 10\n\
         [[auth.tokens]]\ntoken = \"{AGENT_TOKEN}\"\nuser = \"li\"\nrole = \"agent\"\n"
    );
    DeskConfig::from_toml(&text).expect("test config is valid")
}

impl MailDesk {
    /// A desk in memory whose mail folders live in a fresh directory named after the test.
    async fn start(test: &str, with_email: bool) -> Self {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("email_local-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = config(with_email);
        let ports = DeskPorts::memory(&config, Arc::new(SystemClock));
        let folders = MailFolders { outbox: dir.join("outbox"), mail_in: Some(dir.join("in")) };
        let desk = LocalDesk::with_mail_folders(config, Arc::new(SystemClock), ports, folders).expect("desk");
        let desk = Arc::new(desk);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        tokio::spawn(desk.clone().serve(listener, std::future::pending()));
        Self { desk, base, http: reqwest::Client::new(), dir }
    }

    async fn post_mail(&self, raw: impl Into<Vec<u8>>) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/local/email", self.base))
            .header("content-type", "message/rfc822")
            .body(raw.into())
            .send()
            .await
            .expect("desk answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn ticket(&self, number: u64) -> Option<Ticket> {
        self.desk.ports.tickets.ticket(TicketNumber(number)).await.expect("read ticket")
    }

    /// The customers' messages on a ticket, by text.
    async fn inbound_texts(&self, number: u64) -> Vec<String> {
        let messages = self.desk.ports.tickets.messages(TicketNumber(number)).await.expect("read messages");
        messages.into_iter().filter(|m| m.direction == Direction::Inbound).map(|m| m.text).collect()
    }

    /// The `.eml` files in the outbox, oldest first.
    fn outbox(&self) -> Vec<Vec<u8>> {
        files_in(&self.dir.join("outbox"), "eml")
            .iter()
            .map(|p| std::fs::read(p).expect("read outbox"))
            .collect()
    }

    async fn outbox_holds(&self, count: usize) -> bool {
        eventually(PATIENCE, || async { self.outbox().len() >= count }).await
    }

    /// Writes a file into the watched folder the way a mail client would save it: under
    /// another name first, then renamed.
    fn drop_mail(&self, name: &str, raw: &[u8]) {
        let folder = self.dir.join("in");
        std::fs::create_dir_all(&folder).expect("create the mail-in folder");
        let partial = folder.join(format!(".{name}.part"));
        std::fs::write(&partial, raw).expect("write mail");
        std::fs::rename(&partial, folder.join(name)).expect("rename mail");
    }
}

impl Drop for MailDesk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn files_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// A plain-text mail to the desk.
fn mail(from: &str, subject: &str, id: &str, in_reply_to: Option<&str>, body: &str) -> String {
    let mut raw = format!(
        "From: {from}\r\nTo: Shop Support <{DESK}>\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n"
    );
    if let Some(parent) = in_reply_to {
        raw.push_str(&format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"));
    }
    raw.push_str(&format!("\r\n{body}\r\n"));
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_opens_a_ticket_acknowledged_in_the_outbox_and_the_reply_joins_it_but_a_stranger_does_not() {
    let t = MailDesk::start("thread", true).await;

    let first = mail(
        "Li Wei <li.wei@example.com>",
        "Where is my parcel?",
        "m1@mail.example.com",
        None,
        "Order A1029 has not arrived.",
    );
    let (status, answer) = t.post_mail(first.clone()).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], true);
    assert_eq!(answer["queued"], true);
    let key = omnidesk_domain::inbound::InboundMessage::email_idempotency_key(
        "li.wei@example.com",
        "m1@mail.example.com",
    );
    assert_eq!(answer["key"].as_str(), Some(key.as_str()), "{answer}");

    // Ticket #1, and its acknowledgement as a file in the outbox.
    assert!(eventually(PATIENCE, || async { t.ticket(1).await.is_some() }).await, "no ticket #1");
    assert!(t.outbox_holds(1).await, "no acknowledgement in the outbox");
    let ack = &t.outbox()[0];
    let subject = header(ack, "subject").expect("subject");
    assert!(subject.contains("[#1]"), "{subject}");
    assert_eq!(header(ack, "auto-submitted").as_deref(), Some("auto-replied"));
    assert!(header(ack, "to").is_some_and(|to| to.contains("li.wei@example.com")));
    let ack_id = message_id(ack).expect("the acknowledgement has a Message-ID");

    // The customer answers the acknowledgement (to the plain address, subject without the
    // number): In-Reply-To alone threads it onto #1.
    let reply =
        mail("Li Wei <li.wei@example.com>", "Re: parcel", "m2@mail.example.com", Some(&ack_id), "Any news?");
    assert_eq!(t.post_mail(reply).await.0, 202);
    let joined =
        eventually(PATIENCE, || async { t.inbound_texts(1).await.iter().any(|m| m.contains("Any news?")) })
            .await;
    assert!(joined, "the reply did not join #1");

    // A stranger quoting [#1] gets a ticket of their own, not a look at #1.
    let stranger = mail(
        "Mallory <mallory@example.net>",
        "[#1] about that order",
        "m3@evil.example.net",
        None,
        "Tell me more.",
    );
    assert_eq!(t.post_mail(stranger).await.0, 202);
    assert!(eventually(PATIENCE, || async { t.ticket(2).await.is_some() }).await, "no ticket #2");
    assert!(t.inbound_texts(2).await.iter().any(|m| m.contains("Tell me more.")));
    assert!(!t.inbound_texts(1).await.iter().any(|m| m.contains("Tell me more.")));
    assert!(t.outbox_holds(2).await, "no acknowledgement for #2");
    let second_ack = &t.outbox()[1];
    assert!(header(second_ack, "subject").is_some_and(|s| s.contains("[#2]")));
    assert!(header(second_ack, "to").is_some_and(|to| to.contains("mallory@example.net")));

    // The first mail again (same Message-ID): accepted, and nothing changes.
    assert_eq!(t.post_mail(first).await.0, 202);
    settle(&Backend::Memory).await;
    assert!(t.ticket(3).await.is_none());
    assert_eq!(t.inbound_texts(1).await.len(), 2);
    assert_eq!(t.outbox().len(), 2, "a repeat is not acknowledged again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watched_folder_receives_each_file_once_and_sets_too_large_ones_aside() {
    let t = MailDesk::start("folder", true).await;
    let folder = t.dir.join("in");

    t.drop_mail(
        "parcel.eml",
        mail("li.wei@example.com", "Parcel", "f1@mail.example.com", None, "Where is it?").as_bytes(),
    );
    t.drop_mail("huge.eml", &vec![b'x'; omnidesk_local::mail_in::MAX_LOCAL_MAIL_BYTES + 1]);
    std::fs::write(folder.join("notes.txt"), "not .eml: left alone").unwrap();

    let processed = folder.join(PROCESSED_DIR).join("parcel.eml");
    assert!(eventually(PATIENCE, || async { processed.is_file() }).await, "parcel.eml not processed");
    assert!(eventually(PATIENCE, || async { t.ticket(1).await.is_some() }).await, "no ticket #1");
    let failed = folder.join(FAILED_DIR).join("huge.eml");
    assert!(eventually(PATIENCE, || async { failed.is_file() }).await, "huge.eml not set aside");
    let reason = std::fs::read_to_string(folder.join(FAILED_DIR).join("huge.reason.txt")).expect("a reason");
    assert!(!reason.trim().is_empty());

    // Received once: the folder is empty of mail, and nothing more happens.
    settle(&Backend::Memory).await;
    assert!(files_in(&folder, "eml").is_empty());
    assert!(folder.join("notes.txt").is_file());
    assert!(t.ticket(2).await.is_none());
    assert!(t.outbox_holds(1).await);
    assert_eq!(t.outbox().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_posts_get_the_desk_error_shape() {
    let t = MailDesk::start("errors", true).await;
    let (status, body) = t.post_mail(Vec::new()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");

    let (status, body) = t.post_mail(vec![b'x'; 10 * 1024 * 1024 + 1]).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "too_large");

    // Not mail at all: accepted (as SES would), queued as unreadable mail, and it says why.
    let (status, body) = t.post_mail(b"no headers here".to_vec()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"], true);
    assert!(body["unreadable"].is_string(), "{body}");

    let off = MailDesk::start("off", false).await;
    let (status, body) = off.post_mail(mail("a@example.com", "hi", "x@y", None, "hi")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reply_goes_out_as_mail_in_the_thread_and_the_answer_to_it_joins_the_ticket() {
    let t = MailDesk::start("agent-reply", true).await;
    let first =
        mail("Li Wei <li.wei@example.com>", "Where is my parcel?", "q1@mail.example.com", None, "Order 1042");
    assert_eq!(t.post_mail(first).await.0, 202);
    assert!(t.outbox_holds(1).await, "no acknowledgement");

    let response = t
        .http
        .post(format!("{}/v1/tickets/1/replies", t.base))
        .bearer_auth(AGENT_TOKEN)
        .json(&serde_json::json!({ "text": "It left our warehouse today." }))
        .send()
        .await
        .expect("desk answers");
    assert_eq!(response.status().as_u16(), 201);
    assert!(t.outbox_holds(2).await, "no reply mail");
    let outbox = t.outbox();
    let reply = outbox.iter().find(|m| String::from_utf8_lossy(m).contains("warehouse")).expect("the reply");
    assert!(header(reply, "to").is_some_and(|to| to.contains("li.wei@example.com")));
    assert!(header(reply, "subject").is_some_and(|s| s.contains("[#1]")));
    assert!(header(reply, "in-reply-to").is_some_and(|v| v.contains("q1@mail.example.com")));
    assert!(header(reply, "auto-submitted").is_none(), "a person wrote it");

    // The customer answers the agent's mail: it joins ticket #1.
    let reply_id = message_id(reply).expect("the reply's Message-ID");
    let answer = mail(
        "li.wei@example.com",
        "Re: [#1] Where is my parcel?",
        "q2@mail.example.com",
        Some(&reply_id),
        "Thanks!",
    );
    assert_eq!(t.post_mail(answer).await.0, 202);
    assert!(
        eventually(PATIENCE, || async {
            t.inbound_texts(1).await.iter().any(|text| text.contains("Thanks!"))
        })
        .await,
        "the answer did not join #1"
    );
    assert!(t.ticket(2).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_desk_simulates_ses_verdicts_named_on_the_post_and_passes_everything_else() {
    let t = MailDesk::start("verdicts", true).await;
    let post = |query: &'static str, raw: String| {
        let t = &t;
        async move {
            let url = format!("{}/local/email{query}", t.base);
            let response = t.http.post(url).body(raw).send().await.expect("desk answers");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let li = "Li Wei <li.wei@example.com>";
    let (status, body) = post("?dmarc=MAYBE", mail(li, "hi", "x@mail.example.com", None, "hi")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_request")), "{body}");
    assert_eq!(post("?colour=red", mail(li, "hi", "x@mail.example.com", None, "hi")).await.0, 400);

    // Without a query every check passes: Li's mail is authenticated.
    assert_eq!(post("", mail(li, "Parcel", "a@mail.example.com", None, "Where is it?")).await.0, 202);
    assert!(eventually(PATIENCE, || async { t.ticket(1).await.is_some() }).await);
    assert!(t.ticket(1).await.unwrap().tags.is_empty());
    // No DMARC policy and SPF failing: unauthenticated, so `[#1]` does not thread it.
    let weak = mail(li, "Re: [#1] Parcel", "b@mail.example.com", None, "Send it elsewhere.");
    assert_eq!(post("?dmarc=GRAY&spf=FAIL&dkim=none", weak).await.0, 202);
    assert!(eventually(PATIENCE, || async { t.ticket(2).await.is_some() }).await, "[#1] threaded");
    assert!(t.ticket(2).await.unwrap().tags.contains("unauthenticated"));
    // DMARC failing: flagged, and no acknowledgement (two so far: #1 and #2).
    let spoofed = mail(li, "Refund", "c@mail.example.com", None, "Refund me.");
    assert_eq!(post("?dmarc=FAIL", spoofed).await.0, 202);
    assert!(eventually(PATIENCE, || async { t.ticket(3).await.is_some() }).await);
    assert!(t.ticket(3).await.unwrap().tags.contains("dmarc_failed"));
    settle(&Backend::Memory).await;
    assert_eq!(t.outbox().len(), 2);
}

/// The golden fixtures of the email parser: real-client shapes, malformed ones included.
fn fixture_mails() -> Vec<(String, Vec<u8>)> {
    // The golden fixtures live with the parser, in the domain crate of this workspace.
    let workspace =
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is in the workspace");
    let dir = workspace.join("shared/domain/tests/fixtures/email");
    files_in(&dir, "eml")
        .into_iter()
        .map(|path| {
            let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("read fixture"))
        })
        .collect()
}

/// What the desk must have made of one mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    Ticket,
    Duplicate,
    Bounce,
    Unreadable,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mail_in_a_folder_of_malformed_mail_is_accounted_for() {
    let t = MailDesk::start("accounted", true).await;
    let mut mails = fixture_mails();
    // The same mail twice (as two SES receipts), once with a Message-ID and once without.
    let copies: Vec<_> = mails
        .iter()
        .filter(|(name, _)| name == "plain_en.eml" || name == "missing_message_id.eml")
        .map(|(name, raw)| (format!("copy-of-{name}"), raw.clone()))
        .collect();
    assert_eq!(copies.len(), 2);
    mails.extend(copies);
    mails.push(("empty.eml".into(), b"\r\n\r\n".to_vec()));
    mails.push(("binary.eml".into(), vec![0, 159, 146, 150, 255, 254, 0, 1]));
    assert!(mails.len() >= 80, "{} mails", mails.len());

    // What each one must become, read with the desk's own parser.
    let mut seen = std::collections::BTreeSet::new();
    let mut expected = std::collections::BTreeMap::<Fate, usize>::new();
    for (_, raw) in &mails {
        let fate = match omnidesk_domain::email::parse(raw) {
            Err(_) => Fate::Unreadable,
            Ok(email) if email.bounce.is_some() => Fate::Bounce,
            Ok(email) => {
                let id =
                    email.message_id.clone().unwrap_or_else(|| format!("{}\n{}", email.subject, email.text));
                if seen.insert((email.from.address.clone(), id)) { Fate::Ticket } else { Fate::Duplicate }
            }
        };
        *expected.entry(fate).or_default() += 1;
    }
    assert!(expected.values().all(|&n| n > 0), "every fate is exercised: {expected:?}");

    for (name, raw) in &mails {
        t.drop_mail(name, raw);
    }
    let folder = t.dir.join("in");
    let all_taken =
        eventually(Duration::from_secs(60), || async { files_in(&folder, "eml").is_empty() }).await;
    assert!(all_taken, "mail left in the folder: {:?}", files_in(&folder, "eml"));
    assert!(files_in(&folder.join(FAILED_DIR), "eml").is_empty(), "no mail may be set aside");
    assert_eq!(files_in(&folder.join(PROCESSED_DIR), "eml").len(), mails.len());

    let store = t.desk.ports.memory.clone().expect("a memory desk");
    let customer_messages = expected[&Fate::Ticket] + expected[&Fate::Unreadable];
    let count_inbound = || async {
        let mut inbound = 0;
        for ticket in store.all_tickets() {
            let messages = t.desk.ports.tickets.messages(ticket.number).await.expect("read messages");
            inbound += messages.iter().filter(|m| m.direction == Direction::Inbound).count();
        }
        inbound
    };
    let routed =
        eventually(Duration::from_secs(60), || async { count_inbound().await >= customer_messages }).await;
    assert!(routed, "{} of {customer_messages} messages routed", count_inbound().await);
    settle(&Backend::Memory).await;
    assert_eq!(count_inbound().await, customer_messages, "each readable mail once, duplicates never");
    let dead = t.desk.ports.inbound_dead_letter.depth().await.expect("depth");
    assert_eq!(dead.total(), 0, "nothing may be dead-lettered");

    // Every unreadable mail is a ticket an agent can open, with the mail attached.
    let unreadable: Vec<Ticket> =
        store.all_tickets().into_iter().filter(|t| t.tags.contains(UNREADABLE_TAG)).collect();
    assert_eq!(unreadable.len(), expected[&Fate::Unreadable]);
    for ticket in &unreadable {
        let messages = t.desk.ports.tickets.messages(ticket.number).await.expect("read messages");
        let original = messages.iter().flat_map(|m| &m.attachments).find(|a| a.name == "original.eml");
        let original = original.expect("the raw mail is attached");
        let raw = t.desk.ports.blobs.get(&original.key).await.expect("read blob");
        assert_eq!(raw.map(|r| r.len() as u64), Some(original.size));
    }
    // Bounces made no ticket (and, naming no mail of this desk, marked nobody).
    assert!(store.all_customers().iter().all(|c| c.bouncing.is_empty()));
}
