//! The chat bot's step in routing a chat message: the decision comes from
//! [`crate::bot::decide`]; this applies it inside the router's one commit — the bot's
//! message (and its delivery), an internal note of what matched and how well, the
//! `bot_*` event, solving a self-served ticket or putting it in its team's queue.

use std::sync::Arc;

use jiff::Timestamp;

use super::{RouteError, TicketRouter};
use crate::bot::{
    self, BotDecision, BotRules, BotState, BotTexts, HandoffReason, Intent, IntentDetector, ORDER_STATUS,
    RETURN_REQUEST,
};
use crate::inbound::{InboundMessage, Source};
use crate::kb::Catalogue;
use crate::model::{
    Actor, AuthorKind, ChannelRef, CustomerId, Direction, EventKind, Message, MessageId, Status, Ticket,
    TicketEvent, Visibility,
};
use crate::orders::{OrderAnswer, OrderTexts, ReturnAnswer, ReturnAsk};
use crate::outbound::{Destination, OutboundJob, OutboundKind};

/// Tag of a ticket the bot solved: self-served.
pub const SELF_SERVED_TAG: &str = "self_served";

/// The bot the router consults: its rules, its intents and the knowledge base.
pub struct ChatBot {
    pub rules: BotRules,
    pub detectors: Vec<Box<dyn IntentDetector>>,
    pub catalogue: Arc<Catalogue>,
}

/// The bot's decision on one message, before it is applied.
pub(super) struct BotTurn {
    intent: Intent,
    decision: BotDecision,
    state: BotState,
    /// A return request: what the customer asked so far, and who asked.
    ask: Option<(ReturnAsk, CustomerId)>,
}

impl BotTurn {
    /// The ticket goes to a person now (and so is routed to its team).
    pub(super) fn hands_off(&self) -> bool {
        match &self.decision {
            BotDecision::Handoff { .. } => true,
            BotDecision::Order { answer } => bot::order_handoff(answer).is_some(),
            BotDecision::Return { answer } => bot::return_handoff(answer),
            _ => false,
        }
    }

    /// The bot keeps the conversation: the ticket waits outside the team's queue.
    pub(super) fn holds(&self) -> bool {
        match &self.decision {
            BotDecision::Answer { .. } | BotDecision::Reprompt { .. } => true,
            BotDecision::Order { answer } => bot::order_handoff(answer).is_none(),
            BotDecision::Return { answer } => !bot::return_handoff(answer),
            _ => false,
        }
    }
}

/// What applying a turn adds to the commit.
pub(super) struct BotEffects {
    pub messages: Vec<Message>,
    pub events: Vec<TicketEvent>,
    pub outbound: Option<OutboundJob>,
}

impl TicketRouter {
    /// The bot's turn on a chat message, if its inbox has the bot and the conversation is
    /// still the bot's (a new ticket, or one the bot holds).
    pub(super) async fn bot_turn(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: Option<&Ticket>,
    ) -> Result<Option<BotTurn>, RouteError> {
        let (Some(bot), Source::Chat { inbox, .. }) = (&self.bot, &inbound.source) else {
            return Ok(None);
        };
        if !bot.rules.enabled_for(inbox) {
            return Ok(None);
        }
        let state = match ticket {
            None => BotState::default(),
            Some(ticket) => match &ticket.bot {
                Some(state) if bot::holds(ticket) => state.clone(),
                _ => return Ok(None),
            },
        };
        let intent = bot::classify(&bot.detectors, &inbound.text, state.awaiting);
        // A return the bot asked more about goes on, unless the customer wants a person.
        let returning = intent == Intent::Named(RETURN_REQUEST)
            || (Self::return_pending(ticket) && !matches!(intent, Intent::Handoff | Intent::Complaint));
        if let (true, Some(lookup)) = (returning, &self.orders)
            && let Some(ask) = self.chat_return_ask(inbound, ticket)
        {
            let answer = self.return_answer(lookup, customer, ticket, &ask).await?;
            let intent = Intent::Named(RETURN_REQUEST);
            let decision = BotDecision::Return { answer };
            return Ok(Some(BotTurn { intent, decision, state, ask: Some((ask, customer.clone())) }));
        }
        // Files are for a person to look at (photos for a return that waits were taken above);
        // a customer who also asked for a person, or complained, is counted for what they said.
        if !inbound.attachments.is_empty() {
            let article = state.answered.last().cloned();
            let reason = match intent {
                Intent::Handoff => HandoffReason::Requested,
                Intent::Complaint => HandoffReason::Complaint,
                _ => HandoffReason::Files,
            };
            let decision = BotDecision::Handoff { reason, article, best: None };
            return Ok(Some(BotTurn { intent, decision, state, ask: None }));
        }
        // Order status is the shop's to answer, with or without articles.
        if let (Intent::Named(ORDER_STATUS), Some(lookup)) = (&intent, &self.orders) {
            let answer = self.order_answer(lookup, customer, &inbound.text).await?;
            return Ok(Some(BotTurn { intent, decision: BotDecision::Order { answer }, state, ask: None }));
        }
        let index = match bot.catalogue.index().await {
            Ok(index) => index,
            // Without its articles the bot steps aside: a person answers, nothing is lost.
            Err(error) => {
                tracing::warn!(%error, "bot.catalogue_unavailable");
                return Ok(None);
            }
        };
        let decision = bot::decide(&state, &intent, &inbound.text, &index, bot.rules.min_confidence);
        Ok(Some(BotTurn { intent, decision, state, ask: None }))
    }

