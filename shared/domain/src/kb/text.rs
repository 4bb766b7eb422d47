//! Turns text into search terms. Chinese has no spaces: a run of Han characters becomes its
//! character bigrams (and, weighted low, its single characters), which needs no dictionary
//! (README BENCHMARKS compares it with a dictionary segmenter). Latin text becomes lowercase
//! words with a light suffix strip. Full-width forms are narrowed and common traditional
//! characters folded to simplified first.

use std::sync::LazyLock;

use super::article::Language;
use super::fold::simplified;

/// A query or document term and how much it counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub text: String,
    pub weight: f32,
}

/// Weight of a single Han character next to a bigram: it rescues a word written with one
/// character changed, but says little on its own.
pub const UNIGRAM_WEIGHT: f32 = 0.15;

const EN_STOPWORDS: &[&str] = &[
    "a",
    "about",
    "am",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "been",
    "but",
    "by",
    "can",
    "could",
    "do",
    "does",
    "did",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "hi",
    "hello",
    "hey",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "me",
    "my",
    "of",
    "on",
    "or",
    "our",
    "please",
    "pls",
    "plz",
    "so",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "this",
    "to",
    "u",
    "us",
    "was",
    "we",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "thanks",
    "thank",
    "dear",
    "still",
    "yet",
    "any",
    "some",
    "one",
    "all",
    "should",
    "need",
    "want",
    "know",
    "tell",
    "help",
    "much",
    "many",
    "cant",
    "can't",
    "dont",
    "don't",
    "didnt",
    "didn't",
    "not",
    "no",
    "yes",
    "ok",
    "thing",
    "something",
    "anything",
    "way",
    "also",
    "really",
    "very",
    "lol",
    "now",
    "like",
    "able",
    "possible",
    "via",
    "anyone",
    // Contractions as customers type them, without the apostrophe.
    "whats",
    "wheres",
    "hows",
    "hasnt",
    "havent",
    "isnt",
    "wasnt",
    "arent",
    "wont",
    "doesnt",
    "ive",
    "youre",
    "thats",
    "theres",
    "ur",
    "guys",
    // Words that join a sentence but name nothing an article is about.
    "over",
    "after",
    "again",
    "since",
    "only",
    "other",
    "another",
    "same",
    "once",
    "too",
    "more",
    "than",
    "here",
    "out",
    "up",
    "ever",
    "every",
    "each",
    "let",
];

/// Whether `word` is one of [`EN_STOPWORDS`]: a sorted copy searched by halving, since every
/// word of every article, synonym and question asks (a scan of the list was most of the cost
/// of cutting the config's synonyms into terms at start).
fn is_stopword(word: &str) -> bool {
    static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut sorted = EN_STOPWORDS.to_vec();
        sorted.sort_unstable();
        sorted
    });
    SORTED.binary_search(&word).is_ok()
}

/// Han characters that carry no topic on their own (particles, pronouns).
const ZH_STOP_CHARS: &str = "的了吗呢吧啊呀么我你您他她它们是在有和就都也还要想请问个这那哪吗嘛哦喔呃噢怎";

/// Bigrams that only make a sentence a question ("怎么", "可以"): they name no topic.
const ZH_STOP_BIGRAMS: &[&str] = &[
    "怎么", "什么", "如何", "为什", "怎样", "哪里", "哪儿", "可以", "能不", "不能", "是不", "一下", "请问",
    "怎办", "么办", "时候", "多少", "不了", "没有",
];

pub(super) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Full-width ASCII to ASCII, lowercase, traditional folded to simplified.
fn normalise(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    simplified(c).to_lowercase().next().unwrap_or(c)
}

/// The language a question is written in: any Han character makes it Chinese.
pub fn detect_language(text: &str) -> Language {
    if text.chars().any(is_han) { Language::ZhCn } else { Language::En }
}

/// A light English stemmer: plural and common verb endings, so "returns", "returned" and
/// "returning" meet "return".
pub(crate) fn stem(word: &str) -> String {
    let w = word.trim_end_matches("'s");
    // The endings are English; slicing other scripts by bytes could split a character.
    if !w.is_ascii() {
        return w.to_owned();
    }
    let n = w.len();
    let strip = |suffix: &str, min: usize| n >= min && w.ends_with(suffix);
    let stemmed = if strip("ies", 5) {
        format!("{}y", &w[..n - 3])
    } else if strip("ing", 6) {
        w[..n - 3].to_owned()
    } else if strip("ed", 5)
        || (strip("es", 5)
            && (w.ends_with("sses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes")))
    {
        w[..n - 2].to_owned()
    } else if strip("s", 4) && !w.ends_with("ss") && !w.ends_with("us") {
        w[..n - 1].to_owned()
    } else {
        w.to_owned()
    };
    // "shipped"/"shipping" → "shipp" → "ship"; "cancelled" → "cancell" → "cancel".
    let bytes = stemmed.as_bytes();
    if stemmed.len() >= 4
        && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
        && !stemmed.ends_with("ss")
        && !stemmed.ends_with("ee")
        && !stemmed.ends_with("oo")
    {
        stemmed[..stemmed.len() - 1].to_owned()
    } else if stemmed.len() >= 4 && stemmed.ends_with('e') && !stemmed.ends_with("ee") {
        // "arrive", "arrived", "arriving" → "arriv": the silent e goes with the ending.
        stemmed[..stemmed.len() - 1].to_owned()
    } else {
        stemmed
    }
}

