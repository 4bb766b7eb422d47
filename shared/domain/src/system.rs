//! The real clock and id source, which every deployed function and the local desk use. Tests
//! swap in `memory::ManualClock` and `memory::SequentialIds`.

use std::time::Duration;

use jiff::Timestamp;

use crate::ports::{Clock, IdSource};

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Random v4 UUIDs, as 32 hex digits.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn token(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }
}

/// `at + by`, saturating at the end of time instead of panicking.
pub fn later(at: Timestamp, by: Duration) -> Timestamp {
    at.checked_add(by).unwrap_or(Timestamp::MAX)
}

/// `at - by`, saturating at the beginning of time instead of panicking.
pub fn earlier(at: Timestamp, by: Duration) -> Timestamp {
    at.checked_sub(by).unwrap_or(Timestamp::MIN)
}
