//! A fake shop on 127.0.0.1 that follows both contracts the adapters speak — Shopify's
//! Admin GraphQL `orders` query (with its 429 and cost throttling) and the generic JSON
//! contract (signed requests, 404, 429) — serving the orders of a [`MemoryOrders`]. Tests
//! start and stop it; the local desk runs one with [`example_orders`].

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use omnidesk_domain::orders::{
    Contact, FinancialStatus, FulfillmentStatus, MemoryOrders, Order, OrderLine, Orders, OrdersError,
    Shipment, ShipmentStatus,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::generic::OrderList;
use super::shopify::ACCESS_TOKEN_HEADER;
use crate::signature::{SIGNATURE_HEADER, verify};

/// How the fake shop misbehaves for the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mood {
    #[default]
    Fine,
    /// Every request answers 503.
    Down,
    /// The next `n` requests answer 429 (with `Retry-After: 0`).
    RateLimited(u32),
    /// The next `n` GraphQL requests answer 200 with Shopify's `THROTTLED` error.
    Throttled(u32),
}

pub struct FakeShop {
    pub orders: Arc<MemoryOrders>,
    /// The Shopify access token, and the generic contract's signing key.
    key: String,
    mood: Mutex<Mood>,
    requests: AtomicUsize,
}

/// A running fake shop; stopped when dropped.
pub struct RunningShop {
    pub url: String,
    pub shop: Arc<FakeShop>,
    task: JoinHandle<()>,
}

impl Drop for RunningShop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeShop {
    pub fn new(orders: Vec<Order>, key: &str) -> Arc<Self> {
        Arc::new(Self {
            orders: Arc::new(MemoryOrders::new(orders)),
            key: key.to_owned(),
            mood: Mutex::new(Mood::Fine),
            requests: AtomicUsize::new(0),
        })
    }

    pub fn set_mood(&self, mood: Mood) {
        *self.mood.lock().unwrap_or_else(|p| p.into_inner()) = mood;
    }

    /// Requests served so far, refused ones included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Both contracts' routes, from the root: the local desk nests them under `/local/shop`.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/orders", get(list))
            .route("/orders/{name}", get(one))
            .with_state(self.clone())
    }

    /// Serves on 127.0.0.1 at `port` (0: any free port).
    pub async fn start(self: &Arc<Self>, port: u16) -> std::io::Result<RunningShop> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let address: SocketAddr = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "fake_shop.stopped");
            }
        });
        Ok(RunningShop { url: format!("http://{address}"), shop: self.clone(), task })
    }

    /// The mood's answer to this request, if it is not a normal one.
    fn misbehave(&self, graphql: bool) -> Option<Response> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let mut mood = self.mood.lock().unwrap_or_else(|p| p.into_inner());
        match *mood {
            Mood::Fine => None,
            Mood::Down => Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
            Mood::RateLimited(n) => {
                *mood = if n <= 1 { Mood::Fine } else { Mood::RateLimited(n - 1) };
                Some((StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "slow down").into_response())
            }
            Mood::Throttled(n) if graphql => {
                *mood = if n <= 1 { Mood::Fine } else { Mood::Throttled(n - 1) };
                let body = json!({
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": {"requestedQueryCost": 52, "actualQueryCost": null,
                        "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 50, "restoreRate": 100.0}}}
                });
                Some(axum::Json(body).into_response())
            }
            Mood::Throttled(_) => None,
        }
    }
}

