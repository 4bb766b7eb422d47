//! The blob store port on S3: one bucket, optionally under a key prefix, so several stores
//! (raw mail, attachments, exports) can share a bucket without seeing each other's keys.
//!
//! `get` of a missing key needs `s3:ListBucket` on the bucket: without it S3 answers 403
//! instead of 404, which reads as `Unavailable`, not as `None`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use jiff::Timestamp;
use omnidesk_domain::ports::{BlobStore, StoreError};

use crate::errors::blob_error;

#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
}

impl S3BlobStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into(), prefix: String::new() }
    }

    /// Keeps every key under `prefix` (a folder: `/` is added if missing). The port's keys
    /// stay relative: `put("a")` writes `<prefix>/a`, and `list` answers `a`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        let mut prefix = prefix.into();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        self.prefix = prefix;
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn object_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .body(ByteStream::from(bytes))
            .content_type(content_type)
            // Raw mail and exports hold personal data: encrypted at rest even if the bucket's
            // default encryption were ever switched off.
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .map_err(|e| blob_error("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let output =
            match self.client.get_object().bucket(&self.bucket).key(self.object_key(key)).send().await {
                Ok(output) => output,
                Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                    return Ok(None);
                }
                Err(e) => return Err(blob_error("GetObject", e)),
            };
        // The body streams after the headers: a connection lost midway is worth a retry.
        let body = output
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unavailable(format!("GetObject: reading the body: {e}")))?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        // S3 answers 204 for a missing key too, as the port wants.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|e| blob_error("DeleteObject", e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.object_key(prefix))
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| blob_error("ListObjectsV2", e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key())
                    .filter_map(|key| key.strip_prefix(self.prefix.as_str()))
                    .map(str::to_owned),
            );
        }
        // S3 lists in UTF-8 byte order already; sorting keeps the port's promise with any
        // S3-compatible store.
        keys.sort();
        Ok(keys)
    }

    /// Signed locally with the function's credentials (no request to S3): the link works
    /// until `ttl` from `now` or until those credentials expire, whichever comes first.
    async fn presigned_get(&self, key: &str, now: Timestamp, ttl: Duration) -> Result<String, StoreError> {
        let start = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(now.as_second()).unwrap_or(0));
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(ttl)
            .build()
            .map_err(|e| StoreError::Invalid(format!("presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .presigned(config)
            .await
            .map_err(|e| blob_error("GetObject (presign)", e))?;
        Ok(request.uri().to_owned())
    }
}

#[cfg(test)]
mod tests {

    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
    use aws_sdk_s3::types::Object;
    use aws_sdk_s3::types::error::{InvalidObjectState, InvalidRequest, NoSuchKey};
    use aws_smithy_mocks::{Rule, RuleMode, mock};

    use super::*;

    fn store(mode: RuleMode, rules: &[&Rule]) -> S3BlobStore {
        S3BlobStore::new(crate::mock_client::mock_client!(aws_sdk_s3, mode, rules), "desk-blobs")
            .with_prefix("raw")
    }

    #[tokio::test]
    async fn put_sends_prefix_content_type_and_encryption() {
        let rule = mock!(Client::put_object)
            .match_requests(|request| {
                request.bucket() == Some("desk-blobs")
                    && request.key() == Some("raw/mail/1.eml")
                    && request.content_type() == Some("message/rfc822")
                    && request.server_side_encryption() == Some(&ServerSideEncryption::Aes256)
            })
            .then_output(|| PutObjectOutput::builder().build());
        let store = store(RuleMode::Sequential, &[&rule]);
        store.put("mail/1.eml", b"From: a\r\n".to_vec(), "message/rfc822").await.unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn get_reads_the_body_and_a_missing_key_is_none() {
        let found = mock!(Client::get_object)
            .match_requests(|request| request.key() == Some("raw/a"))
            .then_output(|| GetObjectOutput::builder().body(ByteStream::from_static(b"hello")).build());
        let missing =
            mock!(Client::get_object).then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
        let store = store(RuleMode::Sequential, &[&found, &missing]);
        assert_eq!(store.get("a").await.unwrap(), Some(b"hello".to_vec()));
        assert_eq!(store.get("b").await.unwrap(), None);
    }

    #[tokio::test]
    async fn refused_requests_are_corrupt_and_the_rest_unavailable() {
        let invalid = mock!(Client::put_object)
            .then_error(|| PutObjectError::InvalidRequest(InvalidRequest::builder().build()));
        let archived = mock!(Client::get_object)
            .then_error(|| GetObjectError::InvalidObjectState(InvalidObjectState::builder().build()));
        let slow_down = mock!(Client::get_object).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(503).unwrap(),
                aws_smithy_types::body::SdkBody::from("<Error><Code>SlowDown</Code></Error>"),
            )
        });
        let store = store(RuleMode::Sequential, &[&invalid, &archived, &slow_down]);
        assert!(matches!(store.put("a", Vec::new(), "text/plain").await, Err(StoreError::Corrupt(_))));
        assert!(matches!(store.get("a").await, Err(StoreError::Corrupt(_))));
        let result = store.get("a").await;
        assert!(matches!(&result, Err(StoreError::Unavailable(m)) if m.contains("SlowDown")), "{result:?}");
    }

    #[tokio::test]
    async fn list_follows_every_page_and_answers_relative_sorted_keys() {
        let first = mock!(Client::list_objects_v2)
            .match_requests(|request| {
                request.prefix() == Some("raw/mail/") && request.continuation_token().is_none()
            })
            .then_output(|| {
                ListObjectsV2Output::builder()
                    .contents(Object::builder().key("raw/mail/2.eml").build())
                    .contents(Object::builder().key("raw/mail/1.eml").build())
                    .is_truncated(true)
                    .next_continuation_token("page-2")
                    .build()
            });
        let second = mock!(Client::list_objects_v2)
            .match_requests(|request| request.continuation_token() == Some("page-2"))
            .then_output(|| {
                ListObjectsV2Output::builder()
                    .contents(Object::builder().key("raw/mail/3.eml").build())
                    .is_truncated(false)
                    .build()
            });
        let store = store(RuleMode::Sequential, &[&first, &second]);
        assert_eq!(store.list("mail/").await.unwrap(), vec!["mail/1.eml", "mail/2.eml", "mail/3.eml"]);
    }
}
