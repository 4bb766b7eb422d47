//! A customer's data rights, part one: export everything the desk holds about them (erasure
//! is [`super::erasure`]).
//!
//! The export is what the customer may see: their tickets, the public thread with links to
//! its attachments and raw mail (valid for [`EXPORT_LINK_TTL`]), the tickets' trails and the
//! privacy audit. Internal notes are the staff's working papers, not the customer's data
//! (and may name other people): they and their events are left out. Exporting is audited on
//! the customer's trail, which holds no personal data itself.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::{AgentDesk, DeskError, Staff};
use crate::model::{
    AttachmentRef, AuthorKind, ChannelRef, Customer, CustomerId, Direction, EventKind, Message, MessageId,
    Ticket, TicketEvent, Visibility,
};
use crate::ports::AuditEntry;
use crate::system::later;

/// How long an export's links work. On AWS a presigned link also ends with the credentials
/// that signed it (a Lambda role's session lasts hours), so a longer promise would not hold:
/// export again for fresh links.
pub const EXPORT_LINK_TTL: Duration = Duration::from_secs(3600);

/// A stored file, as a link the customer can open for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedFile {
    pub name: String,
    pub content_type: String,
    pub size: Option<u64>,
    pub url: String,
    pub expires_at: Timestamp,
}

/// One public message of the thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedMessage {
    pub id: MessageId,
    pub direction: Direction,
    pub author: AuthorKind,
    pub author_id: Option<String>,
    pub text: String,
    pub attachments: Vec<ExportedFile>,
    /// The mail as it arrived, while it is kept (90 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_mail: Option<ExportedFile>,
    pub channel_ref: ChannelRef,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketExport {
    pub ticket: Ticket,
    pub messages: Vec<ExportedMessage>,
    pub events: Vec<TicketEvent>,
}

/// Everything about one customer, as JSON for a data-access request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerExport {
    pub customer: Customer,
    pub tickets: Vec<TicketExport>,
    pub audit: Vec<AuditEntry>,
    /// When the links in this export stop working.
    pub links_expire_at: Timestamp,
}

impl AgentDesk {
    pub async fn export(&self, staff: &Staff, id: &CustomerId) -> Result<CustomerExport, DeskError> {
        let customer = self.customer(id).await?;
        let now = self.ports.clock.now();
        let mut tickets = Vec::new();
        for ticket in self.tickets_of(&customer.id, usize::MAX).await? {
            let mut messages = Vec::new();
            for message in self.ports.tickets.messages(ticket.number).await? {
                if message.visibility == Visibility::Public {
                    messages.push(self.exported(message, now).await?);
                }
            }
            let events = self.ports.tickets.events(ticket.number).await?;
            let events = events.into_iter().filter(|e| !is_internal_note(e)).collect();
            tickets.push(TicketExport { ticket, messages, events });
        }
        self.audit(staff, &customer.id, "export", None).await?;
        let audit = self.ports.customers.audit_trail(&customer.id).await?;
        Ok(CustomerExport { customer, tickets, audit, links_expire_at: later(now, EXPORT_LINK_TTL) })
    }

    async fn exported(&self, message: Message, now: Timestamp) -> Result<ExportedMessage, DeskError> {
        let mut attachments = Vec::with_capacity(message.attachments.len());
        for attachment in &message.attachments {
            attachments.push(self.link(attachment.key.as_str(), file_of(attachment), now).await?);
        }
        let (channel_ref, raw_mail) = match message.channel_ref {
            ChannelRef::Email { message_id, in_reply_to, references, mailbox, language, raw_key } => {
                let raw_mail = match raw_key {
                    Some(key) => {
                        let file = ("message.eml".to_owned(), "message/rfc822".to_owned(), None);
                        Some(self.link(&key, file, now).await?)
                    }
                    None => None,
                };
                // The blob key is the desk's business; the link stands for it.
                let channel_ref = ChannelRef::Email {
                    message_id,
                    in_reply_to,
                    references,
                    mailbox,
                    language,
                    raw_key: None,
                };
                (channel_ref, raw_mail)
            }
            other => (other, None),
        };
        Ok(ExportedMessage {
            id: message.id,
            direction: message.direction,
            author: message.author,
            author_id: message.author_id,
            text: message.text,
            attachments,
            raw_mail,
            channel_ref,
            created_at: message.created_at,
        })
    }

    async fn link(
        &self,
        key: &str,
        (name, content_type, size): (String, String, Option<u64>),
        now: Timestamp,
    ) -> Result<ExportedFile, DeskError> {
        let url = self.ports.blobs.presigned_get(key, now, EXPORT_LINK_TTL).await?;
        Ok(ExportedFile { name, content_type, size, url, expires_at: later(now, EXPORT_LINK_TTL) })
    }
}

fn file_of(attachment: &AttachmentRef) -> (String, String, Option<u64>) {
    (attachment.name.clone(), attachment.content_type.clone(), Some(attachment.size))
}

fn is_internal_note(event: &TicketEvent) -> bool {
    matches!(event.kind, EventKind::MessageOut { internal: true, .. })
}
