//! The SES, S3 and DynamoDB adapters and the request meter against moto_server, which
//! scripts/test.sh starts and names in OMNIDESK_MOTO_ENDPOINT. Without it these skip, unless
//! OMNIDESK_REQUIRE_MOTO is set, as the test script sets it.
//!
//! Every test works on resources of its own (names carry the process id and a counter), so
//! they run alongside the workspace's moto tier on the same server.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use jiff::Timestamp;
use omnidesk_aws::{Clients, RequestMeter, sdk_config_loader};
use omnidesk_domain::ports::{
    BlobStore, CustomerStore, Idempotency, IdempotencyRecord, IdempotencyStore, MailError, Mailer,
    OutgoingMail, RateLimiter, StoreError, TicketStore,
};
use omnidesk_domain::{Customer, CustomerId, Identity, TicketNumber};

/// moto's endpoint, or `None` to skip.
fn endpoint() -> Option<String> {
    match std::env::var("OMNIDESK_MOTO_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ if std::env::var_os("OMNIDESK_REQUIRE_MOTO").is_some() => {
            panic!("OMNIDESK_REQUIRE_MOTO is set but OMNIDESK_MOTO_ENDPOINT is not")
        }
        _ => {
            eprintln!("skipped: OMNIDESK_MOTO_ENDPOINT is not set");
            None
        }
    }
}

