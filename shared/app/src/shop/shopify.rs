//! Shopify's Admin GraphQL API as an [`Orders`] adapter: one `orders` query by customer
//! email or phone, or by order name, with fulfillments and tracking. Throttling comes two
//! ways — HTTP 429, or 200 with a `THROTTLED` error and the bucket's state — and both are
//! retried after the wait the bucket implies (capped). User input never becomes query
//! syntax: values are quoted and escaped, and a name's result is compared exactly.

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use omnidesk_domain::orders::{
    Contact, FinancialStatus, FulfillmentStatus, MAX_ORDER_NAME_CHARS, MAX_ORDERS_PER_LOOKUP, Order,
    OrderLine, Orders, OrdersError, Shipment, ShipmentStatus,
};
use serde_json::{Value, json};

use super::http::{ShopHttp, json_body, verdict};

pub const ACCESS_TOKEN_HEADER: &str = "x-shopify-access-token";

/// The one query the adapter sends; `$q` is Shopify's search syntax.
pub const ORDERS_QUERY: &str = "query OrdersLookup($q: String!, $first: Int!) {
  orders(first: $first, query: $q, sortKey: PROCESSED_AT, reverse: true) {
    edges { node {
      id name email phone createdAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus
      lineItems(first: 20) { edges { node { id title quantity sku product { productType } } } }
      fulfillments(first: 10) {
        displayStatus estimatedDeliveryAt deliveredAt
        trackingInfo(first: 5) { number url company }
      }
    } }
  }
}";

pub struct ShopifyOrders {
    http: ShopHttp,
    endpoint: String,
    token: String,
}

impl ShopifyOrders {
    pub fn new(http: ShopHttp, base_url: &str, api_version: &str, token: &str) -> Self {
        let endpoint = format!("{base_url}/admin/api/{api_version}/graphql.json");
        Self { http, endpoint, token: token.to_owned() }
    }

    async fn query(&self, search: String) -> Result<Vec<Order>, OrdersError> {
        let body = json!({"query": ORDERS_QUERY, "variables": {"q": search, "first": MAX_ORDERS_PER_LOOKUP}});
        let data = self
            .http
            .send(
                || self.http.client.post(&self.endpoint).header(ACCESS_TOKEN_HEADER, &self.token).json(&body),
                |response| async move {
                    if let Err(verdict) = verdict(&response) {
                        return verdict.map(Err);
                    }
                    let value = json_body(response).await?;
                    Ok(match throttled(&value) {
                        Some(wait) => Err((OrdersError::RateLimited("Shopify cost throttling".into()), wait)),
                        None => Ok(value),
                    })
                },
            )
            .await?;
        if let Some(errors) = data.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
            let code = errors[0].pointer("/extensions/code").and_then(Value::as_str).unwrap_or("ERROR");
            return Err(match code {
                "ACCESS_DENIED" => OrdersError::Denied(code.to_owned()),
                "INTERNAL_SERVER_ERROR" => OrdersError::Unavailable(code.to_owned()),
                _ => OrdersError::Invalid(code.to_owned()),
            });
        }
        let edges = data
            .pointer("/data/orders/edges")
            .and_then(Value::as_array)
            .ok_or_else(|| OrdersError::Invalid("no data.orders.edges".into()))?;
        edges.iter().take(MAX_ORDERS_PER_LOOKUP).map(|edge| order_of(&edge["node"])).collect()
    }
}

#[async_trait]
impl Orders for ShopifyOrders {
    async fn orders_of(&self, contact: &Contact) -> Result<Vec<Order>, OrdersError> {
        let search = format!("{}:{}", contact.kind(), quoted(contact.value()));
        let orders = self.query(search).await?;
        // Shopify's search is fuzzy; only exact owners count.
        Ok(orders.into_iter().filter(|o| o.belongs_to(std::slice::from_ref(contact))).collect())
    }

