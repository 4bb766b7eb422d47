//! "Where is my order?" / "我的快递到哪了", or an order number on its own (the answer to
//! "which order?") or with a word of where or when: the order-status intent, answered from
//! the shop (`crate::orders`). An order number in a message that asks something else
//! ("can I cancel order 77412", "订单号3345 少发了一件") is context for that question.

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

/// Words that only name the order or are polite: "order #20431 please" or "订单号 20431"
/// asks nothing but that order's status.
const ONLY_THE_ORDER: &[&str] = &[
    "订单号",
    "订单",
    "单号",
    "号码",
    "我的",
    "请问",
    "帮我",
    "查一下",
    "查下",
    "查",
    "看看",
    "一下",
    "谢谢",
    "你好",
    "的",
    "请",
    "号",
    "order",
    "orders",
    "number",
    "no",
    "nr",
    "my",
    "is",
    "the",
    "for",
    "of",
    "this",
    "about",
    "please",
    "pls",
    "plz",
    "thanks",
    "thank",
    "you",
    "hi",
    "hello",
    "hey",
    "check",
];

/// Whether `text` holds nothing but order numbers and [`ONLY_THE_ORDER`] words.
fn only_names_an_order(text: &str) -> bool {
    let mut rest = text.to_owned();
    // Chinese has no spaces: its phrases are taken out wherever they are (of two that
    // overlap, the longer is listed first).
    for phrase in ONLY_THE_ORDER.iter().filter(|w| !w.is_ascii()) {
        rest = rest.replace(phrase, " ");
    }
    rest.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .all(|word| word.chars().any(|c| c.is_ascii_digit()) || ONLY_THE_ORDER.contains(&word))
}

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
        let names_an_order = || !self.patterns.find(text).is_empty();
        let asks = any(text, KEYWORDS)
            || (any(text, MINE) && any(text, WHERE))
            || (names_an_order() && (any(text, WHERE) || only_names_an_order(text)));
        asks.then_some(Intent::Named(ORDER_STATUS))
    }
}
