//! The contact-flow answer: Connect's "Invoke AWS Lambda function" block (response type
//! STRING_MAP) asks who is calling while the phone rings. The answer is a flat map of
//! strings the flow branches on. Connect waits 3 s by default (8 s at most), so the lookup
//! makes at most two store reads ([`CallerDirectory`]), and nothing here fails the flow: on
//! any error the caller is treated as unknown and sent to the default queue.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::ports::{CallNote, CallNotes, CallerDirectory, CallerRecord, CallerTicket};
use super::{Caller, PhoneRules};
use crate::assignment::{Routing, TicketFacts};
use crate::model::{Channel, Identity, Priority};
use crate::ports::{Clock, StoreError};
use crate::sla::SlaPolicies;
use crate::system::later;

/// The largest flow event read (Connect's are a few KB; Lambda takes 6 MB).
pub const MAX_FLOW_EVENT_BYTES: usize = 64 * 1024;
/// Tickets read with the caller, newest first: the open one is almost always among them.
pub const RECENT_TICKETS: usize = 5;
/// How long a contact's note is kept for its events.
pub const NOTE_TTL: Duration = Duration::from_secs(3 * 24 * 3600);

/// Connect's contact-flow event; unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowEvent {
    #[serde(default)]
    pub name: Option<String>,
    pub details: FlowDetails,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowDetails {
    pub contact_data: ContactData,
    /// The block's own parameters; `voicemail = "true"` after the flow recorded one.
    #[serde(default)]
    pub parameters: HashMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContactData {
    pub contact_id: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub initiation_method: Option<String>,
    #[serde(default)]
    pub customer_endpoint: Option<Endpoint>,
    #[serde(default)]
    pub system_endpoint: Option<Endpoint>,
    #[serde(default)]
    pub queue: Option<serde_json::Value>,
    #[serde(default)]
    pub attributes: HashMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default, rename = "Type")]
    pub kind: Option<String>,
}

impl FlowEvent {
    /// Parses Connect's event; `None` when it is not one (the caller answers the default).
    pub fn parse(value: &serde_json::Value) -> Option<Self> {
        let event: FlowEvent = serde_json::from_value(value.clone()).ok()?;
        (!event.details.contact_data.contact_id.trim().is_empty()).then_some(event)
    }

    fn parameter(&self, name: &str) -> bool {
        match self.details.parameters.get(name) {
            Some(serde_json::Value::String(v)) => v.eq_ignore_ascii_case("true"),
            Some(serde_json::Value::Bool(v)) => *v,
            _ => false,
        }
    }
}

/// The answer keys, all always present (Connect branches on missing keys badly).
pub mod keys {
    pub const KNOWN: &str = "known";
    pub const CUSTOMER_ID: &str = "customer_id";
    pub const CUSTOMER_NAME: &str = "customer_name";
    pub const TIER: &str = "tier";
    pub const VIP: &str = "vip";
    pub const OPEN_TICKET: &str = "open_ticket";
    pub const OPEN_TICKET_STATUS: &str = "open_ticket_status";
    pub const TEAM: &str = "team";
    pub const QUEUE: &str = "queue";
    pub const PRIORITY: &str = "priority";
    pub const LANGUAGE: &str = "language";
    pub const AFTER_HOURS: &str = "after_hours";
    pub const WITHHELD: &str = "withheld";
}

/// The flat string map Connect's STRING_MAP response takes.
pub type FlowAnswer = BTreeMap<String, String>;

/// Answers contact flows.
pub struct ContactFlow {
    directory: Arc<dyn CallerDirectory>,
    notes: Arc<dyn CallNotes>,
    clock: Arc<dyn Clock>,
    rules: PhoneRules,
    routing: Option<Routing>,
    sla: Option<Arc<SlaPolicies>>,
}

impl ContactFlow {
    pub fn new(
        directory: Arc<dyn CallerDirectory>,
        notes: Arc<dyn CallNotes>,
        clock: Arc<dyn Clock>,
        rules: PhoneRules,
    ) -> Self {
        Self { directory, notes, clock, rules, routing: None, sla: None }
    }

    pub fn with_routing(mut self, routing: Routing) -> Self {
        self.routing = Some(routing);
        self
    }

    pub fn with_sla(mut self, sla: Arc<SlaPolicies>) -> Self {
        self.sla = Some(sla);
        self
    }

    /// The answer for one invocation. Never fails: an event that is not Connect's, or any
    /// store error, gives the safe default (unknown caller, default team and queue); the log
    /// names the contact id only, never the number.
    pub async fn answer(&self, event: &serde_json::Value) -> FlowAnswer {
        self.answer_at(event, self.clock.now()).await
    }

    /// [`ContactFlow::answer`] as if the call came at `at` (business hours are read at that
    /// instant): the local desk lets people try an evening call at any hour.
    pub async fn answer_at(&self, event: &serde_json::Value, at: jiff::Timestamp) -> FlowAnswer {
        let Some(event) = FlowEvent::parse(event) else {
            tracing::warn!("phone.flow_event_unreadable");
            return self.default_answer_at(Caller::Withheld, at);
        };
        let contact = event.details.contact_data.contact_id.clone();
        let caller = Caller::of(
            event.details.contact_data.customer_endpoint.as_ref().and_then(|e| e.address.as_deref()),
            &self.rules,
        );
        let looked_up = match &caller {
            Caller::Number(number) => {
                let identity = Identity::Phone { number: number.clone() };
                self.directory.caller(&identity, RECENT_TICKETS).await
            }
            Caller::Withheld => Ok(None),
        };
        let answer = match looked_up {
            Ok(record) => self.known_answer(&caller, record.as_ref(), at),
            Err(error) => {
                tracing::error!(contact = %contact, %error, "phone.flow_lookup_failed");
                self.default_answer_at(caller.clone(), at)
            }
        };
        self.keep_note(&contact, &caller, &answer, event.parameter("voicemail")).await;
        tracing::info!(
            contact = %contact,
            known = answer.get(keys::KNOWN).map(String::as_str).unwrap_or_default(),
            "phone.flow_answered"
        );
        answer
    }

