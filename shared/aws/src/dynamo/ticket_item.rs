//! A ticket as a table item, kept small: every ticket write costs one write unit per KB
//! started, so attributes that
//! say nothing are left out, and times are stored as whole nanoseconds since the epoch (a
//! number of about 11 bytes, where the RFC 3339 text takes 30). Reading back gives the same
//! ticket: an absent attribute reads as the field's default (`None`, empty, zero, false), and
//! a time stored as text by an older version still reads.
//!
//! Only the stored form changes; the API shows the ticket with every field.

use std::fmt::Display;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use omnidesk_domain::Ticket;
use omnidesk_domain::ports::StoreError;

use super::codec::{decode, encode};
use super::keys::Item;
use crate::errors::corrupt;

/// Timer fields whose zero or `false` the model reads back as its default.
const TIMER_DEFAULTS: [&str; 3] = ["cycle", "paused_seconds", "warned"];
/// The ticket's times, stored as numbers.
const TICKET_TIMES: [&str; 7] =
    ["subject_at", "created_at", "updated_at", "solved_at", "closed_at", "erased_at", "due_at"];
const SLA_TIMES: [&str; 1] = ["first_replied_at"];
const TIMER_TIMES: [&str; 6] = ["started_at", "paused_at", "due_at", "warn_at", "breached_at", "met_at"];

/// The ticket's attributes (without keys and index attributes), compact.
pub(crate) fn ticket_item(ticket: &Ticket) -> Result<Item, StoreError> {
    let what = format!("ticket {}", ticket.number);
    let mut item = encode(&what, ticket)?;
    convert_times(&mut item, |value| to_number(&what, value))?;
    if let Some(timers) = timers_mut(&mut item) {
        for fields in timers {
            fields.retain(|name, value| !(TIMER_DEFAULTS.contains(&name.as_str()) && is_zero(value)));
        }
    }
    item.retain(|_, value| !is_empty(value));
    Ok(item)
}

/// The ticket an item holds, its keys and index attributes ignored.
pub(crate) fn read_ticket(what: impl Display, mut item: Item) -> Result<Ticket, StoreError> {
    times_as_text(&what, &mut item)?;
    decode(what, item)
}

/// Turns the stored times of a ticket item (or of part of one, an index entry) back into
/// the text the model reads.
pub(crate) fn times_as_text(what: &impl Display, item: &mut Item) -> Result<(), StoreError> {
    convert_times(item, |value| to_text(what, value))
}

/// Applies `convert` to every time attribute of the ticket, its SLA state and its timers.
fn convert_times(
    item: &mut Item,
    convert: impl Fn(&mut AttributeValue) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let in_map = |map: &mut Item, names: &[&str]| -> Result<(), StoreError> {
        for name in names {
            if let Some(value) = map.get_mut(*name) {
                convert(value)?;
            }
        }
        Ok(())
    };
    in_map(item, &TICKET_TIMES)?;
    if let Some(AttributeValue::M(sla)) = item.get_mut("sla") {
        in_map(sla, &SLA_TIMES)?;
    }
    if let Some(timers) = timers_mut(item) {
        for fields in timers {
            in_map(fields, &TIMER_TIMES)?;
        }
    }
    Ok(())
}

/// The field maps of the stored SLA timers.
fn timers_mut(item: &mut Item) -> Option<impl Iterator<Item = &mut Item>> {
    let Some(AttributeValue::M(sla)) = item.get_mut("sla") else { return None };
    let Some(AttributeValue::L(timers)) = sla.get_mut("timers") else { return None };
    Some(timers.iter_mut().filter_map(|timer| match timer {
        AttributeValue::M(fields) => Some(fields),
        _ => None,
    }))
}

