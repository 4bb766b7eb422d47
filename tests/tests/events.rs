//! Every sample event in `events/` deserialises with `aws_lambda_events` (through lambda_http
//! for HTTP) and runs through its function's handler against in-memory adapters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::ses::SimpleEmailEvent;
use aws_lambda_events::sqs::SqsEvent;
use http::StatusCode;
use jiff::Timestamp;
use omnidesk_app::agent_api::{self, AgentApi, ClaimsAuthenticator, Role, VerifiedClaims};
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::email_inbound::{EmailInbound, Ingested, RAW_MAIL_PREFIX};
use omnidesk_app::outbound_dispatcher::DispatcherHandler;
use omnidesk_app::phone_events::{PhoneAnswer, PhoneEvents};
use omnidesk_app::shop::Shop;
use omnidesk_app::shop::fake::example_orders;
use omnidesk_app::shop::webhook::{self as shop_webhook, ShopWebhook};
use omnidesk_app::sla_sweeper::SweeperHandler;
use omnidesk_app::social::{self, SocialWebhook};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::desk::{ErasureStatus, Staff};
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::envelope::open;
use omnidesk_domain::inbound::InboundMessage;
use omnidesk_domain::memory::MemoryCallNotes;
use omnidesk_domain::memory::{
    ManualClock, MemoryBlobStore, MemoryExport, MemoryQueue, MemoryStore, QueueSettings, RecordingNotifier,
    SequentialIds,
};
use omnidesk_domain::model::{Channel, Customer, CustomerId, Identity};
use omnidesk_domain::orders::MemoryOrders;
use omnidesk_domain::outbound::{Destination, OutboundJob, OutboundKind};
use omnidesk_domain::phone::flow::ContactFlow;
use omnidesk_domain::ports::{BlobStore, Clock, CustomerStore, Queue, TicketStore};
use omnidesk_domain::router::TicketRouter;
use omnidesk_domain::sla::SweeperPorts;
use tower::ServiceExt;

/// The sample events are signed with the example config's secret at this instant.
const SIGNED_AT: i64 = 1_795_424_400;

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(events_dir().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn example_config() -> DeskConfig {
    DeskConfig::from_toml(include_str!("../../infra/local/omnidesk.example.toml")).unwrap()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp::from_second(SIGNED_AT).unwrap()))
}

/// A chat message through chat-webhook's router: queued, with its `files` kept in the store.
async fn chat_webhook_post_message(file: &str, files: usize) {
    let request = lambda_http::request::from_str(&read(file)).expect("API Gateway v2 event");
    let clock = clock();
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let blobs = Arc::new(MemoryBlobStore::default());
    let webhook = ChatWebhook {
        inboxes: example_config().inboxes(),
        inbound: inbound.clone(),
        clock,
        limiter: None,
        blobs: Some(blobs.clone()),
    };
    let response = chat_webhook::router(webhook).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{file}");
    assert_eq!(inbound.len(), 1);
    assert_eq!(blobs.list("attachments/").await.unwrap().len(), files, "{file}");
}

/// A platform's webhook delivery through social-webhook's router: its status, and how many
/// messages it queued (events nobody answers queue none).
async fn social_webhook(file: &str) {
    let request = lambda_http::request::from_str(&read(file)).expect("API Gateway v2 event");
    let clock = clock();
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let config = example_config().social.expect("the example config has [social]");
    let webhook =
        SocialWebhook { config: Arc::new(config), inbound: inbound.clone(), clock, wechat_users: None };
    let response = social::service(webhook).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{file}");
    let quiet = ["handshake", "subscribe", "status", "topic-created", "ping"];
    let expected = if quiet.iter().any(|q| file.contains(q)) { 0 } else { 1 };
    assert_eq!(inbound.len(), expected, "{file}");
}

/// A Shopify `fulfillments/update` webhook, signed with the example config's webhook secret.
async fn chat_webhook_shop_webhook() {
    let request = lambda_http::request::from_str(&read("chat-webhook/shop-fulfillment-update.json"))
        .expect("API Gateway v2 event");
    let clock = clock();
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let config = example_config();
    let secret = config.shop.as_ref().and_then(|s| s.webhook_secret.value()).map(str::to_owned);
    let webhook = ShopWebhook { inbound: inbound.clone(), secret, clock };
    let response = shop_webhook::router(webhook).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(inbound.len(), 1);
}

