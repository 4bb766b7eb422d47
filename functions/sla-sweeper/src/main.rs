//! sla-sweeper: run by an EventBridge schedule every minute. The workflow is
//! `omnidesk_domain::sla::SlaSweeper`, the event handling `omnidesk_app::sla_sweeper`.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::sla_sweeper::SweeperHandler;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::forum_watch::ForumSweep;
use omnidesk_domain::sla::{SlaConfig, SweeperPorts};
use omnidesk_domain::system::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // No secrets: this function's role may read none.
    let config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    // Without [sla] no ticket has SLA timers (conversations left with the bot and forum
    // questions still fall due); sweeping stays cheap and the function stays quiet rather
    // than failing every minute.
    let policies = match config.sla_policies()? {
        Some(policies) => policies,
        None => Arc::new(SlaConfig::default().validate()?),
    };
    let store = Arc::new(aws.store()?);
    let ports = SweeperPorts {
        tickets: store.clone(),
        watermarks: store.clone(),
        outbound: Arc::new(aws.outbound_queue()?),
        clock: Arc::new(SystemClock),
    };
    let mut handler = SweeperHandler::new(policies, ports);
    // Forum questions past their deadline go to the router, which opens their tickets.
    if config.forum_rules()?.is_some() {
        handler =
            handler.with_forum(ForumSweep { questions: store, inbound: Arc::new(aws.inbound_queue()?) });
    }
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| async move {
        handler.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
