//! The knowledge base and the chat bot end to end, on both backends: a question answered from
//! an article, "yes" solving it as self-served; "talk to a person" and "转人工" reaching the
//! team's queue with the whole exchange in the thread; never a third bot answer; links to the
//! articles that came close when the bot is not sure enough to answer; an article
//! edited and published found by the next search; example questions kept, matched and not
//! shown; the help centre's answers to bad input.

use omnidesk_app::chat_callback::ChatCallback;
use omnidesk_domain::model::{EventKind, Status, TicketEvent, TicketNumber, Visibility};
use omnidesk_domain::outbound::OutboundKind;
use serde_json::{Value, json};

use crate::{Backend, TestDesk, eventually};

const AGENT: &str = "Bearer token-agent-li-0123456789";

/// The bot in the test inbox, one team, one agent token.
const BOT: &str = r#"
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

[kb]
public_url = "http://127.0.0.1:9"
synonyms = [["refund", "money back"], ["退款", "退钱"]]

[bot]
inboxes = ["web"]
# The example desk's, for its articles (infra/local/omnidesk.example.toml).
min_confidence = 0.6125
"#;

async fn bot_desk(backend: &Backend) -> TestDesk {
    let desk = TestDesk::start_configured(backend, BOT).await;
    let added = desk.desk.seed_example_articles().await.expect("seed");
    assert!(added >= 20, "seeded {added} articles");
    desk
}

impl TestDesk {
    /// The callbacks of `conversation` so far, in delivery order, repeats dropped.
    fn callbacks_of(&self, conversation: &str) -> Vec<ChatCallback> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for callback in self.receiver.delivered() {
            if callback.conversation_id == conversation && !seen.contains(&callback.delivery_id) {
                seen.push(callback.delivery_id.clone());
                out.push(callback);
            }
        }
        out
    }

    async fn wait_callbacks(&self, conversation: &str, count: usize) -> Vec<ChatCallback> {
        let patience = self.backend.patience();
        let arrived = eventually(patience, || async { self.callbacks_of(conversation).len() >= count }).await;
        assert!(arrived, "{count} callbacks for {conversation}: {:?}", self.callbacks_of(conversation));
        self.callbacks_of(conversation)
    }

    /// The internal notes of a ticket's thread (the bot's among them), in order.
    async fn internal_notes(&self, number: TicketNumber) -> Vec<String> {
        let thread = self.messages(number).await;
        thread.into_iter().filter(|m| m.visibility == Visibility::Internal).map(|m| m.text).collect()
    }

    async fn events_of(&self, number: TicketNumber) -> Vec<TicketEvent> {
        self.observe.tickets.events(number).await.expect("events")
    }

    async fn kb_get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.expect("desk answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn agent_send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .request(method, self.url(path))
            .header("authorization", AGENT)
            .json(&body)
            .send()
            .await
            .expect("desk answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The bot's events of a ticket, by name, in order.
pub(crate) fn bot_events(events: &[TicketEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).filter(|name| name.starts_with("bot_")).collect()
}

/// The bot's limits held: its two answers gave two different articles, and the next question
/// went to a person for the answer limit.
pub(crate) fn assert_two_different_answers_then_the_answer_limit(events: &[TicketEvent]) {
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotHandoff { reason, .. } if reason == "answer_limit"))
    );
    let articles: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BotAnswered { article, .. } => Some(article.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(articles.len(), 2, "{articles:?}");
    assert_ne!(articles[0], articles[1]);
}

pub async fn a_question_gets_a_bot_answer_and_yes_solves_it_as_self_served(backend: &Backend) {
    let desk = bot_desk(backend).await;
    assert_eq!(desk.send_chat("kb-1", "kb-conv-1", "kb-visitor-1", "How do I return an item?").await, 202);
    let callbacks = desk.wait_callbacks("kb-conv-1", 1).await;
    assert_eq!(callbacks[0].kind, OutboundKind::BotAnswer);
    assert!(callbacks[0].text.contains("/v1/kb/articles/return-policy.html"), "{}", callbacks[0].text);
    assert_eq!(callbacks[0].choices, ["yes", "talk to a person"]);
    assert_eq!(desk.send_chat("kb-2", "kb-conv-1", "kb-visitor-1", "yes").await, 202);
    let callbacks = desk.wait_callbacks("kb-conv-1", 2).await;
    assert_eq!(callbacks[1].kind, OutboundKind::BotMessage);
    let number = desk.ticket_of_conversation("kb-conv-1").await.expect("ticket");
    let ticket = desk.ticket(number.0).await.expect("ticket");
    assert_eq!(ticket.status, Status::Solved);
    assert!(ticket.tags.contains("self_served"));
    assert_eq!(ticket.team, None, "a self-served ticket never reached a queue");
    let events = desk.events_of(number).await;
    assert_eq!(bot_events(&events), ["bot_answered", "bot_helped"]);
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotHelped { article, .. } if article == "return-policy"))
    );
}

