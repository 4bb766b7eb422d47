//! survey-sender: run by an EventBridge schedule. Reads the due surveys from the due index
//! (the SLA sweeper's; cost grows with what is due) and queues each to the outbound
//! dispatcher on the ticket's channel. The workflow is `omnidesk_domain::survey::SurveySender`,
//! the event handling `omnidesk_app::survey_sender`.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::survey_sender::{self, SenderHandler};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::survey::SenderPorts;
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // Only the survey link key is resolved: the role may read that secret and no other.
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    config.resolve_survey_secrets(&aws.secrets()).await?;
    let store = Arc::new(aws.store()?);
    let ports = SenderPorts {
        tickets: store.clone(),
        customers: store.clone(),
        watermarks: store,
        outbound: Arc::new(aws.outbound_queue()?),
        clock: Arc::new(SystemClock),
    };
    let Some(sender) = survey_sender::sender(&config, ports) else {
        return Err("the desk configuration has no [survey] section: survey-sender needs one".into());
    };
    let handler = &SenderHandler::new(sender);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move {
        handler.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
