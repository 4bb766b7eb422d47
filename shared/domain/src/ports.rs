//! The ports: what the workflows need from the outside world. Each has an in-memory twin in
//! [`crate::memory`] and an AWS adapter in `shared/aws`, with the same semantics.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::assignment::{Agent, Presence};
use crate::model::{Customer, CustomerId, Identity, Message, Ticket, TicketEvent, TicketNumber};
use crate::outbound::OutboundJob;
use crate::query::{TicketFilter, TicketPage};

/// Failures of a store. Conflict and Unavailable are worth retrying; Corrupt is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: someone else changed the record first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Throttled, timed out or a server error: try again later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored record cannot be read back: needs a human.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The request itself is wrong (an unindexed filter, a foreign cursor): do not retry.
    #[error("invalid request: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("message of {0} bytes is over the queue's limit")]
    TooLarge(usize),
}

/// A delivery to the customer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The receiver may accept it later (timeout, 5xx, 429).
    #[error("delivery failed, retryable: {0}")]
    Retryable(String),
    /// The receiver refused it (4xx) or the destination is unknown.
    #[error("delivery refused: {0}")]
    Permanent(String),
    /// A platform refused this message for good and said why (its reply window closed, the
    /// user's quota is spent, the topic is closed): the reason goes on the ticket for the
    /// agent, nothing is retried or dead-lettered.
    #[error("the platform refused it: {0}")]
    Refused(String),
}

/// The current instant. Every workflow takes time from here, so tests control it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Fresh random tokens for ids; injectable so tests are deterministic.
pub trait IdSource: Send + Sync {
    fn token(&self) -> String;
}

/// A key under which a conversation or mail thread points at its ticket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThreadKey(pub String);

impl ThreadKey {
    pub fn chat(inbox: &str, conversation_id: &str) -> Self {
        Self(format!("chat:{inbox}:{conversation_id}"))
    }

    /// An email's `Message-ID` (without angle brackets): replies name it in In-Reply-To or
    /// References. Message-IDs are case-sensitive on the left of the `@` only in theory;
    /// clients keep them verbatim, so they are compared as they are.
    pub fn email_message(message_id: &str) -> Self {
        Self(format!("email:id:{message_id}"))
    }

    /// A Message-ID that a ticket's first mail answered but the desk has not seen: mail is
    /// not delivered in order, and the mail it names may still be on its way. When it comes,
    /// it joins that ticket instead of opening another (see `router::threading`).
    pub fn email_awaited(message_id: &str) -> Self {
        Self(format!("email:awaited:{message_id}"))
    }

    /// One phone call (Amazon Connect's contact id): every event of the call finds its ticket.
    pub fn phone_contact(contact_id: &str) -> Self {
        Self(format!("phone:contact:{contact_id}"))
    }

    /// A social conversation (a WeChat or Meta user of an account, a forum topic).
    pub fn social(network: &str, conversation: &str) -> Self {
        Self(format!("social:{network}:{conversation}"))
    }

    /// The token of a ticket's reply address, `support+<token>@domain`.
    pub fn email_token(token: &str) -> Self {
        Self(format!("email:token:{token}"))
    }

    /// The form stores keep the key in: `sha256:<hex>`. A thread key names a Message-ID (which
    /// often holds the sender's domain) or a chat conversation; stored as a digest, a later
    /// message of the thread still finds its ticket, but the table never holds the id itself,
    /// so erasing a customer leaves nothing to rewrite here.
    pub fn digest(&self) -> String {
        key_digest(&self.0)
    }
}

/// `sha256:<hex>` of a key that comes from outside (a Message-ID, a chat id): the form the
/// stores keep thread and idempotency keys in, so the table holds no header a sender wrote.
pub fn key_digest(key: &str) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(key.as_bytes())))
}

/// Points a thread key at a ticket, provided it still points where the writer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadClaim {
    pub key: ThreadKey,
    pub ticket: TicketNumber,
    /// `None`: the key must be unclaimed.
    pub replaces: Option<TicketNumber>,
}

/// A finished piece of work, kept so that a redelivery returns this instead of acting again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub key: String,
    pub result: serde_json::Value,
    pub expires_at: Timestamp,
}

