//! email-inbound: the email channel's front door (ARCHITECTURE.md §1). SES stores each received mail
//! in S3 under `inbound/<SES message id>` (receipt rule action 1) and then invokes this
//! function asynchronously with the verdicts and headers (action 2). The work — verdicts,
//! parsing, attachments, the queue message — is `omnidesk_app::email_inbound`; this only
//! wires AWS in.
//!
//! An `Err` fails the invocation on purpose: Lambda retries the asynchronous event (every
//! step is idempotent), then hands it to the function's on-failure queue, which is alarmed.

use std::sync::Arc;

use aws_lambda_events::ses::SimpleEmailEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::email_inbound::{EmailInbound, Ingested};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::system::SystemClock;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // No secrets: this function's role may read none.
    let config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    let Some(email) = config.email else {
        return Err("the desk configuration has no [email] section: \
                    email-inbound needs at least email.address"
            .into());
    };
    let inbound = &EmailInbound::new(
        email,
        Arc::new(aws.blobs()?),
        Arc::new(aws.inbound_queue()?),
        Arc::new(SystemClock),
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SimpleEmailEvent>| async move {
        let results = inbound.handle(event.payload).await?;
        Ok::<_, Error>(summary(&results))
    }))
    .await
}

/// What the invocation did, for `sam local invoke` and on-success destinations: counts only,
/// never addresses or subjects.
fn summary(results: &[Ingested]) -> Value {
    let count = |f: fn(&Ingested) -> bool| results.iter().filter(|r| f(r)).count();
    json!({
        "queued": count(|r| matches!(r, Ingested::Queued { .. })),
        "dropped": count(|r| matches!(r, Ingested::Dropped(_))),
        "unreadable": count(|r| matches!(r, Ingested::Unreadable { .. })),
    })
}
