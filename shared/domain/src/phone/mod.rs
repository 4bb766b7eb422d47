//! The phone channel (Amazon Connect): the caller lookup a contact flow asks for while the
//! phone rings ([`flow`]), and the contact events that turn each call into ticket history
//! ([`events`]). Missed calls become callbacks in the router (`router::phone`).

pub mod events;
pub mod flow;
pub mod ports;
mod rules;

pub use rules::{DEFAULT_CALLBACK_MINUTES, PhoneRules};

use crate::model::Identity;

/// What the phone network says about who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A number that parsed, in E.164.
    Number(String),
    /// No number, a withheld one (`anonymous`, `restricted`, …) or one that is not a valid
    /// phone number: nobody is looked up and no identity is claimed.
    Withheld,
}

impl Caller {
    /// Reads the caller id Connect passes on (`CustomerEndpoint.Address`), a number without
    /// a country code as one of `rules.default_region`.
    pub fn of(address: Option<&str>, rules: &PhoneRules) -> Self {
        match address.map(str::trim).filter(|a| !a.is_empty()) {
            Some(raw) => match Identity::phone_in(raw, rules.default_region) {
                Ok(Identity::Phone { number }) => Caller::Number(number),
                _ => Caller::Withheld,
            },
            None => Caller::Withheld,
        }
    }

    pub fn number(&self) -> Option<&str> {
        match self {
            Caller::Number(number) => Some(number),
            Caller::Withheld => None,
        }
    }
}

#[cfg(test)]
mod tests;
