//! A customer's own return request — from a chat message, a mail, or the help centre's
//! form: which order and line they mean, whether they say it arrived damaged, and what the
//! desk answers. The request meets the same [`ReturnRules`] as an agent's, and only an order
//! placed with the customer's *verified* contact details is ever named back to them: someone
//! else's order number gets the same answer as one that does not exist.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::returns::MAX_RETURN_REASON_CHARS;
use super::{Contact, Order, Orders, ReturnCase, ReturnRefusal, ReturnRequest, ReturnRules, orders_of_all};
use crate::model::{Actor, CustomerId, EventKind, Ticket, TicketEvent};
use crate::sla::SlaPolicies;

/// Words that ask for a return or an exchange (Chinese anywhere, Latin as whole words).
pub const RETURN_WORDS: &[&str] = &[
    "退货",
    "退换",
    "换货",
    "退回",
    "寄回",
    "return",
    "returns",
    "returning",
    "exchange",
    "send back",
    "send it back",
    "swap it",
];

/// Words that say the item arrived damaged: the rules may then ask for photos.
pub const DAMAGE_WORDS: &[&str] = &[
    "破损",
    "损坏",
    "坏了",
    "碎了",
    "摔坏",
    "裂了",
    "有裂",
    "damaged",
    "broken",
    "chipped",
    "cracked",
    "smashed",
    "defective",
    "faulty",
    "dented",
];

/// Whether `text` holds one of `words`: Chinese as a substring, Latin as whole words.
pub fn mentions(text: &str, words: &[&str]) -> bool {
    let lower = text.to_lowercase();
    words.iter().any(|word| {
        if !word.is_ascii() {
            return lower.contains(word);
        }
        lower.match_indices(word).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + word.len()..].chars().next();
            let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
            edge(before) && edge(after)
        })
    })
}

/// A return as the customer asked for it, gathered over one or more messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnAsk {
    /// The order they named, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// What they wrote, searched for the line they mean (its id or title).
    #[serde(default)]
    pub words: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub damaged: bool,
    /// Photos attached so far.
    #[serde(default)]
    pub photos: usize,
}

impl ReturnAsk {
    /// Adds a later message to the request: a newly named order wins, words add up (bounded).
    pub fn and(mut self, order: Option<String>, text: &str, photos: usize) -> Self {
        if order.is_some() {
            self.order = order;
        }
        self.damaged |= mentions(text, DAMAGE_WORDS);
        self.photos += photos;
        if !self.words.is_empty() {
            self.words.push('\n');
        }
        self.words.push_str(text);
        self.words = clip(&self.words);
        self
    }

    /// The reason kept on the return: the customer's words, bounded.
    pub fn reason(&self) -> String {
        let reason = clip(self.words.trim());
        if reason.is_empty() { "(no reason given)".to_owned() } else { reason }
    }
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_RETURN_REASON_CHARS).collect()
}

/// What the desk answers a customer's return request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnAnswer {
    /// The rules allow it: a return is open, waiting for approval.
    Requested(ReturnCase),
    /// The rules refuse it; the refusal names the rule.
    Refused { order: String, refusal: ReturnRefusal },
    /// Several delivered orders and none named: which one (their names)?
    ChooseOrder(Vec<String>),
    /// The order has several lines and the words name none: which one (id, title)?
    ChooseLine { order: String, lines: Vec<(String, String)> },
    /// Damage needs photos: the request waits for them.
    NeedPhotos { order: String },
    /// The named order is not the customer's (or does not exist): nothing about it is said.
    NotYours,
    /// No orders under the customer's contact details.
    NoOrders,
    /// The shop did not answer: a person follows up.
    Unavailable,
}

impl ReturnAnswer {
    pub fn name(&self) -> &'static str {
        match self {
            ReturnAnswer::Requested(_) => "requested",
            ReturnAnswer::Refused { .. } => "refused",
            ReturnAnswer::ChooseOrder(_) => "choose_order",
            ReturnAnswer::ChooseLine { .. } => "choose_line",
            ReturnAnswer::NeedPhotos { .. } => "need_photos",
            ReturnAnswer::NotYours => "order_not_yours",
            ReturnAnswer::NoOrders => "no_orders",
            ReturnAnswer::Unavailable => "shop_unavailable",
        }
    }

    /// The request needs more from the customer before it can be decided.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            ReturnAnswer::ChooseOrder(_) | ReturnAnswer::ChooseLine { .. } | ReturnAnswer::NeedPhotos { .. }
        )
    }
}

