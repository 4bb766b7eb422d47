//! Who a message into a thread is from, as far as the thread is concerned: its requester,
//! someone on its cc list, or a third party. Only the thread's own people shape who receives
//! the answers: Cc is taken from the requester's mail alone, up to a cap, and a third party's
//! message is flagged for an agent.

use crate::inbound::{EmailSource, InboundMessage};
use crate::model::{CustomerId, Message, MessageFlag, Ticket};

/// Tag on a ticket that received a message from a third party.
pub const THIRD_PARTY_TAG: &str = "third_party";
/// Tag on a ticket that received mail whose sender did not authenticate.
pub const UNAUTHENTICATED_TAG: &str = "unauthenticated";
/// Tag on a ticket that received mail the virus scan did not pass.
pub const VIRUS_QUARANTINED_TAG: &str = "virus_quarantined";
/// Tag on a ticket opened by mail that failed DMARC: the sender may not be who it says.
pub const DMARC_FAILED_TAG: &str = "dmarc_failed";

/// How the sender of a message stands to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The ticket's customer (by customer id, which only a vouched identity leads to).
    Requester,
    /// An authenticated address on the ticket's cc list.
    Cc,
    ThirdParty,
}

impl Standing {
    pub fn of(ticket: &Ticket, inbound: &InboundMessage, customer: &CustomerId) -> Standing {
        if ticket.requester == *customer {
            Standing::Requester
        } else if inbound.vouched_email().is_some_and(|address| ticket.cc.contains(&address)) {
            Standing::Cc
        } else {
            Standing::ThirdParty
        }
    }

    /// The requester or someone they copied.
    pub fn belongs(self) -> bool {
        self != Standing::ThirdParty
    }
}

/// Adds the addresses a mail copied to the ticket's cc list, while it holds fewer than `max`;
/// returns how many were left out. Call it for the requester's own mail only.
pub fn take_cc(ticket: &mut Ticket, cc: &[String], max: usize) -> usize {
    let mut left_out = 0;
    for address in cc {
        if ticket.cc.contains(address) {
            continue;
        }
        if ticket.cc.len() >= max {
            left_out += 1;
            continue;
        }
        ticket.cc.insert(address.clone());
    }
    if left_out > 0 {
        tracing::info!(ticket = ticket.number.0, left_out, "router.cc_capped");
    }
    left_out
}

/// Flags a mail that entered `ticket` as `message`: on the message (what an agent reads
/// beside the text) and as tags on the ticket (what lists and views filter by).
pub fn flag_mail(
    ticket: &mut Ticket,
    message: &mut Message,
    inbound: &InboundMessage,
    email: &EmailSource,
    standing: Standing,
) {
    let mut tag = |tag: &str| {
        ticket.tags.insert(tag.to_owned());
    };
    if standing == Standing::ThirdParty {
        message.flags.insert(MessageFlag::ThirdParty);
        tag(THIRD_PARTY_TAG);
    }
    if !inbound.authenticated() {
        message.flags.insert(MessageFlag::Unauthenticated);
        tag(UNAUTHENTICATED_TAG);
    }
    if email.dmarc_failed() {
        tag(DMARC_FAILED_TAG);
    }
    if email.quarantined {
        tag(VIRUS_QUARANTINED_TAG);
    }
}