pub async fn a_bot_answer_then_talk_to_a_person_reaches_the_team_queue_with_the_whole_exchange(
    backend: &Backend,
) {
    let desk = bot_desk(backend).await;
    desk.send_chat("kb-3", "kb-conv-2", "kb-visitor-2", "when will i get my refund").await;
    let callbacks = desk.wait_callbacks("kb-conv-2", 1).await;
    assert_eq!(callbacks[0].kind, OutboundKind::BotAnswer, "{}", callbacks[0].text);
    desk.send_chat("kb-4", "kb-conv-2", "kb-visitor-2", "talk to a person").await;
    let callbacks = desk.wait_callbacks("kb-conv-2", 2).await;
    assert!(callbacks[1].text.contains("passing you to a person"), "{}", callbacks[1].text);
    let number = desk.ticket_of_conversation("kb-conv-2").await.expect("ticket");
    let ticket = desk.ticket(number.0).await.expect("ticket");
    assert_eq!(ticket.team.as_deref(), Some("frontline"));
    assert!(ticket.status.is_unfinished());
    let events = desk.events_of(number).await;
    assert_eq!(bot_events(&events), ["bot_answered", "bot_handoff"]);
    assert!(events.iter().any(
        |e| matches!(&e.kind, EventKind::BotHandoff { reason, article, .. } if reason == "requested" && article.as_deref() == Some("refund-timing"))
    ));
    // The agent sees the question, the bot's answer, the request and the bot's notes.
    let thread = desk.messages(number).await;
    let texts: Vec<&str> = thread.iter().map(|m| m.text.as_str()).collect();
    assert!(texts.contains(&"when will i get my refund"));
    assert!(texts.contains(&"talk to a person"));
    let notes: Vec<&str> =
        thread.iter().filter(|m| m.visibility == Visibility::Internal).map(|m| m.text.as_str()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("refund-timing") && n.contains("confidence") && n.contains("sureness")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("handed over to a person: requested")), "{notes:?}");
}

pub async fn zhuan_ren_gong_as_the_first_message_goes_straight_to_a_person(backend: &Backend) {
    let desk = bot_desk(backend).await;
    desk.send_chat("kb-5", "kb-conv-3", "kb-visitor-3", "转人工").await;
    let callbacks = desk.wait_callbacks("kb-conv-3", 1).await;
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0].kind, OutboundKind::BotMessage);
    assert!(callbacks[0].text.contains("人工客服"), "{}", callbacks[0].text);
    let number = desk.ticket_of_conversation("kb-conv-3").await.expect("ticket");
    assert_eq!(desk.ticket(number.0).await.expect("ticket").team.as_deref(), Some("frontline"));
    assert_eq!(bot_events(&desk.events_of(number).await), ["bot_handoff"]);
}

pub async fn a_third_question_goes_to_a_person_never_a_third_bot_answer(backend: &Backend) {
    let desk = bot_desk(backend).await;
    let questions = ["How do I return an item?", "when will i get my refund", "how long does delivery take"];
    for (i, question) in questions.iter().enumerate() {
        desk.send_chat(&format!("kb-q{i}"), "kb-conv-4", "kb-visitor-4", question).await;
        desk.wait_callbacks("kb-conv-4", i + 1).await;
    }
    let callbacks = desk.callbacks_of("kb-conv-4");
    let answers = callbacks.iter().filter(|c| c.kind == OutboundKind::BotAnswer).count();
    assert_eq!(answers, 2, "{callbacks:?}");
    assert!(callbacks[2].text.contains("passing you to a person"), "{}", callbacks[2].text);
    let number = desk.ticket_of_conversation("kb-conv-4").await.expect("ticket");
    let events = desk.events_of(number).await;
    assert_eq!(bot_events(&events), ["bot_answered", "bot_answered", "bot_handoff"]);
    assert_two_different_answers_then_the_answer_limit(&events);
}

