//! A request for a person.

use super::keywords::any;
use super::{Intent, IntentDetector, Utterance};

const KEYWORDS: &[&str] = &[
    "人工",
    "转人工",
    "真人",
    "客服人员",
    "人工客服",
    "找客服",
    "活人",
    "接人工",
    "经理",
    "主管",
    "负责人",
    "回电",
    "打电话给我",
    "给我打电话",
    "给我回电话",
    "人呢",
    "有人吗",
    "有没有人",
    "机器人",
    "agent",
    "human",
    "a person",
    "real person",
    "live person",
    "talk to someone",
    "speak to someone",
    "representative",
    "operator",
    "talk to a person",
    "speak to a person",
    "customer service rep",
    "manager",
    "supervisor",
    "call me",
    "call me back",
    "ring me",
    "phone me",
    "anyone there",
    "are you a bot",
    "are you a robot",
];

pub struct HandoffRequest;

impl IntentDetector for HandoffRequest {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        any(utterance.text, KEYWORDS).then_some(Intent::Handoff)
    }
}
