//! Knowledge-base search at size: 5,000 articles (the example FAQ and variations of it, in
//! both languages), 10,000 queries from the evaluation set. Prints the index build time and
//! memory, search latency p50/p99, and the bot's added time per chat message (intent, search,
//! decision). Figures only; nothing here asserts on time. It lives in the domain crate so a
//! release build of it compiles no AWS SDK: `cargo bench -p omnidesk-domain --bench kb_search`.

use std::collections::BTreeSet;
use std::time::Instant;

use jiff::Timestamp;
use omnidesk_domain::bot::{self, BotState};
use omnidesk_domain::kb::{Article, ArticleInput, Language, SearchIndex, SearchSettings, Synonyms};
use serde::Deserialize;

const EVAL: &str = include_str!("../../../tests/kb/eval.tsv");
const ARTICLES: &str = include_str!("../../../infra/local/kb/articles.toml");
const CONFIG: &str = include_str!("../../../infra/local/omnidesk.example.toml");
const ARTICLE_COUNT: usize = 5_000;
const QUERY_COUNT: usize = 10_000;

/// Resident memory in KiB (Linux), for the index's footprint.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4)
}

#[derive(Deserialize)]
struct SeedFile {
    articles: Vec<SeedArticle>,
}

#[derive(Deserialize)]
struct SeedArticle {
    slug: String,
    language: Language,
    title: String,
    body: String,
    category: Option<String>,
    #[serde(default)]
    tags: BTreeSet<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counter_examples: Vec<String>,
}

/// The example config's `[kb]` and `[bot]`, as far as search needs them.
#[derive(Deserialize)]
struct ExampleConfig {
    kb: KbSection,
    bot: BotSection,
}

#[derive(Deserialize)]
struct KbSection {
    title_boost: f32,
    synonyms: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct BotSection {
    min_confidence: f32,
}

/// `count` articles: the seeds, then copies with a distinct word mixed in, so the vocabulary
/// and postings grow as a real knowledge base's would.
fn articles(count: usize) -> Vec<Article> {
    let file: SeedFile = toml::from_str(ARTICLES).expect("example articles");
    let seeds: Vec<Article> = file
        .articles
        .into_iter()
        .map(|a| {
            let input = ArticleInput {
                title: a.title,
                body: a.body,
                language: a.language,
                category: a.category,
                tags: a.tags,
                examples: a.examples,
                counter_examples: a.counter_examples,
            };
            let mut article = Article::draft(&a.slug, input, "bench", Timestamp::UNIX_EPOCH).expect("valid");
            article.publish("bench", Timestamp::UNIX_EPOCH);
            article
        })
        .collect();
    (0..count)
        .map(|i| {
            let mut article = seeds[i % seeds.len()].clone();
            if i >= seeds.len() {
                article.slug = format!("{}-{i}", article.slug);
                article.title = format!("{} (model {i})", article.title);
                article.body =
                    format!("{}\n\nApplies to product line p{i} and variant v{}.", article.body, i * 7);
            }
            article
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let config: ExampleConfig = toml::from_str(CONFIG).expect("example config");
    let settings = SearchSettings {
        title_boost: config.kb.title_boost,
        synonyms: Synonyms::new(&config.kb.synonyms),
        ..SearchSettings::default()
    };
    let questions: Vec<&str> =
        EVAL.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.splitn(3, '\t').nth(2)).collect();
    let corpus = articles(ARTICLE_COUNT);
    let before = rss_kib();
    let started = Instant::now();
    let index = SearchIndex::build(&corpus, settings);
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let grown = rss_kib().saturating_sub(before);
    println!(
        "index: {} articles built in {build_ms:.0} ms; resident memory grew {:.1} MiB",
        index.len(),
        grown as f64 / 1024.0
    );

    let mut times = Vec::with_capacity(QUERY_COUNT);
    let mut found = 0usize;
    for i in 0..QUERY_COUNT {
        let q = questions[i % questions.len()];
        let started = Instant::now();
        let (hits, _) = index.search(q, None, 10);
        times.push(started.elapsed().as_secs_f64() * 1e6);
        found += usize::from(!hits.is_empty());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "search: {QUERY_COUNT} queries over {ARTICLE_COUNT} articles: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs ({found} with results)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );

    let detectors = bot::default_detectors();
    let mut bot_times = Vec::with_capacity(QUERY_COUNT);
    for i in 0..QUERY_COUNT {
        let q = questions[i % questions.len()];
        let started = Instant::now();
        let intent = bot::classify(&detectors, q, false);
        let decision = bot::decide(&BotState::default(), &intent, q, &index, config.bot.min_confidence);
        bot_times.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(decision);
    }
    bot_times.sort_by(f64::total_cmp);
    println!(
        "bot: added time per chat message (intent, search, decision) p50 {:.0} µs, p99 {:.0} µs",
        percentile(&bot_times, 0.5),
        percentile(&bot_times, 0.99)
    );
}