pub async fn a_question_the_bot_is_not_sure_of_gets_links_to_the_articles_that_came_close(backend: &Backend) {
    let desk = bot_desk(backend).await;
    // The invoices article covers "receipts" but little else of the question: not enough for
    // an answer, enough to be worth a look.
    let asked = "do you do paper receipts in the box";
    desk.send_chat("kb-s1", "kb-conv-s", "kb-visitor-s", asked).await;
    let callbacks = desk.wait_callbacks("kb-conv-s", 1).await;
    assert_eq!(callbacks[0].kind, OutboundKind::BotMessage, "{}", callbacks[0].text);
    assert!(callbacks[0].text.contains("One of these may help"), "{}", callbacks[0].text);
    assert!(callbacks[0].text.contains("/v1/kb/articles/invoices.html"), "{}", callbacks[0].text);
    let number = desk.ticket_of_conversation("kb-conv-s").await.expect("ticket");
    assert!(bot_events(&desk.events_of(number).await).is_empty(), "a list is not an answer");
    assert_eq!(desk.ticket(number.0).await.expect("ticket").team, None, "the bot still has it");
    let notes = desk.internal_notes(number).await;
    assert!(notes.iter().any(|n| n.contains("listed invoices")), "{notes:?}");
}

pub async fn an_article_edited_and_published_is_found_by_the_next_search(backend: &Backend) {
    let desk = bot_desk(backend).await;
    let article = json!({"slug": "gift-wrap", "title": "Gift wrapping", "body": "We wrap gifts for $3.", "language": "en"});
    let (status, created) = desk.agent_send(reqwest::Method::POST, "/v1/articles", article).await;
    assert_eq!(status, 201, "{created}");
    let (_, found) = desk.kb_get("/v1/kb/search?q=gift%20wrapping").await;
    assert!(
        found["results"].as_array().is_none_or(|r| r.iter().all(|h| h["slug"] != "gift-wrap")),
        "a draft is not found"
    );
    let (status, published) =
        desk.agent_send(reqwest::Method::POST, "/v1/articles/gift-wrap/publish", json!({"version": 1})).await;
    assert_eq!(status, 200, "{published}");
    let (_, found) = desk.kb_get("/v1/kb/search?q=gift%20wrapping").await;
    assert_eq!(found["results"][0]["slug"], "gift-wrap", "{found}");
    let edit = json!({"version": 2, "title": "Gift wrapping and greeting cards", "body": "Add a greeting card at checkout.", "language": "en"});
    let (status, edited) =
        desk.agent_send(reqwest::Method::PATCH, "/v1/articles/gift-wrap", edit.clone()).await;
    assert_eq!(status, 200, "{edited}");
    let (_, found) = desk.kb_get("/v1/kb/search?q=greeting%20card").await;
    assert_eq!(found["results"][0]["slug"], "gift-wrap", "{found}");
    // The same edit again is stale: 409, nothing changes.
    let (status, _) = desk.agent_send(reqwest::Method::PATCH, "/v1/articles/gift-wrap", edit).await;
    assert_eq!(status, 409);
    let response = desk
        .http
        .get(desk.url("/v1/articles/gift-wrap/audit"))
        .header("authorization", AGENT)
        .send()
        .await
        .expect("audit");
    let audit: Value = response.json().await.expect("json");
    let actions: Vec<&str> =
        audit.as_array().expect("list").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["created", "published", "edited"]);
}

