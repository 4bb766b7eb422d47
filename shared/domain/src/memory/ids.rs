use std::sync::atomic::{AtomicU64, Ordering};

use crate::ports::IdSource;

/// `000001`, `000002`, … for tests that compare ids.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn token(&self) -> String {
        format!("{:06}", self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }
}
