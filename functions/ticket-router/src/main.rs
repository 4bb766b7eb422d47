//! ticket-router: consumes the inbound queue (SQS, ReportBatchItemFailures). The workflow is
//! `omnidesk_domain::router`, the batch handling `omnidesk_app::ticket_router`.

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::router::RouterPorts;
use omnidesk_domain::system::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // No secrets: this function's role may read none.
    let config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    let store = Arc::new(aws.store()?);
    let ports = RouterPorts {
        tickets: store.clone(),
        customers: store.clone(),
        idempotency: store.clone(),
        agents: Arc::new(config.roster(store.clone())),
        limiter: store,
        outbound: Arc::new(aws.outbound_queue()?),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
    };
    let mut handler = RouterHandler::new(&config, ports);
    // Mail too large for a queue message waits in the mail bucket (only with email on).
    if let Ok(blobs) = aws.blobs() {
        handler = handler.with_blobs(Arc::new(blobs));
    }
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(handler.handle(event.payload).await)
    }))
    .await
}