pub async fn example_questions_are_stored_returned_and_matched_but_not_shown_and_bounded(backend: &Backend) {
    let desk = bot_desk(backend).await;
    let article = json!({"slug": "gift-wrap", "title": "Gift wrapping", "body": "We wrap gifts for $3.",
        "language": "en", "examples": ["can you put my present in nice paper?"]});
    let (status, created) = desk.agent_send(reqwest::Method::POST, "/v1/articles", article).await;
    assert_eq!((status, &created["examples"]), (201, &json!(["can you put my present in nice paper?"])));
    desk.agent_send(reqwest::Method::POST, "/v1/articles/gift-wrap/publish", json!({"version": 1})).await;
    let (_, found) =
        desk.kb_get("/v1/kb/search?q=could%20you%20put%20the%20present%20in%20nice%20paper").await;
    assert_eq!(found["results"][0]["slug"], "gift-wrap", "a paraphrase only the example matches: {found}");
    let edit = json!({"version": 2, "title": "Gift wrapping", "body": "We wrap gifts for $3.", "language": "en",
        "examples": ["is gift wrap available", "can you wrap it as a present"]});
    let (status, edited) = desk.agent_send(reqwest::Method::PATCH, "/v1/articles/gift-wrap", edit).await;
    assert_eq!((status, edited["examples"].as_array().map(Vec::len)), (200, Some(2)), "{edited}");
    let response = desk
        .http
        .get(desk.url("/v1/articles/gift-wrap"))
        .header("authorization", AGENT)
        .send()
        .await
        .expect("article");
    let stored: Value = response.json().await.expect("json");
    assert_eq!(stored["examples"], json!(["is gift wrap available", "can you wrap it as a present"]));
    // The help centre's pages are for reading: the examples are for matching only.
    let (_, public) = desk.kb_get("/v1/kb/articles/gift-wrap").await;
    assert!(public.get("examples").is_none() && !public.to_string().contains("available"), "{public}");
    let page = desk.http.get(desk.url("/v1/kb/articles/gift-wrap.html")).send().await.expect("page");
    assert!(!page.text().await.expect("page").contains("is gift wrap available"));
    for (field, questions, message) in [
        ("examples", json!(vec!["q"; 101]), "examples: at most 100 questions"),
        ("examples", json!(["x".repeat(301)]), "examples: each question 1–300 characters"),
        ("examples", json!([" "]), "examples: each question 1–300 characters"),
        ("counter_examples", json!(vec!["q"; 101]), "counter_examples: at most 100 questions"),
    ] {
        let mut too_many =
            json!({"version": 3, "title": "Gift wrapping", "body": "We wrap gifts.", "language": "en"});
        too_many[field] = questions;
        let (status, body) =
            desk.agent_send(reqwest::Method::PATCH, "/v1/articles/gift-wrap", too_many).await;
        assert_eq!((status, body["error"]["message"].as_str()), (400, Some(message)), "{body}");
    }
    // A request larger than any valid article is refused before it is read.
    let huge =
        json!({"version": 3, "title": "Gift wrapping", "body": "x".repeat(600 * 1024), "language": "en"});
    let (status, _) = desk.agent_send(reqwest::Method::PATCH, "/v1/articles/gift-wrap", huge).await;
    assert_eq!(status, 413);
    let response = desk
        .http
        .get(desk.url("/v1/articles/gift-wrap/audit"))
        .header("authorization", AGENT)
        .send()
        .await
        .expect("audit");
    let audit: Value = response.json().await.expect("json");
    let actions: Vec<&str> =
        audit.as_array().expect("list").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["created", "published", "edited"], "a refused edit leaves no entry");
}

pub async fn a_question_like_an_articles_counter_example_goes_to_a_person_at_once(backend: &Backend) {
    let desk = bot_desk(backend).await;
    let body = "We engrave rings and watches for $10: add the text at checkout, up to 20 characters.";
    let article = json!({"slug": "engraving", "title": "Engraving", "body": body, "language": "en",
        "examples": ["can you engrave my ring"]});
    let (status, created) = desk.agent_send(reqwest::Method::POST, "/v1/articles", article).await;
    assert_eq!(status, 201, "{created}");
    desk.agent_send(reqwest::Method::POST, "/v1/articles/engraving/publish", json!({"version": 1})).await;
    desk.send_chat("kb-e1", "kb-conv-e1", "kb-visitor-e1", "can you engrave a ring for me").await;
    let callbacks = desk.wait_callbacks("kb-conv-e1", 1).await;
    assert!(callbacks[0].text.contains("/v1/kb/articles/engraving.html"), "{}", callbacks[0].text);
    // An agent notes what the article does not cover; the next question like it goes to a person.
    let stranger = "can you engrave a ring i bought somewhere else";
    let edit = json!({"version": 2, "title": "Engraving", "body": body, "language": "en",
        "examples": ["can you engrave my ring"], "counter_examples": [stranger]});
    let (status, edited) = desk.agent_send(reqwest::Method::PATCH, "/v1/articles/engraving", edit).await;
    assert_eq!((status, &edited["counter_examples"]), (200, &json!([stranger])), "{edited}");
    desk.send_chat(
        "kb-e2",
        "kb-conv-e2",
        "kb-visitor-e2",
        "Could you engrave a ring I bought somewhere else?",
    )
    .await;
    let callbacks = desk.wait_callbacks("kb-conv-e2", 1).await;
    assert!(callbacks[0].text.contains("passing you to a person"), "{}", callbacks[0].text);
    let number = desk.ticket_of_conversation("kb-conv-e2").await.expect("ticket");
    assert_eq!(desk.ticket(number.0).await.expect("ticket").team.as_deref(), Some("frontline"));
    let events = desk.events_of(number).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotHandoff { reason, .. } if reason == "not_for_bot")),
        "{events:?}"
    );
    let notes = desk.internal_notes(number).await;
    assert!(notes.iter().any(|n| n.contains("not_for_bot") && n.contains("engraving")), "{notes:?}");
    // Counter examples are for matching only: the help centre never shows them.
    let page = desk.http.get(desk.url("/v1/kb/articles/engraving.html")).send().await.expect("page");
    assert!(!page.text().await.expect("page").contains("somewhere else"));
    let (_, found) = desk.kb_get("/v1/kb/search?q=engrave%20a%20ring%20i%20bought%20somewhere%20else").await;
    assert_eq!(found["results"][0]["slug"], "engraving", "a reader still finds the article: {found}");
}

