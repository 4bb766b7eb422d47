//! The answer to "did this help?": short yes or no words, only while the bot waits for one
//! (a "yes" out of the blue is not feedback).

use super::keywords::bare;
use super::{Intent, IntentDetector, Utterance};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackAnswer {
    Yes,
    No,
}

const YES: &[&str] = &[
    "yes",
    "y",
    "yep",
    "yeah",
    "yup",
    "ok",
    "okay",
    "thanks",
    "thankyou",
    "thx",
    "great",
    "perfect",
    "solved",
    "ithelped",
    "yesthanks",
    "yesthankyou",
    "helpful",
    "是",
    "是的",
    "有用",
    "有帮助",
    "解决了",
    "好的",
    "好",
    "谢谢",
    "可以",
    "明白了",
    "懂了",
    "行",
    "嗯",
    "对",
];
const NO: &[&str] = &[
    "no",
    "n",
    "nope",
    "nah",
    "notreally",
    "didnthelp",
    "nothelpful",
    "不是",
    "没用",
    "没有用",
    "没帮助",
    "不行",
    "没解决",
    "不对",
    "否",
    "不",
];

pub struct Feedback;

impl IntentDetector for Feedback {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        if !utterance.awaiting_feedback {
            return None;
        }
        let bare = bare(utterance.text);
        if YES.contains(&bare.as_str()) {
            Some(Intent::Feedback(FeedbackAnswer::Yes))
        } else if NO.contains(&bare.as_str()) {
            Some(Intent::Feedback(FeedbackAnswer::No))
        } else {
            None
        }
    }
}
