//! The `ticket-router` edge: SQS records of `InboundMessage`s into the domain router, and the
//! runs of erasure jobs the agent API queues on the same queue.

use std::sync::Arc;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use omnidesk_domain::bot::{IntentDetector, OrderStatus, ReturnRequestIntent, default_detectors};
use omnidesk_domain::desk::{
    AgentDesk, DeskError, ErasureJobMessage, JobRun, ReturnConfirmation, ReturnFormRequest,
};
use omnidesk_domain::envelope::{EnvelopeError, Versioned, open};
use omnidesk_domain::forum_watch::ForumQuestions;
use omnidesk_domain::inbound::{InboundMessage, InboundPointer};
use omnidesk_domain::kb::Catalogue;
use omnidesk_domain::orders::OrderSignal;
use omnidesk_domain::outbound::DeliveryRefused;
use omnidesk_domain::ports::BlobStore;
use omnidesk_domain::router::{ChatBot, ForumWatch, MailSuggestions, RouterPorts, TicketRouter};

use crate::config::DeskConfig;
use crate::sqs_batch::{RecordError, process_batch};

/// The intents the chat bot recognises with `config`, in the order it asks them (the
/// knowledge-base evaluation classifies its questions with these too).
pub fn bot_detectors(config: &DeskConfig) -> Vec<Box<dyn IntentDetector>> {
    let mut detectors = default_detectors();
    // With a shop, "where is my order?" is the shop's to answer (see `with_shop`).
    if let Some(patterns) = config.shop.as_ref().and_then(|shop| shop.patterns().ok()) {
        // Before order status: "return #1001" names an order too.
        detectors.push(Box::new(ReturnRequestIntent::new(patterns.clone())));
        detectors.push(Box::new(OrderStatus::new(patterns)));
    }
    detectors
}

pub struct RouterHandler {
    router: TicketRouter,
    /// Where inbound messages too large for the queue are kept ([`InboundPointer`]).
    blobs: Option<Arc<dyn BlobStore>>,
    /// Runs erasure jobs ([`ErasureJobMessage`]); without it such a message is refused.
    erasures: Option<Arc<AgentDesk>>,
}

