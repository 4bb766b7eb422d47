//! The knowledge base's workflow for staff: create, edit, publish and archive articles, each
//! change written with its audit entry and conditional on the version the editor saw.

use std::sync::Arc;

use super::article::{Article, ArticleInput, KbAction, KbAuditEntry, KbError, valid_slug};
use super::store::ArticleStore;
use crate::ports::{Clock, StoreError};

pub struct KbEditor {
    store: Arc<dyn ArticleStore>,
    clock: Arc<dyn Clock>,
}

impl KbEditor {
    pub fn new(store: Arc<dyn ArticleStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn store(&self) -> &Arc<dyn ArticleStore> {
        &self.store
    }

    pub async fn article(&self, slug: &str) -> Result<Article, KbError> {
        if !valid_slug(slug) {
            return Err(KbError::NotFound(slug.to_owned()));
        }
        self.store.article(slug).await?.ok_or_else(|| KbError::NotFound(slug.to_owned()))
    }

    pub async fn list(&self) -> Result<Vec<Article>, KbError> {
        Ok(self.store.all().await?)
    }

    pub async fn audit(&self, slug: &str) -> Result<Vec<KbAuditEntry>, KbError> {
        self.article(slug).await?;
        Ok(self.store.audit(slug).await?)
    }

    /// A new draft; `Exists` if the slug is taken.
    pub async fn create(&self, slug: &str, input: ArticleInput, by: &str) -> Result<Article, KbError> {
        let article = Article::draft(slug, input, by, self.clock.now())?;
        match self.store.save(&article, None, &KbAuditEntry::of(&article, KbAction::Created), false).await {
            Ok(()) => Ok(article),
            Err(StoreError::Conflict(_)) => Err(KbError::Exists(slug.to_owned())),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn edit(
        &self,
        slug: &str,
        version: u64,
        input: ArticleInput,
        by: &str,
    ) -> Result<Article, KbError> {
        let mut article = self.at_version(slug, version).await?;
        article.edit(input, by, self.clock.now())?;
        // An edit of a published article changes what search finds.
        let published = article.is_published();
        self.save(article, version, KbAction::Edited, published).await
    }

    pub async fn publish(&self, slug: &str, version: u64, by: &str) -> Result<Article, KbError> {
        let mut article = self.at_version(slug, version).await?;
        if !article.publish(by, self.clock.now()) {
            return Ok(article);
        }
        self.save(article, version, KbAction::Published, true).await
    }

    pub async fn archive(&self, slug: &str, version: u64, by: &str) -> Result<Article, KbError> {
        let mut article = self.at_version(slug, version).await?;
        let was_published = article.is_published();
        if !article.archive(by, self.clock.now()) {
            return Ok(article);
        }
        self.save(article, version, KbAction::Archived, was_published).await
    }

    async fn at_version(&self, slug: &str, version: u64) -> Result<Article, KbError> {
        let article = self.article(slug).await?;
        if article.version != version {
            return Err(KbError::Stale { slug: slug.to_owned(), expected: version, actual: article.version });
        }
        Ok(article)
    }

    async fn save(
        &self,
        article: Article,
        from: u64,
        action: KbAction,
        changes_search: bool,
    ) -> Result<Article, KbError> {
        match self.store.save(&article, Some(from), &KbAuditEntry::of(&article, action), changes_search).await
        {
            Ok(()) => Ok(article),
            Err(StoreError::Conflict(_)) => {
                let actual = self.store.article(&article.slug).await?.map_or(0, |a| a.version);
                Err(KbError::Stale { slug: article.slug, expected: from, actual })
            }
            Err(other) => Err(other.into()),
        }
    }
}
