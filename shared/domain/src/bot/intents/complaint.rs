//! A complaint or an angry customer: a bot answer would make it worse.

use super::keywords::any;
use super::{Intent, IntentDetector, Utterance};

const KEYWORDS: &[&str] = &[
    "投诉",
    "举报",
    "骗子",
    "骗人",
    "垃圾",
    "太差",
    "差评",
    "气死",
    "愤怒",
    "律师",
    "消协",
    "12315",
    "complaint",
    "complain",
    "scam",
    "fraud",
    "lawyer",
    "ridiculous",
    "unacceptable",
    "worst",
    "furious",
    "disgusting",
];

pub struct Complaint;

impl IntentDetector for Complaint {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        any(utterance.text, KEYWORDS).then_some(Intent::Complaint)
    }
}
