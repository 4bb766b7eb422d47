//! The chat bot, as pure decisions: given the conversation so far and the customer's new
//! message, answer with an article, note that it helped, or hand the customer to a person.
//! The router applies the decision in its own commit ([`crate::router`]); nothing here
//! writes. Rules: never more than [`MAX_BOT_ANSWERS`] answers before a person, never the
//! same article twice, a person at once on request, on a complaint, on "no", on a question
//! the desk's counter examples leave to a person, or on the second question the bot cannot
//! answer.

mod answer_rule;
pub mod idle;
pub mod intents;
mod reply;

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use answer_rule::{COVERAGE_CREDIT, REFERENCE_COVERED, sureness, sureness_with};
pub use intents::{
    FeedbackAnswer, Intent, IntentDetector, ORDER_STATUS, OrderStatus, RETURN_REQUEST, ReturnRequestIntent,
    classify, default_detectors,
};
pub use reply::{BotTexts, choices_for};

use crate::kb::{Hit, Language, SearchIndex};
use crate::orders::{OrderAnswer, ReturnAnswer};

/// At most this many bot answers in one conversation; the next question goes to a person.
pub const MAX_BOT_ANSWERS: usize = 2;
/// The second question the bot finds nothing for goes to a person.
pub const MAX_UNANSWERED: u8 = 2;
/// The most articles a reprompt lists under "one of these may help".
pub const MAX_SUGGESTIONS: usize = 3;
/// Confidence an article needs to be listed when the bot is not sure enough to answer. On the
/// four labelled development sets (README BENCHMARKS), the questions the bot turned away got
/// their article listed 82 % of the time at 0.15, and 30 % of the questions nothing answers
/// got a list (69 % and 17 % at 0.2; 87 % and 46 % at 0.1): a list is only read, never taken
/// for an answer, so a wrong one costs the customer a glance.
pub const SUGGESTION_MIN_CONFIDENCE: f32 = 0.15;
/// How sure ([`sureness`]) the bot must be of an article before it answers with it, unless
/// configured: chosen with [`COVERAGE_CREDIT`] by cross-validation on the development sets
/// against articles with a handful of written example questions each (README BENCHMARKS).
/// Articles that carry many of the inbox's own questions as examples want a higher one: the
/// example desk's is 0.6125.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.4375;

/// Where the bot stands in one conversation; kept on the ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotState {
    /// The articles answered, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answered: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unanswered: u8,
    /// The last answer asked "did this help?".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting: bool,
    /// Helped or handed to a person: the bot says nothing more here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
    /// The bot asked which of the customer's orders they mean.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub choosing: bool,
    /// The intent of the bot's last turn, for the event of a conversation the customer left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// When the bot last spoke while keeping the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub said_at: Option<Timestamp>,
    /// When the conversation is closed if the customer says nothing more ([`idle`]); `None`
    /// while nothing is armed (a person has it, or it was closed already).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_at: Option<Timestamp>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Whether the bot still keeps this conversation: it has not helped or handed over, and no
/// agent has taken the ticket.
pub fn holds(ticket: &crate::model::Ticket) -> bool {
    ticket.bot.as_ref().is_some_and(|state| !state.done) && ticket.assignee.is_none()
}

/// Why a conversation went to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffReason {
    Requested,
    Complaint,
    NotHelped,
    AnswerLimit,
    Unanswered,
    /// A configured intent the bot does not answer itself.
    Intent,
    /// The question matched an article's counter examples better than any article: the desk
    /// leaves questions like it to a person.
    NotForBot,
    /// Order status: the named order is not the customer's (nothing was shown).
    OrderNotYours,
    /// Order status: no orders under the customer's contact details.
    NoOrders,
    /// Order status: the shop did not answer.
    ShopUnavailable,
    /// The customer sent files (a photo, a PDF): the bot cannot look at them, a person can.
    Files,
    /// The bot kept the conversation but could not take the customer's next message (its
    /// articles unavailable, switched off for the inbox, or another channel).
    Unavailable,
}

