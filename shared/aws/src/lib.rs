//! omnidesk's ports on AWS: the ticket, customer and idempotency stores and the rate limiter
//! on one DynamoDB table, queues on SQS, the mailer on SESv2 and the blob store on S3. Same
//! semantics as the in-memory twins in `omnidesk_domain::memory`; no Lambda dependency, so the
//! local desk and the moto tests link it as it is.
//!
//! Each client but S3 (the configuration object) is behind a feature of its own (`dynamodb`,
//! `sqs`, `sesv2`, `secrets`, `sns`; see Cargo.toml), so a function built alone compiles and links
//! only the clients it calls.
//!
//! [`RequestMeter`] counts what a workload costs: HTTP attempts per service and operation,
//! and DynamoDB capacity units. Attach it with [`Clients::with_meter`] or
//! [`AwsEnvironment::with_meter`].

mod clients;
mod config;
mod config_object;
#[cfg(feature = "dynamodb")]
mod dynamo;
mod errors;
mod https;
mod meter;
#[cfg(test)]
mod mock_client;
mod s3;
#[cfg(feature = "secrets")]
mod secrets;
#[cfg(feature = "sesv2")]
mod ses;
mod settings;
#[cfg(feature = "sns")]
mod sns;
#[cfg(feature = "sqs")]
mod sqs;

use std::sync::Arc;

use aws_config::SdkConfig;

pub use clients::Clients;
pub use config::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, sdk_config, sdk_config_loader,
};
pub use config_object::{
    CONFIG_BUCKET, CONFIG_KEY, CONFIG_VERSION, ConfigLocation, ConfigObject, ConfigObjectError,
};
#[cfg(feature = "dynamodb")]
pub use dynamo::{
    DynamoArticles, DynamoStore, INLINE_BODY_BYTES, MAX_TRANSACTION_WRITES, TABLE_INDEXES, TableIndex,
};
pub use https::https_client;
pub use meter::{Capacity, MeterInterceptor, MeterSnapshot, RequestMeter};
pub use s3::S3BlobStore;
#[cfg(feature = "secrets")]
pub use secrets::SecretsManagerResolver;
#[cfg(feature = "sesv2")]
pub use ses::SesMailer;
pub use settings::{
    AwsSettings, BLOB_BUCKET, INBOUND_QUEUE_URL, OUTBOUND_QUEUE_URL, SettingsError, TABLE_NAME,
};
#[cfg(feature = "sns")]
pub use sns::SnsAlerts;
#[cfg(feature = "sqs")]
pub use sqs::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_QUEUE_MESSAGE_BYTES, SqsQueue};

/// The store on `table`, with a DynamoDB client built from `config`.
#[cfg(feature = "dynamodb")]
pub fn dynamo_store(config: &SdkConfig, table: &str) -> DynamoStore {
    Clients::new(config).store(table)
}

/// The queue at `url`, with an SQS client built from `config`.
#[cfg(feature = "sqs")]
pub fn sqs_queue(config: &SdkConfig, url: &str) -> SqsQueue {
    Clients::new(config).queue(url)
}

/// What a function needs to reach its AWS resources: where they are (from the environment)
/// and one SDK configuration. Loaded once, in init.
pub struct AwsEnvironment {
    pub settings: AwsSettings,
    pub sdk: SdkConfig,
    meter: Option<Arc<RequestMeter>>,
    /// One client per service for every adapter of the function (see [`Clients`]).
    clients: Clients,
}

impl AwsEnvironment {
    pub async fn load() -> Result<Self, SettingsError> {
        Ok(Self::new(AwsSettings::from_env()?, sdk_config().await))
    }

    pub fn new(settings: AwsSettings, sdk: SdkConfig) -> Self {
        let clients = Clients::new(&sdk);
        Self { settings, sdk, meter: None, clients }
    }

    /// Every adapter built from here on counts its requests (and the stores their capacity)
    /// in `meter`.
    pub fn with_meter(mut self, meter: Arc<RequestMeter>) -> Self {
        self.clients = Clients::new(&self.sdk).with_meter(meter.clone());
        self.meter = Some(meter);
        self
    }

    pub fn meter(&self) -> Option<&Arc<RequestMeter>> {
        self.meter.as_ref()
    }

    /// The client builder on this environment's SDK config and meter; its clones share the
    /// clients it builds.
    pub fn clients(&self) -> Clients {
        self.clients.clone()
    }

    /// The table's stores; fails naming `TABLE_NAME` if it is not set.
    #[cfg(feature = "dynamodb")]
    pub fn store(&self) -> Result<DynamoStore, SettingsError> {
        Ok(self.clients().store(self.settings.require_table_name()?))
    }

    #[cfg(feature = "sqs")]
    pub fn inbound_queue(&self) -> Result<SqsQueue, SettingsError> {
        Ok(self.clients().queue(self.settings.require_inbound_queue_url()?))
    }

    #[cfg(feature = "sqs")]
    pub fn outbound_queue(&self) -> Result<SqsQueue, SettingsError> {
        Ok(self.clients().queue(self.settings.require_outbound_queue_url()?))
    }

    /// SESv2 in the config's region; senders must be verified identities there.
    #[cfg(feature = "sesv2")]
    pub fn mailer(&self) -> SesMailer {
        self.clients().mailer()
    }

    /// The desk configuration's text, from the object the environment names (see
    /// [`ConfigLocation::from_env`]). Read once, in init.
    pub async fn config_text(&self, max_bytes: usize) -> Result<String, ConfigObjectError> {
        self.clients().config_object(ConfigLocation::from_env()?).read(max_bytes).await
    }

    /// Secrets Manager, for the functions that resolve secret references.
    #[cfg(feature = "secrets")]
    pub fn secrets(&self) -> SecretsManagerResolver {
        self.clients().secrets()
    }

    /// The blob bucket; fails naming `BLOB_BUCKET` if it is not set.
    pub fn blobs(&self) -> Result<S3BlobStore, SettingsError> {
        Ok(self.clients().blobs(self.settings.require_blob_bucket()?))
    }
}
