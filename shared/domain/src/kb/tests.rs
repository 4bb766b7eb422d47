use std::sync::Arc;

use jiff::Timestamp;

use super::*;
use crate::memory::{ManualClock, MemoryArticles};

fn input(title: &str, body: &str, language: Language) -> ArticleInput {
    ArticleInput {
        title: title.into(),
        body: body.into(),
        language,
        category: None,
        tags: Default::default(),
    }
}

fn editor() -> (KbEditor, Arc<MemoryArticles>) {
    let store = Arc::new(MemoryArticles::default());
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_795_424_400).unwrap()));
    (KbEditor::new(store.clone(), clock), store)
}

#[tokio::test]
async fn every_change_leaves_an_audit_entry_and_needs_the_current_version() {
    let (kb, _) = editor();
    let a = kb.create("returns", input("Returns", "Send it back.", Language::En), "li").await.unwrap();
    let a = kb.publish("returns", a.version, "sue").await.unwrap();
    let stale = kb.edit("returns", 1, input("Returns", "New", Language::En), "li").await;
    assert!(matches!(stale, Err(KbError::Stale { expected: 1, actual: 2, .. })), "{stale:?}");
    let a = kb.edit("returns", a.version, input("Returns", "New text.", Language::En), "li").await.unwrap();
    kb.archive("returns", a.version, "sue").await.unwrap();
    let actions: Vec<KbAction> = kb.audit("returns").await.unwrap().iter().map(|e| e.action).collect();
    assert_eq!(actions, [KbAction::Created, KbAction::Published, KbAction::Edited, KbAction::Archived]);
    let taken = kb.create("returns", input("Again", "x", Language::En), "li").await;
    assert!(matches!(taken, Err(KbError::Exists(_))));
}

#[tokio::test]
async fn an_article_edited_and_published_is_found_by_the_next_search() {
    let (kb, store) = editor();
    let catalogue = Catalogue::new(store, SearchSettings::default());
    let a = kb
        .create("gift-wrap", input("Gift wrapping", "We do not wrap gifts.", Language::En), "li")
        .await
        .unwrap();
    assert!(
        catalogue.index().await.unwrap().search("gift wrapping", None, 3).0.is_empty(),
        "a draft is not found"
    );
    let a = kb.publish("gift-wrap", a.version, "li").await.unwrap();
    let hits = catalogue.index().await.unwrap().search("gift wrapping", None, 3).0;
    assert_eq!(hits[0].slug, "gift-wrap");
    kb.edit(
        "gift-wrap",
        a.version,
        input("Gift wrapping and cards", "Add a greeting card at checkout.", Language::En),
        "li",
    )
    .await
    .unwrap();
    let hits = catalogue.index().await.unwrap().search("greeting card", None, 3).0;
    assert_eq!(hits.first().map(|h| h.slug.as_str()), Some("gift-wrap"));
}

#[test]
fn a_question_in_one_language_falls_back_to_the_other_when_nothing_matches() {
    let mut a = Article::draft(
        "invoice",
        input("Invoices", "Download your invoice.", Language::En),
        "li",
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    a.publish("li", Timestamp::UNIX_EPOCH);
    let index = SearchIndex::build(&[a], SearchSettings::default());
    let (hits, fallback) = index.search("invoice", Some(Language::ZhCn), 3);
    assert!(fallback);
    assert_eq!(hits[0].slug, "invoice");
}

#[test]
fn bad_input_is_refused_with_the_field_named() {
    let long = "x".repeat(MAX_TITLE_CHARS + 1);
    let error =
        Article::draft("ok", input(&long, "body", Language::En), "li", Timestamp::UNIX_EPOCH).unwrap_err();
    assert_eq!(error.to_string(), "title: at most 200 characters");
    let error =
        Article::draft("Bad Slug", input("t", "b", Language::En), "li", Timestamp::UNIX_EPOCH).unwrap_err();
    assert!(error.to_string().starts_with("slug:"));
    let error = Article::draft("ok", input("t", " ", Language::En), "li", Timestamp::UNIX_EPOCH).unwrap_err();
    assert_eq!(error.to_string(), "body: must not be empty");
}

#[test]
fn an_empty_or_stopword_query_finds_nothing_and_a_huge_one_does_not_panic() {
    let mut a =
        Article::draft("a", input("Returns", "Send it back.", Language::En), "li", Timestamp::UNIX_EPOCH)
            .unwrap();
    a.publish("li", Timestamp::UNIX_EPOCH);
    let index = SearchIndex::build(&[a], SearchSettings::default());
    assert!(index.search("", None, 3).0.is_empty());
    assert!(index.search("the of and", None, 3).0.is_empty());
    let huge = "退货 returns ".repeat(2_000);
    assert!(!index.search(&huge, None, 3).0.is_empty());
}