impl RouterHandler {
    pub fn new(config: &DeskConfig, ports: RouterPorts) -> Self {
        let mut router =
            TicketRouter::new(ports, config.acknowledgements()).with_phone_rules(config.phone_rules());
        if let Some(email) = &config.email {
            router = router.with_email_rules(email.rules());
        }
        // A loaded config was validated already; this only re-checks a hand-built one.
        match config.routing() {
            Ok(Some(routing)) => router = router.with_routing(routing),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "router.routing_config_invalid"),
        }
        match config.sla_policies() {
            Ok(Some(policies)) => router = router.with_sla(policies),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "router.sla_config_invalid"),
        }
        Self { router, blobs: None, erasures: None }
    }

    /// Lets the chat bot answer in the inboxes `[bot]` names, from `catalogue`'s articles;
    /// Mail acknowledgements list up to three articles that score well (`kb.suggest_min_confidence`).
    pub fn with_bot(mut self, config: &DeskConfig, catalogue: Arc<Catalogue>) -> Self {
        if let Some(kb) = config.kb.as_ref().filter(|kb| kb.suggest_min_confidence > 0.0) {
            self.router = self.router.with_suggestions(Arc::new(MailSuggestions {
                catalogue: catalogue.clone(),
                min_confidence: kb.suggest_min_confidence,
                base_url: kb.base_url().to_owned(),
            }));
        }
        if let Some(rules) = config.bot_rules() {
            let bot = ChatBot { rules, detectors: bot_detectors(config), catalogue };
            self.router = self.router.with_bot(Arc::new(bot));
        }
        self
    }

    /// Links tickets to the orders their messages name, and answers order status from `shop`.
    pub fn with_shop(mut self, shop: &crate::shop::Shop) -> Self {
        self.router = self.router.with_orders(shop.lookup.clone());
        self
    }

    /// Keeps forum questions waiting for a staff answer in `questions` (with a forum whose
    /// `answer_within_business_hours` is not 0).
    pub fn with_forum_questions(mut self, config: &DeskConfig, questions: Arc<dyn ForumQuestions>) -> Self {
        match config.forum_rules() {
            Ok(Some(rules)) => {
                self.router = self.router.with_forum_watch(ForumWatch { questions, rules });
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "router.forum_config_invalid"),
        }
        self
    }

    /// Reads messages queued by pointer from `blobs` (the email channel's bucket).
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Runs the erasure jobs queued here with `desk`.
    pub fn with_erasures(mut self, desk: Arc<AgentDesk>) -> Self {
        self.erasures = Some(desk);
        self
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |body| self.handle_record(body)).await
    }

    async fn handle_record(&self, body: String) -> Result<(), RecordError> {
        let inbound: InboundMessage = match open(&body) {
            Ok(inbound) => inbound,
            Err(EnvelopeError::WrongKind { found, .. }) if found == InboundPointer::KIND => {
                self.load(&body).await?
            }
            Err(EnvelopeError::WrongKind { found, .. }) if found == ErasureJobMessage::KIND => {
                return self.run_erasure(&body).await;
            }
            Err(EnvelopeError::WrongKind { found, .. }) if found == OrderSignal::KIND => {
                return self.check_order(&body).await;
            }
            Err(EnvelopeError::WrongKind { found, .. })
                if found == ReturnFormRequest::KIND || found == ReturnConfirmation::KIND =>
            {
                return self.return_form(&body, &found).await;
            }
            Err(EnvelopeError::WrongKind { found, .. }) if found == DeliveryRefused::KIND => {
                return self.record_refusal(&body).await;
            }
            Err(error) => return Err(RecordError::Poison(error.to_string())),
        };
        let result = if inbound.is_bounce() {
            self.router.record_bounce(&inbound).await.map(drop)
        } else {
            self.router.route(&inbound).await.map(drop)
        };
        match result {
            Ok(()) => Ok(()),
            Err(error) if error.is_retryable() => Err(RecordError::Retry(error.to_string())),
            Err(error) => Err(RecordError::Poison(error.to_string())),
        }
    }

    /// A platform's refusal of a reply, from the dispatcher: onto the ticket.
    async fn record_refusal(&self, body: &str) -> Result<(), RecordError> {
        let refusal: DeliveryRefused = open(body).map_err(|e| RecordError::Poison(e.to_string()))?;
        match self.router.record_refusal(&refusal).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_retryable() => Err(RecordError::Retry(error.to_string())),
            Err(error) => Err(RecordError::Poison(error.to_string())),
        }
    }

    /// One run of an erasure job. A run that found something left asks for the message
    /// again: the queue redelivers it after its visibility timeout, which also gives the
    /// requester index time to show a ticket it showed late.
    async fn run_erasure(&self, body: &str) -> Result<(), RecordError> {
        let message: ErasureJobMessage = open(body).map_err(|e| RecordError::Poison(e.to_string()))?;
        let Some(desk) = &self.erasures else {
            return Err(RecordError::Poison("an erasure job, but this router runs none".into()));
        };
        match desk.run_erasure_job(&message).await {
            Ok(JobRun::Finished(_)) => Ok(()),
            Ok(JobRun::Again(job)) => Err(RecordError::Retry(format!(
                "erasure job {} found {:?} left after run {}: running again",
                job.id, job.leftovers, job.attempts
            ))),
            // The job record expired or never existed: nothing to run, ever.
            Err(DeskError::NotFound(what)) => Err(RecordError::Poison(format!("{what} not found"))),
            Err(error @ (DeskError::Invalid(_) | DeskError::Lifecycle(_))) => {
                Err(RecordError::Poison(error.to_string()))
            }
            Err(error) => Err(RecordError::Retry(error.to_string())),
        }
    }

    /// A shop webhook's signal: the order is read again and each problem it has now is
    /// written to its customer once (the desk's idempotency record per order and problem).
    async fn check_order(&self, body: &str) -> Result<(), RecordError> {
        let signal: OrderSignal = open(body).map_err(|e| RecordError::Poison(e.to_string()))?;
        let Some(desk) = &self.erasures else {
            return Err(RecordError::Poison("an order signal, but this router has no desk".into()));
        };
        match desk.check_order(&signal).await {
            Ok(outcomes) => {
                tracing::info!(notices = outcomes.len(), "router.order_checked");
                Ok(())
            }
            // Nothing to write to (a phone-only order): an agent sees the order in its views.
            Err(DeskError::Unsendable(reason)) => {
                tracing::info!(%reason, "router.order_notice_unsendable");
                Ok(())
            }
            Err(error @ (DeskError::NotFound(_) | DeskError::Invalid(_) | DeskError::Lifecycle(_))) => {
                Err(RecordError::Poison(error.to_string()))
            }
            Err(error) => Err(RecordError::Retry(error.to_string())),
        }
    }

    /// The help centre's return form (a link to mail) or a followed link (a return to start).
    async fn return_form(&self, body: &str, kind: &str) -> Result<(), RecordError> {
        let Some(desk) = &self.erasures else {
            return Err(RecordError::Poison("a return form, but this router has no desk".into()));
        };
        let result = if kind == ReturnFormRequest::KIND {
            let form: ReturnFormRequest = open(body).map_err(|e| RecordError::Poison(e.to_string()))?;
            desk.return_form(&form).await.map(|outcome| tracing::info!(?outcome, "router.return_form"))
        } else {
            let confirmation: ReturnConfirmation =
                open(body).map_err(|e| RecordError::Poison(e.to_string()))?;
            desk.confirm_return(&confirmation)
                .await
                .map(|done| tracing::info!(ticket = done.ticket.0, "router.return_confirmed"))
        };
        match result {
            Ok(()) => Ok(()),
            // An expired link or a vanished order: nothing to do, ever.
            Err(
                error @ (DeskError::NotFound(_)
                | DeskError::Invalid(_)
                | DeskError::Lifecycle(_)
                | DeskError::Unsendable(_)),
            ) => {
                tracing::info!(%error, "router.return_form_dropped");
                Ok(())
            }
            Err(error) => Err(RecordError::Retry(error.to_string())),
        }
    }

    /// The message a pointer names. Missing or unreadable in the store: retried (the store
    /// may be catching up), then dead-lettered with the reason.
    async fn load(&self, body: &str) -> Result<InboundMessage, RecordError> {
        let pointer: InboundPointer = open(body).map_err(|e| RecordError::Poison(e.to_string()))?;
        let Some(blobs) = &self.blobs else {
            return Err(RecordError::Poison("a queued pointer, but no blob store is configured".into()));
        };
        let bytes = blobs
            .get(&pointer.key)
            .await
            .map_err(|e| RecordError::Retry(e.to_string()))?
            .ok_or_else(|| RecordError::Retry(format!("queued message {} not found", pointer.key)))?;
        let text = String::from_utf8(bytes).map_err(|e| RecordError::Poison(e.to_string()))?;
        open(&text).map_err(|e| RecordError::Poison(e.to_string()))
    }
}
