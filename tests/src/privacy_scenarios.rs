//! Privacy end to end, on both backends: an erasure that runs as a job, reports every store
//! it went through and reaches only its own customer's files, and the jobs still parked for
//! them; an export without internal notes whose file links work for whoever holds them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::agent_scenarios::{ADMIN, ANALYST, STAFF, SUPERVISOR};
use crate::{Backend, TestDesk, eventually};

const DESK: &str = "support@desk.example";
const ANA: &str = "ana.private@customer.example";
const BO: &str = "bo.other@customer.example";
/// The same file, sent by both customers.
const SHARED_FILE: &str = "INVOICE 2026-0042 total 99.00 EUR";

/// A mail from `from` with `text` and the shared file attached.
fn mail_with_attachment(from: &str, message_id: &str, text: &str) -> String {
    let file = base64_encode(SHARED_FILE.as_bytes());
    format!(
        "From: <{from}>\r\nTo: <{DESK}>\r\nSubject: Invoice question\r\nMessage-ID: <{message_id}>\r\n\
         Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
         --b1\r\nContent-Type: text/plain; name=\"invoice.txt\"\r\n\
         Content-Disposition: attachment; filename=\"invoice.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {file}\r\n--b1--\r\n"
    )
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl TestDesk {
    /// Hands the local desk a raw mail, as SES would; 202 expected.
    pub(crate) async fn post_mail(&self, raw: String) {
        let response = self
            .http
            .post(self.url("/local/email"))
            .header("content-type", "message/rfc822")
            .body(raw)
            .send()
            .await
            .expect("desk answers");
        assert_eq!(response.status().as_u16(), 202);
    }

    pub(crate) async fn wait_for_ticket(&self, number: u64) {
        let found =
            eventually(self.backend.patience(), || async { self.ticket(number).await.is_some() }).await;
        assert!(found, "ticket {number} never opened");
    }

    /// Asks for an erasure (202 and a job), then waits until the router has run the job to
    /// its end; the finished job.
    pub(crate) async fn erase(&self, customer: &str) -> Value {
        let (status, job) =
            self.api(Method::POST, &format!("/v1/customers/{customer}/erase"), Some(ADMIN), None).await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(job["status"], "queued", "{job}");
        let url = job["status_url"].as_str().expect("a status url").to_owned();
        let deadline = tokio::time::Instant::now() + self.backend.patience();
        loop {
            let job = self.get(&url, ADMIN).await;
            if job["status"] == "done" || job["status"] == "failed" {
                return job;
            }
            assert!(tokio::time::Instant::now() < deadline, "the erasure job never finished: {job}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Opens a link from an export: the local desk's own path, or an absolute (S3) URL.
    pub(crate) async fn open_link(&self, url: &str) -> (u16, String) {
        let url = if url.starts_with('/') { self.url(url) } else { url.to_owned() };
        let response = self.http.get(url).send().await.expect("link answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}

/// The first attachment link of the customer's export (messages of one instant may come in
/// any order, so the acknowledgement can be first).
pub(crate) fn first_link(export: &Value) -> String {
    let messages = export["tickets"][0]["messages"].as_array().expect("messages");
    let link = messages.iter().find_map(|m| m["attachments"][0]["url"].as_str());
    link.unwrap_or_else(|| panic!("no attachment link in {export}")).to_owned()
}

pub async fn erasing_a_customer_who_shares_an_attachment_with_another_leaves_the_others_file(
    backend: &Backend,
) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}\n[email]\naddress = \"{DESK}\"\n")).await;
    t.post_mail(mail_with_attachment(ANA, "m-ana-1@mail.example", "Ana's private question")).await;
    t.wait_for_ticket(1).await;
    t.post_mail(mail_with_attachment(BO, "m-bo-1@mail.example", "Bo's question")).await;
    t.wait_for_ticket(2).await;
    assert!(t.drained().await);

    let ana = t.get(&format!("/v1/customers?email={ANA}"), ADMIN).await["id"].as_str().unwrap().to_owned();
    let bo = t.get(&format!("/v1/customers?email={BO}"), ADMIN).await["id"].as_str().unwrap().to_owned();
    let bo_export = t.get(&format!("/v1/customers/{bo}/export"), SUPERVISOR).await;
    let ana_export = t.get(&format!("/v1/customers/{ana}/export"), SUPERVISOR).await;
    assert_ne!(first_link(&bo_export), first_link(&ana_export), "one object per received mail");

    let job = t.erase(&ana).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["stores"]["blob_store"]["attachment"], 1, "{job}");
    assert_eq!(job["stores"]["blob_store"]["raw_mail"], 1, "the raw mail goes too: {job}");

    // Bo's file is still there and his (fresh) export link opens it.
    let bo_export = t.get(&format!("/v1/customers/{bo}/export"), SUPERVISOR).await;
    let (status, body) = t.open_link(&first_link(&bo_export)).await;
    assert_eq!((status, body.as_str()), (200, SHARED_FILE));
    // Ana's link, taken before the erasure, opens nothing now.
    let (status, _) = t.open_link(&first_link(&ana_export)).await;
    assert_ne!(status, 200, "an erased customer's file is gone");

    let everything = t.everything_stored().await;
    for needle in [ANA, "Ana's private question", "m-ana-1"] {
        assert!(!everything.contains(needle), "{needle:?} survived erasure");
    }
    assert!(everything.contains(BO));
}

pub async fn after_erasure_a_job_for_that_customer_in_the_queue_is_dropped(backend: &Backend) {
    let t = TestDesk::start_staffed(backend).await;
    // The chat provider is down: the acknowledgement is retried, then parked in the DLQ.
    t.receiver.set_down(true);
    let visitor = json!({ "id": "visitor-erased", "name": "Li Wei" });
    assert_eq!(t.send_chat_from("m1", "conv-1", visitor, "Please forget me").await, 202);
    let parked =
        eventually(backend.patience(), || async { t.depths().await.outbound_dead_letter.total() == 1 }).await;
    assert!(parked, "the acknowledgement never reached the dead-letter queue: {:?}", t.depths().await);

    let customer = t.get("/v1/customers?chat_inbox=web&chat_visitor=visitor-erased", ADMIN).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = t.erase(&customer).await;
    assert_eq!(job["stores"]["outbound_queue"]["job_dropped_on_receipt"], 1, "{job}");

    // The provider is back and ops redrive the parked job: it is dropped on receipt.
    t.receiver.set_down(false);
    let attempts_before = t.receiver.attempts().len();
    let response = t.http.post(t.url("/local/dead-letters/outbound/redrive")).send().await.expect("redrive");
    assert_eq!(response.status().as_u16(), 200);
    assert!(t.drained().await);
    crate::settle(backend).await;
    assert_eq!(t.receiver.attempts().len(), attempts_before, "nothing was sent to the erased customer");
    assert!(t.receiver.delivered().is_empty());
    assert_eq!(t.depths().await.outbound_dead_letter.total(), 0);
}

pub async fn an_erasure_request_returns_a_job_that_lists_every_store_clears_tags_and_runs_twice_harmlessly(
    backend: &Backend,
) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}\n[email]\naddress = \"{DESK}\"\n")).await;
    t.post_mail(mail_with_attachment(ANA, "m-ana-2@mail.example", "Ana asks about her invoice")).await;
    t.wait_for_ticket(1).await;
    t.post_mail(mail_with_attachment(BO, "m-bo-2@mail.example", "Bo asks too")).await;
    t.wait_for_ticket(2).await;
    assert!(t.drained().await);
    // An agent tags and files Ana's ticket with words that name her.
    let version = t.get("/v1/tickets/1", SUPERVISOR).await["ticket"]["version"].clone();
    let patch =
        json!({ "version": version, "tags": ["ana-private-vip"], "category": "refund-for-ana-private" });
    let (status, body) = t.api(Method::PATCH, "/v1/tickets/1", Some(SUPERVISOR), Some(patch)).await;
    assert_eq!(status, 200, "{body}");

    let ana = t.get(&format!("/v1/customers?email={ANA}"), ADMIN).await["id"].as_str().unwrap().to_owned();
    let bo = t.get(&format!("/v1/customers?email={BO}"), ADMIN).await["id"].as_str().unwrap().to_owned();
    let job = t.erase(&ana).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["leftovers"], json!({}), "{job}");
    assert!(job["attempts"].as_u64().unwrap() >= 1);
    let stores = &job["stores"];
    for (store, kind, least) in [
        ("table", "ticket", 1),
        ("table", "message", 1),
        ("table", "event", 2),
        ("table", "customer", 1),
        ("table", "identity_claim", 1),
        ("table", "erased_identity", 1),
        ("table", "audit_entry", 1),
        ("blob_store", "attachment", 1),
        ("blob_store", "raw_mail", 1),
        ("outbound_queue", "job_dropped_on_receipt", 0),
        ("inbound_queue", "ticket_closed_to_late_messages", 1),
    ] {
        let count = stores[store][kind].as_u64().unwrap_or_else(|| panic!("{store}.{kind} missing: {job}"));
        assert!(count >= least, "{store}.{kind} = {count}: {job}");
    }

    // Tags, category and the events that named them are gone; the facts stay.
    let ticket = t.get("/v1/tickets/1", ADMIN).await;
    assert_eq!(ticket["ticket"]["tags"], json!([]), "{ticket}");
    assert!(ticket["ticket"]["category"].is_null(), "{ticket}");
    let everything = t.everything_stored().await;
    for needle in [ANA, "ana-private-vip", "refund-for-ana-private", "Ana asks about her invoice"] {
        assert!(!everything.contains(needle), "{needle:?} survived erasure");
    }
    // Bo shares the file and keeps it.
    let bo_export = t.get(&format!("/v1/customers/{bo}/export"), SUPERVISOR).await;
    let (status, body) = t.open_link(&first_link(&bo_export)).await;
    assert_eq!((status, body.as_str()), (200, SHARED_FILE));

    // A second request is another job that finds nothing left and changes nothing.
    let again = t.erase(&ana).await;
    assert_eq!(again["status"], "done", "{again}");
    assert_ne!(again["id"], job["id"]);
    for (store, kinds) in again["stores"].as_object().unwrap() {
        for (kind, count) in kinds.as_object().unwrap() {
            let expected = u64::from(store == "table" && kind == "audit_entry");
            assert_eq!(count.as_u64(), Some(expected), "{store}.{kind} on the second run: {again}");
        }
    }
    // The first job's status still reads as it ended.
    let first = t.get(job["status_url"].as_str().unwrap(), ADMIN).await;
    assert_eq!(first["status"], "done");
    let (status, body) =
        t.api(Method::GET, &format!("/v1/customers/{ana}/erasures/era_unknown"), Some(ADMIN), None).await;
    assert_eq!(status, 404, "{body}");
}

