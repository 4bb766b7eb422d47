use std::fmt;

use serde::{Deserialize, Serialize};

/// One way to recognise a customer. Each identity is claimed by at most one customer, so it is
/// always stored in its normalised form: the same person typed twice is the same identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    /// Lower-cased address.
    Email { address: String },
    /// E.164, e.g. `+8613800138000`.
    Phone { number: String },
    /// A chat provider's visitor id, scoped to the inbox that issued it.
    ChatVisitor { inbox: String, visitor: String },
    /// A social network handle, e.g. `weibo` / `@shop_fan`.
    Social { network: String, handle: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("not a valid phone number")]
    InvalidPhone,
    #[error("must not be empty")]
    Empty,
}

/// Region assumed for phone numbers written without a country code; the desk serves
/// mainland China first.
const DEFAULT_PHONE_REGION: phonenumber::country::Id = phonenumber::country::Id::CN;

impl Identity {
    pub fn email(raw: &str) -> Result<Self, IdentityError> {
        let address = raw.trim().to_lowercase();
        let (local, domain) = address.split_once('@').ok_or(IdentityError::InvalidEmail)?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if valid { Ok(Self::Email { address }) } else { Err(IdentityError::InvalidEmail) }
    }

    pub fn phone(raw: &str) -> Result<Self, IdentityError> {
        Self::phone_in(raw, DEFAULT_PHONE_REGION)
    }

    /// A phone number in E.164, reading a number without a country code as one of `region`
    /// (the desk's `phone.default_region`).
    pub fn phone_in(raw: &str, region: phonenumber::country::Id) -> Result<Self, IdentityError> {
        let parsed = phonenumber::parse(Some(region), raw.trim()).map_err(|_| IdentityError::InvalidPhone)?;
        if !phonenumber::is_valid(&parsed) {
            return Err(IdentityError::InvalidPhone);
        }
        let number = parsed.format().mode(phonenumber::Mode::E164).to_string();
        Ok(Self::Phone { number })
    }

    pub fn chat_visitor(inbox: &str, visitor: &str) -> Result<Self, IdentityError> {
        if visitor.trim().is_empty() {
            return Err(IdentityError::Empty);
        }
        Ok(Self::ChatVisitor { inbox: inbox.to_owned(), visitor: visitor.to_owned() })
    }

    /// The key an identity is claimed under in a store.
    pub fn claim_key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email { address } => write!(f, "email:{address}"),
            Self::Phone { number } => write!(f, "phone:{number}"),
            Self::ChatVisitor { inbox, visitor } => write!(f, "chat:{inbox}:{visitor}"),
            Self::Social { network, handle } => write!(f, "social:{network}:{handle}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_to_lower_case() {
        assert_eq!(
            Identity::email("  Li.Wei@Example.COM ").unwrap(),
            Identity::Email { address: "li.wei@example.com".into() }
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in ["", "no-at", "a@b", "@example.com", "a b@example.com", "a@@example.com"] {
            assert_eq!(Identity::email(bad), Err(IdentityError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(
            Identity::phone("138 0013 8000").unwrap(),
            Identity::Phone { number: "+8613800138000".into() }
        );
        assert_eq!(
            Identity::phone("+1 (650) 253-0000").unwrap(),
            Identity::Phone { number: "+16502530000".into() }
        );
        assert_eq!(Identity::phone("12"), Err(IdentityError::InvalidPhone));
    }
}
