use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{CustomerId, Identity};

/// Unverified contact details kept per customer: a visitor typing a new address into every
/// chat must not grow the record without bound.
pub const MAX_UNVERIFIED: usize = 10;

/// One person, however many channels they write from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub identities: Vec<Identity>,
    /// Contact details the customer gave that nobody verified (typed into a chat form, the
    /// From of unauthenticated mail): shown to agents as unverified and offered for merging,
    /// never claimed, so they find no one.
    #[serde(default)]
    pub unverified: Vec<Identity>,
    /// e.g. `vip`; drives routing and SLA policies.
    pub tier: Option<String>,
    /// Email addresses of this customer that bounced: the desk sends them nothing automatic.
    #[serde(default)]
    pub bouncing: BTreeSet<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when this customer was merged into another: follow it.
    #[serde(default)]
    pub merged_into: Option<CustomerId>,
    /// Customers merged into this one: their records point here and are erased with it.
    #[serde(default)]
    pub merged_from: BTreeSet<CustomerId>,
    /// Set when the customer's personal data was erased.
    #[serde(default)]
    pub erased_at: Option<Timestamp>,
    pub version: u64,
}

impl Customer {
    pub fn new(id: CustomerId, name: Option<String>, identities: Vec<Identity>, at: Timestamp) -> Self {
        Self {
            id,
            name,
            identities,
            unverified: Vec::new(),
            tier: None,
            bouncing: BTreeSet::new(),
            created_at: at,
            updated_at: at,
            merged_into: None,
            merged_from: BTreeSet::new(),
            erased_at: None,
            version: 1,
        }
    }

    /// Keeps `hints` as unverified contact details, except those already known; `true` when
    /// anything was added. At most [`MAX_UNVERIFIED`] are kept, the earliest.
    pub fn add_unverified(&mut self, hints: &[Identity]) -> bool {
        let mut added = false;
        for hint in hints {
            if self.unverified.len() >= MAX_UNVERIFIED {
                break;
            }
            if !self.identities.contains(hint) && !self.unverified.contains(hint) {
                self.unverified.push(hint.clone());
                added = true;
            }
        }
        added
    }

    pub fn has(&self, identity: &Identity) -> bool {
        self.identities.contains(identity)
    }

    /// Whether mail to `address` (lower-cased) bounced.
    pub fn is_bouncing(&self, address: &str) -> bool {
        self.bouncing.contains(address)
    }
}
