use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::assignment::Presence;
use crate::log_id::Hashed;
use crate::model::{Customer, CustomerId, Identity, Message, Ticket, TicketEvent, TicketNumber};
use crate::ports::{
    AgentActivity, AgentActivityStore, AuditEntry, CustomerStore, Idempotency, IdempotencyRecord,
    IdempotencyStore, StoreError, ThreadClaim, ThreadKey, TicketCommit, TicketStore, Watermarks, key_digest,
};
use crate::query::{QueryError, TicketFilter, TicketPage};
use crate::sla::sweeper::bucket_of;
use crate::system::later;

use super::heat::{self, HeatBook};

/// The single DynamoDB table in memory: tickets with their messages and events, thread keys,
/// customers with identity claims, idempotency records. One lock makes each commit atomic,
/// as TransactWriteItems is.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Where the partitions the table would use are booked, if a simulation attached one.
    heat: HeatBook,
}

#[derive(Default)]
struct State {
    counter: u64,
    tickets: BTreeMap<TicketNumber, Ticket>,
    messages: BTreeMap<TicketNumber, Vec<Message>>,
    events: BTreeMap<TicketNumber, Vec<TicketEvent>>,
    /// By [`ThreadKey::digest`], as the table keeps them.
    threads: HashMap<String, TicketNumber>,
    customers: HashMap<CustomerId, Customer>,
    claims: HashMap<String, CustomerId>,
    /// Erased identities by digest, with when (see `CustomerStore::release_identity`).
    erased_identities: HashMap<String, Timestamp>,
    /// By [`key_digest`], as the table keeps them.
    idempotency: HashMap<String, IdempotencyEntry>,
    audit: BTreeMap<CustomerId, Vec<AuditEntry>>,
    /// Presence and last assignment by agent id; profiles come from the config.
    agents: BTreeMap<String, AgentActivity>,
    /// The sparse due index, as the `timers` GSI: (minute bucket, due_at, ticket) for every
    /// ticket with a `due_at`, kept in step with the ticket on each commit.
    due: BTreeSet<(Timestamp, Timestamp, TicketNumber)>,
    /// Tickets by assignee, as the `by_assignee` index: a load count reads one agent's, not
    /// every ticket (a peak-season simulation holds hundreds of thousands).
    assigned: HashMap<String, BTreeSet<TicketNumber>>,
    watermarks: HashMap<String, Timestamp>,
}

#[derive(Debug, Clone)]
enum IdempotencyEntry {
    Leased { until: Timestamp, owner: String },
    Done { result: serde_json::Value, expires_at: Timestamp },
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Books on `heat` what each operation would read and write on the table, partition by
    /// partition (see [`crate::heat`]).
    pub fn record_heat(&self, heat: std::sync::Arc<crate::heat::PartitionHeat>) {
        self.heat.attach(heat);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every ticket, by number. For tests and the local desk's debug view; the AWS store has
    /// no such call because nothing on a request path may scan.
    pub fn all_tickets(&self) -> Vec<Ticket> {
        self.lock().tickets.values().cloned().collect()
    }

    /// Everything stored, as text: what a test searches to prove personal data is gone.
    pub fn dump(&self) -> String {
        let state = self.lock();
        let idempotency: Vec<String> = state
            .idempotency
            .iter()
            .map(|(key, entry)| match entry {
                IdempotencyEntry::Done { result, .. } => format!("{key} {result}"),
                IdempotencyEntry::Leased { owner, .. } => format!("{key} leased by {owner}"),
            })
            .collect();
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{idempotency:?}",
            state.tickets,
            state.messages,
            state.events,
            state.threads,
            state.customers,
            state.claims,
            state.audit,
            state.agents
        )
    }

    /// Every event of every ticket: the analytics event log of the local desk, which reads
    /// hours of it (the AWS store reads its sparse hour index instead).
    pub fn all_events(&self) -> Vec<TicketEvent> {
        self.lock().events.values().flatten().cloned().collect()
    }

