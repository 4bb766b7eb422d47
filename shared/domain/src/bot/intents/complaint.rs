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
    "太慢",
    "没人理",
    "没人回",
    "无语",
    "态度差",
    "态度恶劣",
    "服务差",
    "不满意",
    "失望",
    "生气",
    "坑人",
    "恶心",
    "差劲",
    "离谱",
    "过分",
    "忍无可忍",
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
    "rude",
    "not ok",
    "not okay",
    "terrible",
    "awful",
    "horrible",
    "useless",
    "rubbish",
    "unhappy",
    "disappointed",
    "disappointing",
    "angry",
    "annoyed",
    "fed up",
    "sick of",
    "waste of",
    "never again",
    "unprofessional",
];

pub struct Complaint;

impl IntentDetector for Complaint {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        any(utterance.text, KEYWORDS).then_some(Intent::Complaint)
    }
}
