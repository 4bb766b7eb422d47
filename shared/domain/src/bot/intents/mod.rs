//! What a chat message asks for. Each intent is a small detector of its own; the classifier
//! asks them in order and the first that recognises the message wins, else it is a question
//! for the knowledge base. A new intent (the orders issue's `order_status`) is one more
//! module implementing [`IntentDetector`] and one more entry in [`default_detectors`].

mod complaint;
mod feedback;
mod handoff;
mod keywords;
mod order_status;
mod return_request;

pub use complaint::Complaint;
pub use feedback::{Feedback, FeedbackAnswer};
pub use handoff::HandoffRequest;
pub use order_status::{ORDER_STATUS, OrderStatus};
pub use return_request::{RETURN_REQUEST, ReturnRequestIntent};

/// What the customer's message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// "人工", "转人工", "agent", "talk to a person".
    Handoff,
    /// Anger or a complaint: a person, at once.
    Complaint,
    /// An answer to "did this help?"; only recognised while the bot waits for one.
    Feedback(FeedbackAnswer),
    /// One of the configured intents another module answers (e.g. `order_status`).
    Named(&'static str),
    /// Anything else: searched in the knowledge base.
    Question,
}

impl Intent {
    /// The name events and notes carry.
    pub fn name(&self) -> &'static str {
        match self {
            Intent::Handoff => "handoff",
            Intent::Complaint => "complaint",
            Intent::Feedback(FeedbackAnswer::Yes) => "helped",
            Intent::Feedback(FeedbackAnswer::No) => "not_helped",
            Intent::Named(name) => name,
            Intent::Question => "question",
        }
    }
}

/// What a detector may look at.
pub struct Utterance<'a> {
    /// The message, lowercased, full-width narrowed, trimmed.
    pub text: &'a str,
    /// The bot asked "did this help?" and waits for the answer.
    pub awaiting_feedback: bool,
}

/// Recognises one intent, without side effects.
pub trait IntentDetector: Send + Sync {
    fn detect(&self, utterance: &Utterance<'_>) -> Option<Intent>;
}

/// The built-in detectors, in the order they are asked: a request for a person beats
/// everything, a complaint beats an answer to "did this help?".
pub fn default_detectors() -> Vec<Box<dyn IntentDetector>> {
    vec![Box::new(HandoffRequest), Box::new(Complaint), Box::new(Feedback)]
}

/// The first intent a detector recognises, else a question.
pub fn classify(detectors: &[Box<dyn IntentDetector>], text: &str, awaiting_feedback: bool) -> Intent {
    let normalised = keywords::normalise(text);
    let utterance = Utterance { text: &normalised, awaiting_feedback };
    detectors.iter().find_map(|d| d.detect(&utterance)).unwrap_or(Intent::Question)
}

#[cfg(test)]
mod tests;
