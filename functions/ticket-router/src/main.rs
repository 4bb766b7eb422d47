//! ticket-router: consumes the inbound queue (SQS, ReportBatchItemFailures). The workflow is
//! `omnidesk_domain::router`, the batch handling `omnidesk_app::ticket_router`.

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::config::DeskConfig;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_app::ticket_router::RouterHandler;
use omnidesk_aws::AwsSettings;
use omnidesk_domain::memory::{RandomIds, SystemClock};
use omnidesk_domain::router::RouterPorts;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let config = DeskConfig::from_env()?;
    let settings = AwsSettings::from_env()?;
    let sdk = omnidesk_aws::sdk_config().await;
    let store = Arc::new(omnidesk_aws::dynamo_store(&sdk, settings.require_table_name()?));
    let outbound = omnidesk_aws::sqs_queue(&sdk, settings.require_outbound_queue_url()?);
    let ports = RouterPorts {
        tickets: store.clone(),
        customers: store.clone(),
        idempotency: store,
        outbound: Arc::new(outbound),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
    };
    let handler = &RouterHandler::new(&config, ports);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(handler.handle(event.payload).await)
    }))
    .await
}