    /// Every customer, for tests.
    pub fn all_customers(&self) -> Vec<Customer> {
        let mut customers: Vec<_> = self.lock().customers.values().cloned().collect();
        customers.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        customers
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn allocate_numbers(&self, count: u64) -> Result<TicketNumber, StoreError> {
        let mut state = self.lock();
        state.counter += count.max(1);
        self.heat.write(heat::COUNTER_PK, 0);
        Ok(TicketNumber(state.counter))
    }

    async fn ticket(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError> {
        let ticket = self.lock().tickets.get(&number).cloned();
        if self.heat.on().is_some() {
            self.heat.read(&heat::ticket_pk(number), ticket.as_ref().map_or(0, heat::size_of));
        }
        Ok(ticket)
    }

    async fn messages(&self, number: TicketNumber) -> Result<Vec<Message>, StoreError> {
        let mut messages = self.lock().messages.get(&number).cloned().unwrap_or_default();
        if self.heat.on().is_some() {
            self.heat.read(&heat::ticket_pk(number), heat::size_of(&messages));
        }
        // The order of the table's sort key (time, then id), not the order of the commits:
        // a message routed late still takes its place by when it was sent.
        messages.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(messages)
    }

    async fn events(&self, number: TicketNumber) -> Result<Vec<TicketEvent>, StoreError> {
        Ok(self.lock().events.get(&number).cloned().unwrap_or_default())
    }

    async fn thread_ticket(&self, key: &ThreadKey) -> Result<Option<TicketNumber>, StoreError> {
        self.heat.read(&format!("THREAD#{}", key.digest()), 0);
        Ok(self.lock().threads.get(&key.digest()).copied())
    }

    async fn claim_thread(&self, claim: &ThreadClaim) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = claim.key.digest();
        self.heat.write(&format!("THREAD#{key}"), 0);
        match (state.threads.get(&key).copied(), claim.replaces) {
            (Some(current), _) if current == claim.ticket => Ok(()),
            (None, None) => {
                state.threads.insert(key, claim.ticket);
                Ok(())
            }
            (Some(current), Some(old)) if current == old => {
                state.threads.insert(key, claim.ticket);
                Ok(())
            }
            _ => Err(StoreError::Conflict(format!("thread {key} points elsewhere"))),
        }
    }

    async fn list(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, StoreError> {
        let index = filter.index().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let after = cursor.map(parse_cursor).transpose()?;
        let state = self.lock();
        let mut selected: Vec<&Ticket> = state
            .tickets
            .values()
            .filter(|t| filter.matches(t))
            .filter(|t| after.as_ref().is_none_or(|after| list_position(t) < *after))
            .collect();
        // Newest first, as the indexes' sort keys read backwards.
        selected.sort_by_key(|t| std::cmp::Reverse(list_position(t)));
        let more = selected.len() > limit;
        selected.truncate(limit);
        let cursor = if more { selected.last().map(|t| format_cursor(&list_position(t))) } else { None };
        if self.heat.on().is_some() {
            // Every shard is read for a page's worth of entries, then the page's tickets.
            let (index, keys) = heat::list_keys(&index);
            self.heat.index_read(index, &keys, limit);
            for ticket in &selected {
                self.heat.read(&heat::ticket_pk(ticket.number), heat::size_of(*ticket));
            }
        }
        Ok(TicketPage { tickets: selected.into_iter().cloned().collect(), cursor })
    }

    async fn assigned_load(&self, agent: &str) -> Result<u32, StoreError> {
        self.heat.index_read(crate::partitions::index::BY_ASSIGNEE, &[agent.to_owned()], 1);
        let state = self.lock();
        let load = state
            .assigned
            .get(agent)
            .into_iter()
            .flatten()
            .filter_map(|number| state.tickets.get(number))
            .filter(|t| t.assignee.as_deref() == Some(agent) && t.status.is_unfinished())
            .count();
        Ok(u32::try_from(load).unwrap_or(u32::MAX))
    }

    async fn rewrite_messages(&self, number: TicketNumber, messages: &[Message]) -> Result<(), StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.messages.get_mut(&number) else {
            return Ok(());
        };
        for message in messages {
            if let Some(slot) = stored.iter_mut().find(|m| m.id == message.id) {
                *slot = message.clone();
            }
        }
        Ok(())
    }

    async fn rewrite_events(&self, number: TicketNumber, events: &[TicketEvent]) -> Result<(), StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.events.get_mut(&number) else {
            return Ok(());
        };
        for event in events {
            if let Some(slot) = stored.iter_mut().find(|e| e.seq == event.seq) {
                *slot = event.clone();
            }
        }
        Ok(())
    }