/// RFC 3339 text, as the model writes a time, to nanoseconds since the epoch.
fn to_number(what: &impl Display, value: &mut AttributeValue) -> Result<(), StoreError> {
    if let AttributeValue::S(text) = value {
        let at: Timestamp = text.parse().map_err(|e| corrupt(what, format_args!("time {text:?}: {e}")))?;
        *value = AttributeValue::N(at.as_nanosecond().to_string());
    }
    Ok(())
}

/// Back to the text the model reads; text (written by an older version) stays as it is.
fn to_text(what: &impl Display, value: &mut AttributeValue) -> Result<(), StoreError> {
    if let AttributeValue::N(number) = value {
        let at =
            number.parse::<i128>().ok().and_then(|nanos| Timestamp::from_nanosecond(nanos).ok()).ok_or_else(
                || corrupt(what, format_args!("time {number:?} is not nanoseconds since the epoch")),
            )?;
        *value = AttributeValue::S(at.to_string());
    }
    Ok(())
}

/// Null, or a list or set with nothing in it. An empty map is kept: it may be a state that
/// is there with every field at its default (`bot`, `survey`, `order`), which must not read
/// back as no state at all.
fn is_empty(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::Null(_) => true,
        AttributeValue::L(list) => list.is_empty(),
        AttributeValue::Ss(set) => set.is_empty(),
        _ => false,
    }
}

