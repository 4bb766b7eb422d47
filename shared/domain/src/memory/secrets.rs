use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::secrets::{MAX_SECRET_BYTES, SecretError, SecretRef, SecretResolver};

/// Secrets in a map, like a Secrets Manager account: an unknown reference is `NotFound`, an
/// oversized value `Unusable`. Counts reads, so tests can see that init reads each once.
#[derive(Debug, Default)]
pub struct MemorySecrets {
    values: Mutex<HashMap<SecretRef, String>>,
    reads: AtomicUsize,
}

impl MemorySecrets {
    pub fn with(self, reference: SecretRef, value: impl Into<String>) -> Self {
        self.set(reference, value);
        self
    }

    /// Stores (or rotates) a value.
    pub fn set(&self, reference: SecretRef, value: impl Into<String>) {
        self.values.lock().unwrap_or_else(|p| p.into_inner()).insert(reference, value.into());
    }

    /// How many times [`SecretResolver::resolve`] was called.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretResolver for MemorySecrets {
    async fn resolve(&self, reference: &SecretRef) -> Result<String, SecretError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let values = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let value = values.get(reference).ok_or_else(|| SecretError::NotFound(reference.clone()))?;
        if value.len() > MAX_SECRET_BYTES {
            return Err(SecretError::Unusable(reference.clone(), format!("over {MAX_SECRET_BYTES} bytes")));
        }
        Ok(value.clone())
    }
}