    async fn due_tickets(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        let state = self.lock();
        let bucket = bucket_of(bucket);
        let from = (bucket, Timestamp::MIN, TicketNumber(0));
        let to = (bucket, up_to, TicketNumber(u64::MAX));
        let due: Vec<Ticket> = state
            .due
            .range(from..=to)
            .take(limit)
            .filter_map(|(_, _, number)| state.tickets.get(number).cloned())
            .collect();
        if self.heat.on().is_some() {
            // The sub-buckets are read in parallel, each for its share of the due entries.
            let keys = heat::timer_keys(bucket);
            self.heat.index_read(crate::partitions::index::TIMERS, &keys, due.len().div_ceil(keys.len()));
            for ticket in &due {
                self.heat.read(&heat::ticket_pk(ticket.number), heat::size_of(ticket));
            }
        }
        Ok(due)
    }

    async fn commit(&self, commit: TicketCommit) -> Result<(), StoreError> {
        let mut state = self.lock();
        let number = commit.ticket.number;
        // Check every condition before touching anything: all or nothing.
        let current = state.tickets.get(&number).map(|t| t.version);
        if current != commit.expected_version {
            return Err(StoreError::Conflict(format!(
                "ticket {number} is at version {current:?}, expected {:?}",
                commit.expected_version
            )));
        }
        for claim in &commit.thread_claims {
            let key = claim.key.digest();
            let holder = state.threads.get(&key).copied();
            if holder != claim.replaces {
                return Err(StoreError::Conflict(format!("thread {key} points at {holder:?}")));
            }
        }
        if let Some(record) = &commit.idempotency
            && matches!(state.idempotency.get(&key_digest(&record.key)), Some(IdempotencyEntry::Done { .. }))
        {
            return Err(StoreError::Conflict(format!("{} is already done", Hashed(&record.key))));
        }

        self.heat.commit(state.tickets.get(&number), &commit);
        if let Some(old) = state.tickets.get(&number).and_then(|t| t.due_at) {
            state.due.remove(&(bucket_of(old), old, number));
        }
        if let Some(due) = commit.ticket.due_at {
            state.due.insert((bucket_of(due), due, number));
        }
        if let Some(old) = state.tickets.get(&number).and_then(|t| t.assignee.clone())
            && let Some(held) = state.assigned.get_mut(&old)
        {
            held.remove(&number);
        }
        if let Some(agent) = &commit.ticket.assignee {
            state.assigned.entry(agent.clone()).or_default().insert(number);
        }
        state.tickets.insert(number, commit.ticket);
        state.messages.entry(number).or_default().extend(commit.messages);
        state.events.entry(number).or_default().extend(commit.events);
        for claim in commit.thread_claims {
            state.threads.insert(claim.key.digest(), claim.ticket);
        }
        if let Some(record) = commit.idempotency {
            let entry = IdempotencyEntry::Done { result: record.result, expires_at: record.expires_at };
            state.idempotency.insert(key_digest(&record.key), entry);
        }
        Ok(())
    }
}

/// A ticket's place in a list: when it opened, then number.
fn list_position(ticket: &Ticket) -> (Timestamp, u64) {
    (ticket.created_at, ticket.number.0)
}

fn format_cursor((at, number): &(Timestamp, u64)) -> String {
    format!("{}_{number}", at.as_nanosecond())
}

