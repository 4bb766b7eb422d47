//! WeChat's access token, shared by every container through the table: WeChat issues a
//! limited number a day and each new one retires the last, so no container may fetch its
//! own. Time is cut into refresh periods (an hour; a token lives two); the first container
//! that needs a period's token leases its key, fetches it and stores it; the others wait for
//! it. Within a container one lock keeps concurrent replies to one table read. A token is
//! never used past its period, so it is always replaced well before it expires.
//!
//! WeChat may retire a token early (someone fetched one with the AppSecret elsewhere). A
//! container whose reply is refused for the token asks for the one that replaces it: the
//! replacement is keyed by the refused token, so every container that meets the same refusal
//! shares one fetch, and the rest of the period uses the replacement.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use omnidesk_domain::ports::{Clock, Idempotency, IdempotencyRecord, IdempotencyStore, NotifyError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::WechatAccount;

/// How long one stored token is used: half its two-hour life.
pub const REFRESH_EVERY: Duration = Duration::from_secs(3600);
/// How long a container may hold the fetch before another takes over.
const FETCH_LEASE: Duration = Duration::from_secs(10);
/// How often a waiting container looks for the token another one is fetching, and how long.
const POLL_EVERY: Duration = Duration::from_millis(50);
const POLL_FOR: Duration = Duration::from_secs(5);

/// A token as the platform issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub access_token: String,
    /// Seconds.
    pub expires_in: u64,
}

/// Fetches a new token from the platform (`/cgi-bin/token`).
#[async_trait]
pub trait TokenIssuer: Send + Sync {
    async fn issue(&self, account: &WechatAccount) -> Result<Issued, NotifyError>;
}

pub struct SharedToken {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    issuer: Arc<dyn TokenIssuer>,
    /// This container, as the lease holder.
    owner: String,
    /// The token of the current period per AppID.
    cache: tokio::sync::Mutex<HashMap<String, (i64, String)>>,
}

impl SharedToken {
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        clock: Arc<dyn Clock>,
        issuer: Arc<dyn TokenIssuer>,
        owner: String,
    ) -> Self {
        Self { store, clock, issuer, owner, cache: tokio::sync::Mutex::new(HashMap::new()) }
    }

    /// The account's token for now.
    pub async fn token(&self, account: &WechatAccount) -> Result<String, NotifyError> {
        let mut cache = self.cache.lock().await;
        let period = omnidesk_domain::ports::window_start(self.clock.now(), REFRESH_EVERY);
        if let Some((cached, token)) = cache.get(&account.app_id)
            && *cached == period
        {
            return Ok(token.clone());
        }
        let key = format!("wechat-token:{}:{period}", account.app_id);
        let token = self.shared(account, key).await?;
        cache.insert(account.app_id.clone(), (period, token.clone()));
        Ok(token)
    }

    /// The platform called `refused` invalid: this container takes the token that replaces
    /// it, fetched once for every container that meets the same refusal, and keeps it for
    /// the rest of the period.
    pub async fn replace(&self, account: &WechatAccount, refused: &str) -> Result<String, NotifyError> {
        let mut cache = self.cache.lock().await;
        let period = omnidesk_domain::ports::window_start(self.clock.now(), REFRESH_EVERY);
        if let Some((cached, token)) = cache.get(&account.app_id)
            && *cached == period
            && token != refused
        {
            // Another reply of this container replaced it already.
            return Ok(token.clone());
        }
        let digest = hex::encode(&Sha256::digest(refused.as_bytes())[..8]);
        let key = format!("wechat-token:{}:{period}:after:{digest}", account.app_id);
        let token = self.shared(account, key).await?;
        cache.insert(account.app_id.clone(), (period, token.clone()));
        Ok(token)
    }

    async fn shared(&self, account: &WechatAccount, key: String) -> Result<String, NotifyError> {
        let store =
            |e: omnidesk_domain::ports::StoreError| NotifyError::Retryable(format!("token store: {e}"));
        let started = std::time::Instant::now();
        loop {
            let now = self.clock.now();
            match self.store.begin(&key, &self.owner, now, FETCH_LEASE).await.map_err(store)? {
                Idempotency::Done(stored) => {
                    let issued: Issued = serde_json::from_value(stored)
                        .map_err(|e| NotifyError::Retryable(format!("stored token: {e}")))?;
                    return Ok(issued.access_token);
                }
                Idempotency::Started => {
                    let issued = match self.issuer.issue(account).await {
                        Ok(issued) => issued,
                        Err(error) => {
                            self.store.release(&key).await.map_err(store)?;
                            return Err(error);
                        }
                    };
                    tracing::info!(app_id = %account.app_id, key = %key, "wechat.token_issued");
                    let expires_at = later(now, issued.expires_in);
                    let result =
                        serde_json::to_value(&issued).map_err(|e| NotifyError::Retryable(e.to_string()))?;
                    self.store
                        .complete(IdempotencyRecord { key, result, expires_at })
                        .await
                        .map_err(store)?;
                    return Ok(issued.access_token);
                }
                Idempotency::InFlight => {
                    if started.elapsed() > POLL_FOR {
                        return Err(NotifyError::Retryable(
                            "the access token is being fetched elsewhere".into(),
                        ));
                    }
                    tokio::time::sleep(POLL_EVERY).await;
                }
            }
        }
    }
}

fn later(now: Timestamp, seconds: u64) -> Timestamp {
    now.checked_add(jiff::SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(7200))).unwrap_or(now)
}