async fn graphql(State(shop): State<Arc<FakeShop>>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get(ACCESS_TOKEN_HEADER).and_then(|v| v.to_str().ok()) != Some(shop.key.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"errors": "[API] Invalid API key or access token"})),
        )
            .into_response();
    }
    if let Some(response) = shop.misbehave(true) {
        return response;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let search = request.pointer("/variables/q").and_then(Value::as_str).unwrap_or("");
    let Some((field, value)) = search.split_once(':') else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let value = value.trim_matches('"').replace("\\\"", "\"").replace("\\\\", "\\");
    let found: Vec<Order> = match field {
        "email" => shop.orders.orders_of(&Contact::Email(value)).await.unwrap_or_default(),
        "phone" => shop.orders.orders_of(&Contact::Phone(value)).await.unwrap_or_default(),
        // Shopify matches names with or without `#`.
        "name" => {
            let bare = value.trim_start_matches('#');
            shop.orders.all().into_iter().filter(|o| o.name.trim_start_matches('#') == bare).collect()
        }
        _ => Vec::new(),
    };
    let edges: Vec<Value> = found.iter().map(|o| json!({"node": shopify_node(o)})).collect();
    axum::Json(json!({
        "data": {"orders": {"edges": edges}},
        "extensions": {"cost": {"requestedQueryCost": 52, "actualQueryCost": 12,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 988.0, "restoreRate": 100.0}}}
    }))
    .into_response()
}

fn signed(shop: &FakeShop, headers: &HeaderMap, uri: &Uri) -> bool {
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    verify(header, shop.key.as_bytes(), target.as_bytes(), Timestamp::now()).is_ok()
}

async fn list(
    State(shop): State<Arc<FakeShop>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    if !signed(&shop, &headers, &uri) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(response) = shop.misbehave(false) {
        return response;
    }
    let customer = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "customer")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let contact = match customer.split_once(':') {
        Some(("email", v)) => Contact::Email(v.to_owned()),
        Some(("phone", v)) => Contact::Phone(v.to_owned()),
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let orders = shop.orders.orders_of(&contact).await.unwrap_or_default();
    axum::Json(OrderList { orders }).into_response()
}

async fn one(
    State(shop): State<Arc<FakeShop>>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
) -> Response {
    if !signed(&shop, &headers, &uri) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(response) = shop.misbehave(false) {
        return response;
    }
    match shop.orders.order(&name).await {
        Ok(Some(order)) => axum::Json(order).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(OrdersError::Unavailable(_)) | Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// An order as Shopify's GraphQL `Order` node (the fields the adapter asks for).
pub fn shopify_node(order: &Order) -> Value {
    let financial = match order.financial {
        FinancialStatus::Pending => "PENDING",
        FinancialStatus::Paid => "PAID",
        FinancialStatus::PartiallyRefunded => "PARTIALLY_REFUNDED",
        FinancialStatus::Refunded => "REFUNDED",
        FinancialStatus::Voided => "VOIDED",
        FinancialStatus::Other => "EXPIRED",
    };
    let fulfillment = match order.fulfillment {
        FulfillmentStatus::Unfulfilled => "UNFULFILLED",
        FulfillmentStatus::InProgress => "IN_PROGRESS",
        FulfillmentStatus::Partial => "PARTIALLY_FULFILLED",
        FulfillmentStatus::Fulfilled => "FULFILLED",
        FulfillmentStatus::OnHold => "ON_HOLD",
        FulfillmentStatus::Other => "RESTOCKED",
    };
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            json!({"node": {"id": l.id, "title": l.title, "quantity": l.quantity, "sku": l.sku,
                "product": l.category.as_ref().map(|c| json!({"productType": c}))}})
        })
        .collect();
    let fulfillments: Vec<Value> = order
        .shipments
        .iter()
        .map(|s| {
            json!({
                "displayStatus": display_status(s.status),
                "estimatedDeliveryAt": s.promised_at.map(|t| t.to_string()),
                "deliveredAt": s.delivered_at.map(|t| t.to_string()),
                "trackingInfo": [{"number": s.tracking_number, "url": s.tracking_url, "company": s.carrier}],
            })
        })
        .collect();
    json!({
        "id": order.id, "name": order.name, "email": order.email, "phone": order.phone,
        "createdAt": order.created_at.to_string(),
        "cancelledAt": order.cancelled.then(|| order.created_at.to_string()),
        "displayFinancialStatus": financial, "displayFulfillmentStatus": fulfillment,
        "lineItems": {"edges": lines}, "fulfillments": fulfillments,
    })
}

