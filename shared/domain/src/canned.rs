//! Canned responses: texts supervisors keep for agents to start a reply from, with
//! placeholders the console fills in (`{customer_name}`, `{ticket}`, `{agent}`). Few and
//! small, all read at once; every change is conditioned on the version the supervisor saw,
//! so two supervisors editing one response never overwrite each other (409).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::desk::DeskError;
use crate::ports::{Clock, IdSource, StoreError};

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// The longest text, in bytes (a reply is at most 64 KiB; a canned one starts it).
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// The most responses a desk keeps: the console loads them all with each ticket.
pub const MAX_RESPONSES: usize = 200;

/// The placeholders the console fills in; any other `{…}` stays as typed.
pub const PLACEHOLDERS: [&str; 3] = ["{customer_name}", "{ticket}", "{agent}"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    /// `can_` and a random token.
    pub id: String,
    pub title: String,
    pub text: String,
    /// Grows by one with every change; send it back to change or delete.
    pub version: u64,
    pub updated_at: Timestamp,
    /// The supervisor who last wrote it.
    pub updated_by: String,
}

/// Where canned responses live: one small collection, read whole.
#[async_trait]
pub trait CannedStore: Send + Sync {
    /// Every response, ordered by id.
    async fn canned(&self) -> Result<Vec<CannedResponse>, StoreError>;
    /// Stores a new response; a conflict if the id exists.
    async fn insert_canned(&self, response: &CannedResponse) -> Result<(), StoreError>;
    /// Replaces the response whose stored version is `expected`; a conflict otherwise
    /// (changed meanwhile, or gone).
    async fn replace_canned(&self, response: &CannedResponse, expected: u64) -> Result<(), StoreError>;
    /// Deletes the response whose stored version is `expected`; a conflict otherwise.
    async fn delete_canned(&self, id: &str, expected: u64) -> Result<(), StoreError>;
}

/// What a supervisor writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedInput {
    pub title: String,
    pub text: String,
}

impl CannedInput {
    /// Trimmed and within the limits, or why not.
    fn checked(self) -> Result<Self, DeskError> {
        let title = self.title.trim().to_owned();
        let text = self.text.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(DeskError::Invalid(format!("title: 1 to {MAX_TITLE_CHARS} characters")));
        }
        if title.chars().any(char::is_control) {
            return Err(DeskError::Invalid("title: no control characters".into()));
        }
        if text.is_empty() || text.len() > MAX_TEXT_BYTES {
            return Err(DeskError::Invalid(format!("text: 1 to {MAX_TEXT_BYTES} bytes")));
        }
        Ok(Self { title, text })
    }
}

/// The canned-response workflows the agent API runs.
pub struct CannedResponses {
    store: Arc<dyn CannedStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl CannedResponses {
    pub fn new(store: Arc<dyn CannedStore>, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self { store, clock, ids }
    }

    pub async fn list(&self) -> Result<Vec<CannedResponse>, DeskError> {
        Ok(self.store.canned().await?)
    }

    pub async fn create(&self, by: &str, input: CannedInput) -> Result<CannedResponse, DeskError> {
        let input = input.checked()?;
        if self.store.canned().await?.len() >= MAX_RESPONSES {
            return Err(DeskError::Unsendable(format!(
                "a desk keeps at most {MAX_RESPONSES} canned responses"
            )));
        }
        let response = CannedResponse {
            id: format!("can_{}", self.ids.token()),
            title: input.title,
            text: input.text,
            version: 1,
            updated_at: self.clock.now(),
            updated_by: by.to_owned(),
        };
        self.store.insert_canned(&response).await?;
        Ok(response)
    }

    pub async fn update(
        &self,
        by: &str,
        id: &str,
        input: CannedInput,
        version: u64,
    ) -> Result<CannedResponse, DeskError> {
        let input = input.checked()?;
        let current = self.find(id).await?;
        if current.version != version {
            return Err(stale(id));
        }
        let response = CannedResponse {
            title: input.title,
            text: input.text,
            version: version + 1,
            updated_at: self.clock.now(),
            updated_by: by.to_owned(),
            ..current
        };
        self.store.replace_canned(&response, version).await.map_err(|e| conflict_as_stale(e, id))?;
        Ok(response)
    }

    pub async fn delete(&self, id: &str, version: u64) -> Result<(), DeskError> {
        let current = self.find(id).await?;
        if current.version != version {
            return Err(stale(id));
        }
        self.store.delete_canned(id, version).await.map_err(|e| conflict_as_stale(e, id))
    }

    async fn find(&self, id: &str) -> Result<CannedResponse, DeskError> {
        self.store
            .canned()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| DeskError::NotFound(format!("canned response {id:?}")))
    }
}

fn stale(id: &str) -> DeskError {
    DeskError::Conflict(format!("canned response {id} was changed meanwhile: reload it"))
}

fn conflict_as_stale(error: StoreError, id: &str) -> DeskError {
    match error {
        StoreError::Conflict(_) => stale(id),
        other => other.into(),
    }
}

/// The in-memory twin: the same conditions as the table's.
#[derive(Default)]
pub struct MemoryCannedStore {
    responses: Mutex<BTreeMap<String, CannedResponse>>,
}

