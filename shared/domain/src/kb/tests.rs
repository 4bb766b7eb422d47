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
        examples: Vec::new(),
        counter_examples: Vec::new(),
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

fn published(slug: &str, title: &str, body: &str, tags: &[&str]) -> Article {
    let mut input = input(title, body, Language::En);
    input.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    let mut a = Article::draft(slug, input, "li", Timestamp::UNIX_EPOCH).unwrap();
    a.publish("li", Timestamp::UNIX_EPOCH);
    a
}

fn faq() -> Vec<Article> {
    vec![
        published(
            "shipping-fees",
            "Shipping fees and free shipping",
            "Shipping is free on orders over $49; standard shipping costs $5.99, express shipping $12.99.",
            &["postage"],
        ),
        published(
            "cancel-order",
            "How to cancel an order",
            "Cancel until dispatch. If the order has already shipped, refuse it.",
            &["cancel"],
        ),
        published(
            "payment-methods",
            "Payment methods",
            "We take Visa, Mastercard and PayPal. Press Pay to finish.",
            &["credit card", "pay"],
        ),
        published(
            "track",
            "Where is my parcel?",
            "Press Track in My orders to see your parcel.",
            &["tracking"],
        ),
    ]
}

#[test]
fn a_title_match_adds_to_a_body_match_instead_of_drowning_in_it() {
    // Each field saturates apart: an article titled "Returns" beats one that only repeats
    // the word in its body.
    let articles = [
        published("returns", "Returns", "Returns are free within 30 days of delivery.", &[]),
        published("delivery", "Delivery", "returns returns returns returns returns returns", &[]),
    ];
    let index = SearchIndex::build(&articles, SearchSettings::default());
    let hits = index.search("returns", None, 3).0;
    assert_eq!(hits[0].slug, "returns", "{hits:?}");
}

#[test]
fn a_word_no_article_uses_leaves_the_match_unsure() {
    // "gift" is in no article: matching "card" alone must look far less sure than a
    // question the article answers.
    let index = SearchIndex::build(&faq(), SearchSettings::default());
    let gift = index.search("do you do gift cards", None, 3).0;
    let pay = index.search("can i pay by credit card", None, 3).0;
    assert_eq!(pay[0].slug, "payment-methods");
    let gift = gift.first().map_or(0.0, |h| h.confidence);
    assert!(gift < 0.4 * pay[0].confidence, "gift cards {gift}, credit card {}", pay[0].confidence);
}

#[test]
fn a_word_met_only_in_passing_in_a_body_covers_less_than_one_in_the_title() {
    let index = SearchIndex::build(&faq(), SearchSettings::default());
    // "visa" only in a body, "parcel" in a title: both the whole question.
    let visa = index.search("visa", None, 3).0;
    let parcel = index.search("parcel", None, 3).0;
    assert!(visa[0].confidence < 0.7 * parcel[0].confidence, "{visa:?} {parcel:?}");
}

#[test]
fn a_typo_of_a_word_only_the_synonyms_know_is_corrected_and_expanded() {
    let synonyms = Synonyms::new(&[vec!["parcel".to_owned(), "package".to_owned()]]);
    let index = SearchIndex::build(&faq(), SearchSettings { synonyms, ..SearchSettings::default() });
    // No article says "package"; "pacakge" is one swap from it, and it means "parcel".
    let hits = index.search("wheres my pacakge", None, 3).0;
    assert_eq!(hits.first().map(|h| h.slug.as_str()), Some("track"), "{hits:?}");
}

