//! omnidesk-local: every function in one process, on 127.0.0.1, with in-memory adapters or
//! the real AWS adapters against an endpoint. The HTTP routes are the very routers the Lambda
//! functions serve; the queues are drained by pollers that call the very handlers Lambda
//! calls. With an `[email]` section, mail comes in by `POST /local/email` or a watched folder
//! and goes out as `.eml` files in an outbox folder.

pub mod analytics;
pub mod backend;
mod blob_links;
mod callbacks;
pub mod config_push;
mod connect_routes;
pub mod console;
mod debug_routes;
pub mod mail_in;
pub mod outbox;
pub mod poller;
pub mod provision;
pub mod social_fakes;
pub mod surveys;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use omnidesk_app::agent_api::{self, AgentApi, KbApi};
use omnidesk_app::callback_tasks::CallbackNotifier;
use omnidesk_app::chat_callback::ChatCallbackNotifier;
use omnidesk_app::chat_webhook::{self, ChatWebhook};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::email_inbound::EmailInbound;
use omnidesk_app::kb::help_centre::{self, HelpCentre};
use omnidesk_app::kb::seed;
use omnidesk_app::outbound_channels::{ChannelNotifier, MailNotifier};
use omnidesk_app::outbound_dispatcher::DispatcherHandler;
use omnidesk_app::phone_events::PhoneEvents;
use omnidesk_app::shop::Shop;
use omnidesk_app::shop::fake::{FakeShop, example_orders};
use omnidesk_app::shop::return_form::{self, ReturnForm};
use omnidesk_app::shop::webhook::{self as shop_webhook, ShopWebhook};
use omnidesk_app::sla_sweeper::SweeperHandler;
use omnidesk_app::social::send::{self, SocialNotifier, WechatIssuer};
use omnidesk_app::social::token::SharedToken;
use omnidesk_app::social::wechat_user::WechatUsers;
use omnidesk_app::social::{self, SocialWebhook};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_app::webhook::WebhookNotifier;
use omnidesk_domain::canned::CannedResponses;
use omnidesk_domain::desk::{AgentDesk, DeskPorts as AgentDeskPorts};
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::forum_watch::ForumSweep;
use omnidesk_domain::kb::{Catalogue, KbEditor};
use omnidesk_domain::memory::MemoryContactCenter;
use omnidesk_domain::phone::flow::ContactFlow;
use omnidesk_domain::ports::{AgentStore, Clock, IdSource, OutboundNotifier, QueueError};
use omnidesk_domain::request_blocks::RequestBlocks;
use omnidesk_domain::router::RouterPorts;
use omnidesk_domain::sla::{SweepError, SweepReport, SweeperPorts};
use omnidesk_domain::system::RandomIds;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use backend::DeskPorts;
pub use callbacks::{CallbackLog, ReceivedCallback};
pub use mail_in::MailDrop;
pub use outbox::OutboxMailer;

/// Where `scripts/console-build.sh` puts the built console, from the repository root.
pub const DEFAULT_CONSOLE_DIR: &str = "console/dist";

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Provision(#[from] provision::ProvisionError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Where the local desk's mail goes out and comes in. Used only when the config has an
/// `[email]` section; folders are created when first needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFolders {
    /// Every mail the desk sends lands here as an `.eml` file.
    pub outbox: PathBuf,
    /// `.eml` files dropped here are received as mail; `None` watches no folder.
    pub mail_in: Option<PathBuf>,
}

impl Default for MailFolders {
    /// `./local-mail/outbox` and `./local-mail/in`, as `omnidesk-local` uses by default.
    fn default() -> Self {
        Self { outbox: PathBuf::from("local-mail/outbox"), mail_in: Some(PathBuf::from("local-mail/in")) }
    }
}