/// The agent console's list, as the HTTP API hands it over after its JWT authorizer: the
/// function turns the verified claims into the caller (an agent, from `cognito:groups`).
async fn agent_api_get_tickets() {
    let mut request =
        lambda_http::request::from_str(&read("agent-api/get-tickets.json")).expect("API Gateway v2 event");
    let claims = match request.extensions().get::<lambda_http::request::RequestContext>() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
            VerifiedClaims::from_http_api(context)
        }
        _ => None,
    };
    let claims = claims.expect("the sample carries JWT claims");
    assert_eq!(claims.principal().map(|p| (p.user, p.role)), Some(("li".to_owned(), Role::Agent)));
    request.extensions_mut().insert(claims);
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let ports = omnidesk_domain::memory::desk_ports(store, clock.clone());
    let api = AgentApi {
        desk: Arc::new(agent_api::desk(&example_config(), ports)),
        auth: Arc::new(ClaimsAuthenticator),
        canned: Arc::new(omnidesk_domain::canned::CannedResponses::new(
            Arc::new(omnidesk_domain::canned::MemoryCannedStore::default()),
            clock,
            Arc::new(omnidesk_domain::memory::SequentialIds::default()),
        )),
    };
    let response = agent_api::router(api).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn ticket_router_sqs_batch() {
    let event: SqsEvent = serde_json::from_str(&read("ticket-router/sqs-batch.json")).expect("SQS event");
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let handler = RouterHandler::new(
        &example_config(),
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock),
    );
    let response = handler.handle(event).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    // Both records are one conversation: one ticket, one acknowledgement.
    assert_eq!(store.all_tickets().len(), 1);
    assert_eq!(outbound.len(), 1);
}

/// A platform's refusal of a reply, from the dispatcher: the router notes it on the ticket
/// the router sample opened, once however often it comes.
async fn ticket_router_delivery_refused() {
    let opening: SqsEvent = serde_json::from_str(&read("ticket-router/sqs-batch.json")).expect("SQS event");
    let event: SqsEvent =
        serde_json::from_str(&read("ticket-router/delivery-refused.json")).expect("SQS event");
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let handler = RouterHandler::new(
        &example_config(),
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock),
    );
    assert!(handler.handle(opening).await.batch_item_failures.is_empty());
    for _ in 0..2 {
        let response = handler.handle(event.clone()).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    }
    let messages = store.messages(omnidesk_domain::TicketNumber(1)).await.unwrap();
    let notes: Vec<_> = messages
        .iter()
        .filter(|m| m.flags.contains(&omnidesk_domain::MessageFlag::DeliveryRefused))
        .collect();
    assert_eq!(notes.len(), 1, "{messages:?}");
    assert!(notes[0].text.contains("45015"));
}

/// An erasure job the agent API queued: the router runs it to the end.
async fn ticket_router_erasure_job() {
    let event: SqsEvent = serde_json::from_str(&read("ticket-router/erasure-job.json")).expect("SQS event");
    let clock = clock();
    let config = example_config();
    let store = Arc::new(MemoryStore::new());
    // The customer the sample names, and the job the agent API recorded for it.
    let customer = Customer::new(CustomerId::new("cus_sample"), Some("Li Wei".into()), vec![], clock.now());
    store.create(&customer).await.unwrap();
    let jobs = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let ports = omnidesk_domain::memory::desk_ports(store.clone(), clock.clone());
    let desk = Arc::new(agent_api::desk(&config, ports).with_erasure_queue(jobs.clone()));
    let job = desk.request_erasure(&Staff("adam".into()), &customer.id).await.unwrap();
    assert_eq!((job.id.as_str(), jobs.len()), ("era_000001", 1), "the job the sample names");

    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let handler =
        RouterHandler::new(&config, omnidesk_domain::memory::router_ports(store.clone(), outbound, clock))
            .with_erasures(desk.clone());
    let response = handler.handle(event.clone()).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    let done = desk.erasure_job(&customer.id, &job.id).await.unwrap();
    assert_eq!((done.status, done.attempts), (ErasureStatus::Done, 1), "{done:?}");
    assert!(!store.dump().contains("Li Wei"));
    // SQS delivers at least once: the same message again changes nothing.
    let response = handler.handle(event).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert_eq!(desk.erasure_job(&customer.id, &job.id).await.unwrap(), done);
}