fn is_zero(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::N(number) => number == "0",
        AttributeValue::Bool(flag) => !flag,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use jiff::{SignedDuration, Timestamp};
    use omnidesk_domain::sla::{SlaState, Timer, TimerKind, TimerState};
    use omnidesk_domain::{Channel, CustomerId, Priority, Status, TicketNumber};

    use super::*;
    use crate::dynamo::capacity::item_size;
    use crate::dynamo::keys;
    use crate::dynamo::lists::add_list_attributes;
    use crate::dynamo::timers::index_ticket;

    /// DynamoDB's write unit.
    const WRITE_UNIT_BYTES: usize = 1024;

    /// A time with nanoseconds, as the system clock gives them.
    fn at(offset_seconds: i64) -> Timestamp {
        Timestamp::new(1_795_424_400 + offset_seconds, 123_456_789).unwrap()
    }

    fn timer(kind: TimerKind, minutes: u32) -> Timer {
        let due_at = at(i64::from(minutes) * 60);
        Timer {
            kind,
            cycle: 0,
            target_minutes: minutes,
            started_at: at(0),
            paused_seconds: 0,
            paused_at: None,
            due_at,
            warn_at: Some(due_at - SignedDuration::from_secs(i64::from(minutes) * 12)),
            state: TimerState::Running,
            warned: false,
            breached_at: None,
            met_at: None,
        }
    }

    /// A full-desk ticket: routed by a rule to a team and an agent, with skills, language,
    /// tags, a cc, a reply token and two running SLA timers.
    fn full_desk_ticket() -> Ticket {
        Ticket {
            number: TicketNumber(104_217),
            status: Status::Open,
            priority: Priority::Normal,
            channel: Channel::Email,
            subject: "Refund for order 2026-118842 has not arrived after three weeks".into(),
            subject_at: Some(at(-5)),
            requester: CustomerId::new("cus_01JEXAMPLE7Q2M9K4T8W6Z3Y5R"),
            team: Some("complaints".into()),
            assignee: Some("agent-017".into()),
            tags: ["refund".to_owned(), "vip".to_owned()].into(),
            category: Some("billing".into()),
            follow_up_of: None,
            reply_token: Some("t7Yq2kR9mW4xZp8L".into()),
            cc: ["partner.of.customer@example.com".to_owned()].into(),
            created_at: at(0),
            updated_at: at(42),
            solved_at: None,
            closed_at: None,
            skills: ["refunds".to_owned()].into(),
            language: Some("zh".into()),
            merged_into: None,
            merged_from: BTreeSet::new(),
            erased_at: None,
            missed_calls: Vec::new(),
            version: 3,
            sla: SlaState {
                policy: Some("normal-gold".into()),
                calendar: Some("shanghai".into()),
                customer_tier: Some("gold".into()),
                first_replied_at: None,
                timers: vec![timer(TimerKind::FirstReply, 30), timer(TimerKind::Resolution, 480)],
                outbox: Vec::new(),
            },
            due_at: Some(at(30 * 60 - 360)),
            survey: None,
            bot: None,
            order: None,
        }
    }

    /// The item as a commit writes it: attributes, index attributes and keys.
    fn stored(ticket: &Ticket) -> Item {
        let mut item = ticket_item(ticket).unwrap();
        add_list_attributes(&mut item, ticket);
        index_ticket(&mut item, ticket.number, ticket.due_at);
        keys::with_key(item, keys::ticket_pk(ticket.number), keys::TICKET_SK.to_owned())
    }

    #[test]
    fn a_typical_full_desk_ticket_item_fits_one_write_unit() {
        // 1,238 bytes stored as the model serializes it; 927 compact.
        let size = item_size(&stored(&full_desk_ticket()));
        assert!(size <= WRITE_UNIT_BYTES, "a full-desk ticket item is {size} bytes, over one write unit");
    }

    #[test]
    fn a_compact_ticket_item_reads_back_as_the_same_ticket() {
        let mut bare = full_desk_ticket();
        bare.team = None;
        bare.assignee = None;
        bare.tags.clear();
        bare.category = None;
        bare.reply_token = None;
        bare.cc.clear();
        bare.subject_at = None;
        bare.skills.clear();
        bare.language = None;
        bare.sla = SlaState::default();
        bare.due_at = None;
        let mut later = full_desk_ticket();
        later.sla.timers[0].cycle = 2;
        later.sla.timers[0].paused_seconds = 90;
        later.sla.timers[0].warned = true;
        later.merged_from = [TicketNumber(7)].into();
        later.follow_up_of = Some(TicketNumber(6));
        for ticket in [full_desk_ticket(), bare, later] {
            let read = read_ticket("ticket", stored(&ticket)).unwrap();
            assert_eq!(read, ticket);
        }
    }

    #[test]
    fn a_state_with_every_field_at_its_default_reads_back_as_present() {
        let mut ticket = full_desk_ticket();
        ticket.bot = Some(Default::default());
        ticket.survey = Some(Default::default());
        ticket.order = Some(Default::default());
        assert_eq!(read_ticket("ticket", stored(&ticket)).unwrap(), ticket);
    }

    #[test]
    fn times_are_stored_as_numbers_and_an_item_with_text_times_still_reads() {
        let ticket = full_desk_ticket();
        let item = ticket_item(&ticket).unwrap();
        assert_eq!(item["created_at"], AttributeValue::N(ticket.created_at.as_nanosecond().to_string()));
        let old =
            keys::with_key(encode("t", &ticket).unwrap(), keys::ticket_pk(ticket.number), "TICKET".into());
        assert_eq!(read_ticket("ticket", old).unwrap(), ticket);
        let mut bad = ticket_item(&ticket).unwrap();
        bad.insert("created_at".into(), AttributeValue::N("1e99".into()));
        assert!(matches!(read_ticket("ticket", bad), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn empty_and_default_attributes_are_not_stored() {
        let item = ticket_item(&full_desk_ticket()).unwrap();
        for absent in ["follow_up_of", "solved_at", "closed_at", "merged_into", "merged_from"] {
            assert!(!item.contains_key(absent), "{absent} is stored: {:?}", item.get(absent));
        }
        let Some(AttributeValue::M(sla)) = item.get("sla") else { panic!("sla is stored") };
        let Some(AttributeValue::L(timers)) = sla.get("timers") else { panic!("timers are stored") };
        for timer in timers {
            let AttributeValue::M(fields) = timer else { panic!("a timer is a map") };
            assert!(TIMER_DEFAULTS.iter().all(|name| !fields.contains_key(*name)), "{fields:?}");
        }
    }
}