async fn sdk(endpoint: &str) -> SdkConfig {
    sdk_config_loader()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

fn unique(kind: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("omnidesk-aws-{kind}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

#[tokio::test]
async fn blobs_round_trip_on_s3_with_path_style() {
    let Some(endpoint) = endpoint() else { return };
    let meter = RequestMeter::new();
    let clients = Clients::new(&sdk(&endpoint).await).with_meter(meter.clone());
    let bucket = unique("blobs");
    clients.s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let blobs = clients.blobs(&bucket).with_prefix("raw");

    blobs.put("mail/2.eml", b"two".to_vec(), "message/rfc822").await.unwrap();
    blobs.put("mail/1.eml", b"one".to_vec(), "message/rfc822").await.unwrap();
    blobs.put("other/x", b"x".to_vec(), "text/plain").await.unwrap();
    assert_eq!(blobs.list("mail/").await.unwrap(), vec!["mail/1.eml", "mail/2.eml"]);
    assert_eq!(blobs.get("mail/1.eml").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(blobs.get("mail/3.eml").await.unwrap(), None);
    blobs.delete("mail/1.eml").await.unwrap();
    blobs.delete("mail/1.eml").await.unwrap();
    assert_eq!(blobs.list("").await.unwrap(), vec!["mail/2.eml", "other/x"]);

    let snapshot = meter.snapshot();
    assert_eq!(snapshot.calls_to("S3", "PutObject"), 3);
    assert_eq!(snapshot.calls_to("S3", "DeleteObject"), 2);
    assert_eq!(snapshot.calls_to("S3", "GetObject"), 2);
}

#[tokio::test]
async fn mail_goes_out_from_a_verified_sender_only() {
    let Some(endpoint) = endpoint() else { return };
    let meter = RequestMeter::new();
    let clients = Clients::new(&sdk(&endpoint).await).with_meter(meter.clone());
    let domain = format!("{}.example", unique("mail"));
    clients.sesv2().create_email_identity().email_identity(&domain).send().await.unwrap();
    let mailer = clients.mailer();
    let from = format!("support@{domain}");
    let raw = format!("From: {from}\r\nTo: ana@customer.example\r\nSubject: [#1042] parcel\r\n\r\nhello\r\n");
    let mail = OutgoingMail { from, to: vec!["ana@customer.example".into()], raw: raw.into_bytes() };

    let id = mailer.send_raw(&mail).await.unwrap();
    assert!(!id.is_empty());

    let stranger = OutgoingMail { from: "someone@unverified.example".into(), ..mail };
    let result = mailer.send_raw(&stranger).await;
    assert!(matches!(&result, Err(MailError::Rejected(m)) if !m.contains('@')), "{result:?}");
    assert_eq!(meter.snapshot().calls_to("SESv2", "SendEmail"), 2);
}

/// Also what the report says about moto: which calls carry ConsumedCapacity.
#[tokio::test]
async fn dynamodb_capacity_is_measured_where_moto_reports_it_and_estimated_elsewhere() {
    let Some(endpoint) = endpoint() else { return };
    let meter = RequestMeter::new();
    let clients = Clients::new(&sdk(&endpoint).await).with_meter(meter.clone());
    let table = unique("table");
    create_table(&clients, &table).await;
    let store = clients.store(&table);
    let now = Timestamp::from_second(1_790_000_000).unwrap();
    let before = meter.snapshot();

    // UpdateItem (0.5 from moto), GetItem (0.5), Query (1.0)
    store.allocate_number().await.unwrap();
    assert_eq!(store.ticket(TicketNumber(1)).await.unwrap(), None);
    assert!(store.events(TicketNumber(1)).await.unwrap().is_empty());
    let after_reads = meter.snapshot().since(&before);
    assert_eq!((after_reads.dynamodb_rcu, after_reads.dynamodb_wcu), (1.5, 0.5), "{after_reads:?}");
    assert!(!after_reads.estimated_capacity(), "{after_reads:?}");

    // TransactWriteItems: moto answers an empty ConsumedCapacity list, so it is estimated:
    // a customer and one identity claim, 2 WCU each.
    let customer = Customer::new(
        CustomerId::new("cus_moto"),
        None,
        vec![Identity::Email { address: "ana@customer.example".into() }],
        now,
    );
    let mark = meter.snapshot();
    store.create(&customer).await.unwrap();
    let created = meter.snapshot().since(&mark);
    assert_eq!((created.dynamodb_wcu, created.estimated_wcu), (4.0, 4.0), "{created:?}");

    // PutItem (1.0 from moto); a lost condition is estimated (1 WCU).
    let mark = meter.snapshot();
    assert_eq!(
        store.begin("k", "owner-1", now, Duration::from_secs(30)).await.unwrap(),
        Idempotency::Started
    );
    let record = IdempotencyRecord {
        key: "k".into(),
        result: serde_json::json!(1),
        expires_at: now + Duration::from_secs(60),
    };
    store.complete(record).await.unwrap();
    let again = store.begin("k", "owner-2", now, Duration::from_secs(30)).await.unwrap();
    assert_eq!(again, Idempotency::Done(serde_json::json!(1)));
    let idempotency = meter.snapshot().since(&mark);
    assert_eq!(idempotency.calls_to("DynamoDB", "PutItem"), 3);
    assert_eq!(idempotency.dynamodb_wcu, 3.0, "{idempotency:?}");
    assert_eq!(idempotency.estimated_wcu, 1.0, "{idempotency:?}");

    eprintln!("moto DynamoDB metering: {:?}", meter.snapshot().since(&before));
}

#[tokio::test]
async fn customer_update_replaces_the_record_but_not_its_identities() {
    let Some(endpoint) = endpoint() else { return };
    let clients = Clients::new(&sdk(&endpoint).await);
    let table = unique("table");
    create_table(&clients, &table).await;
    let store = clients.store(&table);
    let now = Timestamp::from_second(1_790_000_000).unwrap();
    let id = CustomerId::new("cus_update");
    let email = Identity::Email { address: "ana@customer.example".into() };
    let chat = Identity::ChatVisitor { inbox: "web".into(), visitor: "v1".into() };
    store.create(&Customer::new(id.clone(), None, vec![email.clone()], now)).await.unwrap();
    store.claim_identity(&id, &chat, now).await.unwrap();
    let read = store.customer(&id).await.unwrap().unwrap();
    assert_eq!(read.version, 2);

    // The writer's copy has lost the chat identity: the stored list stays as the claims made it.
    let mut changed = read.clone();
    changed.name = Some("Ana".into());
    changed.tier = Some("vip".into());
    changed.bouncing.insert("ana@customer.example".into(), now);
    // Unverified details are part of the record, written by update, and never claims.
    changed.unverified = vec![Identity::Email { address: "typed@customer.example".into() }];
    changed.identities = vec![email.clone()];
    changed.updated_at = now + Duration::from_secs(5);
    changed.version = 3;
    store.update(&changed, 2).await.unwrap();
    let stored = store.customer(&id).await.unwrap().unwrap();
    assert_eq!(stored, Customer { identities: vec![email.clone(), chat.clone()], ..changed.clone() });
    assert_eq!(store.customer_by_identity(&changed.unverified[0]).await.unwrap(), None);

    // Stale: it is at version 3 now.
    let mut stale = read.clone();
    stale.name = Some("Ann".into());
    stale.version = 3;
    assert!(matches!(store.update(&stale, 2).await, Err(StoreError::Conflict(_))));
    // Back to no tier and no bounces: `None` and empty are written, not left as they were.
    let mut cleared = stored.clone();
    cleared.tier = None;
    cleared.bouncing.clear();
    cleared.unverified.clear();
    cleared.version = 4;
    store.update(&cleared, 3).await.unwrap();
    assert_eq!(store.customer(&id).await.unwrap().unwrap(), cleared);
    // Nobody to update: a conflict, and nothing is created.
    let ghost = Customer::new(CustomerId::new("cus_ghost"), None, Vec::new(), now);
    assert!(matches!(store.update(&ghost, 0).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.customer(&ghost.id).await.unwrap(), None);
}

/// The in-memory twin's tests (`omnidesk_domain::memory::limiter`), step by step.
#[tokio::test]
async fn rate_limiter_slides_its_window_like_the_memory_twin() {
    let Some(endpoint) = endpoint() else { return };
    let clients = Clients::new(&sdk(&endpoint).await);
    let table = unique("table");
    create_table(&clients, &table).await;
    let limiter = clients.store(&table);
    let at = |seconds: i64| Timestamp::from_second(1_790_000_000 + seconds).unwrap();
    let hour = Duration::from_secs(3600);

    // A window holds at most the limit and frees slots as it slides.
    let key = "auto-reply:ana@customer.example";
    for (i, second) in [0, 10, 20].into_iter().enumerate() {
        assert!(limiter.try_acquire(key, &format!("m{i}"), 3, hour, at(second)).await.unwrap());
    }
    assert!(!limiter.try_acquire(key, "m3", 3, hour, at(30)).await.unwrap());
    assert!(limiter.try_acquire("other", "m3", 3, hour, at(30)).await.unwrap());
    assert!(limiter.try_acquire(key, "m4", 3, hour, at(3600)).await.unwrap());
    assert!(!limiter.try_acquire(key, "m5", 3, hour, at(3601)).await.unwrap());

    // A holder asking again keeps its slot without taking another.
    assert!(limiter.try_acquire("k", "m0", 2, hour, at(0)).await.unwrap());
    assert!(limiter.try_acquire("k", "m0", 2, hour, at(1)).await.unwrap());
    assert!(limiter.try_acquire("k", "m1", 2, hour, at(2)).await.unwrap());
    assert!(limiter.try_acquire("k", "m0", 2, hour, at(3)).await.unwrap());
    assert!(!limiter.try_acquire("k", "m2", 2, hour, at(4)).await.unwrap());

    // No address is stored, in a key or anywhere else.
    let items = clients.dynamodb().scan().table_name(&table).send().await.unwrap();
    let dump = format!("{:?}", items.items());
    assert!(!dump.contains("customer.example"), "{dump}");
    assert_eq!(items.count(), 3);
}

#[tokio::test]
async fn request_counts_refuse_over_the_limit_per_fixed_window_like_the_memory_twin() {
    let Some(endpoint) = endpoint() else { return };
    let clients = Clients::new(&sdk(&endpoint).await);
    let table = unique("table");
    create_table(&clients, &table).await;
    let limiter = clients.store(&table);
    let minute = Duration::from_secs(60);
    let start = omnidesk_domain::ports::window_start(Timestamp::from_second(1_790_000_000).unwrap(), minute);
    let at = |second: i64| Timestamp::from_second(start + second).unwrap();

    for second in [0, 1, 59] {
        assert!(limiter.count_request("chat-inbox:web", 3, minute, at(second)).await.unwrap());
    }
    assert!(!limiter.count_request("chat-inbox:web", 3, minute, at(59)).await.unwrap());
    assert!(limiter.count_request("chat-inbox:shop", 3, minute, at(59)).await.unwrap(), "per key");
    assert!(limiter.count_request("chat-inbox:web", 3, minute, at(60)).await.unwrap(), "a new window");
}

#[tokio::test]
async fn canned_store_contract_holds_on_dynamodb() {
    let Some(endpoint) = endpoint() else { return };
    let clients = Clients::new(&sdk(&endpoint).await);
    let table = unique("table");
    create_table(&clients, &table).await;
    omnidesk_domain::canned::check_store_contract(&clients.store(&table), "moto").await;
}

#[tokio::test]
async fn a_large_article_body_goes_to_the_bucket_and_without_one_stays_in_its_item() {
    use std::sync::Arc;

    use omnidesk_aws::DynamoArticles;
    use omnidesk_domain::kb::{ArticleInput, KbEditor, Language};
    use omnidesk_domain::system::SystemClock;

    let Some(endpoint) = endpoint() else { return };
    let clients = Clients::new(&sdk(&endpoint).await);
    let table = unique("table");
    create_table(&clients, &table).await;
    let bucket = unique("kb");
    clients.s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let body = "Returns within 30 days. ".repeat(4_000); // ~96 KB, over the inline limit
    assert!(body.len() > omnidesk_aws::INLINE_BODY_BYTES);
    let input = || ArticleInput {
        title: "Returns".into(),
        body: body.clone(),
        language: Language::En,
        category: None,
        tags: Default::default(),
        examples: Vec::new(),
        counter_examples: Vec::new(),
    };
    let with_bucket: Option<Arc<dyn BlobStore>> = Some(Arc::new(clients.blobs(&bucket)));
    for (slug, bodies) in [("with-bucket", with_bucket), ("without-bucket", None)] {
        let articles = Arc::new(DynamoArticles::new(clients.store(&table), bodies.clone()));
        let editor = KbEditor::new(articles, Arc::new(SystemClock));
        editor.create(slug, input(), "sue").await.expect("saved");
        assert_eq!(editor.article(slug).await.expect("read back").body, body, "{slug}");
        let in_bucket = clients.blobs(&bucket).get(&format!("kb/{slug}/v1.md")).await.unwrap();
        assert_eq!(in_bucket.is_some(), bodies.is_some(), "{slug}: body in the bucket");
    }
}

async fn create_table(clients: &Clients, table: &str) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    clients
        .dynamodb()
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}
