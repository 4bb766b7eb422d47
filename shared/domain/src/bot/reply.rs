//! What the bot says, in the customer's language. The article itself is the answer; these
//! are the words around it.

use crate::kb::{Hit, Language};
use crate::model::TicketNumber;

/// The bot's sentences for one language.
pub struct BotTexts {
    language: Language,
}

impl BotTexts {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    /// The answer: title, the article's opening, the link, and the two choices.
    pub fn answer(&self, hit: &Hit, link: &str) -> String {
        match self.language {
            Language::ZhCn => format!(
                "{}\n{}\n详情:{link}\n\n这个回答有帮助吗?回复“是”,或回复“转人工”。",
                hit.title, hit.snippet
            ),
            Language::En => format!(
                "{}\n{}\nRead more: {link}\n\nDid this help? Reply \"yes\", or \"talk to a person\".",
                hit.title, hit.snippet
            ),
        }
    }

    /// Not sure enough to answer: ask to rephrase, listing `suggestions` (each article's
    /// title and link) when any came close.
    pub fn reprompt(&self, suggestions: &[(&Hit, String)]) -> String {
        if suggestions.is_empty() {
            return match self.language {
                Language::ZhCn => "抱歉,我没有找到相关的答案。可以换个说法再问一次,或回复“转人工”。".to_owned(),
                Language::En => {
                    "Sorry, I couldn't find an answer to that. Could you put it another way? Or reply \"talk to a person\"."
                        .to_owned()
                }
            };
        }
        let list: String = suggestions
            .iter()
            .map(|(hit, link)| match self.language {
                Language::ZhCn => format!("\n• {}:{link}", hit.title),
                Language::En => format!("\n• {}: {link}", hit.title),
            })
            .collect();
        match self.language {
            Language::ZhCn => {
                format!(
                    "抱歉,我不太确定您问的是哪个问题。也许这些文章有帮助:{list}\n\n都不是的话,可以换个说法再问一次,或回复“转人工”。"
                )
            }
            Language::En => format!(
                "Sorry, I'm not sure I've understood. One of these may help:{list}\n\nIf not, could you put it another way? Or reply \"talk to a person\"."
            ),
        }
    }

    pub fn helped(&self, ticket: TicketNumber) -> String {
        match self.language {
            Language::ZhCn => format!("很高兴能帮到您!工单 {ticket} 已解决,有需要随时联系我们。"),
            Language::En => format!("Glad it helped! Ticket {ticket} is solved; write again any time."),
        }
    }

    pub fn handoff(&self, ticket: TicketNumber) -> String {
        match self.language {
            Language::ZhCn => {
                format!("正在为您转接人工客服,客服能看到之前的对话,您无需重复说明。您的工单号是 {ticket}。")
            }
            Language::En => format!(
                "I'm passing you to a person now. They can see this conversation, so there is no need to repeat yourself. Your ticket is {ticket}."
            ),
        }
    }
}

/// The choices a chat widget shows under a bot answer, in the answer's language.
pub fn choices_for(text: &str) -> Vec<String> {
    match crate::kb::detect_language(text) {
        Language::ZhCn => vec!["是".to_owned(), "转人工".to_owned()],
        Language::En => vec!["yes".to_owned(), "talk to a person".to_owned()],
    }
}
