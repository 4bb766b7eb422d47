//! SQS batch handling with partial failures (ReportBatchItemFailures): each record succeeds or
//! fails on its own, and only the failed ones go back to the queue — to be retried, and after
//! the queue's max receive count, dead-lettered. Nothing is dropped silently.

use std::future::Future;
use std::time::Duration;

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
        let (message_id, receive_count) = (message_id(&record), receive_count(&record));
        let result = match record.body {
            Some(body) => handle(body).await,
            None => Err(RecordError::Poison("record has no body".into())),
        };
        report(&mut response, message_id, receive_count, result);
    }
    response
}

/// Runs `handle` on every record of the batch at once, each bounded by `budget`, and reports
/// the ones that failed or ran out of time. For senders: one slow receiver (a chat provider
/// that hangs) must not hold up the other channels' deliveries in the same batch, nor run the
/// invocation into Lambda's timeout, which would fail the whole batch.
pub async fn process_batch_concurrently<F, Fut>(
    event: SqsEvent,
    budget: Duration,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), RecordError>>,
{
    let work = event.records.into_iter().map(|record| {
        let (message_id, receive_count) = (message_id(&record), receive_count(&record));
        let run = record.body.map(&handle);
        async move {
            let result = match run {
                Some(run) => match tokio::time::timeout(budget, run).await {
                    Ok(result) => result,
                    Err(_) => Err(RecordError::Retry(format!("not done within {} ms", budget.as_millis()))),
                },
                None => Err(RecordError::Poison("record has no body".into())),
            };
            (message_id, receive_count, result)
        }
    });
    let mut response = SqsBatchResponse::default();
    for (message_id, receive_count, result) in futures_util::future::join_all(work).await {
        report(&mut response, message_id, receive_count, result);
    }
    response
}

fn report(
    response: &mut SqsBatchResponse,
    message_id: String,
    receive_count: u32,
    result: Result<(), RecordError>,
) {
    let Err(error) = result else {
        return;
    };
    match &error {
        RecordError::Retry(_) => tracing::warn!(%message_id, receive_count, %error, "sqs.record_failed"),
        RecordError::Poison(_) => tracing::error!(%message_id, receive_count, %error, "sqs.record_poison"),
    }
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = message_id;
    response.batch_item_failures.push(failure);
}

/// The record's own id, reported when it fails. SQS always sets one; were it missing, the
/// empty identifier makes Lambda retry the whole batch, which is still safe: every handler is
/// idempotent.
fn message_id(record: &SqsMessage) -> String {
    record.message_id.clone().unwrap_or_default()
}

fn receive_count(record: &SqsMessage) -> u32 {
    record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, body: Option<&str>) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = Some(id.to_owned());
        record.body = body.map(str::to_owned);
        record
    }

    #[tokio::test]
    async fn a_record_without_a_body_reports_its_own_message_id_and_the_others_are_handled() {
        let mut event = SqsEvent::default();
        event.records = vec![record("m-1", Some("ok")), record("m-2", None), record("m-3", Some("ok"))];
        let handled = std::sync::Mutex::new(Vec::new());
        let response = process_batch(event, |body| {
            handled.lock().unwrap().push(body);
            async { Ok(()) }
        })
        .await;
        let failed: Vec<&str> =
            response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["m-2"], "never an empty identifier, which would fail the whole batch");
        assert_eq!(handled.into_inner().unwrap(), ["ok", "ok"]);
    }
}
