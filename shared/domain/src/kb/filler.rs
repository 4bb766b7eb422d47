//! Words generic in any customer's message — greetings, politeness, pronouns, time adverbs,
//! feelings, hedges, a story's everyday verbs, numbers, and the nouns that ask about a
//! subject without naming one ("your return *policy*", "the *details*") — that say nothing
//! about what is asked. No noun that names a subject: it may be the very thing asked about
//! ("opening hours", "a birthday discount"). When no article uses
//! one, it should not count against a match the way a word naming another subject does: a
//! long message's "hi", "honestly", "tonight" or order number is context, not the question.
//! Written from general knowledge of English and Chinese, not from any labelled question.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::text::stem;

const EN: &[&str] = &[
    // Greetings, politeness, sign-offs.
    "hello",
    "hiya",
    "morning",
    "afternoon",
    "evening",
    "greetings",
    "thx",
    "thanx",
    "ty",
    "cheers",
    "regards",
    "kindly",
    "sorry",
    "apologies",
    "appreciate",
    "appreciated",
    "sir",
    "madam",
    "maam",
    "mate",
    "folks",
    "hopefully",
    "hope",
    "wondering",
    "wonder",
    // Pronouns and determiners the stop words leave.
    "he",
    "she",
    "they",
    "him",
    "her",
    "his",
    "hers",
    "mine",
    "myself",
    "yourself",
    "ourselves",
    "themselves",
    "these",
    "those",
    "someone",
    "somebody",
    "anybody",
    "everyone",
    "both",
    "either",
    "neither",
    "whatever",
    "whenever",
    "own",
    // Time adverbs.
    "today",
    "tonight",
    "tomorrow",
    "yesterday",
    "soon",
    "later",
    "ago",
    "already",
    "recently",
    "lately",
    "earlier",
    "currently",
    "right",
    "twice",
    "until",
    "till",
    "til",
    "while",
    // Feelings and hedges.
    "happy",
    "glad",
    "sad",
    "upset",
    "annoyed",
    "frustrated",
    "worried",
    "confused",
    "excited",
    "love",
    "hate",
    "honestly",
    "actually",
    "literally",
    "basically",
    "totally",
    "seriously",
    "super",
    "quite",
    "pretty",
    "bit",
    "little",
    "maybe",
    "perhaps",
    "probably",
    "guess",
    "think",
    "thought",
    "feel",
    "sure",
    "unsure",
    "okay",
    "alright",
    "fine",
    "great",
    "good",
    "nice",
    "awesome",
    "cool",
    "omg",
    "ugh",
    "hmm",
    "um",
    "uh",
    "oh",
    "wow",
    "haha",
    "yeah",
    "yep",
    "nope",
    "btw",
    "fyi",
    "asap",
    "urgent",
    "urgently",
    "even",
    "though",
    "because",
    "cause",
    "cuz",
    "anyway",
    "anyways",
    "otherwise",
    "however",
    "although",
    // Everyday verbs of a message's story.
    "said",
    "says",
    "say",
    "saw",
    "see",
    "seen",
    "look",
    "looking",
    "looked",
    "try",
    "tried",
    "trying",
    "going",
    "gonna",
    "wanna",
    "gotta",
    "make",
    "made",
    "put",
    "take",
    "took",
    "come",
    "came",
    "go",
    "went",
    "gone",
    "keep",
    "kept",
    "give",
    "gave",
    "lets",
    "mean",
    "meant",
    // Nouns that ask about a subject's rules or details without naming the subject.
    "policy",
    "policies",
    "rule",
    "rules",
    "info",
    "information",
    "details",
    "procedure",
    "process",
    "terms",
    "conditions",
    "guidelines",
];

/// Chinese bigrams of the same kinds (single characters are weighed as little already).
const ZH: &[&str] = &[
    "你好", "您好", "谢谢", "多谢", "感谢", "麻烦", "辛苦", "拜托", "亲亲", "在吗", "不好", "意思", "我们",
    "你们", "他们", "她们", "自己", "别人", "今天", "明天", "昨天", "后天", "前天", "现在", "刚才", "刚刚",
    "已经", "一直", "马上", "尽快", "赶紧", "最近", "之前", "以前", "以后", "然后", "还是", "但是", "可是",
    "因为", "所以", "如果", "的话", "就是", "真的", "非常", "特别", "有点", "一点", "一个", "这个", "那个",
    "这样", "那样", "好的", "哈哈", "嗯嗯", "着急", "希望", "感觉", "觉得", "知道", "应该", "结果", "而且",
    "其实", "不过", "开心", "生气", "郁闷", "担心", "喜欢", "讨厌", "一下", "帮忙", "帮我", "告诉", "问问",
    "想问", "政策", "规定", "规则", "流程", "详情", "具体", "步骤",
];

fn english() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| EN.iter().map(|w| stem(w)).collect())
}

/// Whether `term` (as the search cuts it: a stemmed word, a Han bigram or character) is a
/// generic word of customer messages, or a number (an order number, a price, a date).
pub(super) fn is_filler(term: &str) -> bool {
    if !term.is_empty() && term.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    if term.is_ascii() {
        return english().contains(term);
    }
    ZH.contains(&term)
}

#[cfg(test)]
mod tests {
    use super::is_filler;
    use crate::kb::text::terms;

    #[test]
    fn greetings_time_words_feelings_and_numbers_are_filler_but_nouns_are_not() {
        for word in ["tonight", "honestly", "confused", "sorry", "55321"] {
            let term = &terms(word)[0].text;
            assert!(is_filler(term), "{word}");
        }
        for word in ["hours", "birthday", "discount", "student", "jacket"] {
            let term = &terms(word)[0].text;
            assert!(!is_filler(term), "{word}");
        }
        assert!(is_filler(&terms("policy")[0].text), "asks about a subject without naming one");
        assert!(is_filler("昨天"));
        assert!(is_filler("政策"));
        assert!(!is_filler("退货"));
    }
}
