//! Builds every SDK client and adapter from one `SdkConfig` (so they share credentials,
//! region, timeouts, retries and the HTTP connection pool), optionally with a request meter
//! attached to each.

use std::sync::{Arc, OnceLock};

use aws_config::SdkConfig;
use aws_types::service_config::ServiceConfigKey;

use crate::config_object::{ConfigLocation, ConfigObject};
#[cfg(feature = "dynamodb")]
use crate::dynamo::DynamoStore;
use crate::meter::{MeterInterceptor, RequestMeter};
use crate::s3::S3BlobStore;
#[cfg(feature = "sesv2")]
use crate::ses::SesMailer;
#[cfg(feature = "sqs")]
use crate::sqs::SqsQueue;

/// ```no_run
/// # #[cfg(all(feature = "dynamodb", feature = "sqs"))]
/// # async fn init() {
/// let meter = omnidesk_aws::RequestMeter::new();
/// let sdk = omnidesk_aws::sdk_config().await;
/// let clients = omnidesk_aws::Clients::new(&sdk).with_meter(meter.clone());
/// let store = clients.store("omnidesk");
/// let queue = clients.queue("https://sqs.us-east-1.amazonaws.com/123456789012/inbound");
/// // ... run a workload, then:
/// println!("{} DynamoDB requests", meter.snapshot().total("DynamoDB"));
/// # }
/// ```
///
/// Each service's client is built once, at its first use, and shared by every adapter made
/// from these `Clients` and their clones: building one costs a few hundred thousand
/// instructions of a function's start (its endpoint rules and partitions), and a second one
/// of the same service would only repeat that. Secrets Manager is the exception: its client
/// serves the secrets read in init and is dropped with the resolver.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    meter: Option<Arc<RequestMeter>>,
    built: Arc<Built>,
}

/// The clients built so far, one per service.
#[derive(Debug, Default)]
struct Built {
    s3: OnceLock<aws_sdk_s3::Client>,
    #[cfg(feature = "dynamodb")]
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    #[cfg(feature = "sqs")]
    sqs: OnceLock<aws_sdk_sqs::Client>,
    #[cfg(feature = "sesv2")]
    sesv2: OnceLock<aws_sdk_sesv2::Client>,
    #[cfg(feature = "sns")]
    sns: OnceLock<aws_sdk_sns::Client>,
}

