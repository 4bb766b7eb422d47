//! An article and the rules for writing one: slug, language, size limits, the
//! draft → published → archived life, and the audit entry every change leaves.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Largest Markdown body. Stores keep bodies over their inline limit elsewhere (S3).
pub const MAX_BODY_BYTES: usize = 200 * 1024;
/// Most tags on one article, each at most [`MAX_TAG_CHARS`].
pub const MAX_TAGS: usize = 20;
const MAX_TAG_CHARS: usize = 40;
/// Most example questions on one article (and most counter examples), each at most
/// [`MAX_EXAMPLE_CHARS`]: room for the questions a team collects from its inbox over months
/// (the example desk's articles carry up to 42 of each), and an item well under DynamoDB's
/// 400 KB (both lists at their largest, in Chinese, are 180 KB).
pub const MAX_EXAMPLES: usize = 100;
/// As long as a customer's question gets (the longest in the question sets is 221).
pub const MAX_EXAMPLE_CHARS: usize = 300;
const MAX_CATEGORY_CHARS: usize = 60;
const MAX_SLUG_LEN: usize = 80;
/// Longest search query, in characters: longer ones are refused with a clear error.
pub const MAX_QUERY_CHARS: usize = 500;

/// The languages articles are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::ZhCn, Language::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        }
    }

    /// `zh`, `zh-CN`, `zh-Hans`, `zh-TW` (searched folded to simplified) and `en*`.
    pub fn parse(raw: &str) -> Option<Language> {
        let lower = raw.trim().to_ascii_lowercase();
        if lower == "zh" || lower.starts_with("zh-") || lower.starts_with("zh_") {
            Some(Language::ZhCn)
        } else if lower == "en" || lower.starts_with("en-") || lower.starts_with("en_") {
            Some(Language::En)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

/// One article. `version` counts every change; writes are conditional on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub slug: String,
    pub language: Language,
    pub title: String,
    /// Markdown; rendered with raw HTML escaped.
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// Questions as customers ask what the article answers ("training phrases"): searched as
    /// their own field, never shown on the help centre's pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Questions that look like the article's but that it does not answer ("can I pay my
    /// electricity bill here" of the payment article), as agents note them when the bot
    /// answered one wrongly: a question closer to one of these than to any article is left
    /// to a person. Searched like the examples, never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counter_examples: Vec<String>,
    pub status: ArticleStatus,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    /// Who made the last change (an agent login).
    pub updated_by: String,
}

/// What an agent sends to create or edit an article.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub title: String,
    pub body: String,
    pub language: Language,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: BTreeSet<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub counter_examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("no article {0:?}")]
    NotFound(String),
    #[error("article {slug:?} is at version {actual}, not {expected}: reload it")]
    Stale { slug: String, expected: u64, actual: u64 },
    #[error("an article {0:?} exists already")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] crate::ports::StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> KbError {
    KbError::Invalid { field, message: message.into() }
}

/// 1–80 characters of a-z, 0-9 and `-`, not starting or ending with `-`.
pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl ArticleInput {
    /// Checks the limits and cleans the typed text (control and bidi characters dropped).
    pub fn validated(mut self) -> Result<ArticleInput, KbError> {
        self.title = crate::text::line(&self.title).trim().to_owned();
        if self.title.is_empty() {
            return Err(invalid("title", "must not be empty"));
        }
        if self.title.chars().count() > MAX_TITLE_CHARS {
            return Err(invalid("title", format!("at most {MAX_TITLE_CHARS} characters")));
        }
        if self.body.trim().is_empty() {
            return Err(invalid("body", "must not be empty"));
        }
        if self.body.len() > MAX_BODY_BYTES {
            return Err(invalid("body", format!("at most {MAX_BODY_BYTES} bytes")));
        }
        self.body = self.body.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
        if let Some(category) = &self.category {
            let category = crate::text::line(category).trim().to_owned();
            if category.chars().count() > MAX_CATEGORY_CHARS {
                return Err(invalid("category", format!("at most {MAX_CATEGORY_CHARS} characters")));
            }
            self.category = (!category.is_empty()).then_some(category);
        }
        if self.tags.len() > MAX_TAGS {
            return Err(invalid("tags", format!("at most {MAX_TAGS} tags")));
        }
        let mut tags = BTreeSet::new();
        for tag in &self.tags {
            let tag = crate::text::line(tag).trim().to_lowercase();
            if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
                return Err(invalid("tags", format!("each tag 1–{MAX_TAG_CHARS} characters")));
            }
            tags.insert(tag);
        }
        self.tags = tags;
        self.examples = questions("examples", &self.examples)?;
        self.counter_examples = questions("counter_examples", &self.counter_examples)?;
        Ok(self)
    }
}

