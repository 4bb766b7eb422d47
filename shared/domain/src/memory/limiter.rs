use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::ports::{RateLimiter, StoreError, window_start};
use crate::system::later;

/// Sliding-window counters: per key, the slots taken (when, by whom) within the window; and
/// fixed-window request counts per key and window start.
#[derive(Default)]
pub struct MemoryRateLimiter {
    slots: Mutex<HashMap<String, VecDeque<(Timestamp, String)>>>,
    requests: Mutex<HashMap<(String, i64), u32>>,
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn try_acquire(
        &self,
        key: &str,
        holder: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let taken = slots.entry(key.to_owned()).or_default();
        taken.retain(|(at, _)| later(*at, window) > now);
        if taken.iter().any(|(_, h)| h == holder) {
            return Ok(true);
        }
        if taken.len() >= limit as usize {
            return Ok(false);
        }
        taken.push_back((now, holder.to_owned()));
        Ok(true)
    }

    async fn count_requests(
        &self,
        key: &str,
        count: u32,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let start = window_start(now, window);
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        // Past windows count for nothing: drop them, as the table's TTL does.
        requests.retain(|(_, at), _| *at >= start);
        let counted = requests.entry((key.to_owned(), start)).or_default();
        if counted.saturating_add(count) > limit {
            return Ok(false);
        }
        *counted += count;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + seconds).unwrap()
    }

    #[tokio::test]
    async fn a_window_holds_at_most_the_limit_and_frees_slots_as_it_slides() {
        let limiter = MemoryRateLimiter::default();
        let hour = Duration::from_secs(3600);
        for (i, second) in [0, 10, 20].into_iter().enumerate() {
            assert!(limiter.try_acquire("k", &format!("m{i}"), 3, hour, at(second)).await.unwrap());
        }
        assert!(!limiter.try_acquire("k", "m3", 3, hour, at(30)).await.unwrap());
        // Another key has its own slots.
        assert!(limiter.try_acquire("other", "m3", 3, hour, at(30)).await.unwrap());
        // The first slot leaves the window after an hour.
        assert!(limiter.try_acquire("k", "m4", 3, hour, at(3600)).await.unwrap());
        assert!(!limiter.try_acquire("k", "m5", 3, hour, at(3601)).await.unwrap());
    }

    #[tokio::test]
    async fn requests_over_the_limit_of_a_fixed_window_are_refused_until_the_next_window() {
        let limiter = MemoryRateLimiter::default();
        let minute = Duration::from_secs(60);
        let start = window_start(at(0), minute);
        let in_window = |second: i64| Timestamp::from_second(start + second).unwrap();
        for second in [0, 1, 59] {
            assert!(limiter.count_request("inbox:web", 3, minute, in_window(second)).await.unwrap());
        }
        assert!(!limiter.count_request("inbox:web", 3, minute, in_window(59)).await.unwrap());
        assert!(limiter.count_request("inbox:shop", 3, minute, in_window(59)).await.unwrap(), "per key");
        assert!(limiter.count_request("inbox:web", 3, minute, in_window(60)).await.unwrap(), "a new window");
    }

    #[tokio::test]
    async fn a_holder_asking_again_keeps_its_slot_without_taking_another() {
        let limiter = MemoryRateLimiter::default();
        let hour = Duration::from_secs(3600);
        assert!(limiter.try_acquire("k", "m0", 2, hour, at(0)).await.unwrap());
        assert!(limiter.try_acquire("k", "m0", 2, hour, at(1)).await.unwrap());
        assert!(limiter.try_acquire("k", "m1", 2, hour, at(2)).await.unwrap());
        assert!(limiter.try_acquire("k", "m0", 2, hour, at(3)).await.unwrap());
        assert!(!limiter.try_acquire("k", "m2", 2, hour, at(4)).await.unwrap());
    }
}
