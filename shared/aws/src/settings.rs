//! Where the AWS resources are, from the environment the function was deployed with.

/// A required setting is missing or unreadable. Names the variable, so a bad deploy says
/// exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is not valid UTF-8")]
    NotUnicode(&'static str),
}

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const INBOUND_QUEUE_URL: &str = "INBOUND_QUEUE_URL";
pub const OUTBOUND_QUEUE_URL: &str = "OUTBOUND_QUEUE_URL";
pub const BLOB_BUCKET: &str = "BLOB_BUCKET";

/// The resources a function may use. Each function needs a different subset (chat-webhook
/// has no table, only the inbound queue), so all are optional here and each function asks for
/// what it needs with a `require_*` call, whose error names the missing variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub table_name: Option<String>,
    pub inbound_queue_url: Option<String>,
    pub outbound_queue_url: Option<String>,
    /// The S3 bucket for raw mail, attachments and exports.
    pub blob_bucket: Option<String>,
}

impl AwsSettings {
    /// Reads `TABLE_NAME`, `INBOUND_QUEUE_URL`, `OUTBOUND_QUEUE_URL` and `BLOB_BUCKET`.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(process_env)
    }

    /// Reads the settings through `lookup` (`Err(())`: present but not UTF-8), so tests need
    /// not change the process environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Result<Option<String>, ()>) -> Result<Self, SettingsError> {
        let read = |name: &'static str| -> Result<Option<String>, SettingsError> {
            let value = lookup(name).map_err(|()| SettingsError::NotUnicode(name))?;
            Ok(value.filter(|v| !v.trim().is_empty()))
        };
        Ok(Self {
            table_name: read(TABLE_NAME)?,
            inbound_queue_url: read(INBOUND_QUEUE_URL)?,
            outbound_queue_url: read(OUTBOUND_QUEUE_URL)?,
            blob_bucket: read(BLOB_BUCKET)?,
        })
    }

    /// The table, for functions that cannot run without it.
    pub fn require_table_name(&self) -> Result<&str, SettingsError> {
        self.table_name.as_deref().ok_or(SettingsError::Missing(TABLE_NAME))
    }

    /// The inbound queue, for functions that cannot run without it.
    pub fn require_inbound_queue_url(&self) -> Result<&str, SettingsError> {
        self.inbound_queue_url.as_deref().ok_or(SettingsError::Missing(INBOUND_QUEUE_URL))
    }

    /// The outbound queue, for functions that cannot run without it.
    pub fn require_outbound_queue_url(&self) -> Result<&str, SettingsError> {
        self.outbound_queue_url.as_deref().ok_or(SettingsError::Missing(OUTBOUND_QUEUE_URL))
    }

    /// The blob bucket, for functions that cannot run without it.
    pub fn require_blob_bucket(&self) -> Result<&str, SettingsError> {
        self.blob_bucket.as_deref().ok_or(SettingsError::Missing(BLOB_BUCKET))
    }
}

/// A variable of the process environment, as the `from_lookup` readers take it: `Err(())`
/// if it is set but not UTF-8.
pub(crate) fn process_env(name: &str) -> Result<Option<String>, ()> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<AwsSettings, SettingsError> {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsSettings::from_lookup(|name| Ok(env.get(name).cloned()))
    }

    #[test]
    fn reads_what_is_set() {
        let settings =
            from(&[(TABLE_NAME, "desk"), (OUTBOUND_QUEUE_URL, "http://q/out"), (BLOB_BUCKET, "desk-blobs")])
                .unwrap();
        assert_eq!(settings.require_table_name(), Ok("desk"));
        assert_eq!(settings.require_blob_bucket(), Ok("desk-blobs"));
        assert_eq!(settings.require_outbound_queue_url(), Ok("http://q/out"));
        assert_eq!(settings.inbound_queue_url, None);
    }

    #[test]
    fn a_missing_or_empty_requirement_is_named() {
        let settings = from(&[(TABLE_NAME, " ")]).unwrap();
        let err = settings.require_table_name().unwrap_err();
        assert_eq!(err, SettingsError::Missing(TABLE_NAME));
        assert_eq!(err.to_string(), "environment variable TABLE_NAME is not set");
        assert_eq!(settings.require_inbound_queue_url(), Err(SettingsError::Missing(INBOUND_QUEUE_URL)));
        assert_eq!(settings.require_outbound_queue_url(), Err(SettingsError::Missing(OUTBOUND_QUEUE_URL)));
        assert_eq!(settings.require_blob_bucket(), Err(SettingsError::Missing(BLOB_BUCKET)));
    }

    #[test]
    fn unreadable_value_is_named() {
        let result = AwsSettings::from_lookup(|name| if name == TABLE_NAME { Err(()) } else { Ok(None) });
        assert_eq!(result, Err(SettingsError::NotUnicode(TABLE_NAME)));
    }
}
