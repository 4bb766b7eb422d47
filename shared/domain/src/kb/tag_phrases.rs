//! Tags as phrases: a question asks about an article's tag only when it holds the whole tag
//! ("credit card"), not one word of it ("gift card"). Each distinct tag is kept once, with
//! the terms a question must hold; a query works out once which tags it completes, so the
//! per-article check stays off the search's hot path.

use std::collections::HashMap;

use super::text::Term;

/// One distinct tag's term ids, sorted.
struct Phrase {
    all: Vec<u32>,
    /// What a question must hold to ask about the whole tag: its words, or a Chinese tag's
    /// bigrams (its single characters only repeat them, and a synonym brings in bigrams alone).
    required: Vec<u32>,
}

/// Every distinct tag of the indexed articles.
#[derive(Default)]
pub(super) struct TagPhrases {
    phrases: Vec<Phrase>,
    by_text: HashMap<String, u32>,
    /// The tags each term id appears in.
    of_term: HashMap<u32, Vec<u32>>,
}

/// The tags one query holds whole, and the terms of those tags (both sorted).
pub(super) struct Completed {
    tags: Vec<u32>,
    terms: Vec<u32>,
}

impl TagPhrases {
    /// The id of `tag`, whose terms are `terms`; `id_of` gives a term's vocabulary id.
    pub(super) fn add(&mut self, tag: &str, terms: &[Term], id_of: impl Fn(&str) -> Option<u32>) -> u32 {
        if let Some(id) = self.by_text.get(tag) {
            return *id;
        }
        let has_whole = terms.iter().any(|t| t.weight >= 1.0);
        let ids = |keep: &dyn Fn(&Term) -> bool| {
            let mut ids: Vec<u32> = terms.iter().filter(|t| keep(t)).filter_map(|t| id_of(&t.text)).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let phrase = Phrase { all: ids(&|_| true), required: ids(&|t| !has_whole || t.weight >= 1.0) };
        let id = self.phrases.len() as u32;
        for term in &phrase.all {
            self.of_term.entry(*term).or_default().push(id);
        }
        self.phrases.push(phrase);
        self.by_text.insert(tag.to_owned(), id);
        id
    }

    /// The tags a query with the sorted term ids `query` holds whole.
    pub(super) fn completed(&self, query: &[u32]) -> Completed {
        let mut tags: Vec<u32> = query
            .iter()
            .filter_map(|term| self.of_term.get(term))
            .flatten()
            .copied()
            .filter(|tag| self.phrases[*tag as usize].required.iter().all(|t| query.binary_search(t).is_ok()))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let mut terms: Vec<u32> =
            tags.iter().flat_map(|tag| self.phrases[*tag as usize].all.iter().copied()).collect();
        terms.sort_unstable();
        terms.dedup();
        Completed { tags, terms }
    }

    /// Whether `term` is a word of one of `doc_tags` the query holds whole.
    pub(super) fn covers(&self, completed: &Completed, doc_tags: &[u32], term: u32) -> bool {
        completed.terms.binary_search(&term).is_ok()
            && doc_tags.iter().any(|tag| {
                completed.tags.binary_search(tag).is_ok()
                    && self.phrases[*tag as usize].all.binary_search(&term).is_ok()
            })
    }
}
