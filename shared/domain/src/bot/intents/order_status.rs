//! "Where is my order?" / "我的快递到哪了", or an order number on its own (the answer to
//! "which order?"): the order-status intent, answered from the shop (`crate::orders`).

use super::keywords::any;
use super::{Intent, IntentDetector, Utterance};
use crate::orders::OrderPatterns;

/// The intent's name in events and notes.
pub const ORDER_STATUS: &str = "order_status";

const KEYWORDS: &[&str] = &[
    "我的快递",
    "快递到哪",
    "包裹到哪",
    "到哪了",
    "物流",
    "订单状态",
    "我的订单",
    "查订单",
    "发货了吗",
    "where is my order",
    "where's my order",
    "wheres my order",
    "order status",
    "status of my order",
    "track my order",
    "tracking",
    "my parcel",
    "my package",
    "my delivery",
    "has my order shipped",
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
        let asks = any(utterance.text, KEYWORDS) || !self.patterns.find(utterance.text).is_empty();
        asks.then_some(Intent::Named(ORDER_STATUS))
    }
}
