//! Test support: an SDK client whose every call is answered by aws-smithy-mocks rules, with
//! one attempt per call (the tests are about how the first answer maps) and test credentials.

/// `mock_client!(aws_sdk_s3, RuleMode::Sequential, &[&rule, ...])` → `aws_sdk_s3::Client`.
macro_rules! mock_client {
    ($sdk:ident, $mode:expr, $rules:expr) => {{
        let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode($mode);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($sdk::config::Credentials::new("test", "test", None, None, "test"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config($sdk::config::retry::RetryConfig::disabled())
            .build();
        $sdk::Client::from_conf(config)
    }};
}

pub(crate) use mock_client;
