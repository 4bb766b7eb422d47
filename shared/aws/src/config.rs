//! The shared SDK configuration. Build it once, in a function's init, and build every client
//! from it: credentials, region and connection pools are then shared, and every call has a
//! timeout and a bounded number of retries (ARCHITECTURE.md §5).
//!
//! `AWS_ENDPOINT_URL` (and per-service `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`) are
//! read by aws-config itself, which is how the moto tier points the real adapters at
//! `moto_server`.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

/// Establishing a connection; longer means the endpoint is unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One HTTP attempt; DynamoDB and SQS answer in milliseconds, and the longest call we make,
/// an SQS receive, waits 1 s.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// All attempts of one call together, retries and backoff included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);
/// The first try and at most two retries, with the standard jittered backoff.
pub const MAX_ATTEMPTS: u32 = 3;

/// The loader with our timeouts and retries; callers may add to it (e.g. an explicit
/// endpoint for the local desk's `--aws-endpoint`) before loading.
pub fn sdk_config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        // Bundled root certificates: no read of the system store in init.
        .http_client(crate::https::https_client())
}

/// Loads region, credentials and endpoint from the environment, with our timeouts and
/// retries. Call once per process.
pub async fn sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}
