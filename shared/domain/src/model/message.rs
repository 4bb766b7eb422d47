use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{MessageId, TicketNumber};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Customer,
    Agent,
    Bot,
    System,
}

/// Internal notes are never sent to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Internal,
}

/// A file kept in the blob store; the message holds only the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub key: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// An inline image's Content-ID (without brackets), for `cid:` links in the HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// Shown in the body rather than offered as a download.
    #[serde(default)]
    pub inline: bool,
    /// The virus scan did not pass: the bytes are kept for an investigation but never
    /// served or linked, to agents or customers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quarantined: bool,
}

impl AttachmentRef {
    /// Whether the file may be offered to anyone (downloads, links, previews).
    pub fn servable(&self) -> bool {
        !self.quarantined
    }
}

/// Why a message deserves a second look before anyone acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFlag {
    /// Written into the thread by someone who is neither its requester nor on its cc list:
    /// its Cc was not taken.
    ThirdParty,
    /// A mail whose sender did not authenticate: its From is a hint, not an identity.
    Unauthenticated,
    /// An agent's reply the platform would no longer take (its reply window had closed):
    /// kept on the ticket, never sent.
    OutsideWindow,
    /// A note saying the platform refused to deliver a reply, and why.
    DeliveryRefused,
}

/// How the message is known on its channel, for threading and de-duplication.
/// Stored and shown with `channel` naming the channel (`wechat`, `forum`, …: the ticket's);
/// one stored as `social` with a `platform` field (before channels named their platform)
/// reads as the same reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ChannelRefWire", from = "ChannelRefWire")]
pub enum ChannelRef {
    Chat {
        inbox: String,
        conversation_id: String,
        message_id: String,
    },
    Email {
        message_id: String,
        in_reply_to: Option<String>,
        references: Vec<String>,
        /// The desk address it came to: agent replies go out from it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mailbox: Option<String>,
        /// Primary language tag of the text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// The raw mail in the blob store, erased with the customer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw_key: Option<String>,
    },
    /// A phone call: Amazon Connect's contact id.
    Phone {
        contact_id: String,
    },
    /// A social platform's message: replies go back to `conversation` on `account`.
    Social {
        platform: crate::social::Platform,
        account: String,
        conversation: String,
        message_id: String,
    },
    None,
}

/// [`ChannelRef`] as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
enum ChannelRefWire {
    Chat {
        inbox: String,
        conversation_id: String,
        message_id: String,
    },
    Email {
        message_id: String,
        in_reply_to: Option<String>,
        references: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mailbox: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw_key: Option<String>,
    },
    Phone {
        contact_id: String,
    },
    Wechat(SocialRef),
    Messenger(SocialRef),
    Instagram(SocialRef),
    Whatsapp(SocialRef),
    Forum(SocialRef),
    /// As stored before channels named their platform: read, never written.
    Social {
        platform: crate::social::Platform,
        #[serde(flatten)]
        at: SocialRef,
    },
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SocialRef {
    account: String,
    conversation: String,
    message_id: String,
}

impl From<ChannelRef> for ChannelRefWire {
    fn from(value: ChannelRef) -> Self {
        use crate::social::Platform;
        match value {
            ChannelRef::Chat { inbox, conversation_id, message_id } => {
                Self::Chat { inbox, conversation_id, message_id }
            }
            ChannelRef::Email { message_id, in_reply_to, references, mailbox, language, raw_key } => {
                Self::Email { message_id, in_reply_to, references, mailbox, language, raw_key }
            }
            ChannelRef::Phone { contact_id } => Self::Phone { contact_id },
            ChannelRef::Social { platform, account, conversation, message_id } => {
                let at = SocialRef { account, conversation, message_id };
                match platform {
                    Platform::Wechat => Self::Wechat(at),
                    Platform::Messenger => Self::Messenger(at),
                    Platform::Instagram => Self::Instagram(at),
                    Platform::Whatsapp => Self::Whatsapp(at),
                    Platform::Forum => Self::Forum(at),
                }
            }
            ChannelRef::None => Self::None,
        }
    }
}

impl From<ChannelRefWire> for ChannelRef {
    fn from(value: ChannelRefWire) -> Self {
        use crate::social::Platform;
        let social = |platform: Platform, at: SocialRef| ChannelRef::Social {
            platform,
            account: at.account,
            conversation: at.conversation,
            message_id: at.message_id,
        };
        match value {
            ChannelRefWire::Chat { inbox, conversation_id, message_id } => {
                Self::Chat { inbox, conversation_id, message_id }
            }
            ChannelRefWire::Email { message_id, in_reply_to, references, mailbox, language, raw_key } => {
                Self::Email { message_id, in_reply_to, references, mailbox, language, raw_key }
            }
            ChannelRefWire::Phone { contact_id } => Self::Phone { contact_id },
            ChannelRefWire::Wechat(at) => social(Platform::Wechat, at),
            ChannelRefWire::Messenger(at) => social(Platform::Messenger, at),
            ChannelRefWire::Instagram(at) => social(Platform::Instagram, at),
            ChannelRefWire::Whatsapp(at) => social(Platform::Whatsapp, at),
            ChannelRefWire::Forum(at) => social(Platform::Forum, at),
            ChannelRefWire::Social { platform, at } => social(platform, at),
            ChannelRefWire::None => Self::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub ticket: TicketNumber,
    pub direction: Direction,
    pub author: AuthorKind,
    /// The customer id or agent login, when the author is a person.
    pub author_id: Option<String>,
    pub visibility: Visibility,
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
    pub channel_ref: ChannelRef,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub flags: BTreeSet<MessageFlag>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_social_reference_is_stored_under_its_platform_and_the_old_social_form_still_reads() {
        let reference = ChannelRef::Social {
            platform: crate::social::Platform::Forum,
            account: "forum".into(),
            conversation: "77".into(),
            message_id: "501".into(),
        };
        let json = serde_json::to_value(&reference).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"channel": "forum", "account": "forum", "conversation": "77", "message_id": "501"})
        );
        let old = serde_json::json!({"channel": "social", "platform": "forum", "account": "forum", "conversation": "77", "message_id": "501"});
        assert_eq!(serde_json::from_value::<ChannelRef>(old).unwrap(), reference);
        let chat =
            serde_json::json!({"channel": "chat", "inbox": "web", "conversation_id": "c", "message_id": "m"});
        assert_eq!(
            serde_json::to_value(serde_json::from_value::<ChannelRef>(chat.clone()).unwrap()).unwrap(),
            chat
        );
    }
}
