//! The search index: BM25 over four fields (title, tags, example questions, body with the
//! category), each saturating on its own so a title match adds to a body match instead of
//! drowning in it; the hits of comparable score ordered by how much of the question they
//! cover; synonyms from the config, one-letter typo correction for English words, and a
//! preferred language with fallback to the other. Built from the published articles;
//! read-only once built.

use std::collections::HashMap;

use super::article::{Article, Language};
use super::example_questions::ExampleQuestions;
use super::filler;
use super::tag_phrases::{Completed, TagPhrases};
use super::text::{Segmentation, Term, terms_in};

const K1: f32 = 1.2;
/// The BM25 score at which a hit's evidence counts about two thirds (see [`confidence`]).
const SCORE_SCALE: f32 = 4.0;
const B: f32 = 0.4;
/// Weight of a typo's correction, next to a word the customer typed right.
const EXPANSION_WEIGHT: f32 = 0.7;
/// How much a tag (or the category) term counts next to a body term: tags are what agents
/// chose to describe the article.
const TAGS_BOOST: f32 = 1.5;
/// How much a term of the article's example questions counts next to a body term: they are
/// how customers ask what the article answers, so a word there is as telling as a tag.
const EXAMPLES_BOOST: f32 = 1.5;
/// How much of a question's word a match only in an article's body covers in
/// [`Hit::confidence`]: bodies mention much in passing ("press", "Black Friday"); a match in
/// the title, a whole tag or an example question the question is close to says the article
/// is about it. So does one word of a longer tag ("card" of "credit card" in "gift card"), or
/// of a longer example question, no more than a body word.
const BODY_ONLY_COVERAGE: f32 = 0.45;
/// Weight of a term a synonym added: it helps an article that uses another word for the
/// same thing, but must not outweigh the words the customer chose.
const SYNONYM_WEIGHT: f32 = 0.4;
/// How much an unknown term counts against a match in [`Hit::confidence`]: a word no article
/// uses says the question is about something else ("gift cards", "耳机保修"). A Chinese
/// bigram counts less: it may be only part of an unknown word, or straddle two known ones
/// ("递到" in "快递到了"). Straddling bigrams once counted a third as much as the others;
/// fitted on the fit set as well (README BENCHMARKS), one weight for both does better: the
/// unknown word beside a known one ("運費險", "换个头像") is what makes a question another's.
/// An unknown word of a spaced language (English) weighs most: it is a whole word, most often
/// the thing asked about ("student discount", "recyclable packaging"); fitted in the sixth
/// round on harder English questions nothing answers (README BENCHMARKS), 1.75 times the
/// weight a single Han character keeps.
const UNKNOWN_WORD_WEIGHT: f32 = 2.625;
const UNKNOWN_HAN_CHARACTER_WEIGHT: f32 = 1.5;
const UNKNOWN_BIGRAM_WEIGHT: f32 = 0.75;
/// The share of its unknown weight a generic word of customer messages keeps ("tonight",
/// "honestly", an order number; [`filler`]): a long message's context, not its subject.
/// Fitted in the seventh round (README BENCHMARKS): 0.1–0.5 alike at "at most 4 % false
/// answers", 0.4 best at 3 %; none at all answers more questions that are not questions.
const FILLER_SHARE: f32 = 0.4;
/// The shortest word a typo is corrected into: a one-letter change of a four-letter word
/// reaches too many three-letter ones ("logo" is not "log", "shop" is not "ship").
const MIN_CORRECTION_LEN: usize = 4;
/// The share of their weight the words no article uses keep against an article one of whose
/// example questions the question is close to ([`ExampleQuestions::close_terms`]): the question
/// asks what the article answers in the customer's own words, and its other words are more
/// likely the customer's story than another subject. Fitted in the seventh round (README
/// BENCHMARKS).
const CLOSE_EXAMPLE_UNKNOWN_SHARE: f32 = 0.85;
/// Hits scoring at least this share of the best hit's score are ordered by confidence
/// ([`SearchIndex::order`]); fitted in the sixth round (README BENCHMARKS).
const LEAD_SHARE: f32 = 0.5;
/// Confidence grows with coverage to this power: between the square root (half the question
/// covered looks 71 % sure) and linear (a long question with one stray word looks unsure).
const COVERAGE_EXPONENT: f32 = 0.75;

