//! A per-process share of a request budget counted in a shared store: the chat webhook counts
//! each message against its inbox's per-minute limit, and a conditional write per message
//! was a sixth of what a chat message cost in DynamoDB writes. [`RequestBlocks`] reserves a
//! block of the budget with one write and spends it locally, so a busy inbox costs one write
//! per block instead of one per message.
//!
//! The limit still holds across processes: a block is taken only while the whole block
//! fits, and a process that cannot get one counts single requests as before, so the count
//! never passes the limit. The price is that a block reserved and not used by the end of its
//! window is lost: with `n` processes taking the same inbox's traffic, up to `n × (block -
//! 1)` requests fewer may be accepted in a window than the limit allows. Blocks are at most a
//! twentieth of the limit (and at most [`MAX_BLOCK`]), so that share stays small; small
//! limits (under 40 a window) are counted one by one, exactly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::ports::{RateLimiter, StoreError, window_start};

/// The largest block reserved at once.
pub const MAX_BLOCK: u32 = 10;

/// The block for `limit`: a twentieth of it, between 1 and [`MAX_BLOCK`].
pub fn block_for(limit: u32) -> u32 {
    (limit / 20).clamp(1, MAX_BLOCK)
}

/// What this process holds of one key's budget in one window.
#[derive(Debug, Clone, Copy)]
struct Share {
    window: i64,
    left: u32,
    /// A block no longer fits in this window: count one by one.
    exhausted: bool,
}

/// Counts requests in blocks over `inner`; sliding-window slots
/// ([`RateLimiter::try_acquire`]) go straight through.
pub struct RequestBlocks {
    inner: Arc<dyn RateLimiter>,
    shares: Mutex<HashMap<String, Share>>,
}

impl RequestBlocks {
    pub fn new(inner: Arc<dyn RateLimiter>) -> Self {
        Self { inner, shares: Mutex::new(HashMap::new()) }
    }

    fn shares(&self) -> std::sync::MutexGuard<'_, HashMap<String, Share>> {
        self.shares.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl RateLimiter for RequestBlocks {
    async fn try_acquire(
        &self,
        key: &str,
        holder: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.try_acquire(key, holder, limit, window, now).await
    }

    async fn count_requests(
        &self,
        key: &str,
        count: u32,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let block = block_for(limit);
        if count != 1 || block == 1 {
            return self.inner.count_requests(key, count, limit, window, now).await;
        }
        let start = window_start(now, window);
        let exhausted = {
            let mut shares = self.shares();
            // Shares of past windows are worth nothing.
            shares.retain(|_, share| share.window >= start);
            match shares.get_mut(key) {
                Some(share) if share.window == start && share.left > 0 => {
                    share.left -= 1;
                    return Ok(true);
                }
                Some(share) if share.window == start => share.exhausted,
                _ => false,
            }
        };
        if !exhausted {
            if self.inner.count_requests(key, block, limit, window, now).await? {
                let share = Share { window: start, left: block - 1, exhausted: false };
                self.shares().insert(key.to_owned(), share);
                return Ok(true);
            }
            self.shares().insert(key.to_owned(), Share { window: start, left: 0, exhausted: true });
        }
        self.inner.count_requests(key, 1, limit, window, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryRateLimiter;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_040 + seconds).unwrap()
    }

    const MINUTE: Duration = Duration::from_secs(60);

    /// Counts what reaches the shared store.
    #[derive(Default)]
    struct Counting {
        inner: MemoryRateLimiter,
        calls: Mutex<Vec<u32>>,
    }

    #[async_trait]
    impl RateLimiter for Counting {
        async fn try_acquire(
            &self,
            key: &str,
            holder: &str,
            limit: u32,
            window: Duration,
            now: Timestamp,
        ) -> Result<bool, StoreError> {
            self.inner.try_acquire(key, holder, limit, window, now).await
        }

        async fn count_requests(
            &self,
            key: &str,
            count: u32,
            limit: u32,
            window: Duration,
            now: Timestamp,
        ) -> Result<bool, StoreError> {
            self.calls.lock().unwrap().push(count);
            self.inner.count_requests(key, count, limit, window, now).await
        }
    }

    #[tokio::test]
    async fn request_counting_writes_once_per_block_and_never_passes_the_limit() {
        let store = Arc::new(Counting::default());
        let blocks = RequestBlocks::new(store.clone());
        let limit = 205; // blocks of 10
        let mut accepted = 0;
        for _ in 0..300 {
            accepted += u32::from(blocks.count_request("inbox:web", limit, MINUTE, at(1)).await.unwrap());
        }
        assert_eq!(accepted, limit, "exactly the limit, from one process");
        let calls = store.calls.lock().unwrap().clone();
        // 20 blocks of 10, one block that no longer fits, then one by one: 5 accepted, and
        // every refused request asks once.
        assert_eq!(calls.iter().filter(|n| **n == 10).count(), 21);
        assert_eq!(calls.iter().filter(|n| **n == 1).count(), 5 + 95);
        // A new window starts a new budget.
        assert!(blocks.count_request("inbox:web", limit, MINUTE, at(61)).await.unwrap());
    }

    #[tokio::test]
    async fn processes_sharing_a_budget_never_pass_it_together() {
        let store: Arc<dyn RateLimiter> = Arc::new(MemoryRateLimiter::default());
        let processes: Vec<RequestBlocks> = (0..3).map(|_| RequestBlocks::new(store.clone())).collect();
        let mut accepted = 0;
        for round in 0..100 {
            let process = &processes[round % 3];
            accepted += u32::from(process.count_request("inbox:web", 60, MINUTE, at(2)).await.unwrap());
        }
        // Blocks of 3: at most 3 × 2 left unused in the other processes' hands.
        assert!((60 - 6..=60).contains(&accepted), "{accepted}");
    }

    #[tokio::test]
    async fn small_limits_are_counted_one_by_one() {
        let store = Arc::new(Counting::default());
        let blocks = RequestBlocks::new(store.clone());
        for _ in 0..5 {
            blocks.count_request("inbox:kiosk", 3, MINUTE, at(3)).await.unwrap();
        }
        assert_eq!(store.calls.lock().unwrap().as_slice(), [1, 1, 1, 1, 1]);
    }
}
