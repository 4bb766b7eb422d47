//! Example questions as evidence: a question that holds most of one of an article's example
//! questions (weighted by rarity), and its topic word if it has one, asks what the article
//! answers, so the example's words cover it like a title does; one word shared with a longer
//! example is only a body word.

/// The share of an example's weight a question must hold to be close to it.
const CLOSENESS: f32 = 0.5;

/// One example question's term ids (sorted) and their weights (idf), set once the index is
/// built.
pub(super) struct ExampleQuestion {
    terms: Vec<u32>,
    /// Its terms the article's title or tags hold too (sorted): what it asks about. A
    /// question close to the rest of an example but with none of these asks something else
    /// ("is the black friday sale on friday" of "is delivery slower during the black friday
    /// sale").
    topic: Vec<u32>,
    weights: Vec<f32>,
    total: f32,
}

impl ExampleQuestion {
    pub(super) fn new(mut terms: Vec<u32>, mut topic: Vec<u32>) -> Self {
        terms.sort_unstable();
        terms.dedup();
        topic.sort_unstable();
        topic.dedup();
        Self { terms, topic, weights: Vec::new(), total: 0.0 }
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
        let on_topic = self.topic.is_empty() || self.topic.iter().any(|t| query.binary_search(t).is_ok());
        self.total > 0.0 && held >= CLOSENESS * self.total && on_topic
    }
}

/// The words (sorted term ids) of the `examples` the query (sorted term ids) is close to: a
/// query term among them is covered by an example question.
pub(super) fn close_terms(examples: &[ExampleQuestion], query: &[u32]) -> Vec<u32> {
    let mut terms: Vec<u32> = examples
        .iter()
        .filter(|example| example.is_close(query))
        .flat_map(|e| e.terms.iter().copied())
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}
