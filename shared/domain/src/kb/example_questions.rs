//! Example questions as evidence: a question that holds most of one of an article's example
//! questions (weighted by rarity) asks what the article answers, so the example's words
//! cover it like a title does; one word shared with a longer example is only a body word.

/// The share of an example's weight a question must hold to be close to it.
const CLOSENESS: f32 = 0.5;

/// One example question's term ids (sorted) and their weights (idf), set once the index is
/// built.
pub(super) struct ExampleQuestion {
    terms: Vec<u32>,
    weights: Vec<f32>,
    total: f32,
}

impl ExampleQuestion {
    pub(super) fn new(mut terms: Vec<u32>) -> Self {
        terms.sort_unstable();
        terms.dedup();
        Self { terms, weights: Vec::new(), total: 0.0 }
    }

    /// Weighs the terms once every article is indexed (their idf is final then).
    pub(super) fn weigh(&mut self, idf: impl Fn(u32) -> f32) {
        self.weights = self.terms.iter().map(|t| idf(*t)).collect();
        self.total = self.weights.iter().sum();
    }

    /// Whether the query (sorted term ids) holds enough of this example.
    fn is_close(&self, query: &[u32]) -> bool {
        let held: f32 = self
            .terms
            .iter()
            .zip(&self.weights)
            .filter(|(t, _)| query.binary_search(t).is_ok())
            .map(|(_, w)| w)
            .sum();
        self.total > 0.0 && held >= CLOSENESS * self.total
    }
}

/// Whether `term` is a word of one of `examples` the query (sorted term ids) is close to.
pub(super) fn covers(examples: &[ExampleQuestion], query: &[u32], term: u32) -> bool {
    examples.iter().any(|example| example.terms.binary_search(&term).is_ok() && example.is_close(query))
}