/// The answer to `ask` from a customer with `contacts` (their verified details).
pub async fn answer_return(
    orders: &dyn Orders,
    contacts: &[Contact],
    ask: &ReturnAsk,
    rules: &ReturnRules,
    now: Timestamp,
) -> ReturnAnswer {
    let order = match find_order(orders, contacts, ask).await {
        Ok(order) => order,
        Err(answer) => return answer,
    };
    decide(&order, ask, rules, now)
}

/// The rules' answer for `ask` on `order`, which the caller knows to be the customer's.
pub fn decide(order: &Order, ask: &ReturnAsk, rules: &ReturnRules, now: Timestamp) -> ReturnAnswer {
    let Some(line) = pick_line(order, &ask.words) else {
        let lines = order.lines.iter().map(|l| (l.id.clone(), l.title.clone())).collect();
        return ReturnAnswer::ChooseLine { order: order.name.clone(), lines };
    };
    let reason = ask.reason();
    let request = ReturnRequest { line: &line, reason: &reason, damaged: ask.damaged, photos: ask.photos };
    match rules.open(order, &request, now) {
        Ok(case) => ReturnAnswer::Requested(case),
        Err(ReturnRefusal::EvidenceRequired) => ReturnAnswer::NeedPhotos { order: order.name.clone() },
        Err(refusal) => ReturnAnswer::Refused { order: order.name.clone(), refusal },
    }
}

async fn find_order(
    orders: &dyn Orders,
    contacts: &[Contact],
    ask: &ReturnAsk,
) -> Result<Order, ReturnAnswer> {
    if let Some(name) = &ask.order {
        if contacts.is_empty() {
            return Err(ReturnAnswer::NotYours);
        }
        return match orders.order(name).await {
            Ok(Some(order)) if order.belongs_to(contacts) => Ok(order),
            Ok(_) => Err(ReturnAnswer::NotYours),
            Err(error) => {
                tracing::warn!(%error, "orders.lookup_failed");
                Err(ReturnAnswer::Unavailable)
            }
        };
    }
    if contacts.is_empty() {
        return Err(ReturnAnswer::NoOrders);
    }
    let found = orders_of_all(orders, contacts).await.map_err(|error| {
        tracing::warn!(%error, "orders.lookup_failed");
        ReturnAnswer::Unavailable
    })?;
    let delivered: Vec<&Order> =
        found.iter().filter(|o| o.delivered_at().is_some() && !o.cancelled).collect();
    match (delivered.as_slice(), found.as_slice()) {
        ([one], _) => Ok((*one).clone()),
        ([], [only]) => Ok(only.clone()),
        ([], []) => Err(ReturnAnswer::NoOrders),
        ([], several) => Err(ReturnAnswer::ChooseOrder(several.iter().map(|o| o.name.clone()).collect())),
        (several, _) => Err(ReturnAnswer::ChooseOrder(several.iter().map(|o| o.name.clone()).collect())),
    }
}

/// The line `words` mean: the only one, or the one whose id, title, or a word of its title
/// (four letters or more) they name — when exactly one line is named.
pub fn pick_line(order: &Order, words: &str) -> Option<String> {
    if let [only] = order.lines.as_slice() {
        return Some(only.id.clone());
    }
    let lower = words.to_lowercase();
    let named: Vec<&str> = order
        .lines
        .iter()
        .filter(|line| {
            let title = line.title.to_lowercase();
            let title_words: Vec<&str> =
                title.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 4).collect();
            lower.contains(&line.id.to_lowercase())
                || (!title.trim().is_empty() && lower.contains(title.trim()))
                || (!title_words.is_empty() && mentions(&lower, &title_words))
        })
        .map(|line| line.id.as_str())
        .collect();
    match named.as_slice() {
        [one] => Some((*one).to_owned()),
        _ => None,
    }
}

