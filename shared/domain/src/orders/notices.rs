//! The late-parcel check behind proactive notices: a shipment past its promised date by
//! the configured margin, or one the carrier marks failed, is a problem the desk tells the
//! customer about first — once per order and problem, however often the shop reports it.
//! Shop webhooks arrive as [`OrderSignal`]s on the inbound queue; the current order is read
//! from the shop again, so a stale or reordered delivery changes nothing.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Order, ShipmentStatus};
use crate::envelope::Versioned;
use crate::system::later;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Past its promised delivery by more than the margin.
    Late,
    /// The carrier reports a failure or exception.
    Exception,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Late => "late",
            Problem::Exception => "exception",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRules {
    /// How far past its promised date a parcel may be before the desk writes.
    pub late_margin: Duration,
}

impl Default for NoticeRules {
    fn default() -> Self {
        Self { late_margin: Duration::from_secs(24 * 3600) }
    }
}

/// The problems `order` has at `now`, each once.
pub fn problems(order: &Order, now: Timestamp, rules: &NoticeRules) -> Vec<Problem> {
    if order.cancelled {
        return Vec::new();
    }
    let mut found = Vec::new();
    for shipment in &order.shipments {
        let problem = if shipment.status == ShipmentStatus::Failure {
            Some(Problem::Exception)
        } else if shipment.delivered_at.is_none()
            && shipment.status != ShipmentStatus::Delivered
            && shipment.promised_at.is_some_and(|promised| later(promised, rules.late_margin) < now)
        {
            Some(Problem::Late)
        } else {
            None
        };
        if let Some(problem) = problem
            && !found.contains(&problem)
        {
            found.push(problem);
        }
    }
    found
}

/// "Look at this order again": what a verified shop webhook becomes on the inbound queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSignal {
    /// The shop's order name, e.g. `#1001`.
    pub order: String,
    /// What the shop said happened (`fulfillments/update`, `orders/updated`, `order.updated`).
    pub topic: String,
    /// The delivery's id as the shop sent it (for logs; the effect is keyed by problem).
    pub delivery: String,
}

impl Versioned for OrderSignal {
    const KIND: &'static str = "order_signal";
    const VERSION: u32 = 1;
}

/// The idempotency key of one notice: one per order and problem, ever.
pub fn notice_key(order: &str, problem: Problem) -> String {
    format!("order-notice:{order}:{}", problem.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::{FinancialStatus, FulfillmentStatus, Shipment};

    fn order(status: ShipmentStatus, promised: i64) -> Order {
        Order {
            id: "1".into(),
            name: "#1001".into(),
            email: Some("a@example.com".into()),
            phone: None,
            created_at: Timestamp::from_second(0).unwrap(),
            cancelled: false,
            financial: FinancialStatus::Paid,
            fulfillment: FulfillmentStatus::Fulfilled,
            lines: Vec::new(),
            shipments: vec![Shipment {
                status,
                carrier: None,
                tracking_number: None,
                tracking_url: None,
                promised_at: Some(Timestamp::from_second(promised).unwrap()),
                delivered_at: None,
            }],
        }
    }

    #[test]
    fn a_parcel_past_its_promise_by_more_than_the_margin_is_late() {
        let rules = NoticeRules { late_margin: Duration::from_secs(3600) };
        let now = Timestamp::from_second(10_000).unwrap();
        assert_eq!(problems(&order(ShipmentStatus::InTransit, 10_000 - 3601), now, &rules), [Problem::Late]);
        assert!(problems(&order(ShipmentStatus::InTransit, 10_000 - 3599), now, &rules).is_empty());
        assert!(problems(&order(ShipmentStatus::Delivered, 0), now, &rules).is_empty());
    }

    #[test]
    fn a_failed_shipment_is_an_exception_whatever_its_date() {
        let now = Timestamp::from_second(10).unwrap();
        assert_eq!(
            problems(&order(ShipmentStatus::Failure, 1_000), now, &NoticeRules::default()),
            [Problem::Exception]
        );
    }
}
