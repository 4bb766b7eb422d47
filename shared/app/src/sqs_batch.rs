//! SQS batch handling with partial failures (ReportBatchItemFailures): each record succeeds or
//! fails on its own, and only the failed ones go back to the queue — to be retried, and after
//! the queue's max receive count, dead-lettered. Nothing is dropped silently.

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

/// Why one record failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Worth another try: a store or queue was unavailable, or a write lost a race.
    #[error("retryable: {0}")]
    Retry(String),
    /// Will fail every time (malformed, unknown version, refused by the rules). It still goes
    /// back to the queue, so it reaches the dead-letter queue where someone can look at it.
    #[error("poison: {0}")]
    Poison(String),
}

/// Runs `handle` on each record's body, in order, and reports the ones that failed.
pub async fn process_batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), RecordError>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let receive_count = receive_count(&record);
        let result = match record.body {
            Some(body) => handle(body).await,
            None => Err(RecordError::Poison("record has no body".into())),
        };
        if let Err(error) = result {
            match &error {
                RecordError::Retry(_) => {
                    tracing::warn!(%message_id, receive_count, %error, "sqs.record_failed")
                }
                RecordError::Poison(_) => {
                    tracing::error!(%message_id, receive_count, %error, "sqs.record_poison")
                }
            }
            // An empty identifier makes Lambda retry the whole batch, which is still safe:
            // every handler is idempotent.
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

fn receive_count(record: &SqsMessage) -> u32 {
    record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(0)
}
