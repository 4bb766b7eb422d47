use std::collections::BTreeSet;

use jiff::Timestamp;

use super::*;
use crate::orders::fixtures::{an_order, line};

const DAY: i64 = 86_400;

fn delivered_order(delivered_day: i64) -> Order {
    an_order("#1001")
        .lines(vec![line("l1", "Teapot", None), line("l2", "Socks", Some("Underwear"))])
        .delivered(Timestamp::from_second(delivered_day * DAY).unwrap())
        .build()
}

fn request(line: &str) -> ReturnRequest<'_> {
    ReturnRequest { line, reason: "too small", damaged: false, photos: 0 }
}

fn rules() -> ReturnRules {
    ReturnRules { non_returnable: BTreeSet::from(["underwear".to_owned()]), ..ReturnRules::default() }
}

fn at_day(day: i64) -> Timestamp {
    Timestamp::from_second(day * DAY).unwrap()
}

#[test]
fn a_return_goes_through_every_state_and_each_step_is_an_event() {
    let mut case = rules().open(&delivered_order(1), &request("l1"), at_day(5)).unwrap();
    assert_eq!(case.state, ReturnState::Requested);
    let steps = [ReturnAction::Approve, ReturnAction::SendLabel, ReturnAction::Receive, ReturnAction::Refund];
    let names: Vec<&str> = steps.iter().map(|a| case.apply(*a, None, at_day(6)).unwrap().name()).collect();
    assert_eq!(names, ["return_approved", "return_label_sent", "return_received", "refunded"]);
    assert!(case.state.is_final());
}

#[test]
fn an_invalid_transition_names_the_allowed_ones() {
    let mut case = rules().open(&delivered_order(1), &request("l1"), at_day(5)).unwrap();
    let error = case.apply(ReturnAction::Refund, None, at_day(6)).unwrap_err();
    assert_eq!(error.to_string(), "a requested return cannot refund; allowed: approve, reject");
    assert_eq!(case.state, ReturnState::Requested, "nothing changed");
}

#[test]
fn a_return_outside_the_window_is_refused_with_the_rule() {
    let refusal = rules().open(&delivered_order(1), &request("l1"), at_day(40)).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "returns are accepted within 30 days of delivery; order #1001 was delivered 39 days ago"
    );
}

#[test]
fn non_returnable_categories_and_damage_without_photos_are_refused() {
    let refusal = rules().open(&delivered_order(1), &request("l2"), at_day(2)).unwrap_err();
    assert_eq!(refusal, ReturnRefusal::NotReturnable { category: "underwear".into() });
    let damaged = ReturnRequest { damaged: true, ..request("l1") };
    assert_eq!(
        rules().open(&delivered_order(1), &damaged, at_day(2)).unwrap_err(),
        ReturnRefusal::EvidenceRequired
    );
    let with_photo = ReturnRequest { photos: 1, ..damaged };
    assert!(rules().open(&delivered_order(1), &with_photo, at_day(2)).is_ok());
}
