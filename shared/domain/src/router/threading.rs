//! Threading: which ticket an inbound message continues, if any.
//!
//! A chat message continues its conversation's ticket. An email is matched, in this order:
//! 1. the Message-IDs it answers (In-Reply-To, then References, newest first) against the
//!    ids of mail already on a ticket;
//! 2. the token of the `support+<token>@domain` reply address it was sent to;
//! 3. its own Message-ID, when a ticket opened by a reply to it is waiting for it (the reply
//!    overtook it on the way), but only for mail from that ticket's requester or cc list;
//! 4. a `[#N]` in the subject, but only in authenticated mail from the ticket's requester
//!    or someone on its cc list: a stranger who writes `[#1042]` gets a ticket of their own,
//!    not a look at #1042.
//!
//! A ticket merged into another continues there, but only for the surviving ticket's own
//! people: anyone else writing to the merged thread gets a follow-up of the merged ticket
//! instead, so a merge across customers never lets one of them into the other's thread.

use super::participants::Standing;
use crate::inbound::{EmailSource, InboundMessage, Source};
use crate::model::{CustomerId, Ticket, TicketNumber};
use crate::ports::{StoreError, ThreadKey, TicketStore};

/// Reference lookups per email, so a References header of hundreds of ids costs a bounded
/// number of reads. The recent ones are the likely hits.
pub const MAX_REFERENCE_LOOKUPS: usize = 5;

/// The ticket a message belongs to, and the thread key it was found by (none for a `[#N]`
/// subject). A follow-up of a closed ticket takes that key over, so the next message of the
/// same thread joins the follow-up instead of opening another.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub ticket: Ticket,
    pub key: Option<ThreadKey>,
}

/// The open (or closed) ticket `inbound` belongs to, or `None` for a new conversation.
pub async fn find_ticket(
    tickets: &dyn TicketStore,
    inbound: &InboundMessage,
    customer: &CustomerId,
) -> Result<Option<Found>, StoreError> {
    match &inbound.source {
        // A call's key is its contact id (see `router::phone`).
        Source::Chat { .. } | Source::Phone(_) | Source::Social(_) => {
            by_key(tickets, inbound.thread_key()).await
        }
        Source::Email(email) => find_email_ticket(tickets, inbound, email, customer).await,
    }
}

/// Most merges followed from a thread to the ticket that continues it.
const MAX_MERGE_HOPS: usize = 8;

/// Where a message to a thread goes once merges are followed.
#[derive(Debug, Clone, PartialEq)]
pub enum Merged {
    /// The ticket it continues (the one found, when it was not merged).
    Continue(Found),
    /// The thread was merged into a ticket the sender does not belong to: the message opens
    /// a follow-up of `found` (the merged ticket, closed by its merge) instead.
    Diverted(Found),
}

/// The ticket a message to `found` belongs to: a ticket merged into another continues
/// there, if the sender is the surviving ticket's requester or on its cc list.
pub async fn follow_merges(
    tickets: &dyn TicketStore,
    found: Found,
    inbound: &InboundMessage,
    customer: &CustomerId,
) -> Result<Merged, StoreError> {
    let mut current = found.clone();
    for _ in 0..MAX_MERGE_HOPS {
        let Some(target) = current.ticket.merged_into else {
            break;
        };
        let Some(ticket) = tickets.ticket(target).await? else {
            break;
        };
        current = Found { ticket, key: None };
    }
    if current.ticket.number == found.ticket.number
        || Standing::of(&current.ticket, inbound, customer).belongs()
    {
        Ok(Merged::Continue(current))
    } else {
        tracing::info!(
            ticket = found.ticket.number.0,
            into = current.ticket.number.0,
            "threading.merge_not_followed"
        );
        Ok(Merged::Diverted(found))
    }
}

async fn by_key(tickets: &dyn TicketStore, key: ThreadKey) -> Result<Option<Found>, StoreError> {
    match tickets.thread_ticket(&key).await? {
        Some(number) => {
            let ticket = load(tickets, number, &key).await?;
            Ok(Some(Found { ticket, key: Some(key) }))
        }
        None => Ok(None),
    }
}

/// The ticket `inbound` continues by a thread key alone (chat conversation; a mail's
/// In-Reply-To, References or reply token), whoever sent it.
pub async fn find_by_keys(
    tickets: &dyn TicketStore,
    inbound: &InboundMessage,
) -> Result<Option<Found>, StoreError> {
    match &inbound.source {
        Source::Chat { .. } | Source::Phone(_) | Source::Social(_) => {
            by_key(tickets, inbound.thread_key()).await
        }
        Source::Email(email) => find_email_by_keys(tickets, email).await,
    }
}