/// The desk's ports and handlers, shared by the HTTP server and the pollers.
pub struct LocalDesk {
    pub config: DeskConfig,
    pub clock: Arc<dyn Clock>,
    pub ports: DeskPorts,
    pub callbacks: Arc<CallbackLog>,
    /// The email-inbound edge, when the config has `[email]`.
    pub email: Option<Arc<EmailInbound>>,
    pub mail_folders: MailFolders,
    /// The agent API's workflows, on the same ports.
    pub agent_desk: Arc<AgentDesk>,
    /// The phone-events edge (contact flow and contact events).
    pub phone: Arc<PhoneEvents>,
    /// Amazon Connect's twin: the callback tasks the dispatcher started (moto has no
    /// Connect, so this stands in on both backends).
    pub contact_center: Arc<MemoryContactCenter>,
    router: RouterHandler,
    dispatcher: DispatcherHandler,
    /// The SLA sweeper, when the config has `[sla]`.
    sweeper: Option<SweeperHandler>,
    /// The survey pages and sender, when the config has `[survey]`.
    pub surveys: Option<surveys::Surveys>,
    /// The built agent console served at `/console/` (default `console/dist`).
    pub console_dir: PathBuf,
    /// The knowledge base's search and editor, when the config has `[kb]`.
    pub kb: Option<LocalKb>,
    /// The analytics export, when the desk runs with `--export DIR` ([`LocalDesk::export_to`]).
    pub analytics: Option<analytics::Analytics>,
    /// The platforms' stand-ins that social replies go to (with the example config).
    pub social_fakes: Arc<social_fakes::FakePlatforms>,
    /// The shop's orders, with `[shop]`: the router's and the desk's one cached adapter.
    pub shop: Option<Shop>,
    /// The fake shop served at `/local/shop`, with `[local] fake_shop`.
    pub fake_shop: Option<Arc<FakeShop>>,
}

/// The knowledge base of the local desk: one catalogue (the search index) for the bot and the
/// help centre, and the editor behind the agent routes.
pub struct LocalKb {
    pub catalogue: Arc<Catalogue>,
    pub editor: Arc<KbEditor>,
}

/// The example articles seeded at start (published), also what the evaluation set is
/// labelled against.
pub const EXAMPLE_ARTICLES: &str = include_str!("../kb/articles.toml");

impl LocalDesk {
    /// A desk on `ports` that sends chat callbacks over HTTP, as in production, and mail (with
    /// `[email]`) into the default outbox folder.
    pub fn new(config: DeskConfig, clock: Arc<dyn Clock>, ports: DeskPorts) -> Result<Self, LocalError> {
        Self::with_mail_folders(config, clock, ports, MailFolders::default())
    }

    /// [`LocalDesk::new`] with its mail in and out of `folders`.
    pub fn with_mail_folders(
        config: DeskConfig,
        clock: Arc<dyn Clock>,
        ports: DeskPorts,
        folders: MailFolders,
    ) -> Result<Self, LocalError> {
        let chat = ChatCallbackNotifier::new(config.inboxes(), clock.clone(), config.delivery.clone())
            .map_err(|e| LocalError::Http(e.to_string()))?;
        // Without `[email]` an email job is a permanent failure, as in the dispatcher on AWS.
        let email = config.email.as_ref().map(|_| {
            let outbox = OutboxMailer::new(folders.outbox.clone(), clock.clone());
            Arc::new(MailNotifier::new(Arc::new(outbox))) as Arc<dyn OutboundNotifier>
        });
        let webhook = WebhookNotifier::new(clock.clone(), &config.delivery)
            .map_err(|e| LocalError::Http(e.to_string()))?;
        let contact_center = Arc::new(MemoryContactCenter::default());
        let mut channels = ChannelNotifier::new(Arc::new(chat), email)
            .with_webhook(Arc::new(webhook))
            .with_callbacks(Arc::new(CallbackNotifier::new(contact_center.clone())));
        if let Some(social) = &config.social {
            let http = send::http_client().map_err(|e| LocalError::Http(e.to_string()))?;
            let issuer = Arc::new(WechatIssuer { http: http.clone() });
            let tokens =
                SharedToken::new(ports.idempotency.clone(), clock.clone(), issuer, RandomIds.token());
            let notifier = SocialNotifier::new(http, Arc::new(social.clone()), Arc::new(tokens));
            channels = channels.with_social(Arc::new(notifier));
        }
        let notifier = Arc::new(channels);
        Ok(Self::build(config, clock, ports, notifier, folders, contact_center))
    }

    /// A desk with another notifier (benchmarks use an in-memory one).
    pub fn with_notifier(
        config: DeskConfig,
        clock: Arc<dyn Clock>,
        ports: DeskPorts,
        notifier: Arc<dyn OutboundNotifier>,
    ) -> Self {
        Self::build(config, clock, ports, notifier, MailFolders::default(), Arc::default())
    }

