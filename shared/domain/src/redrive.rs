//! Bringing parked messages back. A message that failed five receives waits in its queue's
//! dead-letter queue (alarmed). Once the cause is fixed, an operator moves the messages back
//! to the queue they came from, and the consumers, which are idempotent, finish the work.
//!
//! On AWS this is SQS's own message move task (`aws sqs start-message-move-task`); this is
//! the same operation over the [`Queue`] port, for the local desk on any backend. Safe to
//! run twice: a message is sent to the source before it is deleted from the dead-letter
//! queue, so a crash in between leaves a copy in both, and the consumer's idempotency drops
//! the repeat; a second run over an empty dead-letter queue moves nothing.

use crate::ports::{Queue, QueueError, QueueMessage};

/// At most this many messages per run, so one request is bounded; run again for more.
pub const MAX_REDRIVE_MESSAGES: usize = 10_000;

/// Messages received from the dead-letter queue per round, as SQS returns at most ten.
const REDRIVE_BATCH: usize = 10;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedriveReport {
    /// Messages sent back to the source queue and deleted from the dead-letter queue.
    pub moved: usize,
}

/// Moves up to `max` messages from `dead_letter` back to `source`.
pub async fn redrive(
    dead_letter: &dyn Queue,
    source: &dyn Queue,
    max: usize,
) -> Result<RedriveReport, QueueError> {
    let mut report = RedriveReport::default();
    while report.moved < max {
        let batch = dead_letter.receive(REDRIVE_BATCH.min(max - report.moved)).await?;
        if batch.is_empty() {
            break;
        }
        let mut handles = Vec::with_capacity(batch.len());
        for parked in batch {
            source
                .send(QueueMessage { body: parked.body, kind: parked.kind, version: parked.version })
                .await?;
            handles.push(parked.receipt_handle);
        }
        dead_letter.delete_batch(&handles).await?;
        report.moved += handles.len();
    }
    tracing::info!(moved = report.moved, "queue.redriven");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use jiff::Timestamp;

    use super::*;
    use crate::memory::{ManualClock, MemoryQueue, QueueSettings};

    fn message(n: usize) -> QueueMessage {
        QueueMessage { body: format!("body-{n}"), kind: "inbound_message".into(), version: 1 }
    }

    /// A source queue whose messages all failed their receives and sit in its DLQ.
    async fn parked(count: usize) -> (Arc<ManualClock>, MemoryQueue) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
        let settings = QueueSettings { visibility_timeout: Duration::from_secs(30), max_receive_count: 1 };
        let source = MemoryQueue::with_dead_letter("inbound", clock.clone(), settings);
        for n in 0..count {
            source.send(message(n)).await.unwrap();
        }
        source.receive(count).await.unwrap();
        clock.advance(Duration::from_secs(31));
        // The next receive finds every message over its receive count: all move to the DLQ.
        assert!(source.receive(count).await.unwrap().is_empty());
        (clock, source)
    }

    #[tokio::test]
    async fn redrive_moves_every_parked_message_back_once_and_a_second_run_moves_nothing() {
        let (_clock, source) = parked(23).await;
        let dead_letter = source.dead_letter().unwrap().clone();
        assert_eq!(dead_letter.len(), 23);

        let first = redrive(&*dead_letter, &source, MAX_REDRIVE_MESSAGES).await.unwrap();
        let second = redrive(&*dead_letter, &source, MAX_REDRIVE_MESSAGES).await.unwrap();

        assert_eq!((first.moved, second.moved), (23, 0));
        assert!(dead_letter.is_empty());
        let mut bodies = source.bodies();
        bodies.sort();
        let mut expected: Vec<String> = (0..23).map(|n| format!("body-{n}")).collect();
        expected.sort();
        assert_eq!(bodies, expected, "each parked message back once, kind and body intact");
    }

    #[tokio::test]
    async fn redrive_stops_at_its_bound() {
        let (_clock, source) = parked(15).await;
        let dead_letter = source.dead_letter().unwrap().clone();
        let report = redrive(&*dead_letter, &source, 12).await.unwrap();
        assert_eq!(report.moved, 12);
        assert_eq!(dead_letter.len(), 3);
    }
}
