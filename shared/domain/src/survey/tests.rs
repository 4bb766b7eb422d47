//! The survey's rules on the in-memory twins with a manual clock: scheduling and drops,
//! tokens, the sender's cooldown, opt-out and race rules, the answer's replay safety and
//! follow-up.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::sender::WATERMARK;
use super::*;
use crate::envelope::open;
use crate::memory::{ManualClock, MemoryQueue, MemoryStore, QueueSettings, SequentialIds};
use crate::model::{Actor, Channel, ChannelRef, Customer, CustomerId, Identity, Message, MessageId, Status};
use crate::outbound::{Destination, OutboundJob};
use crate::ports::{CustomerStore, TicketCommit, TicketStore, Watermarks};
use crate::router::EmailRules;

const HOUR: Duration = Duration::from_secs(3600);

fn start() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

struct Desk {
    store: Arc<MemoryStore>,
    outbound: Arc<MemoryQueue>,
    clock: Arc<ManualClock>,
    rules: Arc<SurveyRules>,
    keys: TokenKeys,
}

impl Desk {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(start()));
        let outbound = Arc::new(MemoryQueue::new("outbound", clock.clone(), QueueSettings::default()));
        Self {
            store: Arc::new(MemoryStore::new()),
            outbound,
            clock,
            rules: Arc::new(SurveyRules::default()),
            keys: TokenKeys::new(b"survey-key-0123456789", None),
        }
    }

    fn sender(&self) -> SurveySender {
        let ports = SenderPorts {
            tickets: self.store.clone(),
            customers: self.store.clone(),
            watermarks: self.store.clone(),
            outbound: self.outbound.clone(),
            clock: self.clock.clone(),
        };
        SurveySender::new(
            ports,
            self.rules.clone(),
            self.keys.clone(),
            "https://help.example/",
            Some(EmailRules::default()),
        )
    }

    fn web(&self) -> SurveyDesk {
        let ports = SurveyPorts {
            tickets: self.store.clone(),
            customers: self.store.clone(),
            clock: self.clock.clone(),
            ids: Arc::new(SequentialIds::default()),
        };
        SurveyDesk::new(ports, self.rules.clone(), self.keys.clone())
    }

    async fn customer(&self, id: &str, email: &str) {
        let identity = Identity::email(email).unwrap();
        let customer = Customer::new(CustomerId::new(id), None, vec![identity], self.clock.now_ts());
        self.store.create(&customer).await.unwrap();
    }

    /// Opens ticket `number` by mail for `customer` and solves it now, as the agent desk does.
    async fn solved(&self, number: u64, customer: &str) {
        self.solved_on(number, customer, Channel::Email).await;
    }

    async fn solved_on(&self, number: u64, customer: &str, channel: Channel) {
        // Numbers from the counter, so a follow-up's number is fresh.
        assert_eq!(self.store.allocate_number().await.unwrap(), TicketNumber(number));
        let now = self.clock.now_ts();
        let (mut ticket, created) = Ticket::open(
            TicketNumber(number),
            channel,
            "Parcel".into(),
            CustomerId::new(customer),
            None,
            now,
        );
        let message = Message {
            id: MessageId::new(format!("m{number}")),
            ticket: TicketNumber(number),
            direction: crate::model::Direction::Inbound,
            author: crate::model::AuthorKind::Customer,
            author_id: Some(customer.into()),
            visibility: crate::model::Visibility::Public,
            text: "Where is it?".into(),
            attachments: Vec::new(),
            channel_ref: ChannelRef::Email {
                message_id: format!("in-{number}@mail.example"),
                in_reply_to: None,
                references: Vec::new(),
                mailbox: None,
                language: Some("zh".into()),
                raw_key: None,
            },
            created_at: now,
            flags: Default::default(),
        };
        let mut events = vec![created];
        events
            .extend(ticket.add_message(&Actor::Customer(CustomerId::new(customer)), &message, now).unwrap());
        events.extend(ticket.set_status(&Actor::Agent("li".into()), Status::Solved, now).unwrap());
        self.rules.apply(&mut ticket, &events);
        let commit = TicketCommit {
            ticket,
            expected_version: None,
            messages: vec![message],
            events,
            thread_claims: Vec::new(),
            idempotency: None,
        };
        self.store.commit(commit).await.unwrap();
    }

    async fn change(&self, number: u64, change: impl FnOnce(&mut Ticket) -> Vec<TicketEvent>) {
        let mut ticket = self.store.ticket(TicketNumber(number)).await.unwrap().unwrap();
        let expected = ticket.version;
        let events = change(&mut ticket);
        self.rules.apply(&mut ticket, &events);
        let commit = TicketCommit {
            ticket,
            expected_version: Some(expected),
            messages: Vec::new(),
            events,
            thread_claims: Vec::new(),
            idempotency: None,
        };
        self.store.commit(commit).await.unwrap();
    }

    fn jobs(&self) -> Vec<OutboundJob> {
        self.outbound.bodies().iter().map(|b| open::<OutboundJob>(b).unwrap()).collect()
    }

    async fn ticket(&self, number: u64) -> Ticket {
        self.store.ticket(TicketNumber(number)).await.unwrap().unwrap()
    }

    /// The token in the survey job of ticket `number`.
    fn token_of(&self, number: u64) -> String {
        let job = self.jobs().into_iter().find(|j| j.ticket == TicketNumber(number)).expect("a survey job");
        let form = job.survey.expect("links").form;
        form.rsplit('/').next().unwrap().to_owned()
    }
}

trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> Timestamp {
        crate::ports::Clock::now(self)
    }
}

#[tokio::test]
async fn solving_schedules_one_survey_on_the_due_index_after_the_delay() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    desk.solved(1, "c1").await;
    let ticket = desk.ticket(1).await;
    let due = crate::system::later(start(), HOUR * 24);
    assert_eq!(ticket.survey.as_ref().and_then(|s| s.due_at), Some(due));
    assert_eq!(ticket.due_at, Some(due), "the survey is on the due index");

    desk.clock.advance(HOUR * 23);
    let report = desk.sender().run().await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(desk.jobs().is_empty(), "nothing before the delay");

    desk.clock.advance(HOUR * 2);
    let report = desk.sender().run().await.unwrap();
    assert_eq!((report.sent, report.items_read), (1, 1), "{report:?}");
    let jobs = desk.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].id, OutboundJob::survey_id(TicketNumber(1)));
    let Destination::Email(mail) = &jobs[0].destination else { panic!("mail") };
    assert_eq!(mail.to, "li@example.com");
    assert_eq!(mail.language, "zh-CN", "the customer's language");
    assert!(mail.subject.contains("请评价"), "{}", mail.subject);
    let ticket = desk.ticket(1).await;
    assert_eq!(ticket.due_at, None, "off the due index once sent");
    let events = desk.store.events(TicketNumber(1)).await.unwrap();
    assert!(matches!(
        events.last().unwrap().kind,
        EventKind::SurveySent { channel: Some(Channel::Email), .. }
    ));

    // Again: nothing more.
    desk.clock.advance(HOUR);
    assert_eq!(desk.sender().run().await.unwrap().sent, 0);
    assert_eq!(desk.jobs().len(), 1);
}

#[tokio::test]
async fn three_tickets_of_one_customer_solved_in_a_day_get_one_survey() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    let sender = desk.sender();
    let (mut sent, mut cooldown) = (0, 0);
    for hour in 0..48 {
        if hour % 4 == 0 && hour < 12 {
            desk.solved(hour / 4 + 1, "c1").await;
        }
        // The schedule: a run every hour.
        let report = sender.run().await.unwrap();
        sent += report.sent;
        cooldown += report.skipped.get("cooldown").copied().unwrap_or(0);
        desk.clock.advance(HOUR);
    }
    assert_eq!((sent, cooldown), (1, 2));
    assert_eq!(desk.jobs().len(), 1);
}

#[tokio::test]
async fn a_reopen_before_the_delay_drops_the_survey() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    desk.solved(1, "c1").await;
    desk.clock.advance(HOUR);
    let now = desk.clock.now_ts();
    desk.change(1, |t| {
        t.set_status(&Actor::Agent("li".into()), Status::Open, now).unwrap().into_iter().collect()
    })
    .await;
    assert_eq!(desk.ticket(1).await.due_at, None);
    desk.clock.advance(HOUR * 30);
    assert_eq!(desk.sender().run().await.unwrap().due, 0);
    assert!(desk.jobs().is_empty());
}

#[tokio::test]
async fn an_opted_out_customer_gets_no_survey() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    let mut customer = desk.store.customer(&CustomerId::new("c1")).await.unwrap().unwrap();
    customer.survey_opt_out = true;
    customer.version += 1;
    desk.store.update(&customer, customer.version - 1).await.unwrap();
    desk.solved(1, "c1").await;
    desk.clock.advance(HOUR * 25);
    let report = desk.sender().run().await.unwrap();
    assert_eq!(report.skipped.get("opted_out"), Some(&1));
    assert!(desk.jobs().is_empty());
    let events = desk.store.events(TicketNumber(1)).await.unwrap();
    assert!(
        matches!(&events.last().unwrap().kind, EventKind::SurveySkipped { reason } if reason == "opted_out")
    );
}