fn display_status(status: ShipmentStatus) -> &'static str {
    match status {
        ShipmentStatus::LabelPrinted => "LABEL_PRINTED",
        ShipmentStatus::Confirmed => "CONFIRMED",
        ShipmentStatus::InTransit => "IN_TRANSIT",
        ShipmentStatus::OutForDelivery => "OUT_FOR_DELIVERY",
        ShipmentStatus::AttemptedDelivery => "ATTEMPTED_DELIVERY",
        ShipmentStatus::ReadyForPickup => "READY_FOR_PICKUP",
        ShipmentStatus::Delayed => "DELAYED",
        ShipmentStatus::Delivered => "DELIVERED",
        ShipmentStatus::Failure => "FAILURE",
        ShipmentStatus::Other => "SUBMITTED",
    }
}

const DAY: Duration = Duration::from_secs(86_400);

fn days_ago(now: Timestamp, days: u64) -> Timestamp {
    omnidesk_domain::system::earlier(now, DAY * days as u32)
}

fn days_ahead(now: Timestamp, days: u64) -> Timestamp {
    omnidesk_domain::system::later(now, DAY * days as u32)
}

/// The local desk's shop: a delivered order, one in transit, a late one, a lost one, and a
/// customer with two open orders (README, "Orders and after-sale").
pub fn example_orders(now: Timestamp) -> Vec<Order> {
    let line = |id: &str, title: &str, category: Option<&str>| OrderLine {
        id: id.into(),
        title: title.into(),
        quantity: 1,
        sku: None,
        category: category.map(str::to_owned),
    };
    let parcel = |status, number: &str, promised: Option<Timestamp>, delivered: Option<Timestamp>| Shipment {
        status,
        carrier: Some("SF Express".into()),
        tracking_number: Some(number.into()),
        tracking_url: Some(format!("https://track.example/{number}")),
        promised_at: promised,
        delivered_at: delivered,
    };
    let order = |id: &str, email: &str, placed: u64, lines: Vec<OrderLine>, shipment: Shipment| Order {
        id: format!("gid://shopify/Order/{id}"),
        name: format!("#{id}"),
        email: Some(email.into()),
        phone: None,
        created_at: days_ago(now, placed),
        cancelled: false,
        financial: FinancialStatus::Paid,
        fulfillment: FulfillmentStatus::Fulfilled,
        lines,
        shipments: vec![shipment],
    };
    vec![
        order(
            "1001",
            "ada@example.com",
            10,
            vec![line("1001-1", "Celadon teapot", None), line("1001-2", "Gift card", Some("gift_card"))],
            parcel(ShipmentStatus::Delivered, "SF1001", Some(days_ago(now, 6)), Some(days_ago(now, 6))),
        ),
        order(
            "1002",
            "mei@example.com",
            2,
            vec![line("1002-1", "Jasmine tea, 250 g", None)],
            parcel(ShipmentStatus::InTransit, "SF1002", Some(days_ahead(now, 2)), None),
        ),
        order(
            "1003",
            "li@example.com",
            9,
            vec![line("1003-1", "Tea table", None)],
            parcel(ShipmentStatus::InTransit, "SF1003", Some(days_ago(now, 3)), None),
        ),
        order(
            "1004",
            "sam@example.com",
            12,
            vec![line("1004-1", "Porcelain cups (6)", None)],
            parcel(ShipmentStatus::Failure, "SF1004", Some(days_ago(now, 5)), None),
        ),
        order(
            "1005",
            "bo@example.com",
            3,
            vec![line("1005-1", "Oolong sampler", None)],
            parcel(ShipmentStatus::InTransit, "SF1005", Some(days_ahead(now, 1)), None),
        ),
        order(
            "1006",
            "bo@example.com",
            1,
            vec![line("1006-1", "Bamboo tray", None)],
            parcel(ShipmentStatus::LabelPrinted, "SF1006", Some(days_ahead(now, 4)), None),
        ),
    ]
}