/// Tuning, from the config's `[kb]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// How much a title term counts next to a body term.
    pub title_boost: f32,
    pub synonyms: Synonyms,
    /// How Chinese is cut into terms; the desk uses bigrams (README BENCHMARKS).
    pub segmentation: Segmentation,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self { title_boost: 2.5, synonyms: Synonyms::default(), segmentation: Segmentation::Bigrams }
    }
}

/// Groups of words that mean the same to a customer (快递/物流/包裹, refund/退款).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Synonyms {
    /// Each group as the term lists of its members.
    groups: Vec<Vec<Vec<String>>>,
}

impl Synonyms {
    pub fn new(groups: &[Vec<String>]) -> Self {
        Self::segmented(groups, Segmentation::Bigrams)
    }

    /// The groups, their members cut into terms as `segmentation` says.
    pub fn segmented(groups: &[Vec<String>], segmentation: Segmentation) -> Self {
        let groups = groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|member| {
                        let terms = terms_in(member, segmentation);
                        // A one-character member ("换") is its character; in longer ones the
                        // single characters only repeat the bigrams.
                        let whole = terms.iter().any(|t| t.weight >= 1.0);
                        terms.into_iter().filter(|t| !whole || t.weight >= 1.0).map(|t| t.text).collect()
                    })
                    .filter(|member: &Vec<String>| !member.is_empty())
                    .collect()
            })
            .collect();
        Self { groups }
    }

    /// Every single-term member: words a customer's typo may have meant although no
    /// article uses them ("pacakge" → "package", which brings in "parcel").
    fn words(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().flatten().filter(|m| m.len() == 1).map(|m| m[0].as_str())
    }

    /// The terms of every other member of a group one of whose members `query` holds, each
    /// with the position in `query` of the word that brought it in.
    fn expand(&self, query: &[Term]) -> Vec<(Term, usize)> {
        let mut added = Vec::new();
        for group in &self.groups {
            let position = |member: &Vec<String>| -> Option<usize> {
                let positions: Option<Vec<usize>> =
                    member.iter().map(|t| query.iter().position(|q| &q.text == t)).collect();
                positions.and_then(|p| p.into_iter().min())
            };
            let Some(origin) = group.iter().find_map(position) else { continue };
            for member in group.iter().filter(|m| position(m).is_none()) {
                added.extend(
                    member.iter().map(|t| (Term { text: t.clone(), weight: SYNONYM_WEIGHT }, origin)),
                );
            }
        }
        added
    }
}

/// A query term, its vocabulary id (`None`: no article uses it) and its concept.
type QueryTerm = (Term, Option<u32>, usize);

struct Doc {
    slug: String,
    title: String,
    snippet: String,
    language: Language,
    title_len: f32,
    tags_len: f32,
    examples_len: f32,
    body_len: f32,
    /// Its tags' ids in [`TagPhrases`].
    tags: Vec<u32>,
    examples: ExampleQuestions,
    /// An article's counter examples, not the article: a question it matches best is left to
    /// a person.
    counter: bool,
}

/// The text of one document's fields.
struct DocText<'a> {
    title: &'a str,
    tags: &'a [&'a str],
    examples: &'a [String],
    body: &'a str,
}

#[derive(Clone, Copy)]
struct Posting {
    doc: u32,
    title_tf: f32,
    tags_tf: f32,
    examples_tf: f32,
    body_tf: f32,
}

/// What a question found ([`SearchIndex::find`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The articles, best first.
    pub hits: Vec<Hit>,
    /// Found only in the other language's articles.
    pub fallback: bool,
    /// The article one of whose counter examples the question matched better than any
    /// article: the desk leaves such a question to a person.
    pub countered: Option<String>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub slug: String,
    pub title: String,
    /// The article's opening, as plain text: the bot's short answer.
    pub snippet: String,
    pub language: Language,
    /// BM25 score: compares hits of one query only.
    pub score: f32,
    /// How sure the match is, 0–1: how much of the question the article covers (terms weighted
    /// by rarity) and how strong the evidence is. What the bot and the mail suggestions
    /// compare with their thresholds.
    pub confidence: f32,
    /// How much of the question the article covers, in the weight of its words (their
    /// rarity): what the question says that the article answers, however long the question.
    pub covered: f32,
}

pub struct SearchIndex {
    docs: Vec<Doc>,
    vocabulary: HashMap<String, u32>,
    postings: Vec<Vec<Posting>>,
    avg_title: f32,
    avg_tags: f32,
    avg_examples: f32,
    avg_body: f32,
    tags: TagPhrases,
    settings: SearchSettings,
}

