use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::ports::{Clock, Queue, QueueDepth, QueueError, QueueMessage, Received};
use crate::system::later;

/// SQS's limit on a message body.
pub const MAX_QUEUE_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    pub visibility_timeout: Duration,
    /// Receives after which the next receive moves the message to the dead-letter queue
    /// (SQS's `maxReceiveCount`).
    pub max_receive_count: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self { visibility_timeout: Duration::from_secs(30), max_receive_count: 5 }
    }
}

/// A standard SQS queue in memory: at-least-once, hidden while in flight, redelivered after
/// the visibility timeout, dead-lettered after `max_receive_count` receives.
pub struct MemoryQueue {
    name: String,
    clock: Arc<dyn Clock>,
    settings: QueueSettings,
    dead_letter: Option<Arc<MemoryQueue>>,
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    next_seq: u64,
    /// By send order, so receives come oldest first and a delete is a lookup.
    messages: BTreeMap<u64, Stored>,
}

struct Stored {
    id: String,
    message: QueueMessage,
    sent_at: Timestamp,
    receive_count: u32,
    visible_at: Timestamp,
    receipt_handle: Option<String>,
}

impl MemoryQueue {
    /// A queue without a dead-letter queue: messages are redelivered forever.
    pub fn new(name: &str, clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        Self { name: name.to_owned(), clock, settings, dead_letter: None, state: Mutex::default() }
    }

    pub fn with_dead_letter(name: &str, clock: Arc<dyn Clock>, settings: QueueSettings) -> Self {
        let dlq = Arc::new(Self::new(&format!("{name}-dlq"), clock.clone(), settings));
        Self { dead_letter: Some(dlq), ..Self::new(name, clock, settings) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dead_letter(&self) -> Option<&Arc<MemoryQueue>> {
        self.dead_letter.as_ref()
    }

    /// Messages not yet deleted, in flight or not.
    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bodies of every message still on the queue, oldest first.
    pub fn bodies(&self) -> Vec<String> {
        self.lock().messages.values().map(|m| m.message.body.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, message: QueueMessage, sent_at: Timestamp) -> String {
        let mut state = self.lock();
        state.next_seq += 1;
        let seq = state.next_seq;
        let id = format!("{}-{seq:08}", self.name);
        state.messages.insert(
            seq,
            Stored {
                id: id.clone(),
                message,
                sent_at,
                receive_count: 0,
                visible_at: sent_at,
                receipt_handle: None,
            },
        );
        id
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError> {
        if message.body.len() > MAX_QUEUE_MESSAGE_BYTES {
            return Err(QueueError::TooLarge(message.body.len()));
        }
        Ok(self.push(message, self.clock.now()))
    }

    async fn receive(&self, max: usize) -> Result<Vec<Received>, QueueError> {
        let now = self.clock.now();
        let mut received = Vec::new();
        let mut dead = Vec::new();
        {
            let mut state = self.lock();
            let mut dead_seqs = Vec::new();
            for (seq, stored) in state.messages.iter_mut() {
                if received.len() == max {
                    break;
                }
                if stored.visible_at > now {
                    continue;
                }
                if self.dead_letter.is_some() && stored.receive_count >= self.settings.max_receive_count {
                    dead_seqs.push(*seq);
                    continue;
                }
                stored.receive_count += 1;
                stored.visible_at = later(now, self.settings.visibility_timeout);
                let receipt_handle = format!("{seq}#{}", stored.receive_count);
                stored.receipt_handle = Some(receipt_handle.clone());
                received.push(Received {
                    message_id: stored.id.clone(),
                    receipt_handle,
                    body: stored.message.body.clone(),
                    kind: stored.message.kind.clone(),
                    version: stored.message.version,
                    receive_count: stored.receive_count,
                    sent_at: stored.sent_at,
                });
            }
            dead.extend(dead_seqs.into_iter().filter_map(|seq| state.messages.remove(&seq)));
        }
        if let Some(dlq) = &self.dead_letter {
            for gone in dead {
                tracing::warn!(queue = %self.name, message_id = %gone.id, receives = gone.receive_count, "queue.dead_lettered");
                dlq.push(gone.message, gone.sent_at);
            }
        }
        Ok(received)
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let now = self.clock.now();
        let state = self.lock();
        let visible = state.messages.values().filter(|m| m.visible_at <= now).count();
        Ok(QueueDepth { visible, in_flight: state.messages.len() - visible })
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        // A stale handle (the message was received again since) deletes nothing, so a slow
        // consumer cannot delete a message another one is working on.
        let Some(seq) = receipt_handle.split_once('#').and_then(|(seq, _)| seq.parse::<u64>().ok()) else {
            return Ok(());
        };
        let mut state = self.lock();
        if state.messages.get(&seq).is_some_and(|m| m.receipt_handle.as_deref() == Some(receipt_handle)) {
            state.messages.remove(&seq);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::ManualClock;

    fn message(body: &str) -> QueueMessage {
        QueueMessage { body: body.into(), kind: "test".into(), version: 1 }
    }

    fn queue(clock: Arc<ManualClock>) -> MemoryQueue {
        let settings = QueueSettings { visibility_timeout: Duration::from_secs(30), max_receive_count: 3 };
        MemoryQueue::with_dead_letter("q", clock, settings)
    }

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(Timestamp::from_second(1_790_000_000).unwrap()))
    }

    #[tokio::test]
    async fn received_message_is_invisible_until_the_timeout() {
        let clock = clock();
        let q = queue(clock.clone());
        q.send(message("a")).await.unwrap();
        assert_eq!(q.receive(10).await.unwrap().len(), 1);
        assert!(q.receive(10).await.unwrap().is_empty());
        clock.advance(Duration::from_secs(30));
        let again = q.receive(10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].receive_count, 2);
    }

    #[tokio::test]
    async fn deleted_message_is_gone_and_stale_handles_delete_nothing() {
        let clock = clock();
        let q = queue(clock.clone());
        q.send(message("a")).await.unwrap();
        let first = q.receive(1).await.unwrap().remove(0);
        clock.advance(Duration::from_secs(31));
        let second = q.receive(1).await.unwrap().remove(0);
        q.delete(&first.receipt_handle).await.unwrap();
        assert_eq!(q.len(), 1);
        q.delete(&second.receipt_handle).await.unwrap();
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn message_moves_to_dead_letter_after_max_receives() {
        let clock = clock();
        let q = queue(clock.clone());
        q.send(message("poison")).await.unwrap();
        for _ in 0..3 {
            assert_eq!(q.receive(10).await.unwrap().len(), 1);
            clock.advance(Duration::from_secs(30));
        }
        assert!(q.receive(10).await.unwrap().is_empty());
        let dlq = q.dead_letter().unwrap();
        assert_eq!(dlq.bodies(), vec!["poison".to_string()]);
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn oversized_message_is_refused() {
        let q = queue(clock());
        let big = "x".repeat(MAX_QUEUE_MESSAGE_BYTES + 1);
        assert_eq!(q.send(message(&big)).await, Err(QueueError::TooLarge(big.len())));
    }
}
