//! The knowledge base's evaluation, on the example desk: its articles, the example config's
//! synonyms and the bot's threshold. The articles' example questions and counter examples hold
//! the questions of six development sets (`tests/kb/eval.tsv`, `fit.tsv`, `heldout.tsv` to
//! `heldout4.tsv`: each written apart, the four held-out ones from the articles alone, each
//! measured as a held-out set before it was tuned on), so each set is judged *out of set*:
//! against an index whose articles lack that set's questions, as a team's next questions meet
//! the ones its inbox had. Every question is judged twice: the search alone (would its best
//! article clear the threshold, with no counter example first?) and the bot (the production
//! intent step first — a person on request or complaint, the shop for an order — then the
//! search, the counter examples and the threshold). Prints top-1, top-3 and the false-answer rate of each
//! set, all six together and their Chinese and English questions; README BENCHMARKS holds them.
//! It fails only on a clear regression (see [`TOP1_FLOOR`]). `KB_EVAL_FIT=1` reruns the answer
//! rule's choice (the threshold, and the credit of [`bot::sureness`]), chosen on five sets and
//! scored on the sixth. `KB_EVAL_OWNERS=1` prints, for each development question labelled
//! `none`, the article the search puts first: how the seed file's counter examples were
//! placed. The set nobody tuned on, which no example holds, is reported apart ([`HELD_OUT`]).

use jiff::Timestamp;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::kb::seed;
use omnidesk_app::ticket_router::bot_detectors;
use omnidesk_domain::bot::{self, BotDecision, BotState, Intent, IntentDetector, ORDER_STATUS};
use omnidesk_domain::kb::{Article, Hit, SearchIndex, SearchSettings, Segmentation, Synonyms};

/// The development sets, each with the name it is reported under. `eval.tsv` was the first
/// evaluation set; `fit.tsv` was written apart from it to fit on; the four held-out sets were
/// written from the articles alone by someone who had read no other set nor the search, and
/// each was measured once (after the sixth, seventh and eighth rounds; `heldout3.tsv`, which
/// avoids the articles' words, three times) before it joined these.
const DEV_SETS: [(&str, &str); 6] = [
    ("eval", include_str!("../kb/eval.tsv")),
    ("fit", include_str!("../kb/fit.tsv")),
    ("held1", include_str!("../kb/heldout.tsv")),
    ("held2", include_str!("../kb/heldout2.tsv")),
    ("held3", include_str!("../kb/heldout3.tsv")),
    ("held4", include_str!("../kb/heldout4.tsv")),
];
/// The questions nobody tuned on, reported apart by
/// [`kb_accuracy_on_the_held_out_set_is_reported_and_holds_its_floors`]: written from the
/// articles alone, apart from the other sets and the search, for the mix a support inbox sees,
/// and committed before anything was measured on it (its header says how). No article's
/// example question comes from it.
const HELD_OUT: &str = include_str!("../kb/heldout5.tsv");
const ARTICLES: &str = include_str!("../../infra/local/kb/articles.toml");
/// The comment in the seed file before the development sets' questions among an article's
/// examples.
const ASKED_MARKER: &str = "  # Asked in the development question sets";
const CONFIG: &str = include_str!("../../infra/local/omnidesk.example.toml");
/// Below these the bot has regressed on the six development sets together, each out of set:
/// it scored top-1 85.8 % and 3.8 % false answers when they were set, with the development
/// questions as examples and counter examples and the example desk's threshold (0.6125). The
/// same sets, judged out of set the same way before the articles had those questions, had
/// scored 79.7 % and 4.0 % at the threshold of then (0.4375). A little slack, two or three
/// questions, for the intents other modules add (an intent that takes a question from the
/// search counts as no answer here).
const TOP1_FLOOR: f64 = 0.855;
const FALSE_ANSWER_CEILING: f64 = 0.042;
/// The search alone (no intents) scored 87.1 % and 3.8 %.
const SEARCH_TOP1_FLOOR: f64 = 0.868;
const SEARCH_FALSE_ANSWER_CEILING: f64 = 0.042;
/// The held-out set's floors (bot top-1, search top-1, the ceiling on false answers for both),
/// two or three questions under what it scored when it was measured, once, after the ninth
/// round: the bot 85.0 % top-1 (119 of 140), 2.0 % false answers (2 of 100); the search alone
/// 88.6 % and 2.0 %. (The sets before it, each when first measured: `heldout.tsv` 67.1 % and
/// 2.0 % after the sixth round, `heldout2.tsv` 69.3 % and 1.0 % after the seventh,
/// `heldout4.tsv` 79.3 % and 3.0 % after the eighth.)
const HELD_OUT_FLOORS: (f64, f64, f64) = (0.825, 0.865, 0.05);
/// Where the order-status intent's answer is the labelled article's: the shop says where the
/// customer's own order is.
const ORDER_ARTICLES: &[&str] = &["track-your-order", "track-your-order-zh"];

