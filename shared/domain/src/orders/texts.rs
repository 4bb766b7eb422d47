//! What the desk tells customers about their orders, in their language: status and
//! tracking, "which order?", the refusals, the late-parcel notice and each return step.
//! Order data is shown as data: names, carriers and titles are quoted, never formatted.

use super::{FinancialStatus, Order, Problem, ReturnAnswer, ReturnRefusal, ReturnState, ShipmentStatus};
use crate::kb::Language;
use crate::model::{ChannelRef, Direction, Message, TicketNumber};

/// The language a conversation is held in: the customer's latest message decides — a mail's
/// own language tag, else the same detection the bot uses — and `fallback` (the ticket's
/// language) when the customer has written nothing yet.
pub fn conversation_language(thread: &[Message], fallback: Option<&str>) -> Language {
    let latest = thread.iter().filter(|m| m.direction == Direction::Inbound).max_by_key(|m| m.created_at);
    if let Some(message) = latest {
        if let ChannelRef::Email { language: Some(tag), .. } = &message.channel_ref {
            return language_of_tag(tag);
        }
        if !message.text.trim().is_empty() {
            return crate::kb::detect_language(&message.text);
        }
    }
    fallback.map_or(Language::En, language_of_tag)
}

/// `zh`, `zh-CN`, `zh-Hans` … are Chinese; anything else English.
pub fn language_of_tag(tag: &str) -> Language {
    if tag.to_ascii_lowercase().starts_with("zh") { Language::ZhCn } else { Language::En }
}

pub struct OrderTexts {
    language: Language,
}

