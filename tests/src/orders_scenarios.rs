//! Orders and after-sale end to end, on both backends, with the fake shop on 127.0.0.1
//! (Shopify's GraphQL contract): order status in chat for a customer with one order, with
//! two (the bot asks which), for a stranger naming someone else's order (nothing shown), and
//! with the shop down (a person follows up); a late-parcel webhook delivered three times
//! (one ticket, one mail) and refused when unsigned or malformed; a return through every
//! state over the agent API, with the rules' and the state machine's refusals.

use omnidesk_app::shop::fake::{FakeShop, Mood, RunningShop, example_orders};
use omnidesk_app::shop::webhook::{SHOPIFY_HMAC_HEADER, SHOPIFY_TOPIC_HEADER, sign_shopify};
use omnidesk_domain::model::{Customer, CustomerId, EventKind, Identity, TicketEvent, TicketNumber};
use serde_json::{Value, json};

use crate::{Backend, INBOX, TestDesk, eventually, settle};

const SHOP_TOKEN: &str = "shpat-test-token-0123456789";
const WEBHOOK_SECRET: &str = "shop-webhook-secret-0123456789";
const SUPERVISOR: &str = "Bearer token-sup-ana-0123456789";

fn shop_config(url: &str) -> String {
    format!(
        r#"
[routing]
default_team = "frontline"
teams = [{{ id = "frontline", name = "Frontline", tier = 1 }}]

[[agents]]
id = "ana"
teams = ["frontline"]
languages = ["en", "zh"]

[[auth.tokens]]
token = "token-sup-ana-0123456789"
user = "ana"
role = "supervisor"

[email]
address = "support@desk.example"

[kb]
public_url = "http://127.0.0.1:9"

[bot]
inboxes = ["{INBOX}"]

[shop]
kind = "shopify"
url = "{url}"
token = "{SHOP_TOKEN}"
webhook_secret = "{WEBHOOK_SECRET}"
timeout_ms = 2000
attempts = 2

[shop.returns]
non_returnable = ["gift_card"]
link_key = "return-link-key-0123456789"
"#
    )
}

pub(crate) struct ShopDesk {
    pub(crate) t: TestDesk,
    pub(crate) shop: RunningShop,
}

pub(crate) async fn shop_desk(backend: &Backend) -> ShopDesk {
    let shop = FakeShop::new(example_orders(jiff::Timestamp::now()), SHOP_TOKEN);
    let running = shop.start(0).await.expect("fake shop on 127.0.0.1");
    let t = TestDesk::start_configured(backend, &shop_config(&running.url)).await;
    ShopDesk { t, shop: running }
}

impl ShopDesk {
    /// A shop customer known to the desk by their chat visitor id and their (verified) email.
    pub(crate) async fn customer(&self, id: &str, visitor: &str, email: &str) {
        let identities =
            vec![Identity::chat_visitor(INBOX, visitor).unwrap(), Identity::email(email).unwrap()];
        let customer = Customer::new(CustomerId::new(id), None, identities, jiff::Timestamp::now());
        self.t.observe.customers.create(&customer).await.expect("customer");
    }

    pub(crate) async fn callbacks(&self, conversation: &str, count: usize) -> Vec<String> {
        let of = || {
            let mut seen = Vec::new();
            let mut texts = Vec::new();
            for c in self.t.receiver.delivered() {
                if c.conversation_id == conversation && !seen.contains(&c.delivery_id) {
                    seen.push(c.delivery_id.clone());
                    texts.push((c.kind, c.text.clone()));
                }
            }
            texts
        };
        let arrived = eventually(self.t.backend.patience(), || async { of().len() >= count }).await;
        assert!(arrived, "{count} callbacks for {conversation}: {:?}", of());
        of().into_iter().map(|(_, text)| text).collect()
    }

    pub(crate) async fn events(&self, number: TicketNumber) -> Vec<TicketEvent> {
        self.t.observe.tickets.events(number).await.expect("events")
    }