/// The console's download button: a short-lived link to a file of a message on the ticket;
/// another index or message is 404.
pub async fn an_agent_downloads_a_ticket_attachment_through_a_short_lived_link(backend: &Backend) {
    let t = TestDesk::start_configured(backend, &format!("{STAFF}\n[email]\naddress = \"{DESK}\"\n")).await;
    t.post_mail(mail_with_attachment(ANA, "m-ana-dl@mail.example", "Ana sends a file")).await;
    t.wait_for_ticket(1).await;
    let view = t.get("/v1/tickets/1", ANALYST).await;
    let messages = view["messages"].as_array().expect("messages");
    let with_file = messages.iter().find(|m| m["attachments"][0].is_object()).expect("a message with a file");
    let id = with_file["id"].as_str().unwrap();
    let link = t.get(&format!("/v1/tickets/1/messages/{id}/attachments/0"), ANALYST).await;
    assert_eq!(link["name"], with_file["attachments"][0]["name"], "{link}");
    let (status, body) = t.open_link(link["url"].as_str().unwrap()).await;
    assert_eq!((status, body.as_str()), (200, SHARED_FILE));
    for path in [
        format!("/v1/tickets/1/messages/{id}/attachments/1"),
        "/v1/tickets/1/messages/msg_none/attachments/0".into(),
    ] {
        let (status, _) = t.api(Method::GET, &path, Some(ANALYST), None).await;
        assert_eq!(status, 404, "{path}");
    }
}
