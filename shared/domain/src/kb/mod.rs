//! The knowledge base: articles agents keep current, their store (a port with a memory twin),
//! and the search that finds them for the help centre, the chat bot and mail suggestions.

mod article;
mod catalogue;
mod editor;
mod example_questions;
mod filler;
mod fold;
mod index;
mod snippet;
mod store;
mod tag_phrases;
mod text;

pub use article::{
    Article, ArticleInput, ArticleStatus, KbAction, KbAuditEntry, KbError, Language, MAX_BODY_BYTES,
    MAX_EXAMPLE_CHARS, MAX_EXAMPLES, MAX_QUERY_CHARS, MAX_TAGS, MAX_TITLE_CHARS, valid_slug,
};
pub use catalogue::Catalogue;
pub use editor::KbEditor;
pub use fold::simplified as fold_char;
pub use index::{Found, Hit, SearchIndex, SearchSettings, Synonyms};
pub use snippet::snippet;
pub use store::ArticleStore;
pub use text::{Segmentation, Term, detect_language, terms, terms_in};

/// Where the help centre at `base_url` shows the article `slug` as a page: the link the bot,
/// mail suggestions and the help centre's own answers give.
pub fn article_page_url(base_url: &str, slug: &str) -> String {
    format!("{base_url}/v1/kb/articles/{slug}.html")
}

#[cfg(test)]
mod tests;