    /// Applies `turn` to `ticket`: its state, status, tags, events, the note and the message.
    pub(super) fn apply_bot_turn(
        &self,
        turn: BotTurn,
        inbound: &InboundMessage,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Result<BotEffects, RouteError> {
        let Some(bot) = &self.bot else {
            return Ok(BotEffects { messages: Vec::new(), events: Vec::new(), outbound: None });
        };
        let texts = BotTexts::new(bot::reply_language(&inbound.text));
        let intent = turn.intent.name().to_owned();
        let mut state = bot::next_state(&turn.state, &turn.decision);
        if turn.holds() {
            // The bot spoke and keeps the conversation: silence from here closes it.
            bot::idle::arm(&mut state, &intent, now, bot.rules.close_after_minutes);
        }
        ticket.bot = Some(state);
        let mut events = Vec::new();
        let (text, note, kind) = match &turn.decision {
            BotDecision::Answer { hit } => {
                let link = article_link(&bot.rules, &hit.slug);
                events.push(ticket.record(
                    Actor::System,
                    EventKind::BotAnswered {
                        intent: intent.clone(),
                        article: hit.slug.clone(),
                        confidence: percent(hit.confidence),
                    },
                    now,
                ));
                // The sureness is what the bot compared with its threshold; the confidence alone
                // can look low for a long question the article answers.
                let note = format!(
                    "Bot answered ({intent}) with article {} \"{}\", confidence {}%, sureness {}%, score {:.2}.",
                    hit.slug,
                    hit.title,
                    percent(hit.confidence),
                    percent(bot::sureness(hit)),
                    hit.score
                );
                (texts.answer(hit, &link), note, OutboundKind::BotAnswer)
            }
            BotDecision::Reprompt { best, suggestions } => {
                let listed: Vec<(&crate::kb::Hit, String)> =
                    suggestions.iter().map(|hit| (hit, article_link(&bot.rules, &hit.slug))).collect();
                let slugs: Vec<&str> = suggestions.iter().map(|hit| hit.slug.as_str()).collect();
                let listed_note =
                    if slugs.is_empty() { String::new() } else { format!("; listed {}", slugs.join(", ")) };
                let note = format!(
                    "Bot found no article good enough ({intent}); {}{listed_note}.",
                    closest(best.as_ref())
                );
                (texts.reprompt(&listed), note, OutboundKind::BotMessage)
            }
            BotDecision::Helped { article } => {
                events.push(ticket.record(
                    Actor::System,
                    EventKind::BotHelped { intent: intent.clone(), article: article.clone() },
                    now,
                ));
                let mut tags = ticket.tags.clone();
                tags.insert(SELF_SERVED_TAG.to_owned());
                events.extend(ticket.set_tags(&Actor::System, tags, now)?);
                events.extend(ticket.set_status(&Actor::System, Status::Solved, now)?);
                let note = format!("Bot: the customer said article {article} helped; solved as self-served.");
                (texts.helped(ticket.number), note, OutboundKind::BotMessage)
            }
            BotDecision::Handoff { reason, article, best } => {
                events.push(ticket.record(
                    Actor::System,
                    EventKind::BotHandoff {
                        intent: intent.clone(),
                        reason: reason.as_str().to_owned(),
                        article: article.clone(),
                    },
                    now,
                ));
                let note = format!(
                    "Bot handed over to a person: {} (intent {intent}); last article {}; {}.",
                    reason.as_str(),
                    article.as_deref().unwrap_or("none"),
                    closest(best.as_ref())
                );
                (texts.handoff(ticket.number), note, OutboundKind::BotMessage)
            }
            BotDecision::Order { answer } => {
                let language = bot::reply_language(&inbound.text);
                let (text, note, kind) = order_reply(answer, ticket, &intent, language, &mut events, now);
                (text, note, kind)
            }
            BotDecision::Return { answer } => {
                if let Some((ask, customer)) = &turn.ask {
                    events.extend(self.apply_return(answer, ask, customer, ticket, now));
                }
                let language = bot::reply_language(&inbound.text);
                return_reply(answer, ticket, &intent, language, &mut events, now)
            }
        };
        let note = self.bot_message(ticket, note, Visibility::Internal, now);
        events.extend(ticket.add_message(&Actor::System, &note, now)?);
        let reply = self.bot_message(ticket, text, Visibility::Public, now);
        events.extend(ticket.add_message(&Actor::System, &reply, now)?);
        let outbound = chat_job(inbound, &reply, kind);
        // Files the armed close on the due index (or takes it off), with or without `[sla]`.
        crate::sla::derive_due(ticket, now);
        tracing::info!(ticket = ticket.number.0, intent = %intent, decision = decision_name(&turn.decision), "bot.turn");
        Ok(BotEffects { messages: vec![note, reply], events, outbound })
    }

    /// The bot keeps this conversation but took no turn on the customer's message (its
    /// articles are unavailable, it is switched off for the inbox, or the message came by
    /// another channel): a person takes over, as on a handoff, so the message is neither left
    /// in no queue nor closed later for silence. Returns the events and the agent's note.
    pub(super) async fn bot_steps_aside(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Result<(Vec<TicketEvent>, Option<Message>), RouteError> {
        if !bot::holds(ticket) {
            return Ok((Vec::new(), None));
        }
        let Some(state) = ticket.bot.as_mut() else { return Ok((Vec::new(), None)) };
        state.done = true;
        state.awaiting = false;
        state.choosing = false;
        state.close_at = None;
        let article = state.answered.last().cloned();
        let intent = state.intent.clone().unwrap_or_else(|| "none".to_owned());
        let reason = HandoffReason::Unavailable.as_str().to_owned();
        let mut events =
            vec![ticket.record(Actor::System, EventKind::BotHandoff { intent, reason, article }, now)];
        let text = "Bot could not take the customer's message (no articles, bot off for this inbox, or another channel); handed over to a person.".to_owned();
        let note = self.bot_message(ticket, text, Visibility::Internal, now);
        events.extend(ticket.add_message(&Actor::System, &note, now)?);
        events.extend(self.hand_to_team(inbound, customer, ticket, now).await?);
        tracing::info!(ticket = ticket.number.0, "bot.stepped_aside");
        Ok((events, Some(note)))
    }

    fn bot_message(&self, ticket: &Ticket, text: String, visibility: Visibility, now: Timestamp) -> Message {
        Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: ticket.number,
            direction: Direction::Outbound,
            author: AuthorKind::System,
            author_id: Some("bot".to_owned()),
            visibility,
            text,
            attachments: Vec::new(),
            channel_ref: ChannelRef::None,
            created_at: now,
            flags: Default::default(),
        }
    }

    /// Puts a ticket the bot hands over into its team's queue (and to an agent, if one is
    /// free), as a new ticket without the bot would have been.
    pub(super) async fn hand_to_team(
        &self,
        inbound: &InboundMessage,
        customer: &CustomerId,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Result<Vec<TicketEvent>, RouteError> {
        if ticket.team.is_some() {
            return Ok(Vec::new());
        }
        self.route_to_team(inbound, customer, ticket, now).await
    }
}

/// Where the help centre shows `slug`.
fn article_link(rules: &bot::BotRules, slug: &str) -> String {
    crate::kb::article_page_url(&rules.help_centre_url, slug)
}

fn percent(confidence: f32) -> u8 {
    (confidence.clamp(0.0, 1.0) * 100.0).round() as u8
}

fn closest(best: Option<&crate::kb::Hit>) -> String {
    match best {
        Some(hit) => format!(
            "closest article {} at confidence {}%, score {:.2}",
            hit.slug,
            percent(hit.confidence),
            hit.score
        ),
        None => "no article matched at all".to_owned(),
    }
}

fn decision_name(decision: &BotDecision) -> &'static str {
    match decision {
        BotDecision::Answer { .. } => "answer",
        BotDecision::Reprompt { .. } => "reprompt",
        BotDecision::Helped { .. } => "helped",
        BotDecision::Handoff { .. } => "handoff",
        BotDecision::Order { .. } => "order",
        BotDecision::Return { .. } => "return",
    }
}

/// The bot's words, note and events for an order-status answer; nothing about an order that
/// is not the customer's reaches the text or the note.
fn order_reply(
    answer: &OrderAnswer,
    ticket: &mut Ticket,
    intent: &str,
    language: crate::kb::Language,
    events: &mut Vec<TicketEvent>,
    now: Timestamp,
) -> (String, String, OutboundKind) {
    let texts = OrderTexts::new(language);
    match answer {
        OrderAnswer::Status(order) => {
            events.extend(super::order_step::link(ticket, order.name.clone(), now));
            events.push(ticket.record(
                Actor::System,
                EventKind::BotAnswered {
                    intent: intent.to_owned(),
                    article: format!("order:{}", order.name),
                    confidence: 100,
                },
                now,
            ));
            let note = format!("Bot answered the status of order {} from the shop.", order.name);
            (texts.status(order), note, OutboundKind::BotAnswer)
        }
        OrderAnswer::Choose(names) => {
            let note = format!("Bot asked which order: {}.", names.join(", "));
            (texts.choose(names), note, OutboundKind::BotMessage)
        }
        other => {
            let reason = bot::order_handoff(other).map_or("order", |r| r.as_str());
            events.push(ticket.record(
                Actor::System,
                EventKind::BotHandoff { intent: intent.to_owned(), reason: reason.to_owned(), article: None },
                now,
            ));
            let note =
                format!("Bot handed over to a person: {reason} (intent {intent}); no order data shown.");
            let text = match other {
                OrderAnswer::NotYours => texts.not_yours(ticket.number),
                OrderAnswer::NoOrders => texts.no_orders(ticket.number),
                _ => texts.unavailable(ticket.number),
            };
            (text, note, OutboundKind::BotMessage)
        }
    }
}

/// The bot's words, note and events for a customer's return request; an order that is not
/// theirs is named nowhere, not even in the note.
fn return_reply(
    answer: &ReturnAnswer,
    ticket: &mut Ticket,
    intent: &str,
    language: crate::kb::Language,
    events: &mut Vec<TicketEvent>,
    now: Timestamp,
) -> (String, String, OutboundKind) {
    let text = OrderTexts::new(language).return_answer(answer, ticket.number);
    let note = match answer {
        ReturnAnswer::Requested(case) => format!(
            "Bot filed the customer's return of line {} of order {}; it waits for approval.",
            case.line, case.order
        ),
        ReturnAnswer::Refused { order, refusal } => {
            format!("Bot refused a return of order {order}: {refusal}.")
        }
        ReturnAnswer::ChooseOrder(names) => format!("Bot asked which order to return: {}.", names.join(", ")),
        ReturnAnswer::ChooseLine { order, .. } => format!("Bot asked which item of order {order} to return."),
        ReturnAnswer::NeedPhotos { order } => format!("Bot asked for photos of the damage (order {order})."),
        other => {
            events.push(ticket.record(
                Actor::System,
                EventKind::BotHandoff {
                    intent: intent.to_owned(),
                    reason: other.name().to_owned(),
                    article: None,
                },
                now,
            ));
            format!("Bot handed over to a person: {} (intent {intent}); no order data shown.", other.name())
        }
    };
    (text, note, OutboundKind::BotMessage)
}

fn chat_job(inbound: &InboundMessage, message: &Message, kind: OutboundKind) -> Option<OutboundJob> {
    let Source::Chat { inbox, conversation_id, .. } = &inbound.source else { return None };
    Some(OutboundJob {
        // Derived from the inbound key: every retry of this message names the same delivery.
        id: OutboundJob::bot_id(&inbound.idempotency_key),
        ticket: message.ticket,
        message: message.id.clone(),
        kind,
        destination: Destination::Chat {
            inbox: inbox.clone(),
            conversation_id: conversation_id.clone(),
            visitor_id: inbound.sender.chat_visitor.clone(),
        },
        text: message.text.clone(),
        created_at: message.created_at,
        survey: None,
    })
}