async fn find_email_by_keys(
    tickets: &dyn TicketStore,
    email: &EmailSource,
) -> Result<Option<Found>, StoreError> {
    for id in answered_ids(email).into_iter().take(MAX_REFERENCE_LOOKUPS) {
        if let Some(found) = by_key(tickets, ThreadKey::email_message(id)).await? {
            return Ok(Some(found));
        }
    }
    match &email.reply_token {
        Some(token) => by_key(tickets, ThreadKey::email_token(token)).await,
        None => Ok(None),
    }
}

async fn find_email_ticket(
    tickets: &dyn TicketStore,
    inbound: &InboundMessage,
    email: &EmailSource,
    customer: &CustomerId,
) -> Result<Option<Found>, StoreError> {
    if let Some(found) = find_email_by_keys(tickets, email).await? {
        return Ok(Some(found));
    }
    if let Some(found) = by_key(tickets, ThreadKey::email_awaited(&email.message_id)).await? {
        if Standing::of(&found.ticket, inbound, customer).belongs() {
            return Ok(Some(found));
        }
        tracing::info!(ticket = found.ticket.number.0, "threading.awaited_mail_from_stranger");
    }
    // The subject rule trusts the From address, which only authentication vouches for: an
    // unauthenticated mail never continues a ticket by its subject.
    if !inbound.authenticated() {
        return Ok(None);
    }
    let Some(number) = subject_ticket_number(&email.subject) else {
        return Ok(None);
    };
    let Some(ticket) = tickets.ticket(number).await? else {
        return Ok(None);
    };
    if Standing::of(&ticket, inbound, customer).belongs() {
        Ok(Some(Found { ticket, key: None }))
    } else {
        tracing::info!(ticket = number.0, "threading.subject_token_from_stranger");
        Ok(None)
    }
}

/// The key under which a ticket opened by `email` waits for the mail it answers, should
/// that mail arrive after it: its In-Reply-To (or newest reference). Only for a mail that
/// continued no thread, so none of the ids it names is known yet.
pub fn awaited_parent(email: &EmailSource) -> Option<ThreadKey> {
    answered_ids(email).first().map(|id| ThreadKey::email_awaited(id))
}

/// In-Reply-To first, then References newest first, each id once.
fn answered_ids(email: &EmailSource) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for id in email.in_reply_to.iter().chain(email.references.iter().rev()) {
        let id = id.as_str();
        if !id.is_empty() && id != email.message_id && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

async fn load(
    tickets: &dyn TicketStore,
    number: TicketNumber,
    key: &ThreadKey,
) -> Result<Ticket, StoreError> {
    tickets.ticket(number).await?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "thread {} points at missing ticket {number}",
            crate::log_id::Hashed(&key.0)
        ))
    })
}

/// The `N` of the first `[#N]` in a subject.
pub fn subject_ticket_number(subject: &str) -> Option<TicketNumber> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: &str = &after[..after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len())];
        if !digits.is_empty()
            && after[digits.len()..].starts_with(']')
            && let Ok(number) = digits.parse::<u64>()
        {
            return Some(TicketNumber(number));
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tokens_are_found_anywhere_and_only_when_well_formed() {
        assert_eq!(subject_ticket_number("Re: [#1042] Where is my parcel?"), Some(TicketNumber(1042)));
        assert_eq!(subject_ticket_number("回复：[#7] 退款"), Some(TicketNumber(7)));
        assert_eq!(subject_ticket_number("[#] nothing [#12x] [#3]"), Some(TicketNumber(3)));
        assert_eq!(subject_ticket_number("#1042 without brackets"), None);
        assert_eq!(subject_ticket_number("[#99999999999999999999999]"), None);
        assert_eq!(subject_ticket_number("[#"), None);
    }

    #[test]
    fn answered_ids_put_the_direct_parent_first_and_skip_repeats() {
        let email = EmailSource {
            message_id: "self@x".into(),
            in_reply_to: vec!["c@x".into()],
            references: vec!["a@x".into(), "b@x".into(), "c@x".into(), "self@x".into()],
            ..EmailSource::default()
        };
        assert_eq!(answered_ids(&email), vec!["c@x", "b@x", "a@x"]);
    }
}