impl HandoffReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::Requested => "requested",
            HandoffReason::Complaint => "complaint",
            HandoffReason::NotHelped => "not_helped",
            HandoffReason::AnswerLimit => "answer_limit",
            HandoffReason::Unanswered => "unanswered",
            HandoffReason::Intent => "intent",
            HandoffReason::NotForBot => "not_for_bot",
            HandoffReason::OrderNotYours => "order_not_yours",
            HandoffReason::NoOrders => "no_orders",
            HandoffReason::ShopUnavailable => "shop_unavailable",
            HandoffReason::Files => "files",
            HandoffReason::Unavailable => "unavailable",
        }
    }
}

/// What the bot does with one message.
#[derive(Debug, Clone, PartialEq)]
pub enum BotDecision {
    /// Answer with this article and ask whether it helped.
    Answer { hit: Hit },
    /// Nothing good enough found, first time: ask to rephrase (or ask for a person), listing
    /// the `suggestions` that came close enough to be worth a look. `best` is what came
    /// closest, for the agent's note.
    Reprompt { best: Option<Hit>, suggestions: Vec<Hit> },
    /// "Yes, it helped": the ticket is solved as self-served.
    Helped { article: String },
    /// A person takes over.
    Handoff { reason: HandoffReason, article: Option<String>, best: Option<Hit> },
    /// The shop's word on the customer's orders (`order_status`); see [`order_decision`].
    Order { answer: OrderAnswer },
    /// The returns workflow's answer to the customer's own return request (`return_request`).
    Return { answer: ReturnAnswer },
}

/// Whether a return answer goes to a person: an opened return waits for an agent's approval,
/// and an order that is not theirs, no orders or the shop down need a person too. A refusal
/// (naming the rule) and a question back keep the conversation with the bot.
pub fn return_handoff(answer: &ReturnAnswer) -> bool {
    matches!(
        answer,
        ReturnAnswer::Requested(_)
            | ReturnAnswer::NotYours
            | ReturnAnswer::NoOrders
            | ReturnAnswer::Unavailable
    )
}

/// Why an order-status answer goes to a person; `None` for the status itself and for
/// "which order?", which keep the conversation with the bot.
pub fn order_handoff(answer: &OrderAnswer) -> Option<HandoffReason> {
    match answer {
        OrderAnswer::Status(_) | OrderAnswer::Choose(_) => None,
        OrderAnswer::NotYours => Some(HandoffReason::OrderNotYours),
        OrderAnswer::NoOrders => Some(HandoffReason::NoOrders),
        OrderAnswer::Unavailable => Some(HandoffReason::ShopUnavailable),
    }
}

/// The bot's settings, from the config's `[bot]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct BotRules {
    /// The chat inboxes the bot answers in; every other inbox has none.
    pub inboxes: BTreeSet<String>,
    pub min_confidence: f32,
    /// Where article links point: `<help_centre_url>/v1/kb/articles/<slug>.html`.
    pub help_centre_url: String,
    /// A conversation the bot keeps is solved after this many minutes without a word from
    /// the customer since the bot's last message ([`idle`]).
    pub close_after_minutes: u32,
}

impl BotRules {
    pub fn enabled_for(&self, inbox: &str) -> bool {
        self.inboxes.contains(inbox)
    }
}

