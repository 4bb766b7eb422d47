//! "I want to return / exchange it" / "我要退货", with an order number or said as a request
//! of the customer's own: the return intent, answered by the returns workflow
//! (`crate::orders::self_service`) on the customer's own orders. "How do I return an item?"
//! is a question for the knowledge base, not a request. Asked before `order_status`, which
//! an order number alone also wakes.

use super::keywords::any;
use super::{Intent, IntentDetector, Utterance};
use crate::orders::OrderPatterns;
use crate::orders::self_service::{RETURN_WORDS, mentions};

/// The intent's name in events and notes.
pub const RETURN_REQUEST: &str = "return_request";

/// Words that make a return word a request of the speaker's own.
const REQUEST_WORDS: &[&str] = &[
    "我要",
    "我想",
    "帮我",
    "申请",
    "i want to",
    "i'd like to",
    "i would like to",
    "i wanna",
    "want to return",
    "want to exchange",
    "return my",
    "exchange my",
];

pub struct ReturnRequestIntent {
    patterns: OrderPatterns,
}

impl ReturnRequestIntent {
    pub fn new(patterns: OrderPatterns) -> Self {
        Self { patterns }
    }
}

impl IntentDetector for ReturnRequestIntent {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        let text = utterance.text;
        let asks = mentions(text, RETURN_WORDS)
            && (!self.patterns.find(text).is_empty() || any(text, REQUEST_WORDS));
        asks.then_some(Intent::Named(RETURN_REQUEST))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Option<Intent> {
        ReturnRequestIntent::new(OrderPatterns::default())
            .detect(&Utterance { text, awaiting_feedback: false })
    }

    #[test]
    fn a_return_word_with_an_order_number_or_as_a_request_is_the_return_intent() {
        for text in
            ["我要退货", "可以换货吗 订单1001", "i want to return order #1001", "can i send it back? #1001"]
        {
            assert_eq!(detect(text), Some(Intent::Named(RETURN_REQUEST)), "{text}");
        }
    }

    #[test]
    fn a_question_about_returns_or_an_order_without_return_words_is_not() {
        for text in ["how do i return an item?", "退货怎么办", "where is my order #1001"] {
            assert_eq!(detect(text), None, "{text}");
        }
    }
}
