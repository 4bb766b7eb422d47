//! Returns and exchanges as a tracked workflow: the rules a request must meet (days since
//! delivery, categories that cannot come back, photos for damage) and the states a return
//! moves through — requested → approved / rejected → label sent → item received → refunded /
//! exchanged. Each step is one transition checked here; the desk records it as an event,
//! tells the customer, and runs the step's SLA timer (`TimerKind::ReturnStep`).

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Order;
use crate::model::EventKind;

/// Longest reason a customer or agent gives, in characters.
pub const MAX_RETURN_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnState {
    Requested,
    Approved,
    Rejected,
    LabelSent,
    Received,
    Refunded,
    Exchanged,
}

impl ReturnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnState::Requested => "requested",
            ReturnState::Approved => "approved",
            ReturnState::Rejected => "rejected",
            ReturnState::LabelSent => "label_sent",
            ReturnState::Received => "received",
            ReturnState::Refunded => "refunded",
            ReturnState::Exchanged => "exchanged",
        }
    }

    /// What may happen next.
    pub fn allowed(self) -> &'static [ReturnAction] {
        match self {
            ReturnState::Requested => &[ReturnAction::Approve, ReturnAction::Reject],
            ReturnState::Approved => &[ReturnAction::SendLabel],
            ReturnState::LabelSent => &[ReturnAction::Receive],
            ReturnState::Received => &[ReturnAction::Refund, ReturnAction::Exchange],
            ReturnState::Rejected | ReturnState::Refunded | ReturnState::Exchanged => &[],
        }
    }

    pub fn is_final(self) -> bool {
        self.allowed().is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnAction {
    Approve,
    Reject,
    SendLabel,
    Receive,
    Refund,
    Exchange,
}

impl ReturnAction {
    pub const ALL: [ReturnAction; 6] = [
        ReturnAction::Approve,
        ReturnAction::Reject,
        ReturnAction::SendLabel,
        ReturnAction::Receive,
        ReturnAction::Refund,
        ReturnAction::Exchange,
    ];

    /// The path segment and name: `approve`, `send_label`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnAction::Approve => "approve",
            ReturnAction::Reject => "reject",
            ReturnAction::SendLabel => "send_label",
            ReturnAction::Receive => "receive",
            ReturnAction::Refund => "refund",
            ReturnAction::Exchange => "exchange",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    fn target(self) -> ReturnState {
        match self {
            ReturnAction::Approve => ReturnState::Approved,
            ReturnAction::Reject => ReturnState::Rejected,
            ReturnAction::SendLabel => ReturnState::LabelSent,
            ReturnAction::Receive => ReturnState::Received,
            ReturnAction::Refund => ReturnState::Refunded,
            ReturnAction::Exchange => ReturnState::Exchanged,
        }
    }
}

/// A transition the return's state does not allow; names the ones it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} return cannot {}; allowed: {}", from.as_str(), action.as_str(), allowed_list(*from))]
pub struct TransitionError {
    pub from: ReturnState,
    pub action: ReturnAction,
}

fn allowed_list(state: ReturnState) -> String {
    let names: Vec<&str> = state.allowed().iter().map(|a| a.as_str()).collect();
    if names.is_empty() { "nothing (it is finished)".to_owned() } else { names.join(", ") }
}

/// One return (or exchange) of one order line; kept on its ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnCase {
    pub order: String,
    pub line: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub damaged: bool,
    /// Photos attached to the request.
    #[serde(default)]
    pub evidence: usize,
    pub state: ReturnState,
    pub requested_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// The shop's refund status as last read back (e.g. `refunded`, `partially_refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_status: Option<String>,
}

