//! Items to and from the domain's types (serde_dynamo), and the few attributes read by hand.
//! Anything that does not read back as it should is `StoreError::Corrupt`, never a panic.

use std::fmt::Display;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use omnidesk_domain::ports::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::{Item, PK, SK};
use crate::errors::corrupt;

/// The item body of a value (keys are added by the caller).
pub(crate) fn encode<T: Serialize>(what: impl Display, value: &T) -> Result<Item, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(value).map_err(|e| corrupt(what, e))
}

pub(crate) fn encode_value<T: Serialize>(
    what: impl Display,
    value: &T,
) -> Result<AttributeValue, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value).map_err(|e| corrupt(what, e))
}

/// The value an item holds; its keys are not part of it.
pub(crate) fn decode<T: DeserializeOwned>(what: impl Display, mut item: Item) -> Result<T, StoreError> {
    item.remove(PK);
    item.remove(SK);
    // serde_dynamo panics on attribute types it does not know (the SDK's `Unknown`, for types
    // DynamoDB may add later); refuse those first so no stored item can crash a function.
    if item.values().any(has_unknown_type) {
        return Err(corrupt(what, "attribute of an unknown type"));
    }
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| corrupt(what, e))
}

fn has_unknown_type(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::M(map) => map.values().any(has_unknown_type),
        AttributeValue::L(list) => list.iter().any(has_unknown_type),
        AttributeValue::S(_)
        | AttributeValue::N(_)
        | AttributeValue::B(_)
        | AttributeValue::Bool(_)
        | AttributeValue::Null(_)
        | AttributeValue::Ss(_)
        | AttributeValue::Ns(_)
        | AttributeValue::Bs(_) => false,
        _ => true,
    }
}

pub(crate) fn string_attr(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn number_attr(value: impl Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute that must be there.
pub(crate) fn read_string<'a>(item: &'a Item, name: &str, what: impl Display) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        Some(_) => Err(corrupt(what, format_args!("attribute {name} is not a string"))),
        None => Err(corrupt(what, format_args!("attribute {name} is missing"))),
    }
}

/// A whole, non-negative number attribute that must be there.
pub(crate) fn read_u64(item: &Item, name: &str, what: impl Display) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => {
            value.parse().map_err(|_| corrupt(what, format_args!("attribute {name} is not a whole number")))
        }
        Some(_) => Err(corrupt(what, format_args!("attribute {name} is not a number"))),
        None => Err(corrupt(what, format_args!("attribute {name} is missing"))),
    }
}

/// An instant as exact epoch seconds, e.g. `1790000000` or `1790000000.25`: a DynamoDB number,
/// so conditions can compare it with `<=`, and exact to the nanosecond, so a lease or expiry
/// ends at the same instant as in the in-memory store.
pub(crate) fn epoch_seconds(at: Timestamp) -> AttributeValue {
    let nanos = at.as_nanosecond();
    let sign = if nanos < 0 { "-" } else { "" };
    let whole = nanos.unsigned_abs() / 1_000_000_000;
    let fraction = nanos.unsigned_abs() % 1_000_000_000;
    let text = if fraction == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{fraction:09}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    };
    AttributeValue::N(text)
}

/// Whole epoch seconds, rounded up: DynamoDB's TTL attribute must be a whole number, and
/// rounding up never deletes a record before it has expired.
pub(crate) fn ttl_seconds(at: Timestamp) -> AttributeValue {
    let whole = at.as_second();
    let rounded = if at.subsec_nanosecond() > 0 { whole.saturating_add(1) } else { whole };
    AttributeValue::N(rounded.to_string())
}

