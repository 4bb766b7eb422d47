//! The `InboundMessage`: what every channel function hands to the router, whatever the channel.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::envelope::Versioned;
use crate::model::{AttachmentRef, Channel, ChannelRef, Identity};
use crate::ports::ThreadKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Stable across redeliveries of the same customer message (DESIGN §5).
    pub idempotency_key: String,
    pub source: Source,
    pub sender: Sender,
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
    /// When the customer sent it, if the channel says.
    pub sent_at: Option<Timestamp>,
    /// When the channel function accepted it.
    pub received_at: Timestamp,
}

impl Versioned for InboundMessage {
    const KIND: &'static str = "inbound_message";
    const VERSION: u32 = 1;
}

/// The channel the message came in on, with what that channel knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Source {
    Chat { inbox: String, conversation_id: String, message_id: String },
}

/// Whatever the channel tells us about the person writing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub name: Option<String>,
    pub chat_visitor: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl InboundMessage {
    pub fn chat_idempotency_key(inbox: &str, message_id: &str) -> String {
        format!("chat:{inbox}:{message_id}")
    }

    pub fn channel(&self) -> Channel {
        match self.source {
            Source::Chat { .. } => Channel::Chat,
        }
    }

    /// The thread this message continues, if its channel has threads.
    pub fn thread_key(&self) -> ThreadKey {
        match &self.source {
            Source::Chat { inbox, conversation_id, .. } => ThreadKey::chat(inbox, conversation_id),
        }
    }

    pub fn channel_ref(&self) -> ChannelRef {
        match &self.source {
            Source::Chat { inbox, conversation_id, message_id } => ChannelRef::Chat {
                inbox: inbox.clone(),
                conversation_id: conversation_id.clone(),
                message_id: message_id.clone(),
            },
        }
    }

    /// Every identity the message carries, strongest first: an email or phone number names a
    /// person across channels; a visitor id only within one chat inbox. Values that do not
    /// parse are skipped (channel functions validate them; this is defence in depth).
    pub fn identities(&self) -> Vec<Identity> {
        let mut identities = Vec::new();
        identities.extend(self.sender.email.as_deref().and_then(|e| Identity::email(e).ok()));
        identities.extend(self.sender.phone.as_deref().and_then(|p| Identity::phone(p).ok()));
        if let (Source::Chat { inbox, .. }, Some(visitor)) = (&self.source, &self.sender.chat_visitor) {
            identities.extend(Identity::chat_visitor(inbox, visitor).ok());
        }
        identities
    }
}
