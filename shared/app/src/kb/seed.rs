//! Articles from a TOML file (`[[articles]]` with slug, language, title, body, category,
//! tags, example questions): the local desk's example knowledge base, also what the evaluation
//! set is labelled against. Seeding creates and publishes each article through the store, with audit entries.

use std::collections::BTreeSet;

use jiff::Timestamp;
use omnidesk_domain::kb::{Article, ArticleInput, ArticleStore, KbAction, KbAuditEntry, KbError, Language};
use omnidesk_domain::ports::StoreError;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    articles: Vec<SeedArticle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedArticle {
    slug: String,
    language: Language,
    title: String,
    body: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    tags: BTreeSet<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counter_examples: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Parse(String),
    #[error("articles[{index}]: {source}")]
    Article { index: usize, source: KbError },
}

/// The published articles a seed file describes (validated like any article).
pub fn parse(text: &str, by: &str, now: Timestamp) -> Result<Vec<Article>, SeedError> {
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| SeedError::Parse(e.message().to_owned()))?;
    let file: SeedFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        SeedError::Parse(format!("{path}: {}", e.into_inner().message()))
    })?;
    file.articles
        .into_iter()
        .enumerate()
        .map(|(index, seed)| {
            let input = ArticleInput {
                title: seed.title,
                body: seed.body,
                language: seed.language,
                category: seed.category,
                tags: seed.tags,
                examples: seed.examples,
                counter_examples: seed.counter_examples,
            };
            let mut article = Article::draft(&seed.slug, input, by, now)
                .map_err(|source| SeedError::Article { index, source })?;
            article.publish(by, now);
            Ok(article)
        })
        .collect()
}

/// Stores `articles` that are not there yet (a restart seeds nothing twice). An article that
/// appears between the look and the write (another seeder, or this write landing before a
/// timed-out attempt was retried) counts as there.
pub async fn seed(store: &dyn ArticleStore, articles: &[Article]) -> Result<usize, KbError> {
    let mut added = 0;
    for article in articles {
        if store.article(&article.slug).await?.is_some() {
            continue;
        }
        match store.save(article, None, &KbAuditEntry::of(article, KbAction::Published), true).await {
            Ok(()) => added += 1,
            Err(StoreError::Conflict(_)) if store.article(&article.slug).await?.is_some() => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;
    use omnidesk_domain::memory::MemoryArticles;

    use super::*;

    const TWO: &str = r#"
[[articles]]
slug = "returns"
language = "en"
title = "Returns"
body = "Send it back within 30 days."

[[articles]]
slug = "delivery"
language = "en"
title = "Delivery times"
body = "Two to five working days."
"#;

    /// A store whose first write lands and then reports a conflict, as a write does whose
    /// answer timed out and whose retry found the item there.
    #[derive(Default)]
    struct LandedThenConflict {
        inner: MemoryArticles,
        answered: AtomicBool,
    }

    #[async_trait]
    impl ArticleStore for LandedThenConflict {
        async fn article(&self, slug: &str) -> Result<Option<Article>, StoreError> {
            self.inner.article(slug).await
        }
        async fn save(
            &self,
            article: &Article,
            expected_version: Option<u64>,
            audit: &KbAuditEntry,
            published_changed: bool,
        ) -> Result<(), StoreError> {
            self.inner.save(article, expected_version, audit, published_changed).await?;
            if self.answered.swap(true, Ordering::SeqCst) {
                Ok(())
            } else {
                Err(StoreError::Conflict("the retry found the item".into()))
            }
        }
        async fn published(&self) -> Result<Vec<Article>, StoreError> {
            self.inner.published().await
        }
        async fn all(&self) -> Result<Vec<Article>, StoreError> {
            self.inner.all().await
        }
        async fn catalogue_version(&self) -> Result<u64, StoreError> {
            self.inner.catalogue_version().await
        }
        async fn audit(&self, slug: &str) -> Result<Vec<KbAuditEntry>, StoreError> {
            self.inner.audit(slug).await
        }
    }

    #[tokio::test]
    async fn a_seed_write_that_landed_before_its_conflict_counts_as_there_and_seeding_goes_on() {
        let articles = parse(TWO, "seed", Timestamp::UNIX_EPOCH).expect("seed file");
        let store = LandedThenConflict::default();
        let added = seed(&store, &articles).await.expect("seeding does not fail on a landed write");
        assert_eq!(added, 1, "the landed one is there, not added by this call");
        assert_eq!(store.all().await.expect("all").len(), 2);
        assert_eq!(seed(&store, &articles).await.expect("again"), 0, "a second seeding adds nothing");
    }
}
