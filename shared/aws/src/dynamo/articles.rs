//! The article store on the table, one partition `KB` (the knowledge base is small and read
//! whole once per container; ARCHITECTURE.md §4):
//!
//! - `KB` / `A#<slug>`: the article, its Markdown inline up to [`INLINE_BODY_BYTES`], else in
//!   S3 under `kb/<slug>/v<version>.md` (a new key per version: a reader never sees half an
//!   edit, and the item names the object of its own version);
//! - `KB` / `AUDIT#<slug>#<version>`: one audit entry per change, kept;
//! - `KB` / `VERSION`: the catalogue version, moved when the published set changes.
//!
//! A save is one TransactWriteItems: the article (conditional on the version it replaces),
//! its audit entry, and the catalogue version.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use omnidesk_domain::kb::{Article, ArticleStore, KbAuditEntry};
use omnidesk_domain::ports::{BlobStore, StoreError};

use super::DynamoStore;
use super::codec::{decode, encode, number_attr, read_u64};
use super::keys::{self, Item};
use crate::errors::build_error;

const PK: &str = "KB";
const VERSION_SK: &str = "VERSION";
const BODY_KEY: &str = "body_key";
/// Bodies larger than this live in S3: an item stays well under DynamoDB's 400 KB and a
/// full read of the knowledge base stays a few Query pages.
pub const INLINE_BODY_BYTES: usize = 32 * 1024;

fn article_sk(slug: &str) -> String {
    format!("A#{slug}")
}

fn audit_sk(slug: &str, version: u64) -> String {
    format!("AUDIT#{slug}#{version:010}")
}

fn body_key(article: &Article) -> String {
    format!("kb/{}/v{}.md", article.slug, article.version)
}

/// The articles on the table, large bodies in `bodies` (the mail bucket on AWS). Without a
/// bucket (a desk without the email channel) every body stays in its item: the editor's
/// limit (`MAX_BODY_BYTES`, 200 KiB) fits DynamoDB's 400 KB item, only at a higher read cost.
#[derive(Clone)]
pub struct DynamoArticles {
    store: DynamoStore,
    bodies: Option<Arc<dyn BlobStore>>,
}

impl DynamoArticles {
    pub fn new(store: DynamoStore, bodies: Option<Arc<dyn BlobStore>>) -> Self {
        Self { store, bodies }
    }

    fn put(
        &self,
        item: Item,
        condition: Option<(&'static str, Option<u64>)>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(self.store.table()).set_item(Some(item));
        if let Some((expression, version)) = condition {
            put = put.condition_expression(expression);
            if let Some(version) = version {
                put = put
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(":v", number_attr(version));
            } else {
                put = put.expression_attribute_names("#pk", keys::PK);
            }
        }
        let put = put.build().map_err(|e| build_error("Put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn read(&self, mut item: Item) -> Result<Article, StoreError> {
        let key = match item.remove(BODY_KEY) {
            Some(AttributeValue::S(key)) => Some(key),
            _ => None,
        };
        for attribute in [keys::PK, keys::SK] {
            item.remove(attribute);
        }
        if let Some(key) = &key {
            // Decoded with a placeholder body, then the body from S3.
            item.insert("body".to_owned(), AttributeValue::S(String::new()));
            let mut article: Article = decode("article", item)?;
            let bodies = self.bodies.as_ref().ok_or_else(|| {
                StoreError::Corrupt(format!("article {} names a body, and there is no bucket", article.slug))
            })?;
            let bytes = bodies.get(key).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("article {} names a missing body", article.slug))
            })?;
            article.body = String::from_utf8(bytes)
                .map_err(|_| StoreError::Corrupt(format!("article {} body is not UTF-8", article.slug)))?;
            return Ok(article);
        }
        decode("article", item)
    }
}

#[async_trait]
impl ArticleStore for DynamoArticles {
    async fn article(&self, slug: &str) -> Result<Option<Article>, StoreError> {
        match self.store.get_item(PK.to_owned(), &article_sk(slug)).await? {
            Some(item) => Ok(Some(self.read(item).await?)),
            None => Ok(None),
        }
    }

    async fn save(
        &self,
        article: &Article,
        expected_version: Option<u64>,
        audit: &KbAuditEntry,
        published_changed: bool,
    ) -> Result<(), StoreError> {
        let mut item = encode("article", article)?;
        if let Some(bodies) = self.bodies.as_ref().filter(|_| article.body.len() > INLINE_BODY_BYTES) {
            let key = body_key(article);
            bodies.put(&key, article.body.as_bytes().to_vec(), "text/markdown; charset=utf-8").await?;
            item.remove("body");
            item.insert(BODY_KEY.to_owned(), AttributeValue::S(key));
        }
        let item = keys::with_key(item, PK.to_owned(), article_sk(&article.slug));
        let condition = match expected_version {
            None => ("attribute_not_exists(#pk)", None),
            Some(version) => ("#v = :v", Some(version)),
        };
        let mut writes = vec![self.put(item, Some(condition))?];
        let audit_item = keys::with_key(
            encode("audit entry", audit)?,
            PK.to_owned(),
            audit_sk(&audit.slug, audit.version),
        );
        writes.push(self.put(audit_item, None)?);
        if published_changed {
            let update = Update::builder()
                .table_name(self.store.table())
                .set_key(Some(keys::key(PK.to_owned(), VERSION_SK)))
                .update_expression("ADD #n :one")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":one", number_attr(1))
                .build()
                .map_err(|e| build_error("Update", e))?;
            writes.push(TransactWriteItem::builder().update(update).build());
        }
        self.store.transact(writes).await
    }

    async fn published(&self) -> Result<Vec<Article>, StoreError> {
        let mut articles = self.all().await?;
        articles.retain(Article::is_published);
        Ok(articles)
    }

    async fn all(&self) -> Result<Vec<Article>, StoreError> {
        let mut articles = Vec::new();
        for item in self.store.query_prefix(PK.to_owned(), "A#").await? {
            articles.push(self.read(item).await?);
        }
        Ok(articles)
    }

    async fn catalogue_version(&self) -> Result<u64, StoreError> {
        match self.store.get_item(PK.to_owned(), VERSION_SK).await? {
            Some(item) => read_u64(&item, "n", "catalogue version"),
            None => Ok(0),
        }
    }

    async fn audit(&self, slug: &str) -> Result<Vec<KbAuditEntry>, StoreError> {
        let mut entries = Vec::new();
        for mut item in self.store.query_prefix(PK.to_owned(), &format!("AUDIT#{slug}#")).await? {
            for attribute in [keys::PK, keys::SK] {
                item.remove(attribute);
            }
            entries.push(decode("audit entry", item)?);
        }
        Ok(entries)
    }
}
