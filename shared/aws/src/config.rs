//! The shared SDK configuration. Build it once, in a function's init, and build every client
//! from it: credentials, region and connection pools are then shared, and every call has a
//! timeout and a bounded number of retries (ARCHITECTURE.md §5).
//!
//! `AWS_ENDPOINT_URL` (and per-service `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`) are
//! read by aws-config itself, which is how the moto tier points the real adapters at
//! `moto_server`.

use std::time::Duration;

use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
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
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        // Bundled root certificates: no read of the system store in init.
        .http_client(crate::https::https_client());
    from_environment(loader, EnvironmentChoice::read(crate::settings::process_env))
}

/// Which of the default chains would end at their first link, the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EnvironmentChoice {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set (Lambda sets both, and the
    /// session token).
    pub credentials: bool,
    /// `AWS_REGION` or `AWS_DEFAULT_REGION` is set (Lambda sets both).
    pub region: bool,
}

impl EnvironmentChoice {
    pub(crate) fn read(lookup: impl Fn(&str) -> Result<Option<String>, ()>) -> Self {
        let set = |name: &str| matches!(lookup(name), Ok(Some(value)) if !value.trim().is_empty());
        Self {
            credentials: set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY"),
            region: set("AWS_REGION") || set("AWS_DEFAULT_REGION"),
        }
    }
}

/// The default credentials and region chains start with the environment, and on Lambda that
/// is where both are; but building the chains builds every later link too (an STS client
/// for web identity, with its endpoint rules, an IMDS client, profile providers: 0.9 million
/// instructions of a function's start, README BENCHMARKS). When the environment holds them,
/// the environment's providers are named directly: the same credentials and region, read
/// from the same variables, and nothing else built. Elsewhere (a developer's profile, SSO
/// on the local desk) the default chains run as before.
fn from_environment(mut loader: ConfigLoader, choice: EnvironmentChoice) -> ConfigLoader {
    if choice.credentials {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if choice.region {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    loader
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn choice(pairs: &[(&str, &str)]) -> EnvironmentChoice {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        EnvironmentChoice::read(|name| Ok(env.get(name).cloned()))
    }

    #[test]
    fn lambda_credentials_and_region_skip_the_default_chains() {
        let lambda = choice(&[
            ("AWS_ACCESS_KEY_ID", "ASIA..."),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ]);
        assert_eq!(lambda, EnvironmentChoice { credentials: true, region: true });
        // A developer's machine with a profile: the default chains, as before.
        assert_eq!(
            choice(&[("AWS_PROFILE", "dev")]),
            EnvironmentChoice { credentials: false, region: false }
        );
        // Half a key pair, or blank values, is not credentials: the chain decides.
        let half = choice(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWS_DEFAULT_REGION", " ")]);
        assert_eq!(half, EnvironmentChoice { credentials: false, region: false });
        assert!(choice(&[("AWS_DEFAULT_REGION", "us-east-2")]).region);
    }
}
