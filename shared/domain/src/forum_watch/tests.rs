use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::inbound::Sender;
use crate::sla::{BUSINESS_CALENDAR, SlaConfig};
use crate::social::SocialSource;

fn post(id: &str, text: &str, at: Timestamp) -> InboundMessage {
    InboundMessage {
        idempotency_key: format!("social:forum:forum:{id}"),
        source: Source::Social(SocialSource {
            platform: crate::social::Platform::Forum,
            account: "forum".into(),
            user: "12".into(),
            conversation: "77".into(),
            message_id: id.into(),
            union_id: None,
            event: None,
            staff: false,
        }),
        sender: Sender::default(),
        text: text.into(),
        attachments: Vec::new(),
        sent_at: Some(at),
        received_at: at,
    }
}

fn rules(hours: u64) -> ForumRules {
    let policies = SlaConfig::default().validate().unwrap();
    let calendar = policies.named_calendar(BUSINESS_CALENDAR).unwrap().clone();
    let delay = ForumDelay { calendar, delay: Duration::from_secs(hours * 3600) };
    ForumRules { forums: HashMap::from([("forum:forum".to_owned(), delay)]) }
}

#[test]
fn a_question_on_friday_evening_is_due_after_the_next_business_days_hours() {
    // Friday 2026-12-11 19:00 in Shanghai, after the business calendar's 18:00 close.
    let asked: Timestamp = "2026-12-11T11:00:00Z".parse().unwrap();
    let question = rules(2).open(&post("1", "Where is it?", asked), asked).unwrap();
    // Monday 09:00 + 2 business hours = 11:00 Shanghai.
    assert_eq!(question.due_at, Some("2026-12-14T03:00:00Z".parse().unwrap()));
    assert_eq!(question.state, QuestionState::Waiting);
}

#[test]
fn a_forum_without_a_delay_does_not_wait() {
    let at: Timestamp = "2026-12-11T03:00:00Z".parse().unwrap();
    assert!(rules(0).open(&post("1", "x", at), at).is_none());
    assert!(ForumRules::default().open(&post("1", "x", at), at).is_none());
}

#[test]
fn a_pending_question_keeps_a_bounded_number_of_posts() {
    let at: Timestamp = "2026-12-11T03:00:00Z".parse().unwrap();
    let mut question = rules(2).open(&post("0", "q", at), at).unwrap();
    for i in 1..MAX_PENDING_POSTS {
        assert!(question.keep(&post(&i.to_string(), "more", at)));
    }
    assert!(!question.keep(&post("late", "one too many", at)));
    assert!(question.holds(&post("3", "", at)));
    let mut big = rules(2).open(&post("0", "q", at), at).unwrap();
    assert!(!big.keep(&post("1", &"x".repeat(MAX_PENDING_TEXT_BYTES), at)));
}

#[test]
fn the_due_message_of_a_question_has_one_key_however_often_it_is_made() {
    let at: Timestamp = "2026-12-11T03:00:00Z".parse().unwrap();
    let mut question = rules(2).open(&post("1", "q", at), at).unwrap();
    let first = due_message(&question).unwrap();
    question.keep(&post("2", "me too", at));
    let again = due_message(&question).unwrap();
    assert_eq!(first.idempotency_key, again.idempotency_key);
    assert_eq!(first.idempotency_key, "forum-due:forum:forum:77");
    assert!(is_due_message(&first));
    assert!(!is_due_message(&post("1", "q", at)));
}