    fn build(
        config: DeskConfig,
        clock: Arc<dyn Clock>,
        ports: DeskPorts,
        notifier: Arc<dyn OutboundNotifier>,
        mail_folders: MailFolders,
        contact_center: Arc<MemoryContactCenter>,
    ) -> Self {
        let agents: Arc<dyn AgentStore> = Arc::new(config.roster(ports.agents.clone()));
        let router = RouterHandler::new(
            &config,
            RouterPorts {
                tickets: ports.tickets.clone(),
                customers: ports.customers.clone(),
                idempotency: ports.idempotency.clone(),
                outbound: ports.outbound.clone(),
                limiter: ports.limiter.clone(),
                agents: agents.clone(),
                clock: clock.clone(),
                ids: Arc::new(RandomIds),
            },
        )
        .with_blobs(ports.blobs.clone())
        .with_forum_questions(&config, ports.forum_questions.clone());
        let kb = config.kb.as_ref().map(|kb| LocalKb {
            catalogue: Arc::new(Catalogue::new(ports.articles.clone(), kb.search_settings())),
            editor: Arc::new(KbEditor::new(ports.articles.clone(), clock.clone())),
        });
        let router = match &kb {
            Some(kb) => router.with_bot(&config, kb.catalogue.clone()),
            None => router,
        };
        // A loaded config was validated already; an unresolved token only in a hand-built one.
        let help_centre = config.kb.as_ref().map(|kb| kb.base_url().to_owned());
        let shop = config.shop.as_ref().and_then(|shop| match Shop::from_config(shop, clock.clone()) {
            Ok(built) => Some(built.with_return_links(shop, help_centre.as_deref())),
            Err(error) => {
                tracing::error!(%error, "local.shop_unavailable");
                None
            }
        });
        let router = match &shop {
            Some(shop) => router.with_shop(shop),
            None => router,
        };
        let agent_desk = omnidesk_app::agent_api::desk(
            &config,
            AgentDeskPorts {
                tickets: ports.tickets.clone(),
                customers: ports.customers.clone(),
                agents: agents.clone(),
                idempotency: ports.idempotency.clone(),
                outbound: ports.outbound.clone(),
                blobs: ports.blobs.clone(),
                clock: clock.clone(),
                ids: Arc::new(RandomIds),
            },
        )
        .with_erasure_queue(ports.inbound.clone());
        let agent_desk = Arc::new(match &shop {
            Some(shop) => agent_desk.with_shop(shop.desk.clone()),
            None => agent_desk,
        });
        // Erasure jobs run where they do on AWS: in the router, off the inbound queue.
        let router = router.with_erasures(agent_desk.clone());
        let dispatcher_ports = DispatcherPorts {
            idempotency: ports.idempotency.clone(),
            notifier,
            clock: clock.clone(),
            ids: Arc::new(RandomIds),
        };
        // Local queues may redeliver sooner than Lambda's (tests use short timeouts).
        let lease = Duration::from_millis(config.local.visibility_timeout_ms);
        let dispatcher =
            DispatcherHandler::with_lease(dispatcher_ports, lease).with_refusals(ports.inbound.clone());
        let callbacks = Arc::new(CallbackLog::new(config.inboxes(), clock.clone()));
        let email = config.email.clone().map(|email| {
            Arc::new(EmailInbound::new(email, ports.blobs.clone(), ports.inbound.clone(), clock.clone()))
        });
        // A loaded config was validated already; a hand-built one with a bad [sla] runs without.
        // A forum whose questions wait for staff, and conversations left with the bot, need
        // the sweeper even without [sla].
        let forum_rules = config.forum_rules().ok().flatten();
        let policies = match config.sla_policies().ok().flatten() {
            Some(policies) => Some(policies),
            None if forum_rules.is_some() || config.bot_rules().is_some() => {
                omnidesk_domain::sla::SlaConfig::default().validate().ok().map(Arc::new)
            }
            None => None,
        };
        let sweeper = policies.map(|policies| {
            let sweeper_ports = SweeperPorts {
                tickets: ports.tickets.clone(),
                watermarks: ports.watermarks.clone(),
                outbound: ports.outbound.clone(),
                clock: clock.clone(),
            };
            let handler = SweeperHandler::new(policies, sweeper_ports);
            match forum_rules {
                Some(_) => handler.with_forum(ForumSweep {
                    questions: ports.forum_questions.clone(),
                    inbound: ports.inbound.clone(),
                }),
                None => handler,
            }
        });
        let surveys = surveys::Surveys::build(&config, &ports, clock.clone());
        let flow = ContactFlow::new(
            ports.callers.clone(),
            ports.call_notes.clone(),
            clock.clone(),
            config.phone_rules(),
        );
        let phone = Arc::new(PhoneEvents::new(
            &config,
            flow,
            ports.call_notes.clone(),
            ports.inbound.clone(),
            clock.clone(),
        ));
        let fake_shop = fake_shop(&config, clock.as_ref());
        Self {
            config,
            clock,
            ports,
            callbacks,
            email,
            mail_folders,
            agent_desk,
            phone,
            contact_center,
            router,
            dispatcher,
            sweeper,
            surveys,
            console_dir: PathBuf::from(DEFAULT_CONSOLE_DIR),
            kb,
            analytics: None,
            social_fakes: Arc::default(),
            fake_shop,
            shop,
        }
    }