/// One SDK client from the shared config, with the meter's interceptor if there is one.
macro_rules! client {
    ($sdk:ident, $clients:expr) => {
        client!($sdk, $clients, |builder| builder)
    };
    ($sdk:ident, $clients:expr, $adjust:expr) => {{
        let clients: &Clients = $clients;
        let mut builder = $sdk::config::Builder::from(&clients.sdk);
        if let Some(meter) = &clients.meter {
            builder = builder.interceptor(MeterInterceptor::new(meter.clone()));
        }
        let adjust: fn($sdk::config::Builder) -> $sdk::config::Builder = $adjust;
        $sdk::Client::from_conf(adjust(builder).build())
    }};
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self { sdk: sdk.clone(), meter: None, built: Arc::default() }
    }

    /// Counts every request of every client built from here on, and DynamoDB capacity of
    /// the stores.
    pub fn with_meter(mut self, meter: Arc<RequestMeter>) -> Self {
        self.meter = Some(meter);
        // Clients built before have no meter: build them again, with it.
        self.built = Arc::default();
        self
    }

    pub fn meter(&self) -> Option<&Arc<RequestMeter>> {
        self.meter.as_ref()
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    #[cfg(feature = "dynamodb")]
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        self.built.dynamodb.get_or_init(|| client!(aws_sdk_dynamodb, self)).clone()
    }

    #[cfg(feature = "sqs")]
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        self.built.sqs.get_or_init(|| client!(aws_sdk_sqs, self)).clone()
    }

    #[cfg(feature = "sesv2")]
    pub fn sesv2(&self) -> aws_sdk_sesv2::Client {
        self.built.sesv2.get_or_init(|| client!(aws_sdk_sesv2, self)).clone()
    }

    /// Path-style addressing (`endpoint/bucket/key`) when an endpoint is configured, as
    /// emulators like moto need: they cannot serve `bucket.127.0.0.1`. Real S3 keeps
    /// virtual-hosted style, which AWS recommends and requires for newer features.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let build = || {
            if explicit_endpoint(&self.sdk, "S3") {
                client!(aws_sdk_s3, self, |builder| builder.force_path_style(true))
            } else {
                client!(aws_sdk_s3, self)
            }
        };
        self.built.s3.get_or_init(build).clone()
    }

    #[cfg(feature = "secrets")]
    pub fn secretsmanager(&self) -> aws_sdk_secretsmanager::Client {
        client!(aws_sdk_secretsmanager, self)
    }

    #[cfg(feature = "secrets")]
    pub fn secrets(&self) -> crate::secrets::SecretsManagerResolver {
        crate::secrets::SecretsManagerResolver::new(self.secretsmanager())
    }

    #[cfg(feature = "sns")]
    pub fn sns(&self) -> aws_sdk_sns::Client {
        self.built.sns.get_or_init(|| client!(aws_sdk_sns, self)).clone()
    }

    /// Spike alerts to the SNS topic `topic_arn`.
    #[cfg(feature = "sns")]
    pub fn spike_alerts(&self, topic_arn: &str) -> crate::sns::SnsAlerts {
        crate::sns::SnsAlerts::new(self.sns(), topic_arn)
    }

    /// The desk configuration object at `location`.
    pub fn config_object(&self, location: ConfigLocation) -> ConfigObject {
        ConfigObject::new(self.s3(), location)
    }

    /// The ticket, customer and idempotency stores on `table`.
    #[cfg(feature = "dynamodb")]
    pub fn store(&self, table: &str) -> DynamoStore {
        let store = DynamoStore::new(self.dynamodb(), table);
        match &self.meter {
            Some(meter) => store.with_meter(meter.clone()),
            None => store,
        }
    }

    #[cfg(feature = "sqs")]
    pub fn queue(&self, url: &str) -> SqsQueue {
        SqsQueue::new(self.sqs(), url)
    }

    #[cfg(feature = "sesv2")]
    pub fn mailer(&self) -> SesMailer {
        SesMailer::new(self.sesv2())
    }

    /// Blobs in `bucket`; narrow them with [`S3BlobStore::with_prefix`].
    pub fn blobs(&self, bucket: &str) -> S3BlobStore {
        S3BlobStore::new(self.s3(), bucket)
    }
}

/// Whether `service`'s clients go to an explicitly configured endpoint: the config's own
/// (`AWS_ENDPOINT_URL`, `endpoint_url` in the profile, or set on the loader) or the
/// service's (`AWS_ENDPOINT_URL_S3`, or the profile's `services` section). The same lookup
/// the generated `Builder::from(&SdkConfig)` does, which exposes no getter for the result.
fn explicit_endpoint(sdk: &SdkConfig, service_id: &str) -> bool {
    if sdk.endpoint_url().is_some() {
        return true;
    }
    let Ok(key) = ServiceConfigKey::builder()
        .service_id(service_id)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
    else {
        return false;
    };
    sdk.service_config().and_then(|config| config.load_config(key)).is_some()
}

#[cfg(all(test, feature = "dynamodb"))]
mod tests {
    use std::time::Duration;

    use aws_config::retry::RetryConfig;
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_dynamodb::config::Credentials;
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;
    use omnidesk_domain::TicketNumber;
    use omnidesk_domain::ports::{BlobStore, TicketStore};

    use super::*;

