//! Ticket numbers leased in blocks: the router takes [`NUMBER_BLOCK`] numbers from the
//! store's counter with one write and hands them out one by one, where one counter write per
//! ticket was a tenth of a new ticket's write units.
//!
//! Numbers stay unique: every block comes from one atomic step of the shared counter
//! ([`TicketStore::allocate_numbers`]), so two blocks never overlap, whichever process holds
//! them. What a process leaves unused when it stops is never handed out, so numbers have
//! gaps, and with several router processes running at once a newer ticket may have a smaller
//! number than an older one (README, "How it is built"; ARCHITECTURE.md §4).

use std::sync::Mutex;

use crate::model::TicketNumber;
use crate::ports::{StoreError, TicketStore};

/// Numbers taken from the counter at once by one process.
pub const NUMBER_BLOCK: u64 = 10;

/// One process's lease of ticket numbers.
#[derive(Debug)]
pub struct NumberLease {
    block: u64,
    /// The numbers leased and not handed out yet, the next one last.
    spare: Mutex<Vec<u64>>,
}

impl Default for NumberLease {
    fn default() -> Self {
        Self::new(NUMBER_BLOCK)
    }
}

impl NumberLease {
    /// Leases `block` numbers at a time (at least one).
    pub fn new(block: u64) -> Self {
        Self { block: block.max(1), spare: Mutex::new(Vec::new()) }
    }

    fn spare(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next number of this lease, leasing a new block from `store` when it is used up.
    /// Two requests that find it empty at once lease a block each; both blocks are used.
    pub async fn next(&self, store: &dyn TicketStore) -> Result<TicketNumber, StoreError> {
        if let Some(number) = self.spare().pop() {
            return Ok(TicketNumber(number));
        }
        let last = store.allocate_numbers(self.block).await?.0;
        let first = last.saturating_sub(self.block - 1).max(1);
        let mut spare = self.spare();
        // Kept sorted so numbers leave each block in order.
        spare.extend((first + 1..=last).rev());
        spare.sort_unstable_by(|a, b| b.cmp(a));
        Ok(TicketNumber(first))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::memory::MemoryStore;

    #[tokio::test]
    async fn a_lease_hands_out_its_block_in_order_with_one_counter_write() {
        let store = MemoryStore::default();
        let lease = NumberLease::new(10);
        let mut numbers = Vec::new();
        for _ in 0..12 {
            numbers.push(lease.next(&store).await.unwrap().0);
        }
        assert_eq!(numbers, (1..=12).collect::<Vec<_>>());
        // Two blocks leased: the counter stands at the end of the second.
        assert_eq!(store.allocate_number().await.unwrap(), TicketNumber(21));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// 50 routers (each with its own lease) taking numbers concurrently from one counter
        /// never hand out a number twice, whatever the block size and the number each takes.
        #[test]
        fn ticket_numbers_stay_unique_under_50_concurrent_routers(
            block in 1u64..=20,
            takes in proptest::collection::vec(0usize..30, 50),
        ) {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).build().unwrap();
            let numbers = runtime.block_on(async {
                let store = Arc::new(MemoryStore::default());
                let mut routers = Vec::new();
                for take in takes.clone() {
                    let store = store.clone();
                    routers.push(tokio::spawn(async move {
                        let lease = Arc::new(NumberLease::new(block));
                        // Each router also serves requests concurrently within itself.
                        let mut tasks = Vec::new();
                        for _ in 0..take {
                            let (lease, store) = (lease.clone(), store.clone());
                            tasks.push(tokio::spawn(async move { lease.next(&*store).await.unwrap().0 }));
                        }
                        let mut mine = Vec::new();
                        for task in tasks {
                            mine.push(task.await.unwrap());
                        }
                        mine
                    }));
                }
                let mut all = Vec::new();
                for router in routers {
                    all.extend(router.await.unwrap());
                }
                all
            });
            let distinct: BTreeSet<u64> = numbers.iter().copied().collect();
            prop_assert_eq!(distinct.len(), numbers.len(), "a number was handed out twice");
            prop_assert_eq!(numbers.len(), takes.iter().sum::<usize>());
            prop_assert!(numbers.iter().all(|n| *n >= 1));
        }
    }
}