/// The signal a shop webhook queued: the router reads the order (3 days late in the example
/// shop) and writes to its customer once, however often the message comes.
async fn ticket_router_order_signal() {
    let event: SqsEvent = serde_json::from_str(&read("ticket-router/order-signal.json")).expect("SQS event");
    let clock = clock();
    let config = example_config();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let orders = Arc::new(MemoryOrders::new(example_orders(clock.now())));
    let shop = Shop::over(orders, config.shop.as_ref().expect("[shop]"), clock.clone()).unwrap();
    let mut ports = omnidesk_domain::memory::desk_ports(store.clone(), clock.clone());
    ports.outbound = outbound.clone();
    let desk = Arc::new(agent_api::desk(&config, ports).with_shop(shop.desk.clone()));
    let handler = RouterHandler::new(
        &config,
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock),
    )
    .with_shop(&shop)
    .with_erasures(desk);
    for _ in 0..2 {
        let response = handler.handle(event.clone()).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    }
    assert_eq!(store.all_tickets().len(), 1, "one proactive ticket");
    // Each delivery queues the notice's one job again; the dispatcher sends a job id once.
    assert!(!outbound.is_empty(), "the notice is queued");
}

/// A router with the example shop, its return links and a desk, as ticket-router's main
/// wires them; its store and outbound queue.
fn shop_router() -> (RouterHandler, Arc<MemoryStore>, Arc<MemoryQueue>) {
    let clock = clock();
    let config = example_config();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let orders = Arc::new(MemoryOrders::new(example_orders(clock.now())));
    let shop_config = config.shop.as_ref().expect("[shop]");
    let help_centre = config.kb.as_ref().map(|kb| kb.base_url().to_owned());
    let shop = Shop::over(orders, shop_config, clock.clone())
        .unwrap()
        .with_return_links(shop_config, help_centre.as_deref());
    let mut ports = omnidesk_domain::memory::desk_ports(store.clone(), clock.clone());
    ports.outbound = outbound.clone();
    let desk = Arc::new(agent_api::desk(&config, ports).with_shop(shop.desk.clone()));
    let handler = RouterHandler::new(
        &config,
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock),
    )
    .with_shop(&shop)
    .with_erasures(desk);
    (handler, store, outbound)
}

/// The help centre's form as queued: a link to the order's own address, nothing else.
async fn ticket_router_return_form() {
    let event: SqsEvent = serde_json::from_str(&read("ticket-router/return-form.json")).expect("SQS event");
    let (handler, store, outbound) = shop_router();
    let response = handler.handle(event).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert!(store.all_tickets().is_empty(), "the form opens nothing");
    let queued = outbound.receive(10).await.unwrap();
    let job: OutboundJob = open(&queued[0].body).unwrap();
    assert!(matches!(&job.destination, Destination::Email(mail) if mail.to == "ada@example.com"));
    assert!(job.text.contains("/v1/returns/confirm/"), "{}", job.text);
}

/// A followed and confirmed link: one ticket with the return, however often it comes.
async fn ticket_router_return_confirmation() {
    let event: SqsEvent =
        serde_json::from_str(&read("ticket-router/return-confirmation.json")).expect("SQS event");
    let (handler, store, _) = shop_router();
    for _ in 0..2 {
        let response = handler.handle(event.clone()).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    }
    let tickets = store.all_tickets();
    assert_eq!(tickets.len(), 1, "one return per link");
    let case = tickets[0].order.as_ref().and_then(|o| o.returned.clone()).expect("a return");
    assert_eq!((case.order.as_str(), case.line.as_str()), ("#1001", "1001-1"));
}

/// The return form's routes as help-centre serves them: 200, and the request queued as `kind`.
async fn help_centre_return_form(file: &str, kind: &str) {
    use omnidesk_app::shop::return_form::{self, ReturnForm};
    let config = example_config();
    let key = config.shop.as_ref().and_then(|shop| shop.link_key()).expect("[shop.returns] link_key");
    let inbound = Arc::new(MemoryQueue::new("inbound", clock(), QueueSettings::default()));
    let app = return_form::router(ReturnForm::new(inbound.clone(), Some(key), clock()));
    let request = lambda_http::request::from_str(&read(file)).expect("API Gateway v2 event");
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{file}");
    let queued = inbound.receive(10).await.unwrap();
    assert_eq!(queued.len(), 1, "{file}");
    assert!(queued[0].body.contains(&format!("\"kind\":\"{kind}\"")), "{}", queued[0].body);
}

