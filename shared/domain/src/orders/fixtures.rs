//! One order builder for the tests of orders, notices, returns and the desk: a paid,
//! fulfilled order of one teapot in one SF Express parcel, changed field by field.

use jiff::Timestamp;

use super::{FinancialStatus, FulfillmentStatus, Order, OrderLine, Shipment, ShipmentStatus};

pub(crate) struct OrderBuilder {
    order: Order,
}

/// An order named `name` (id `gid-<name>`), placed by mei@example.com at the epoch, its
/// parcel in transit.
pub(crate) fn an_order(name: &str) -> OrderBuilder {
    OrderBuilder {
        order: Order {
            id: format!("gid-{name}"),
            name: name.into(),
            email: Some("mei@example.com".into()),
            phone: None,
            created_at: Timestamp::UNIX_EPOCH,
            cancelled: false,
            financial: FinancialStatus::Paid,
            fulfillment: FulfillmentStatus::Fulfilled,
            lines: vec![line("l1", "Teapot", None)],
            shipments: vec![Shipment {
                status: ShipmentStatus::InTransit,
                carrier: Some("SF Express".into()),
                tracking_number: Some("SF100".into()),
                tracking_url: None,
                promised_at: None,
                delivered_at: None,
            }],
        },
    }
}

pub(crate) fn line(id: &str, title: &str, category: Option<&str>) -> OrderLine {
    OrderLine {
        id: id.into(),
        title: title.into(),
        quantity: 1,
        sku: None,
        category: category.map(str::to_owned),
    }
}

impl OrderBuilder {
    pub(crate) fn id(mut self, id: &str) -> Self {
        self.order.id = id.into();
        self
    }

    pub(crate) fn email(mut self, email: &str) -> Self {
        self.order.email = Some(email.into());
        self
    }

    pub(crate) fn created(mut self, at: Timestamp) -> Self {
        self.order.created_at = at;
        self
    }

    pub(crate) fn tracking(mut self, number: &str) -> Self {
        self.parcel().tracking_number = Some(number.into());
        self
    }

    /// The parcel's status; a delivered one was delivered when the order was placed.
    pub(crate) fn status(mut self, status: ShipmentStatus) -> Self {
        let created = self.order.created_at;
        let parcel = self.parcel();
        parcel.status = status;
        parcel.delivered_at = (status == ShipmentStatus::Delivered).then_some(created);
        self
    }

    pub(crate) fn delivered(mut self, at: Timestamp) -> Self {
        let parcel = self.parcel();
        parcel.status = ShipmentStatus::Delivered;
        parcel.delivered_at = Some(at);
        self
    }

    pub(crate) fn promised(mut self, at: Timestamp) -> Self {
        self.parcel().promised_at = Some(at);
        self
    }

    pub(crate) fn lines(mut self, lines: Vec<OrderLine>) -> Self {
        self.order.lines = lines;
        self
    }

    pub(crate) fn build(self) -> Order {
        self.order
    }

    fn parcel(&mut self) -> &mut Shipment {
        &mut self.order.shipments[0]
    }
}
