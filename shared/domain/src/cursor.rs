//! List cursors as the desk hands them out: the store's own position (a DynamoDB key, or the
//! memory store's place), signed with HMAC-SHA-256 and bound to the list that made it. A
//! cursor is the client's text: unsigned, one could page another index with a key of its
//! choosing, and a cursor from one list fed to another made DynamoDB fail (a 500). Signed and
//! bound, a tampered cursor or one used with another filter or view is refused as malformed
//! (400) before any store sees it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::query::{QueryError, TicketFilter};

/// Separates the store's position from the signature; neither store's position contains it.
const SEPARATOR: char = '.';

/// The key cursors are signed with. The same on every instance of the desk (derived from a
/// configured secret), so a cursor from one Lambda container works on the next.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    /// A key for cursors only, derived from `secret` (so a secret shared with another use
    /// signs nothing but cursors here).
    pub fn derive(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"omnidesk list cursor v1\0");
        hasher.update(secret);
        Self(hasher.finalize().into())
    }

    /// The cursor handed to the client for the store's `position` in the list `filter` made.
    pub fn seal(&self, filter: &TicketFilter, position: &str) -> String {
        let tag = hex::encode(self.mac(filter, position).finalize().into_bytes());
        format!("{position}{SEPARATOR}{tag}")
    }

    /// The store's position, if `cursor` is one [`CursorKey::seal`] made for this very list.
    pub fn open<'c>(&self, filter: &TicketFilter, cursor: &'c str) -> Result<&'c str, QueryError> {
        let (position, tag) = cursor.rsplit_once(SEPARATOR).ok_or(QueryError::BadCursor)?;
        let tag = hex::decode(tag).map_err(|_| QueryError::BadCursor)?;
        // verify_slice compares in constant time.
        self.mac(filter, position).verify_slice(&tag).map_err(|_| QueryError::BadCursor)?;
        Ok(position)
    }

    fn mac(&self, filter: &TicketFilter, position: &str) -> Hmac<Sha256> {
        // Any 32-byte key is a valid HMAC key.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        // Length-prefixed, so no two (binding, position) pairs sign the same bytes.
        let binding = filter.binding();
        mac.update(&(binding.len() as u64).to_be_bytes());
        mac.update(binding.as_bytes());
        mac.update(position.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::query::AssigneeFilter;

    fn team(team: &str) -> TicketFilter {
        TicketFilter { team: Some(team.into()), ..TicketFilter::default() }
    }

    #[test]
    fn input_hygiene_cursors_open_only_on_the_list_that_made_them() {
        let key = CursorKey::derive(b"0123456789abcdef");
        let cursor = key.seal(&team("frontline"), "1790000000000000000_7");
        assert_eq!(key.open(&team("frontline"), &cursor), Ok("1790000000000000000_7"));

        let other_filters = [
            team("complaints"),
            TicketFilter { status: Some(Status::New), ..team("frontline") },
            TicketFilter { assignee: Some(AssigneeFilter::Unassigned), ..team("frontline") },
            TicketFilter { status: Some(Status::New), ..TicketFilter::default() },
        ];
        for filter in other_filters {
            assert_eq!(key.open(&filter, &cursor), Err(QueryError::BadCursor), "{filter:?}");
        }
        assert_eq!(
            CursorKey::derive(b"another secret!!").open(&team("frontline"), &cursor),
            Err(QueryError::BadCursor)
        );
        let forged = cursor.replacen("_7", "_8", 1);
        for bad in [forged.as_str(), "zz", "", ".", "1790000000000000000_7", "x.zz"] {
            assert_eq!(key.open(&team("frontline"), bad), Err(QueryError::BadCursor), "{bad}");
        }
    }

    #[test]
    fn the_breaching_soon_horizon_moves_with_the_clock_without_breaking_its_cursors() {
        let key = CursorKey::derive(b"0123456789abcdef");
        let at = |s| Some(jiff::Timestamp::from_second(s).unwrap());
        let first = TicketFilter { due_before: at(1_790_003_600), ..team("frontline") };
        let next = TicketFilter { due_before: at(1_790_003_660), ..team("frontline") };
        let cursor = key.seal(&first, "p");
        assert_eq!(key.open(&next, &cursor), Ok("p"));
        assert_eq!(key.open(&team("frontline"), &cursor), Err(QueryError::BadCursor));
    }
}