/// A list of example (or counter-example) questions cleaned like a title, in the agent's
/// order, repeats dropped; `field` names it in an error.
fn questions(field: &'static str, raw: &[String]) -> Result<Vec<String>, KbError> {
    if raw.len() > MAX_EXAMPLES {
        return Err(invalid(field, format!("at most {MAX_EXAMPLES} questions")));
    }
    let mut examples: Vec<String> = Vec::with_capacity(raw.len());
    for example in raw {
        let example = crate::text::line(example).trim().to_owned();
        if example.is_empty() || example.chars().count() > MAX_EXAMPLE_CHARS {
            return Err(invalid(field, format!("each question 1–{MAX_EXAMPLE_CHARS} characters")));
        }
        if !examples.contains(&example) {
            examples.push(example);
        }
    }
    Ok(examples)
}

impl Article {
    /// A new draft at version 1.
    pub fn draft(slug: &str, input: ArticleInput, by: &str, now: Timestamp) -> Result<Article, KbError> {
        if !valid_slug(slug) {
            return Err(invalid("slug", "use 1–80 characters of a-z, 0-9 and -"));
        }
        let input = input.validated()?;
        Ok(Article {
            slug: slug.to_owned(),
            language: input.language,
            title: input.title,
            body: input.body,
            category: input.category,
            tags: input.tags,
            examples: input.examples,
            counter_examples: input.counter_examples,
            status: ArticleStatus::Draft,
            version: 1,
            created_at: now,
            updated_at: now,
            published_at: None,
            updated_by: by.to_owned(),
        })
    }

    /// An edit. A published article stays published: the new text is live at once.
    pub fn edit(&mut self, input: ArticleInput, by: &str, now: Timestamp) -> Result<(), KbError> {
        let input = input.validated()?;
        self.language = input.language;
        self.title = input.title;
        self.body = input.body;
        self.category = input.category;
        self.tags = input.tags;
        self.examples = input.examples;
        self.counter_examples = input.counter_examples;
        self.touch(by, now);
        Ok(())
    }

    /// Publishes a draft or an archived article; `false` if it was published already.
    pub fn publish(&mut self, by: &str, now: Timestamp) -> bool {
        if self.status == ArticleStatus::Published {
            return false;
        }
        self.status = ArticleStatus::Published;
        self.published_at = Some(now);
        self.touch(by, now);
        true
    }

    /// Takes it off the help centre and the bot; `false` if it was archived already.
    pub fn archive(&mut self, by: &str, now: Timestamp) -> bool {
        if self.status == ArticleStatus::Archived {
            return false;
        }
        self.status = ArticleStatus::Archived;
        self.touch(by, now);
        true
    }

    fn touch(&mut self, by: &str, now: Timestamp) {
        self.version += 1;
        self.updated_at = now;
        self.updated_by = by.to_owned();
    }

    pub fn is_published(&self) -> bool {
        self.status == ArticleStatus::Published
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KbAction {
    Created,
    Edited,
    Published,
    Archived,
}

/// One change to an article, kept for good beside it: who, what, when, which version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbAuditEntry {
    pub slug: String,
    pub version: u64,
    pub action: KbAction,
    pub by: String,
    pub at: Timestamp,
}

impl KbAuditEntry {
    pub fn of(article: &Article, action: KbAction) -> Self {
        Self {
            slug: article.slug.clone(),
            version: article.version,
            action,
            by: article.updated_by.clone(),
            at: article.updated_at,
        }
    }
}