    pub(crate) async fn webhook(&self, topic: &str, body: &str, signature: Option<String>) -> u16 {
        let mut request = self
            .t
            .http
            .post(self.t.url("/v1/shop/webhooks/shopify"))
            .header(SHOPIFY_TOPIC_HEADER, topic)
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header(SHOPIFY_HMAC_HEADER, signature);
        }
        request.send().await.expect("desk answers").status().as_u16()
    }

    pub(crate) async fn agent(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .t
            .http
            .post(self.t.url(path))
            .header("authorization", SUPERVISOR)
            .json(&body)
            .send()
            .await
            .expect("desk answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

pub async fn order_status_in_chat_answers_one_order_and_asks_which_of_two(backend: &Backend) {
    let d = shop_desk(backend).await;
    d.customer("cus_mei", "v-mei", "mei@example.com").await;
    d.customer("cus_bo", "v-bo", "bo@example.com").await;
    assert_eq!(d.t.send_chat("o-1", "c-mei", "v-mei", "我的快递到哪了").await, 202);
    let texts = d.callbacks("c-mei", 1).await;
    assert!(
        texts[0].contains("#1002") && texts[0].contains("SF1002") && texts[0].contains("运输中"),
        "{}",
        texts[0]
    );
    let number = d.t.ticket_of_conversation("c-mei").await.expect("ticket");
    let events = d.events(number).await;
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::OrderLinked { order } if order == "#1002")));
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotAnswered { intent, .. } if intent == "order_status"))
    );

    assert_eq!(d.t.send_chat("o-2", "c-bo", "v-bo", "where is my order?").await, 202);
    let texts = d.callbacks("c-bo", 1).await;
    assert!(
        texts[0].contains("#1006") && texts[0].contains("#1005") && texts[0].contains("Which one"),
        "{}",
        texts[0]
    );
    assert!(!texts[0].contains("SF100"), "no tracking before the customer chose: {}", texts[0]);
    assert_eq!(d.t.send_chat("o-3", "c-bo", "v-bo", "#1005").await, 202);
    let texts = d.callbacks("c-bo", 2).await;
    assert!(texts[1].contains("Order #1005") && texts[1].contains("SF1005"), "{}", texts[1]);
}

pub async fn a_stranger_naming_someone_elses_order_sees_nothing_and_a_shop_down_hands_to_a_person(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    d.customer("cus_eve", "v-eve", "eve@example.com").await;
    d.customer("cus_sam", "v-sam", "sam@example.com").await;
    assert_eq!(d.t.send_chat("s-1", "c-eve", "v-eve", "where is order #1001?").await, 202);
    let texts = d.callbacks("c-eve", 1).await;
    assert!(texts[0].contains("can't find that order"), "{}", texts[0]);
    for secret in ["SF1001", "teapot", "ada@", "delivered"] {
        assert!(!texts[0].to_lowercase().contains(&secret.to_lowercase()), "{secret} shown: {}", texts[0]);
    }
    let number = d.t.ticket_of_conversation("c-eve").await.expect("ticket");
    assert!(
        d.events(number)
            .await
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotHandoff { reason, .. } if reason == "order_not_yours"))
    );
    assert_eq!(d.t.ticket(number.0).await.expect("ticket").team.as_deref(), Some("frontline"));

    d.shop.shop.set_mood(Mood::Down);
    assert_eq!(d.t.send_chat("s-2", "c-sam", "v-sam", "where is my order").await, 202);
    let texts = d.callbacks("c-sam", 1).await;
    assert!(texts[0].contains("get back to you"), "{}", texts[0]);
    let number = d.t.ticket_of_conversation("c-sam").await.expect("ticket");
    let ticket = d.t.ticket(number.0).await.expect("ticket");
    assert_eq!(ticket.team.as_deref(), Some("frontline"), "a person takes it");
    assert!(
        d.events(number)
            .await
            .iter()
            .any(|e| matches!(&e.kind, EventKind::BotHandoff { reason, .. } if reason == "shop_unavailable"))
    );
}

