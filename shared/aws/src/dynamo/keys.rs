//! The single table's key layout. Every item has string keys `pk` and `sk`; a ticket, its
//! messages and its events share one partition so one Query reads a thread without a scan.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use omnidesk_domain::ports::{ThreadKey, key_digest};
use omnidesk_domain::{CustomerId, Identity, MessageId, TicketNumber};
use sha2::{Digest, Sha256};

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";

pub(crate) const TICKET_SK: &str = "TICKET";
pub(crate) const MESSAGE_PREFIX: &str = "M#";
pub(crate) const EVENT_PREFIX: &str = "E#";
pub(crate) const COUNTER_PK: &str = "COUNTER#ticket";
pub(crate) const COUNTER_SK: &str = "COUNTER";
pub(crate) const THREAD_SK: &str = "THREAD";
pub(crate) const CUSTOMER_SK: &str = "CUSTOMER";
pub(crate) const CLAIM_SK: &str = "ID";
pub(crate) const IDEMPOTENCY_SK: &str = "IDEM";
pub(crate) const RATE_SK: &str = "RATE";

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn ticket_pk(number: TicketNumber) -> String {
    format!("T#{}", number.0)
}

/// `M#<time>#<id>`: the time has a fixed width (nanoseconds always printed), so string order
/// is time order and a thread reads back oldest first; the id breaks ties.
pub(crate) fn message_sk(created_at: Timestamp, id: &MessageId) -> String {
    format!("{MESSAGE_PREFIX}{created_at:.9}#{id}")
}

/// `E#<seq>`, zero-padded so string order is `seq` order.
pub(crate) fn event_sk(seq: u64) -> String {
    format!("{EVENT_PREFIX}{seq:012}")
}

/// `THREAD#sha256:<hex>`: always the digest, so the table never holds a Message-ID or a
/// conversation id (see [`ThreadKey::digest`]).
pub(crate) fn thread_pk(key: &ThreadKey) -> String {
    format!("THREAD#{}", key.digest())
}

pub(crate) fn customer_pk(id: &CustomerId) -> String {
    format!("C#{id}")
}

pub(crate) fn claim_pk(identity: &Identity) -> String {
    bounded("ID#", &identity.claim_key())
}

/// `ID#sha256:<hex>`: where an erased identity's erasure time is kept (sort key `ERASED`),
/// always by digest, as the identity itself must not outlive the erasure.
pub(crate) fn erased_identity_pk(identity: &Identity) -> String {
    format!("ID#{}", key_digest(&identity.claim_key()))
}

/// `IDEM#sha256:<hex>`: always the digest, as an inbound message's key holds its Message-ID
/// (see [`omnidesk_domain::ports::key_digest`]).
pub(crate) fn idempotency_pk(key: &str) -> String {
    format!("IDEM#{}", key_digest(key))
}

/// `RATE#<sha256 of the key>`, always hashed: limiter keys name the limited party, e.g. the
/// sender's address for the cap on automatic mail, and keys must not hold personal data.
pub(crate) fn rate_pk(key: &str) -> String {
    format!("RATE#{}", sha256_hex(key))
}

/// Lower-case hex of the SHA-256 of `text`.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Longest outside-supplied text kept readable in a key. DynamoDB refuses partition keys
/// over 2048 bytes, and thread keys and idempotency keys come from mail headers a sender
/// controls; longer ones are replaced by their SHA-256, which keeps them distinct.
const MAX_READABLE_KEY_BYTES: usize = 512;

fn bounded(prefix: &str, raw: &str) -> String {
    if raw.len() <= MAX_READABLE_KEY_BYTES {
        format!("{prefix}{raw}")
    } else {
        format!("{prefix}sha256:{}", sha256_hex(raw))
    }
}

/// The primary key of one item, as GetItem / DeleteItem / UpdateItem want it.
pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), AttributeValue::S(pk)), (SK.to_owned(), AttributeValue::S(sk.to_owned()))])
}

