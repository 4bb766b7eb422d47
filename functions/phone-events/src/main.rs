//! phone-events: Amazon Connect's contact flow invokes it synchronously for the caller map
//! (STRING_MAP), and EventBridge delivers contact events, which it queues for the router.
//! The logic is `omnidesk_domain::phone`, the edge `omnidesk_app::phone_events`. It reads
//! the table (caller lookup, call notes) and sends to the inbound queue; it never starts
//! Connect tasks (the dispatcher does), so it does not link the Connect client.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::phone_events::PhoneEvents;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::phone::flow::ContactFlow;
use omnidesk_domain::system::SystemClock;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // No secrets: this function's role may read none.
    let config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    let store = Arc::new(aws.store()?);
    let clock = Arc::new(SystemClock);
    let flow = ContactFlow::new(store.clone(), store.clone(), clock.clone(), config.phone_rules());
    let handler = &PhoneEvents::new(&config, flow, store, Arc::new(aws.inbound_queue()?), clock);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(handler.handle(&event.payload).await?.to_json())
    }))
    .await
}