/// Files the return a customer asked for on `ticket`: the `return_requested` event (theirs),
/// the case, and the timer of its first step. Every way a customer starts a return ends here.
pub fn file_customer_return(
    ticket: &mut Ticket,
    customer: &CustomerId,
    case: &ReturnCase,
    rules: &ReturnRules,
    sla: Option<&SlaPolicies>,
    now: Timestamp,
) -> TicketEvent {
    let event = ticket.record(
        Actor::Customer(customer.clone()),
        EventKind::ReturnRequested {
            order: case.order.clone(),
            line: case.line.clone(),
            reason: if case.damaged { "damaged" } else { "other" }.to_owned(),
        },
        now,
    );
    ticket.order.get_or_insert_default().returned = Some(case.clone());
    if let Some(sla) = sla {
        sla.start_return_step(ticket, rules.step_target(case.state), now);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_words_match_whole_english_words_and_chinese_anywhere() {
        assert!(mentions("I want to RETURN the teapot", RETURN_WORDS));
        assert!(mentions("我要退货", RETURN_WORDS));
        assert!(!mentions("the returnable policy", RETURN_WORDS));
        assert!(mentions("it arrived chipped", DAMAGE_WORDS));
        assert!(!mentions("unbroken", DAMAGE_WORDS));
    }

    #[tokio::test]
    async fn a_return_asks_which_order_or_for_photos_and_never_names_someone_elses_order() {
        use crate::orders::MemoryOrders;
        use crate::orders::fixtures::an_order;
        let day = |d: i64| Timestamp::from_second(d * 86_400).unwrap();
        let shop = MemoryOrders::new(vec![
            an_order("#1001").id("1").created(day(1)).delivered(day(2)).build(),
            an_order("#1002").id("2").created(day(3)).delivered(day(4)).build(),
            an_order("#2001").id("3").email("eve@example.com").delivered(day(4)).build(),
        ]);
        let mei = [Contact::Email("mei@example.com".into())];
        let rules = ReturnRules::default();
        let now = day(6);
        let ask = |order: Option<&str>, text: &str, photos| {
            ReturnAsk::default().and(order.map(str::to_owned), text, photos)
        };
        let which = answer_return(&shop, &mei, &ask(None, "return it", 0), &rules, now).await;
        assert_eq!(which, ReturnAnswer::ChooseOrder(vec!["#1002".into(), "#1001".into()]));
        let broken = answer_return(&shop, &mei, &ask(Some("#1001"), "it is broken", 0), &rules, now).await;
        assert_eq!(broken, ReturnAnswer::NeedPhotos { order: "#1001".into() });
        let with_photo =
            answer_return(&shop, &mei, &ask(Some("#1001"), "it is broken", 1), &rules, now).await;
        assert!(matches!(with_photo, ReturnAnswer::Requested(case) if case.damaged && case.evidence == 1));
        let foreign = answer_return(&shop, &mei, &ask(Some("#2001"), "return", 0), &rules, now).await;
        assert_eq!(foreign, ReturnAnswer::NotYours);
        let unknown = answer_return(&shop, &mei, &ask(Some("#9999"), "return", 0), &rules, now).await;
        assert_eq!(unknown, foreign, "someone else's order reads like one that does not exist");
        let nobody = answer_return(&shop, &[], &ask(Some("#1001"), "return", 0), &rules, now).await;
        assert_eq!(nobody, ReturnAnswer::NotYours, "no verified details: no order is anyone's");
    }

    #[test]
    fn the_item_is_found_by_a_word_of_its_title_and_only_when_one_item_matches() {
        use crate::orders::fixtures::{an_order, line};
        let order = an_order("#1001")
            .lines(vec![
                line("1001-1", "Celadon teapot", None),
                line("1001-2", "Gift card", Some("gift_card")),
            ])
            .build();
        assert_eq!(pick_line(&order, "return the teapot please").as_deref(), Some("1001-1"));
        assert_eq!(pick_line(&order, "the gift card").as_deref(), Some("1001-2"));
        assert_eq!(pick_line(&order, "1001-2").as_deref(), Some("1001-2"));
        assert_eq!(pick_line(&order, "return everything"), None);
        assert_eq!(pick_line(&order, "the teapot and the gift card"), None);
    }

    #[test]
    fn a_return_ask_gathers_later_messages_and_keeps_its_reason_bounded() {
        let ask =
            ReturnAsk::default().and(None, "return please", 0).and(Some("#1001".into()), "it is broken", 2);
        assert_eq!(ask.order.as_deref(), Some("#1001"));
        assert!(ask.damaged);
        assert_eq!(ask.photos, 2);
        let long = ReturnAsk::default().and(None, &"x".repeat(2_000), 0);
        assert_eq!(long.reason().chars().count(), MAX_RETURN_REASON_CHARS);
    }
}
