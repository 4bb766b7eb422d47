//! analytics-rollup: run by an EventBridge schedule (every 15 minutes), or invoked with a
//! backfill window. Reads the ticket event log by hour from the table's sparse `event_log`
//! index, writes the Parquet export to the export bucket, and alerts ops of spikes on the
//! topic `ALERT_TOPIC_ARN` (and the on-call webhook, queued on `OUTBOUND_QUEUE_URL`). The
//! workflow is `omnidesk_domain::analytics::Rollup`, the event handling
//! `omnidesk_app::analytics_rollup`.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::analytics_rollup::{self, AlertWiring, RollupHandler};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::analytics::RollupPorts;
use omnidesk_domain::analytics::alerts::AlertSender;
use omnidesk_domain::ports::Queue;
use omnidesk_domain::system::SystemClock;
use omnidesk_export::BlobSink;

/// Where the export goes: `s3://$EXPORT_BUCKET/analytics/table=…/dt=…/part-HH.parquet`.
const EXPORT_PREFIX: &str = "analytics/";

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    let bucket = std::env::var("EXPORT_BUCKET").map_err(|_| "EXPORT_BUCKET is not set")?;
    // Only the pseudonym key is resolved: the role may read that secret and no other.
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    config.resolve_analytics_secrets(&aws.secrets()).await?;
    let store = Arc::new(aws.store()?);
    let sink = Arc::new(BlobSink::new(Arc::new(aws.clients().blobs(&bucket)), EXPORT_PREFIX));
    let clock = Arc::new(SystemClock);
    let ops = std::env::var("ALERT_TOPIC_ARN")
        .ok()
        .filter(|arn| !arn.is_empty())
        .map(|arn| Arc::new(aws.clients().spike_alerts(&arn)) as Arc<dyn AlertSender>);
    let outbound = aws.outbound_queue().ok().map(|queue| Arc::new(queue) as Arc<dyn Queue>);
    let wiring =
        AlertWiring { history: sink.clone(), sent: store.clone(), ops, outbound, clock: clock.clone() };
    let ports = RollupPorts {
        log: store.clone(),
        customers: Some(store.clone()),
        sink,
        watermarks: store,
        clock,
        alerting: analytics_rollup::spike_alerting(&config, wiring),
    };
    let Some(rollup) = analytics_rollup::rollup(&config, ports)? else {
        return Err("the desk configuration has no [analytics] section: analytics-rollup needs one".into());
    };
    let handler = &RollupHandler::new(rollup);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handler.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