impl SearchIndex {
    /// Indexes the published articles among `articles`.
    pub fn build(articles: &[Article], settings: SearchSettings) -> SearchIndex {
        let mut index = SearchIndex {
            docs: Vec::new(),
            vocabulary: HashMap::new(),
            postings: Vec::new(),
            avg_title: 1.0,
            avg_tags: 1.0,
            avg_examples: 1.0,
            avg_body: 1.0,
            tags: TagPhrases::default(),
            settings,
        };
        let mut totals = [0.0f32; 4];
        for article in articles.iter().filter(|a| a.is_published()) {
            // The category is broad ("Orders"): it counts like body text.
            let mut body = article.body.clone();
            if let Some(category) = &article.category {
                body.push('\n');
                body.push_str(category);
            }
            let tags: Vec<&str> = article.tags.iter().map(String::as_str).collect();
            let fields =
                DocText { title: &article.title, tags: &tags, examples: &article.examples, body: &body };
            index.add_doc(article, fields, false, &mut totals);
            if !article.counter_examples.is_empty() {
                // Its counter examples are a document of their own, which a question can match
                // better than any article.
                let fields = DocText { title: "", tags: &[], examples: &article.counter_examples, body: "" };
                index.add_doc(article, fields, true, &mut totals);
            }
        }
        let [title_total, tags_total, examples_total, body_total] = totals;
        let n = index.docs.len().max(1) as f32;
        index.avg_title = (title_total / n).max(1.0);
        index.avg_tags = (tags_total / n).max(1.0);
        index.avg_examples = (examples_total / n).max(1.0);
        index.avg_body = (body_total / n).max(1.0);
        let idfs: Vec<f32> = index.postings.iter().map(|p| index.idf(p.len())).collect();
        for doc in &mut index.docs {
            doc.examples.weigh(|t| idfs[t as usize]);
        }
        // Postings grew one by one: give back the spare room.
        for postings in &mut index.postings {
            postings.shrink_to_fit();
        }
        index
    }

    /// Indexes one document of `article`: the article itself, or (`counter`) its counter
    /// examples. `totals` sums each field's length, for the averages.
    fn add_doc(&mut self, article: &Article, text: DocText<'_>, counter: bool, totals: &mut [f32; 4]) {
        let doc = self.docs.len() as u32;
        let segmentation = self.settings.segmentation;
        let title_terms = terms_in(text.title, segmentation);
        // Tags one per line, so no bigram straddles two of them; likewise one example question
        // per line.
        let tags_terms = terms_in(&text.tags.join("\n"), segmentation);
        let examples_terms = terms_in(&text.examples.join("\n"), segmentation);
        let body_terms = terms_in(text.body, segmentation);
        let mut counts: HashMap<&str, [f32; 4]> = HashMap::new();
        let fields = [&title_terms, &tags_terms, &examples_terms, &body_terms];
        for (field, terms) in fields.iter().enumerate() {
            for t in terms.iter() {
                counts.entry(&t.text).or_default()[field] += 1.0;
            }
            totals[field] += terms.len() as f32;
        }
        for (text, [title_tf, tags_tf, examples_tf, body_tf]) in counts {
            let next = self.vocabulary.len() as u32;
            let id = *self.vocabulary.entry(text.to_owned()).or_insert(next);
            if id == next {
                self.postings.push(Vec::new());
            }
            self.postings[id as usize].push(Posting { doc, title_tf, tags_tf, examples_tf, body_tf });
        }
        let tags: Vec<u32> = text
            .tags
            .iter()
            .map(|tag| {
                let vocabulary = &self.vocabulary;
                self.tags.add(tag, &terms_in(tag, segmentation), |t| vocabulary.get(t).copied())
            })
            .collect();
        let mut examples = ExampleQuestions::default();
        for example in text.examples {
            let terms = terms_in(example, segmentation);
            let id = |t: &Term| self.vocabulary.get(&t.text).copied();
            let topical = |t: &&Term| {
                t.weight >= 1.0 && title_terms.iter().chain(&tags_terms).any(|o| o.text == t.text)
            };
            examples.push(
                terms.iter().filter_map(id).collect(),
                terms.iter().filter(topical).filter_map(id).collect(),
            );
        }
        self.docs.push(Doc {
            slug: article.slug.clone(),
            title: article.title.clone(),
            snippet: if counter { String::new() } else { super::snippet::snippet(&article.body) },
            language: article.language,
            title_len: title_terms.len() as f32,
            tags_len: tags_terms.len() as f32,
            examples_len: examples_terms.len() as f32,
            body_len: body_terms.len() as f32,
            tags,
            examples,
            counter,
        });
    }

