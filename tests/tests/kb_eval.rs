//! The knowledge base's evaluation: every question of `tests/kb/eval.tsv` against the example
//! articles with the example config's synonyms and the bot's threshold, twice: the search
//! alone (would its best article clear the threshold?) and the bot (the production intent
//! step first — a person on request or complaint, the shop for an order — then the search and
//! the threshold). Prints top-1, top-3 and the false-answer rate for the evaluation set ("dev":
//! every row is development data now; its old held-out half served two rounds), `tests/kb/fit.tsv`
//! (written apart, tuned on too), `tests/kb/heldout.tsv` and `tests/kb/heldout2.tsv` (each
//! written apart from the articles alone and measured once, after the sixth and the seventh
//! round; tuned on since the round after), all of them together and
//! their Chinese and English questions; README BENCHMARKS holds them. It fails only on a clear
//! regression (see [`TOP1_FLOOR`]). `KB_EVAL_FIT=1` reruns the answer rule's choice (the
//! threshold, and the credit of [`bot::sureness`]) by cross-validation on the four sets together. A set nobody tuned on is reported apart
//! ([`HELD_OUT_3`], [`HELD_OUT_4`]).

use jiff::Timestamp;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::kb::seed;
use omnidesk_app::ticket_router::bot_detectors;
use omnidesk_domain::bot::{self, BotDecision, BotState, Intent, IntentDetector, ORDER_STATUS};
use omnidesk_domain::kb::{Article, Hit, SearchIndex, SearchSettings, Segmentation, Synonyms};

const EVAL: &str = include_str!("../kb/eval.tsv");
/// More questions to fit on, written apart from the evaluation set (its header says how).
const FIT: &str = include_str!("../kb/fit.tsv");
/// Written from the articles alone by someone who had not read the other sets or the search,
/// measured once after the sixth round (its header says how); development data since the
/// seventh round, which tuned on it.
const RETIRED_HELD_OUT: &str = include_str!("../kb/heldout.tsv");
/// The second set written so, measured once after the seventh round; development data since
/// the eighth.
const RETIRED_HELD_OUT_2: &str = include_str!("../kb/heldout2.tsv");
/// The questions nobody tuned on, reported apart by
/// [`kb_accuracy_on_the_held_out_sets_is_reported_and_holds_its_floors`]: two sets written
/// from the articles alone, apart from the others and the search, each committed before
/// anything was measured on it (their headers say how). The third set's writer was asked to
/// avoid the articles' words (it tests paraphrase); it was measured on the seventh round's
/// search, once midway through the eighth and once after it. The fourth set's writer was asked
/// for the mix a support inbox sees; it was measured once, after the eighth round.
const HELD_OUT_3: &str = include_str!("../kb/heldout3.tsv");
const HELD_OUT_4: &str = include_str!("../kb/heldout4.tsv");
const ARTICLES: &str = include_str!("../../infra/local/kb/articles.toml");
const CONFIG: &str = include_str!("../../infra/local/omnidesk.example.toml");
/// Below these the bot has regressed on the four development sets together: it scored top-1
/// 86.1 % and 3.9 % false answers when they were set, after the eighth round and the example
/// desk's synonyms for customers' own words (the seventh round's 79.9 % and 3.1 % on the same
/// sets; 88.9 % and 2.7 % on the evaluation set alone). A little slack, two or three
/// questions, for the intents other modules add (an intent that takes a question from the
/// search counts as no answer here).
const TOP1_FLOOR: f64 = 0.845;
const FALSE_ANSWER_CEILING: f64 = 0.045;
/// The search alone (no intents) scored 85.9 % and 3.9 %.
const SEARCH_TOP1_FLOOR: f64 = 0.845;
const SEARCH_FALSE_ANSWER_CEILING: f64 = 0.045;
/// The held-out sets' floors (see [`kb_accuracy_on_the_held_out_sets_is_reported_and_holds_its_floors`]):
/// (bot top-1, search top-1, the ceiling on false answers for both), two or three questions
/// under what each scored after the eighth round. `heldout3.tsv`: the bot 51.4 % top-1 (the
/// search alone the same), 6.0 % false answers (29.3 % and 3.0 % on the seventh round's
/// search; 39.3 % and 3.0 % midway). `heldout4.tsv`, measured once: the bot 79.3 % (the
/// search alone 80.7 %), 3.0 % false answers. (The retired sets, each measured once:
/// `heldout.tsv` 67.1 % and 2.0 % after the sixth round, `heldout2.tsv` 69.3 % and 1.0 %
/// after the seventh.)
const HELD_OUT_FLOORS: [(&str, f64, f64, f64); 2] =
    [("heldout3.tsv", 0.49, 0.49, 0.08), ("heldout4.tsv", 0.77, 0.785, 0.05)];
