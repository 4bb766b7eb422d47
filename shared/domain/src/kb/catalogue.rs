//! The search index a container holds: built from the published articles on first use, and
//! rebuilt only when the store's catalogue version has moved (one small read per search), so
//! an article published in one container is found by the next search in every other.

use std::sync::{Arc, RwLock};

use super::index::{SearchIndex, SearchSettings};
use super::store::ArticleStore;
use crate::ports::StoreError;

pub struct Catalogue {
    store: Arc<dyn ArticleStore>,
    settings: SearchSettings,
    current: RwLock<Option<(u64, Arc<SearchIndex>)>>,
}

impl Catalogue {
    pub fn new(store: Arc<dyn ArticleStore>, settings: SearchSettings) -> Self {
        Self { store, settings, current: RwLock::new(None) }
    }

    pub fn store(&self) -> &Arc<dyn ArticleStore> {
        &self.store
    }

    /// The current index.
    pub async fn index(&self) -> Result<Arc<SearchIndex>, StoreError> {
        let version = self.store.catalogue_version().await?;
        if let Ok(guard) = self.current.read()
            && let Some((built, index)) = guard.as_ref()
            && *built == version
        {
            return Ok(index.clone());
        }
        let articles = self.store.published().await?;
        let started = std::time::Instant::now();
        let index = Arc::new(SearchIndex::build(&articles, self.settings.clone()));
        tracing::info!(
            articles = index.len(),
            version,
            ms = started.elapsed().as_millis() as u64,
            "kb.index_built"
        );
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((version, index.clone()));
        }
        Ok(index)
    }
}
