//! omnidesk's ports on AWS: the ticket, customer and idempotency stores on one DynamoDB
//! table, and queues on SQS. Same semantics as the in-memory twins in
//! `omnidesk_domain::memory`; no Lambda dependency, so the local desk and the moto tests link
//! it as it is.

mod config;
mod dynamo;
mod errors;
mod settings;
mod sqs;

use aws_config::SdkConfig;

pub use config::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, sdk_config, sdk_config_loader,
};
pub use dynamo::{DynamoStore, MAX_TRANSACTION_WRITES};
pub use settings::{AwsSettings, INBOUND_QUEUE_URL, OUTBOUND_QUEUE_URL, SettingsError, TABLE_NAME};
pub use sqs::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_QUEUE_MESSAGE_BYTES, SqsQueue};

/// The store on `table`, with a DynamoDB client built from `config`.
pub fn dynamo_store(config: &SdkConfig, table: &str) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(config), table)
}

/// The queue at `url`, with an SQS client built from `config`.
pub fn sqs_queue(config: &SdkConfig, url: &str) -> SqsQueue {
    SqsQueue::new(aws_sdk_sqs::Client::new(config), url)
}

/// What a function needs to reach its AWS resources: where they are (from the environment)
/// and one SDK configuration. Loaded once, in init.
pub struct AwsEnvironment {
    pub settings: AwsSettings,
    pub sdk: SdkConfig,
}

impl AwsEnvironment {
    pub async fn load() -> Result<Self, SettingsError> {
        Ok(Self { settings: AwsSettings::from_env()?, sdk: sdk_config().await })
    }

    /// The table's stores; fails naming `TABLE_NAME` if it is not set.
    pub fn store(&self) -> Result<DynamoStore, SettingsError> {
        Ok(dynamo_store(&self.sdk, self.settings.require_table_name()?))
    }

    pub fn inbound_queue(&self) -> Result<SqsQueue, SettingsError> {
        Ok(sqs_queue(&self.sdk, self.settings.require_inbound_queue_url()?))
    }

    pub fn outbound_queue(&self) -> Result<SqsQueue, SettingsError> {
        Ok(sqs_queue(&self.sdk, self.settings.require_outbound_queue_url()?))
    }
}