    /// Serves the agent console from `dir` instead of `console/dist`.
    pub fn with_console_dir(mut self, dir: PathBuf) -> Self {
        self.console_dir = dir;
        self
    }

    /// Stores the example articles that are not stored yet (with `[kb]`): a restart or a
    /// second desk on the same table seeds nothing twice. Returns how many were added.
    pub async fn seed_example_articles(&self) -> Result<usize, String> {
        if self.kb.is_none() {
            return Ok(0);
        }
        let articles = seed::parse(EXAMPLE_ARTICLES, "seed", self.clock.now()).map_err(|e| e.to_string())?;
        seed::seed(&*self.ports.articles, &articles).await.map_err(|e| e.to_string())
    }

    /// Writes the analytics export into `dir` on the rollup's schedule; needs `[analytics]`.
    pub fn export_to(&mut self, dir: &std::path::Path) -> Result<(), String> {
        self.analytics =
            Some(analytics::Analytics::build(&self.config, &self.ports, self.clock.clone(), dir)?);
        Ok(())
    }

    /// Every HTTP route: the functions' routers plus the local-only `/local/...` helpers.
    pub fn http_router(self: &Arc<Self>) -> Router {
        let webhook = ChatWebhook {
            inboxes: self.config.inboxes(),
            inbound: self.ports.inbound.clone(),
            clock: self.clock.clone(),
            // As the chat-webhook function counts: in blocks, per process.
            limiter: Some(Arc::new(RequestBlocks::new(self.ports.limiter.clone()))),
            blobs: Some(self.ports.blobs.clone()),
        };
        Router::new()
            .merge(debug_routes::router(self.clone()))
            .merge(blob_links::router(self.ports.memory_blobs.clone(), self.clock.clone()))
            .merge(callbacks::router(self.callbacks.clone()))
            .merge(mail_in::router(self.clone()))
            .merge(surveys::router(self.clone()))
            .merge(analytics::router(self.clone()))
            .merge(connect_routes::router(self.clone()))
            .merge(console::router(self.console_dir.clone()))
            .merge(chat_webhook::router(webhook))
            .merge(social_fakes::router(self.social_fakes.clone()))
            .merge(self.social_routes())
            .merge(agent_api::router(AgentApi {
                desk: self.agent_desk.clone(),
                auth: Arc::new(self.config.auth.bearer_tokens()),
                canned: Arc::new(CannedResponses::new(
                    self.ports.canned.clone(),
                    self.clock.clone(),
                    Arc::new(RandomIds),
                )),
            }))
            .merge(self.kb_routes())
            .merge(self.shop_routes())
    }

    /// The shop webhook routes, with `[shop]` (on AWS the chat-webhook function serves them),
    /// and with `[local] fake_shop` the fake shop itself at `/local/shop`.
    fn shop_routes(&self) -> Router {
        let Some(shop) = &self.config.shop else { return Router::new() };
        let webhook = shop_webhook::router(ShopWebhook {
            inbound: self.ports.inbound.clone(),
            secret: shop.webhook_secret.value().map(str::to_owned),
            clock: self.clock.clone(),
        });
        match &self.fake_shop {
            Some(fake) => webhook.nest("/local/shop", fake.router()),
            None => webhook,
        }
    }

    /// The platforms' webhooks, with `[social]`.
    fn social_routes(&self) -> Router {
        let Some(social) = &self.config.social else { return Router::new() };
        social::router(SocialWebhook {
            config: Arc::new(social.clone()),
            inbound: self.ports.inbound.clone(),
            clock: self.clock.clone(),
            wechat_users: self.wechat_users(social),
        })
    }

    /// UnionID lookups for `[[social.wechat]]` accounts, with the token shared through the table.
    fn wechat_users(&self, social: &omnidesk_app::config::SocialConfig) -> Option<Arc<WechatUsers>> {
        if social.wechat.is_empty() {
            return None;
        }
        let http = send::http_client().ok()?;
        let issuer = Arc::new(WechatIssuer { http: http.clone() });
        let owner = RandomIds.token();
        let tokens =
            SharedToken::new(self.ports.idempotency.clone(), self.clock.clone(), issuer, owner.clone());
        let users = WechatUsers::new(
            self.ports.idempotency.clone(),
            Arc::new(tokens),
            http,
            self.clock.clone(),
            owner,
        );
        Some(Arc::new(users))
    }

