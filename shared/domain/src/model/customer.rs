use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use super::{CustomerId, Identity};
use crate::system::later;

/// How long a bounce silences automatic mail to an address: mailboxes fill up and are
/// emptied, domains lapse and are renewed. Mail from the address ends the mark sooner.
pub const BOUNCE_MARK_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

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
    /// Email addresses of this customer that bounced, with when: for [`BOUNCE_MARK_TTL`] the
    /// desk sends them nothing automatic.
    #[serde(default, deserialize_with = "bounce_marks")]
    pub bouncing: BTreeMap<String, Timestamp>,
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
    /// The customer asked for no more satisfaction surveys (the link in every survey mail).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub survey_opt_out: bool,
    /// The last survey sent to this customer, for the cooldown between surveys. Claimed with a
    /// version-conditioned update before a survey goes out, so two senders cannot both send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_survey: Option<LastSurvey>,
    pub version: u64,
}

/// When the customer was last asked, and about which ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSurvey {
    pub at: Timestamp,
    pub ticket: super::TicketNumber,
}

impl Customer {
    pub fn new(id: CustomerId, name: Option<String>, identities: Vec<Identity>, at: Timestamp) -> Self {
        Self {
            id,
            name,
            identities,
            unverified: Vec::new(),
            tier: None,
            bouncing: BTreeMap::new(),
            created_at: at,
            updated_at: at,
            merged_into: None,
            merged_from: BTreeSet::new(),
            erased_at: None,
            survey_opt_out: false,
            last_survey: None,
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

    /// Whether mail to `address` (lower-cased) bounced less than [`BOUNCE_MARK_TTL`] ago.
    pub fn is_bouncing(&self, address: &str, now: Timestamp) -> bool {
        self.bouncing.get(address).is_some_and(|at| now < later(*at, BOUNCE_MARK_TTL))
    }
}

/// The marks, also from records written when a mark was a bare address: those carry no time
/// and came from bounces nobody checked, so they count as expired.
fn bounce_marks<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, Timestamp>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Marks {
        Timed(BTreeMap<String, Timestamp>),
        Bare(BTreeSet<String>),
    }
    Ok(match Marks::deserialize(deserializer)? {
        Marks::Timed(marks) => marks,
        Marks::Bare(addresses) => addresses.into_iter().map(|a| (a, Timestamp::UNIX_EPOCH)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_mark_expires_and_old_bare_marks_count_as_expired() {
        let at = Timestamp::from_second(1_800_000_000).unwrap();
        let mut customer = Customer::new(CustomerId::new("cus_1"), None, Vec::new(), at);
        customer.bouncing.insert("li@example.com".into(), at);
        assert!(customer.is_bouncing("li@example.com", at));
        assert!(customer.is_bouncing("li@example.com", later(at, BOUNCE_MARK_TTL - Duration::from_secs(1))));
        assert!(!customer.is_bouncing("li@example.com", later(at, BOUNCE_MARK_TTL)));

        let mut old = serde_json::to_value(&customer).unwrap();
        old["bouncing"] = serde_json::json!(["li@example.com"]);
        let old: Customer = serde_json::from_value(old).unwrap();
        assert!(!old.is_bouncing("li@example.com", at));
    }
}