struct Question<'a> {
    row: usize,
    /// Its development set's position in [`DEV_SETS`]; [`HELD_OUT`]'s is past them.
    set: usize,
    label: &'a str,
    text: &'a str,
}

/// The rows of a labelled set (rows are 1-based).
fn rows(source: &'static str, set: usize) -> Vec<Question<'static>> {
    source
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .enumerate()
        .map(|(row, line)| {
            let mut cols = line.splitn(3, '\t');
            let _lang = cols.next().unwrap_or_default();
            let label = cols.next().unwrap_or_default();
            let text = cols.next().unwrap_or_default();
            Question { row: row + 1, set, label, text }
        })
        .collect()
}

/// The development sets' questions, set by set.
fn dev_questions() -> Vec<Vec<Question<'static>>> {
    DEV_SETS.iter().enumerate().map(|(set, (_, source))| rows(source, set)).collect()
}

/// `articles` without the example and counter-example questions `questions` ask: what an
/// index knows of a set it must be judged out of.
fn without_examples(articles: &[Article], questions: &[Question<'_>]) -> Vec<Article> {
    let mut asked: Vec<&str> = questions.iter().map(|q| q.text).collect();
    asked.sort_unstable();
    articles
        .iter()
        .map(|article| {
            let mut article = article.clone();
            article.examples.retain(|example| asked.binary_search(&example.as_str()).is_err());
            article.counter_examples.retain(|example| asked.binary_search(&example.as_str()).is_err());
            article
        })
        .collect()
}

/// What a question gets.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Article(String),
    /// The shop's answer about the customer's orders (the `order_status` intent).
    Order,
    /// A person, or "please rephrase": no answer.
    Nothing,
}

/// One question, searched and classified once; its outcome at any threshold follows.
struct Judged<'a> {
    question: &'a Question<'a>,
    hits: Vec<Hit>,
    /// A counter example matched it better than any article: no answer.
    countered: bool,
    intent: Intent,
}

impl<'a> Judged<'a> {
    fn new(question: &'a Question<'a>, index: &SearchIndex, detectors: &[Box<dyn IntentDetector>]) -> Self {
        let found = index.find(question.text, None, 3);
        Judged {
            question,
            hits: found.hits,
            countered: found.countered.is_some(),
            intent: bot::classify(detectors, question.text, false),
        }
    }

    fn search_outcome(&self, threshold: f32) -> Outcome {
        self.answered(Rule { credit: bot::COVERAGE_CREDIT, threshold })
    }

    /// The search's answer with `rule`: its best article if sure enough, none if a counter
    /// example matched better.
    fn answered(&self, rule: Rule) -> Outcome {
        if self.countered { Outcome::Nothing } else { answered(&self.hits, rule) }
    }

    /// What the bot does with this as the first message of a chat: the router hands
    /// `order_status` to the shop when the desk has one (the example config does), everything
    /// else to [`bot::decide`].
    fn bot_outcome(&self, index: &SearchIndex, threshold: f32) -> Outcome {
        if self.intent == Intent::Named(ORDER_STATUS) {
            return Outcome::Order;
        }
        match bot::decide(&BotState::default(), &self.intent, self.question.text, index, threshold) {
            BotDecision::Answer { hit } => Outcome::Article(hit.slug),
            _ => Outcome::Nothing,
        }
    }

