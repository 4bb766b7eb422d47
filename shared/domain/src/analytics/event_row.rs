//! One `ticket_events` row from one event, without personal data: customer ids become
//! pseudonyms, and fields that could hold what people wrote or ids from outside (message,
//! contact and job ids, reasons people typed, tag lists) are left out. A reason the desk
//! itself names from a fixed list (why the bot handed over, why a survey was skipped, a
//! return's category) is kept: deflection and handoff reports group by it. Any other field of
//! a new event kind flows into `details` as it is.

use serde_json::{Map, Value};

use super::pseudonym::Pseudonyms;
use super::rows::EventRow;
use crate::model::{Actor, EventKind, TicketEvent};

/// Fields never exported: ids from outside, free text, lists of what agents typed.
const DROPPED: [&str; 7] = ["message", "contact", "job", "jobs", "reason", "added", "removed"];

pub fn event_row(event: &TicketEvent, pseudonyms: &Pseudonyms) -> EventRow {
    let (actor_kind, actor) = match &event.actor {
        Actor::Customer(id) => ("customer", Some(pseudonyms.of(id.as_str()))),
        Actor::Agent(login) => ("agent", Some(login.clone())),
        Actor::System => ("system", None),
    };
    EventRow {
        ticket: i64::try_from(event.ticket.0).unwrap_or(i64::MAX),
        seq: i64::try_from(event.seq).unwrap_or(i64::MAX),
        at: event.at,
        event: event.kind.name().to_owned(),
        actor_kind: actor_kind.to_owned(),
        actor,
        details: details(&event.kind, pseudonyms),
    }
}

fn details(kind: &EventKind, pseudonyms: &Pseudonyms) -> String {
    let Ok(Value::Object(fields)) = serde_json::to_value(kind) else {
        return String::from("{}");
    };
    // Which fields hold customer ids: `requester` of `created`, both sides of `requester`.
    let customer_fields: &[&str] = match kind {
        EventKind::Created { .. } => &["requester"],
        EventKind::Requester { .. } => &["from", "to"],
        _ => &[],
    };
    // `cc` counts addresses; its `added`/`removed` are numbers and stay.
    let keep_counts = matches!(kind, EventKind::Cc { .. });
    // These reasons are the desk's words from a fixed list, never a person's.
    let keep_reason = matches!(
        kind,
        EventKind::BotHandoff { .. } | EventKind::SurveySkipped { .. } | EventKind::ReturnRequested { .. }
    );
    let mut out = Map::new();
    for (name, value) in fields {
        let kept = keep_counts || (keep_reason && name == "reason");
        if name == "type" || (DROPPED.contains(&name.as_str()) && !kept) {
            continue;
        }
        let value = match value {
            Value::String(id) if customer_fields.contains(&name.as_str()) => {
                Value::String(pseudonyms.of(&id))
            }
            Value::Array(_) | Value::Object(_) => continue,
            other => other,
        };
        out.insert(name, value);
    }
    Value::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::model::{Channel, CustomerId, MessageId, TicketNumber};

    fn event(kind: EventKind, actor: Actor) -> TicketEvent {
        TicketEvent { ticket: TicketNumber(7), seq: 1, at: Timestamp::UNIX_EPOCH, actor, kind }
    }

    #[test]
    fn event_rows_pseudonymise_customers_and_drop_ids_and_text() {
        let keys = Pseudonyms::new(b"0123456789abcdef");
        let customer = CustomerId::new("cus_alice");
        let created = event(
            EventKind::Created { channel: Channel::Chat, requester: customer.clone(), follow_up_of: None },
            Actor::Customer(customer.clone()),
        );
        let row = event_row(&created, &keys);
        assert_eq!(row.actor.as_deref(), Some(keys.of("cus_alice").as_str()));
        assert!(!row.details.contains("cus_alice"), "{}", row.details);
        assert!(row.details.contains("\"channel\":\"chat\""), "{}", row.details);

        let message = event(EventKind::MessageIn { message: MessageId::new("msg_secret") }, Actor::System);
        assert_eq!(event_row(&message, &keys).details, "{}");
        let escalated = event(
            EventKind::Escalated {
                from_team: None,
                to_team: Some("billing".into()),
                reason: "Alice said".into(),
            },
            Actor::Agent("bo".into()),
        );
        let row = event_row(&escalated, &keys);
        assert!(!row.details.contains("Alice"), "{}", row.details);
        assert!(row.details.contains("billing"));
    }

    #[test]
    fn a_bot_abandoned_row_keeps_its_intent_article_and_idle_minutes_for_deflection_queries() {
        let keys = Pseudonyms::new(b"0123456789abcdef");
        let abandoned = EventKind::BotAbandoned {
            intent: "question".into(),
            article: Some("return-policy".into()),
            idle_minutes: 1440,
        };
        let row = event_row(&event(abandoned, Actor::System), &keys);
        assert_eq!(row.event, "bot_abandoned");
        let details: Value = serde_json::from_str(&row.details).unwrap();
        assert_eq!(
            details,
            serde_json::json!({"intent": "question", "article": "return-policy", "idle_minutes": 1440})
        );
    }

    #[test]
    fn a_bot_handoff_row_keeps_its_reason_for_handoff_reports_but_an_escalation_reason_stays_out() {
        let keys = Pseudonyms::new(b"0123456789abcdef");
        let handoff = EventKind::BotHandoff {
            intent: "question".into(),
            reason: "not_helped".into(),
            article: Some("return-policy".into()),
        };
        let details: Value =
            serde_json::from_str(&event_row(&event(handoff, Actor::System), &keys).details).unwrap();
        assert_eq!(
            details,
            serde_json::json!({"intent": "question", "reason": "not_helped", "article": "return-policy"})
        );
        let skipped = EventKind::SurveySkipped { reason: "opted_out".into() };
        assert_eq!(event_row(&event(skipped, Actor::System), &keys).details, r#"{"reason":"opted_out"}"#);
        let rejected =
            EventKind::ReturnRejected { order: "#1001".into(), reason: "worn twice, said Bo".into() };
        let row = event_row(&event(rejected, Actor::Agent("bo".into())), &keys);
        assert!(!row.details.contains("worn"), "{}", row.details);
    }
}
