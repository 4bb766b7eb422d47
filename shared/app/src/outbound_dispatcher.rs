//! The `outbound-dispatcher` edge: SQS records of `OutboundJob`s into the domain dispatcher.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use omnidesk_domain::dispatch::{DispatchError, Dispatcher, DispatcherPorts};
use omnidesk_domain::envelope::open;
use omnidesk_domain::outbound::OutboundJob;
use omnidesk_domain::ports::NotifyError;

use crate::sqs_batch::{RecordError, process_batch};

pub struct DispatcherHandler {
    dispatcher: Dispatcher,
}

impl DispatcherHandler {
    pub fn new(ports: DispatcherPorts) -> Self {
        Self { dispatcher: Dispatcher::new(ports) }
    }

    /// See [`Dispatcher::with_lease`].
    pub fn with_lease(ports: DispatcherPorts, lease: std::time::Duration) -> Self {
        Self { dispatcher: Dispatcher::new(ports).with_lease(lease) }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, |body| self.handle_record(body)).await
    }

    async fn handle_record(&self, body: String) -> Result<(), RecordError> {
        let job: OutboundJob = open(&body).map_err(|e| RecordError::Poison(e.to_string()))?;
        match self.dispatcher.dispatch(&job).await {
            Ok(_) => Ok(()),
            Err(DispatchError::Notify(NotifyError::Permanent(reason))) => Err(RecordError::Poison(reason)),
            Err(error) => Err(RecordError::Retry(error.to_string())),
        }
    }
}