/// Where the order-status intent's answer is the labelled article's: the shop says where the
/// customer's own order is.
const ORDER_ARTICLES: &[&str] = &["track-your-order", "track-your-order-zh"];

/// Which set a question comes from; the first four are read and tuned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    /// `eval.tsv`.
    Dev,
    /// `fit.tsv`.
    Fit,
    /// `heldout.tsv`, retired into development data.
    Retired,
    /// `heldout2.tsv`, retired into development data.
    Retired2,
    /// [`HELD_OUT_3`] or [`HELD_OUT_4`]: reported, never read question by question.
    HeldOut,
}

struct Question<'a> {
    row: usize,
    set: Set,
    label: &'a str,
    text: &'a str,
}

impl Question<'_> {
    /// Its set's row in the report (and name in the verbose output).
    fn set_row(&self) -> (usize, &'static str) {
        match self.set {
            Set::Dev => (0, "dev"),
            Set::Fit => (1, "fit"),
            Set::Retired | Set::HeldOut => (2, "held"),
            Set::Retired2 => (2, "held2"),
        }
    }
}

/// The rows of a labelled set; `set` says which set a row (1-based) belongs to.
fn rows(source: &'static str, set: impl Fn(usize) -> Set) -> Vec<Question<'static>> {
    source
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .enumerate()
        .map(|(row, line)| {
            let mut cols = line.splitn(3, '\t');
            let _lang = cols.next().unwrap_or_default();
            let label = cols.next().unwrap_or_default();
            let text = cols.next().unwrap_or_default();
            Question { row: row + 1, set: set(row + 1), label, text }
        })
        .collect()
}

/// The evaluation set.
fn questions() -> Vec<Question<'static>> {
    rows(EVAL, |_| Set::Dev)
}

fn fit_questions() -> Vec<Question<'static>> {
    rows(FIT, |_| Set::Fit)
}

fn retired_questions() -> Vec<Question<'static>> {
    let mut retired = rows(RETIRED_HELD_OUT, |_| Set::Retired);
    retired.extend(rows(RETIRED_HELD_OUT_2, |_| Set::Retired2));
    retired
}

