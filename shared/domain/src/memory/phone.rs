//! Twins of the phone ports: the caller lookup on the in-memory store, per-contact notes
//! that expire, and a contact center that records the tasks it was asked to start.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use jiff::Timestamp;

use super::MemoryStore;
use crate::model::Identity;
use crate::phone::ports::{
    CallNote, CallNotes, CallerDirectory, CallerProfile, CallerRecord, CallerTicket, ContactCenter,
    TaskRequest,
};
use crate::ports::{CustomerStore, NotifyError, StoreError, TicketStore};
use crate::query::TicketFilter;

#[async_trait]
impl CallerDirectory for MemoryStore {
    async fn caller(&self, identity: &Identity, recent: usize) -> Result<Option<CallerRecord>, StoreError> {
        let Some(id) = self.customer_by_identity(identity).await? else {
            return Ok(None);
        };
        let customer = self.customer(&id).await?.as_ref().map(CallerProfile::from);
        let filter = TicketFilter { requester: Some(id.clone()), ..TicketFilter::default() };
        let tickets = self.list(&filter, recent.max(1), None).await?.tickets;
        let tickets = tickets.iter().map(CallerTicket::from).collect();
        Ok(Some(CallerRecord { customer, customer_id: id, tickets }))
    }
}

/// Notes by contact id, each until its expiry.
#[derive(Default)]
pub struct MemoryCallNotes {
    notes: Mutex<HashMap<String, (CallNote, Timestamp)>>,
}

impl MemoryCallNotes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (CallNote, Timestamp)>> {
        self.notes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl CallNotes for MemoryCallNotes {
    async fn keep(&self, contact_id: &str, note: &CallNote, expires_at: Timestamp) -> Result<(), StoreError> {
        self.lock().insert(contact_id.to_owned(), (note.clone(), expires_at));
        Ok(())
    }

    async fn note(&self, contact_id: &str, now: Timestamp) -> Result<Option<CallNote>, StoreError> {
        Ok(self.lock().get(contact_id).filter(|(_, expires)| now < *expires).map(|(note, _)| note.clone()))
    }
}

/// Records every task, one per client token, as Connect does: a repeated token returns the
/// first task's contact id and starts nothing.
#[derive(Default)]
pub struct MemoryContactCenter {
    tasks: Mutex<Vec<(String, TaskRequest)>>,
}

impl MemoryContactCenter {
    /// The tasks started, oldest first, with their contact ids.
    pub fn tasks(&self) -> Vec<(String, TaskRequest)> {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl ContactCenter for MemoryContactCenter {
    async fn start_task(&self, request: &TaskRequest) -> Result<String, NotifyError> {
        let mut tasks = self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((id, _)) = tasks.iter().find(|(_, t)| t.client_token == request.client_token) {
            return Ok(id.clone());
        }
        let id = format!("task-{:04}", tasks.len() + 1);
        tasks.push((id.clone(), request.clone()));
        Ok(id)
    }
}