async fn outbound_dispatcher_sqs_batch() {
    let event: SqsEvent =
        serde_json::from_str(&read("outbound-dispatcher/sqs-batch.json")).expect("SQS event");
    let notifier = Arc::new(RecordingNotifier::default());
    let handler = DispatcherHandler::new(DispatcherPorts {
        idempotency: Arc::new(MemoryStore::new()),
        notifier: notifier.clone(),
        clock: clock(),
        ids: Arc::new(SequentialIds::default()),
    });
    let response = handler.handle(event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(notifier.delivered().len(), 1);
}

/// The schedule event: a ticket the router sample opened, left unanswered, breaches its
/// first-reply target, found through the due index.
async fn sla_sweeper_schedule() {
    let event: EventBridgeEvent =
        serde_json::from_str(&read("sla-sweeper/schedule.json")).expect("EventBridge scheduled event");
    assert_eq!((event.detail_type.as_str(), event.source.as_str()), ("Scheduled Event", "aws.events"));
    let config = example_config();
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let router = RouterHandler::new(
        &config,
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock.clone()),
    );
    let batch: SqsEvent = serde_json::from_str(&read("ticket-router/sqs-batch.json")).expect("SQS event");
    assert!(router.handle(batch).await.batch_item_failures.is_empty());
    let policies = config.sla_policies().unwrap().expect("the example config has [sla]");
    let ports = SweeperPorts {
        tickets: store.clone(),
        watermarks: store.clone(),
        outbound: outbound.clone(),
        clock: clock.clone(),
    };
    let handler = SweeperHandler::new(policies, ports);
    handler.handle(event.clone()).await.expect("first run");
    // Each run at the ticket's next due instant: the warning, then the breach.
    for _ in 0..3 {
        let Some(due) = store.all_tickets()[0].due_at else { break };
        clock.set(due.max(clock.now()) + jiff::SignedDuration::from_secs(30));
        handler.handle(event.clone()).await.expect("swept");
    }
    let ticket = &store.all_tickets()[0];
    assert!(ticket.sla.breached(), "{:?}", ticket.sla);
    assert_eq!(ticket.team.as_deref(), Some("technical"), "escalated by the example's first rule");
}

/// The raw message SES stored in the bucket before invoking email-inbound with
/// `email-inbound/ses-receipt.json` (the same headers, and the body the event leaves out).
const SES_RECEIPT_RAW_MAIL: &str = "Return-Path: <li.wei@example.com>\r\n\
MIME-Version: 1.0\r\n\
From: Li Wei <li.wei@example.com>\r\n\
Date: Mon, 23 Nov 2026 16:59:58 +0800\r\n\
Message-ID: <CAF7x9q2-order-A1029@mail.example.com>\r\n\
Subject: Order A1029 has not shipped\r\n\
To: Shop Support <support@desk.example>\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
\r\n\
Hello, I ordered on 18 November and order A1029 still shows as not shipped. Can you check?\r\n\
\r\n\
Li Wei\r\n";

/// The email-inbound edge on in-memory adapters, with the sample's raw message in the bucket
/// where SES's S3 action put it.
async fn email_inbound_with_raw_mail(event: &SimpleEmailEvent) -> (EmailInbound, Arc<MemoryQueue>) {
    let clock = clock();
    let blobs = Arc::new(MemoryBlobStore::default());
    let ses_id = event.records[0].ses.mail.message_id.clone().expect("SES message id");
    let raw_key = format!("{RAW_MAIL_PREFIX}{ses_id}");
    blobs.put(&raw_key, SES_RECEIPT_RAW_MAIL.as_bytes().to_vec(), "message/rfc822").await.unwrap();
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let email = example_config().email.expect("the example config has [email]");
    (EmailInbound::new(email, blobs, inbound.clone(), clock), inbound)
}

