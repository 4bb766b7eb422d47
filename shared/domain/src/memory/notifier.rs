use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::outbound::OutboundJob;
use crate::ports::{NotifyError, OutboundNotifier};

/// Records what would have been delivered; can be told to fail, like a receiver that is down.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    delivered: Mutex<Vec<OutboundJob>>,
    attempts: AtomicUsize,
    down: AtomicBool,
}

impl RecordingNotifier {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn delivered(&self) -> Vec<OutboundJob> {
        self.delivered.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl OutboundNotifier for RecordingNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(NotifyError::Retryable("receiver is down".into()));
        }
        self.delivered.lock().unwrap_or_else(|p| p.into_inner()).push(job.clone());
        Ok(())
    }
}
