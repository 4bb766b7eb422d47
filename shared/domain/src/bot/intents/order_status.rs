//! "Where is my order?" / "我的快递到哪了", or an order number on its own (the answer to
//! "which order?"): the order-status intent, answered from the shop (`crate::orders`).

use super::keywords::any;
use super::{Intent, IntentDetector, Utterance};
use crate::orders::OrderPatterns;

/// The intent's name in events and notes.
pub const ORDER_STATUS: &str = "order_status";

const KEYWORDS: &[&str] = &[
    "快递到哪",
    "包裹到哪",
    "到哪了",
    "物流",
    "订单状态",
    "查订单",
    "发货了吗",
    "where is my order",
    "where's my order",
    "wheres my order",
    "order status",
    "status of my order",
    "track my order",
    "tracking",
    "has my order shipped",
];

/// "My parcel" names the customer's own order, but asks about its status only with a word
/// of where or when: "an item is missing from my parcel" is a question for an article.
const MINE: &[&str] = &["我的快递", "我的订单", "我的包裹", "my parcel", "my package", "my delivery"];
/// Words asking where an order is or when it comes; not "arrived", which a damaged or
/// incomplete parcel also did.
const WHERE: &[&str] = &[
    "到哪",
    "在哪",
    "到了吗",
    "没到",
    "还没",
    "什么时候到",
    "什么时候发",
    "进度",
    "where",
    "status",
    "yet",
    "when will",
    "arrive",
    "track",
];

pub struct OrderStatus {
    patterns: OrderPatterns,
}

impl OrderStatus {
    pub fn new(patterns: OrderPatterns) -> Self {
        Self { patterns }
    }
}

impl IntentDetector for OrderStatus {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent> {
        let text = utterance.text;
        let asks = any(text, KEYWORDS)
            || (any(text, MINE) && any(text, WHERE))
            || !self.patterns.find(text).is_empty();
        asks.then_some(Intent::Named(ORDER_STATUS))
    }
}