async fn email_inbound_ses_receipt() {
    let event: SimpleEmailEvent =
        serde_json::from_str(&read("email-inbound/ses-receipt.json")).expect("SES receipt event");
    let receipt = &event.records[0].ses.receipt;
    assert_eq!(receipt.action.type_.as_deref(), Some("Lambda"));
    assert_eq!(receipt.action.invocation_type.as_deref(), Some("Event"));

    let (edge, inbound) = email_inbound_with_raw_mail(&event).await;
    let results = edge.handle(event.clone()).await.expect("ingested");
    let [Ingested::Queued { key, bounce: false, attachments_dropped: 0 }] = results.as_slice() else {
        panic!("expected one queued mail, got {results:?}");
    };
    // Keyed by the sender and the mail's own Message-ID, so SES redelivering the event
    // changes nothing twice.
    let expected = omnidesk_domain::inbound::InboundMessage::email_idempotency_key(
        "li.wei@example.com",
        "CAF7x9q2-order-A1029@mail.example.com",
    );
    assert_eq!(key, &expected);
    assert_eq!(inbound.len(), 1);

    // The same mail with SES's spam verdict FAIL: dropped, nothing queued.
    let mut spam = event;
    spam.records[0].ses.receipt.spam_verdict.status = Some("FAIL".into());
    let (edge, inbound) = email_inbound_with_raw_mail(&spam).await;
    assert_eq!(edge.handle(spam).await.expect("handled"), vec![Ingested::Dropped("spam")]);
    assert_eq!(inbound.len(), 0);
}

/// The phone-events function's two triggers, on in-memory adapters with the example config:
/// its flow answers from the store, its contact events queue for the router.
struct Phone {
    store: Arc<MemoryStore>,
    inbound: Arc<MemoryQueue>,
    outbound: Arc<MemoryQueue>,
    edge: PhoneEvents,
    router: TicketRouter,
}

fn phone() -> Phone {
    let config = example_config();
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let inbound = Arc::new(MemoryQueue::new("inbound", clock.clone(), QueueSettings::default()));
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let notes = Arc::new(MemoryCallNotes::default());
    let flow = ContactFlow::new(store.clone(), notes.clone(), clock.clone(), config.phone_rules());
    let edge = PhoneEvents::new(&config, flow, notes, inbound.clone(), clock.clone());
    let router = TicketRouter::new(
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock),
        config.acknowledgements(),
    )
    .with_phone_rules(config.phone_rules())
    .with_sla(config.sla_policies().unwrap().expect("the example has [sla]"));
    Phone { store, inbound, outbound, edge, router }
}

impl Phone {
    async fn flow(&self) -> serde_json::Value {
        let event: serde_json::Value =
            serde_json::from_str(&read("phone-events/contact-flow.json")).expect("contact-flow event");
        self.edge.handle(&event).await.expect("a flow always gets its map").to_json()
    }

    /// Queues the sample contact event and routes what it queued.
    async fn contact_event(&self, file: &str) -> PhoneAnswer {
        let event: serde_json::Value = serde_json::from_str(&read(file)).expect("EventBridge event");
        assert_eq!(event["detail-type"], "Amazon Connect Contact Event");
        let answer = self.edge.handle(&event).await.expect("queued");
        for received in self.inbound.receive(10).await.unwrap() {
            let inbound: InboundMessage = open(&received.body).unwrap();
            self.router.route(&inbound).await.expect("routed");
        }
        answer
    }
}

/// A caller the store knows (by the sample's number) gets name, tier and team; a stranger
/// the safe map.
async fn phone_events_contact_flow() {
    let unknown = phone().flow().await;
    assert_eq!((unknown["known"].as_str(), unknown["team"].as_str()), (Some("false"), Some("frontline")));
    let p = phone();
    let mut li = Customer::new(
        CustomerId::new("cus_li"),
        Some("Li Wei".into()),
        vec![Identity::Phone { number: "+8613800138000".into() }],
        clock().now(),
    );
    li.tier = Some("vip".into());
    p.store.create(&li).await.unwrap();
    let known = p.flow().await;
    assert_eq!(known["known"], "true");
    assert_eq!(known["customer_name"], "Li Wei");
    assert_eq!((known["tier"].as_str(), known["vip"].as_str()), (Some("vip"), Some("true")));
    assert_eq!(known["after_hours"], "false", "Monday 17:00 in Shanghai");
}

