//! The roster: agent profiles from the config joined with their stored activity.
//!
//! Profiles (teams, skills, languages, capacity) change only with the config, so they are
//! read from it, never stored: starting a function writes nothing. Only presence and the last
//! assignment live in the store. See ARCHITECTURE.md §4.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::assignment::{Agent, Presence};
use crate::ports::{AgentActivity, AgentActivityStore, AgentStore, StoreError};

/// [`AgentStore`] over the config's profiles and an [`AgentActivityStore`].
pub struct Roster {
    profiles: BTreeMap<String, Agent>,
    activity: Arc<dyn AgentActivityStore>,
}

impl Roster {
    /// `profiles` as the config lists them; a later duplicate id replaces an earlier one
    /// (config validation refuses duplicates anyway).
    pub fn new(profiles: impl IntoIterator<Item = Agent>, activity: Arc<dyn AgentActivityStore>) -> Self {
        let profiles = profiles.into_iter().map(|agent| (agent.id.clone(), agent)).collect();
        Self { profiles, activity }
    }
}

/// The profile with its stored activity; load is the caller's to count.
fn joined(profile: &Agent, activity: Option<AgentActivity>) -> Agent {
    let activity = activity.unwrap_or_default();
    Agent {
        load: 0,
        presence: activity.presence,
        last_assigned_at: activity.last_assigned_at,
        ..profile.clone()
    }
}

#[async_trait]
impl AgentStore for Roster {
    async fn agents(&self) -> Result<Vec<Agent>, StoreError> {
        if self.profiles.is_empty() {
            return Ok(Vec::new());
        }
        let mut activities = self.activity.activities().await?;
        Ok(self.profiles.values().map(|profile| joined(profile, activities.remove(&profile.id))).collect())
    }

    async fn agent(&self, id: &str) -> Result<Option<Agent>, StoreError> {
        let Some(profile) = self.profiles.get(id) else {
            return Ok(None);
        };
        Ok(Some(joined(profile, self.activity.activity(id).await?)))
    }

    async fn set_presence(&self, id: &str, presence: Presence) -> Result<(), StoreError> {
        if !self.profiles.contains_key(id) {
            return Err(StoreError::Conflict(format!("agent {id} does not exist")));
        }
        self.activity.set_presence(id, presence).await
    }

    async fn touch_assigned(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        // An agent removed from the config meanwhile: nothing to record.
        if !self.profiles.contains_key(id) {
            return Ok(());
        }
        self.activity.touch_assigned(id, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;

    fn profile(id: &str) -> Agent {
        Agent {
            id: id.into(),
            teams: ["frontline".to_owned()].into(),
            skills: Default::default(),
            languages: ["en".to_owned()].into(),
            capacity: 3,
            load: 0,
            presence: Presence::Offline,
            last_assigned_at: None,
        }
    }

    #[tokio::test]
    async fn profiles_come_from_the_config_and_only_activity_is_stored() {
        let store = Arc::new(MemoryStore::new());
        let roster = Roster::new([profile("ana"), profile("bo")], store.clone());
        assert!(store.activities().await.unwrap().is_empty(), "building the roster writes nothing");
        assert_eq!(roster.agents().await.unwrap(), [profile("ana"), profile("bo")]);

        roster.set_presence("bo", Presence::Online).await.unwrap();
        let at = Timestamp::from_second(1_795_424_400).unwrap();
        roster.touch_assigned("bo", at).await.unwrap();
        let bo = roster.agent("bo").await.unwrap().unwrap();
        assert_eq!((bo.presence, bo.last_assigned_at, bo.capacity), (Presence::Online, Some(at), 3));
        assert_eq!(store.activities().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_agent_the_config_does_not_know_has_no_presence_to_set() {
        let store = Arc::new(MemoryStore::new());
        let roster = Roster::new([profile("ana")], store.clone());
        assert!(matches!(roster.set_presence("ghost", Presence::Online).await, Err(StoreError::Conflict(_))));
        roster.touch_assigned("ghost", Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(roster.agent("ghost").await.unwrap(), None);
        assert!(store.activities().await.unwrap().is_empty());
    }
}