/// Adds the primary key to an item body.
pub(crate) fn with_key(mut item: Item, pk: String, sk: String) -> Item {
    item.insert(PK.to_owned(), AttributeValue::S(pk));
    item.insert(SK.to_owned(), AttributeValue::S(sk));
    item
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(second: i64, nanos: i32) -> Timestamp {
        Timestamp::new(second, nanos).unwrap()
    }

    #[test]
    fn message_keys_sort_by_time_then_id() {
        let id = MessageId::new("msg_b");
        let times = [
            at(1_790_000_000, 0),
            at(1_790_000_000, 5),
            at(1_790_000_000, 100_000_000),
            at(1_790_000_001, 0),
            at(1_790_000_010, 999_999_999),
            at(1_800_000_000, 0),
        ];
        let keys: Vec<String> = times.iter().map(|t| message_sk(*t, &id)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "string order must be time order");

        let same_time = at(1_790_000_000, 0);
        assert!(message_sk(same_time, &MessageId::new("msg_a")) < message_sk(same_time, &id));
    }

    #[test]
    fn message_key_has_fixed_width_time() {
        let whole = message_sk(at(1_790_000_000, 0), &MessageId::new("msg_x"));
        let fraction = message_sk(at(1_790_000_000, 120_000_000), &MessageId::new("msg_x"));
        assert_eq!(whole.len(), fraction.len());
        assert_eq!(whole, "M#2026-09-21T14:13:20.000000000Z#msg_x");
        let later = jiff::Timestamp::from_second(1_790_000_000).unwrap() + Duration::from_millis(1);
        assert!(message_sk(later, &MessageId::new("msg_x")) > whole);
    }

    #[test]
    fn event_keys_sort_by_seq() {
        let seqs = [1_u64, 2, 9, 10, 11, 99, 100, 1_000, 123_456_789];
        let keys: Vec<String> = seqs.iter().map(|s| event_sk(*s)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(event_sk(7), "E#000000000007");
    }

    #[test]
    fn outside_keys_stay_within_dynamodb_limits() {
        let huge = "<".to_owned() + &"x".repeat(5_000) + "@example.com>";
        let hashed = idempotency_pk(&huge);
        assert!(hashed.starts_with("IDEM#sha256:") && hashed.len() < 100);
        assert_ne!(hashed, idempotency_pk(&(huge + " ")));
        let identity = Identity::Email { address: "x".repeat(5_000) + "@example.com" };
        assert!(claim_pk(&identity).starts_with("ID#sha256:"));
    }

    #[test]
    fn erased_identities_are_kept_as_digests_holding_no_address() {
        let identity = Identity::Email { address: "ana@customer.example".into() };
        let pk = erased_identity_pk(&identity);
        assert!(pk.starts_with("ID#sha256:") && !pk.contains("customer"), "{pk}");
    }

    #[test]
    fn idempotency_keys_are_stored_as_digests_holding_no_message_id() {
        let pk = idempotency_pk("email:abc@customer.example");
        assert!(pk.starts_with("IDEM#sha256:") && !pk.contains("customer"), "{pk}");
    }

    #[test]
    fn thread_keys_are_stored_as_digests_holding_no_message_id() {
        let pk = thread_pk(&ThreadKey::email_message("abc@customer.example"));
        assert!(pk.starts_with("THREAD#sha256:") && !pk.contains("customer"), "{pk}");
        assert_eq!(pk.len(), "THREAD#sha256:".len() + 64);
        assert_ne!(pk, thread_pk(&ThreadKey::email_message("abd@customer.example")));
    }

    #[test]
    fn rate_keys_hold_no_address() {
        let pk = rate_pk("auto-reply:ana@customer.example");
        assert!(!pk.contains('@') && !pk.contains("ana"), "{pk}");
        assert_eq!(pk.len(), "RATE#".len() + 64);
        assert_ne!(pk, rate_pk("auto-reply:ana@customer.example "));
    }

    #[test]
    fn kinds_of_item_never_share_a_key() {
        let identity = Identity::Email { address: "a@example.com".into() };
        let pks = [
            ticket_pk(TicketNumber(1)),
            thread_pk(&ThreadKey("chat:web:1".into())),
            customer_pk(&CustomerId::new("cus_1")),
            claim_pk(&identity),
            idempotency_pk("chat:web:1"),
            rate_pk("chat:web:1"),
            COUNTER_PK.to_owned(),
        ];
        let distinct: std::collections::HashSet<_> = pks.iter().map(|pk| pk.split('#').next()).collect();
        assert_eq!(distinct.len(), pks.len());
    }
}
