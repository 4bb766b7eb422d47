use std::sync::Arc;

use jiff::Timestamp;

use super::*;
use crate::memory::ManualClock;
use crate::orders::fixtures::an_order;

pub(crate) fn order(id: &str, name: &str, email: &str, day: i64, status: ShipmentStatus) -> Order {
    let placed = Timestamp::from_second(day * 86_400).unwrap();
    an_order(name).id(id).email(email).created(placed).tracking(&format!("SF{id}")).status(status).build()
}

fn shop() -> MemoryOrders {
    MemoryOrders::new(vec![
        order("1", "#1001", "mei@example.com", 1, ShipmentStatus::InTransit),
        order("2", "#1002", "jon@example.com", 2, ShipmentStatus::InTransit),
        order("3", "#1003", "jon@example.com", 3, ShipmentStatus::OutForDelivery),
        order("4", "#1004", "jon@example.com", 0, ShipmentStatus::Delivered),
    ])
}

fn email(address: &str) -> Vec<Contact> {
    vec![Contact::Email(address.into())]
}

#[tokio::test]
async fn order_status_for_a_customer_with_one_order_is_that_order() {
    let answer = answer_for(&shop(), &email("mei@example.com"), &[]).await;
    assert!(matches!(answer, OrderAnswer::Status(o) if o.name == "#1001"));
}

#[tokio::test]
async fn order_status_for_a_customer_with_two_open_orders_asks_which() {
    let answer = answer_for(&shop(), &email("jon@example.com"), &[]).await;
    assert_eq!(answer, OrderAnswer::Choose(vec!["#1003".into(), "#1002".into()]));
    let named = answer_for(&shop(), &email("jon@example.com"), &["#1002".into()]).await;
    assert!(matches!(named, OrderAnswer::Status(o) if o.name == "#1002"));
}

#[tokio::test]
async fn order_status_for_a_stranger_naming_someone_elses_order_is_refused_like_a_missing_one() {
    let foreign = answer_for(&shop(), &email("eve@example.com"), &["#1001".into()]).await;
    let missing = answer_for(&shop(), &email("eve@example.com"), &["#9999".into()]).await;
    assert_eq!(foreign, OrderAnswer::NotYours);
    assert_eq!(missing, OrderAnswer::NotYours);
    // Without verified contact details nothing is shown either.
    assert_eq!(answer_for(&shop(), &[], &["#1001".into()]).await, OrderAnswer::NotYours);
}

#[tokio::test]
async fn order_status_when_the_shop_is_down_is_unavailable() {
    let shop = shop();
    shop.set_down(true);
    assert_eq!(answer_for(&shop, &email("mei@example.com"), &[]).await, OrderAnswer::Unavailable);
    assert_eq!(
        answer_for(&shop, &email("mei@example.com"), &["#1001".into()]).await,
        OrderAnswer::Unavailable
    );
}

#[tokio::test]
async fn the_cache_turns_50_questions_about_one_order_into_one_shop_call() {
    let shop = Arc::new(shop());
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_000_000).unwrap()));
    let cached = Arc::new(CachedOrders::new(shop.clone(), clock.clone()));
    let questions = (0..50).map(|_| {
        let cached = cached.clone();
        tokio::spawn(async move { answer_for(&*cached, &email("mei@example.com"), &["#1001".into()]).await })
    });
    for question in questions {
        assert!(matches!(question.await.unwrap(), OrderAnswer::Status(_)));
    }
    assert_eq!(shop.calls(), 1, "one shop call for 50 questions");
    clock.advance(DEFAULT_CACHE_TTL + std::time::Duration::from_secs(1));
    answer_for(&*cached, &email("mei@example.com"), &["#1001".into()]).await;
    assert_eq!(shop.calls(), 2, "an expired answer is asked again");
}

#[tokio::test]
async fn the_cache_keeps_no_failures() {
    let shop = Arc::new(shop());
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_000_000).unwrap()));
    let cached = CachedOrders::new(shop.clone(), clock);
    shop.set_down(true);
    assert!(cached.order("#1001").await.is_err());
    shop.set_down(false);
    assert!(cached.order("#1001").await.unwrap().is_some());
}

#[test]
fn status_text_shows_items_and_tracking_in_the_customers_language() {
    let order = order("1", "#1001", "mei@example.com", 1, ShipmentStatus::InTransit);
    let zh = OrderTexts::new(crate::kb::Language::ZhCn).status(&order);
    assert!(zh.contains("订单 #1001") && zh.contains("运输中") && zh.contains("SF1"), "{zh}");
    let en = OrderTexts::new(crate::kb::Language::En).status(&order);
    assert!(en.contains("Order #1001: shipped") && en.contains("in transit"), "{en}");
}