    async fn order(&self, name: &str) -> Result<Option<Order>, OrdersError> {
        if name.is_empty() || name.chars().count() > MAX_ORDER_NAME_CHARS {
            return Ok(None);
        }
        // The schema's example names orders without `#`; much of the world writes it.
        let bare = name.trim_start_matches('#');
        for search in [format!("name:{}", quoted(bare)), format!("name:{}", quoted(name))] {
            if let Some(found) = self.query(search).await?.into_iter().find(|o| o.name == name) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// A search value in double quotes, `"` and `\` escaped.
pub fn quoted(value: &str) -> String {
    let escaped: String = value
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// The wait a `THROTTLED` answer implies: what the query needs beyond what the bucket has,
/// at the bucket's restore rate.
fn throttled(value: &Value) -> Option<Duration> {
    let errors = value.get("errors")?.as_array()?;
    if !errors.iter().any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED")) {
        return None;
    }
    let cost = value.pointer("/extensions/cost");
    let number = |path: &str| cost.and_then(|c| c.pointer(path)).and_then(Value::as_f64);
    let wait = match (
        number("/requestedQueryCost"),
        number("/throttleStatus/currentlyAvailable"),
        number("/throttleStatus/restoreRate"),
    ) {
        (Some(cost), Some(available), Some(rate)) if rate > 0.0 => ((cost - available) / rate).max(0.0),
        _ => 1.0,
    };
    Some(Duration::from_secs_f64(wait.min(60.0)))
}

fn text(node: &Value, key: &str) -> Option<String> {
    node.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn time(node: &Value, key: &str) -> Result<Option<Timestamp>, OrdersError> {
    match node.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| OrdersError::Invalid(format!("{key}: not a time"))),
    }
}

/// One `Order` node.
pub fn order_of(node: &Value) -> Result<Order, OrdersError> {
    let id = text(node, "id").ok_or_else(|| OrdersError::Invalid("order without id".into()))?;
    let name = text(node, "name").ok_or_else(|| OrdersError::Invalid("order without name".into()))?;
    let created_at =
        time(node, "createdAt")?.ok_or_else(|| OrdersError::Invalid("createdAt missing".into()))?;
    let lines = node
        .pointer("/lineItems/edges")
        .and_then(Value::as_array)
        .map(|edges| {
            edges
                .iter()
                .map(|edge| {
                    let line = &edge["node"];
                    OrderLine {
                        id: text(line, "id").unwrap_or_default(),
                        title: text(line, "title").unwrap_or_default(),
                        quantity: line
                            .get("quantity")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                            .min(u32::MAX.into()) as u32,
                        sku: text(line, "sku"),
                        category: line
                            .pointer("/product/productType")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut shipments = Vec::new();
    for fulfillment in node.get("fulfillments").and_then(Value::as_array).into_iter().flatten() {
        let tracking = fulfillment.get("trackingInfo").and_then(Value::as_array).and_then(|t| t.first());
        shipments.push(Shipment {
            status: ShipmentStatus::from_shop(
                fulfillment.get("displayStatus").and_then(Value::as_str).unwrap_or(""),
            ),
            carrier: tracking.and_then(|t| text(t, "company")),
            tracking_number: tracking.and_then(|t| text(t, "number")),
            tracking_url: tracking.and_then(|t| text(t, "url")),
            promised_at: time(fulfillment, "estimatedDeliveryAt")?,
            delivered_at: time(fulfillment, "deliveredAt")?,
        });
    }
    Ok(Order {
        id,
        name,
        email: text(node, "email").map(|e| e.to_lowercase()),
        phone: text(node, "phone"),
        created_at,
        cancelled: node.get("cancelledAt").is_some_and(|v| !v.is_null()),
        financial: financial(node.get("displayFinancialStatus").and_then(Value::as_str).unwrap_or("")),
        fulfillment: fulfillment(node.get("displayFulfillmentStatus").and_then(Value::as_str).unwrap_or("")),
        lines,
        shipments,
    })
}

/// `OrderDisplayFinancialStatus`, also the webhook's lower-case `financial_status`.
pub fn financial(word: &str) -> FinancialStatus {
    match word.to_ascii_uppercase().as_str() {
        "PENDING" | "AUTHORIZED" | "PARTIALLY_PAID" => FinancialStatus::Pending,
        "PAID" => FinancialStatus::Paid,
        "PARTIALLY_REFUNDED" => FinancialStatus::PartiallyRefunded,
        "REFUNDED" => FinancialStatus::Refunded,
        "VOIDED" | "EXPIRED" => FinancialStatus::Voided,
        _ => FinancialStatus::Other,
    }
}

/// `OrderDisplayFulfillmentStatus`; unknown values are `Other`, never an error.
pub fn fulfillment(word: &str) -> FulfillmentStatus {
    match word.to_ascii_uppercase().as_str() {
        "UNFULFILLED" | "OPEN" | "PENDING_FULFILLMENT" | "SCHEDULED" => FulfillmentStatus::Unfulfilled,
        "IN_PROGRESS" => FulfillmentStatus::InProgress,
        "PARTIALLY_FULFILLED" | "PARTIAL" => FulfillmentStatus::Partial,
        "FULFILLED" => FulfillmentStatus::Fulfilled,
        "ON_HOLD" => FulfillmentStatus::OnHold,
        _ => FulfillmentStatus::Other,
    }
}