pub async fn a_late_parcel_webhook_delivered_three_times_opens_one_ticket_with_one_mail(backend: &Backend) {
    let d = shop_desk(backend).await;
    let body =
        json!({"id": 1, "name": "#1003.1", "status": "success", "shipment_status": "in_transit"}).to_string();
    let signature = sign_shopify(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    assert_eq!(d.webhook("fulfillments/update", &body, None).await, 401, "unsigned");
    assert_eq!(
        d.webhook("fulfillments/update", &body, Some(sign_shopify(b"wrong-secret", body.as_bytes()))).await,
        401
    );
    let broken = "{not json";
    assert_eq!(
        d.webhook(
            "fulfillments/update",
            broken,
            Some(sign_shopify(WEBHOOK_SECRET.as_bytes(), broken.as_bytes()))
        )
        .await,
        400
    );
    for _ in 0..3 {
        assert_eq!(d.webhook("fulfillments/update", &body, Some(signature.clone())).await, 202);
    }
    let found = eventually(d.t.backend.patience(), || async { d.t.ticket(1).await.is_some() }).await;
    assert!(found, "a proactive ticket");
    settle(&d.t.backend).await;
    settle(&d.t.backend).await;
    assert!(d.t.ticket(2).await.is_none(), "one ticket for three deliveries");
    let events = d.events(TicketNumber(1)).await;
    let notices: Vec<&EventKind> =
        events.iter().map(|e| &e.kind).filter(|k| matches!(k, EventKind::ProactiveNotice { .. })).collect();
    assert_eq!(notices, [&EventKind::ProactiveNotice { order: "#1003".into(), problem: "late".into() }]);
    let mails = eventually(d.t.backend.patience(), || async { mail_count(&d.t) >= 1 }).await;
    assert!(mails, "the notice is mailed");
    settle(&d.t.backend).await;
    assert_eq!(mail_count(&d.t), 1, "one mail");
}

pub(crate) fn mail_count(t: &TestDesk) -> usize {
    std::fs::read_dir(&t.outbox)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

pub async fn a_return_goes_through_every_state_over_the_agent_api_and_bad_steps_are_refused(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    d.customer("cus_ada", "v-ada", "ada@example.com").await;
    d.t.send_chat("r-1", "c-ada", "v-ada", "talk to a person").await;
    d.callbacks("c-ada", 1).await;
    let number = d.t.ticket_of_conversation("c-ada").await.expect("ticket").0;
    let path = format!("/v1/tickets/{number}/returns");
    let gift = json!({"order": "#1001", "line": "1001-2", "reason": "unwanted"});
    let (status, refused) = d.agent(&path, gift).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap_or("").contains("gift_card"), "{refused}");
    let (status, started) =
        d.agent(&path, json!({"order": "#1001", "line": "1001-1", "reason": "chipped lid"})).await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["allowed"], json!(["approve", "reject"]));
    let (status, conflict) = d.agent(&format!("{path}/refund"), json!({})).await;
    assert_eq!(status, 409, "{conflict}");
    assert!(
        conflict["error"]["message"].as_str().unwrap_or("").contains("allowed: approve, reject"),
        "{conflict}"
    );
    for step in ["approve", "send_label", "receive", "refund"] {
        let (status, body) = d.agent(&format!("{path}/{step}"), json!({})).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let names: Vec<&str> = d
        .events(TicketNumber(number))
        .await
        .iter()
        .map(|e| e.kind.name())
        .filter(|n| n.starts_with("return_") || *n == "refunded")
        .collect();
    assert_eq!(
        names,
        ["return_requested", "return_approved", "return_label_sent", "return_received", "refunded"]
    );
    // The customer heard of every step in the chat (callbacks may arrive in any order).
    let texts = d.callbacks("c-ada", 6).await;
    for step in [
        "return request",
        "is approved",
        "return label",
        "received the item",
        "refund for order #1001 is done",
    ] {
        assert!(texts.iter().any(|t| t.contains(step)), "{step}: {texts:?}");
    }
}

pub async fn a_late_parcel_notice_goes_into_the_customers_open_chat_instead_of_a_mail(backend: &Backend) {
    let d = shop_desk(backend).await;
    d.customer("cus_li", "v-li", "li@example.com").await;
    assert_eq!(d.t.send_chat("l-1", "c-li", "v-li", "hello").await, 202);
    d.callbacks("c-li", 1).await;
    let chat = d.t.ticket_of_conversation("c-li").await.expect("chat ticket");
    let body =
        json!({"id": 3, "name": "#1003.1", "status": "success", "shipment_status": "in_transit"}).to_string();
    let signature = sign_shopify(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    for _ in 0..3 {
        assert_eq!(d.webhook("fulfillments/update", &body, Some(signature.clone())).await, 202);
    }
    let texts = d.callbacks("c-li", 2).await;
    assert!(
        texts[1].contains("#1003") && texts[1].contains("past its promised delivery date"),
        "{}",
        texts[1]
    );
    settle(&d.t.backend).await;
    settle(&d.t.backend).await;
    assert_eq!(d.callbacks("c-li", 2).await.len(), 2, "one notice in the chat");
    let notices =
        d.events(chat).await.iter().filter(|e| matches!(e.kind, EventKind::ProactiveNotice { .. })).count();
    assert_eq!(notices, 1);
    assert_eq!(mail_count(&d.t), 0, "no mail while the chat is open");
    assert!(d.t.ticket(chat.0 + 1).await.is_none(), "no ticket of its own");
}

impl ShopDesk {
    async fn view(&self, path: &str) -> (u16, Value) {
        let response = self
            .t
            .http
            .get(self.t.url(path))
            .header("authorization", SUPERVISOR)
            .send()
            .await
            .expect("desk answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

pub async fn ticket_and_customer_views_list_recent_orders_and_answer_without_them_when_the_shop_is_down(
    backend: &Backend,
) {
    let d = shop_desk(backend).await;
    d.customer("cus_bo", "v-bo", "bo@example.com").await;
    d.customer("cus_mei", "v-mei", "mei@example.com").await;
    d.t.send_chat("v-1", "c-bo", "v-bo", "talk to a person").await;
    d.t.send_chat("v-2", "c-mei", "v-mei", "talk to a person").await;
    d.callbacks("c-bo", 1).await;
    d.callbacks("c-mei", 1).await;
    let bo = d.t.ticket_of_conversation("c-bo").await.expect("ticket").0;
    let (status, view) = d.view(&format!("/v1/tickets/{bo}")).await;
    assert_eq!(status, 200, "{view}");
    let names: Vec<&str> =
        view["orders"].as_array().expect("orders").iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(names, ["#1006", "#1005"], "{view}");
    assert_eq!(view["orders"][1]["shipments"][0]["tracking_number"], "SF1005");
    assert_eq!(view["orders"][1]["lines"][0]["title"], "Oolong sampler");
    assert!(view.get("orders_unavailable").is_none());
    let (status, customer) = d.view("/v1/customers/cus_bo").await;
    assert_eq!(status, 200);
    assert_eq!(customer["orders"].as_array().map(Vec::len), Some(2), "{customer}");

    // Mei's orders were never read (nothing cached): with the shop down her views still answer.
    d.shop.shop.set_mood(Mood::Down);
    let mei = d.t.ticket_of_conversation("c-mei").await.expect("ticket").0;
    let (status, view) = d.view(&format!("/v1/tickets/{mei}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["orders_unavailable"], "shop_unavailable", "{view}");
    assert!(view.get("orders").is_none() && view["ticket"]["number"] == mei);
    let (status, customer) = d.view("/v1/customers/cus_mei").await;
    assert_eq!((status, customer["orders_unavailable"].as_str()), (200, Some("shop_unavailable")));
}