pub async fn the_help_centre_answers_bad_input_clearly_and_never_runs_markup(backend: &Backend) {
    let desk = bot_desk(backend).await;
    let (status, body) = desk.kb_get("/v1/kb/search?q=").await;
    assert_eq!((status, body["error"]["message"].as_str()), (400, Some("q: must not be empty")));
    let long = "a".repeat(10_000);
    let (status, body) = desk.kb_get(&format!("/v1/kb/search?q={long}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_request")), "{body}");
    let (status, body) = desk.kb_get("/v1/kb/search?q=refund&lang=fr").await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (400, Some("lang: use zh-CN or en (or leave it out)"))
    );
    let (status, _) = desk.kb_get("/v1/kb/articles/no-such-article").await;
    assert_eq!(status, 404);
    let (status, _) = desk.kb_get("/v1/kb/articles/..%2F..%2Fetc").await;
    assert_eq!(status, 404);
    let markup = json!({"slug": "markup", "title": "<b>Bold</b> title", "language": "en",
        "body": "Hi <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"});
    let (status, _) = desk.agent_send(reqwest::Method::POST, "/v1/articles", markup).await;
    assert_eq!(status, 201);
    desk.agent_send(reqwest::Method::POST, "/v1/articles/markup/publish", json!({"version": 1})).await;
    let response = desk.http.get(desk.url("/v1/kb/articles/markup.html")).send().await.expect("page");
    assert_eq!(response.status().as_u16(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_owned();
    let page = response.text().await.expect("page");
    assert!(!page.contains("<script") && !page.contains("<img") && !page.contains("javascript:"), "{page}");
    assert!(page.contains("&lt;script&gt;") && page.contains("&lt;b&gt;Bold&lt;/b&gt;"), "{page}");
    let again = desk
        .http
        .get(desk.url("/v1/kb/articles/markup.html"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("page");
    assert_eq!(again.status().as_u16(), 304);
    let search = desk
        .http
        .get(desk.url("/v1/kb/search.html?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
        .send()
        .await
        .expect("page");
    assert!(search.status().is_success());
    assert!(!search.text().await.expect("page").contains("<script"));
}

pub async fn a_mail_acknowledgement_suggests_up_to_three_articles_that_score_well(backend: &Backend) {
    let extra = format!("{BOT}\n[email]\naddress = \"support@desk.example\"\n");
    let desk = TestDesk::start_configured(backend, &extra).await;
    desk.desk.seed_example_articles().await.expect("seed");
    let mail = "From: Ana <ana@example.com>\r\nTo: support@desk.example\r\nMessage-ID: <kb-mail-1@example.com>\r\n\
                Subject: How do I return an item?\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                I want to return the jacket I bought.\r\n";
    let response = desk
        .http
        .post(desk.url("/local/email"))
        .header("content-type", "message/rfc822")
        .body(mail)
        .send()
        .await
        .expect("desk answers");
    assert_eq!(response.status().as_u16(), 202);
    let acknowledged = eventually(backend.patience(), || async {
        match desk.ticket(1).await {
            Some(_) => desk.messages(TicketNumber(1)).await.len() >= 2,
            None => false,
        }
    })
    .await;
    assert!(acknowledged, "the mail was acknowledged");
    let thread = desk.messages(TicketNumber(1)).await;
    let ack = thread
        .iter()
        .find(|m| m.text.contains("These articles may answer your question"))
        .expect("suggestions");
    assert!(ack.text.contains("/v1/kb/articles/return-policy.html"), "{}", ack.text);
    let listed = ack.text.lines().filter(|l| l.starts_with("- ")).count();
    assert!((1..=3).contains(&listed), "{}", ack.text);
}
