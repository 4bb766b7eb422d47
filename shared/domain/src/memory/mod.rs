//! In-memory twins of every port. They keep the semantics that matter — conditional writes
//! fail on conflict, received messages hide for the visibility timeout, a message received
//! too often moves to the dead-letter queue — so tests and the local desk exercise the same
//! edge cases as AWS.

mod articles;
mod blobs;
mod clock;
mod export;
mod heat;
#[cfg(test)]
pub(crate) mod hooked;
mod ids;
mod limiter;
mod mailer;
mod notifier;
pub mod phone;
mod queue;
mod secrets;
mod store;

pub use articles::MemoryArticles;
pub use blobs::{LOCAL_BLOB_PATH, LinkError, MemoryBlobStore};
pub use clock::ManualClock;
pub use export::{MemoryAlerts, MemoryEventLog, MemoryExport};
pub use ids::SequentialIds;
pub use limiter::MemoryRateLimiter;
pub use mailer::MemoryMailer;
pub use notifier::RecordingNotifier;
pub use phone::{MemoryCallNotes, MemoryContactCenter};
pub use queue::{MemoryQueue, QueueSettings};
pub use secrets::MemorySecrets;
pub use store::MemoryStore;

use std::sync::Arc;

use crate::ports::{Clock, Queue};
use crate::roster::Roster;
use crate::router::RouterPorts;

/// The router's ports on one in-memory store (tickets, customers, idempotency), no agents, a fresh
/// rate limiter and deterministic ids: what tests and benchmarks wire up.
pub fn router_ports(store: Arc<MemoryStore>, outbound: Arc<dyn Queue>, clock: Arc<dyn Clock>) -> RouterPorts {
    RouterPorts {
        tickets: store.clone(),
        customers: store.clone(),
        idempotency: store.clone(),
        outbound,
        limiter: Arc::new(MemoryRateLimiter::default()),
        agents: Arc::new(Roster::new(Vec::new(), store)),
        clock,
        ids: Arc::new(SequentialIds::default()),
    }
}

/// The agent desk's ports on one in-memory store, no agents, an empty blob store, a fresh outbound
/// queue and deterministic ids.
pub fn desk_ports(store: Arc<MemoryStore>, clock: Arc<dyn Clock>) -> crate::desk::DeskPorts {
    crate::desk::DeskPorts {
        tickets: store.clone(),
        customers: store.clone(),
        agents: Arc::new(Roster::new(Vec::new(), store.clone())),
        idempotency: store,
        outbound: Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default())),
        blobs: Arc::new(MemoryBlobStore::default()),
        clock,
        ids: Arc::new(SequentialIds::default()),
    }
}