impl MemoryCannedStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, CannedResponse>> {
        self.responses.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl CannedStore for MemoryCannedStore {
    async fn canned(&self) -> Result<Vec<CannedResponse>, StoreError> {
        Ok(self.lock().values().cloned().collect())
    }

    async fn insert_canned(&self, response: &CannedResponse) -> Result<(), StoreError> {
        let mut all = self.lock();
        if all.contains_key(&response.id) {
            return Err(StoreError::Conflict(format!("canned response {} exists", response.id)));
        }
        all.insert(response.id.clone(), response.clone());
        Ok(())
    }

    async fn replace_canned(&self, response: &CannedResponse, expected: u64) -> Result<(), StoreError> {
        let mut all = self.lock();
        match all.get(&response.id) {
            Some(stored) if stored.version == expected => {
                all.insert(response.id.clone(), response.clone());
                Ok(())
            }
            _ => Err(StoreError::Conflict(format!("canned response {} changed", response.id))),
        }
    }

    async fn delete_canned(&self, id: &str, expected: u64) -> Result<(), StoreError> {
        let mut all = self.lock();
        match all.get(id) {
            Some(stored) if stored.version == expected => {
                all.remove(id);
                Ok(())
            }
            _ => Err(StoreError::Conflict(format!("canned response {id} changed"))),
        }
    }
}

/// The contract every [`CannedStore`] keeps, run on the memory twin here and on DynamoDB
/// (moto) by the AWS adapter's tests. A test helper: it panics on a broken contract.
#[doc(hidden)]
pub async fn check_store_contract(store: &dyn CannedStore, id_prefix: &str) {
    let at = Timestamp::from_second(1_795_424_400).unwrap_or(Timestamp::UNIX_EPOCH);
    let first = CannedResponse {
        id: format!("can_{id_prefix}a"),
        title: "Parcel on its way".into(),
        text: "Hello {customer_name}, ticket {ticket} is on its way.".into(),
        version: 1,
        updated_at: at,
        updated_by: "sue".into(),
    };
    store.insert_canned(&first).await.expect("insert");
    assert!(matches!(store.insert_canned(&first).await, Err(StoreError::Conflict(_))), "an id is taken once");
    let second = CannedResponse { version: 2, title: "Parcel shipped".into(), ..first.clone() };
    assert!(matches!(store.replace_canned(&second, 7).await, Err(StoreError::Conflict(_))), "stale version");
    store.replace_canned(&second, 1).await.expect("replace from the version read");
    let listed = store.canned().await.expect("list");
    assert!(listed.contains(&second), "{listed:?}");
    assert!(matches!(store.delete_canned(&first.id, 1).await, Err(StoreError::Conflict(_))), "stale delete");
    store.delete_canned(&first.id, 2).await.expect("delete");
    assert!(!store.canned().await.expect("list").iter().any(|r| r.id == first.id));
    assert!(matches!(store.delete_canned(&first.id, 2).await, Err(StoreError::Conflict(_))), "gone");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{ManualClock, SequentialIds};

    fn desk() -> CannedResponses {
        let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
        CannedResponses::new(
            Arc::new(MemoryCannedStore::default()),
            clock,
            Arc::new(SequentialIds::default()),
        )
    }

    fn input(title: &str, text: &str) -> CannedInput {
        CannedInput { title: title.into(), text: text.into() }
    }

    #[tokio::test]
    async fn canned_store_contract_holds_on_the_memory_twin() {
        check_store_contract(&MemoryCannedStore::default(), "m").await;
    }

    #[tokio::test]
    async fn canned_responses_change_only_from_the_version_read() {
        let desk = desk();
        let made = desk.create("sue", input("  Greeting ", "Hello {customer_name}")).await.unwrap();
        assert_eq!((made.title.as_str(), made.version), ("Greeting", 1));
        let changed = desk.update("ann", &made.id, input("Greeting", "Hi {customer_name}"), 1).await.unwrap();
        assert_eq!((changed.version, changed.updated_by.as_str()), (2, "ann"));
        assert!(matches!(
            desk.update("sue", &made.id, input("x", "y"), 1).await,
            Err(DeskError::Conflict(_))
        ));
        assert!(matches!(desk.delete(&made.id, 1).await, Err(DeskError::Conflict(_))));
        desk.delete(&made.id, 2).await.unwrap();
        assert!(matches!(desk.delete(&made.id, 2).await, Err(DeskError::NotFound(_))));
        assert!(desk.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn input_hygiene_canned_titles_and_texts_are_bounded_and_not_blank() {
        let desk = desk();
        for (title, text) in [
            ("", "text"),
            ("   ", "text"),
            ("title", " \n "),
            ("line\nbreak", "text"),
            (&"长".repeat(MAX_TITLE_CHARS + 1), "text"),
            ("title", &"x".repeat(MAX_TEXT_BYTES + 1)),
        ] {
            let refused = desk.create("sue", input(title, text)).await;
            assert!(matches!(refused, Err(DeskError::Invalid(_))), "{title:?}: {refused:?}");
        }
        assert!(desk.create("sue", input(&"长".repeat(MAX_TITLE_CHARS), "ok")).await.is_ok());
    }
}