#[test]
fn an_unknown_chinese_word_counts_against_a_match_more_than_one_straddling_bigram() {
    let mut a = Article::draft(
        "refund-zh",
        input("退款多久到账?", "退货签收后 3 个工作日内退款。", Language::ZhCn),
        "li",
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    a.publish("li", Timestamp::UNIX_EPOCH);
    let index = SearchIndex::build(&[a], SearchSettings::default());
    // "耳机保修" is a run of bigrams no article knows: a question about something else.
    let warranty = index.search("耳机保修多久", None, 3).0;
    // "款多" straddles 退款|多久: one unknown bigram, not a run of them.
    let refund = index.search("退款多久", None, 3).0;
    assert!(
        refund[0].confidence > 2.0 * warranty.first().map_or(0.0, |h| h.confidence),
        "{refund:?} {warranty:?}"
    );
}

#[test]
fn a_word_of_a_longer_tag_alone_covers_like_a_body_word() {
    // A tag is a phrase: "loyalty card" says the article is about that card only when the
    // whole tag is asked about; "loyalty" alone is a word met in passing. (Counted as a whole
    // tag match, "loyalty" alone looked 0.42 as sure as the whole tag.)
    let index = SearchIndex::build(
        &[
            published("payments", "Paying for an order", "Pay by card or with points.", &["loyalty card"]),
            published("returns", "Returns", "Send items back within 30 days.", &[]),
        ],
        SearchSettings::default(),
    );
    let whole = index.search("loyalty card", None, 3).0;
    let part = index.search("loyalty", None, 3).0;
    assert_eq!(whole[0].slug, "payments");
    assert!(part[0].confidence < 0.3 * whole[0].confidence, "{part:?} {whole:?}");
}

fn with_examples(mut article: Article, examples: &[&str]) -> Article {
    article.examples = examples.iter().map(|e| (*e).to_owned()).collect();
    article
}

#[test]
fn an_article_is_found_by_a_paraphrase_only_its_example_question_matches() {
    let gift = published("gift-wrap", "Gift wrapping", "We wrap gifts for $3 at checkout.", &[]);
    let question = "can you put my present in nice paper";
    let mut articles = faq();
    articles.push(gift.clone());
    let without = SearchIndex::build(&articles, SearchSettings::default());
    assert!(without.search(question, Some(Language::En), 3).0.is_empty(), "nothing but the example matches");
    articles.pop();
    articles.push(with_examples(gift, &["can you put my present in nice paper?", "do you do gift wrap"]));
    let index = SearchIndex::build(&articles, SearchSettings::default());
    let hits = index.search("could you put the present in some nice paper", Some(Language::En), 3).0;
    assert_eq!(hits.first().map(|h| h.slug.as_str()), Some("gift-wrap"), "{hits:?}");
    assert!(
        hits[0].confidence > crate::bot::DEFAULT_MIN_CONFIDENCE,
        "a question close to an example is strong evidence: {hits:?}"
    );
}

#[test]
fn one_word_shared_with_a_longer_example_question_covers_like_a_body_word() {
    let delivery = with_examples(
        published("delivery-times", "How long does delivery take?", "Standard delivery takes 3–5 days.", &[]),
        &["if I order today when does it arrive"],
    );
    let mut articles = faq();
    articles.push(delivery);
    let index = SearchIndex::build(&articles, SearchSettings::default());
    let close = index.search("I order today, when will it arrive", None, 1).0;
    let passing = index.search("will it arrive", None, 1).0;
    assert_eq!((close[0].slug.as_str(), passing[0].slug.as_str()), ("delivery-times", "delivery-times"));
    let (close, passing) = (close[0].confidence, passing[0].confidence);
    // Well under the threshold: covered like a title word, it would sit just under it.
    let threshold = crate::bot::DEFAULT_MIN_CONFIDENCE;
    assert!(close > threshold && passing < threshold * 0.7, "close {close}, one shared word {passing}");
}

#[test]
fn a_question_close_to_an_example_but_without_its_topic_word_covers_like_a_body_word() {
    // The example's topic is "delivery" (the title's word); "black friday sale" is only
    // when. Close on the rest alone, the sale's dates looked 0.50 sure.
    let delivery = with_examples(
        published(
            "delivery-times",
            "How long does delivery take?",
            "Delivery takes 3–5 days; allow 2 more during the Black Friday sale.",
            &[],
        ),
        &["is delivery slower during the black friday sale"],
    );
    let mut articles = faq();
    articles.push(delivery);
    let index = SearchIndex::build(&articles, SearchSettings::default());
    let on_topic = index.search("is delivery slow in the black friday sale", None, 1).0;
    let off_topic = index.search("is the black friday sale starting thursday or friday", None, 1).0;
    let threshold = crate::bot::DEFAULT_MIN_CONFIDENCE;
    assert_eq!(on_topic[0].slug, "delivery-times");
    assert!(on_topic[0].confidence > threshold, "{on_topic:?}");
    let off_topic = off_topic.first().map_or(0.0, |h| h.confidence);
    assert!(off_topic < threshold, "the sale's dates: {off_topic}");
}

#[test]
fn a_four_letter_word_is_not_corrected_into_a_three_letter_one() {
    let index = SearchIndex::build(
        &[published("sign-in", "Signing in", "Log in with your email address.", &[])],
        SearchSettings::default(),
    );
    // "logo" is one letter from "log", but not a typo of it.
    let hits = index.search("what does your logo mean", None, 3).0;
    assert!(hits.is_empty(), "{hits:?}");
    assert_eq!(
        index.search("my emial", None, 3).0[0].slug,
        "sign-in",
        "a typo of a longer word is still fixed"
    );
}

#[test]
fn an_unknown_word_beside_a_known_one_counts_like_any_unknown_word() {
    let mut fees =
        input("运费怎么算?满多少包邮", "订单满 99 元包邮;不满 99 元收取运费 8 元。", Language::ZhCn);
    fees.tags = ["运费", "包邮", "邮费"].map(String::from).into();
    let zh = |slug: &str, title: &str, body: &str| {
        let mut a =
            Article::draft(slug, input(title, body, Language::ZhCn), "li", Timestamp::UNIX_EPOCH).unwrap();
        a.publish("li", Timestamp::UNIX_EPOCH);
        a
    };
    let mut a = Article::draft("shipping-fees-zh", fees, "li", Timestamp::UNIX_EPOCH).unwrap();
    a.publish("li", Timestamp::UNIX_EPOCH);
    let articles = [
        a,
        zh("refund-zh", "退款多久到账?", "退货签收后 3 个工作日内退款,原路退回。"),
        zh("delivery-zh", "多久能送到?", "普通快递发货后 3–5 个工作日送达。"),
        zh("coupons-zh", "优惠券怎么用?", "结算页选择可用的优惠券即可自动抵扣。"),
        zh("invoice-zh", "如何开发票?", "进入我的订单申请开票,填写抬头和税号。"),
    ];
    let index = SearchIndex::build(&articles, SearchSettings::default());
    let threshold = crate::bot::DEFAULT_MIN_CONFIDENCE;
    // 运费险 (shipping insurance) is another product: "费险" straddles a known word and an
    // unknown character, and it is the word that says so (counted a third as much, it
    // looked 0.34 sure).
    let insurance = index.search("运费险怎么买", None, 3).0;
    let fee = index.search("运费怎么算", None, 3).0;
    assert!(fee[0].confidence > threshold, "{fee:?}");
    let insurance = insurance.first().map_or(0.0, |h| h.confidence);
    assert!(insurance < threshold, "shipping insurance: {insurance}");
}

#[test]
fn example_questions_are_cleaned_and_bounded() {
    let mut input = input("Returns", "Send it back.", Language::En);
    input.examples = vec![" can I\u{202e} return it? ".into(), "can I return it?".into(), "refund?".into()];
    let a = Article::draft("returns", input.clone(), "li", Timestamp::UNIX_EPOCH).unwrap();
    assert_eq!(a.examples, ["can I return it?", "refund?"], "cleaned, repeats dropped, order kept");
    for (examples, why) in [
        (vec!["q".to_owned(); MAX_EXAMPLES + 1], "too many"),
        (vec!["  ".to_owned()], "empty"),
        (vec!["x".repeat(MAX_EXAMPLE_CHARS + 1)], "too long"),
    ] {
        let input = ArticleInput { examples, ..input.clone() };
        let refused = Article::draft("returns", input, "li", Timestamp::UNIX_EPOCH);
        assert!(matches!(refused, Err(KbError::Invalid { field: "examples", .. })), "{why}: {refused:?}");
    }
}

#[test]
fn a_question_like_a_counter_example_is_countered_and_its_article_still_listed() {
    let payments = published(
        "payment-methods",
        "Payment methods",
        "We take cards, PayPal and Apple Pay. Pay at checkout; your card is charged when the order ships.",
        &["pay", "card"],
    );
    let countered = |article: &Article| {
        let mut article = article.clone();
        article.counter_examples =
            vec!["can i pay my electricity bill here".into(), "do you sell gift cards".into()];
        article
    };
    let mut articles = faq();
    articles.push(payments.clone());
    let plain = SearchIndex::build(&articles, SearchSettings::default());
    let question = "can I pay my gas bill here";
    assert_eq!(plain.find(question, None, 3).hits[0].slug, "payment-methods", "the article alone matches it");
    articles.pop();
    articles.push(countered(&payments));
    let index = SearchIndex::build(&articles, SearchSettings::default());
    let found = index.find(question, None, 3);
    assert_eq!(found.countered.as_deref(), Some("payment-methods"), "{found:?}");
    // A list for people to read still shows the article; its counter examples are no hit.
    assert_eq!(found.hits[0].slug, "payment-methods");
    assert!(found.hits.iter().all(|h| !h.snippet.is_empty()), "{found:?}");
    assert_eq!(index.search(question, None, 3).0, found.hits);
    assert_eq!(index.len(), articles.len(), "counter examples are no article");
    // The article's own questions are not countered.
    for question in ["can I pay by card", "do you take paypal"] {
        let found = index.find(question, None, 3);
        assert_eq!(found.countered, None, "{question}: {found:?}");
        assert_eq!(found.hits[0].slug, "payment-methods", "{question}");
    }
    // A draft's counter examples count for nothing.
    let mut draft = countered(&payments);
    draft.slug = "draft-payments".into();
    draft.status = ArticleStatus::Draft;
    articles.pop();
    articles.extend([payments, draft]);
    let index = SearchIndex::build(&articles, SearchSettings::default());
    assert_eq!(index.find(question, None, 3).countered, None);
}

#[test]
fn counter_examples_are_cleaned_and_bounded_like_examples() {
    let mut input = input("Returns", "Send it back.", Language::En);
    input.counter_examples = vec![" can I return\u{202e} my cat? ".into(), "can I return my cat?".into()];
    let a = Article::draft("returns", input.clone(), "li", Timestamp::UNIX_EPOCH).unwrap();
    assert_eq!(a.counter_examples, ["can I return my cat?"]);
    for counter_examples in [vec!["q".to_owned(); MAX_EXAMPLES + 1], vec!["x".repeat(MAX_EXAMPLE_CHARS + 1)]]
    {
        let input = ArticleInput { counter_examples, ..input.clone() };
        let refused = Article::draft("returns", input, "li", Timestamp::UNIX_EPOCH);
        assert!(matches!(refused, Err(KbError::Invalid { field: "counter_examples", .. })), "{refused:?}");
    }
}

#[tokio::test]
async fn example_questions_are_stored_with_an_edit_and_its_audit_entry() {
    let (kb, store) = editor();
    let a = kb.create("returns", input("Returns", "Send it back.", Language::En), "li").await.unwrap();
    let mut edit = input("Returns", "Send it back.", Language::En);
    edit.examples = vec!["how do I send it back".into()];
    kb.edit("returns", a.version, edit, "sue").await.unwrap();
    let stored = store.article("returns").await.unwrap().unwrap();
    assert_eq!(stored.examples, ["how do I send it back"]);
    let actions: Vec<KbAction> = kb.audit("returns").await.unwrap().iter().map(|e| e.action).collect();
    assert_eq!(actions, [KbAction::Created, KbAction::Edited]);
}
