//! An order as the desk keeps it: what the customer bought, what was paid and refunded, and
//! where each parcel is. Adapters map the shop's words onto these; an unknown word becomes
//! `Other`, never an error.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::Identity;

/// A way the shop knows a customer: the contact details an order was placed with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Contact {
    /// Lower-cased.
    Email(String),
    /// E.164.
    Phone(String),
}

impl Contact {
    /// The verified identities a customer holds that a shop can look orders up by. Typed
    /// hints never count: they would show anyone's orders to whoever typed the address.
    pub fn of_identities<'a>(identities: impl IntoIterator<Item = &'a Identity>) -> Vec<Contact> {
        identities
            .into_iter()
            .filter_map(|identity| match identity {
                Identity::Email { address } => Some(Contact::Email(address.clone())),
                Identity::Phone { number } => Some(Contact::Phone(number.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Contact::Email(_) => "email",
            Contact::Phone(_) => "phone",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Contact::Email(v) | Contact::Phone(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinancialStatus {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    Unfulfilled,
    InProgress,
    Partial,
    Fulfilled,
    OnHold,
    Other,
}

/// Where a parcel is, in the carrier's words as Shopify lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    LabelPrinted,
    Confirmed,
    InTransit,
    OutForDelivery,
    AttemptedDelivery,
    ReadyForPickup,
    Delayed,
    Delivered,
    /// The carrier reports a failure or exception (lost, damaged, returned to sender).
    Failure,
    Other,
}

impl ShipmentStatus {
    /// Shopify's `shipment_status` / `FulfillmentDisplayStatus` word, any case.
    pub fn from_shop(word: &str) -> Self {
        match word.to_ascii_lowercase().as_str() {
            "label_printed" | "label_purchased" => Self::LabelPrinted,
            "confirmed" | "fulfilled" | "marked_as_fulfilled" | "submitted" => Self::Confirmed,
            "in_transit" | "carrier_picked_up" | "picked_up" => Self::InTransit,
            "out_for_delivery" => Self::OutForDelivery,
            "attempted_delivery" => Self::AttemptedDelivery,
            "ready_for_pickup" => Self::ReadyForPickup,
            "delayed" => Self::Delayed,
            "delivered" => Self::Delivered,
            "failure" | "not_delivered" | "returning_to_sender" | "exception" => Self::Failure,
            _ => Self::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The shop's line id: a return names it.
    pub id: String,
    pub title: String,
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The product type, which return rules match (e.g. `underwear`, `gift_card`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub status: ShipmentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    /// When the shop promised delivery (Shopify's `estimatedDeliveryAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The shop's own id (Shopify: `gid://shopify/Order/…`).
    pub id: String,
    /// What the customer sees, e.g. `#1001`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    pub financial: FinancialStatus,
    pub fulfillment: FulfillmentStatus,
    #[serde(default)]
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub shipments: Vec<Shipment>,
}

impl Order {
    /// Whether the order was placed with one of `contacts` (compared normalised).
    pub fn belongs_to(&self, contacts: &[Contact]) -> bool {
        contacts.iter().any(|contact| match contact {
            Contact::Email(address) => {
                self.email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(address))
            }
            Contact::Phone(number) => self.phone.as_deref().is_some_and(|p| same_phone(p, number)),
        })
    }

    /// Still on its way to the customer: not cancelled, not refunded, not all delivered.
    pub fn is_open(&self) -> bool {
        if self.cancelled || matches!(self.financial, FinancialStatus::Refunded | FinancialStatus::Voided) {
            return false;
        }
        self.shipments.is_empty() || self.shipments.iter().any(|s| s.status != ShipmentStatus::Delivered)
    }

    /// When the last parcel arrived, once all have.
    pub fn delivered_at(&self) -> Option<Timestamp> {
        if self.shipments.is_empty() || self.shipments.iter().any(|s| s.delivered_at.is_none()) {
            return None;
        }
        self.shipments.iter().filter_map(|s| s.delivered_at).max()
    }

    pub fn line(&self, id: &str) -> Option<&OrderLine> {
        self.lines.iter().find(|line| line.id == id)
    }

    /// The contact the shop would write to: its email, else its phone.
    pub fn contact(&self) -> Option<Contact> {
        if let Some(Identity::Email { address }) = self.email.as_deref().and_then(|e| Identity::email(e).ok())
        {
            return Some(Contact::Email(address));
        }
        self.phone.clone().map(Contact::Phone)
    }
}

fn same_phone(a: &str, b: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (a, b) = (digits(a), digits(b));
    !a.is_empty() && a == b
}

/// What a ticket knows of orders: the ones its messages named or the bot answered on, the
/// return it runs, if it is a return's ticket, and a customer's return request still
/// waiting for an order, an item or photos.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketOrder {
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub linked: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<super::ReturnCase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_return: Option<super::ReturnAsk>,
}
