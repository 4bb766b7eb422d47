//! omnidesk-local: every function in one process, on 127.0.0.1, with in-memory adapters or
//! the real AWS adapters against an endpoint. The HTTP routes are the very routers the Lambda
//! functions serve; the queues are drained by pollers that call the very handlers Lambda
//! calls.

pub mod backend;
mod callbacks;
mod debug_routes;
pub mod poller;
pub mod provision;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use omnidesk_app::chat_callback::ChatCallbackNotifier;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::outbound_dispatcher::DispatcherHandler;
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::ports::{Clock, OutboundNotifier, QueueError};
use omnidesk_domain::router::RouterPorts;
use omnidesk_domain::system::RandomIds;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use backend::DeskPorts;
pub use callbacks::{CallbackLog, ReceivedCallback};

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Provision(#[from] provision::ProvisionError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The desk's ports and handlers, shared by the HTTP server and the pollers.
pub struct LocalDesk {
    pub config: DeskConfig,
    pub clock: Arc<dyn Clock>,
    pub ports: DeskPorts,
    pub callbacks: Arc<CallbackLog>,
    router: RouterHandler,
    dispatcher: DispatcherHandler,
}

impl LocalDesk {
    /// A desk on `ports` that sends chat callbacks over HTTP, as in production.
    pub fn new(config: DeskConfig, clock: Arc<dyn Clock>, ports: DeskPorts) -> Result<Self, LocalError> {
        let notifier = ChatCallbackNotifier::new(config.inboxes(), clock.clone(), config.delivery.clone())
            .map_err(|e| LocalError::Http(e.to_string()))?;
        Ok(Self::with_notifier(config, clock, ports, Arc::new(notifier)))
    }

    /// A desk with another notifier (benchmarks use an in-memory one).
    pub fn with_notifier(
        config: DeskConfig,
        clock: Arc<dyn Clock>,
        ports: DeskPorts,
        notifier: Arc<dyn OutboundNotifier>,
    ) -> Self {
        let router = RouterHandler::new(
            &config,
            RouterPorts {
                tickets: ports.tickets.clone(),
                customers: ports.customers.clone(),
                idempotency: ports.idempotency.clone(),
                outbound: ports.outbound.clone(),
                limiter: ports.limiter.clone(),
                clock: clock.clone(),
                ids: Arc::new(RandomIds),
            },
        );
        let dispatcher_ports = DispatcherPorts {
            idempotency: ports.idempotency.clone(),
            notifier,
            clock: clock.clone(),
            ids: Arc::new(RandomIds),
        };
        // Local queues may redeliver sooner than Lambda's (tests use short timeouts).
        let lease = Duration::from_millis(config.local.visibility_timeout_ms);
        let dispatcher = DispatcherHandler::with_lease(dispatcher_ports, lease);
        let callbacks = Arc::new(CallbackLog::new(config.inboxes(), clock.clone()));
        Self { config, clock, ports, callbacks, router, dispatcher }
    }

    /// Every HTTP route: the functions' routers plus the local-only `/local/...` helpers.
    pub fn http_router(self: &Arc<Self>) -> Router {
        let webhook = ChatWebhook {
            inboxes: self.config.inboxes(),
            inbound: self.ports.inbound.clone(),
            clock: self.clock.clone(),
        };
        Router::new()
            .merge(debug_routes::router(self.clone()))
            .merge(callbacks::router(self.callbacks.clone()))
            .merge(chat_webhook::router(webhook))
    }

    /// One poll of the inbound queue through the router handler.
    pub async fn poll_inbound(&self) -> Result<usize, QueueError> {
        poller::poll_once(&self.ports.inbound, "inbound", |event| self.router.handle(event)).await
    }

    /// One poll of the outbound queue through the dispatcher handler.
    pub async fn poll_outbound(&self) -> Result<usize, QueueError> {
        poller::poll_once(&self.ports.outbound, "outbound", |event| self.dispatcher.handle(event)).await
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
