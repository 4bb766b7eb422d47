//! `sdk_config` against the process environment. Alone in its own test binary because it
//! sets environment variables, which must not race with other tests.

use std::time::{Duration, Instant};

use omnidesk_aws::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, dynamo_store, sdk_config,
};
use omnidesk_domain::TicketNumber;
use omnidesk_domain::ports::{StoreError, TicketStore};

#[tokio::test]
async fn endpoint_from_the_environment_timeouts_and_retries_are_applied() {
    // A port nothing listens on: calls fail fast with "connection refused".
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{closed_port}");
    // SAFETY: this is the only test in this binary, and nothing else reads the environment
    // while it is being set.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::remove_var("AWS_PROFILE");
    }

    let config = sdk_config().await;
    assert_eq!(config.endpoint_url(), Some(endpoint.as_str()));
    let timeouts = config.timeout_config().unwrap();
    assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
    assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
    assert_eq!(config.retry_config().unwrap().max_attempts(), MAX_ATTEMPTS);
    // Credentials and region straight from the environment's providers, as on Lambda: no
    // default chain is built.
    assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
    let credentials = format!("{:?}", config.credentials_provider().unwrap());
    assert!(credentials.contains("EnvironmentVariableCredentialsProvider"), "{credentials}");
    assert!(!credentials.contains("Chain"), "{credentials}");

    // The client really goes to that endpoint, and a connection failure is retryable.
    let store = dynamo_store(&config, "omnidesk");
    let started = Instant::now();
    let result = store.ticket(TicketNumber(1)).await;
    assert!(matches!(result, Err(StoreError::Unavailable(_))), "{result:?}");
    assert!(started.elapsed() < OPERATION_TIMEOUT + Duration::from_secs(1));
}
