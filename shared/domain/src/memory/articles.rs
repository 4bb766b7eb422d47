//! The article store in memory: conditional saves on the version, the audit trail beside
//! each article, and the catalogue version moved with the published set, as on DynamoDB.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::kb::{Article, ArticleStore, KbAuditEntry};
use crate::ports::StoreError;

#[derive(Default)]
struct State {
    articles: BTreeMap<String, Article>,
    audit: Vec<KbAuditEntry>,
    catalogue_version: u64,
}

#[derive(Default)]
pub struct MemoryArticles {
    state: Mutex<State>,
}

impl MemoryArticles {
    fn state(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("article store lock poisoned".into()))
    }
}

#[async_trait]
impl ArticleStore for MemoryArticles {
    async fn article(&self, slug: &str) -> Result<Option<Article>, StoreError> {
        Ok(self.state()?.articles.get(slug).cloned())
    }

    async fn save(
        &self,
        article: &Article,
        expected_version: Option<u64>,
        audit: &KbAuditEntry,
        published_changed: bool,
    ) -> Result<(), StoreError> {
        let mut state = self.state()?;
        let stored = state.articles.get(&article.slug).map(|a| a.version);
        if stored != expected_version {
            return Err(StoreError::Conflict(format!(
                "article {:?} is at version {stored:?}, not {expected_version:?}",
                article.slug
            )));
        }
        state.articles.insert(article.slug.clone(), article.clone());
        state.audit.push(audit.clone());
        if published_changed {
            state.catalogue_version += 1;
        }
        Ok(())
    }

    async fn published(&self) -> Result<Vec<Article>, StoreError> {
        Ok(self.state()?.articles.values().filter(|a| a.is_published()).cloned().collect())
    }

    async fn all(&self) -> Result<Vec<Article>, StoreError> {
        Ok(self.state()?.articles.values().cloned().collect())
    }

    async fn catalogue_version(&self) -> Result<u64, StoreError> {
        Ok(self.state()?.catalogue_version)
    }

    async fn audit(&self, slug: &str) -> Result<Vec<KbAuditEntry>, StoreError> {
        Ok(self.state()?.audit.iter().filter(|e| e.slug == slug).cloned().collect())
    }
}