/// Each contact event of the sample call, after the flow saw the caller: queued once, routed
/// onto the caller's phone ticket as a `call` event.
async fn phone_events_contact_event(file: &str) {
    let p = phone();
    p.flow().await;
    let answer = p.contact_event(file).await;
    assert!(matches!(answer, PhoneAnswer::Queued { .. }), "{file}: {answer:?}");
    let tickets = p.store.all_tickets();
    assert_eq!(tickets.len(), 1, "{file}");
    assert_eq!(tickets[0].channel, Channel::Phone);
    let events = p.store.events(tickets[0].number).await.unwrap();
    assert!(events.iter().any(|e| e.kind.name() == "call"), "{file}");
    let customer = p.store.customer(&tickets[0].requester).await.unwrap().unwrap();
    assert_eq!(customer.identities, vec![Identity::Phone { number: "+8613800138000".into() }]);
    // The same event again changes nothing.
    p.contact_event(file).await;
    assert_eq!(p.store.events(tickets[0].number).await.unwrap().len(), events.len(), "{file}");
}

/// A call hung up in the queue (no flow note: an unknown caller): a ticket and a callback.
async fn phone_events_abandoned_call() {
    let p = phone();
    p.contact_event("phone-events/contact-event-disconnected-abandoned.json").await;
    let tickets = p.store.all_tickets();
    assert_eq!(tickets.len(), 1);
    let jobs: Vec<OutboundJob> =
        p.outbound.receive(10).await.unwrap().iter().map(|r| open(&r.body).unwrap()).collect();
    let callbacks: Vec<&OutboundJob> = jobs.iter().filter(|j| j.kind == OutboundKind::Callback).collect();
    assert_eq!(callbacks.len(), 1, "{jobs:?}");
    let Destination::Callback(task) = &callbacks[0].destination else { unreachable!() };
    assert_eq!(task.reason, "abandoned_in_queue");
}

#[tokio::test]
async fn every_sample_event_runs_through_its_handler() {
    let mut files: Vec<String> = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for file in std::fs::read_dir(&function).unwrap() {
            let file = file.unwrap().path();
            let relative = file.strip_prefix(events_dir()).unwrap().to_string_lossy().into_owned();
            files.push(relative);
        }
    }
    files.sort();
    for file in &files {
        match file.as_str() {
            "agent-api/get-tickets.json" => agent_api_get_tickets().await,
            "chat-webhook/post-message.json" => chat_webhook_post_message(file, 0).await,
            "chat-webhook/post-message-with-photo.json" => chat_webhook_post_message(file, 1).await,
            "email-inbound/ses-receipt.json" => email_inbound_ses_receipt().await,
            "ticket-router/sqs-batch.json" => ticket_router_sqs_batch().await,
            "ticket-router/erasure-job.json" => ticket_router_erasure_job().await,
            "ticket-router/delivery-refused.json" => ticket_router_delivery_refused().await,
            "ticket-router/order-signal.json" => ticket_router_order_signal().await,
            "ticket-router/return-form.json" => ticket_router_return_form().await,
            "ticket-router/return-confirmation.json" => ticket_router_return_confirmation().await,
            "help-centre/post-return-form.json" => {
                help_centre_return_form("help-centre/post-return-form.json", "return_form").await
            }
            "help-centre/confirm-return.json" => {
                help_centre_return_form("help-centre/confirm-return.json", "return_confirmation").await
            }
            "chat-webhook/shop-fulfillment-update.json" => chat_webhook_shop_webhook().await,
            "outbound-dispatcher/sqs-batch.json" => outbound_dispatcher_sqs_batch().await,
            "sla-sweeper/schedule.json" => sla_sweeper_schedule().await,
            "analytics-rollup/schedule.json" => analytics_rollup_schedule().await,
            "analytics-rollup/backfill.json" => analytics_rollup_backfill().await,
            "survey-sender/schedule.json" => {
                survey_sender_schedule().await;
            }
            "survey-web/get-survey.json" => survey_web_get_survey().await,
            "survey-web/post-answer.json" => survey_web_post_answer().await,
            "help-centre/search.json" => help_centre_search().await,
            "help-centre/get-article.json" => help_centre_get_article().await,
            "phone-events/contact-flow.json" => phone_events_contact_flow().await,
            "phone-events/contact-event-disconnected-abandoned.json" => phone_events_abandoned_call().await,
            social if social.starts_with("social-webhook/") => social_webhook(social).await,
            phone if phone.starts_with("phone-events/contact-event-") => {
                phone_events_contact_event(phone).await
            }
            other => panic!("events/{other} has no runner in this test: add one"),
        }
    }
    assert_eq!(files.len(), 49);
}