impl OrderTexts {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    /// The language tag mail and events carry.
    pub fn tag(&self) -> &'static str {
        match self.language {
            Language::ZhCn => "zh",
            Language::En => "en",
        }
    }

    /// Status, items and every parcel's tracking.
    pub fn status(&self, order: &Order) -> String {
        let zh = self.language == Language::ZhCn;
        let mut text = if zh {
            format!("订单 {}:{}。", order.name, self.order_state(order))
        } else {
            format!("Order {}: {}.", order.name, self.order_state(order))
        };
        let items: Vec<String> =
            order.lines.iter().map(|l| format!("{} × {}", l.title, l.quantity)).collect();
        if !items.is_empty() {
            text.push_str(&if zh {
                format!("\n商品:{}", items.join("、"))
            } else {
                format!("\nItems: {}", items.join(", "))
            });
        }
        for shipment in &order.shipments {
            let carrier = shipment.carrier.as_deref().unwrap_or(if zh { "快递" } else { "carrier" });
            let number = shipment.tracking_number.as_deref().unwrap_or("-");
            let state = self.shipment_state(shipment.status);
            text.push_str(&if zh {
                format!("\n包裹:{carrier} {number},{state}")
            } else {
                format!("\nParcel: {carrier} {number}, {state}")
            });
            if let Some(url) = &shipment.tracking_url {
                text.push_str(&if zh { format!(",查询:{url}") } else { format!(", track: {url}") });
            }
            if let (Some(promised), None) = (shipment.promised_at, shipment.delivered_at) {
                let day = promised.strftime("%Y-%m-%d");
                text.push_str(&if zh {
                    format!(",预计 {day} 送达")
                } else {
                    format!(", expected {day}")
                });
            }
        }
        text.push_str(if zh {
            "\n\n还有其他问题吗?回复“是”表示已解决,或回复“转人工”。"
        } else {
            "\n\nDoes that answer it? Reply \"yes\", or \"talk to a person\"."
        });
        text
    }

    fn order_state(&self, order: &Order) -> &'static str {
        let zh = self.language == Language::ZhCn;
        if order.cancelled {
            return if zh { "已取消" } else { "cancelled" };
        }
        match order.financial {
            FinancialStatus::Refunded => return if zh { "已退款" } else { "refunded" },
            FinancialStatus::PartiallyRefunded => return if zh { "部分退款" } else { "partly refunded" },
            _ => {}
        }
        if order.delivered_at().is_some() {
            return if zh { "已送达" } else { "delivered" };
        }
        if order.shipments.is_empty() {
            return if zh { "已下单,待发货" } else { "placed, not shipped yet" };
        }
        if zh { "已发货" } else { "shipped" }
    }

    fn shipment_state(&self, status: ShipmentStatus) -> &'static str {
        let zh = self.language == Language::ZhCn;
        match status {
            ShipmentStatus::LabelPrinted | ShipmentStatus::Confirmed => {
                if zh {
                    "已交给快递"
                } else {
                    "handed to the carrier"
                }
            }
            ShipmentStatus::InTransit => {
                if zh {
                    "运输中"
                } else {
                    "in transit"
                }
            }
            ShipmentStatus::OutForDelivery => {
                if zh {
                    "派送中"
                } else {
                    "out for delivery"
                }
            }
            ShipmentStatus::AttemptedDelivery => {
                if zh {
                    "投递未成功"
                } else {
                    "delivery attempted"
                }
            }
            ShipmentStatus::ReadyForPickup => {
                if zh {
                    "待取件"
                } else {
                    "ready for pickup"
                }
            }
            ShipmentStatus::Delayed => {
                if zh {
                    "延误"
                } else {
                    "delayed"
                }
            }
            ShipmentStatus::Delivered => {
                if zh {
                    "已签收"
                } else {
                    "delivered"
                }
            }
            ShipmentStatus::Failure => {
                if zh {
                    "运输异常"
                } else {
                    "a delivery problem"
                }
            }
            ShipmentStatus::Other => {
                if zh {
                    "处理中"
                } else {
                    "in progress"
                }
            }
        }
    }

    pub fn choose(&self, names: &[String]) -> String {
        match self.language {
            Language::ZhCn => {
                format!("您有几个未完成的订单:{}。请问是哪一个?回复订单号即可。", names.join("、"))
            }
            Language::En => format!(
                "You have several open orders: {}. Which one do you mean? Reply with its number.",
                names.join(", ")
            ),
        }
    }

    pub fn not_yours(&self, ticket: TicketNumber) -> String {
        match self.language {
            Language::ZhCn => format!(
                "抱歉,我无法在您的联系方式下找到这个订单,所以不能显示它的信息。客服会核实后回复您,工单号 {ticket}。"
            ),
            Language::En => format!(
                "Sorry, I can't find that order under your contact details, so I can't show anything about it. A person will check and get back to you; your ticket is {ticket}."
            ),
        }
    }

    pub fn no_orders(&self, ticket: TicketNumber) -> String {
        match self.language {
            Language::ZhCn => format!("我没有找到您名下的订单。客服会帮您查询,工单号 {ticket}。"),
            Language::En => format!(
                "I couldn't find orders under your contact details. A person will look into it; your ticket is {ticket}."
            ),
        }
    }

    pub fn unavailable(&self, ticket: TicketNumber) -> String {
        match self.language {
            Language::ZhCn => format!("抱歉,暂时无法查询订单。客服会尽快回复您,工单号 {ticket}。"),
            Language::En => format!(
                "Sorry, I can't look up orders right now. We'll get back to you shortly; your ticket is {ticket}."
            ),
        }
    }

    pub fn notice_subject(&self, order: &str, problem: Problem) -> String {
        match (self.language, problem) {
            (Language::ZhCn, Problem::Late) => format!("您的订单 {order} 延误了"),
            (Language::ZhCn, Problem::Exception) => format!("您的订单 {order} 运输异常"),
            (Language::En, Problem::Late) => format!("Your order {order} is running late"),
            (Language::En, Problem::Exception) => {
                format!("A problem with the delivery of your order {order}")
            }
        }
    }

    /// The proactive notice: we noticed first, and what happens next.
    pub fn notice(&self, order: &Order, problem: Problem, ticket: TicketNumber) -> String {
        let tracking = order
            .shipments
            .iter()
            .filter_map(|s| s.tracking_number.as_deref())
            .collect::<Vec<_>>()
            .join(", ");
        match (self.language, problem) {
            (Language::ZhCn, Problem::Late) => format!(
                "您好!您的订单 {} 的包裹(运单 {tracking})已超过预计送达时间。我们已联系快递跟进,有新消息会第一时间告诉您。如需帮助,直接回复即可,工单号 {ticket}。",
                order.name
            ),
            (Language::ZhCn, Problem::Exception) => format!(
                "您好!快递报告您的订单 {} 的包裹(运单 {tracking})出现运输异常。我们正在处理,会尽快为您补发或退款。直接回复即可联系我们,工单号 {ticket}。",
                order.name
            ),
            (Language::En, Problem::Late) => format!(
                "Hello! The parcel of your order {} (tracking {tracking}) is past its promised delivery date. We have asked the carrier and will tell you as soon as we hear. Just reply if you need anything; your ticket is {ticket}.",
                order.name
            ),
            (Language::En, Problem::Exception) => format!(
                "Hello! The carrier reports a problem with the parcel of your order {} (tracking {tracking}). We are on it and will reship or refund it. Just reply to reach us; your ticket is {ticket}.",
                order.name
            ),
        }
    }

    /// The customer's word on one return step.
    pub fn return_step(&self, order: &str, state: ReturnState, reason: Option<&str>) -> String {
        let zh = self.language == Language::ZhCn;
        match state {
            ReturnState::Requested if zh => {
                format!("已收到订单 {order} 的退换货申请,我们会在 1 个工作日内审核。")
            }
            ReturnState::Requested => {
                format!(
                    "We received your return request for order {order} and will review it within one business day."
                )
            }
            ReturnState::Approved if zh => format!("订单 {order} 的退换货申请已通过,退货标签稍后发送给您。"),
            ReturnState::Approved => {
                format!("Your return for order {order} is approved; the return label follows.")
            }
            ReturnState::Rejected if zh => {
                format!("抱歉,订单 {order} 的退换货申请未通过:{}。", reason.unwrap_or("不符合退货规则"))
            }
            ReturnState::Rejected => format!(
                "Sorry, your return for order {order} was not approved: {}.",
                reason.unwrap_or("it does not meet the return rules")
            ),
            ReturnState::LabelSent if zh => format!("订单 {order} 的退货标签已发送,请打印后寄回商品。"),
            ReturnState::LabelSent => {
                format!("The return label for order {order} is on its way: print it and send the item back.")
            }
            ReturnState::Received if zh => {
                format!("我们已收到订单 {order} 的退货,将在 3 个工作日内处理退款或换货。")
            }
            ReturnState::Received => format!(
                "We received the item from order {order}; the refund or exchange follows within three business days."
            ),
            ReturnState::Refunded if zh => format!("订单 {order} 的退款已完成,款项将原路退回。"),
            ReturnState::Refunded => {
                format!("Your refund for order {order} is done; it goes back to how you paid.")
            }
            ReturnState::Exchanged if zh => format!("订单 {order} 的换货已寄出。"),
            ReturnState::Exchanged => format!("The replacement for order {order} is on its way."),
        }
    }

    /// A rule's refusal, in the customer's language.
    pub fn refusal(&self, refusal: &ReturnRefusal) -> String {
        if self.language == Language::En {
            return format!("{refusal}.");
        }
        match refusal {
            ReturnRefusal::UnknownLine(order, line) => format!("订单 {order} 中没有商品 {line}。"),
            ReturnRefusal::NotDelivered(order) => format!("订单 {order} 尚未送达:签收后才能申请退换货。"),
            ReturnRefusal::OutsideWindow { order, window, days } => {
                format!("退换货须在签收后 {window} 天内申请;订单 {order} 已签收 {days} 天。")
            }
            ReturnRefusal::NotReturnable { category } => format!("{category} 类商品不支持退换货。"),
            ReturnRefusal::EvidenceRequired => "商品破损需要至少附上一张照片。".to_owned(),
            ReturnRefusal::AlreadyReturning(order) => format!("订单 {order} 已有一个退换货申请在处理中。"),
        }
    }

    /// The answer to a customer's own return request; an opened return is told in its first
    /// step's words ([`Self::return_step`]).
    pub fn return_answer(&self, answer: &ReturnAnswer, ticket: TicketNumber) -> String {
        let zh = self.language == Language::ZhCn;
        match answer {
            ReturnAnswer::Requested(case) => self.return_step(&case.order, ReturnState::Requested, None),
            ReturnAnswer::Refused { order, refusal } if zh => {
                format!("抱歉,订单 {order} 无法申请退换货:{}", self.refusal(refusal))
            }
            ReturnAnswer::Refused { order, refusal } => {
                format!("Sorry, order {order} cannot be returned: {}", self.refusal(refusal))
            }
            ReturnAnswer::ChooseOrder(names) if zh => {
                format!("您想退换哪个订单的商品?{}。回复订单号即可。", names.join("、"))
            }
            ReturnAnswer::ChooseOrder(names) => format!(
                "Which order would you like to return from? {}. Reply with its number.",
                names.join(", ")
            ),
            ReturnAnswer::ChooseLine { order, lines } => {
                let titles: Vec<&str> = lines.iter().map(|(_, title)| title.as_str()).collect();
                if zh {
                    format!("订单 {order} 中您想退换哪件商品?{}。回复商品名称即可。", titles.join("、"))
                } else {
                    format!(
                        "Which item of order {order} would you like to return? {}. Reply with its name.",
                        titles.join(", ")
                    )
                }
            }
            ReturnAnswer::NeedPhotos { order } if zh => {
                format!("很抱歉商品有破损。请发送破损处的照片,我们收到后即为订单 {order} 提交退换货申请。")
            }
            ReturnAnswer::NeedPhotos { order } => format!(
                "Sorry it arrived damaged. Please send photos of the damage; with them we file the return for order {order}."
            ),
            ReturnAnswer::NotYours => self.not_yours(ticket),
            ReturnAnswer::NoOrders => self.no_orders(ticket),
            ReturnAnswer::Unavailable => self.unavailable(ticket),
        }
    }

    /// The help centre form's confirmation mail: the link starts the return.
    pub fn return_link_mail(
        &self,
        order: &str,
        item: &str,
        link: &str,
        valid_hours: u64,
    ) -> (String, String) {
        match self.language {
            Language::ZhCn => (
                format!("请确认订单 {order} 的退换货申请"),
                format!(
                    "您好!\n\n我们收到了订单 {order} 中「{item}」的退换货申请。如果是您本人提交的,请在 {valid_hours} 小时内打开下面的链接确认:\n\n{link}\n\n如果不是您提交的,请忽略此邮件,什么都不会发生。"
                ),
            ),
            Language::En => (
                format!("Please confirm the return for order {order}"),
                format!(
                    "Hello,\n\nWe received a request to return \"{item}\" from order {order}. If it was you, confirm it within {valid_hours} hours at:\n\n{link}\n\nIf it was not you, ignore this mail: nothing happens."
                ),
            ),
        }
    }

    /// The help centre form's mail when the rules refuse the request: no link, the rule.
    pub fn return_refused_mail(&self, order: &str, refusal: &ReturnRefusal) -> (String, String) {
        match self.language {
            Language::ZhCn => (
                format!("订单 {order} 的退换货申请"),
                format!(
                    "您好!\n\n我们收到了订单 {order} 的退换货申请,但无法受理:{}\n\n如有疑问,直接回复此邮件即可。",
                    self.refusal(refusal)
                ),
            ),
            Language::En => (
                format!("Your return request for order {order}"),
                format!(
                    "Hello,\n\nWe received a return request for order {order} but cannot accept it: {}\n\nReply to this mail if you have questions.",
                    self.refusal(refusal)
                ),
            ),
        }
    }

    /// The subject of a return's ticket opened from the help centre.
    pub fn return_subject(&self, order: &str) -> String {
        match self.language {
            Language::ZhCn => format!("订单 {order} 退换货"),
            Language::En => format!("Return for order {order}"),
        }
    }

    /// The customer's request as the form carried it, for the ticket's thread.
    pub fn form_request(&self, item: &str, reason: &str) -> String {
        match self.language {
            Language::ZhCn => {
                format!("退换货申请(帮助中心表单,已通过邮件链接确认)\n商品:{item}\n原因:{reason}")
            }
            Language::En => format!(
                "Return request (help centre form, confirmed by the mailed link)\nItem: {item}\nReason: {reason}"
            ),
        }
    }
}