fn held_out_questions(source: &'static str) -> Vec<Question<'static>> {
    rows(source, |_| Set::HeldOut)
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
    intent: Intent,
}

impl Judged<'_> {
    fn search_outcome(&self, threshold: f32) -> Outcome {
        answered(&self.hits, Rule { credit: bot::COVERAGE_CREDIT, threshold })
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
            Intent::Question => answered(&self.hits, rule),
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
    let questions = questions();
    assert!(questions.len() >= 200, "the set has {} questions", questions.len());
    let fit = fit_questions();
    let retired = retired_questions();
    let judged: Vec<Judged<'_>> = questions
        .iter()
        .chain(&fit)
        .chain(&retired)
        .map(|question| Judged {
            question,
            hits: index.search(question.text, None, 3).0,
            intent: bot::classify(&detectors, question.text, false),
        })
        .collect();
    // Rows: dev (the evaluation set), fit, held (the retired held-out sets), all four, zh, en
    // (of all four); the search alone's and the bot's.
    let mut search = [Score::default(); 6];
    let mut bot = [Score::default(); 6];
    let verbose = std::env::var_os("KB_EVAL_VERBOSE").is_some();
    for j in &judged {
        let q = j.question;
        let by_search = j.search_outcome(threshold);
        let by_bot = j.bot_outcome(&index, threshold);
        let rule = Rule { credit: bot::COVERAGE_CREDIT, threshold };
        assert_eq!(by_bot, j.bot_outcome_with(rule), "the sweep's shortcut is the bot: {}", q.text);
        let language = if is_chinese(q.text) { 4 } else { 5 };
        let (set_row, set) = q.set_row();
        let rows = [set_row, 3, language];
        for row in rows {
            search[row].add(q.label, &j.hits, &by_search);
            bot[row].add(q.label, &j.hits, &by_bot);
        }
        if verbose {
            let top = j
                .hits
                .iter()
                .map(|h| format!("{} {:.3} {:.2}", h.slug, h.confidence, h.score))
                .collect::<Vec<_>>()
                .join(" | ");
            let ok = match &by_bot {
                Outcome::Article(slug) => slug == q.label,
                Outcome::Order => ORDER_ARTICLES.contains(&q.label),
                Outcome::Nothing => q.label == "none",
            };
            let intent = j.intent.name();
            println!(
                "{}\t{set} {}\t{}\t{intent}\t{top}\t{}",
                if ok { "ok" } else { "✗" },
                q.row,
                q.label,
                q.text
            );
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
            println!("query {query:?}: intent {}", bot::classify(&detectors, query, false).name());
        }
    }
    if std::env::var_os("KB_EVAL_FIT").is_some() {
        fit_threshold(&judged);
    }
    println!(
        "knowledge-base evaluation, {} questions (and {} + {} to fit on), threshold {threshold}",
        questions.len(),
        fit.len(),
        retired.len()
    );
    let names = ["dev", "fit", "held", "all", "zh", "en"];
    for (name, score) in names.iter().zip(&search) {
        println!("{}", score.line(&format!("search {name}")));
    }
    for (name, score) in names.iter().zip(&bot) {
        println!("{}", score.line(&format!("bot {name}")));
    }
    compare_with_jieba(&config, &articles, &questions, threshold);
    for (what, all, top1_floor, false_ceiling) in [
        ("bot", &bot[3], TOP1_FLOOR, FALSE_ANSWER_CEILING),
        ("search", &search[3], SEARCH_TOP1_FLOOR, SEARCH_FALSE_ANSWER_CEILING),
    ] {
        assert!(all.top1_rate() >= top1_floor, "{what}: top-1 fell to {:.1} %", 100.0 * all.top1_rate());
        assert!(
            all.false_rate() <= false_ceiling,
            "{what}: false answers rose to {:.1} %",
            100.0 * all.false_rate()
        );
    }
}

/// The figures that stand for questions nobody tuned on: [`HELD_OUT_3`] and [`HELD_OUT_4`],
/// the bot and the search alone, whole and by language. No question of them is ever printed,
/// so they stay unseen; the floors sit two or three questions under what each scored when it
/// was last measured: they catch a regression, and a round that tunes on a set makes it
/// worthless — it then joins the development sets and a new one is written.
#[test]
fn kb_accuracy_on_the_held_out_sets_is_reported_and_holds_its_floors() {
    let (config, _articles, index, threshold) = example_desk();
    let detectors: Vec<Box<dyn IntentDetector>> = bot_detectors(&config);
    for ((name, bot_floor, search_floor, false_ceiling), source) in
        HELD_OUT_FLOORS.into_iter().zip([HELD_OUT_3, HELD_OUT_4])
    {
        let questions = held_out_questions(source);
        assert!(questions.len() >= 200, "{name} has {} questions", questions.len());
        // Rows: all, zh, en; the search alone's and the bot's.
        let mut search = [Score::default(); 3];
        let mut bot = [Score::default(); 3];
        for question in &questions {
            let judged = Judged {
                question,
                hits: index.search(question.text, None, 3).0,
                intent: bot::classify(&detectors, question.text, false),
            };
            let (by_search, by_bot) =
                (judged.search_outcome(threshold), judged.bot_outcome(&index, threshold));
            let language = if is_chinese(question.text) { 1 } else { 2 };
            for row in [0, language] {
                search[row].add(question.label, &judged.hits, &by_search);
                bot[row].add(question.label, &judged.hits, &by_bot);
            }
        }
        println!("knowledge-base held-out set {name}, {} questions, threshold {threshold}", questions.len());
        for (who, scores) in [("search", &search), ("bot", &bot)] {
            for (part, score) in ["", " zh", " en"].iter().zip(scores) {
                println!("{}", score.line(&format!("{who} {}{part}", name.trim_end_matches(".tsv"))));
            }
        }
        for (what, all, top1_floor) in [("bot", &bot[0], bot_floor), ("search", &search[0], search_floor)] {
            assert!(
                all.top1_rate() >= top1_floor,
                "{what}: {name} top-1 fell to {:.1} %",
                100.0 * all.top1_rate()
            );
            assert!(
                all.false_rate() <= false_ceiling,
                "{what}: {name} false answers rose to {:.1} %",
                100.0 * all.false_rate()
            );
        }
    }
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
    let (config, _, index, threshold) = example_desk();
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
    let (_, _, index, threshold) = example_desk();
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
    let (config, _, index, threshold) = example_desk();
    let text = "this parka from my aunt is too small, can i exchange it";
    assert_eq!(bot_answer(&config, &index, threshold, text).as_deref(), Some("exchange-size"), "{text}");
}

#[test]
fn of_hits_with_comparable_scores_the_one_covering_the_question_comes_first() {
    // "Shipping fees and free shipping" says "ship" twice in its title and outscores the
    // international article, whose example question this is word for word. Without synonyms:
    // the example config's name "canada" among the countries the international article covers.
    let (config, articles, index, threshold) = example_desk();
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
    let (config, _, index, threshold) = example_desk();
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
    let (config, _, index, threshold) = example_desk();
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
    let (config, _, index, threshold) = example_desk();
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
    (8..=48).map(|step| step as f32 * 0.0125)
}

/// Candidate credits for the evidence ([`bot::COVERAGE_CREDIT`]); 0 is the confidence alone.
fn credits() -> impl Iterator<Item = f32> {
    (0..=30).map(|step| step as f32 * 0.01)
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
            .filter(|j| j.intent == Intent::Question)
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

/// How well the answer rule generalises, measured on the development sets: 5-fold
/// cross-validation (folds stratified by label, 10 shuffles), the rule chosen on four folds
/// and scored on the fifth, for the threshold alone and for the threshold with a credit for
/// the evidence. Prints, for each allowance of false answers, the out-of-fold top-1 and false
/// answers, and the rule picked on all of them.
fn fit_threshold(judged: &[Judged<'_>]) {
    let dev: Vec<&Judged<'_>> = judged.iter().collect();
    const FOLDS: usize = 5;
    const SHUFFLES: u64 = 10;
    let all_credits: Vec<f32> = credits().collect();
    for (name, credits) in [("threshold alone", &[0.0][..]), ("threshold and coverage credit", &all_credits)]
    {
        for max_false in [0.02, 0.03, 0.035, 0.04, 0.045, 0.05] {
            let (mut top1, mut answerable, mut false_answers, mut none, mut wrong) = (0, 0, 0, 0, 0);
            let mut picked = Vec::new();
            for shuffle in 0..SHUFFLES {
                // A fixed pseudo-random order per shuffle (splitmix64), the same on every run.
                let mut keyed: Vec<(u64, &Judged<'_>)> =
                    dev.iter().map(|j| (splitmix(key(j.question) ^ (shuffle << 32)), *j)).collect();
                keyed.sort_by_key(|(k, _)| *k);
                let (nones, answerables): (Vec<_>, Vec<_>) =
                    keyed.into_iter().map(|(_, j)| j).partition(|j| j.question.label == "none");
                let fold_of = |i: usize| i % FOLDS;
                for fold in 0..FOLDS {
                    let (mut train, mut test) = (Vec::new(), Vec::new());
                    for group in [&nones, &answerables] {
                        for (i, j) in group.iter().enumerate() {
                            if fold_of(i) == fold { test.push(*j) } else { train.push(*j) }
                        }
                    }
                    let rule = choose(&train, max_false, credits);
                    picked.push(rule);
                    let score = bot_score(&test, rule);
                    top1 += score.top1;
                    answerable += score.answerable;
                    false_answers += score.false_answer;
                    none += score.none;
                    wrong += score.wrong_answer;
                }
            }
            let range = |f: fn(&Rule) -> f32| {
                let values = picked.iter().map(f);
                let (lo, hi) = values.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
                format!("{lo:.3}–{hi:.3}")
            };
            let whole = choose(&dev, max_false, credits);
            println!(
                "fit ({name}): at most {:.1}% false answers on the training folds: out-of-fold top-1 {:.1}%, false answers {:.1}%, wrong {:.1}% (credits {}, thresholds {}); on all the sets the rule picks credit {:.2}, threshold {:.4}",
                100.0 * max_false,
                100.0 * top1 as f64 / answerable.max(1) as f64,
                100.0 * false_answers as f64 / none.max(1) as f64,
                100.0 * wrong as f64 / answerable.max(1) as f64,
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

/// A question's own number for the shuffles: the fit set's rows after the evaluation set's,
/// the retired held-out sets' after those.
fn key(question: &Question<'_>) -> u64 {
    question.row as u64
        + match question.set {
            Set::Dev => 0,
            Set::Fit => 100_000,
            Set::Retired | Set::HeldOut => 200_000,
            Set::Retired2 => 300_000,
        }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
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
