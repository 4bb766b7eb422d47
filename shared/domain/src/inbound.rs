//! The `InboundMessage`: what every channel function hands to the router, whatever the channel.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::envelope::Versioned;
use crate::model::{AttachmentRef, Channel, ChannelRef, Identity};
use crate::ports::ThreadKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Stable across redeliveries of the same customer message (ARCHITECTURE.md §5).
    pub idempotency_key: String,
    pub source: Source,
    pub sender: Sender,
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
    /// When the customer sent it, as the channel says (a chat provider's `sent_at`, a mail's
    /// Date), else when the channel function accepted it. Orders the thread: see
    /// [`InboundMessage::thread_at`]. Optional on the wire for messages queued before it was
    /// always set.
    pub sent_at: Option<Timestamp>,
    /// When the channel function accepted it.
    pub received_at: Timestamp,
}

/// How much earlier than its arrival a message may place itself in its thread. Mail can
/// honestly take days (a laptop's outbox sent after a weekend, a server retrying for the
/// four to five days RFC 5321 suggests); a Date further back is a wrong clock or a forgery,
/// and taking it would let a sender slip a message under a thread's history or take over
/// its subject.
pub const MAX_SENT_BEFORE_ARRIVAL: Duration = Duration::from_secs(7 * 24 * 3600);

impl Versioned for InboundMessage {
    const KIND: &'static str = "inbound_message";
    const VERSION: u32 = 1;
}

/// The channel the message came in on, with what that channel knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Source {
    Chat { inbox: String, conversation_id: String, message_id: String },
    Email(EmailSource),
}

/// What the email channel knows about one inbound mail, beyond sender and text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSource {
    /// The desk address it came to: replies go out from it.
    pub mailbox: String,
    /// Its Message-ID (or a stand-in when it had none), without angle brackets.
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    /// Oldest first, as in the header.
    pub references: Vec<String>,
    pub subject: String,
    /// Other people copied, lower-cased, the desk's own addresses left out.
    pub cc: Vec<String>,
    /// The token of a `support+<token>@domain` address it was sent to.
    pub reply_token: Option<String>,
    /// Primary language tag, e.g. `zh` or `en`: picks the acknowledgement template.
    pub language: String,
    /// Why no automatic answer may go to this sender (a machine wrote it), if one applies.
    pub automatic: Option<String>,
    /// SES reported a DMARC failure: the ticket is flagged and nothing automatic is sent.
    pub dmarc_failed: bool,
    /// Where the raw message is kept (blob store key).
    pub raw_key: Option<String>,
    /// Set for a delivery status notification (a bounce): the addresses it reports as
    /// failed. A bounce makes no ticket; the addresses are marked on their customers.
    pub bounce: Option<Vec<String>>,
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

    /// Keyed by Message-ID, which every copy of a mail shares however it reaches us.
    pub fn email_idempotency_key(message_id: &str) -> String {
        format!("email:{message_id}")
    }

    /// Where the message goes in its thread: when it was sent, clamped to its arrival (never
    /// later than `received_at`, at most [`MAX_SENT_BEFORE_ARRIVAL`] earlier). The inbound
    /// queue does not keep order, so the order of routing says nothing.
    pub fn thread_at(&self) -> Timestamp {
        let earliest = self.received_at.checked_sub(MAX_SENT_BEFORE_ARRIVAL).unwrap_or(Timestamp::MIN);
        self.sent_at.unwrap_or(self.received_at).clamp(earliest, self.received_at)
    }

    /// A delivery status notification, not a customer writing.
    pub fn is_bounce(&self) -> bool {
        matches!(&self.source, Source::Email(email) if email.bounce.is_some())
    }

    pub fn channel(&self) -> Channel {
        match self.source {
            Source::Chat { .. } => Channel::Chat,
            Source::Email(_) => Channel::Email,
        }
    }

    /// The key under which this very message points at its ticket once routed: the chat
    /// conversation, or the mail's own Message-ID (so replies naming it find the ticket).
    pub fn thread_key(&self) -> ThreadKey {
        match &self.source {
            Source::Chat { inbox, conversation_id, .. } => ThreadKey::chat(inbox, conversation_id),
            Source::Email(email) => ThreadKey::email_message(&email.message_id),
        }
    }

    pub fn channel_ref(&self) -> ChannelRef {
        match &self.source {
            Source::Chat { inbox, conversation_id, message_id } => ChannelRef::Chat {
                inbox: inbox.clone(),
                conversation_id: conversation_id.clone(),
                message_id: message_id.clone(),
            },
            Source::Email(email) => ChannelRef::Email {
                message_id: email.message_id.clone(),
                in_reply_to: email.in_reply_to.first().cloned(),
                references: email.references.clone(),
                mailbox: Some(email.mailbox.clone()),
                language: Some(email.language.clone()),
                raw_key: email.raw_key.clone(),
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
