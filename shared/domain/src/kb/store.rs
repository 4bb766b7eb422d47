//! The article store port. Its twin is [`crate::memory::MemoryArticles`]; on AWS the table
//! (`KB#<slug>` items, bodies over the inline limit in S3).

use async_trait::async_trait;

use super::article::{Article, KbAuditEntry};
use crate::ports::StoreError;

#[async_trait]
pub trait ArticleStore: Send + Sync {
    async fn article(&self, slug: &str) -> Result<Option<Article>, StoreError>;
    /// Writes the article and its audit entry together, and moves the catalogue version when
    /// the published set changes (`published_changed`). `expected_version` `None`: the slug
    /// must be new; otherwise the stored one must be at that version. `Conflict` if not.
    async fn save(
        &self,
        article: &Article,
        expected_version: Option<u64>,
        audit: &KbAuditEntry,
        published_changed: bool,
    ) -> Result<(), StoreError>;
    /// Every published article: what the search index is built from.
    async fn published(&self) -> Result<Vec<Article>, StoreError>;
    /// Every article, drafts and archived ones too (agents' list), by slug.
    async fn all(&self) -> Result<Vec<Article>, StoreError>;
    /// A counter that moves whenever the published set changes: one small read tells a
    /// container whether its index is current.
    async fn catalogue_version(&self) -> Result<u64, StoreError>;
    /// An article's audit trail, oldest first.
    async fn audit(&self, slug: &str) -> Result<Vec<KbAuditEntry>, StoreError>;
}
