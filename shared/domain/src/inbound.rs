//! The `InboundMessage`: what every channel function hands to the router, whatever the channel.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::envelope::Versioned;
use crate::mail_auth::MailAuth;
use crate::model::{AttachmentRef, Channel, ChannelRef, Identity};
use crate::ports::ThreadKey;
use crate::social::SocialSource;

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

/// An inbound message too large for a queue message (SQS takes 256 KiB), kept in the blob
/// store: the queue carries this pointer and the router loads the message from `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundPointer {
    pub key: String,
}

impl Versioned for InboundPointer {
    const KIND: &'static str = "inbound_pointer";
    const VERSION: u32 = 1;
}

/// The channel the message came in on, with what that channel knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
// One per inbound message, never in a collection: a box would save nothing worth a heap hop.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    Chat {
        inbox: String,
        conversation_id: String,
        message_id: String,
    },
    Email(EmailSource),
    Phone(PhoneSource),
    /// WeChat, Meta's messaging apps or the community forum (see [`crate::social`]).
    Social(SocialSource),
}

/// One Amazon Connect contact event of a call, as the phone channel read it. Every event of
/// a call is its own inbound message (keyed by contact, event type and time), so repeats and
/// any order are the router's usual business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSource {
    /// Connect's contact id: the call's thread key.
    pub contact_id: String,
    /// Connect's event type as sent, e.g. `QUEUED`.
    pub event_type: String,
    pub stage: CallStage,
    /// The agent who answered (Connect agent ARN's last part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talk_seconds: Option<u64>,
    /// Connect's disconnect reason, e.g. `CUSTOMER_DISCONNECT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_reason: Option<String>,
    /// Set on the disconnect of a call nobody answered: it gets a callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<MissedReason>,
    /// What the contact-flow answer suggested, kept per contact: the team and the caller's
    /// open ticket, which the call joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_ticket: Option<crate::model::TicketNumber>,
    /// The caller withheld their number (or it did not parse): no identity is claimed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

/// The steps of a call the desk records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStage {
    Initiated,
    Queued,
    Answered,
    Disconnected,
    /// Any other event type (CONNECTED_TO_SYSTEM, CONTACT_DATA_UPDATED, new ones): recorded
    /// on the ticket, changes nothing else.
    Other,
}

impl CallStage {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStage::Initiated => "initiated",
            CallStage::Queued => "queued",
            CallStage::Answered => "answered",
            CallStage::Disconnected => "disconnected",
            CallStage::Other => "other",
        }
    }
}

/// Why a call counts as missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedReason {
    /// Hung up while waiting in the queue.
    AbandonedInQueue,
    /// Ended before reaching the queue or an agent.
    BeforeAgent,
    /// The caller left a voicemail.
    Voicemail,
    /// Called outside the team's business hours.
    AfterHours,
}

impl MissedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            MissedReason::AbandonedInQueue => "abandoned_in_queue",
            MissedReason::BeforeAgent => "disconnected_before_agent",
            MissedReason::Voicemail => "voicemail",
            MissedReason::AfterHours => "after_hours",
        }
    }
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
    /// The receiver's verdicts on the sender: only an authenticated From is believed.
    #[serde(default)]
    pub auth: MailAuth,
    /// The virus scan did not pass: the attachments are quarantined and the ticket flagged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quarantined: bool,
    /// Where the raw message is kept (blob store key).
    pub raw_key: Option<String>,
    /// Set for a delivery status notification (a bounce): the addresses it reports as
    /// failed. A bounce makes no ticket; the addresses are marked on their customers.
    pub bounce: Option<Vec<String>>,
    /// The Message-IDs of the original mail a bounce encloses or names: what shows that it
    /// concerns mail the desk sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bounce_refers_to: Vec<String>,
    /// Set when the desk could not read the mail (not a message, no usable From): why. It
    /// opens a ticket tagged unreadable, with the raw mail attached, for an agent to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl EmailSource {
    /// The sender's domain says the mail is not from it: flagged, and nothing automatic goes out.
    pub fn dmarc_failed(&self) -> bool {
        self.auth.dmarc_failed()
    }
}

/// Whatever the channel tells us about the person writing. `chat_visitor`, `email` and
/// `phone` are identities the channel vouches for and link the message to a customer;
/// `hints` is contact data nobody verified (typed into a form, an unauthenticated From), kept
/// for an agent to see and merge by, never a link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub name: Option<String>,
    pub chat_visitor: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "ContactHints::is_empty")]
    pub hints: ContactHints,
}

/// Contact details nobody verified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactHints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl ContactHints {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.phone.is_none()
    }
}

/// Whether a channel vouches for the contact details it passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vouched {
    /// The provider signed the person in, or the mail authenticated: the details link.
    Yes,
    /// Typed by the person, or unauthenticated: the details are hints.
    No,
}

impl Sender {
    /// The one rule for contact details on every channel (chat today; phone and social
    /// later): what the channel vouches for links the message to a customer, anything else
    /// is kept as an unverified hint.
    pub fn with_contact(mut self, email: Option<String>, phone: Option<String>, vouched: Vouched) -> Self {
        match vouched {
            Vouched::Yes => {
                self.email = email;
                self.phone = phone;
            }
            Vouched::No => self.hints = ContactHints { email, phone },
        }
        self
    }
}

