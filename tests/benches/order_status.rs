//! The added latency of the bot's order-status answer: the shop lookups it makes (customer's
//! orders by email, or an order by name) through the per-container cache, against the fake
//! shop on 127.0.0.1 speaking Shopify's GraphQL contract — cold (every question misses the
//! cache: one HTTP round trip and the JSON mapping) and warm (the answer is in the cache).
//! Figures only; nothing here asserts on time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use omnidesk_app::shop::ShopHttp;
use omnidesk_app::shop::fake::{FakeShop, example_orders};
use omnidesk_app::shop::shopify::ShopifyOrders;
use omnidesk_domain::memory::ManualClock;
use omnidesk_domain::orders::{CachedOrders, Contact, OrderAnswer, Orders, answer_for};

const KEY: &str = "bench-shop-key-0123456789";
const ROUNDS: usize = 2_000;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

async fn measure(label: &str, cached: bool, shopify: Arc<dyn Orders>, named: &[String]) {
    let contacts = [Contact::Email("bo@example.com".into())];
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let warm = Arc::new(CachedOrders::new(shopify.clone(), clock));
    if cached {
        answer_for(&*warm, &contacts, named).await;
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        // Cold: a cache of its own for every question, as a fresh container has.
        let orders: Arc<dyn Orders> = if cached {
            warm.clone()
        } else {
            Arc::new(CachedOrders::new(shopify.clone(), Arc::new(ManualClock::new(Timestamp::now()))))
        };
        let started = Instant::now();
        let answer = answer_for(&*orders, &contacts, named).await;
        samples.push(started.elapsed());
        assert!(matches!(answer, OrderAnswer::Status(_) | OrderAnswer::Choose(_)), "{answer:?}");
    }
    let total: Duration = samples.iter().sum();
    let mean = total / ROUNDS as u32;
    let (p50, p99) = (percentile(&mut samples, 0.50), percentile(&mut samples, 0.99));
    println!("{label:<44} p50 {:>8.1} µs  p99 {:>8.1} µs  mean {:>8.1} µs", us(p50), us(p99), us(mean));
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main]
async fn main() {
    let shop = FakeShop::new(example_orders(Timestamp::now()), KEY).start(0).await.expect("fake shop");
    let http = ShopHttp::new(Duration::from_secs(2), 3).expect("client");
    let shopify: Arc<dyn Orders> = Arc::new(ShopifyOrders::new(http, &shop.url, "2025-01", KEY));
    println!(
        "order-status lookups, {ROUNDS} questions each, fake Shopify on 127.0.0.1 (HTTP/1.1, keep-alive)"
    );
    measure("cold cache, \"where is my order?\" (by email)", false, shopify.clone(), &[]).await;
    measure("warm cache, \"where is my order?\" (by email)", true, shopify.clone(), &[]).await;
    measure("cold cache, \"#1005\" (by name)", false, shopify.clone(), &["#1005".into()]).await;
    measure("warm cache, \"#1005\" (by name)", true, shopify.clone(), &["#1005".into()]).await;
    println!("shop requests served: {}", shop.shop.requests());
}
