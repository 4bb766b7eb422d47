//! The store against a mocked DynamoDB (aws-smithy-mocks): how failures map to `StoreError`,
//! and the shape of the requests (placeholders everywhere, conditions, pagination). The
//! real semantics are exercised against moto in the workspace's moto tier.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::get_item::{GetItemError, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, ProvisionedThroughputExceededException, TransactionCanceledException,
};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, ConsumedCapacity};
use aws_smithy_mocks::{Rule, RuleMode, mock};
use jiff::Timestamp;
use omnidesk_domain::ports::{
    CustomerStore, Idempotency, IdempotencyRecord, IdempotencyStore, RateLimiter, StoreError, ThreadClaim,
    ThreadKey, TicketCommit, TicketStore,
};
use omnidesk_domain::{
    Actor, AuthorKind, Channel, ChannelRef, Customer, CustomerId, Direction, EventKind, Identity, Message,
    MessageId, Priority, Status, Ticket, TicketEvent, TicketNumber, Visibility,
};

use super::DynamoStore;
use super::keys::{Item, sha256_hex};
use super::limiter::ACQUIRE_ATTEMPTS;
use crate::meter::RequestMeter;

const TABLE: &str = "omnidesk";

fn store(rules: &[&Rule]) -> DynamoStore {
    DynamoStore::new(crate::mock_client::mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules), TABLE)
}

fn now() -> Timestamp {
    Timestamp::from_second(1_790_000_000).unwrap()
}

fn ticket(version: u64) -> Ticket {
    Ticket {
        number: TicketNumber(1042),
        status: Status::New,
        priority: Priority::Normal,
        channel: Channel::Chat,
        subject: "parcel".into(),
        subject_at: None,
        requester: CustomerId::new("cus_1"),
        team: None,
        assignee: None,
        tags: BTreeSet::new(),
        category: None,
        follow_up_of: None,
        reply_token: None,
        cc: Default::default(),
        created_at: now(),
        updated_at: now(),
        solved_at: None,
        closed_at: None,
        skills: Default::default(),
        language: None,
        merged_into: None,
        merged_from: BTreeSet::new(),
        erased_at: None,
        missed_calls: Vec::new(),
        version,
        sla: Default::default(),
        due_at: None,
        survey: None,
        bot: None,
        order: None,
    }
}

fn commit() -> TicketCommit {
    TicketCommit {
        ticket: ticket(2),
        expected_version: Some(1),
        messages: Vec::new(),
        events: vec![TicketEvent {
            ticket: TicketNumber(1042),
            seq: 2,
            at: now(),
            actor: Actor::System,
            kind: EventKind::Status { from: Status::New, to: Status::Open },
        }],
        thread_claims: vec![ThreadClaim {
            key: ThreadKey::chat("web", "conv-1"),
            ticket: TicketNumber(1042),
            replaces: None,
        }],
        idempotency: Some(IdempotencyRecord {
            key: "chat:web:m1".into(),
            result: serde_json::json!({"ticket": 1042}),
            expires_at: now() + Duration::from_secs(86_400),
        }),
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: &str) -> AttributeValue {
    AttributeValue::N(value.to_owned())
}

/// The body DynamoDB sends with a 400 for error `code`.
fn aws_error_body(code: &str, extra: &str) -> String {
    format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"mocked"{extra}}}"#)
}

fn cancelled(codes: &[&str]) -> TransactWriteItemsError {
    let mut error = TransactionCanceledException::builder().message("Transaction cancelled");
    for code in codes {
        error = error.cancellation_reasons(CancellationReason::builder().code(*code).build());
    }
    TransactWriteItemsError::TransactionCanceledException(error.build())
}

/// Fails unless every attribute name in `expression` goes through a `#placeholder`: AWS
/// rejects reserved words (`status`, `value`, `state`, `ttl`…) that moto lets through.
fn assert_placeholders_only(expression: &str) {
    const GRAMMAR: [&str; 9] = [
        "attribute_not_exists",
        "attribute_exists",
        "begins_with",
        "list_append",
        "AND",
        "OR",
        "NOT",
        "SET",
        "ADD",
    ];
    for token in expression.split(|c: char| !(c.is_alphanumeric() || "_#:".contains(c))) {
        let plain = !token.is_empty() && !token.starts_with('#') && !token.starts_with(':');
        assert!(!plain || GRAMMAR.contains(&token), "bare name {token:?} in {expression:?}");
    }
}

// --- error mapping ---

