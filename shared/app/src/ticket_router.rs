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
        Self { router: TicketRouter::new(ports, config.acknowledgements()) }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |body| self.handle_record(body)).await
    }

    async fn handle_record(&self, body: String) -> Result<(), RecordError> {
        let inbound: InboundMessage = open(&body).map_err(|e| RecordError::Poison(e.to_string()))?;
        match self.router.route(&inbound).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_retryable() => Err(RecordError::Retry(error.to_string())),
            Err(error) => Err(RecordError::Poison(error.to_string())),
        }
    }
}