#[tokio::test]
async fn two_racing_senders_send_one_survey() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    desk.solved(1, "c1").await;
    desk.clock.advance(HOUR * 25);
    let (a, b) = (desk.sender(), desk.sender());
    let (a, b) = tokio::join!(a.run(), b.run());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 1, "{a:?} {b:?}");
    let ids: std::collections::BTreeSet<String> = desk.jobs().into_iter().map(|j| j.id).collect();
    assert_eq!(ids.len(), 1, "one delivery id, which the dispatcher sends once");
    let sent = desk
        .store
        .events(TicketNumber(1))
        .await
        .unwrap()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SurveySent { .. }))
        .count();
    assert_eq!(sent, 1);
    assert!(desk.store.watermark(WATERMARK).await.unwrap().is_some());
}

#[tokio::test]
async fn tampered_truncated_expired_and_rotated_out_tokens_are_refused() {
    let keys = TokenKeys::new(b"current-key-0123456789", None);
    let now = start();
    let id = keys.survey_id(TicketNumber(9), now);
    let token = keys.token(&id, crate::system::later(now, HOUR));
    assert_eq!(keys.verify(&token, now).unwrap().id, id);
    assert!(!token.contains('9') || !token.contains("000009"), "no ticket number in the token");
    let mut tampered = token.clone().into_bytes();
    tampered[10] = if tampered[10] == b'a' { b'b' } else { b'a' };
    assert_eq!(keys.verify(std::str::from_utf8(&tampered).unwrap(), now), Err(TokenError::Invalid));
    assert_eq!(keys.verify(&token[..token.len() - 2], now), Err(TokenError::Invalid));
    assert_eq!(keys.verify("", now), Err(TokenError::Invalid));
    assert_eq!(keys.verify(&token, crate::system::later(now, HOUR)), Err(TokenError::Expired));

    // Rotation: the new key with the old as previous accepts old links; once the old key is
    // retired they are 404.
    let rotated = TokenKeys::new(b"next-key-0123456789ab", Some(b"current-key-0123456789"));
    assert!(rotated.verify(&token, now).is_ok());
    let retired = TokenKeys::new(b"next-key-0123456789ab", None);
    assert_eq!(retired.verify(&token, now), Err(TokenError::Invalid));

    let field = keys.form_field(&id, 0, now);
    assert!(keys.form_field_ok(&id, &field, now));
    assert_eq!(keys.form_generation(&id, &keys.form_field(&id, 3, now), now), Some(3));
    assert!(!keys.form_field_ok("other", &field, now), "bound to the link");
    assert!(!keys.form_field_ok(&id, &field, crate::system::later(now, token::FORM_TTL)), "expires");
    assert!(!keys.form_field_ok(&id, "", now));
}

#[tokio::test]
async fn a_replayed_post_changes_nothing_and_a_changed_answer_is_one_more_event() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    desk.solved(1, "c1").await;
    desk.clock.advance(HOUR * 25);
    desk.sender().run().await.unwrap();
    let token = desk.token_of(1);
    let web = desk.web();
    let view = web.view(&token).await.unwrap();
    let events_before = desk.store.events(TicketNumber(1)).await.unwrap().len();
    assert_eq!(
        desk.store.events(TicketNumber(1)).await.unwrap().len(),
        events_before,
        "a view records nothing"
    );

    let form =
        SurveyForm { rating: 4, comment: Some("Quick, thanks".into()), form_field: view.form_field.clone() };
    assert!(web.answer(&token, &form).await.unwrap().changed);
    for _ in 0..5 {
        assert!(!web.answer(&token, &form).await.unwrap().changed);
    }
    // The customer changes the answer on the page the POST returned (a fresh form).
    let fresh = web.view(&token).await.unwrap().form_field;
    let changed = SurveyForm { rating: 5, form_field: fresh, ..form.clone() };
    assert!(web.answer(&token, &changed).await.unwrap().changed);
    // A scanner replays the first POST after the change: nothing changes.
    let replayed = web.answer(&token, &form).await.unwrap();
    assert!(!replayed.changed);
    assert_eq!(replayed.rating, 5);
    let answered: Vec<(u8, Option<u8>)> = desk
        .store
        .events(TicketNumber(1))
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SurveyAnswered { score, previous, .. } => Some((*score, *previous)),
            _ => None,
        })
        .collect();
    assert_eq!(answered, [(4, None), (5, Some(4))]);

    let forged = SurveyForm { form_field: String::new(), ..form };
    assert!(matches!(web.answer(&token, &forged).await, Err(SurveyError::Forbidden)));
    desk.clock.advance(HOUR * 24 * 15);
    assert!(matches!(web.view(&token).await, Err(SurveyError::Gone)));
}

