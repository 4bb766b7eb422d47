//! Satisfaction surveys end to end, on both backends, with a clock the test moves: solve →
//! nothing before the delay → one survey after it (a chat callback, a mail in the outbox) →
//! GET and HEAD of the link (as a mail scanner would) record nothing → a POST without the
//! form's field is refused → the POST records once, replayed five times changes nothing, a
//! different rating replaces it with one event → a low rating's follow-up shows in the agent
//! API with the comment → tampered and truncated links are 404, expired ones 410.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use omnidesk_app::chat_callback::ChatCallback;
use omnidesk_domain::model::{EventKind, TicketNumber};
use omnidesk_domain::outbound::OutboundKind;
use serde_json::{Value, json};

use crate::sla_scenarios::ShiftedClock;
use crate::{Backend, TestDesk, eventually};

const AGENT: &str = "Bearer token-agent-li-0123456789";
const SUPERVISOR: &str = "Bearer token-supervisor-0123456789";

/// Chat and mail, one team with a supervisor, surveys an hour after solving.
const SURVEYS: &str = r#"
[email]
address = "support@desk.example"

[routing]
default_team = "frontline"
teams = [{ id = "frontline", name = "Frontline", tier = 1 }]

[[agents]]
id = "li"
teams = ["frontline"]
languages = ["zh", "en"]

[[auth.tokens]]
token = "token-agent-li-0123456789"
user = "li"
role = "agent"

[[auth.tokens]]
token = "token-supervisor-0123456789"
user = "sue"
role = "supervisor"

[survey]
base_url = "http://127.0.0.1:9"
token_secret = "test-survey-secret-0123456789"
delay_minutes = 60
supervisors = { frontline = "sue" }
"#;