    /// The articles indexed (not counting their counter examples).
    pub fn len(&self) -> usize {
        self.docs.iter().filter(|d| !d.counter).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn idf(&self, df: usize) -> f32 {
        let n = self.docs.len() as f32;
        let df = df as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// The known vocabulary word one edit away from an unknown English word (two for long
    /// words), preferring the most common.
    fn correct(&self, word: &str) -> Option<String> {
        let len = word.chars().count();
        if len < 4 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let max = if len >= 8 { 2 } else { 1 };
        // Typos rarely change the first letter; requiring it keeps real words ("much") from
        // being "corrected" into unrelated ones.
        let first = word.chars().next();
        let known =
            self.vocabulary.iter().map(|(known, id)| (known.as_str(), self.postings[*id as usize].len()));
        // A word only the synonyms know must be long enough not to be a different short
        // word one letter away ("logo" is not "log in").
        let synonyms = self.settings.synonyms.words().filter(|_| len >= 5).map(|w| (w, 0));
        known
            .chain(synonyms)
            .filter(|(known, _)| known.len().abs_diff(word.len()) <= max && known.is_ascii())
            .filter(|(known, _)| known.len() >= MIN_CORRECTION_LEN)
            .filter(|(known, _)| known.chars().next() == first)
            .filter_map(|(known, df)| {
                let d = edit_distance(word, known, max)?;
                Some((d, std::cmp::Reverse(df), known))
            })
            .min()
            .map(|(_, _, known)| known.to_owned())
    }

    /// The query's terms with their ids and the concept each belongs to: a typed word (or its
    /// typo's correction) is a concept of its own, and what synonyms add joins the concept of
    /// the word that brought it in. Also each concept's weight, for [`Hit::confidence`].
    fn query_terms(&self, query: &str) -> (Vec<QueryTerm>, Vec<f32>) {
        let unknown_idf = self.idf(0);
        let mut typed = Vec::new();
        for term in terms_in(query, self.settings.segmentation) {
            let synonym = || self.settings.synonyms.words().any(|w| w == term.text);
            if self.vocabulary.contains_key(&term.text) || synonym() {
                typed.push(term);
            } else if let Some(fixed) = self.correct(&term.text) {
                typed.push(Term { text: fixed, weight: EXPANSION_WEIGHT });
            } else {
                typed.push(term);
            }
        }
        let expanded = self.settings.synonyms.expand(&typed);
        let mut merged: Vec<QueryTerm> = Vec::new();
        let mut concepts: Vec<f32> = Vec::new();
        // The concept of each typed term (a repeated term joins its first occurrence's).
        let mut typed_concept = Vec::with_capacity(typed.len());
        for term in &typed {
            if let Some(&(_, _, concept)) = merged.iter().find(|(t, _, _)| t.text == term.text) {
                typed_concept.push(concept);
                continue;
            }
            let id = self.vocabulary.get(&term.text).copied();
            concepts.push(match id {
                Some(id) => term.weight * self.idf(self.postings[id as usize].len()),
                None if filler::is_filler(&term.text) => {
                    term.weight * unknown_idf * unknown_weight(term) * FILLER_SHARE
                }
                None => term.weight * unknown_idf * unknown_weight(term),
            });
            typed_concept.push(concepts.len() - 1);
            merged.push((term.clone(), id, concepts.len() - 1));
        }
        for (term, origin) in expanded {
            if merged.iter().any(|(t, _, _)| t.text == term.text) {
                continue;
            }
            let Some(&concept) = typed_concept.get(origin) else { continue };
            let id = self.vocabulary.get(&term.text).copied();
            merged.push((term, id, concept));
        }
        (merged, concepts)
    }

    /// The best `limit` articles for `query`: those in `language` first; if none matches in
    /// it, the other language's (a fallback). `None` language: the question's own.
    pub fn search(&self, query: &str, language: Option<Language>, limit: usize) -> (Vec<Hit>, bool) {
        let found = self.find(query, language, limit);
        (found.hits, found.fallback)
    }

    /// [`Self::search`], and whether a counter example matched the question better than any
    /// article: what the bot and the mail suggestions go by.
    pub fn find(&self, query: &str, language: Option<Language>, limit: usize) -> Found {
        let language = language.unwrap_or_else(|| super::text::detect_language(query));
        let (hits, countered) = self.search_in(query, Some(language), limit);
        if !hits.is_empty() || limit == 0 {
            return Found { hits, fallback: false, countered };
        }
        let (hits, fallback_countered) = self.search_in(query, None, limit);
        Found { hits, fallback: true, countered: countered.or(fallback_countered) }
    }

    /// The best `limit` articles, and the article whose counter examples came first if they did.
    fn search_in(&self, query: &str, language: Option<Language>, limit: usize) -> (Vec<Hit>, Option<String>) {
        let (query, concepts) = self.query_terms(query);
        let total: f32 = concepts.iter().sum();
        // The weight of the concepts no article term matches (words no article uses).
        let unknown: f32 = concepts
            .iter()
            .enumerate()
            .filter(|(c, _)| !query.iter().any(|(_, id, concept)| id.is_some() && concept == c))
            .map(|(_, w)| w)
            .sum();
        let mut query_ids: Vec<u32> = query.iter().filter_map(|(_, id, _)| *id).collect();
        query_ids.sort_unstable();
        let whole_tags = self.tags.completed(&query_ids);
        // Each article's score first; what it covers only for those that can be returned.
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (term, id, _) in &query {
            let Some(id) = id else { continue };
            let postings = &self.postings[*id as usize];
            let idf = self.idf(postings.len());
            for p in postings {
                let doc = &self.docs[p.doc as usize];
                if language.is_some_and(|l| l != doc.language) {
                    continue;
                }
                let fields = self.settings.title_boost * saturate(p.title_tf, doc.title_len / self.avg_title)
                    + TAGS_BOOST * saturate(p.tags_tf, doc.tags_len / self.avg_tags)
                    + EXAMPLES_BOOST * saturate(p.examples_tf, doc.examples_len / self.avg_examples)
                    + saturate(p.body_tf, doc.body_len / self.avg_body);
                *scores.entry(p.doc).or_default() += term.weight * idf * fields;
            }
        }
        let candidates = self.candidates(scores, limit);
        let mut ranked: Vec<Ranked> = candidates
            .into_iter()
            .map(|(doc, score)| {
                let (covered, close) = self.coverage(doc, &query, concepts.len(), &query_ids, &whole_tags);
                let covered: f32 = concepts.iter().zip(&covered).map(|(w, c)| w * c).sum();
                let total = if close { total - unknown * (1.0 - CLOSE_EXAMPLE_UNKNOWN_SHARE) } else { total };
                let confidence = confidence(if total > 0.0 { covered / total } else { 0.0 }, score);
                Ranked { doc, score, confidence, covered }
            })
            .collect();
        self.order(&mut ranked);
        let doc = |r: &Ranked| &self.docs[r.doc as usize];
        let countered = ranked.first().map(doc).filter(|d| d.counter).map(|d| d.slug.clone());
        // Only the hits returned are made: a common word can match thousands of documents.
        let hits = ranked
            .iter()
            .filter(|r| !doc(r).counter)
            .take(limit)
            .map(|r| {
                let d = doc(r);
                Hit {
                    slug: d.slug.clone(),
                    title: d.title.clone(),
                    snippet: d.snippet.clone(),
                    language: d.language,
                    score: r.score,
                    confidence: r.confidence,
                    covered: r.covered,
                }
            })
            .collect();
        (hits, countered)
    }

    /// The scored documents that can be among the first `limit` articles or come first: every
    /// one scoring at least [`LEAD_SHARE`] of the best (ordered by what they cover), and of
    /// the rest the `limit` articles scoring best (ordered by score alone).
    fn candidates(&self, scores: HashMap<u32, f32>, limit: usize) -> Vec<Scored> {
        let best = scores.values().copied().fold(0.0f32, f32::max);
        let (mut leads, mut rest): (Vec<Scored>, Vec<Scored>) =
            scores.into_iter().partition(|(_, score)| *score >= LEAD_SHARE * best);
        let doc = |d: u32| &self.docs[d as usize];
        rest.sort_by(|(a, a_score), (b, b_score)| {
            b_score
                .total_cmp(a_score)
                .then_with(|| doc(*a).slug.cmp(&doc(*b).slug))
                .then_with(|| doc(*a).counter.cmp(&doc(*b).counter))
        });
        leads.extend(rest.into_iter().filter(|(d, _)| !doc(*d).counter).take(limit));
        leads
    }

    /// How much of each concept of `query` the document covers, and whether the question is
    /// close to one of its example questions (in which case words no article uses weigh less).
    fn coverage(
        &self,
        doc_id: u32,
        query: &[QueryTerm],
        concepts: usize,
        query_ids: &[u32],
        whole_tags: &Completed,
    ) -> (Vec<f32>, bool) {
        let doc = &self.docs[doc_id as usize];
        let mut covered = vec![0.0f32; concepts];
        let mut close_any = false;
        // The words of the example questions the query is close to, found once.
        let mut close_terms: Option<Vec<u32>> = None;
        for (_, id, concept) in query {
            let Some(id) = id else { continue };
            let postings = &self.postings[*id as usize];
            // Postings are in document order (documents are added one by one).
            let Ok(at) = postings.binary_search_by_key(&doc_id, |p| p.doc) else { continue };
            let p = &postings[at];
            let Some(covered) = covered.get_mut(*concept) else { continue };
            if *covered >= 1.0 {
                continue;
            }
            let whole_tag = || self.tags.covers(whole_tags, &doc.tags, *id);
            let close = p.examples_tf > 0.0
                && close_terms
                    .get_or_insert_with(|| doc.examples.close_terms(query_ids))
                    .binary_search(id)
                    .is_ok();
            close_any |= close;
            let credit = if p.title_tf > 0.0 || (p.tags_tf > 0.0 && whole_tag()) || close {
                1.0
            } else {
                BODY_ONLY_COVERAGE
            };
            *covered = covered.max(credit);
        }
        (covered, close_any)
    }

    /// Best first: the hits scoring at least [`LEAD_SHARE`] of the best score by confidence,
    /// then the rest by score. BM25 ranks by evidence, which a long article or a title's
    /// repeated word inflates ("Shipping fees and free shipping" for "do you ship to canada");
    /// among hits with comparable evidence, the one that covers more of the question answers
    /// it. On a tie an article comes before its own counter examples.
    fn order(&self, ranked: &mut [Ranked]) {
        let best = ranked.iter().map(|r| r.score).fold(0.0f32, f32::max);
        let leads = |r: &Ranked| r.score >= LEAD_SHARE * best;
        let doc = |r: &Ranked| &self.docs[r.doc as usize];
        ranked.sort_by(|a, b| {
            leads(b)
                .cmp(&leads(a))
                .then_with(|| {
                    if leads(a) { b.confidence.total_cmp(&a.confidence) } else { std::cmp::Ordering::Equal }
                })
                .then_with(|| b.score.total_cmp(&a.score))
                .then_with(|| doc(a).slug.cmp(&doc(b).slug))
                .then_with(|| doc(a).counter.cmp(&doc(b).counter))
        });
    }
}

/// A document and its score.
type Scored = (u32, f32);

/// A scored document, before it becomes a [`Hit`].
struct Ranked {
    doc: u32,
    score: f32,
    confidence: f32,
    covered: f32,
}

/// How much an unknown `term` counts against a match, by its kind: a Han bigram, a single Han
/// character, or a word.
fn unknown_weight(term: &Term) -> f32 {
    let mut chars = term.text.chars();
    let han = |c: Option<char>| c.is_some_and(super::text::is_han);
    match (chars.next(), chars.next(), chars.next()) {
        (first, None, None) if han(first) => UNKNOWN_HAN_CHARACTER_WEIGHT,
        (first, second, None) if han(first) && han(second) => UNKNOWN_BIGRAM_WEIGHT,
        _ => UNKNOWN_WORD_WEIGHT,
    }
}

/// BM25's saturating term frequency in one field, `relative_len` its length over the average.
fn saturate(tf: f32, relative_len: f32) -> f32 {
    if tf <= 0.0 {
        return 0.0;
    }
    tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * relative_len))
}

/// How sure a hit is: the share of the question it covers, discounted when the evidence is
/// thin (a low BM25 score: one common word matched). Both matter: "where is my order" is
/// short but fully covered; a long question half covered by strong terms is still a match.
fn confidence(coverage: f32, score: f32) -> f32 {
    (coverage.clamp(0.0, 1.0).powf(COVERAGE_EXPONENT) * (1.0 - (-score / SCORE_SCALE).exp())).clamp(0.0, 1.0)
}

/// Damerau–Levenshtein (adjacent swaps count one) up to `max`; `None` beyond it.
fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("retrun", "return", 1), Some(1));
        assert_eq!(edit_distance("refnd", "refund", 1), Some(1));
        assert_eq!(edit_distance("parcel", "cancel", 1), None);
    }
}
