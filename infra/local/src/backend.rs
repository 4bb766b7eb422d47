//! The two backends the local desk runs on: in-memory twins, or the real AWS adapters against
//! an endpoint (moto, or an account). Everything above this module sees only the ports.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use omnidesk_app::config::DeskConfig;
use omnidesk_aws::{Clients, DynamoArticles};
use omnidesk_domain::analytics::EventLog;
use omnidesk_domain::canned::{CannedStore, MemoryCannedStore};
use omnidesk_domain::faults::{FaultPlan, Faulty};
use omnidesk_domain::forum_watch::{ForumQuestions, MemoryForumQuestions};
use omnidesk_domain::kb::ArticleStore;
use omnidesk_domain::memory::{
    MemoryArticles, MemoryBlobStore, MemoryCallNotes, MemoryQueue, MemoryRateLimiter, MemoryStore,
    QueueSettings,
};
use omnidesk_domain::phone::ports::{CallNotes, CallerDirectory};
use omnidesk_domain::ports::{
    AgentActivityStore, BlobStore, Clock, CustomerStore, IdempotencyStore, Queue, RateLimiter, TicketStore,
    Watermarks,
};

use crate::provision::{self, ProvisionError, ProvisionOptions, Provisioned};

/// The stores and queues the desk's handlers run on.
#[derive(Clone)]
pub struct DeskPorts {
    pub tickets: Arc<dyn TicketStore>,
    pub customers: Arc<dyn CustomerStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub limiter: Arc<dyn RateLimiter>,
    /// Presence and last assignment; the profiles come from the config (`DeskConfig::roster`).
    pub agents: Arc<dyn AgentActivityStore>,
    /// The SLA sweeper's, survey sender's and analytics rollup's watermarks.
    pub watermarks: Arc<dyn Watermarks>,
    /// The ticket event log by hour, for the analytics export.
    pub event_log: Arc<dyn EventLog>,
    pub inbound: Arc<dyn Queue>,
    pub outbound: Arc<dyn Queue>,
    pub inbound_dead_letter: Arc<dyn Queue>,
    pub outbound_dead_letter: Arc<dyn Queue>,
    /// Raw mail and attachments: in memory, or the template's mail bucket on the endpoint.
    pub blobs: Arc<dyn BlobStore>,
    /// The phone channel's caller lookup and per-contact notes.
    pub callers: Arc<dyn CallerDirectory>,
    pub call_notes: Arc<dyn CallNotes>,
    /// The canned responses supervisors keep.
    pub canned: Arc<dyn CannedStore>,
    /// Knowledge-base articles: in memory, or on the table (large bodies in the blob store).
    pub articles: Arc<dyn ArticleStore>,
    /// Forum questions waiting for a staff answer.
    pub forum_questions: Arc<dyn ForumQuestions>,
    /// Only in memory: the store that can list every ticket for `/local/tickets`.
    pub memory: Option<Arc<MemoryStore>>,
    /// Blobs in memory: their signed links are served at `/local/blobs/{key}`. (On S3 the
    /// links are S3's own presigned URLs.)
    pub memory_blobs: Option<Arc<MemoryBlobStore>>,
}