fn mail(from: &str, message_id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: <support@desk.example>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

impl TestDesk {
    async fn solve(&self, number: u64) {
        let url = self.url(&format!("/v1/tickets/{number}"));
        let ticket: Value = self
            .http
            .get(&url)
            .header("authorization", AGENT)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let version =
            ticket["ticket"]["version"].as_u64().or_else(|| ticket["version"].as_u64()).expect("version");
        let response = self
            .http
            .patch(&url)
            .header("authorization", AGENT)
            .json(&json!({"version": version, "status": "solved"}))
            .send()
            .await
            .expect("patch");
        assert_eq!(response.status().as_u16(), 200, "{:?}", response.text().await);
    }

    async fn survey_events(&self, number: u64) -> Vec<EventKind> {
        let events = self.observe.tickets.events(TicketNumber(number)).await.expect("events");
        events
            .into_iter()
            .map(|e| e.kind)
            .filter(|k| matches!(k, EventKind::SurveySent { .. } | EventKind::SurveyAnswered { .. }))
            .collect()
    }

    async fn run_sender(&self) {
        let surveys = self.desk.surveys.as_ref().expect("[survey] configured");
        surveys.sender.sender().run().await.expect("sender run");
    }

    fn survey_mail(&self) -> Option<String> {
        let entries = std::fs::read_dir(&self.outbox).ok()?;
        entries
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .find(|mail| mail.contains("List-Unsubscribe"))
    }

    /// GET of a survey page: status, its security headers, the body.
    async fn page(&self, method: reqwest::Method, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let response = self.http.request(method, self.url(path)).send().await.expect("desk answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap_or_default())
    }

    async fn post_form(&self, path: &str, body: &str) -> u16 {
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("desk answers");
        response.status().as_u16()
    }
}

/// The token in a survey link found in `text` (`…/v1/surveys/<token>…`).
fn token_in(text: &str) -> Option<String> {
    let start = text.find("/v1/surveys/")? + "/v1/surveys/".len();
    Some(text[start..].chars().take_while(char::is_ascii_hexdigit).collect())
}

/// The anti-forgery field of a rendered form.
fn form_field(html: &str) -> String {
    let start = html.find("name=\"form\" value=\"").map(|i| i + 19).expect("a form field");
    html[start..].chars().take_while(char::is_ascii_hexdigit).collect()
}

fn assert_protected(headers: &reqwest::header::HeaderMap) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(header("content-security-policy").starts_with("default-src 'none'"), "{headers:?}");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
}

pub async fn a_solved_ticket_gets_one_survey_that_records_only_what_a_person_submits(backend: &Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let t = TestDesk::start_with(backend, None, SURVEYS, clock.clone()).await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "Where is my parcel?").await, 202);
    t.post_mail(mail(
        "Li Wei <li.wei@example.com>",
        "s1@mail.example.com",
        "Refund",
        "Please refund order 7.",
    ))
    .await;
    let both = eventually(backend.patience(), || async {
        t.ticket(1).await.is_some() && t.ticket(2).await.is_some()
    });
    assert!(both.await, "two tickets");
    assert!(t.drained().await);
    t.solve(1).await;
    t.solve(2).await;

    clock.shift(SignedDuration::from_mins(59));
    t.run_sender().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(t.survey_events(1).await.is_empty(), "nothing before the delay");
    assert!(t.receiver.delivered().iter().all(|c| c.kind != OutboundKind::Survey));

    clock.shift(SignedDuration::from_mins(2));
    t.run_sender().await;
    t.run_sender().await;
    let chat: Vec<ChatCallback> = {
        let found = eventually(backend.patience(), || async {
            t.receiver.delivered().iter().any(|c| c.kind == OutboundKind::Survey) && t.survey_mail().is_some()
        });
        assert!(found.await, "a survey on each channel: {:?}", t.receiver.delivered());
        t.receiver.delivered().into_iter().filter(|c| c.kind == OutboundKind::Survey).collect()
    };
    assert_eq!(chat.len(), 1, "one chat survey");
    assert_eq!(t.survey_events(1).await.len(), 1, "one survey_sent");
    let chat_token = token_in(&chat[0].text).expect("a link in the chat message");
    let mail = t.survey_mail().expect("a survey mail");
    assert!(mail.contains("Auto-Submitted: auto-replied"));
    let mail_token = token_in(&mail).expect("a link in the mail");
    assert!(!mail_token.contains("000002"), "no ticket number in the link");

    // A scanner opens the link: GET and HEAD record nothing.
    let link = format!("/v1/surveys/{chat_token}");
    let before = t.survey_events(1).await.len();
    let (status, headers, html) = t.page(reqwest::Method::GET, &format!("{link}?rating=4")).await;
    assert_eq!(status, 200);
    assert_protected(&headers);
    assert!(html.contains("value=\"4\" required checked"), "the link's rating is preselected");
    let (status, headers, _) = t.page(reqwest::Method::HEAD, &link).await;
    assert_eq!(status, 200);
    assert_protected(&headers);
    assert_eq!(t.survey_events(1).await.len(), before, "GET and HEAD record nothing");

    // A bare replayed URL or a cross-site form has no field from a GET: refused.
    assert_eq!(t.post_form(&link, "rating=1").await, 403);
    assert_eq!(t.survey_events(1).await.len(), before);

    let field = form_field(&html);
    let answer = format!("rating=4&comment=Quick%20help&form={field}");
    assert_eq!(t.post_form(&link, &answer).await, 200);
    assert_eq!(t.survey_events(1).await.len(), before + 1, "recorded once");
    for _ in 0..5 {
        assert_eq!(t.post_form(&link, &answer).await, 200);
    }
    assert_eq!(t.survey_events(1).await.len(), before + 1, "a replayed POST changes nothing");
    // The customer changes the answer on a fresh page; then a scanner replays the first POST.
    let (_, _, fresh) = t.page(reqwest::Method::GET, &link).await;
    let changed = format!("rating=5&comment=Quick%20help&form={}", form_field(&fresh));
    assert_eq!(t.post_form(&link, &changed).await, 200);
    assert_eq!(t.post_form(&link, &answer).await, 200);
    let answers: Vec<(u8, Option<u8>)> = t
        .survey_events(1)
        .await
        .into_iter()
        .filter_map(|k| match k {
            EventKind::SurveyAnswered { score, previous, .. } => Some((score, previous)),
            _ => None,
        })
        .collect();
    assert_eq!(answers, [(4, None), (5, Some(4))], "a changed answer is one more event");

    // A low rating on the mail survey: a follow-up for the supervisor, with the comment.
    let mail_link = format!("/v1/surveys/{mail_token}");
    let (_, _, html) = t.page(reqwest::Method::GET, &mail_link).await;
    let low = format!("rating=1&comment=Nobody%20read%20my%20mail&form={}", form_field(&html));
    assert_eq!(t.post_form(&mail_link, &low).await, 200);
    let follow_up = t
        .ticket(2)
        .await
        .and_then(|ticket| ticket.survey.and_then(|s| s.follow_up))
        .expect("a follow-up ticket");
    let view: Value = t
        .http
        .get(t.url(&format!("/v1/tickets/{}", follow_up.0)))
        .header("authorization", SUPERVISOR)
        .send()
        .await
        .expect("agent api")
        .json()
        .await
        .expect("json");
    let text = view.to_string();
    assert!(text.contains("Nobody read my mail"), "{text}");
    assert!(text.contains("\"assignee\":\"sue\""), "{text}");

    // Tampered and truncated links: 404; nothing recorded.
    let mut tampered = chat_token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("hex");
    for bad in [tampered.as_str(), &chat_token[..chat_token.len() - 1], "", "zz"] {
        let (status, headers, _) = t.page(reqwest::Method::GET, &format!("/v1/surveys/{bad}")).await;
        assert!(matches!(status, 404 | 405), "{bad}: {status}");
        assert_protected_or_unrouted(status, &headers);
        if !bad.is_empty() {
            assert_eq!(t.post_form(&format!("/v1/surveys/{bad}"), &answer).await, 404, "{bad}");
        }
    }
    // Past the link's 14 days: 410.
    clock.shift(SignedDuration::from_hours(15 * 24));
    let (status, headers, _) = t.page(reqwest::Method::GET, &link).await;
    assert_eq!(status, 410);
    assert_protected(&headers);
    assert_eq!(t.post_form(&link, &answer).await, 410);
    assert_eq!(t.survey_events(1).await.len(), before + 2);
}

