//! WeChat's UnionID: the same person across the Official Accounts of one owner (bound to one
//! Open Platform account). Pushes carry only the OpenID, which is per account; the user-info
//! API (`GET /cgi-bin/user/info?access_token=…&openid=…`) gives the UnionID. It is asked once
//! per OpenID, with the shared access token, on the customer's first message, and the answer
//! (a UnionID or none) is kept in the table for every container; the router then links the
//! accounts' customers through it, as an identity the platform vouches for.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use omnidesk_domain::ports::{Clock, Idempotency, IdempotencyRecord, IdempotencyStore};
use omnidesk_domain::social::MAX_SOCIAL_ID_CHARS;
use omnidesk_domain::system::later;
use serde::Deserialize;
use serde_json::json;

use super::token::SharedToken;
use crate::config::WechatAccount;

/// How long an answer is kept: a UnionID never changes for an OpenID.
const KEEP_ANSWER: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long one container may hold the lookup before another takes over.
const LOOKUP_LEASE: Duration = Duration::from_secs(10);
/// How long the lookup may take: WeChat wants its `success` within five seconds.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);
/// OpenIDs whose answer one container remembers.
const MAX_CACHED: usize = 10_000;

#[derive(Deserialize)]
struct UserInfo {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    unionid: Option<String>,
}

pub struct WechatUsers {
    store: Arc<dyn IdempotencyStore>,
    tokens: Arc<SharedToken>,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    owner: String,
    cache: tokio::sync::Mutex<HashMap<String, Option<String>>>,
}

impl WechatUsers {
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        tokens: Arc<SharedToken>,
        http: reqwest::Client,
        clock: Arc<dyn Clock>,
        owner: String,
    ) -> Self {
        Self { store, tokens, http, clock, owner, cache: tokio::sync::Mutex::new(HashMap::new()) }
    }

    /// The UnionID of `openid` on `account`, if WeChat gives one. Any failure (the API down,
    /// another container asking right now) is no UnionID for this message; a later one asks
    /// again.
    pub async fn union_id(&self, account: &WechatAccount, openid: &str) -> Option<String> {
        let key = format!("wechat-user:{}:{openid}", account.app_id);
        if let Some(known) = self.cache.lock().await.get(&key) {
            return known.clone();
        }
        let now = self.clock.now();
        let stored = match self.store.result(&key, now).await {
            Ok(Some(stored)) => Some(stored),
            Ok(None) => match self.store.begin(&key, &self.owner, now, LOOKUP_LEASE).await {
                Ok(Idempotency::Done(stored)) => Some(stored),
                Ok(Idempotency::Started) => self.ask(account, openid, key.clone()).await,
                Ok(Idempotency::InFlight) => None,
                Err(error) => {
                    tracing::warn!(%error, "wechat.user_lookup_failed");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(%error, "wechat.user_lookup_failed");
                None
            }
        };
        let union = stored?.get("unionid").and_then(|u| u.as_str()).map(str::to_owned);
        let mut cache = self.cache.lock().await;
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, union.clone());
        union
    }

    /// Asks WeChat and keeps the answer; `None` (and the lease released) when it fails.
    async fn ask(&self, account: &WechatAccount, openid: &str, key: String) -> Option<serde_json::Value> {
        let answer = tokio::time::timeout(LOOKUP_TIMEOUT, self.fetch(account, openid)).await;
        let union = match answer {
            Ok(Ok(union)) => union,
            failed => {
                let error = match failed {
                    Ok(Err(error)) => error,
                    _ => "timed out".to_owned(),
                };
                tracing::warn!(%error, "wechat.user_info_failed");
                if let Err(error) = self.store.release(&key).await {
                    tracing::warn!(%error, "wechat.user_lookup_release_failed");
                }
                return None;
            }
        };
        let result = json!({ "unionid": union });
        let record = IdempotencyRecord {
            key,
            result: result.clone(),
            expires_at: later(self.clock.now(), KEEP_ANSWER),
        };
        if let Err(error) = self.store.complete(record).await {
            tracing::warn!(%error, "wechat.user_lookup_not_kept");
        }
        Some(result)
    }

    async fn fetch(&self, account: &WechatAccount, openid: &str) -> Result<Option<String>, String> {
        let token = self.tokens.token(account).await.map_err(|e| e.to_string())?;
        let url = format!("{}/cgi-bin/user/info", account.api_base.trim_end_matches('/'));
        let info: UserInfo = self
            .http
            .get(url)
            .query(&[("access_token", token.as_str()), ("openid", openid), ("lang", "zh_CN")])
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?
            .json()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if info.errcode != 0 {
            if matches!(info.errcode, 40001 | 40014 | 42001) {
                self.tokens.replace(account, &token).await.map_err(|e| e.to_string())?;
            }
            return Err(format!("user/info answered {}", info.errcode));
        }
        // Only a bounded, printable id is an identity.
        Ok(info.unionid.filter(|u| {
            !u.trim().is_empty()
                && u.chars().count() <= MAX_SOCIAL_ID_CHARS
                && !u.chars().any(char::is_control)
        }))
    }
}
