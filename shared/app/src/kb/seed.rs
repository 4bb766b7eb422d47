//! Articles from a TOML file (`[[articles]]` with slug, language, title, body, category,
//! tags): the local desk's example knowledge base, also what the evaluation set is labelled
//! against. Seeding creates and publishes each article through the store, with audit entries.

use std::collections::BTreeSet;

use jiff::Timestamp;
use omnidesk_domain::kb::{Article, ArticleInput, ArticleStore, KbAction, KbAuditEntry, KbError, Language};
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
            };
            let mut article = Article::draft(&seed.slug, input, by, now)
                .map_err(|source| SeedError::Article { index, source })?;
            article.publish(by, now);
            Ok(article)
        })
        .collect()
}

/// Stores `articles` that are not there yet (a restart seeds nothing twice).
pub async fn seed(store: &dyn ArticleStore, articles: &[Article]) -> Result<usize, KbError> {
    let mut added = 0;
    for article in articles {
        if store.article(&article.slug).await?.is_some() {
            continue;
        }
        store.save(article, None, &KbAuditEntry::of(article, KbAction::Published), true).await?;
        added += 1;
    }
    Ok(added)
}