/// The decision for one message, which `intent` classified, with `index` to search.
pub fn decide(
    state: &BotState,
    intent: &Intent,
    text: &str,
    index: &SearchIndex,
    min_confidence: f32,
) -> BotDecision {
    let last = state.answered.last().cloned();
    let handoff = |reason| BotDecision::Handoff { reason, article: last.clone(), best: None };
    match intent {
        Intent::Handoff => handoff(HandoffReason::Requested),
        Intent::Complaint => handoff(HandoffReason::Complaint),
        Intent::Feedback(FeedbackAnswer::No) => handoff(HandoffReason::NotHelped),
        Intent::Feedback(FeedbackAnswer::Yes) => match last {
            Some(article) => BotDecision::Helped { article },
            None => handoff(HandoffReason::NotHelped),
        },
        Intent::Named(_) => handoff(HandoffReason::Intent),
        Intent::Question => {
            let (fresh, countered) = new_articles(state, text, index);
            let best = fresh.first().cloned();
            if state.answered.len() >= MAX_BOT_ANSWERS {
                return BotDecision::Handoff { reason: HandoffReason::AnswerLimit, article: last, best };
            }
            if countered {
                return BotDecision::Handoff { reason: HandoffReason::NotForBot, article: last, best };
            }
            match best {
                Some(hit) if sureness(&hit) >= min_confidence => BotDecision::Answer { hit },
                best if state.unanswered + 1 >= MAX_UNANSWERED => {
                    BotDecision::Handoff { reason: HandoffReason::Unanswered, article: last, best }
                }
                best => BotDecision::Reprompt { best, suggestions: suggestions(fresh) },
            }
        }
    }
}

/// The articles found for `text` that the customer has not been given yet, best first, and
/// whether a counter example matched it better than any article.
fn new_articles(state: &BotState, text: &str, index: &SearchIndex) -> (Vec<Hit>, bool) {
    let found = index.find(text, None, MAX_BOT_ANSWERS + MAX_SUGGESTIONS);
    let fresh = found.hits.into_iter().filter(|hit| !state.answered.contains(&hit.slug)).collect();
    (fresh, found.countered.is_some())
}

/// What a reprompt lists: the first [`MAX_SUGGESTIONS`] of `hits` sure enough to be worth a
/// look ([`SUGGESTION_MIN_CONFIDENCE`]).
fn suggestions(hits: Vec<Hit>) -> Vec<Hit> {
    hits.into_iter().filter(|hit| hit.confidence >= SUGGESTION_MIN_CONFIDENCE).take(MAX_SUGGESTIONS).collect()
}

/// The state after `decision`.
pub fn next_state(state: &BotState, decision: &BotDecision) -> BotState {
    let mut next = state.clone();
    next.choosing = matches!(decision, BotDecision::Order { answer: OrderAnswer::Choose(_) });
    match decision {
        BotDecision::Answer { hit } => {
            next.answered.push(hit.slug.clone());
            next.awaiting = true;
        }
        BotDecision::Reprompt { .. } => {
            next.unanswered += 1;
            next.awaiting = false;
        }
        BotDecision::Helped { .. } | BotDecision::Handoff { .. } => {
            next.awaiting = false;
            next.done = true;
        }
        BotDecision::Order { answer: OrderAnswer::Status(order) } => {
            // "yes" then solves it as self-served, like an article that helped.
            next.answered.push(format!("order:{}", order.name));
            next.awaiting = true;
        }
        BotDecision::Order { answer: OrderAnswer::Choose(_) } => next.awaiting = false,
        BotDecision::Order { .. } => {
            next.awaiting = false;
            next.done = true;
        }
        BotDecision::Return { answer } if return_handoff(answer) => {
            next.awaiting = false;
            next.done = true;
        }
        BotDecision::Return { answer } => {
            // Waiting for an order, an item or photos: the next message continues the request.
            next.choosing = answer.waits();
            next.awaiting = false;
            if let ReturnAnswer::Refused { order, .. } = answer {
                next.answered.push(format!("return:{order}"));
            }
        }
    }
    // A person has it now: nothing closes it for silence.
    if next.done {
        next.close_at = None;
    }
    next
}

/// The language the bot answers in: the message's, else the article's.
pub fn reply_language(text: &str) -> Language {
    crate::kb::detect_language(text)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod idle_tests;