/// The help centre over the example articles, as help-centre's main wires it.
async fn help_centre() -> axum::Router {
    use omnidesk_app::kb::{help_centre, seed};
    use omnidesk_domain::kb::Catalogue;
    use omnidesk_domain::memory::MemoryArticles;
    let config = example_config();
    let kb = config.kb.as_ref().expect("[kb]");
    let articles =
        seed::parse(include_str!("../../infra/local/kb/articles.toml"), "seed", Timestamp::UNIX_EPOCH)
            .unwrap();
    let store = Arc::new(MemoryArticles::default());
    seed::seed(store.as_ref(), &articles).await.unwrap();
    let catalogue = Arc::new(Catalogue::new(store, kb.search_settings()));
    help_centre::router(help_centre::HelpCentre::new(catalogue, clock(), kb.base_url()))
}

/// A customer's search in Chinese, as JSON: the return article first.
async fn help_centre_search() {
    let request =
        lambda_http::request::from_str(&read("help-centre/search.json")).expect("API Gateway v2 event");
    let response = help_centre().await.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["results"][0]["slug"], "return-policy-zh", "{json}");
}

/// An article page opened from a bot answer's link: HTML, cacheable.
async fn help_centre_get_article() {
    let request =
        lambda_http::request::from_str(&read("help-centre/get-article.json")).expect("API Gateway v2 event");
    let response = help_centre().await.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["cache-control"].to_str().unwrap().starts_with("public"));
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("七天无理由退货"));
}

/// The router's sample conversation, then the rollup as `events/analytics-rollup/<file>`
/// invokes it a day later; returns what it exported.
async fn analytics_rollup(file: &str) -> (omnidesk_domain::analytics::RollupReport, Arc<MemoryExport>) {
    use omnidesk_domain::analytics::RollupPorts;

    let config = example_config();
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let router = RouterHandler::new(
        &config,
        omnidesk_domain::memory::router_ports(store.clone(), outbound, clock.clone()),
    );
    let batch: SqsEvent = serde_json::from_str(&read("ticket-router/sqs-batch.json")).expect("SQS event");
    assert!(router.handle(batch).await.batch_item_failures.is_empty());
    clock.set(clock.now() + jiff::SignedDuration::from_hours(20));
    let export = Arc::new(MemoryExport::default());
    let ports = RollupPorts {
        log: store.clone(),
        customers: Some(store.clone()),
        sink: export.clone(),
        watermarks: store,
        clock,
        alerting: None,
    };
    let rollup = omnidesk_app::analytics_rollup::rollup(&config, ports)
        .expect("a valid [analytics]")
        .expect("the example config has [analytics] with its key");
    let handler = omnidesk_app::analytics_rollup::RollupHandler::new(rollup);
    let payload: serde_json::Value = serde_json::from_str(&read(file)).expect("JSON");
    let report = handler.handle(payload).await.unwrap_or_else(|e| panic!("{file}: {e}"));
    (report, export)
}

/// The 15-minute schedule's first run exports the last day: the sample ticket and its events.
async fn analytics_rollup_schedule() {
    let (report, export) = analytics_rollup("analytics-rollup/schedule.json").await;
    assert_eq!(report.tickets, 1, "{report:?}");
    assert!(report.events > 0);
    let files = export.files();
    assert!(files.keys().any(|f| f.starts_with("table=ticket_events/dt=2026-11-23/")), "{:?}", files.keys());
    assert!(files.keys().any(|f| f.starts_with("table=tickets/dt=2026-11-23/")));
    assert!(files.keys().any(|f| f.starts_with("table=kpi_hourly/dt=2026-11-23/")));
}

/// A backfill invocation exports the day it names.
async fn analytics_rollup_backfill() {
    let (report, export) = analytics_rollup("analytics-rollup/backfill.json").await;
    assert_eq!(report.hours, 24, "{report:?}");
    assert_eq!(report.tickets, 1);
    assert!(export.files().keys().all(|f| f.contains("/dt=2026-11-23/")));
}