fn parse_cursor(cursor: &str) -> Result<(Timestamp, u64), StoreError> {
    let bad = || StoreError::Invalid(QueryError::BadCursor.to_string());
    let (nanos, number) = cursor.split_once('_').ok_or_else(bad)?;
    let nanos: i128 = nanos.parse().map_err(|_| bad())?;
    let at = Timestamp::from_nanosecond(nanos).map_err(|_| bad())?;
    Ok((at, number.parse().map_err(|_| bad())?))
}

#[async_trait]
impl Watermarks for MemoryStore {
    async fn watermark(&self, name: &str) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.lock().watermarks.get(name).copied())
    }

    async fn advance_watermark(
        &self,
        name: &str,
        from: Option<Timestamp>,
        to: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let current = state.watermarks.get(name).copied();
        if current != from {
            return Err(StoreError::Conflict(format!("watermark {name} is at {current:?}, not {from:?}")));
        }
        state.watermarks.insert(name.to_owned(), to);
        Ok(())
    }
}

#[async_trait]
impl CustomerStore for MemoryStore {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let customer = self.lock().customers.get(id).cloned();
        if self.heat.on().is_some() {
            self.heat.read(&format!("C#{id}"), customer.as_ref().map_or(0, heat::size_of));
        }
        Ok(customer)
    }

    async fn customer_by_identity(&self, identity: &Identity) -> Result<Option<CustomerId>, StoreError> {
        self.heat.read(&format!("ID#{}", identity.claim_key()), 0);
        Ok(self.lock().claims.get(&identity.claim_key()).cloned())
    }

    async fn create(&self, customer: &Customer) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.customers.contains_key(&customer.id) {
            return Err(StoreError::Conflict(format!("customer {} exists", customer.id)));
        }
        if let Some(taken) = customer.identities.iter().find(|i| state.claims.contains_key(&i.claim_key())) {
            return Err(StoreError::Conflict(format!("identity {} is claimed", taken.claim_key())));
        }
        for identity in &customer.identities {
            state.claims.insert(identity.claim_key(), customer.id.clone());
            self.heat.table(&format!("ID#{}", identity.claim_key()), crate::heat::Access::Write, 2.0);
        }
        if self.heat.on().is_some() {
            let units = 2.0 * heat::write_units(heat::size_of(customer));
            self.heat.table(&format!("C#{}", customer.id), crate::heat::Access::Write, units);
        }
        state.customers.insert(customer.id.clone(), customer.clone());
        Ok(())
    }

    async fn claim_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = identity.claim_key();
        match state.claims.get(&key) {
            Some(holder) if holder == id => return Ok(()),
            Some(_) => return Err(StoreError::Conflict(format!("identity {key} is claimed"))),
            None => {}
        }
        let Some(customer) = state.customers.get_mut(id) else {
            return Err(StoreError::Conflict(format!("customer {id} does not exist")));
        };
        customer.identities.push(identity.clone());
        customer.updated_at = at;
        customer.version += 1;
        state.claims.insert(key, id.clone());
        Ok(())
    }

    async fn update(&self, customer: &Customer, expected_version: u64) -> Result<(), StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.customers.get_mut(&customer.id) else {
            return Err(StoreError::Conflict(format!("customer {} does not exist", customer.id)));
        };
        if stored.version != expected_version {
            return Err(StoreError::Conflict(format!(
                "customer {} is at version {}, not {expected_version}",
                customer.id, stored.version
            )));
        }
        self.heat.write(&format!("C#{}", customer.id), heat::size_of(customer));
        // Identities are the claims' business: keep the stored list.
        let identities = std::mem::take(&mut stored.identities);
        *stored = Customer { identities, ..customer.clone() };
        Ok(())
    }

    async fn move_identity(
        &self,
        identity: &Identity,
        from: &CustomerId,
        to: &CustomerId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = identity.claim_key();
        match state.claims.get(&key) {
            Some(holder) if holder == to => return Ok(()),
            Some(holder) if holder == from => {}
            _ => return Err(StoreError::Conflict(format!("identity {key} is not {from}'s"))),
        }
        if !state.customers.contains_key(to) {
            return Err(StoreError::Conflict(format!("customer {to} does not exist")));
        }
        state.claims.insert(key, to.clone());
        if let Some(source) = state.customers.get_mut(from) {
            source.identities.retain(|i| i != identity);
            source.updated_at = at;
            source.version += 1;
        }
        if let Some(target) = state.customers.get_mut(to) {
            target.identities.push(identity.clone());
            target.updated_at = at;
            target.version += 1;
        }
        Ok(())
    }

    async fn release_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        erased_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = identity.claim_key();
        if state.claims.get(&key) == Some(id) {
            state.claims.remove(&key);
        }
        state.erased_identities.insert(crate::ports::key_digest(&key), erased_at);
        if let Some(customer) = state.customers.get_mut(id) {
            customer.identities.retain(|i| i != identity);
            customer.version += 1;
        }
        Ok(())
    }

    async fn erased_identity(&self, identity: &Identity) -> Result<Option<Timestamp>, StoreError> {
        // Kept for the process's life: a digest kept longer only drops what was received
        // before the erasure, as it should (DynamoDB's TTL removes it after the retention).
        let digest = crate::ports::key_digest(&identity.claim_key());
        Ok(self.lock().erased_identities.get(&digest).copied())
    }

    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.lock().audit.entry(entry.customer.clone()).or_default().push(entry.clone());
        Ok(())
    }

    async fn audit_trail(&self, id: &CustomerId) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.lock().audit.get(id).cloned().unwrap_or_default())
    }
}