/// How Chinese text becomes terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Segmentation {
    /// Character bigrams (and single characters at [`UNIGRAM_WEIGHT`]): no dictionary.
    #[default]
    Bigrams,
    /// Each run of Han characters is one term: for text a word segmenter has already split
    /// with spaces (how the evaluation compares a dictionary segmenter).
    Words,
}

/// The terms of `text`, in order, repeats kept (term frequencies count them).
pub fn terms(text: &str) -> Vec<Term> {
    terms_in(text, Segmentation::Bigrams)
}

/// [`terms`] with Chinese segmented as `segmentation` says.
pub fn terms_in(text: &str, segmentation: Segmentation) -> Vec<Term> {
    let mut out = Vec::new();
    let mut han = String::new();
    let mut word = String::new();
    let flush_word = |word: &mut String, out: &mut Vec<Term>| {
        if !word.is_empty() {
            // A single letter names nothing ("a", "M" of a size aside); a digit may.
            let single_letter = word.len() == 1 && !word.as_bytes()[0].is_ascii_digit();
            // "where's" and "wheres" are the same word to a customer.
            let stop = is_stopword(word) || (word.contains('\'') && is_stopword(&word.replace('\'', "")));
            if !stop && !single_letter {
                out.push(Term { text: stem(word), weight: 1.0 });
            }
            word.clear();
        }
    };
    let flush_han = |han: &mut String, out: &mut Vec<Term>| {
        if segmentation == Segmentation::Words {
            let word = std::mem::take(han);
            let stop =
                word.chars().all(|c| ZH_STOP_CHARS.contains(c)) || ZH_STOP_BIGRAMS.contains(&word.as_str());
            if !word.is_empty() && !stop {
                out.push(Term { text: word, weight: 1.0 });
            }
            return;
        }
        let chars: Vec<char> = han.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if !ZH_STOP_CHARS.contains(*c) {
                out.push(Term { text: c.to_string(), weight: UNIGRAM_WEIGHT });
            }
            if let Some(next) = chars.get(i + 1) {
                // A bigram of two stop characters ("我的", "是不") names no topic.
                // Two pushes, not `format!`: this runs for every pair of characters of every
                // article and synonym, the formatting machinery cost several times more.
                let mut bigram = String::with_capacity(c.len_utf8() + next.len_utf8());
                bigram.push(*c);
                bigram.push(*next);
                let both_stop = ZH_STOP_CHARS.contains(*c) && ZH_STOP_CHARS.contains(*next);
                if !both_stop && !ZH_STOP_BIGRAMS.contains(&bigram.as_str()) {
                    out.push(Term { text: bigram, weight: 1.0 });
                }
            }
        }
        han.clear();
    };
    for raw in text.chars() {
        let c = normalise(raw);
        if is_han(c) {
            flush_word(&mut word, &mut out);
            han.push(c);
        } else if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
            flush_han(&mut han, &mut out);
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_han(&mut han, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_han(&mut han, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        terms(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn chinese_becomes_bigrams_and_weighted_characters() {
        assert_eq!(texts("快递"), ["快", "快递", "递"]);
        assert_eq!(terms("快递")[0].weight, UNIGRAM_WEIGHT);
    }

    #[test]
    fn traditional_and_full_width_text_folds() {
        assert_eq!(texts("訂單"), texts("订单"));
        assert_eq!(texts("ＲＥＦＵＮＤ"), ["refund"]);
    }

    #[test]
    fn a_silent_e_goes_like_the_ending_it_precedes() {
        assert_eq!(texts("arrive arrived arriving"), ["arriv", "arriv", "arriv"]);
        assert_eq!(texts("size sizes sized"), ["siz", "siz", "siz"]);
    }

    #[test]
    fn english_drops_stopwords_and_stems() {
        assert_eq!(
            texts("Where is my parcel? Returns returned returning"),
            ["parcel", "return", "return", "return"]
        );
        assert_eq!(texts("shipping shipped cancelled"), ["ship", "ship", "cancel"]);
    }

    #[test]
    fn words_in_other_scripts_are_not_cut_inside_a_character() {
        // U+1000 ends in the bytes 80 80, which looked like a doubled letter.
        assert_eq!(texts("abc\u{1000}"), ["abc\u{1000}"]);
    }

    #[test]
    fn mixed_language_keeps_both() {
        assert_eq!(texts("退款refund"), ["退", "退款", "款", "refund"]);
    }
}