/// The sample survey link's ticket: the router's sample conversation, solved at the samples'
/// instant; the sender's run a day and five minutes later sends its survey. Returns the
/// store, the clock and the link's token (deterministic: the key, the ticket and its due time).
async fn survey_sender_schedule() -> (Arc<MemoryStore>, Arc<ManualClock>, String) {
    use omnidesk_domain::model::{Actor, Status, TicketNumber};
    use omnidesk_domain::ports::{TicketCommit, TicketStore};
    use omnidesk_domain::survey::SenderPorts;

    let event: EventBridgeEvent =
        serde_json::from_str(&read("survey-sender/schedule.json")).expect("EventBridge scheduled event");
    let config = example_config();
    let clock = clock();
    let store = Arc::new(MemoryStore::new());
    let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
    let router = RouterHandler::new(
        &config,
        omnidesk_domain::memory::router_ports(store.clone(), outbound.clone(), clock.clone()),
    );
    let batch: SqsEvent = serde_json::from_str(&read("ticket-router/sqs-batch.json")).expect("SQS event");
    assert!(router.handle(batch).await.batch_item_failures.is_empty());
    let rules = config.survey_rules().expect("the example config has [survey]");
    let mut ticket = store.ticket(TicketNumber(1)).await.unwrap().expect("ticket #1");
    let expected = ticket.version;
    let solved = ticket.set_status(&Actor::Agent("li".into()), Status::Solved, clock.now()).unwrap();
    let events: Vec<_> = solved.into_iter().collect();
    rules.apply(&mut ticket, &events);
    let commit = TicketCommit {
        ticket,
        expected_version: Some(expected),
        messages: Vec::new(),
        events,
        thread_claims: Vec::new(),
        idempotency: None,
    };
    store.commit(commit).await.unwrap();
    let before = outbound.len();
    let ports = SenderPorts {
        tickets: store.clone(),
        customers: store.clone(),
        watermarks: store.clone(),
        outbound: outbound.clone(),
        clock: clock.clone(),
    };
    let sender = omnidesk_app::survey_sender::sender(&config, ports).expect("keys resolved");
    let handler = omnidesk_app::survey_sender::SenderHandler::new(sender);
    // The schedule's first run, then the one after the delay (the chat delay of the example).
    handler.handle(event.clone()).await.expect("first run");
    clock.set(clock.now() + jiff::SignedDuration::from_mins(65));
    let report = handler.handle(event).await.expect("second run");
    assert_eq!(report.sent, 1, "{report:?}");
    let bodies = outbound.bodies();
    assert_eq!(bodies.len(), before + 1);
    let job: omnidesk_domain::outbound::OutboundJob =
        omnidesk_domain::envelope::open(&bodies[bodies.len() - 1]).expect("a survey job");
    let form = job.survey.expect("survey links").form;
    let token = form.rsplit('/').next().expect("token").to_owned();
    (store, clock, token)
}

fn survey_web(store: Arc<MemoryStore>, clock: Arc<ManualClock>) -> axum::Router {
    let ports = omnidesk_domain::survey::SurveyPorts {
        tickets: store.clone(),
        customers: store,
        clock,
        ids: Arc::new(SequentialIds::default()),
    };
    let desk = omnidesk_app::survey_web::desk(&example_config(), ports).expect("keys resolved");
    omnidesk_app::survey_web::router(omnidesk_app::survey_web::SurveyWeb { desk: Arc::new(desk) })
}

/// A survey link opened from a phone: the form, in Chinese, rating 5 chosen, nothing recorded.
async fn survey_web_get_survey() {
    let (store, clock, token) = survey_sender_schedule().await;
    let raw = read("survey-web/get-survey.json");
    assert!(raw.contains(&token), "events/survey-web/get-survey.json: use the token {token}");
    let events_before = store.all_tickets()[0].version;
    let request = lambda_http::request::from_str(&raw).expect("API Gateway v2 event");
    let response = survey_web(store.clone(), clock).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(store.all_tickets()[0].version, events_before, "a GET records nothing");
}

/// The form posted back (its anti-forgery field as a GET at the same instant rendered it).
async fn survey_web_post_answer() {
    let (store, clock, token) = survey_sender_schedule().await;
    let raw = read("survey-web/post-answer.json");
    let keys = example_config().survey.and_then(|s| s.keys()).expect("keys");
    let id = keys.open(&token).expect("a token of ours").id;
    let field = keys.form_field(&id, 0, clock.now());
    assert!(
        raw.contains(&token) && raw.contains(&field),
        "events/survey-web/post-answer.json: use the token {token} and the form field {field}"
    );
    let request = lambda_http::request::from_str(&raw).expect("API Gateway v2 event");
    let response = survey_web(store.clone(), clock).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let survey = store.all_tickets()[0].survey.clone().expect("survey");
    assert_eq!(survey.answer.map(|a| a.rating), Some(5));
}