#[async_trait]
impl AgentActivityStore for MemoryStore {
    async fn activities(&self) -> Result<BTreeMap<String, AgentActivity>, StoreError> {
        let agents = self.lock().agents.clone();
        self.heat.read(heat::AGENTS_PK, agents.len() * 100);
        Ok(agents)
    }

    async fn activity(&self, id: &str) -> Result<Option<AgentActivity>, StoreError> {
        self.heat.read(heat::AGENTS_PK, 0);
        Ok(self.lock().agents.get(id).copied())
    }

    async fn set_presence(&self, id: &str, presence: Presence) -> Result<(), StoreError> {
        self.heat.write(heat::AGENTS_PK, 0);
        self.lock().agents.entry(id.to_owned()).or_default().presence = presence;
        Ok(())
    }

    async fn touch_assigned(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.heat.write(heat::AGENTS_PK, 0);
        self.lock().agents.entry(id.to_owned()).or_default().last_assigned_at = Some(at);
        Ok(())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn result(&self, key: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        self.heat.read(&format!("IDEM#{}", key_digest(key)), 0);
        Ok(match self.lock().idempotency.get(&key_digest(key)) {
            Some(IdempotencyEntry::Done { result, expires_at }) if *expires_at > now => Some(result.clone()),
            _ => None,
        })
    }

    async fn begin(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Idempotency, StoreError> {
        self.heat.write(&format!("IDEM#{}", key_digest(key)), 0);
        let mut state = self.lock();
        match state.idempotency.get(&key_digest(key)) {
            Some(IdempotencyEntry::Done { result, expires_at }) if *expires_at > now => {
                return Ok(Idempotency::Done(result.clone()));
            }
            Some(IdempotencyEntry::Leased { until, owner: holder }) if *until > now && holder != owner => {
                return Ok(Idempotency::InFlight);
            }
            _ => {}
        }
        let entry = IdempotencyEntry::Leased { until: later(now, lease), owner: owner.to_owned() };
        state.idempotency.insert(key_digest(key), entry);
        Ok(Idempotency::Started)
    }

    async fn complete(&self, record: IdempotencyRecord) -> Result<(), StoreError> {
        self.heat.write(&format!("IDEM#{}", key_digest(&record.key)), heat::size_of(&record.result));
        let entry = IdempotencyEntry::Done { result: record.result, expires_at: record.expires_at };
        self.lock().idempotency.insert(key_digest(&record.key), entry);
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        if matches!(state.idempotency.get(&key_digest(key)), Some(IdempotencyEntry::Leased { .. })) {
            state.idempotency.remove(&key_digest(key));
        }
        Ok(())
    }
}
