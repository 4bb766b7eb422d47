//! A bounded fuzz of the survey pages: random and mutated tokens, random paths under
//! `/v1/surveys/`, methods, queries and form bodies (valid fields mixed with garbage) never
//! get a 5xx, and nothing but a well-formed POST with a genuine form field records anything.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{Method, Request};
use jiff::Timestamp;
use omnidesk_app::survey_web::{self, SurveyWeb};
use omnidesk_domain::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings, SequentialIds};
use omnidesk_domain::model::{Actor, Channel, CustomerId, Identity, Status, Ticket, TicketNumber};
use omnidesk_domain::ports::{Clock, CustomerStore, TicketCommit, TicketStore};
use omnidesk_domain::survey::{SenderPorts, SurveyDesk, SurveyPorts, SurveyRules, SurveySender, TokenKeys};
use proptest::prelude::*;
use tower::ServiceExt;

const CASES: u32 = 256;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    store: Arc<MemoryStore>,
    token: String,
    form_field: String,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (router, store, token, form_field) = runtime.block_on(async {
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_800_000_000).expect("time")));
        let store = Arc::new(MemoryStore::new());
        let rules = Arc::new(SurveyRules::default());
        let keys = TokenKeys::new(b"fuzz-survey-key-0123456789", None);
        let customer = omnidesk_domain::model::Customer::new(
            CustomerId::new("c1"),
            None,
            vec![Identity::email("li@example.com").expect("address")],
            clock.now(),
        );
        store.create(&customer).await.expect("customer");
        let number = store.allocate_number().await.expect("number");
        let (mut ticket, created) =
            Ticket::open(number, Channel::Email, "Parcel".into(), CustomerId::new("c1"), None, clock.now());
        let mut events = vec![created];
        events.extend(
            ticket.set_status(&Actor::Agent("li".into()), Status::Solved, clock.now()).expect("solve"),
        );
        rules.apply(&mut ticket, &events);
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages: Vec::new(),
            events,
            thread_claims: Vec::new(),
            idempotency: None,
        };
        store.commit(commit).await.expect("commit");
        clock.advance(Duration::from_secs(25 * 3600));
        let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
        let ports = SenderPorts {
            tickets: store.clone(),
            customers: store.clone(),
            watermarks: store.clone(),
            outbound: outbound.clone(),
            clock: clock.clone(),
        };
        let email = omnidesk_domain::router::EmailRules::default();
        let sender =
            SurveySender::new(ports, rules.clone(), keys.clone(), "https://help.example", Some(email));
        sender.run_at(clock.now(), false).await.expect("send");
        let survey =
            store.ticket(TicketNumber(1)).await.expect("read").expect("ticket").survey.expect("survey");
        let id = survey.token_id.expect("sent");
        let token = keys.token(&id, survey.expires_at.expect("expiry"));
        let form_field = keys.form_field(&id, 0, clock.now());
        let ports = SurveyPorts {
            tickets: store.clone(),
            customers: store.clone(),
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
        };
        let desk = SurveyDesk::new(ports, rules, keys);
        (survey_web::router(SurveyWeb { desk: Arc::new(desk) }), store, token, form_field)
    });
    Fixture { runtime, router, store, token, form_field }
}

impl Fixture {
    fn status(&self, method: Method, uri: &str, body: Vec<u8>) -> u16 {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body));
        let Ok(request) = request else { return 400 }; // not a request axum would ever see
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.expect("infallible");
            response.status().as_u16()
        })
    }

    fn version(&self) -> u64 {
        self.runtime.block_on(async {
            self.store.ticket(TicketNumber(1)).await.expect("read").expect("ticket").version
        })
    }
}

/// A token with one of a few mutations: flipped digit, truncated, extended, random.
fn token_like(token: String) -> impl Strategy<Value = String> {
    let len = token.len();
    prop_oneof![
        (0..len, "[0-9a-f]").prop_map({
            let token = token.clone();
            move |(at, digit)| {
                let mut t = token.clone();
                t.replace_range(at..at + 1, &digit);
                t
            }
        }),
        (0..len).prop_map({
            let token = token.clone();
            move |cut| token[..cut].to_owned()
        }),
        "[0-9a-f]{0,8}".prop_map({
            let token = token.clone();
            move |more| format!("{token}{more}")
        }),
        "[0-9a-zA-Z%._~-]{0,200}",
        Just(token),
    ]
}

fn body_like(field: String) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        ("-?[0-9]{0,4}", ".{0,300}", prop_oneof![Just(field), "[0-9a-f]{0,60}"]).prop_map(
            |(rating, comment, form)| {
                let comment: String = form_urlencoded::byte_serialize(comment.as_bytes()).collect();
                format!("rating={rating}&comment={comment}&form={form}").into_bytes()
            }
        ),
        Just(b"List-Unsubscribe=One-Click".to_vec()),
    ]
}

#[test]
fn fuzzed_tokens_and_form_bodies_never_get_a_server_error() {
    let f = fixture();
    let token = f.token.clone();
    let methods = [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE];
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: CASES, ..ProptestConfig::default() });
    let strategy = (
        token_like(token.clone()),
        body_like(f.form_field.clone()),
        0..methods.len(),
        any::<bool>(),
        ".{0,40}",
    );
    runner
        .run(&strategy, |(candidate, body, method, unsubscribe, query)| {
            let query: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let suffix = if unsubscribe { "/unsubscribe" } else { "" };
            let uri = format!("/v1/surveys/{candidate}{suffix}?lang={query}&rating={query}");
            let before = f.version();
            let status = f.status(methods[method].clone(), &uri, body.clone());
            prop_assert!(status < 500, "{} {uri} -> {status}", methods[method]);
            if candidate != token || methods[method] != Method::POST {
                prop_assert_eq!(f.version(), before, "{} {} changed the ticket", methods[method], uri);
            }
            Ok(())
        })
        .expect("no 5xx, no effect without a genuine form");
}