#[tokio::test]
async fn conditional_check_failed_on_put_item_is_a_conflict() {
    let rule = mock!(Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().message("The conditional request failed").build(),
        )
    });
    let store = store(&[&rule]);
    let record = IdempotencyRecord { key: "k".into(), result: serde_json::json!(1), expires_at: now() };
    assert!(matches!(store.complete(record).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn conditional_check_failed_read_off_the_wire_is_a_conflict() {
    let rule = mock!(Client::put_item)
        .sequence()
        .http_status(400, Some(aws_error_body("ConditionalCheckFailedException", "")))
        .build();
    let store = store(&[&rule]);
    let record = IdempotencyRecord { key: "k".into(), result: serde_json::json!(1), expires_at: now() };
    assert!(matches!(store.complete(record).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn cancelled_transaction_with_a_lost_condition_is_a_conflict() {
    let rule =
        mock!(Client::transact_write_items).then_error(|| cancelled(&["None", "ConditionalCheckFailed"]));
    let store = store(&[&rule]);
    let error = store.commit(commit()).await.unwrap_err();
    assert!(matches!(&error, StoreError::Conflict(m) if m.contains("ConditionalCheckFailed")), "{error:?}");
}

#[tokio::test]
async fn cancelled_transaction_read_off_the_wire_is_a_conflict() {
    let reasons = r#","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]"#;
    let rule = mock!(Client::transact_write_items)
        .sequence()
        .http_status(400, Some(aws_error_body("TransactionCanceledException", reasons)))
        .build();
    let store = store(&[&rule]);
    assert!(matches!(store.commit(commit()).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn transaction_conflict_or_throttling_is_unavailable() {
    let contended =
        mock!(Client::transact_write_items).then_error(|| cancelled(&["None", "TransactionConflict"]));
    let throttled = mock!(Client::transact_write_items)
        .sequence()
        .http_status(400, Some(aws_error_body("ThrottlingException", "")))
        .build();
    let store = store(&[&contended, &throttled]);
    assert!(matches!(store.commit(commit()).await, Err(StoreError::Unavailable(_))));
    assert!(matches!(store.commit(commit()).await, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn provisioned_throughput_exceeded_is_unavailable() {
    let rule = mock!(Client::get_item).then_error(|| {
        GetItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder().message("slow down").build(),
        )
    });
    let store = store(&[&rule]);
    assert!(matches!(store.ticket(TicketNumber(1)).await, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn server_error_is_unavailable() {
    let plain = mock!(Client::get_item).sequence().http_status(500, None).build();
    let modelled = mock!(Client::get_item)
        .sequence()
        .http_status(500, Some(aws_error_body("InternalServerError", "")))
        .build();
    let store = store(&[&plain, &modelled]);
    assert!(matches!(store.ticket(TicketNumber(1)).await, Err(StoreError::Unavailable(_))));
    assert!(matches!(store.ticket(TicketNumber(1)).await, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn invalid_request_is_not_retried_as_unavailable() {
    let rule = mock!(Client::transact_write_items)
        .sequence()
        .http_status(400, Some(aws_error_body("ValidationException", "")))
        .build();
    let store = store(&[&rule]);
    assert!(matches!(store.commit(commit()).await, Err(StoreError::Corrupt(_))));
}

#[tokio::test]
async fn malformed_ticket_item_is_corrupt() {
    let rule = mock!(Client::get_item).then_output(|| {
        let item: Item = HashMap::from([
            ("pk".to_owned(), s("T#1")),
            ("sk".to_owned(), s("TICKET")),
            ("number".to_owned(), n("1")),
            ("status".to_owned(), s("exploded")),
        ]);
        GetItemOutput::builder().set_item(Some(item)).build()
    });
    let store = store(&[&rule]);
    assert!(matches!(store.ticket(TicketNumber(1)).await, Err(StoreError::Corrupt(_))));
}

#[tokio::test]
async fn oversized_commit_is_refused_before_calling() {
    let store = store(&[]);
    let mut commit = commit();
    // Thread keys are an item each (a commit's events share one).
    commit.thread_claims = (1..=200)
        .map(|n| ThreadClaim {
            key: ThreadKey::chat("web", &format!("conv-{n}")),
            ticket: TicketNumber(1042),
            replaces: None,
        })
        .collect();
    assert!(matches!(store.commit(commit).await, Err(StoreError::Corrupt(_))));
}

// --- behaviour and request shape ---

#[tokio::test]
async fn commit_is_one_transaction_with_a_condition_on_every_write() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let rule = mock!(Client::transact_write_items)
        .match_requests(move |request| {
            let mut record = record.lock().unwrap();
            for write in request.transact_items() {
                let put = write.put().expect("every commit write is a put");
                let pk = put.item().get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let sk = put.item().get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                record.push((pk, sk, put.condition_expression().unwrap_or_default().to_owned()));
            }
            true
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let store = store(&[&rule]);
    store.commit(commit()).await.unwrap();

    let seen = seen.lock().unwrap().clone();
    let thread = format!("THREAD#{}", ThreadKey::chat("web", "conv-1").digest());
    let idem = format!("IDEM#{}", omnidesk_domain::ports::key_digest("chat:web:m1"));
    let expected = [
        ("T#1042", "TICKET", "#v = :expected"),
        ("T#1042", "E#000000000002", "attribute_not_exists(#pk)"),
        (thread.as_str(), "THREAD", "attribute_not_exists(#pk)"),
        (idem.as_str(), "IDEM", "attribute_not_exists(#pk) OR #s <> :done"),
    ];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(seen, expected);
    for (_, _, condition) in &seen {
        assert_placeholders_only(condition);
    }
}

#[tokio::test]
async fn begin_after_a_lost_condition_returns_the_stored_result() {
    let put = mock!(Client::put_item)
        .match_requests(|request| {
            assert_placeholders_only(request.condition_expression().unwrap_or_default());
            true
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
    let get = mock!(Client::get_item)
        .match_requests(|request| request.consistent_read() == Some(true))
        .then_output(|| {
            let item: Item = HashMap::from([
                ("pk".to_owned(), s("IDEM#k")),
                ("sk".to_owned(), s("IDEM")),
                ("state".to_owned(), s("done")),
                ("result".to_owned(), s(r#"{"ticket":7}"#)),
                ("expires_at".to_owned(), n("1790000100.5")),
                ("ttl".to_owned(), n("1790000101")),
            ]);
            GetItemOutput::builder().set_item(Some(item)).build()
        });
    let store = store(&[&put, &get]);
    let outcome = store.begin("k", "owner-1", now(), Duration::from_secs(30)).await.unwrap();
    assert_eq!(outcome, Idempotency::Done(serde_json::json!({"ticket": 7})));
}

#[tokio::test]
async fn begin_takes_a_free_key() {
    let put = mock!(Client::put_item).then_output(|| PutItemOutput::builder().build());
    let store = store(&[&put]);
    assert_eq!(
        store.begin("k", "owner-1", now(), Duration::from_secs(30)).await.unwrap(),
        Idempotency::Started
    );
}

#[tokio::test]
async fn release_of_a_finished_key_changes_nothing_and_succeeds() {
    let rule = mock!(Client::delete_item).then_error(|| {
        DeleteItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
    });
    let store = store(&[&rule]);
    store.release("k").await.unwrap();
}

#[tokio::test]
async fn numbers_come_from_the_counter() {
    let rule = mock!(Client::update_item)
        .match_requests(|request| {
            request.update_expression() == Some("ADD #v :count")
                && request.expression_attribute_names().and_then(|names| names.get("#v")).map(String::as_str)
                    == Some("value")
        })
        .then_output(|| UpdateItemOutput::builder().attributes("value", n("1043")).build());
    let store = store(&[&rule]);
    assert_eq!(store.allocate_number().await.unwrap(), TicketNumber(1043));
}

#[tokio::test]
async fn events_follow_pagination_to_the_end() {
    fn event_item(seq: u64) -> Item {
        HashMap::from([
            ("pk".to_owned(), s("T#1042")),
            ("sk".to_owned(), s(&format!("E#{seq:012}"))),
            ("ticket".to_owned(), n("1042")),
            ("seq".to_owned(), n(&seq.to_string())),
            ("at".to_owned(), s("2026-09-21T14:13:20Z")),
            ("actor".to_owned(), AttributeValue::M(HashMap::from([("kind".to_owned(), s("system"))]))),
            ("type".to_owned(), s("survey_sent")),
        ])
    }
    let first = mock!(Client::query)
        .match_requests(|request| {
            request.exclusive_start_key().is_none()
                && request.consistent_read() == Some(true)
                && request.key_condition_expression() == Some("#pk = :pk AND #sk BETWEEN :from AND :to")
        })
        .then_output(|| {
            QueryOutput::builder()
                .items(event_item(1))
                .items(event_item(2))
                .set_last_evaluated_key(Some(HashMap::from([
                    ("pk".to_owned(), s("T#1042")),
                    ("sk".to_owned(), s("E#000000000002")),
                ])))
                .build()
        });
    let second = mock!(Client::query)
        .match_requests(|request| request.exclusive_start_key().is_some())
        .then_output(|| QueryOutput::builder().items(event_item(3)).build());
    let store = store(&[&first, &second]);
    let seqs: Vec<u64> = store.events(TicketNumber(1042)).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

#[tokio::test]
async fn claim_lost_to_a_concurrent_claim_for_the_same_customer_is_ok() {
    let unclaimed = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let lost = mock!(Client::transact_write_items)
        .match_requests(|request| {
            let writes = request.transact_items();
            let update = writes.get(1).and_then(|w| w.update());
            if let Some(update) = update {
                assert_placeholders_only(update.update_expression());
                assert_placeholders_only(update.condition_expression().unwrap_or_default());
            }
            writes.len() == 2 && update.is_some()
        })
        .then_error(|| cancelled(&["ConditionalCheckFailed", "None"]));
    let now_ours = mock!(Client::get_item).then_output(|| {
        let item: Item = HashMap::from([
            ("pk".to_owned(), s("ID#email:li@example.com")),
            ("sk".to_owned(), s("ID")),
            ("customer".to_owned(), s("cus_1")),
        ]);
        GetItemOutput::builder().set_item(Some(item)).build()
    });
    let store = store(&[&unclaimed, &lost, &now_ours]);
    let identity = Identity::Email { address: "li@example.com".into() };
    store.claim_identity(&CustomerId::new("cus_1"), &identity, now()).await.unwrap();
}

#[tokio::test]
async fn identity_held_by_another_customer_is_a_conflict_without_writing() {
    let held = mock!(Client::get_item).then_output(|| {
        let item: Item = HashMap::from([("customer".to_owned(), s("cus_other"))]);
        GetItemOutput::builder().set_item(Some(item)).build()
    });
    let store = store(&[&held]);
    let identity = Identity::Email { address: "li@example.com".into() };
    let result = store.claim_identity(&CustomerId::new("cus_1"), &identity, now()).await;
    assert!(matches!(result, Err(StoreError::Conflict(m)) if !m.contains("li@example.com")));
}

// --- capacity accounting ---

fn metered(rules: &[&Rule]) -> (DynamoStore, Arc<RequestMeter>) {
    let meter = RequestMeter::new();
    (store(rules).with_meter(meter.clone()), meter)
}

#[tokio::test]
async fn a_transaction_without_reported_capacity_is_estimated_at_two_units_per_item_plus_indexes() {
    // What moto answers: an empty ConsumedCapacity list.
    let rule = mock!(Client::transact_write_items)
        .then_output(|| TransactWriteItemsOutput::builder().set_consumed_capacity(Some(Vec::new())).build());
    let (store, meter) = metered(&[&rule]);
    store.commit(commit()).await.unwrap();
    let snapshot = meter.snapshot();
    // Ticket, event, thread claim and idempotency record, each under 1 KB, written twice; the
    // ticket also goes into its status and requester lists (no team, nobody assigned), and
    // the events item into the analytics event log.
    assert_eq!(snapshot.dynamodb_wcu, 11.0);
    assert_eq!(snapshot.estimated_wcu, 11.0);
    assert_eq!(snapshot.dynamodb_rcu, 0.0);
}

#[tokio::test]
async fn a_ticket_commit_that_changes_no_index_key_nor_projected_attribute_writes_no_index_entry() {
    let empty = || TransactWriteItemsOutput::builder().set_consumed_capacity(Some(Vec::new())).build();
    let first = mock!(Client::transact_write_items).then_output(empty);
    let second = mock!(Client::transact_write_items).then_output(empty);
    let third = mock!(Client::transact_write_items).then_output(empty);
    let (store, meter) = metered(&[&first, &second, &third]);
    store.commit(commit()).await.unwrap();
    let after_first = meter.snapshot();

    // A reply: a new version and event, same status, requester, team and assignee.
    let mut reply = commit();
    reply.ticket = ticket(3);
    reply.expected_version = Some(2);
    reply.events[0].seq = 3;
    reply.thread_claims.clear();
    reply.idempotency = None;
    store.commit(reply.clone()).await.unwrap();
    let after_reply = meter.snapshot().since(&after_first);
    // The ticket and the event, twice each, and no index entry: by_requester projects only
    // what the phone lookup reads, which a reply does not change, and the event log holds
    // the ticket for this hour already (its first commit filed it).
    assert_eq!(after_reply.dynamodb_wcu, 4.0);

    // A status change moves the by_status entry (a delete and a put) and rewrites
    // by_requester's (status is projected there).
    let mut status = reply;
    status.ticket = Ticket { status: Status::Open, ..ticket(4) };
    status.expected_version = Some(3);
    status.events[0].seq = 4;
    let mark = meter.snapshot();
    store.commit(status).await.unwrap();
    assert_eq!(meter.snapshot().since(&mark).dynamodb_wcu, 4.0 + 2.0 + 1.0);
}

#[tokio::test]
async fn a_commits_events_are_one_item_and_read_back_in_order_with_single_event_items() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let commit_rule = mock!(Client::transact_write_items)
        .match_requests(move |request| {
            record.lock().unwrap().push(request.transact_items().to_vec());
            true
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let mut commit = commit();
    commit.events.push(TicketEvent {
        seq: 3,
        kind: EventKind::SurveySent { channel: None, team: None, agent: None },
        ..commit.events[0].clone()
    });
    store(&[&commit_rule]).commit(commit.clone()).await.unwrap();
    let writes = seen.lock().unwrap()[0].clone();
    let event_items: Vec<Item> = writes
        .iter()
        .filter_map(|w| w.put())
        .map(|p| p.item().clone())
        .filter(|item| item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with("E#")))
        .collect();
    assert_eq!(event_items.len(), 1, "two events, one item");
    assert_eq!(event_items[0]["sk"], s("E#000000000002"));

    // Read back beside an item of one event, as commits stored them before.
    let mut older: Item =
        super::codec::encode("event", &TicketEvent { seq: 1, ..commit.events[0].clone() }).unwrap();
    older.insert("pk".into(), s("T#1042"));
    older.insert("sk".into(), s("E#000000000001"));
    let mut batch = event_items[0].clone();
    batch.insert("pk".into(), s("T#1042"));
    let query = mock!(Client::query)
        .then_output(move || QueryOutput::builder().items(older.clone()).items(batch.clone()).build());
    let events = store(&[&query]).events(TicketNumber(1042)).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

fn customer_message(seq: u64) -> (Message, TicketEvent) {
    let message = Message {
        id: MessageId::new(format!("msg_{seq}")),
        ticket: TicketNumber(1042),
        direction: Direction::Inbound,
        author: AuthorKind::Customer,
        author_id: Some("cus_1".into()),
        visibility: Visibility::Public,
        text: "Where is my parcel? It was due on Monday.".into(),
        attachments: Vec::new(),
        channel_ref: ChannelRef::Chat {
            inbox: "web".into(),
            conversation_id: "conv-1".into(),
            message_id: "m1".into(),
        },
        created_at: now() + Duration::from_secs(seq),
        flags: BTreeSet::new(),
    };
    let event = TicketEvent {
        ticket: TicketNumber(1042),
        seq,
        at: message.created_at,
        actor: Actor::System,
        kind: EventKind::MessageIn { message: message.id.clone() },
    };
    (message, event)
}

fn put_items(writes: &[aws_sdk_dynamodb::types::TransactWriteItem]) -> Vec<Item> {
    writes.iter().filter_map(|w| w.put()).map(|p| p.item().clone()).collect()
}

fn sort_key(item: &Item) -> &str {
    item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default()
}

#[tokio::test]
async fn a_customer_message_and_its_message_in_event_are_one_write() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let commit_rule = mock!(Client::transact_write_items)
        .match_requests(move |request| {
            record.lock().unwrap().push(request.transact_items().to_vec());
            true
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let (message, event) = customer_message(2);
    let mut commit = commit();
    commit.messages = vec![message.clone()];
    commit.events = vec![event.clone()];
    store(&[&commit_rule]).commit(commit).await.unwrap();
    let items = put_items(&seen.lock().unwrap()[0]);
    let sort_keys: Vec<&str> = items.iter().map(sort_key).collect();
    assert!(!sort_keys.iter().any(|sk| sk.starts_with("E#")), "no event item of its own: {sort_keys:?}");
    let stored = items.iter().find(|item| sort_key(item).starts_with("M#")).unwrap().clone();
    assert!(stored.contains_key("events"));
    assert!(super::capacity::item_size(&stored) <= 1024, "the message with its event is one write unit");

    // Both read back: the message without the list, the events from the message item, in
    // order with an older commit's event item.
    let mut older: Item = super::codec::encode(
        "events",
        &serde_json::json!({"events": [TicketEvent {
            seq: 1,
            ..commit_event()
        }]}),
    )
    .unwrap();
    older.insert("pk".into(), s("T#1042"));
    older.insert("sk".into(), s("E#000000000001"));
    let (for_messages, for_events) = (stored.clone(), stored);
    let messages =
        mock!(Client::query).then_output(move || QueryOutput::builder().items(for_messages.clone()).build());
    let events = mock!(Client::query)
        .then_output(move || QueryOutput::builder().items(older.clone()).items(for_events.clone()).build());
    let store = store(&[&messages, &events]);
    assert_eq!(store.messages(TicketNumber(1042)).await.unwrap(), vec![message]);
    let seqs: Vec<u64> = store.events(TicketNumber(1042)).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2]);
}

fn commit_event() -> TicketEvent {
    commit().events[0].clone()
}

#[tokio::test]
async fn events_too_big_to_ride_on_a_message_keep_an_item_of_their_own() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let commit_rule = mock!(Client::transact_write_items)
        .match_requests(move |request| {
            record.lock().unwrap().push(request.transact_items().to_vec());
            true
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    // A message that fills its write unit: adding the event would start a second one, which
    // costs as much as the event item and saves nothing.
    let (mut message, event) = customer_message(2);
    message.text.clear();
    let mut bare = super::codec::encode("message", &message).unwrap();
    bare.insert("pk".into(), s("T#1042"));
    bare.insert("sk".into(), s(&format!("M#{:.9}#{}", message.created_at, message.id)));
    message.text = "x".repeat(1020 - super::capacity::item_size(&bare));
    let mut commit = commit();
    commit.messages = vec![message];
    commit.events = vec![event];
    store(&[&commit_rule]).commit(commit).await.unwrap();
    let items = put_items(&seen.lock().unwrap()[0]);
    assert!(items.iter().any(|item| sort_key(item) == "E#000000000002"));
    assert!(items.iter().all(|item| !sort_key(item).starts_with("M#") || !item.contains_key("events")));
}

#[tokio::test]
async fn rewriting_an_erased_message_keeps_the_events_stored_on_it() {
    let (message, event) = customer_message(2);
    let mut stored: Item = super::codec::encode("message", &message).unwrap();
    stored.insert("pk".into(), s("T#1042"));
    stored.insert("sk".into(), s(&format!("M#{:.9}#{}", message.created_at, message.id)));
    let list =
        super::codec::encode("events", &serde_json::json!({"events": [event]})).unwrap()["events"].clone();
    stored.insert("events".into(), list.clone());
    let query =
        mock!(Client::query).then_output(move || QueryOutput::builder().items(stored.clone()).build());
    let written = Arc::new(Mutex::new(None));
    let record = written.clone();
    let put = mock!(Client::put_item)
        .match_requests(move |request| {
            *record.lock().unwrap() = Some(request.item().cloned().unwrap_or_default());
            true
        })
        .then_output(|| PutItemOutput::builder().build());
    let erased = Message { text: "[erased]".into(), ..message };
    store(&[&query, &put]).rewrite_messages(TicketNumber(1042), &[erased]).await.unwrap();
    let item = written.lock().unwrap().clone().unwrap();
    assert_eq!(item["text"], s("[erased]"));
    assert_eq!(item["events"], list);
}

#[tokio::test]
async fn reported_capacity_is_measured_per_page_and_per_side() {
    let capacity = |units| ConsumedCapacity::builder().table_name(TABLE).capacity_units(units).build();
    let get = mock!(Client::get_item)
        .then_output(move || GetItemOutput::builder().consumed_capacity(capacity(1.0)).build());
    let first = mock!(Client::query).then_output(move || {
        QueryOutput::builder()
            .consumed_capacity(capacity(2.0))
            .set_last_evaluated_key(Some(HashMap::from([
                ("pk".to_owned(), s("T#1")),
                ("sk".to_owned(), s("E#1")),
            ])))
            .build()
    });
    let second = mock!(Client::query)
        .then_output(move || QueryOutput::builder().consumed_capacity(capacity(1.0)).build());
    let update = mock!(Client::update_item).then_output(move || {
        UpdateItemOutput::builder().attributes("value", n("7")).consumed_capacity(capacity(1.0)).build()
    });
    let (store, meter) = metered(&[&get, &first, &second, &update]);
    assert_eq!(store.ticket(TicketNumber(1)).await.unwrap(), None);
    assert!(store.events(TicketNumber(1)).await.unwrap().is_empty());
    store.allocate_number().await.unwrap();
    let snapshot = meter.snapshot();
    assert_eq!((snapshot.dynamodb_rcu, snapshot.dynamodb_wcu), (4.0, 1.0));
    assert!(!snapshot.estimated_capacity());
}

#[tokio::test]
async fn a_lost_condition_is_billed_as_an_estimated_write() {
    let put = mock!(Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
    });
    let get = mock!(Client::get_item).then_output(|| {
        let item: Item = HashMap::from([
            ("state".to_owned(), s("done")),
            ("result".to_owned(), s("1")),
            ("expires_at".to_owned(), n("1790000100")),
        ]);
        GetItemOutput::builder()
            .set_item(Some(item))
            .consumed_capacity(ConsumedCapacity::builder().capacity_units(1.0).build())
            .build()
    });
    let (store, meter) = metered(&[&put, &get]);
    store.begin("k", "owner-1", now(), Duration::from_secs(30)).await.unwrap();
    let snapshot = meter.snapshot();
    assert_eq!((snapshot.dynamodb_rcu, snapshot.dynamodb_wcu), (1.0, 1.0));
    assert_eq!((snapshot.estimated_rcu, snapshot.estimated_wcu), (0.0, 1.0));
}

// --- customer update ---

#[tokio::test]
async fn update_is_one_conditional_write_that_leaves_identities_alone() {
    let rule = mock!(Client::update_item)
        .match_requests(|request| {
            let names = request.expression_attribute_names().cloned().unwrap_or_default();
            let values = request.expression_attribute_values().cloned().unwrap_or_default();
            assert_placeholders_only(request.update_expression().unwrap_or_default());
            assert_eq!(request.condition_expression(), Some("#v = :expected"));
            assert_eq!(names.get("#v").map(String::as_str), Some("version"));
            assert!(!names.values().any(|name| name == "identities"), "{names:?}");
            assert_eq!(values.get(":expected"), Some(&n("1")));
            assert_eq!(values.get(":v"), Some(&n("2")));
            request.key().and_then(|key| key.get("pk")) == Some(&s("C#cus_1"))
        })
        .then_error(|| {
            UpdateItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().message("The conditional request failed").build(),
            )
        });
    let store = store(&[&rule]);
    let mut customer = Customer::new(
        CustomerId::new("cus_1"),
        Some("Li Wei".into()),
        vec![Identity::Email { address: "li@example.com".into() }],
        now(),
    );
    customer.version = 2;
    let result = store.update(&customer, 1).await;
    assert!(matches!(&result, Err(StoreError::Conflict(m)) if !m.contains("li@example.com")), "{result:?}");
    assert_eq!(rule.num_calls(), 1);
}

// --- rate limiter ---

const HOUR: Duration = Duration::from_secs(3600);

/// A stored counter: `(seconds after now(), holder)` per slot.
fn counter_item(version: u64, slots: &[(i64, &str)]) -> Item {
    let slots = slots
        .iter()
        .map(|(offset, holder)| {
            let at = now() + jiff::SignedDuration::from_secs(*offset);
            AttributeValue::M(HashMap::from([
                ("at".to_owned(), s(&at.to_string())),
                ("holder".to_owned(), s(&sha256_hex(holder))),
            ]))
        })
        .collect();
    HashMap::from([
        ("pk".to_owned(), s("RATE#x")),
        ("sk".to_owned(), s("RATE")),
        ("slots".to_owned(), AttributeValue::L(slots)),
        ("version".to_owned(), n(&version.to_string())),
        ("ttl".to_owned(), n("1790003600")),
    ])
}

fn slot_holders(item: &Item) -> Vec<String> {
    let slots = item.get("slots").and_then(|v| v.as_l().ok()).cloned().unwrap_or_default();
    slots.iter().filter_map(|slot| slot.as_m().ok()?.get("holder")?.as_s().ok().cloned()).collect()
}

#[tokio::test]
async fn a_full_window_answers_false_without_writing() {
    let get = mock!(Client::get_item)
        .match_requests(|request| {
            let pk = request.key().and_then(|key| key.get("pk")).and_then(|v| v.as_s().ok()).cloned();
            request.consistent_read() == Some(true)
                && pk.is_some_and(|pk| pk.starts_with("RATE#") && !pk.contains('@'))
        })
        .then_output(|| {
            GetItemOutput::builder().set_item(Some(counter_item(3, &[(-20, "m0"), (-10, "m1")]))).build()
        });
    let put = mock!(Client::put_item).then_output(|| PutItemOutput::builder().build());
    let store = store(&[&get, &put]);
    let taken = store.try_acquire("auto-reply:ana@customer.example", "m2", 2, HOUR, now()).await.unwrap();
    assert!(!taken);
    assert_eq!((get.num_calls(), put.num_calls()), (1, 0));
}

#[tokio::test]
async fn a_holder_already_in_the_window_gets_true_without_writing() {
    let get = mock!(Client::get_item).then_output(|| {
        GetItemOutput::builder().set_item(Some(counter_item(3, &[(-20, "m0"), (-10, "m1")]))).build()
    });
    let put = mock!(Client::put_item).then_output(|| PutItemOutput::builder().build());
    let store = store(&[&get, &put]);
    assert!(store.try_acquire("k", "m1", 2, HOUR, now()).await.unwrap());
    assert_eq!(put.num_calls(), 0);
}

#[tokio::test]
async fn a_conflicting_write_is_retried_on_a_fresh_read() {
    let absent = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let lost = mock!(Client::put_item)
        .match_requests(|request| {
            let names = request.expression_attribute_names().cloned().unwrap_or_default();
            assert_placeholders_only(request.condition_expression().unwrap_or_default());
            request.condition_expression() == Some("attribute_not_exists(#pk)")
                && names.get("#pk").map(String::as_str) == Some("pk")
                && request.item().and_then(|item| item.get("version")) == Some(&n("1"))
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
    // Meanwhile another caller took a slot; an older one has left the window.
    let taken = mock!(Client::get_item).then_output(|| {
        GetItemOutput::builder().set_item(Some(counter_item(1, &[(-3600, "old"), (-1, "other")]))).build()
    });
    let written = Arc::new(Mutex::new(None));
    let record = written.clone();
    let put = mock!(Client::put_item)
        .match_requests(move |request| {
            let names = request.expression_attribute_names().cloned().unwrap_or_default();
            let values = request.expression_attribute_values().cloned().unwrap_or_default();
            assert_placeholders_only(request.condition_expression().unwrap_or_default());
            *record.lock().unwrap() = request.item().cloned();
            request.condition_expression() == Some("#v = :read")
                && names.get("#v").map(String::as_str) == Some("version")
                && values.get(":read") == Some(&n("1"))
        })
        .then_output(|| PutItemOutput::builder().build());
    let store = store(&[&absent, &lost, &taken, &put]);
    assert!(store.try_acquire("k", "mine", 2, HOUR, now()).await.unwrap());
    assert_eq!(put.num_calls(), 1);

    let item = written.lock().unwrap().clone().expect("the counter was written");
    assert_eq!(slot_holders(&item), vec![sha256_hex("other"), sha256_hex("mine")]);
    assert_eq!(item.get("version"), Some(&n("2")));
    // Idle from the end of the window of the newest slot.
    assert_eq!(item.get("ttl"), Some(&n("1790003600")));
}

#[tokio::test]
async fn a_counter_contended_on_every_attempt_is_a_conflict() {
    let mut rules = Vec::new();
    for version in 1..=ACQUIRE_ATTEMPTS as u64 {
        rules.push(mock!(Client::get_item).then_output(move || {
            GetItemOutput::builder().set_item(Some(counter_item(version, &[(-1, "other")]))).build()
        }));
        rules.push(mock!(Client::put_item).then_error(|| {
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        }));
    }
    let store = store(&rules.iter().collect::<Vec<_>>());
    let result = store.try_acquire("k", "mine", 2, HOUR, now()).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert!(rules.iter().all(|rule| rule.num_calls() == 1));
}

/// A commit of ticket 1042 at `version` (from `version - 1`) with one event at `at`.
fn commit_at(version: u64, at: Timestamp) -> TicketCommit {
    let event = TicketEvent { seq: version, at, ..commit_event() };
    TicketCommit {
        ticket: ticket(version),
        expected_version: Some(version - 1),
        events: vec![event],
        ..commit()
    }
}

/// The items each recorded transaction put.
type Recorded = Arc<Mutex<Vec<Vec<Item>>>>;

fn recording_commits(count: usize) -> (Vec<Rule>, Recorded) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rules = (0..count)
        .map(|_| {
            let record = seen.clone();
            mock!(Client::transact_write_items)
                .match_requests(move |request| {
                    record.lock().unwrap().push(put_items(request.transact_items()));
                    true
                })
                .then_output(|| TransactWriteItemsOutput::builder().build())
        })
        .collect();
    (rules, seen)
}

fn filed_hours(items: &[Item]) -> Vec<String> {
    items.iter().filter_map(|item| item.get("log_hour")).map(|v| v.as_s().unwrap().clone()).collect()
}

fn ticket_filed(items: &[Item]) -> Option<String> {
    let ticket = items.iter().find(|item| sort_key(item) == "TICKET")?;
    ticket.get("log_filed").map(|v| v.as_s().unwrap().clone())
}

#[tokio::test]
async fn only_a_tickets_first_commit_in_each_hour_files_an_event_log_entry() {
    let (rules, seen) = recording_commits(3);
    let store = store(&rules.iter().collect::<Vec<_>>());
    let hour = super::event_log::hour_key(now());
    store.commit(commit_at(2, now())).await.unwrap();
    // Later in the same hour: the ticket is filed there already.
    store.commit(commit_at(3, now() + Duration::from_secs(60))).await.unwrap();
    // The next hour: filed again, under it.
    let next = now() + Duration::from_secs(3600);
    store.commit(commit_at(4, next)).await.unwrap();
    let writes = seen.lock().unwrap().clone();
    // On the ticket's shard of the hour: 1042 mod 10.
    assert_eq!(filed_hours(&writes[0]), [format!("{hour}#2")]);
    assert_eq!(filed_hours(&writes[1]), Vec::<String>::new(), "a second commit in the hour files nothing");
    assert_eq!(filed_hours(&writes[2]), [format!("{}#2", super::event_log::hour_key(next))]);
    // The ticket item says where it was last filed, so another reader of it knows too.
    assert_eq!(ticket_filed(&writes[1]), Some(hour));
    assert_eq!(ticket_filed(&writes[2]), Some(super::event_log::hour_key(next)));
}

#[tokio::test]
async fn a_commit_from_a_version_the_store_did_not_see_files_its_events_again() {
    // Another container committed version 2: this store knows nothing of it and files once more
    // (an extra entry, never a missing one).
    let (rules, seen) = recording_commits(2);
    let store = store(&rules.iter().collect::<Vec<_>>());
    store.commit(commit_at(2, now())).await.unwrap();
    store.commit(commit_at(4, now() + Duration::from_secs(60))).await.unwrap();
    let writes = seen.lock().unwrap().clone();
    assert_eq!(filed_hours(&writes[1]).len(), 1);
}

#[tokio::test]
async fn a_ticket_read_with_its_filed_hour_is_not_filed_again_in_that_hour() {
    let hour = super::event_log::hour_key(now());
    let mut item = super::ticket_item::ticket_item(&ticket(2)).unwrap();
    item.insert("pk".into(), s("T#1042"));
    item.insert("sk".into(), s("TICKET"));
    item.insert("log_filed".into(), s(&hour));
    let read = mock!(Client::get_item)
        .then_output(move || GetItemOutput::builder().set_item(Some(item.clone())).build());
    let (mut rules, seen) = recording_commits(1);
    rules.insert(0, read);
    let store = store(&rules.iter().collect::<Vec<_>>());
    assert_eq!(store.ticket(TicketNumber(1042)).await.unwrap().map(|t| t.version), Some(2));
    store.commit(commit_at(3, now() + Duration::from_secs(60))).await.unwrap();
    let writes = seen.lock().unwrap().clone();
    assert!(filed_hours(&writes[0]).is_empty());
    assert_eq!(ticket_filed(&writes[0]), Some(hour));
}
/// Which partitions of which scope (table or index) a heat report saw written.
fn written(heat: &omnidesk_domain::heat::PartitionHeat) -> BTreeSet<(String, String)> {
    let report = heat.report(usize::MAX);
    report
        .scopes
        .iter()
        .filter(|scope| scope.access == omnidesk_domain::heat::Access::Write)
        .flat_map(|scope| scope.hottest.iter().map(|key| (scope.scope.clone(), key.key.clone())))
        .collect()
}

#[tokio::test]
async fn partition_heat_books_each_write_on_the_partitions_the_memory_twin_names() {
    use omnidesk_domain::memory::MemoryStore;
    let empty = || TransactWriteItemsOutput::builder().set_consumed_capacity(Some(Vec::new())).build();
    let first = mock!(Client::transact_write_items).then_output(empty);
    let second = mock!(Client::transact_write_items).then_output(empty);
    let (store, meter) = metered(&[&first, &second]);
    let twin_heat = omnidesk_domain::heat::PartitionHeat::new(Arc::new(omnidesk_domain::system::SystemClock));
    let twin = {
        let twin = MemoryStore::new();
        twin.record_heat(twin_heat.clone());
        twin
    };

    // A new ticket in a team with a due timer, then its status change.
    let mut open = commit();
    open.expected_version = None;
    open.ticket.team = Some("frontline".into());
    open.ticket.due_at = Some(now() + Duration::from_secs(1_800));
    let mut moved = open.clone();
    moved.expected_version = Some(2);
    moved.ticket = Ticket { status: Status::Open, version: 3, ..open.ticket.clone() };
    moved.events[0].seq = 3;
    moved.thread_claims.clear();
    moved.idempotency = None;
    for commit in [open, moved] {
        store.commit(commit.clone()).await.unwrap();
        twin.commit(commit).await.unwrap();
    }

    let adapter = written(meter.heat());
    assert_eq!(adapter, written(&twin_heat));
    let number = TicketNumber(1042);
    for (scope, key) in [
        ("table", "T#1042".to_owned()),
        ("by_status", omnidesk_domain::partitions::status_key(Status::New, number)),
        ("by_status", omnidesk_domain::partitions::status_key(Status::Open, number)),
        ("by_team", omnidesk_domain::partitions::team_key("frontline", number)),
        ("by_requester", "cus_1".to_owned()),
        ("timers", omnidesk_domain::partitions::timer_key(now() + Duration::from_secs(1_800), number)),
        ("event_log", omnidesk_domain::partitions::event_log_key("2026-09-21T14", number)),
    ] {
        assert!(adapter.contains(&(scope.to_owned(), key.clone())), "{scope} {key} in {adapter:?}");
    }
}