#[tokio::test]
async fn a_low_rating_opens_one_follow_up_for_the_supervisor_with_the_comment() {
    let mut desk = Desk::new();
    let mut rules = SurveyRules::default();
    rules.supervisors.insert("frontline".into(), "sue".into());
    desk.rules = Arc::new(rules);
    desk.customer("c1", "li@example.com").await;
    desk.solved(1, "c1").await;
    let now = desk.clock.now_ts();
    desk.change(1, |t| {
        t.set_team(&Actor::Agent("li".into()), Some("frontline".into()), "moved".into(), now)
            .ok()
            .flatten()
            .into_iter()
            .collect()
    })
    .await;
    desk.clock.advance(HOUR * 25);
    desk.sender().run().await.unwrap();
    let token = desk.token_of(1);
    let web = desk.web();
    let field = web.view(&token).await.unwrap().form_field;
    let form =
        SurveyForm { rating: 1, comment: Some("Nobody answered my question".into()), form_field: field };
    let outcome = web.answer(&token, &form).await.unwrap();
    let follow_up = outcome.follow_up.expect("a follow-up");
    // A second low answer finds the same follow-up.
    let fresh = web.view(&token).await.unwrap().form_field;
    let again = SurveyForm { rating: 2, form_field: fresh, ..form };
    assert_eq!(web.answer(&token, &again).await.unwrap().follow_up, Some(follow_up));
    let ticket = desk.store.ticket(follow_up).await.unwrap().unwrap();
    assert_eq!(ticket.follow_up_of, Some(TicketNumber(1)));
    assert_eq!(ticket.assignee.as_deref(), Some("sue"));
    assert_eq!(ticket.team.as_deref(), Some("frontline"));
    let thread = desk.store.messages(follow_up).await.unwrap();
    assert!(thread.iter().any(|m| m.text.contains("Nobody answered my question")));
    assert_eq!(desk.store.all_tickets().len(), 2, "one follow-up");
}

#[tokio::test]
async fn a_merge_a_spam_tag_or_an_erasure_drops_a_survey_not_yet_sent() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    for number in 1..=3 {
        desk.solved(number, "c1").await;
    }
    let now = desk.clock.now_ts();
    let agent = Actor::Agent("li".into());
    desk.change(1, |t| t.merge_into(&agent, TicketNumber(3), now).unwrap()).await;
    desk.change(2, |t| t.set_tags(&agent, ["spam".to_owned()].into(), now).unwrap().into_iter().collect())
        .await;
    desk.change(3, |t| vec![t.erase_personal_data(&agent, "[erased]", now)]).await;
    for number in 1..=3 {
        let ticket = desk.ticket(number).await;
        assert_eq!(ticket.survey.and_then(|s| s.due_at), None, "#{number}");
        assert_eq!(ticket.due_at, None, "#{number} left the due index");
    }
    desk.clock.advance(HOUR * 25);
    assert_eq!(desk.sender().run().await.unwrap().due, 0);
    assert!(desk.jobs().is_empty());
}

#[tokio::test]
async fn a_bouncing_address_gets_no_survey_and_a_phone_ticket_only_a_verified_one() {
    let desk = Desk::new();
    desk.customer("c1", "li@example.com").await;
    let mut customer = desk.store.customer(&CustomerId::new("c1")).await.unwrap().unwrap();
    customer.bouncing.insert("li@example.com".into(), desk.clock.now_ts());
    customer.version += 1;
    desk.store.update(&customer, customer.version - 1).await.unwrap();
    desk.solved(1, "c1").await;

    // A phone ticket of a customer whose only address is unverified: no survey.
    let phone = Identity::phone("+8613800138000").unwrap();
    let mut caller = Customer::new(CustomerId::new("c2"), None, vec![phone], desk.clock.now_ts());
    caller.unverified.push(Identity::email("typed@example.com").unwrap());
    desk.store.create(&caller).await.unwrap();
    desk.solved_on(2, "c2", Channel::Phone).await;
    // …and one whose address is verified: by mail.
    let verified =
        vec![Identity::phone("+8613900139000").unwrap(), Identity::email("wang@example.com").unwrap()];
    desk.store
        .create(&Customer::new(CustomerId::new("c3"), None, verified, desk.clock.now_ts()))
        .await
        .unwrap();
    desk.solved_on(3, "c3", Channel::Phone).await;

    desk.clock.advance(HOUR * 25);
    let report = desk.sender().run().await.unwrap();
    assert_eq!(report.skipped.get("bouncing"), Some(&1), "{report:?}");
    assert_eq!(report.skipped.get("no_address"), Some(&1), "{report:?}");
    let jobs = desk.jobs();
    assert_eq!(jobs.len(), 1);
    let Destination::Email(mail) = &jobs[0].destination else { panic!("by mail") };
    assert_eq!(mail.to, "wang@example.com");
    assert_eq!(mail.in_reply_to, None, "a phone ticket has no mail thread");
}