    /// Unknown caller, the default team and queue.
    pub fn default_answer(&self, caller: Caller) -> FlowAnswer {
        self.default_answer_at(caller, self.clock.now())
    }

    fn default_answer_at(&self, caller: Caller, at: jiff::Timestamp) -> FlowAnswer {
        let team = self.default_team();
        let mut answer = FlowAnswer::new();
        let mut put = |k: &str, v: String| {
            answer.insert(k.to_owned(), v);
        };
        put(keys::KNOWN, "false".into());
        put(keys::CUSTOMER_ID, String::new());
        put(keys::CUSTOMER_NAME, String::new());
        put(keys::TIER, String::new());
        put(keys::VIP, "false".into());
        put(keys::OPEN_TICKET, String::new());
        put(keys::OPEN_TICKET_STATUS, String::new());
        put(keys::QUEUE, self.rules.queue_of(team.as_deref()).unwrap_or_default().to_owned());
        put(keys::AFTER_HOURS, self.after_hours(team.as_deref(), at).to_string());
        put(keys::TEAM, team.unwrap_or_default());
        put(keys::PRIORITY, Priority::Normal.as_str().into());
        put(keys::LANGUAGE, String::new());
        put(keys::WITHHELD, (caller == Caller::Withheld).to_string());
        answer
    }

    fn known_answer(
        &self,
        caller: &Caller,
        record: Option<&CallerRecord>,
        at: jiff::Timestamp,
    ) -> FlowAnswer {
        let mut answer = self.default_answer_at(caller.clone(), at);
        let Some(record) = record else { return answer };
        let customer = record.customer.as_ref();
        let tier = customer.and_then(|c| c.tier.clone());
        let open = open_ticket(&record.tickets);
        let (team, priority) = match open {
            Some(ticket) => (ticket.team.clone().or_else(|| self.default_team()), ticket.priority),
            None => self.route(tier.as_deref()),
        };
        let mut put = |k: &str, v: String| {
            answer.insert(k.to_owned(), v);
        };
        put(keys::KNOWN, "true".into());
        put(keys::CUSTOMER_ID, record.customer_id.to_string());
        put(keys::CUSTOMER_NAME, customer.and_then(|c| c.name.clone()).unwrap_or_default());
        put(keys::VIP, tier.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("vip")).to_string());
        put(keys::TIER, tier.unwrap_or_default());
        if let Some(ticket) = open {
            put(keys::OPEN_TICKET, ticket.number.0.to_string());
            put(keys::OPEN_TICKET_STATUS, ticket.status.as_str().into());
            put(keys::LANGUAGE, ticket.language.clone().unwrap_or_default());
        }
        put(keys::QUEUE, self.rules.queue_of(team.as_deref()).unwrap_or_default().to_owned());
        put(keys::AFTER_HOURS, self.after_hours(team.as_deref(), at).to_string());
        put(keys::TEAM, team.unwrap_or_default());
        put(keys::PRIORITY, priority.as_str().into());
        answer
    }

    /// The team the routing rules give a new phone ticket of a caller of `tier`.
    fn route(&self, tier: Option<&str>) -> (Option<String>, Priority) {
        let Some(routing) = &self.routing else {
            return (self.default_team(), Priority::Normal);
        };
        let facts = TicketFacts {
            channel: Channel::Phone,
            category: None,
            subject: "",
            text: "",
            customer_tier: tier,
            language: None,
            priority: Priority::Normal,
        };
        let choice = routing.choose_team(&facts);
        (Some(choice.team), choice.priority)
    }

    fn default_team(&self) -> Option<String> {
        self.rules
            .default_team
            .clone()
            .or_else(|| self.routing.as_ref().map(|r| r.config().default_team.clone()))
    }

    /// Outside the team's business hours at `at`. Without SLA calendars the line is always open.
    fn after_hours(&self, team: Option<&str>, at: jiff::Timestamp) -> bool {
        self.sla.as_ref().is_some_and(|sla| !sla.team_calendar(team).is_open(at))
    }

    /// Keeps what the events of this contact will need. Best effort: a lost note makes the
    /// call's ticket an unknown caller's, which an agent can merge; failing the flow would
    /// drop the call.
    async fn keep_note(&self, contact: &str, caller: &Caller, answer: &FlowAnswer, voicemail: bool) {
        let text = |k: &str| answer.get(k).filter(|v| !v.is_empty()).cloned();
        let note = CallNote {
            caller: caller.number().map(str::to_owned),
            team: text(keys::TEAM),
            open_ticket: text(keys::OPEN_TICKET).and_then(|n| n.parse().ok()).map(crate::model::TicketNumber),
            after_hours: text(keys::AFTER_HOURS).as_deref() == Some("true"),
            voicemail,
        };
        let now = self.clock.now();
        let result: Result<(), StoreError> = self.notes.keep(contact, &note, later(now, NOTE_TTL)).await;
        if let Err(error) = result {
            tracing::error!(contact = %contact, %error, "phone.note_not_kept");
        }
    }
}

/// The newest unfinished ticket that is not merged away.
fn open_ticket(tickets: &[CallerTicket]) -> Option<&CallerTicket> {
    tickets
        .iter()
        .filter(|t| t.status.is_unfinished() && t.merged_into.is_none())
        .max_by_key(|t| t.created_at)
}
