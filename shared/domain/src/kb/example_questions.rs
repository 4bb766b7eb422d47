//! Example questions as evidence: a question that holds most of one of an article's example
//! questions (weighted by rarity), and its topic word if it has one, asks what the article
//! answers, so the example's words cover it like a title does; one word shared with a longer
//! example is only a body word.

use std::ops::Range;

/// The share of an example's weight a question must hold to be close to it.
const CLOSENESS: f32 = 0.5;

/// One document's example questions, stored flat: an article may carry a hundred of them, and a
/// knowledge base thousands of articles, so each question costs its terms and a few numbers,
/// not three allocations.
#[derive(Default)]
pub(super) struct ExampleQuestions {
    /// Every question's term ids, sorted within each question, one question after another.
    terms: Vec<u32>,
    /// Their weights (idf), set once the index is built.
    weights: Vec<f32>,
    /// Every question's topic: its terms the article's title or tags hold too (sorted), what
    /// it asks about. A question close to the rest of an example but with none of these asks
    /// something else ("is the black friday sale on friday" of "is delivery slower during the
    /// black friday sale").
    topics: Vec<u32>,
    /// Per question: the end of its terms in `terms`, the end of its topic in `topics`, and
    /// its total weight.
    ends: Vec<(u32, u32, f32)>,
}

impl ExampleQuestions {
    /// Adds one question's term ids and topic term ids.
    pub(super) fn push(&mut self, mut terms: Vec<u32>, mut topic: Vec<u32>) {
        terms.sort_unstable();
        terms.dedup();
        topic.sort_unstable();
        topic.dedup();
        self.terms.extend(terms);
        self.topics.extend(topic);
        self.ends.push((self.terms.len() as u32, self.topics.len() as u32, 0.0));
    }

    /// Weighs the terms once every article is indexed (their idf is final then), and gives
    /// back what the building left spare.
    pub(super) fn weigh(&mut self, idf: impl Fn(u32) -> f32) {
        self.weights = self.terms.iter().map(|t| idf(*t)).collect();
        let mut start = 0;
        for end in &mut self.ends {
            end.2 = self.weights[start..end.0 as usize].iter().sum();
            start = end.0 as usize;
        }
        self.terms.shrink_to_fit();
        self.topics.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Each question's span of `terms` (and `weights`), span of `topics`, and total weight.
    fn questions(&self) -> impl Iterator<Item = (Range<usize>, Range<usize>, f32)> + '_ {
        let mut starts = (0, 0);
        self.ends.iter().map(move |&(terms_end, topic_end, total)| {
            let spans = (starts.0..terms_end as usize, starts.1..topic_end as usize, total);
            starts = (terms_end as usize, topic_end as usize);
            spans
        })
    }

    /// The words (sorted term ids) of the questions the query (sorted term ids) is close to:
    /// a query term among them is covered by an example question.
    pub(super) fn close_terms(&self, query: &[u32]) -> Vec<u32> {
        let mut close: Vec<u32> = Vec::new();
        for (terms, topic, total) in self.questions() {
            let held: f32 = self.terms[terms.clone()]
                .iter()
                .zip(&self.weights[terms.clone()])
                .filter(|(t, _)| query.binary_search(t).is_ok())
                .map(|(_, w)| w)
                .sum();
            let topic = &self.topics[topic];
            let on_topic = topic.is_empty() || topic.iter().any(|t| query.binary_search(t).is_ok());
            if total > 0.0 && held >= CLOSENESS * total && on_topic {
                close.extend_from_slice(&self.terms[terms]);
            }
        }
        close.sort_unstable();
        close.dedup();
        close
    }
}