/// Everything one workflow step changes on a ticket, written all-or-nothing (one
/// TransactWriteItems on DynamoDB). Fails with `Conflict` if the ticket is not at
/// `expected_version`, a thread claim is stale, or the idempotency key is already taken.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketCommit {
    pub ticket: Ticket,
    /// `None`: the ticket must not exist yet.
    pub expected_version: Option<u64>,
    pub messages: Vec<Message>,
    pub events: Vec<TicketEvent>,
    pub thread_claims: Vec<ThreadClaim>,
    pub idempotency: Option<IdempotencyRecord>,
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// The next number from the atomic counter. Numbers lost to failed commits leave gaps.
    async fn allocate_number(&self) -> Result<TicketNumber, StoreError> {
        self.allocate_numbers(1).await
    }
    /// Takes `count` consecutive numbers from the atomic counter in one step and returns the
    /// last; the block is the caller's alone (see [`crate::ticket_numbers`]).
    async fn allocate_numbers(&self, count: u64) -> Result<TicketNumber, StoreError>;
    async fn ticket(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError>;
    /// The thread, oldest first.
    async fn messages(&self, number: TicketNumber) -> Result<Vec<Message>, StoreError>;
    /// The audit trail, by `seq`.
    async fn events(&self, number: TicketNumber) -> Result<Vec<TicketEvent>, StoreError>;
    async fn thread_ticket(&self, key: &ThreadKey) -> Result<Option<TicketNumber>, StoreError>;
    async fn commit(&self, commit: TicketCommit) -> Result<(), StoreError>;
    /// One thread claim on its own, outside a commit (e.g. the Message-ID a mail provider
    /// gave a mail after it was sent). `Ok` if the key already points at the claim's ticket.
    async fn claim_thread(&self, claim: &ThreadClaim) -> Result<(), StoreError>;
    /// One page of the tickets `filter` selects, newest first, read from an
    /// index ([`TicketFilter::index`]); `Invalid` for an unindexed filter or a bad cursor.
    async fn list(
        &self,
        filter: &TicketFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<TicketPage, StoreError>;
    /// How many unfinished tickets (new, open, pending, on hold) `agent` holds: their load.
    async fn assigned_load(&self, agent: &str) -> Result<u32, StoreError>;
    /// Replaces stored messages of a ticket with new contents under the same id and time
    /// (erasure); messages that do not exist are not created.
    async fn rewrite_messages(&self, number: TicketNumber, messages: &[Message]) -> Result<(), StoreError>;
    /// Replaces stored events of a ticket with new contents under the same `seq` (erasure of
    /// the text agents typed into tags and categories); events that do not exist are not
    /// created.
    async fn rewrite_events(&self, number: TicketNumber, events: &[TicketEvent]) -> Result<(), StoreError>;
    /// The due index (SLA sweeper): up to `limit` tickets whose `due_at` lies in the minute
    /// starting at `bucket` and is at or before `up_to`, earliest first. Only tickets with a
    /// `due_at` are indexed. On DynamoDB this reads a sparse GSI, so a ticket may show as it
    /// was moments ago: act on it with a version-conditioned commit.
    async fn due_tickets(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError>;
}

/// How far a sweeper has finished for good: the start of the last time bucket it closed.
#[async_trait]
pub trait Watermarks: Send + Sync {
    async fn watermark(&self, name: &str) -> Result<Option<Timestamp>, StoreError>;
    /// Moves `name` from `from` (`None`: never set) to `to`; `Conflict` if another sweeper
    /// moved it first.
    async fn advance_watermark(
        &self,
        name: &str,
        from: Option<Timestamp>,
        to: Timestamp,
    ) -> Result<(), StoreError>;
}

/// How long an erased identity's digest is kept: longer than anything received before the
/// erasure can wait to be routed (a dead-letter queue keeps a message 14 days, a forum question
/// waits at most 30).
pub const ERASED_IDENTITY_KEPT: Duration = Duration::from_secs(45 * 24 * 3600);

#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError>;
    async fn customer_by_identity(&self, identity: &Identity) -> Result<Option<CustomerId>, StoreError>;
    /// Creates the customer and claims all its identities at once; `Conflict` if any
    /// identity is already claimed.
    async fn create(&self, customer: &Customer) -> Result<(), StoreError>;
    /// Claims one more identity for an existing customer. `Ok` if it already has it;
    /// `Conflict` if another customer has.
    async fn claim_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Replaces the customer's record if it is still at `expected_version` (the new record
    /// carries the next version); `Conflict` otherwise. Identities change only through
    /// `create` and `claim_identity`, which keep their claims in step.
    async fn update(&self, customer: &Customer, expected_version: u64) -> Result<(), StoreError>;
    /// Moves the claim on `identity` from `from` to `to` (merging customers); `Ok` if `to`
    /// already has it, `Conflict` if a third customer does. The customer records themselves
    /// change through `update`.
    async fn move_identity(
        &self,
        identity: &Identity,
        from: &CustomerId,
        to: &CustomerId,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Erasure: gives up `id`'s claim on `identity` (`Ok` if it holds none) and remembers, by
    /// the identity's digest only, that it was erased at `erased_at`, for
    /// [`ERASED_IDENTITY_KEPT`]: a message from it received before then that arrives later
    /// (from a queue, a dead-letter redrive, a forum question that waited) is dropped rather
    /// than making the person again.
    async fn release_identity(
        &self,
        id: &CustomerId,
        identity: &Identity,
        erased_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// When `identity` was last erased, while that is remembered (a digest kept longer never
    /// drops a message received after the erasure).
    async fn erased_identity(&self, identity: &Identity) -> Result<Option<Timestamp>, StoreError>;
    /// Appends to the customer's privacy audit trail (exports, erasures, merges).
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The customer's audit trail, oldest first.
    async fn audit_trail(&self, id: &CustomerId) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Who did what to a customer's data, and when. Holds no personal data itself, so it
/// survives erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub customer: CustomerId,
    pub at: Timestamp,
    /// The signed-in user.
    pub actor: String,
    /// `export`, `erase`, `merge`.
    pub action: String,
    /// e.g. the customer merged into.
    #[serde(default)]
    pub detail: Option<String>,
}

/// Agents as the desk sees them: each profile (teams, skills, languages, capacity) from the
/// config joined with what changes at run time. Few and small: all of them are read at once.
/// [`crate::roster::Roster`] is the one implementation; only the activity is stored.
#[async_trait]
pub trait AgentStore: Send + Sync {
    async fn agents(&self) -> Result<Vec<Agent>, StoreError>;
    async fn agent(&self, id: &str) -> Result<Option<Agent>, StoreError>;
    /// Fails with a conflict for an agent the config does not know.
    async fn set_presence(&self, id: &str, presence: Presence) -> Result<(), StoreError>;
    /// Records that the agent got a ticket at `at` (ties on load go to the longest idle).
    async fn touch_assigned(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
}

/// What changes about an agent at run time. An agent with nothing stored is offline and was
/// never assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentActivity {
    #[serde(default = "offline")]
    pub presence: Presence,
    #[serde(default)]
    pub last_assigned_at: Option<Timestamp>,
}

impl Default for AgentActivity {
    fn default() -> Self {
        Self { presence: offline(), last_assigned_at: None }
    }
}

fn offline() -> Presence {
    Presence::Offline
}

/// The stored side of the agents: presence and last assignment per agent id, written only
/// when they change (never at start), so profiles stay in the config alone.
#[async_trait]
pub trait AgentActivityStore: Send + Sync {
    /// Every agent with something stored, by id.
    async fn activities(&self) -> Result<BTreeMap<String, AgentActivity>, StoreError>;
    async fn activity(&self, id: &str) -> Result<Option<AgentActivity>, StoreError>;
    /// Sets the presence, creating the record if needed.
    async fn set_presence(&self, id: &str, presence: Presence) -> Result<(), StoreError>;
    /// Sets the last assignment, creating the record if needed.
    async fn touch_assigned(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
}

/// Counts events per key in a sliding window: the per-sender cap on automatic mail.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes one of `limit` slots that `key` has in the `window` ending at `now` for
    /// `holder`: `true` if one was free (and is now taken), `false` if all are taken. A
    /// holder that already has a slot in the window gets `true` again without taking a
    /// second, so a redelivered message asking again costs nothing.
    async fn try_acquire(
        &self,
        key: &str,
        holder: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Counts one request for `key` in the fixed window of length `window` that holds `now`
    /// (windows start at multiples of `window` since the epoch): `true` while at most `limit`
    /// requests were counted in it, `false` once over. One atomic increment and no read, so a
    /// busy public route can afford it on every request; unlike [`Self::try_acquire`] a repeat
    /// counts again, which suits a rate limit (a refused request was not accepted).
    async fn count_request(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.count_requests(key, 1, limit, window, now).await
    }

    /// Counts `count` requests for `key` at once, as [`Self::count_request`] counts one: all
    /// of them if the window's count stays within `limit`, else none (`false`). What
    /// [`crate::request_blocks::RequestBlocks`] reserves a block of a shared budget with.
    async fn count_requests(
        &self,
        key: &str,
        count: u32,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// The start of the fixed window of length `window` that holds `now`, in seconds since the
/// epoch; windows shorter than a second count as one second.
pub fn window_start(now: Timestamp, window: Duration) -> i64 {
    let length = i64::try_from(window.as_secs().max(1)).unwrap_or(i64::MAX);
    now.as_second().div_euclid(length) * length
}

/// The state of an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// This caller now holds the key until the lease ends.
    Started,
    /// Another caller holds an unexpired lease.
    InFlight,
    /// Done before; here is what it produced.
    Done(serde_json::Value),
}

/// Stores keep each key as its [`key_digest`]: an inbound message's key holds its Message-ID,
/// which must not outlive an erasure in the table.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The finished result under `key`, if any.
    async fn result(&self, key: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError>;
    /// Takes the key for `lease` unless it is done or leased to someone else (a conditional
    /// put: absent, lease expired, or already leased to `owner`). `owner` identifies one
    /// logical attempt, so a transport-level retry of a put that did land finds its own lease
    /// instead of reporting `InFlight`.
    async fn begin(
        &self,
        key: &str,
        owner: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Idempotency, StoreError>;
    /// Marks the key done with its result, kept until `expires_at`.
    async fn complete(&self, record: IdempotencyRecord) -> Result<(), StoreError>;
    /// Gives a lease back after a failure, so a retry need not wait for it to run out.
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}

/// A message to put on a queue, with the attributes consumers route on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub body: String,
    /// e.g. `inbound_message`, `outbound_job`.
    pub kind: String,
    pub version: u32,
}

/// A message as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub kind: String,
    pub version: u32,
    /// 1 on the first delivery.
    pub receive_count: u32,
    pub sent_at: Timestamp,
}

/// How many messages a queue holds (SQS's approximate counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Waiting to be received.
    pub visible: usize,
    /// Received and not yet deleted.
    pub in_flight: usize,
}

impl QueueDepth {
    pub fn total(&self) -> usize {
        self.visible + self.in_flight
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Returns the queue's id for the message.
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError>;
    async fn send_batch(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        for message in messages {
            self.send(message).await?;
        }
        Ok(())
    }
    /// Up to `max` visible messages, each hidden for the visibility timeout. Messages received
    /// more than the queue's max receive count go to its dead-letter queue instead.
    async fn receive(&self, max: usize) -> Result<Vec<Received>, QueueError>;
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError>;
    /// Deletes several received messages; SQS does up to ten in one request, as Lambda's
    /// event source mapping does after a batch.
    async fn delete_batch(&self, receipt_handles: &[String]) -> Result<(), QueueError> {
        for handle in receipt_handles {
            self.delete(handle).await?;
        }
        Ok(())
    }
    /// For operators and tests: alarms watch the same numbers on the dead-letter queues.
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
}

/// Delivers an outbound job on its channel (chat callback, email, phone task).
#[async_trait]
pub trait OutboundNotifier: Send + Sync {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError>;
}

/// A mail ready to send: the complete RFC 5322 message, and the envelope addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The provider refused this mail (unverified sender, suppressed or malformed address):
    /// retrying will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
    /// Throttled, timed out or a server error: try again later.
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
}

/// Sends mail (SESv2 `SendEmail` with raw content on AWS).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Returns the provider's message id.
    async fn send_raw(&self, mail: &OutgoingMail) -> Result<String, MailError>;
    /// The Message-ID recipients see on a mail sent as `provider_id` that was composed with
    /// `composed` (both without angle brackets). Most mailers keep the header; SES replaces it.
    fn delivered_message_id(&self, provider_id: &str, composed: &str) -> String {
        let _ = provider_id;
        composed.to_owned()
    }
}

/// Large immutable objects: raw mail, attachments, exports (S3 on AWS).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Writes (or overwrites) the object at `key`.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Deleting a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// A link that lets whoever holds it read the object at `key` for `ttl` from `now`, without
    /// signing in (a customer's data export). S3: a presigned GET; the memory twin: a local
    /// desk URL signed with the store's own key.
    async fn presigned_get(&self, key: &str, now: Timestamp, ttl: Duration) -> Result<String, StoreError>;
}
