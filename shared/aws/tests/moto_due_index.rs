//! The due index on DynamoDB against moto_server (scripts/test.sh starts it and names it in
//! OMNIDESK_MOTO_ENDPOINT; without it this skips unless OMNIDESK_REQUIRE_MOTO is set): the
//! sparse `timers` GSI holds exactly the tickets with a `due_at`, one bucket per minute, and
//! the sweeper's watermark moves only from where it was seen.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::Region;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use jiff::{SignedDuration, Timestamp};
use omnidesk_aws::{Clients, DynamoStore, sdk_config_loader};
use omnidesk_domain::ports::{StoreError, TicketCommit, TicketStore, Watermarks};
use omnidesk_domain::{Channel, CustomerId, Ticket, TicketNumber};

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

async fn store(endpoint: &str) -> DynamoStore {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let sdk = sdk_config_loader()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await;
    let clients = Clients::new(&sdk);
    let table = format!("omnidesk-aws-due-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    // As template.yaml declares it.
    let timers = GlobalSecondaryIndex::builder()
        .index_name("timers")
        .key_schema(key("timer_bucket", KeyType::Hash))
        .key_schema(key("timer_due", KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
        .build()
        .unwrap();
    clients
        .dynamodb()
        .create_table()
        .table_name(&table)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .attribute_definitions(attribute("timer_bucket"))
        .attribute_definitions(attribute("timer_due"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(timers)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    clients.store(&table)
}

/// A minute boundary.
fn t0() -> Timestamp {
    Timestamp::from_second(1_790_000_040).unwrap()
}

fn secs(s: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(s)
}

async fn put(store: &DynamoStore, number: u64, due_at: Option<Timestamp>, expected_version: Option<u64>) {
    let (mut ticket, created) =
        Ticket::open(TicketNumber(number), Channel::Chat, "s".into(), CustomerId::new("c"), None, t0());
    ticket.due_at = due_at;
    let mut events = vec![created];
    if let Some(version) = expected_version {
        ticket.version = version;
        let event =
            ticket.set_priority(&omnidesk_domain::Actor::System, omnidesk_domain::Priority::High, t0());
        events = event.unwrap().into_iter().collect();
    }
    let commit = TicketCommit {
        ticket,
        expected_version,
        messages: vec![],
        events,
        thread_claims: vec![],
        idempotency: None,
    };
    store.commit(commit).await.unwrap();
}

fn numbers(tickets: &[Ticket]) -> Vec<u64> {
    tickets.iter().map(|t| t.number.0).collect()
}

#[tokio::test]
async fn the_due_index_holds_only_tickets_with_a_due_instant_by_minute() {
    let Some(endpoint) = endpoint() else { return };
    let store = store(&endpoint).await;
    put(&store, 1, Some(secs(10)), None).await;
    put(&store, 2, Some(secs(50)), None).await;
    put(&store, 3, None, None).await;
    put(&store, 4, Some(secs(70)), None).await;

    assert_eq!(numbers(&store.due_tickets(t0(), secs(30), 100).await.unwrap()), [1]);
    assert_eq!(numbers(&store.due_tickets(t0(), secs(59), 100).await.unwrap()), [1, 2]);
    assert_eq!(numbers(&store.due_tickets(t0(), secs(59), 1).await.unwrap()), [1], "limit");
    assert_eq!(numbers(&store.due_tickets(secs(60), secs(120), 100).await.unwrap()), [4]);
    let read = &store.due_tickets(t0(), secs(59), 100).await.unwrap()[0];
    assert_eq!(read.due_at, Some(secs(10)), "the ticket reads back whole from the index");

    // A ticket whose timers are done leaves the index.
    put(&store, 1, None, Some(1)).await;
    assert_eq!(numbers(&store.due_tickets(t0(), secs(59), 100).await.unwrap()), [2]);
}

#[tokio::test]
async fn the_watermark_moves_only_from_where_it_was_seen() {
    let Some(endpoint) = endpoint() else { return };
    let store = store(&endpoint).await;
    assert_eq!(store.watermark("sla").await.unwrap(), None);
    store.advance_watermark("sla", None, t0()).await.unwrap();
    assert!(matches!(store.advance_watermark("sla", None, secs(60)).await, Err(StoreError::Conflict(_))));
    assert!(matches!(
        store.advance_watermark("sla", Some(secs(-60)), secs(60)).await,
        Err(StoreError::Conflict(_))
    ));
    store.advance_watermark("sla", Some(t0()), secs(60)).await.unwrap();
    assert_eq!(store.watermark("sla").await.unwrap(), Some(secs(60)));
}
