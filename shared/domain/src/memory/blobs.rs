//! The blob store in memory: objects in a sorted map, like an S3 bucket, and links signed
//! with the store's own key that the local desk serves at `/local/blobs/{key}`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{KeyInit, Mac};
use jiff::Timestamp;

use crate::ports::{BlobStore, StoreError};
use crate::system::later;

/// Where the local desk serves signed blob links.
pub const LOCAL_BLOB_PATH: &str = "/local/blobs/";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Objects in a sorted map, like an S3 bucket.
#[derive(Debug)]
pub struct MemoryBlobStore {
    objects: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
    /// Signs links; fresh per store, so a link outlives neither its expiry nor the process.
    signing_key: [u8; 32],
}

impl Default for MemoryBlobStore {
    fn default() -> Self {
        let mut signing_key = [0u8; 32];
        signing_key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        signing_key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self { objects: Mutex::default(), signing_key }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link's signature is not valid")]
    BadSignature,
}

impl MemoryBlobStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Vec<u8>, String)>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The content type an object was stored with.
    pub fn content_type(&self, key: &str) -> Option<String> {
        self.lock().get(key).map(|(_, content_type)| content_type.clone())
    }

    fn mac(&self, key: &str, expires: i64) -> HmacSha256 {
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(&self.signing_key).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{key}\n{expires}").as_bytes());
        mac
    }

    /// Checks a link's expiry (unix seconds) and signature (hex) for `key` at `now`.
    pub fn verify_link(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
        now: Timestamp,
    ) -> Result<(), LinkError> {
        let signature = hex::decode(signature).map_err(|_| LinkError::BadSignature)?;
        self.mac(key, expires).verify_slice(&signature).map_err(|_| LinkError::BadSignature)?;
        if now.as_second() > expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.lock().insert(key.to_owned(), (bytes, content_type.to_owned()));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(key).map(|(bytes, _)| bytes.clone()))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }

    async fn presigned_get(&self, key: &str, now: Timestamp, ttl: Duration) -> Result<String, StoreError> {
        let expires = later(now, ttl).as_second();
        let signature = hex::encode(self.mac(key, expires).finalize().into_bytes());
        Ok(format!("{LOCAL_BLOB_PATH}{key}?expires={expires}&sig={signature}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signed_link_opens_its_object_until_it_expires_and_no_other() {
        let store = MemoryBlobStore::default();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let url = store.presigned_get("attachments/r1/abc", now, Duration::from_secs(60)).await.unwrap();
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "/local/blobs/attachments/r1/abc");
        let params: BTreeMap<&str, &str> = query.split('&').filter_map(|p| p.split_once('=')).collect();
        let expires: i64 = params["expires"].parse().unwrap();
        let sig = params["sig"];
        assert_eq!(store.verify_link("attachments/r1/abc", expires, sig, now), Ok(()));
        let after = Timestamp::from_second(expires + 1).unwrap();
        assert_eq!(store.verify_link("attachments/r1/abc", expires, sig, after), Err(LinkError::Expired));
        assert_eq!(store.verify_link("attachments/r2/abc", expires, sig, now), Err(LinkError::BadSignature));
        assert_eq!(
            store.verify_link("attachments/r1/abc", expires + 3600, sig, now),
            Err(LinkError::BadSignature)
        );
        let other = MemoryBlobStore::default();
        assert_eq!(other.verify_link("attachments/r1/abc", expires, sig, now), Err(LinkError::BadSignature));
    }
}
