//! The `ticket-router` edge: SQS records of `InboundMessage`s into the domain router.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use omnidesk_domain::envelope::open;
use omnidesk_domain::inbound::InboundMessage;
use omnidesk_domain::router::{RouterPorts, TicketRouter};

use crate::config::DeskConfig;
use crate::sqs_batch::{RecordError, process_batch};

pub struct RouterHandler {
    router: TicketRouter,
}

impl RouterHandler {
    pub fn new(config: &DeskConfig, ports: RouterPorts) -> Self {
        let mut router = TicketRouter::new(ports, config.acknowledgements());
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
        Self { router }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |body| self.handle_record(body)).await
    }

    async fn handle_record(&self, body: String) -> Result<(), RecordError> {
        let inbound: InboundMessage = open(&body).map_err(|e| RecordError::Poison(e.to_string()))?;
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
}
