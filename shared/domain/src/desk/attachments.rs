//! Agents download a ticket's attachments through short-lived links: the file must belong to
//! a message shown on the ticket (its own thread or a merged one's), and a quarantined file
//! is never linked.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::{AgentDesk, DeskError};
use crate::model::TicketNumber;
use crate::system::later;

/// How long an agent's download link works: long enough to start the download.
pub const ATTACHMENT_LINK_TTL: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentLink {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Opens without signing in until `expires_at`.
    pub url: String,
    pub expires_at: Timestamp,
}

impl AgentDesk {
    /// A link to attachment `index` of message `message`, shown on ticket `number`.
    pub async fn attachment_link(
        &self,
        number: TicketNumber,
        message: &str,
        index: usize,
    ) -> Result<AttachmentLink, DeskError> {
        let view = self.view(number).await?;
        let found = view
            .messages
            .iter()
            .find(|m| m.id.as_str() == message)
            .and_then(|m| m.attachments.get(index))
            .ok_or_else(|| DeskError::NotFound(format!("attachment {index} of message {message:?}")))?;
        if found.quarantined {
            return Err(DeskError::Unsendable("the file failed the virus scan and is never served".into()));
        }
        let now = self.ports.clock.now();
        let url = self.ports.blobs.presigned_get(&found.key, now, ATTACHMENT_LINK_TTL).await?;
        Ok(AttachmentLink {
            name: found.name.clone(),
            content_type: found.content_type.clone(),
            size: found.size,
            url,
            expires_at: later(now, ATTACHMENT_LINK_TTL),
        })
    }
}