    /// [`Self::bot_outcome`] from what was computed once (for the sweeps), with `rule`.
    fn bot_outcome_with(&self, rule: Rule) -> Outcome {
        match self.intent {
            Intent::Named(ORDER_STATUS) => Outcome::Order,
            Intent::Question => self.answered(rule),
            _ => Outcome::Nothing,
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Score {
    answerable: usize,
    top1: usize,
    /// The first hit is the labelled article, whatever its confidence (the ranking's top-1).
    first: usize,
    top3: usize,
    wrong_answer: usize,
    none: usize,
    false_answer: usize,
    /// `none` questions the shop answered (the order-status intent): not an article.
    order_lookups: usize,
}
impl Score {
    fn add(&mut self, label: &str, hits: &[Hit], outcome: &Outcome) {
        if label == "none" {
            self.none += 1;
            self.false_answer += usize::from(matches!(outcome, Outcome::Article(_)));
            self.order_lookups += usize::from(*outcome == Outcome::Order);
            return;
        }
        self.answerable += 1;
        match outcome {
            Outcome::Article(slug) if slug == label => self.top1 += 1,
            Outcome::Order if ORDER_ARTICLES.contains(&label) => self.top1 += 1,
            Outcome::Article(_) | Outcome::Order => self.wrong_answer += 1,
            Outcome::Nothing => {}
        }
        self.first += usize::from(hits.first().is_some_and(|h| h.slug == label));
        self.top3 += usize::from(hits.iter().take(3).any(|h| h.slug == label));
    }

    fn line(&self, name: &str) -> String {
        let pct = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
        let lookups = if self.order_lookups > 0 {
            format!(" (shop asked for {})", self.order_lookups)
        } else {
            String::new()
        };
        format!(
            "{name:<13} {:>3} answerable: top-1 {:5.1}%  first hit {:5.1}%  top-3 {:5.1}%  wrong {:4.1}% | {:>2} none: false answers {:4.1}%{lookups}",
            self.answerable,
            pct(self.top1, self.answerable),
            pct(self.first, self.answerable),
            pct(self.top3, self.answerable),
            pct(self.wrong_answer, self.answerable),
            self.none,
            pct(self.false_answer, self.none),
        )
    }

    fn top1_rate(&self) -> f64 {
        self.top1 as f64 / self.answerable.max(1) as f64
    }

    fn false_rate(&self) -> f64 {
        self.false_answer as f64 / self.none.max(1) as f64
    }
}

fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

#[test]
fn kb_accuracy_is_reported_for_the_development_sets_and_holds_its_floor() {
    let (config, articles, index, threshold) = example_desk();
    let detectors: Vec<Box<dyn IntentDetector>> = bot_detectors(&config);
    let sets = dev_questions();
    assert!(sets[0].len() >= 200, "the evaluation set has {} questions", sets[0].len());
    let verbose = std::env::var_os("KB_EVAL_VERBOSE").is_some();
    // Rows: each set, all six, zh, en (of all six); the search alone's and the bot's.
    let (all, zh, en) = (DEV_SETS.len(), DEV_SETS.len() + 1, DEV_SETS.len() + 2);
    let mut search = [Score::default(); DEV_SETS.len() + 3];
    let mut bot = [Score::default(); DEV_SETS.len() + 3];
    let mut judged: Vec<Judged<'_>> = Vec::new();
    for (set, questions) in sets.iter().enumerate() {
        let out_of_set =
            SearchIndex::build(&without_examples(&articles, questions), search_settings(&config));
        for question in questions {
            let j = Judged::new(question, &out_of_set, &detectors);
            let (by_search, by_bot) = (j.search_outcome(threshold), j.bot_outcome(&out_of_set, threshold));
            let rule = Rule { credit: bot::COVERAGE_CREDIT, threshold };
            assert_eq!(
                by_bot,
                j.bot_outcome_with(rule),
                "the sweep's shortcut is the bot: {}",
                question.text
            );
            let language = if is_chinese(question.text) { zh } else { en };
            for row in [set, all, language] {
                search[row].add(question.label, &j.hits, &by_search);
                bot[row].add(question.label, &j.hits, &by_bot);
            }
            if verbose {
                print_judged(&j, &by_bot);
            }
            judged.push(j);
        }
    }
    if let Ok(queries) = std::env::var("KB_EVAL_QUERY") {
        for query in queries.split(';') {
            for hit in index.search(query, None, 5).0 {
                println!(
                    "query {query:?}: {} score {:.2} confidence {:.2} covered {:.2} sureness {:.3}",
                    hit.slug,
                    hit.score,
                    hit.confidence,
                    hit.covered,
                    bot::sureness(&hit)
                );
            }
            let countered = index.find(query, None, 1).countered;
            println!(
                "query {query:?}: intent {}, countered by {countered:?}",
                bot::classify(&detectors, query, false).name()
            );
        }
    }
    if std::env::var_os("KB_EVAL_FIT").is_some() {
        fit_threshold(&judged);
    }
    if std::env::var_os("KB_EVAL_OWNERS").is_some() {
        for q in sets.iter().flatten().filter(|q| q.label == "none") {
            if let Some(hit) = index.search(q.text, None, 1).0.first() {
                println!("OWNER\t{}\t{}", hit.slug, q.text);
            }
        }
    }
    let total: usize = sets.iter().map(Vec::len).sum();
    println!(
        "knowledge-base evaluation, {total} questions in {} sets, each out of set, threshold {threshold}",
        sets.len()
    );
    let names: Vec<&str> = DEV_SETS.iter().map(|(name, _)| *name).chain(["all", "zh", "en"]).collect();
    for (who, scores) in [("search", &search), ("bot", &bot)] {
        for (name, score) in names.iter().zip(scores) {
            println!("{}", score.line(&format!("{who} {name}")));
        }
    }
    print_mail_suggestions(&judged, suggest_min_confidence(&config));
    compare_with_jieba(&config, &without_examples(&articles, &sets[0]), &sets[0], threshold);
    for (what, all, top1_floor, false_ceiling) in [
        ("bot", &bot[all], TOP1_FLOOR, FALSE_ANSWER_CEILING),
        ("search", &search[all], SEARCH_TOP1_FLOOR, SEARCH_FALSE_ANSWER_CEILING),
    ] {
        assert!(all.top1_rate() >= top1_floor, "{what}: top-1 fell to {:.1} %", 100.0 * all.top1_rate());
        assert!(
            all.false_rate() <= false_ceiling,
            "{what}: false answers rose to {:.1} %",
            100.0 * all.false_rate()
        );
    }
}

/// One judged question, for reading the misses (`KB_EVAL_VERBOSE=1`).
fn print_judged(j: &Judged<'_>, by_bot: &Outcome) {
    let q = j.question;
    let top = j
        .hits
        .iter()
        .map(|h| format!("{} {:.3} {:.2}", h.slug, h.confidence, h.score))
        .collect::<Vec<_>>()
        .join(" | ");
    let ok = match by_bot {
        Outcome::Article(slug) => slug == q.label,
        Outcome::Order => ORDER_ARTICLES.contains(&q.label),
        Outcome::Nothing => q.label == "none",
    };
    println!(
        "{}\t{} {}\t{}\t{}\t{top}\t{}",
        if ok { "ok" } else { "✗" },
        DEV_SETS[q.set].0,
        q.row,
        q.label,
        j.intent.name(),
        q.text
    );
}

/// The figures that stand for questions nobody tuned on: [`HELD_OUT`], the bot and the search
/// alone, whole and by language, against the example desk as it is. No question of it is ever
/// printed, so it stays unseen; the floors sit two or three questions under what it scored
/// when it was measured: they catch a regression, and a round that tunes on the set makes it
/// worthless — it then joins the development sets and a new one is written.
#[test]
fn kb_accuracy_on_the_held_out_set_is_reported_and_holds_its_floors() {
    let (config, _articles, index, threshold) = example_desk();
    let detectors: Vec<Box<dyn IntentDetector>> = bot_detectors(&config);
    let (bot_floor, search_floor, false_ceiling) = HELD_OUT_FLOORS;
    let questions = rows(HELD_OUT, DEV_SETS.len());
    assert!(questions.len() >= 200, "the held-out set has {} questions", questions.len());
    // Rows: all, zh, en; the search alone's and the bot's.
    let mut search = [Score::default(); 3];
    let mut bot = [Score::default(); 3];
    for question in &questions {
        let judged = Judged::new(question, &index, &detectors);
        let (by_search, by_bot) = (judged.search_outcome(threshold), judged.bot_outcome(&index, threshold));
        let language = if is_chinese(question.text) { 1 } else { 2 };
        for row in [0, language] {
            search[row].add(question.label, &judged.hits, &by_search);
            bot[row].add(question.label, &judged.hits, &by_bot);
        }
    }
    println!("knowledge-base held-out set, {} questions, threshold {threshold}", questions.len());
    for (who, scores) in [("search", &search), ("bot", &bot)] {
        for (part, score) in ["", " zh", " en"].iter().zip(scores) {
            println!("{}", score.line(&format!("{who} heldout5{part}")));
        }
    }
    for (what, all, top1_floor) in [("bot", &bot[0], bot_floor), ("search", &search[0], search_floor)] {
        assert!(all.top1_rate() >= top1_floor, "{what}: top-1 fell to {:.1} %", 100.0 * all.top1_rate());
        assert!(
            all.false_rate() <= false_ceiling,
            "{what}: false answers rose to {:.1} %",
            100.0 * all.false_rate()
        );
    }
}

/// The example config's bar for a mail acknowledgement's suggested articles.
fn suggest_min_confidence(config: &DeskConfig) -> f32 {
    config.kb.as_ref().expect("example config has [kb]").suggest_min_confidence
}

/// What a mail acknowledgement would suggest for each development question taken as a mail's
/// text (out of set, as judged): its first three articles at the bar or over, none when a
/// counter example came first (`router::suggestions`). Prints how often an answerable
/// question gets its article among them, gets only others, and how often a `none` one gets any.
fn print_mail_suggestions(judged: &[Judged<'_>], bar: f32) {
    let (mut answerable, mut listed, mut only_wrong, mut none, mut none_listed) = (0, 0, 0, 0, 0);
    for j in judged {
        let suggested: Vec<&str> = if j.countered {
            Vec::new()
        } else {
            j.hits.iter().filter(|h| h.confidence >= bar).take(3).map(|h| h.slug.as_str()).collect()
        };
        if j.question.label == "none" {
            none += 1;
            none_listed += usize::from(!suggested.is_empty());
        } else {
            answerable += 1;
            let right = suggested.contains(&j.question.label);
            listed += usize::from(right);
            only_wrong += usize::from(!right && !suggested.is_empty());
        }
    }
    let pct = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
    println!(
        "mail suggestions (confidence {bar} or more, up to 3): {:.1}% of the answerable list their article, {:.1}% only others; {:.1}% of the none get any",
        pct(listed, answerable),
        pct(only_wrong, answerable),
        pct(none_listed, none)
    );
}

/// The example config's search settings.
fn search_settings(config: &DeskConfig) -> SearchSettings {
    config.kb.as_ref().expect("example config has [kb]").search_settings()
}

/// The example config, its seeded articles, their index and the bot's threshold.
fn example_desk() -> (DeskConfig, Vec<Article>, SearchIndex, f32) {
    let config = DeskConfig::from_toml(CONFIG).expect("example config");
    let kb = config.kb.as_ref().expect("example config has [kb]");
    let threshold = config.bot.as_ref().map(|b| b.min_confidence).expect("example config has [bot]");
    let articles = seed::parse(ARTICLES, "seed", Timestamp::UNIX_EPOCH).expect("example articles");
    let index = SearchIndex::build(&articles, kb.search_settings());
    (config, articles, index, threshold)
}

/// The example desk with its articles as written: without the development sets' questions
/// the seed file adds to their examples, nor their counter examples, at the default threshold,
/// which was fitted for such articles. The tests of one behaviour of the search use it: what
/// they show should not hang on the inbox's questions the articles were given.
fn written_desk() -> (DeskConfig, Vec<Article>, SearchIndex, f32) {
    let (config, _, _, _) = example_desk();
    // Lines from the marker to the examples' closing bracket go, and counter-examples arrays
    // whole.
    let (mut written, mut asked, mut counter) = (String::new(), false, false);
    for line in ARTICLES.lines() {
        if line.starts_with(ASKED_MARKER) {
            asked = true;
        } else if line.starts_with("counter_examples = [") {
            counter = true;
        } else if line == "]" && (asked || counter) {
            asked = false;
            if std::mem::take(&mut counter) {
                continue;
            }
        }
        if !asked && !counter {
            written.push_str(line);
            written.push('\n');
        }
    }
    let articles = seed::parse(&written, "seed", Timestamp::UNIX_EPOCH).expect("example articles as written");
    let asked = articles.iter().map(|a| a.examples.len()).sum::<usize>();
    assert!(asked < 300 && articles.iter().all(|a| a.counter_examples.is_empty()), "{asked} examples left");
    let index = SearchIndex::build(&articles, search_settings(&config));
    (config, articles, index, bot::DEFAULT_MIN_CONFIDENCE)
}

/// What the bot answers to `text` as a chat's first message (intents first).
fn bot_answer(config: &DeskConfig, index: &SearchIndex, threshold: f32, text: &str) -> Option<String> {
    let intent = bot::classify(&bot_detectors(config), text, false);
    match bot::decide(&BotState::default(), &intent, text, index, threshold) {
        BotDecision::Answer { hit } => Some(hit.slug),
        _ => None,
    }
}

#[test]
fn an_unknown_english_word_beside_one_article_word_gets_no_bot_answer() {
    // Written for this test, in no labelled set: each shares one word with an article's title
    // or tags ("discount", "track", "cancel") and names something no article covers. The fifth
    // round's weights answered each (0.36–0.43 sure against a threshold of 0.3375).
    let (config, _, index, threshold) = written_desk();
    for text in [
        "is there a student discount",
        "do you have a military discount",
        "can you track my flight",
        "how do i cancel my netflix",
    ] {
        assert_eq!(bot_answer(&config, &index, threshold, text), None, "{text}");
    }
    // The articles' own subjects are still answered.
    for (text, slug) in
        [("is there a discount code", "coupons"), ("how do i cancel an order", "cancel-order")]
    {
        assert_eq!(bot_answer(&config, &index, threshold, text).as_deref(), Some(slug), "{text}");
    }
}

#[test]
fn a_question_wrapped_in_greetings_feelings_and_an_order_number_is_still_answered() {
    // Written for this test, in no labelled set. The context words are no article's, and
    // the sixth round weighed them like words naming another subject: the first was 0.23
    // sure, under the threshold (0.325), the bare question 1.0. (How sure the bot is, since
    // the eighth round: [`bot::sureness`].)
    let (_, _, index, threshold) = written_desk();
    let sure = |text: &str| {
        let hits = index.search(text, None, 3).0;
        hits.first().map(|h| (h.slug.clone(), bot::sureness(h))).unwrap_or_default()
    };
    for text in [
        "so sorry, i am confused, can i return an item i bought yesterday",
        "can i return an item, order 55321",
    ] {
        let (found, confidence) = sure(text);
        assert_eq!(found, "return-policy", "{text}");
        assert!(confidence >= threshold, "{text}: {confidence}");
    }
    // Context does not carry a subject no article covers.
    let text = "hello, sorry to bother you tonight, honestly i was wondering: is there a student discount?";
    let (_, confidence) = sure(text);
    assert!(confidence < threshold, "{text}: {confidence}");
}

#[test]
fn a_question_close_to_an_example_question_carries_a_word_of_the_customers_story() {
    // Written for this test, in no labelled set: "this is too small, can I exchange it" is an
    // example question of the exchange article; "parka" and "aunt" are no article's words.
    // Weighed in full they left it under the threshold (0.30).
    let (config, _, index, threshold) = written_desk();
    let text = "this parka from my aunt is too small, can i exchange it";
    assert_eq!(bot_answer(&config, &index, threshold, text).as_deref(), Some("exchange-size"), "{text}");
}

#[test]
fn of_hits_with_comparable_scores_the_one_covering_the_question_comes_first() {
    // "Shipping fees and free shipping" says "ship" twice in its title and outscores the
    // international article, whose example question this is word for word. Without synonyms:
    // the example config's name "canada" among the countries the international article covers.
    let (config, articles, index, threshold) = written_desk();
    let kb = config.kb.as_ref().expect("example config has [kb]");
    let bare = SearchIndex::build(
        &articles,
        SearchSettings { synonyms: Synonyms::default(), ..kb.search_settings() },
    );
    let hits = bare.search("do you ship to canada", None, 3).0;
    assert_eq!(hits[0].slug, "international-shipping", "{hits:?}");
    assert!(hits[0].score < hits[1].score, "the order is by coverage, not score: {hits:?}");
    let answer = bot_answer(&config, &index, threshold, "can you ship to canada");
    assert_eq!(answer.as_deref(), Some("international-shipping"));
}

#[test]
fn the_example_synonyms_carry_a_customers_own_words_to_the_article() {
    // Written for this test, in no labelled set. With the example config's synonyms as they
    // were before these (the articles' own words, a few groups), none was answered: each
    // was at most 0.17 sure, and "parcels" alone once found the tracking article, 0.60 sure,
    // for a question about Australia.
    let (config, _, index, threshold) = written_desk();
    for (text, article) in [
        ("my kettle arrived all dented", "damaged-or-wrong-item"),
        ("the lamp shade got crushed in the post", "damaged-or-wrong-item"),
        ("can i pay with my amex", "payment-methods"),
        ("do you send parcels to australia", "international-shipping"),
        ("我要开invoice", "invoices-zh"),
    ] {
        assert_eq!(bot_answer(&config, &index, threshold, text).as_deref(), Some(article), "{text}");
    }
}

#[test]
fn a_long_question_in_the_customers_own_words_is_answered_by_how_much_of_it_the_article_covers() {
    // Written for this test, in no labelled set. The refund article covers its question
    // ("when will the refund reach my card") but the customer's story is half the message:
    // 0.31 sure by the confidence alone, under the threshold the seventh round fitted (0.325).
    let (config, _, index, threshold) = written_desk();
    let text =
        "i posted my return last monday and you got it on wednesday, when will the refund reach my card?";
    assert_eq!(bot_answer(&config, &index, threshold, text).as_deref(), Some("refund-timing"), "{text}");
    // A short question whose one article word stands beside a subject no article covers
    // covers little weight: no credit (see also
    // `an_unknown_english_word_beside_one_article_word_gets_no_bot_answer`).
    for text in ["how do i cancel my gym membership", "is there a discount for nurses"] {
        assert_eq!(bot_answer(&config, &index, threshold, text), None, "{text}");
    }
}

#[test]
fn a_smashed_shattered_or_torn_item_is_a_damaged_one() {
    // Written for this test, in no labelled set: the example config's synonyms take the
    // words of what happened to an item to the damaged-item article.
    let (config, _, index, threshold) = written_desk();
    for text in ["it arrived shattered", "the bag came torn", "盘子收到就裂了"] {
        let answer = bot_answer(&config, &index, threshold, text);
        assert!(
            answer.as_deref().is_some_and(|slug| slug.starts_with("damaged-or-wrong-item")),
            "{text}: {answer:?}"
        );
    }
}

/// Candidate thresholds for the bot's sureness.
fn grid() -> impl Iterator<Item = f32> {
    (8..=64).map(|step| step as f32 * 0.0125)
}

/// Candidate credits for the evidence ([`bot::COVERAGE_CREDIT`]); 0 is the confidence alone.
fn credits() -> impl Iterator<Item = f32> {
    (0..=60).map(|step| step as f32 * 0.01)
}

/// The answer rule: a credit for the covered weight and a threshold.
#[derive(Debug, Clone, Copy)]
struct Rule {
    credit: f32,
    threshold: f32,
}

fn bot_score(judged: &[&Judged<'_>], rule: Rule) -> Score {
    let mut score = Score::default();
    for j in judged {
        score.add(j.question.label, &j.hits, &j.bot_outcome_with(rule));
    }
    score
}

/// The rule that picks the answer rule: the best top-1 with at most `max_false` false answers
/// on `judged`; of equals, the smaller credit and the higher threshold. `credits` are the
/// credits to try (only 0: the threshold alone).
fn choose(judged: &[&Judged<'_>], max_false: f64, credits: &[f32]) -> Rule {
    // Only a question the search answers depends on the rule: count the rest once.
    let fixed = bot_score(judged, Rule { credit: 0.0, threshold: f32::INFINITY });
    let none = judged.iter().filter(|j| j.question.label == "none").count();
    let mut best = (-1.0, Rule { credit: 0.0, threshold: 1.0 });
    for &credit in credits {
        // (sureness, right article, label "none") of each question the search may answer.
        let mut open: Vec<(f32, bool, bool)> = judged
            .iter()
            .filter(|j| j.intent == Intent::Question && !j.countered)
            .filter_map(|j| {
                let hit = j.hits.first()?;
                let label = j.question.label;
                Some((bot::sureness_with(hit, credit), hit.slug == label, label == "none"))
            })
            .collect();
        open.sort_by(|a, b| b.0.total_cmp(&a.0));
        let thresholds: Vec<f32> = grid().collect();
        let (mut next, mut top1, mut false_answers) = (0, fixed.top1, 0);
        for &threshold in thresholds.iter().rev() {
            while let Some(&(_, right, is_none)) = open.get(next).filter(|o| o.0 >= threshold) {
                top1 += usize::from(right);
                false_answers += usize::from(is_none);
                next += 1;
            }
            let top1_rate = top1 as f64 / fixed.answerable.max(1) as f64;
            let false_rate = false_answers as f64 / none.max(1) as f64;
            if false_rate <= max_false + 1e-9 && top1_rate > best.0 + 1e-12 {
                best = (top1_rate, Rule { credit, threshold });
            }
        }
    }
    best.1
}

/// How well the answer rule generalises, measured on the development sets, each judged out of
/// set: the rule chosen on five sets and scored on the sixth, for the threshold alone and for
/// the threshold with a credit for the evidence. Prints, for each allowance of false answers,
/// the out-of-set top-1 and false answers, and the rule picked on all six.
fn fit_threshold(judged: &[Judged<'_>]) {
    let dev: Vec<&Judged<'_>> = judged.iter().collect();
    let all_credits: Vec<f32> = credits().collect();
    for (name, credits) in [
        ("threshold alone", &[0.0][..]),
        ("threshold, the code's coverage credit", &[bot::COVERAGE_CREDIT][..]),
        ("threshold and coverage credit", &all_credits),
    ] {
        for max_false in [0.02, 0.03, 0.035, 0.04, 0.045, 0.05] {
            let mut scored = Score::default();
            let mut picked = Vec::new();
            for set in 0..DEV_SETS.len() {
                let (test, train): (Vec<&Judged<'_>>, Vec<&Judged<'_>>) =
                    dev.iter().partition(|j| j.question.set == set);
                let rule = choose(&train, max_false, credits);
                picked.push(rule);
                for j in test {
                    scored.add(j.question.label, &j.hits, &j.bot_outcome_with(rule));
                }
            }
            let range = |f: fn(&Rule) -> f32| {
                let values = picked.iter().map(f);
                let (lo, hi) = values.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
                format!("{lo:.3}–{hi:.3}")
            };
            let whole = choose(&dev, max_false, credits);
            println!(
                "fit ({name}): at most {:.1}% false answers on five sets: on the sixth top-1 {:.1}%, false answers {:.1}%, wrong {:.1}% (credits {}, thresholds {}); on all six the rule picks credit {:.2}, threshold {:.4}",
                100.0 * max_false,
                100.0 * scored.top1_rate(),
                100.0 * scored.false_rate(),
                100.0 * scored.wrong_answer as f64 / scored.answerable.max(1) as f64,
                range(|r| r.credit),
                range(|r| r.threshold),
                whole.credit,
                whole.threshold,
            );
        }
    }
    for t in grid() {
        let rule = Rule { credit: bot::COVERAGE_CREDIT, threshold: t };
        println!("{}", bot_score(&dev, rule).line(&format!("all@{t:.4}")));
    }
}

/// The same evaluation with Chinese cut by jieba-rs (its default dictionary) instead of
/// character bigrams: articles, questions and synonyms pre-segmented into words. Its threshold
/// is its best on the evaluation set with at most 5 % false answers there.
fn compare_with_jieba(
    config: &DeskConfig,
    articles: &[Article],
    questions: &[Question<'_>],
    bigram_threshold: f32,
) {
    let started = std::time::Instant::now();
    let jieba = jieba_rs::Jieba::new();
    let dictionary_ms = started.elapsed().as_millis();
    let cut = |text: &str| jieba.cut(text, true).iter().map(|t| t.word).collect::<Vec<_>>().join(" ");
    let kb = config.kb.as_ref().expect("[kb]");
    let groups: Vec<Vec<String>> = kb.synonyms.iter().map(|g| g.iter().map(|w| cut(w)).collect()).collect();
    let settings = SearchSettings {
        title_boost: kb.title_boost,
        synonyms: Synonyms::segmented(&groups, Segmentation::Words),
        segmentation: Segmentation::Words,
    };
    let segmented: Vec<Article> = articles
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.title = cut(&a.title);
            a.body = cut(&a.body);
            a
        })
        .collect();
    let index = SearchIndex::build(&segmented, settings);
    let cut_questions: Vec<String> = questions.iter().map(|q| cut(q.text)).collect();
    let mut best = (0.0f64, 0.5f32);
    for step in 4..=24 {
        let t = step as f32 * 0.025;
        let mut dev = Score::default();
        for (q, text) in questions.iter().zip(&cut_questions) {
            let hits = index.search(text, None, 3).0;
            dev.add(q.label, &hits, &answered(&hits, Rule { credit: bot::COVERAGE_CREDIT, threshold: t }));
        }
        if dev.false_rate() <= 0.05 && dev.top1_rate() > best.0 {
            best = (dev.top1_rate(), t);
        }
    }
    let (mut all, mut zh) = (Score::default(), Score::default());
    for (q, text) in questions.iter().zip(&cut_questions) {
        let hits = index.search(text, None, 3).0;
        let outcome = answered(&hits, Rule { credit: bot::COVERAGE_CREDIT, threshold: best.1 });
        if is_chinese(q.text) {
            zh.add(q.label, &hits, &outcome);
        }
        all.add(q.label, &hits, &outcome);
    }
    println!(
        "jieba-rs words instead of bigrams (dictionary loaded in {dictionary_ms} ms; bigram threshold {bigram_threshold}, jieba's {:.3}):",
        best.1
    );
    for (name, score) in [("zh", &zh), ("all", &all)] {
        println!("{}", score.line(name));
    }
}

/// The search-only outcome of `hits` with `rule` (the bot's: [`bot::sureness`] against the
/// threshold).
fn answered(hits: &[Hit], rule: Rule) -> Outcome {
    match hits.first() {
        Some(hit) if bot::sureness_with(hit, rule.credit) >= rule.threshold => {
            Outcome::Article(hit.slug.clone())
        }
        _ => Outcome::Nothing,
    }
}