impl ReturnCase {
    /// Moves to the state `action` leads to, if allowed; the event that records it.
    pub fn apply(
        &mut self,
        action: ReturnAction,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<EventKind, TransitionError> {
        if !self.state.allowed().contains(&action) {
            return Err(TransitionError { from: self.state, action });
        }
        self.state = action.target();
        self.updated_at = now;
        let order = self.order.clone();
        Ok(match action {
            ReturnAction::Approve => EventKind::ReturnApproved { order },
            ReturnAction::Reject => {
                let reason = reason.unwrap_or("rejected").to_owned();
                self.rejection = Some(reason.clone());
                EventKind::ReturnRejected { order, reason }
            }
            ReturnAction::SendLabel => EventKind::ReturnLabelSent { order },
            ReturnAction::Receive => EventKind::ReturnReceived { order },
            ReturnAction::Refund => EventKind::Refunded { order },
            ReturnAction::Exchange => EventKind::Exchanged { order },
        })
    }
}

/// Why a return request is refused, naming the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefusal {
    #[error("order {0} has no line {1}")]
    UnknownLine(String, String),
    #[error("order {0} has not been delivered yet: returns open on delivery")]
    NotDelivered(String),
    #[error(
        "returns are accepted within {window} days of delivery; order {order} was delivered {days} days ago"
    )]
    OutsideWindow { order: String, window: u32, days: i64 },
    #[error("{category} items cannot be returned")]
    NotReturnable { category: String },
    #[error("a damaged item needs at least one photo attached")]
    EvidenceRequired,
    #[error("order {0} already has a return on this ticket")]
    AlreadyReturning(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRules {
    pub window_days: u32,
    /// Lower-cased product categories.
    pub non_returnable: BTreeSet<String>,
    pub damage_needs_photos: bool,
    /// Business minutes to approve or reject a request.
    pub approve_within_minutes: Option<u32>,
    /// Business minutes from the item's receipt to the refund or exchange.
    pub refund_within_minutes: Option<u32>,
}

impl Default for ReturnRules {
    fn default() -> Self {
        Self {
            window_days: 30,
            non_returnable: BTreeSet::new(),
            damage_needs_photos: true,
            approve_within_minutes: Some(8 * 60),
            refund_within_minutes: Some(3 * 8 * 60),
        }
    }
}

/// A request to return one line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRequest<'a> {
    pub line: &'a str,
    pub reason: &'a str,
    pub damaged: bool,
    pub photos: usize,
}

impl ReturnRules {
    /// Checks `request` against the rules; the return it opens.
    pub fn open(
        &self,
        order: &Order,
        request: &ReturnRequest<'_>,
        now: Timestamp,
    ) -> Result<ReturnCase, ReturnRefusal> {
        let line = order
            .line(request.line)
            .ok_or_else(|| ReturnRefusal::UnknownLine(order.name.clone(), request.line.to_owned()))?;
        let delivered =
            order.delivered_at().ok_or_else(|| ReturnRefusal::NotDelivered(order.name.clone()))?;
        let days = now.duration_since(delivered).as_secs() / 86_400;
        if days > i64::from(self.window_days) {
            return Err(ReturnRefusal::OutsideWindow {
                order: order.name.clone(),
                window: self.window_days,
                days,
            });
        }
        if let Some(category) = line.category.as_deref().map(str::to_lowercase)
            && self.non_returnable.contains(&category)
        {
            return Err(ReturnRefusal::NotReturnable { category });
        }
        if request.damaged && self.damage_needs_photos && request.photos == 0 {
            return Err(ReturnRefusal::EvidenceRequired);
        }
        Ok(ReturnCase {
            order: order.name.clone(),
            line: line.id.clone(),
            reason: request.reason.to_owned(),
            damaged: request.damaged,
            evidence: request.photos,
            state: ReturnState::Requested,
            requested_at: now,
            updated_at: now,
            rejection: None,
            refund_status: None,
        })
    }

    /// The SLA target of the step a return is in, if that step has one.
    pub fn step_target(&self, state: ReturnState) -> Option<u32> {
        match state {
            ReturnState::Requested => self.approve_within_minutes,
            ReturnState::Received => self.refund_within_minutes,
            _ => None,
        }
    }
}

impl fmt::Display for ReturnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
