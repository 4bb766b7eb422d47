//! The desk configuration on S3: one object in the stack's versioned config bucket. Every
//! function reads it once, at start (where it is comes from three small environment
//! variables); `omnidesk-local config push` writes it after validating it. S3 rather than
//! AppConfig: read once at start, one GetObject on a client the desk already links, versions
//! for rollback and pinning, and moto serves it fully (README, "Deploying").

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::settings::{SettingsError, process_env};

/// The bucket holding the configuration.
pub const CONFIG_BUCKET: &str = "OMNIDESK_CONFIG_BUCKET";
/// The object's key in it.
pub const CONFIG_KEY: &str = "OMNIDESK_CONFIG_KEY";
/// Optional: an S3 version id, pinning the functions to one version of the object.
pub const CONFIG_VERSION: &str = "OMNIDESK_CONFIG_VERSION";

/// Where the configuration object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLocation {
    pub bucket: String,
    pub key: String,
    /// `None`: the latest version.
    pub version: Option<String>,
}

impl ConfigLocation {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self { bucket: bucket.into(), key: key.into(), version: None }
    }

    /// Reads [`CONFIG_BUCKET`], [`CONFIG_KEY`] and [`CONFIG_VERSION`] (empty: unset).
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(process_env)
    }

    /// Reads the location through `lookup` (`Err(())`: present but not UTF-8).
    pub fn from_lookup(lookup: impl Fn(&str) -> Result<Option<String>, ()>) -> Result<Self, SettingsError> {
        let read = |name: &'static str| -> Result<Option<String>, SettingsError> {
            let value = lookup(name).map_err(|()| SettingsError::NotUnicode(name))?;
            Ok(value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
        };
        Ok(Self {
            bucket: read(CONFIG_BUCKET)?.ok_or(SettingsError::Missing(CONFIG_BUCKET))?,
            key: read(CONFIG_KEY)?.ok_or(SettingsError::Missing(CONFIG_KEY))?,
            version: read(CONFIG_VERSION)?,
        })
    }
}

impl std::fmt::Display for ConfigLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        match &self.version {
            Some(version) => write!(f, " (version {version})"),
            None => Ok(()),
        }
    }
}

/// Reading or writing the configuration object failed. Each message names the object, so a
/// function that cannot start says exactly what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigObjectError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0}: no such object; push the configuration first (omnidesk-local config push)")]
    NotFound(ConfigLocation),
    #[error("{0}: {1} bytes is over the limit of {2}")]
    TooLarge(ConfigLocation, u64, usize),
    #[error("{0}: not UTF-8 text")]
    NotText(ConfigLocation),
    #[error("{0}: {1}")]
    Unavailable(ConfigLocation, String),
}

/// The configuration object, on an S3 client.
#[derive(Debug, Clone)]
pub struct ConfigObject {
    client: Client,
    location: ConfigLocation,
}

impl ConfigObject {
    pub fn new(client: Client, location: ConfigLocation) -> Self {
        Self { client, location }
    }

    pub fn location(&self) -> &ConfigLocation {
        &self.location
    }

    /// The text, refusing objects over `max_bytes` before reading their body.
    pub async fn read(&self, max_bytes: usize) -> Result<String, ConfigObjectError> {
        let location = &self.location;
        let unavailable = |message: String| ConfigObjectError::Unavailable(location.clone(), message);
        let output = self
            .client
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .set_version_id(location.version.clone())
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(GetObjectError::NoSuchKey(_)) => ConfigObjectError::NotFound(location.clone()),
                _ => unavailable(format!("GetObject: {}", DisplayErrorContext(e))),
            })?;
        let size = output.content_length().unwrap_or(0).max(0) as u64;
        if size > max_bytes as u64 {
            return Err(ConfigObjectError::TooLarge(location.clone(), size, max_bytes));
        }
        let body = output.body.collect().await.map_err(|e| unavailable(format!("reading the body: {e}")))?;
        let bytes = body.into_bytes();
        // Content-Length can be absent (chunked); the limit holds either way.
        if bytes.len() > max_bytes {
            return Err(ConfigObjectError::TooLarge(location.clone(), bytes.len() as u64, max_bytes));
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| ConfigObjectError::NotText(location.clone()))
    }

    /// Writes `text` as a new version of the object; answers the version id S3 gave it
    /// (`None` if the bucket is not versioned).
    pub async fn push(&self, text: &str) -> Result<Option<String>, ConfigObjectError> {
        let location = &self.location;
        let output = self
            .client
            .put_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .body(ByteStream::from(text.as_bytes().to_vec()))
            .content_type("application/toml")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| {
                ConfigObjectError::Unavailable(
                    location.clone(),
                    format!("PutObject: {}", DisplayErrorContext(e)),
                )
            })?;
        Ok(output.version_id().map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::types::error::NoSuchKey;
    use aws_smithy_mocks::{RuleMode, mock};

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<ConfigLocation, SettingsError> {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ConfigLocation::from_lookup(|name| Ok(env.get(name).cloned()))
    }

    #[test]
    fn the_location_comes_from_three_variables_and_missing_ones_are_named() {
        let location =
            from(&[(CONFIG_BUCKET, "desk-config"), (CONFIG_KEY, "omnidesk.toml"), (CONFIG_VERSION, "")]);
        assert_eq!(location, Ok(ConfigLocation::new("desk-config", "omnidesk.toml")));
        let pinned = from(&[(CONFIG_BUCKET, "b"), (CONFIG_KEY, "k"), (CONFIG_VERSION, "v7")]).unwrap();
        assert_eq!(pinned.to_string(), "s3://b/k (version v7)");
        assert_eq!(from(&[(CONFIG_KEY, "k")]), Err(SettingsError::Missing(CONFIG_BUCKET)));
        assert_eq!(from(&[(CONFIG_BUCKET, "b")]), Err(SettingsError::Missing(CONFIG_KEY)));
    }

    #[tokio::test]
    async fn a_pinned_version_is_requested_and_a_missing_object_says_to_push() {
        let pinned = mock!(Client::get_object)
            .match_requests(|r| r.key() == Some("omnidesk.toml") && r.version_id() == Some("v7"))
            .then_output(|| {
                GetObjectOutput::builder().body(ByteStream::from_static(b"[delivery]\n")).build()
            });
        let missing =
            mock!(Client::get_object).then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
        let client = crate::mock_client::mock_client!(aws_sdk_s3, RuleMode::Sequential, &[&pinned, &missing]);
        let mut location = ConfigLocation::new("desk-config", "omnidesk.toml");
        location.version = Some("v7".into());
        let object = ConfigObject::new(client, location);
        assert_eq!(object.read(1024).await.unwrap(), "[delivery]\n");
        let error = object.read(1024).await.unwrap_err().to_string();
        assert_eq!(
            error,
            "s3://desk-config/omnidesk.toml (version v7): no such object; push the configuration first (omnidesk-local config push)"
        );
    }

    #[tokio::test]
    async fn an_object_over_the_limit_is_refused_before_its_body_is_read() {
        let big = mock!(Client::get_object).then_output(|| {
            GetObjectOutput::builder().content_length(5_000_000).body(ByteStream::from_static(b"")).build()
        });
        let client = crate::mock_client::mock_client!(aws_sdk_s3, RuleMode::Sequential, &[&big]);
        let object = ConfigObject::new(client, ConfigLocation::new("b", "k"));
        assert!(matches!(object.read(1024).await, Err(ConfigObjectError::TooLarge(_, 5_000_000, 1024))));
    }
}
