//! "I want to return / exchange it" / "我要退货", usually with an order number: the return
//! intent, answered by the returns workflow (`crate::orders::self_service`) on the customer's
//! own orders. Asked before `order_status`, which an order number alone also wakes.

use super::{Intent, IntentDetector, Utterance};
use crate::orders::self_service::{RETURN_WORDS, mentions};

/// The intent's name in events and notes.
pub const RETURN_REQUEST: &str = "return_request";

pub struct ReturnRequestIntent;

impl IntentDetector for ReturnRequestIntent {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        mentions(utterance.text, RETURN_WORDS).then_some(Intent::Named(RETURN_REQUEST))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Option<Intent> {
        ReturnRequestIntent.detect(&Utterance { text, awaiting_feedback: false })
    }

    #[test]
    fn return_and_exchange_words_in_either_language_are_the_return_intent() {
        for text in ["我要退货 #1001", "可以换货吗", "i want to return order #1001", "can i send it back?"]
        {
            assert_eq!(detect(text), Some(Intent::Named(RETURN_REQUEST)), "{text}");
        }
        assert_eq!(detect("where is my order #1001"), None);
    }
}