impl DeskPorts {
    /// In-memory twins; queues behave like SQS with the `[local]` settings.
    pub fn memory(config: &DeskConfig, clock: Arc<dyn Clock>) -> Self {
        let settings = QueueSettings {
            visibility_timeout: Duration::from_millis(config.local.visibility_timeout_ms),
            max_receive_count: config.local.max_receive_count,
        };
        let store = Arc::new(MemoryStore::new());
        let blobs = Arc::new(MemoryBlobStore::default());
        let inbound = Arc::new(MemoryQueue::with_dead_letter("inbound", clock.clone(), settings));
        let outbound = Arc::new(MemoryQueue::with_dead_letter("outbound", clock, settings));
        let dead_letter = |queue: &MemoryQueue| -> Arc<dyn Queue> {
            match queue.dead_letter() {
                Some(dlq) => dlq.clone(),
                None => unreachable!("created with a dead-letter queue"),
            }
        };
        Self {
            tickets: store.clone(),
            customers: store.clone(),
            idempotency: store.clone(),
            limiter: Arc::new(MemoryRateLimiter::default()),
            agents: store.clone(),
            watermarks: store.clone(),
            event_log: store.clone(),
            callers: store.clone(),
            call_notes: Arc::new(MemoryCallNotes::default()),
            canned: Arc::new(MemoryCannedStore::default()),
            inbound_dead_letter: dead_letter(&inbound),
            outbound_dead_letter: dead_letter(&outbound),
            inbound,
            outbound,
            blobs: blobs.clone(),
            articles: Arc::new(MemoryArticles::default()),
            forum_questions: Arc::new(MemoryForumQuestions::default()),
            memory: Some(store),
            memory_blobs: Some(blobs),
        }
    }

    /// The AWS adapters, on resources created from template.yaml under `options.prefix`.
    /// Provisioning goes through plain clients: a meter on `clients` counts only what the
    /// desk itself does.
    pub async fn aws(
        clients: &Clients,
        options: &ProvisionOptions,
    ) -> Result<(Self, Provisioned), ProvisionError> {
        let provisioned = provision::provision(clients.sdk(), provision::TEMPLATE, options).await?;
        let store = Arc::new(clients.store(&provisioned.table));
        let queue = |url: &str| -> Arc<dyn Queue> { Arc::new(clients.queue(url)) };
        let memory_blobs = match &provisioned.blob_bucket {
            Some(_) => None,
            None => Some(Arc::new(MemoryBlobStore::default())),
        };
        let blobs: Arc<dyn BlobStore> = match (&provisioned.blob_bucket, &memory_blobs) {
            (Some(bucket), _) => Arc::new(clients.blobs(bucket)),
            (None, Some(memory)) => memory.clone(),
            (None, None) => Arc::new(MemoryBlobStore::default()),
        };
        let articles: Arc<dyn ArticleStore> =
            Arc::new(DynamoArticles::new((*store).clone(), Some(blobs.clone())));
        let ports = Self {
            articles,
            tickets: store.clone(),
            customers: store.clone(),
            idempotency: store.clone(),
            agents: store.clone(),
            limiter: store.clone(),
            callers: store.clone(),
            call_notes: store.clone(),
            canned: store.clone(),
            event_log: store.clone(),
            forum_questions: store.clone(),
            watermarks: store,
            inbound: queue(&provisioned.inbound_queue_url),
            outbound: queue(&provisioned.outbound_queue_url),
            inbound_dead_letter: queue(&provisioned.inbound_dead_letter_url),
            outbound_dead_letter: queue(&provisioned.outbound_dead_letter_url),
            blobs,
            memory: None,
            memory_blobs,
        };
        Ok((ports, provisioned))
    }

    /// The same ports with `plan`'s faults injected into every store and queue call the
    /// workflows make (inspection through `memory` stays exact). Blobs stay as they are.
    pub fn with_faults(self, plan: Arc<FaultPlan>) -> Self {
        Self {
            tickets: Arc::new(Faulty::new(self.tickets, plan.clone())),
            customers: Arc::new(Faulty::new(self.customers, plan.clone())),
            idempotency: Arc::new(Faulty::new(self.idempotency, plan.clone())),
            limiter: Arc::new(Faulty::new(self.limiter, plan.clone())),
            inbound: Arc::new(Faulty::new(self.inbound, plan.clone())),
            outbound: Arc::new(Faulty::new(self.outbound, plan)),
            ..self
        }
    }
}

/// SDK configuration for an explicit endpoint. moto accepts any credentials and region; when
/// the environment has none, test ones are used so `--aws-endpoint` works out of the box.
pub async fn sdk_for_endpoint(endpoint: &str) -> SdkConfig {
    let mut loader = omnidesk_aws::sdk_config_loader().endpoint_url(endpoint);
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "omnidesk-local",
        ));
    }
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    loader.load().await
}