/// Reads back what [`epoch_seconds`] wrote (also accepting whole numbers written by others).
pub(crate) fn read_epoch_seconds(
    item: &Item,
    name: &str,
    what: impl Display,
) -> Result<Timestamp, StoreError> {
    let bad = |why: &str| corrupt(&what, format_args!("attribute {name} {why}"));
    let text = match item.get(name) {
        Some(AttributeValue::N(text)) => text.as_str(),
        Some(_) => return Err(bad("is not a number")),
        None => return Err(bad("is missing")),
    };
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("is not in epoch seconds"));
    }
    let whole: i128 = whole.parse().map_err(|_| bad("is not in epoch seconds"))?;
    let fraction: i128 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().map_err(|_| bad("is malformed"))?
    };
    let magnitude = whole * 1_000_000_000 + fraction;
    let nanos = if negative { -magnitude } else { magnitude };
    Timestamp::from_nanosecond(nanos).map_err(|_| bad("is out of range"))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use omnidesk_domain::{
        Actor, AttachmentRef, AuthorKind, Channel, ChannelRef, Customer, CustomerId, Direction, EventKind,
        Identity, Message, MessageFlag, MessageId, Priority, Status, Ticket, TicketEvent, TicketNumber,
        Visibility,
    };

    use super::*;

    fn at(second: i64, nanos: i32) -> Timestamp {
        Timestamp::new(second, nanos).unwrap()
    }

    /// Items a deployed table holds from before channels named their platform: the ticket
    /// says `social`, its message `social` with a `platform` field. They still read.
    #[test]
    fn a_social_ticket_and_message_stored_before_channels_named_their_platform_still_read() {
        let customer = CustomerId::new("cus_1");
        let (mut ticket, _) = Ticket::open(
            TicketNumber(7),
            Channel::Wechat,
            "订单".into(),
            customer,
            None,
            at(1_790_000_000, 0),
        );
        ticket.version = 1;
        let mut item = encode("test", &ticket).unwrap();
        assert_eq!(item.get("channel"), Some(&AttributeValue::S("wechat".into())));
        item.insert("channel".into(), AttributeValue::S("social".into()));
        let old: Ticket = decode("test", item).unwrap();
        assert_eq!(old.channel, Channel::Social);
        assert!(old.channel.is_social());

        let message = Message {
            id: MessageId::new("msg_1"),
            ticket: TicketNumber(7),
            direction: Direction::Inbound,
            author: AuthorKind::Customer,
            author_id: Some("cus_1".into()),
            visibility: Visibility::Public,
            text: "你好".into(),
            attachments: Vec::new(),
            channel_ref: ChannelRef::Social {
                platform: omnidesk_domain::social::Platform::Wechat,
                account: "shop".into(),
                conversation: "oUser".into(),
                message_id: "6054768590064713728".into(),
            },
            created_at: at(1_790_000_000, 0),
            flags: BTreeSet::new(),
        };
        let mut item = encode("test", &message).unwrap();
        let Some(AttributeValue::M(reference)) = item.get_mut("channel_ref") else { panic!("a map") };
        assert_eq!(reference.get("channel"), Some(&AttributeValue::S("wechat".into())));
        assert!(!reference.contains_key("platform"), "the channel names the platform");
        reference.insert("channel".into(), AttributeValue::S("social".into()));
        reference.insert("platform".into(), AttributeValue::S("wechat".into()));
        let old: Message = decode("test", item).unwrap();
        assert_eq!(old, message);
    }

    fn roundtrip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let item = encode("test", &value).unwrap();
        let back: T = decode("test", item).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn domain_types_survive_an_item_roundtrip() {
        let customer = CustomerId::new("cus_1");
        roundtrip(Ticket {
            number: TicketNumber(1042),
            status: Status::OnHold,
            priority: Priority::Urgent,
            channel: Channel::Email,
            subject: "Where is my parcel?".into(),
            subject_at: Some(Timestamp::from_second(1_789_999_000).unwrap()),
            requester: customer.clone(),
            team: Some("tier1".into()),
            assignee: None,
            tags: BTreeSet::from(["vip".to_owned(), "delivery".to_owned()]),
            category: None,
            follow_up_of: Some(TicketNumber(1000)),
            reply_token: None,
            cc: Default::default(),
            created_at: at(1_790_000_000, 123),
            updated_at: at(1_790_000_100, 0),
            solved_at: None,
            closed_at: None,
            skills: Default::default(),
            language: None,
            merged_into: None,
            merged_from: BTreeSet::from([TicketNumber(1001)]),
            erased_at: None,
            missed_calls: Vec::new(),
            version: 7,
            sla: Default::default(),
            due_at: None,
            survey: None,
            bot: None,
            order: None,
        });
        roundtrip(Message {
            id: MessageId::new("msg_1"),
            ticket: TicketNumber(1042),
            direction: Direction::Inbound,
            author: AuthorKind::Customer,
            author_id: Some("cus_1".into()),
            visibility: Visibility::Public,
            text: "hello".into(),
            attachments: vec![AttachmentRef {
                key: "a/b".into(),
                name: "b.pdf".into(),
                content_type: "image/png".into(),
                size: 12,
                content_id: Some("logo@x".into()),
                inline: true,
                quarantined: true,
            }],
            channel_ref: ChannelRef::Email {
                message_id: "<m@x>".into(),
                in_reply_to: None,
                references: Vec::new(),
                mailbox: Some("support@desk.example".into()),
                language: None,
                raw_key: Some("inbound/abc".into()),
            },
            created_at: at(1_790_000_000, 5),
            flags: [MessageFlag::ThirdParty, MessageFlag::Unauthenticated].into(),
        });
        let kinds = [
            EventKind::Created { channel: Channel::Chat, requester: customer.clone(), follow_up_of: None },
            EventKind::MessageOut { message: MessageId::new("msg_2"), internal: true },
            EventKind::Status { from: Status::New, to: Status::Open },
            EventKind::Assigned { from: None, to: Some("li".into()) },
            EventKind::SurveySent { channel: None, team: None, agent: None },
            EventKind::SurveyAnswered {
                score: 5,
                channel: None,
                team: None,
                agent: None,
                previous: None,
                follow_up: None,
            },
            EventKind::Merged { into: TicketNumber(7) },
            EventKind::Cc { added: 2, removed: 1 },
        ];
        for (seq, kind) in kinds.into_iter().enumerate() {
            roundtrip(TicketEvent {
                ticket: TicketNumber(1042),
                seq: seq as u64 + 1,
                at: at(1_790_000_000, 0),
                actor: if seq % 2 == 0 { Actor::System } else { Actor::Agent("li".into()) },
                kind,
            });
        }
        let mut with_hints = Customer::new(
            customer,
            Some("Li Wei".into()),
            vec![
                Identity::Email { address: "li@example.com".into() },
                Identity::ChatVisitor { inbox: "web".into(), visitor: "v1".into() },
            ],
            at(1_790_000_000, 0),
        );
        with_hints.unverified = vec![Identity::Phone { number: "+8613800138000".into() }];
        roundtrip(with_hints);
    }

    #[test]
    fn epoch_seconds_are_exact_and_read_back() {
        for instant in
            [at(1_790_000_000, 0), at(1_790_000_000, 250_000_000), at(1_790_000_000, 1), at(-5, -1)]
        {
            let item = HashMap::from([("t".to_owned(), epoch_seconds(instant))]);
            assert_eq!(read_epoch_seconds(&item, "t", "test").unwrap(), instant);
        }
        assert_eq!(epoch_seconds(at(1_790_000_000, 250_000_000)), AttributeValue::N("1790000000.25".into()));
        assert_eq!(epoch_seconds(at(1_790_000_000, 0)), AttributeValue::N("1790000000".into()));
    }

    #[test]
    fn ttl_rounds_up_to_whole_seconds() {
        assert_eq!(ttl_seconds(at(1_790_000_000, 0)), AttributeValue::N("1790000000".into()));
        assert_eq!(ttl_seconds(at(1_790_000_000, 1)), AttributeValue::N("1790000001".into()));
    }

    #[test]
    fn malformed_attributes_are_corrupt_not_panics() {
        let item = HashMap::from([
            ("t".to_owned(), AttributeValue::N("12.3.4".into())),
            ("s".to_owned(), AttributeValue::N("1".into())),
            ("n".to_owned(), AttributeValue::N("-1".into())),
        ]);
        assert!(matches!(read_epoch_seconds(&item, "t", "x"), Err(StoreError::Corrupt(_))));
        assert!(matches!(read_string(&item, "s", "x"), Err(StoreError::Corrupt(_))));
        assert!(matches!(read_u64(&item, "n", "x"), Err(StoreError::Corrupt(_))));
        assert!(matches!(read_u64(&item, "missing", "x"), Err(StoreError::Corrupt(_))));
    }
}
