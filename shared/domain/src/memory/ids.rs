use std::sync::atomic::{AtomicU64, Ordering};

use crate::ports::IdSource;

/// Random v4 UUIDs, as 32 hex digits.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn token(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }
}

/// `000001`, `000002`, … for tests that compare ids.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn token(&self) -> String {
        format!("{:06}", self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }
}