/// An empty token does not reach the survey routes at all.
fn assert_protected_or_unrouted(status: u16, headers: &reqwest::header::HeaderMap) {
    if status == 404 && headers.contains_key("content-security-policy") {
        assert_protected(headers);
    }
}

pub async fn a_reopened_ticket_and_an_opted_out_customer_get_no_survey(backend: &Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let t = TestDesk::start_with(backend, None, SURVEYS, clock.clone()).await;
    assert_eq!(t.send_chat("m1", "conv-1", "visitor-1", "Where is my parcel?").await, 202);
    assert!(eventually(backend.patience(), || async { t.ticket(1).await.is_some() }).await);
    assert!(t.drained().await);
    t.solve(1).await;
    // The customer writes again before the delay: the ticket reopens, the survey is dropped.
    assert_eq!(t.send_chat("m2", "conv-1", "visitor-1", "It still has not come").await, 202);
    let reopened = eventually(backend.patience(), || async {
        t.ticket(1).await.is_some_and(|ticket| {
            ticket.status == omnidesk_domain::model::Status::Open
                && ticket.survey.as_ref().and_then(|s| s.due_at).is_none()
        })
    });
    assert!(reopened.await, "the reopen drops the survey");
    clock.shift(SignedDuration::from_mins(90));
    t.run_sender().await;
    assert!(t.survey_events(1).await.is_empty(), "no survey for a reopened ticket");

    // Solved again: a survey; the customer opts out through its link; the next ticket gets none.
    t.solve(1).await;
    clock.shift(SignedDuration::from_mins(61));
    t.run_sender().await;
    let token = {
        let found = eventually(backend.patience(), || async {
            t.receiver.delivered().iter().any(|c| c.kind == OutboundKind::Survey)
        });
        assert!(found.await, "the survey after the second solve");
        let callback =
            t.receiver.delivered().into_iter().find(|c| c.kind == OutboundKind::Survey).expect("survey");
        token_in(&callback.text).expect("a link")
    };
    let (status, _, html) = t.page(reqwest::Method::GET, &format!("/v1/surveys/{token}/unsubscribe")).await;
    assert_eq!(status, 200);
    assert_eq!(
        t.post_form(&format!("/v1/surveys/{token}/unsubscribe"), "").await,
        403,
        "no field, no opt-out"
    );
    let body = format!("form={}", form_field(&html));
    assert_eq!(t.post_form(&format!("/v1/surveys/{token}/unsubscribe"), &body).await, 200);

    // Signed at the desk's (shifted) time.
    let body = crate::chat_body("m3", "conv-2", "visitor-1", "Another question");
    let at = omnidesk_domain::ports::Clock::now(clock.as_ref()).as_second();
    assert_eq!(t.post_chat(crate::INBOX, body.as_bytes(), Some(at)).await.0, 202);
    assert!(eventually(backend.patience(), || async { t.ticket(2).await.is_some() }).await);
    assert!(t.drained().await);
    t.solve(2).await;
    clock.shift(SignedDuration::from_hours(24 * 8));
    for _ in 0..3 {
        t.run_sender().await;
    }
    assert!(t.survey_events(2).await.is_empty(), "an opted-out customer gets no survey");
    let skipped = t.observe.tickets.events(TicketNumber(2)).await.expect("events");
    assert!(
        skipped
            .iter()
            .any(|e| matches!(&e.kind, EventKind::SurveySkipped { reason } if reason == "opted_out")),
        "{skipped:?}"
    );
}
