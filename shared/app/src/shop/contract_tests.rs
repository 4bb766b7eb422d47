//! Both adapters against the fake shop on 127.0.0.1, with the same contract: lookups by
//! customer and by name, someone else's orders never returned, 429 and throttling retried,
//! a shop that stays down or refuses the token reported as such, and the cache turning 50
//! questions about one order into one shop call.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use omnidesk_domain::memory::ManualClock;
use omnidesk_domain::orders::{CachedOrders, Contact, Orders, OrdersError};
use omnidesk_domain::system::SystemClock;

use super::ShopHttp;
use super::fake::{FakeShop, Mood, RunningShop, example_orders};
use super::generic::GenericOrders;
use super::shopify::ShopifyOrders;

const KEY: &str = "fake-shop-key-0123456789";

async fn running() -> RunningShop {
    FakeShop::new(example_orders(Timestamp::now()), KEY).start(0).await.expect("fake shop")
}

fn http() -> ShopHttp {
    ShopHttp::new(Duration::from_secs(2), 3).expect("client")
}

fn adapters(shop: &RunningShop, key: &str) -> Vec<(&'static str, Arc<dyn Orders>)> {
    vec![
        ("shopify", Arc::new(ShopifyOrders::new(http(), &shop.url, "2025-01", key))),
        ("generic", Arc::new(GenericOrders::new(http(), &shop.url, key, Arc::new(SystemClock)))),
    ]
}

#[tokio::test]
async fn both_adapters_find_a_customers_orders_and_one_order_by_name() {
    let shop = running().await;
    for (name, orders) in adapters(&shop, KEY) {
        let bo = orders.orders_of(&Contact::Email("bo@example.com".into())).await.expect(name);
        let names: Vec<&str> = bo.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["#1006", "#1005"], "{name}: newest first");
        let one = orders.order("#1003").await.expect(name).expect("found");
        assert_eq!(one.email.as_deref(), Some("li@example.com"), "{name}");
        assert_eq!(one.shipments[0].tracking_number.as_deref(), Some("SF1003"), "{name}");
        assert!(one.shipments[0].promised_at.is_some(), "{name}");
        assert_eq!(one.lines[0].title, "Tea table", "{name}");
        assert_eq!(orders.order("#9999").await.expect(name), None, "{name}");
        assert!(orders.orders_of(&Contact::Email("nobody@example.com".into())).await.expect(name).is_empty());
        let categories = orders.order("#1001").await.expect(name).expect("found");
        assert_eq!(categories.lines[1].category.as_deref(), Some("gift_card"), "{name}");
    }
}

#[tokio::test]
async fn both_adapters_retry_a_429_and_shopify_retries_cost_throttling() {
    let shop = running().await;
    for (name, orders) in adapters(&shop, KEY) {
        shop.shop.set_mood(Mood::RateLimited(2));
        let before = shop.shop.requests();
        assert!(orders.order("#1002").await.expect(name).is_some(), "{name}");
        assert_eq!(shop.shop.requests() - before, 3, "{name}: two 429s, then the answer");
    }
    let shopify = &adapters(&shop, KEY)[0].1;
    shop.shop.set_mood(Mood::Throttled(1));
    assert!(shopify.order("#1002").await.expect("throttled once, then answered").is_some());
}

#[tokio::test]
async fn a_shop_that_stays_down_is_unavailable_after_the_bounded_tries() {
    let shop = running().await;
    shop.shop.set_mood(Mood::Down);
    for (name, orders) in adapters(&shop, KEY) {
        let before = shop.shop.requests();
        let error = orders.order("#1002").await.unwrap_err();
        assert!(matches!(error, OrdersError::Unavailable(_)), "{name}: {error}");
        assert_eq!(shop.shop.requests() - before, 3, "{name}: three tries, no more");
    }
    let stopped = {
        let gone = running().await;
        gone.url.clone()
    };
    let orders = ShopifyOrders::new(http(), &stopped, "2025-01", KEY);
    assert!(matches!(orders.order("#1002").await, Err(OrdersError::Unavailable(_))));
}

#[tokio::test]
async fn a_wrong_token_or_key_is_refused_not_retried() {
    let shop = running().await;
    for (name, orders) in adapters(&shop, "wrong-key-0123456789") {
        let error = orders.order("#1002").await.unwrap_err();
        assert!(matches!(error, OrdersError::Denied(_)), "{name}: {error}");
    }
}

#[tokio::test]
async fn the_cache_turns_50_questions_about_one_order_into_one_shop_call() {
    let shop = running().await;
    for (name, orders) in adapters(&shop, KEY) {
        let clock = Arc::new(ManualClock::new(Timestamp::now()));
        let cached = Arc::new(CachedOrders::new(orders, clock));
        let before = shop.shop.requests();
        let questions: Vec<_> = (0..50)
            .map(|_| {
                let cached = cached.clone();
                tokio::spawn(async move { cached.order("#1002").await })
            })
            .collect();
        for question in questions {
            assert!(question.await.expect("task").expect(name).is_some());
        }
        assert_eq!(shop.shop.requests() - before, 1, "{name}: one shop call for 50 questions");
    }
}

#[test]
fn search_values_are_quoted_so_input_never_becomes_query_syntax() {
    assert_eq!(super::shopify::quoted(r#"a" OR email:*"#), r#""a\" OR email:*""#);
    assert_eq!(super::shopify::quoted("x\\y\n"), r#""x\\y""#);
}
