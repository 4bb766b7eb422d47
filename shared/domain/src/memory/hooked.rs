//! The memory store for race tests: every call forwarded, with a hook at the calls a test
//! interleaves with (a ticket's read, a commit, a list read, the due index's read), so each
//! test says only what lands in between.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use super::MemoryStore;
use crate::model::{Message, Ticket, TicketEvent, TicketNumber};
use crate::ports::{StoreError, ThreadClaim, ThreadKey, TicketCommit, TicketStore};
use crate::query::{TicketFilter, TicketPage};

/// What a test does around the store's calls; a hook it leaves out does nothing.
#[async_trait]
pub(crate) trait StoreHooks: Send + Sync {
    async fn before_ticket(&self) {}
    async fn before_commit(&self) {}
    async fn before_list(&self, _store: &MemoryStore) -> Result<(), StoreError> {
        Ok(())
    }
    async fn after_due_tickets(&self, _due: &[Ticket]) -> Result<(), StoreError> {
        Ok(())
    }
}

pub(crate) struct HookedStore<H> {
    pub inner: Arc<MemoryStore>,
    pub hooks: H,
}

impl<H> HookedStore<H> {
    pub fn new(inner: Arc<MemoryStore>, hooks: H) -> Arc<Self> {
        Arc::new(Self { inner, hooks })
    }
}

#[async_trait]
impl<H: StoreHooks> TicketStore for HookedStore<H> {
    async fn allocate_numbers(&self, count: u64) -> Result<TicketNumber, StoreError> {
        self.inner.allocate_numbers(count).await
    }
    async fn ticket(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError> {
        self.hooks.before_ticket().await;
        self.inner.ticket(number).await
    }
    async fn messages(&self, number: TicketNumber) -> Result<Vec<Message>, StoreError> {
        self.inner.messages(number).await
    }
    async fn events(&self, number: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        self.inner.events(number).await
    }
    async fn thread_ticket(&self, key: &ThreadKey) -> Result<Option<TicketNumber>, StoreError> {
        self.inner.thread_ticket(key).await
    }
    async fn commit(&self, commit: TicketCommit) -> Result<(), StoreError> {
        self.hooks.before_commit().await;
        self.inner.commit(commit).await
    }
    async fn claim_thread(&self, claim: &ThreadClaim) -> Result<(), StoreError> {
        self.inner.claim_thread(claim).await
    }
    async fn list(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, StoreError> {
        self.hooks.before_list(&self.inner).await?;
        self.inner.list(filter, limit, cursor).await
    }
    async fn assigned_load(&self, agent: &str) -> Result<u32, StoreError> {
        self.inner.assigned_load(agent).await
    }
    async fn rewrite_messages(&self, number: TicketNumber, messages: &[Message]) -> Result<(), StoreError> {
        self.inner.rewrite_messages(number, messages).await
    }
    async fn rewrite_events(&self, number: TicketNumber, events: &[TicketEvent]) -> Result<(), StoreError> {
        self.inner.rewrite_events(number, events).await
    }
    async fn due_tickets(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        let due = self.inner.due_tickets(bucket, up_to, limit).await?;
        self.hooks.after_due_tickets(&due).await?;
        Ok(due)
    }
}
