//! omnidesk-local: every function in one process, on 127.0.0.1, with in-memory adapters. The
//! HTTP routes are the very routers the Lambda functions serve; the queues are drained by
//! pollers that call the very handlers Lambda calls.

mod callbacks;
mod debug_routes;
pub mod poller;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use omnidesk_app::chat_callback::ChatCallbackNotifier;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::outbound_dispatcher::DispatcherHandler;
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::memory::{MemoryQueue, MemoryStore, QueueSettings};
use omnidesk_domain::ports::{Clock, OutboundNotifier, Queue, QueueError};
use omnidesk_domain::router::RouterPorts;
use omnidesk_domain::system::RandomIds;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use callbacks::{CallbackLog, ReceivedCallback};

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The desk's state and handlers, shared by the HTTP server and the pollers.
pub struct LocalDesk {
    pub config: DeskConfig,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<MemoryStore>,
    pub inbound: Arc<MemoryQueue>,
    pub outbound: Arc<MemoryQueue>,
    pub callbacks: Arc<CallbackLog>,
    router: RouterHandler,
    dispatcher: DispatcherHandler,
}

impl LocalDesk {
    /// A desk that sends chat callbacks over HTTP, as in production.
    pub fn new(config: DeskConfig, clock: Arc<dyn Clock>) -> Result<Self, LocalError> {
        let notifier = ChatCallbackNotifier::new(config.inboxes(), clock.clone(), config.delivery.clone())
            .map_err(|e| LocalError::Http(e.to_string()))?;
        Ok(Self::with_notifier(config, clock, Arc::new(notifier)))
    }

    /// A desk with another notifier (benchmarks use an in-memory one).
    pub fn with_notifier(
        config: DeskConfig,
        clock: Arc<dyn Clock>,
        notifier: Arc<dyn OutboundNotifier>,
    ) -> Self {
        let settings = QueueSettings {
            visibility_timeout: Duration::from_millis(config.local.visibility_timeout_ms),
            max_receive_count: config.local.max_receive_count,
        };
        let store = Arc::new(MemoryStore::new());
        let inbound = Arc::new(MemoryQueue::with_dead_letter("inbound", clock.clone(), settings));
        let outbound = Arc::new(MemoryQueue::with_dead_letter("outbound", clock.clone(), settings));
        let router = RouterHandler::new(
            &config,
            RouterPorts {
                tickets: store.clone(),
                customers: store.clone(),
                idempotency: store.clone(),
                outbound: outbound.clone(),
                clock: clock.clone(),
                ids: Arc::new(RandomIds),
            },
        );
        let dispatcher = DispatcherHandler::new(DispatcherPorts {
            idempotency: store.clone(),
            notifier,
            clock: clock.clone(),
            ids: Arc::new(RandomIds),
        });
        let callbacks = Arc::new(CallbackLog::new(config.inboxes(), clock.clone()));
        Self { config, clock, store, inbound, outbound, callbacks, router, dispatcher }
    }

    /// Every HTTP route: the functions' routers plus the local-only `/local/...` helpers.
    pub fn http_router(self: &Arc<Self>) -> Router {
        let webhook = ChatWebhook {
            inboxes: self.config.inboxes(),
            inbound: self.inbound.clone(),
            clock: self.clock.clone(),
        };
        Router::new()
            .merge(debug_routes::router(self.clone()))
            .merge(callbacks::router(self.callbacks.clone()))
            .merge(chat_webhook::router(webhook))
    }

    /// One poll of the inbound queue through the router handler.
    pub async fn poll_inbound(&self) -> Result<usize, QueueError> {
        let queue: Arc<dyn Queue> = self.inbound.clone();
        poller::poll_once(&queue, "inbound", |event| self.router.handle(event)).await
    }

    /// One poll of the outbound queue through the dispatcher handler.
    pub async fn poll_outbound(&self) -> Result<usize, QueueError> {
        let queue: Arc<dyn Queue> = self.outbound.clone();
        poller::poll_once(&queue, "outbound", |event| self.dispatcher.handle(event)).await
    }

    /// Polls both queues until neither has a visible message.
    pub async fn drain(&self) -> Result<(), QueueError> {
        while self.poll_inbound().await? + self.poll_outbound().await? > 0 {}
        Ok(())
    }

    /// Pollers for both queues, as Lambda's event source mappings would run them.
    pub fn spawn_pollers(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let interval = Duration::from_millis(self.config.local.poll_interval_ms);
        let inbound = self.clone();
        let outbound = self.clone();
        vec![
            tokio::spawn(async move { poll_forever("inbound", interval, || inbound.poll_inbound()).await }),
            tokio::spawn(
                async move { poll_forever("outbound", interval, || outbound.poll_outbound()).await },
            ),
        ]
    }

    /// Serves HTTP on `listener` and drains the queues until `shutdown` completes.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), LocalError> {
        let pollers = self.spawn_pollers();
        let result = axum::serve(listener, self.http_router()).with_graceful_shutdown(shutdown).await;
        for poller in pollers {
            poller.abort();
        }
        Ok(result?)
    }
}

async fn poll_forever<F, Fut>(queue: &str, interval: Duration, mut poll: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, QueueError>>,
{
    loop {
        match poll().await {
            // A full batch suggests more are waiting: poll again at once.
            Ok(n) if n >= poller::BATCH_SIZE => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(queue, %error, "poller.receive_failed"),
        }
        tokio::time::sleep(interval).await;
    }
}