impl InboundMessage {
    pub fn chat_idempotency_key(inbox: &str, message_id: &str) -> String {
        format!("chat:{inbox}:{message_id}")
    }

    /// Keyed by sender and Message-ID, which every copy of a mail shares however it reaches
    /// us. The sender is part of the key so that nobody can take a mail's place by reusing
    /// its Message-ID (every recipient of a mail sees it). Hashed: both are the sender's text.
    pub fn email_idempotency_key(sender: &str, message_id: &str) -> String {
        let digest = Sha256::digest(format!("{}\n{message_id}", sender.to_lowercase()));
        format!("email:{}", hex::encode(digest))
    }

    /// One contact event of a call: Connect may deliver it twice, never with another time.
    pub fn phone_idempotency_key(contact_id: &str, event_type: &str, at: Timestamp) -> String {
        format!("phone:{contact_id}:{event_type}:{}", at.as_millisecond())
    }

    /// One message (or event) of a social platform: the platform's retries carry the same
    /// id, so they route once.
    pub fn social_idempotency_key(network: &str, message_id: &str) -> String {
        format!("social:{network}:{message_id}")
    }

    /// An unreadable mail has no sender to key on: its raw bytes are the key.
    pub fn unreadable_email_idempotency_key(raw: &[u8]) -> String {
        format!("email:raw:{}", hex::encode(Sha256::digest(raw)))
    }

    /// Mail the desk could not read.
    pub fn is_unreadable_email(&self) -> bool {
        matches!(&self.source, Source::Email(email) if email.unreadable.is_some())
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
            Source::Phone(_) => Channel::Phone,
            Source::Social(ref social) => Channel::of_platform(social.platform),
        }
    }

    /// The key under which this very message points at its ticket once routed: the chat
    /// conversation, or the mail's own Message-ID (so replies naming it find the ticket).
    pub fn thread_key(&self) -> ThreadKey {
        match &self.source {
            Source::Chat { inbox, conversation_id, .. } => ThreadKey::chat(inbox, conversation_id),
            Source::Email(email) => ThreadKey::email_message(&email.message_id),
            Source::Phone(phone) => ThreadKey::phone_contact(&phone.contact_id),
            Source::Social(social) => ThreadKey::social(&social.network(), &social.conversation),
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
            Source::Phone(phone) => ChannelRef::Phone { contact_id: phone.contact_id.clone() },
            Source::Social(social) => ChannelRef::Social {
                platform: social.platform,
                account: social.account.clone(),
                conversation: social.conversation.clone(),
                message_id: social.message_id.clone(),
            },
        }
    }

    /// Every identity the message carries that links it to a customer, strongest first: an
    /// email or phone number names a person across channels; a visitor id only within one
    /// chat inbox. A mail's From links only when the mail authenticated (also for a message
    /// queued before the edge sorted it into hints). Values that do not parse are skipped
    /// (channel functions validate them; this is defence in depth).
    pub fn identities(&self) -> Vec<Identity> {
        let mut identities = Vec::new();
        if self.email_vouched() {
            identities.extend(self.sender.email.as_deref().and_then(|e| Identity::email(e).ok()));
        }
        identities.extend(self.sender.phone.as_deref().and_then(|p| Identity::phone(p).ok()));
        if let (Source::Chat { inbox, .. }, Some(visitor)) = (&self.source, &self.sender.chat_visitor) {
            identities.extend(Identity::chat_visitor(inbox, visitor).ok());
        }
        // The platform's own id for the person: never anything they typed.
        if let Source::Social(social) = &self.source {
            identities.push(Identity::Social { network: social.network(), handle: social.user.clone() });
            if let Some(union) = &social.union_id {
                identities.push(Identity::Social { network: "wechat-union".into(), handle: union.clone() });
            }
        }
        identities
    }

    /// The unverified contact details: kept on the customer, shown as unverified, offered
    /// for merging; never a link.
    pub fn hints(&self) -> Vec<Identity> {
        let mut hints = Vec::new();
        let unvouched_email = (!self.email_vouched()).then_some(self.sender.email.as_deref()).flatten();
        for email in unvouched_email.into_iter().chain(self.sender.hints.email.as_deref()) {
            hints.extend(Identity::email(email).ok());
        }
        hints.extend(self.sender.hints.phone.as_deref().and_then(|p| Identity::phone(p).ok()));
        hints.dedup();
        hints
    }

    /// The address a mail came from, believed or not: where its answers go (lower-cased).
    pub fn from_address(&self) -> Option<String> {
        self.sender.email.as_deref().or(self.sender.hints.email.as_deref()).map(str::to_lowercase)
    }

    /// The sender's email, if the channel vouches for it.
    pub fn vouched_email(&self) -> Option<String> {
        self.email_vouched().then(|| self.sender.email.as_deref().map(str::to_lowercase)).flatten()
    }

    /// Whether the mail authenticated (always true for other channels, whose edges sort
    /// contact details themselves).
    pub fn authenticated(&self) -> bool {
        match &self.source {
            Source::Email(email) => email.auth.authenticated(),
            Source::Chat { .. } | Source::Phone(_) | Source::Social(_) => true,
        }
    }

    fn email_vouched(&self) -> bool {
        self.authenticated()
    }
}