    fn sdk(http: StaticReplayClient, endpoint: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new("t", "t", None, None, "t")))
            .http_client(http)
            // Real retries, with a backoff short enough for a unit test.
            .retry_config(
                RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(1)),
            );
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        builder.build()
    }

    fn response(status: u16, body: &str) -> http::Response<SdkBody> {
        http::Response::builder().status(status).body(SdkBody::from(body.to_owned())).unwrap()
    }

    fn request() -> http::Request<SdkBody> {
        http::Request::builder().body(SdkBody::empty()).unwrap()
    }

    #[test]
    fn sdk_clients_are_built_once_per_service_and_shared() {
        let clients = Clients::new(&sdk(StaticReplayClient::new(vec![]), None));
        // The configuration object and the blob bucket, or two queues, share one client.
        assert!(std::ptr::eq(clients.s3().config(), clients.clone().s3().config()));
        assert!(std::ptr::eq(clients.dynamodb().config(), clients.dynamodb().config()));
        #[cfg(feature = "sqs")]
        assert!(std::ptr::eq(clients.sqs().config(), clients.clone().sqs().config()));
        // A meter attached afterwards gets clients of its own, which count.
        let metered = clients.clone().with_meter(RequestMeter::new());
        assert!(!std::ptr::eq(clients.s3().config(), metered.s3().config()));
    }

    #[tokio::test]
    async fn a_retried_call_counts_every_attempt_and_its_capacity_once() {
        let http = StaticReplayClient::new(vec![
            ReplayEvent::new(
                request(),
                response(
                    500,
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}"#,
                ),
            ),
            ReplayEvent::new(
                request(),
                response(200, r#"{"ConsumedCapacity":{"TableName":"omnidesk","CapacityUnits":1.0}}"#),
            ),
        ]);
        let meter = RequestMeter::new();
        let store = Clients::new(&sdk(http.clone(), None)).with_meter(meter.clone()).store("omnidesk");

        assert_eq!(store.ticket(TicketNumber(1)).await.unwrap(), None);

        assert_eq!(http.actual_requests().count(), 2);
        let snapshot = meter.snapshot();
        assert_eq!(snapshot.calls_to("DynamoDB", "GetItem"), 2);
        assert_eq!(snapshot.total_calls(), 2);
        assert_eq!(snapshot.dynamodb_rcu, 1.0);
        assert!(!snapshot.estimated_capacity());
    }

    #[tokio::test]
    async fn a_response_without_capacity_is_estimated_and_flagged() {
        let http = StaticReplayClient::new(vec![ReplayEvent::new(request(), response(200, "{}"))]);
        let meter = RequestMeter::new();
        let store = Clients::new(&sdk(http, None)).with_meter(meter.clone()).store("omnidesk");
        assert_eq!(store.ticket(TicketNumber(1)).await.unwrap(), None);
        let snapshot = meter.snapshot();
        // An absent item still costs the minimum of one consistent read.
        assert_eq!((snapshot.dynamodb_rcu, snapshot.estimated_rcu), (1.0, 1.0));
    }

    #[tokio::test]
    async fn clients_without_a_meter_count_nothing() {
        let http = StaticReplayClient::new(vec![ReplayEvent::new(request(), response(200, "{}"))]);
        let store = Clients::new(&sdk(http.clone(), None)).store("omnidesk");
        assert_eq!(store.ticket(TicketNumber(1)).await.unwrap(), None);
        assert_eq!(http.actual_requests().count(), 1);
    }

    #[tokio::test]
    async fn s3_uses_path_style_only_with_an_explicit_endpoint() {
        let ok = || ReplayEvent::new(request(), response(200, ""));
        let local = StaticReplayClient::new(vec![ok()]);
        let meter = RequestMeter::new();
        let clients =
            Clients::new(&sdk(local.clone(), Some("http://127.0.0.1:5000"))).with_meter(meter.clone());
        clients.blobs("desk-blobs").put("a/b.eml", b"x".to_vec(), "message/rfc822").await.unwrap();
        let uri = local.actual_requests().next().map(|r| r.uri().to_owned());
        assert_eq!(uri.as_deref(), Some("http://127.0.0.1:5000/desk-blobs/a/b.eml?x-id=PutObject"));
        assert_eq!(meter.snapshot().calls_to("S3", "PutObject"), 1);

        let aws = StaticReplayClient::new(vec![ok()]);
        Clients::new(&sdk(aws.clone(), None)).blobs("desk-blobs").delete("a").await.unwrap();
        let uri = aws.actual_requests().next().map(|r| r.uri().to_owned());
        assert_eq!(uri.as_deref(), Some("https://desk-blobs.s3.us-east-1.amazonaws.com/a?x-id=DeleteObject"));
    }
}
