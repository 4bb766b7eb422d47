//! What a Lambda SQS event source mapping does, in process: receive a batch, hand it to the
//! same handler Lambda would call, delete the records that succeeded. Failed records stay on
//! the queue and come back after the visibility timeout (or go to the dead-letter queue).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use omnidesk_domain::ports::{Queue, QueueError, Received};

/// Lambda's default (and maximum for standard queues without a window) batch size.
pub const BATCH_SIZE: usize = 10;

/// One receive-handle-delete round. Returns how many records were received.
pub async fn poll_once<H, Fut>(
    queue: &Arc<dyn Queue>,
    queue_name: &str,
    handler: H,
) -> Result<usize, QueueError>
where
    H: FnOnce(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let received = queue.receive(BATCH_SIZE).await?;
    if received.is_empty() {
        return Ok(0);
    }
    let mut event = SqsEvent::default();
    event.records = received.iter().map(|r| to_record(r, queue_name)).collect();
    let response = handler(event).await;
    let failed: HashSet<&str> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    if failed.contains("") {
        // Lambda's rule: an empty identifier fails the whole batch.
        return Ok(received.len());
    }
    let succeeded: Vec<String> = received
        .iter()
        .filter(|r| !failed.contains(r.message_id.as_str()))
        .map(|r| r.receipt_handle.clone())
        .collect();
    if !succeeded.is_empty() {
        queue.delete_batch(&succeeded).await?;
    }
    Ok(received.len())
}

fn to_record(received: &Received, queue_name: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(received.message_id.clone());
    record.receipt_handle = Some(received.receipt_handle.clone());
    record.body = Some(received.body.clone());
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(format!("arn:aws:sqs:local:000000000000:{queue_name}"));
    record.attributes = HashMap::from([
        ("ApproximateReceiveCount".to_owned(), received.receive_count.to_string()),
        ("SentTimestamp".to_owned(), received.sent_at.as_millisecond().to_string()),
    ]);
    record
}