    /// The help centre and the agents' article routes, with `[kb]`.
    fn kb_routes(&self) -> Router {
        let (Some(kb), Some(config)) = (&self.kb, &self.config.kb) else { return Router::new() };
        let help = HelpCentre::new(kb.catalogue.clone(), self.clock.clone(), config.base_url());
        let mut routes = Router::new().merge(help_centre::router(help)).merge(agent_api::kb_router(KbApi {
            editor: kb.editor.clone(),
            auth: Arc::new(self.config.auth.bearer_tokens()),
        }));
        // The return form, served by help-centre on AWS, with `[shop.returns] link_key`.
        if let Some(key) = self.config.shop.as_ref().and_then(|shop| shop.link_key()) {
            let form = ReturnForm::new(self.ports.inbound.clone(), Some(key), self.clock.clone());
            routes = routes.merge(return_form::router(form));
        }
        routes
    }

    /// One poll of the inbound queue through the router handler.
    pub async fn poll_inbound(&self) -> Result<usize, QueueError> {
        poller::poll_once(&self.ports.inbound, "inbound", |event| self.router.handle(event)).await
    }

    /// One poll of the outbound queue through the dispatcher handler.
    pub async fn poll_outbound(&self) -> Result<usize, QueueError> {
        poller::poll_once(&self.ports.outbound, "outbound", |event| self.dispatcher.handle(event)).await
    }

    /// One run of the SLA sweeper, as the 1-minute schedule triggers it on AWS; `None`
    /// without `[sla]`, a forum or a bot.
    pub async fn sweep_sla(&self) -> Option<Result<SweepReport, SweepError>> {
        Some(self.sweeper.as_ref()?.sweeper().run().await)
    }

    /// Polls both queues until neither has a visible message.
    pub async fn drain(&self) -> Result<(), QueueError> {
        while self.poll_inbound().await? + self.poll_outbound().await? > 0 {}
        Ok(())
    }

    /// Pollers for both queues, as Lambda's event source mappings would run them, and (with
    /// `[email]` and a mail-in folder) the folder watcher, as SES receiving would.
    pub fn spawn_pollers(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let interval = Duration::from_millis(self.config.local.poll_interval_ms);
        let inbound = self.clone();
        let outbound = self.clone();
        let mut tasks = vec![
            tokio::spawn(async move { poll_forever("inbound", interval, || inbound.poll_inbound()).await }),
            tokio::spawn(
                async move { poll_forever("outbound", interval, || outbound.poll_outbound()).await },
            ),
        ];
        if let (Some(email), Some(dir)) = (&self.email, &self.mail_folders.mail_in) {
            tasks.push(tokio::spawn(MailDrop::new(email.clone(), dir.clone()).run()));
        }
        if self.surveys.is_some() {
            let every = Duration::from_millis(self.config.local.survey_interval_ms);
            tasks.push(tokio::spawn(surveys::send_forever(self.clone(), every)));
        }
        if self.analytics.is_some() {
            let every = Duration::from_millis(self.config.local.export_interval_ms);
            tasks.push(tokio::spawn(analytics::export_forever(self.clone(), every)));
        }
        if self.sweeper.is_some() {
            let desk = self.clone();
            let every = Duration::from_millis(self.config.local.sla_sweep_interval_ms);
            tasks.push(tokio::spawn(async move { desk.sweep_forever(every).await }));
        }
        tasks
    }

    /// The schedule: one sweep every `every`, as EventBridge invokes `sla-sweeper`.
    async fn sweep_forever(&self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.sweep_sla().await {
                Some(Ok(report)) if report.failures > 0 => {
                    tracing::warn!(failures = report.failures, "sla.sweep_partial");
                }
                Some(Err(error)) => tracing::warn!(%error, "sla.sweep_failed"),
                _ => {}
            }
        }
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

/// The fake shop of `[local] fake_shop`, with the example orders placed relative to now and
/// `[shop] token` as its key.
fn fake_shop(config: &DeskConfig, clock: &dyn Clock) -> Option<Arc<FakeShop>> {
    let shop = config.shop.as_ref().filter(|_| config.local.fake_shop)?;
    Some(FakeShop::new(example_orders(clock.now()), shop.token.value().unwrap_or_default()))
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
