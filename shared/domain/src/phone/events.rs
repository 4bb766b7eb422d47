//! Amazon Connect contact events (EventBridge, detail-type "Amazon Connect Contact Event")
//! read into one [`InboundMessage`] each. Connect adds fields and event types over time:
//! unknown fields are ignored and unknown types are kept as the stage `other`, never an
//! error. Events of other channels (chat, tasks — the desk's own callbacks are tasks) and
//! of outbound calls are not customers calling and are skipped.

use jiff::Timestamp;
use serde::Deserialize;

use super::ports::CallNote;
use crate::inbound::{CallStage, InboundMessage, MissedReason, PhoneSource, Sender, Source};

/// EventBridge's detail-type for contact events.
pub const CONTACT_EVENT_DETAIL_TYPE: &str = "Amazon Connect Contact Event";
/// The text of a call's message on its ticket (the call itself is in its events).
pub const CALL_TEXT: &str = "Phone call";

/// The EventBridge envelope; unknown fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct ContactEventEnvelope {
    #[serde(rename = "detail-type", default)]
    pub detail_type: String,
    #[serde(default)]
    pub time: Option<Timestamp>,
    pub detail: ContactDetail,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactDetail {
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub contact_id: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub initiation_method: Option<String>,
    #[serde(default)]
    pub initiation_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub disconnect_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub disconnect_reason: Option<String>,
    #[serde(default)]
    pub queue_info: Option<QueueInfo>,
    #[serde(default)]
    pub agent_info: Option<AgentInfo>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueInfo {
    #[serde(default)]
    pub queue_arn: Option<String>,
    #[serde(default)]
    pub enqueue_timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    #[serde(default)]
    pub agent_arn: Option<String>,
    #[serde(default)]
    pub connected_to_agent_timestamp: Option<Timestamp>,
}

/// Why an event was not turned into a message (logged, never an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// Not a contact event at all, or without a contact id or a time.
    NotAContactEvent,
    /// Chat, task or email contact: not a call.
    NotAVoiceCall,
    /// An outbound call or an API-made contact: not a customer calling.
    NotInbound,
}

impl Skipped {
    pub fn as_str(self) -> &'static str {
        match self {
            Skipped::NotAContactEvent => "not_a_contact_event",
            Skipped::NotAVoiceCall => "not_a_voice_call",
            Skipped::NotInbound => "not_inbound",
        }
    }
}

impl ContactEventEnvelope {
    /// Reads a contact event from any JSON.
    pub fn parse(value: &serde_json::Value) -> Result<Self, Skipped> {
        let envelope: Self = serde_json::from_value(value.clone()).map_err(|_| Skipped::NotAContactEvent)?;
        if envelope.detail_type != CONTACT_EVENT_DETAIL_TYPE || envelope.detail.contact_id.trim().is_empty() {
            return Err(Skipped::NotAContactEvent);
        }
        Ok(envelope)
    }

    /// When it happened: the envelope's time, else the detail's own timestamps.
    pub fn at(&self) -> Option<Timestamp> {
        self.time.or(self.detail.disconnect_timestamp).or(self.detail.initiation_timestamp)
    }

    /// The inbound message for the router, from this event and the contact's note.
    pub fn to_inbound(
        &self,
        note: Option<&CallNote>,
        received_at: Timestamp,
    ) -> Result<InboundMessage, Skipped> {
        let detail = &self.detail;
        if !detail.channel.as_deref().is_none_or(|c| c.eq_ignore_ascii_case("voice")) {
            return Err(Skipped::NotAVoiceCall);
        }
        let inbound_method = detail
            .initiation_method
            .as_deref()
            .is_none_or(|m| ["INBOUND", "TRANSFER", "QUEUE_TRANSFER", "CALLBACK"].contains(&m));
        if !inbound_method {
            return Err(Skipped::NotInbound);
        }
        let at = self.at().ok_or(Skipped::NotAContactEvent)?;
        let stage = match detail.event_type.as_str() {
            "INITIATED" => CallStage::Initiated,
            "QUEUED" => CallStage::Queued,
            "CONNECTED_TO_AGENT" => CallStage::Answered,
            "DISCONNECTED" => CallStage::Disconnected,
            _ => CallStage::Other,
        };
        let answered_at = detail.agent_info.as_ref().and_then(|a| a.connected_to_agent_timestamp);
        let agent = detail.agent_info.as_ref().and_then(|a| a.agent_arn.as_deref()).map(agent_id);
        let talk_seconds = match (stage, answered_at, detail.disconnect_timestamp) {
            (CallStage::Disconnected, Some(from), Some(to)) if to > from => {
                u64::try_from(to.duration_since(from).as_secs()).ok()
            }
            _ => None,
        };
        let missed = (stage == CallStage::Disconnected && answered_at.is_none() && agent.is_none())
            .then(|| missed_reason(detail, note));
        let withheld = note.is_none_or(|n| n.caller.is_none());
        let phone = PhoneSource {
            contact_id: detail.contact_id.clone(),
            event_type: detail.event_type.clone(),
            stage,
            agent,
            talk_seconds,
            disconnect_reason: detail.disconnect_reason.clone(),
            missed,
            team: note.and_then(|n| n.team.clone()),
            open_ticket: note.and_then(|n| n.open_ticket),
            withheld,
        };
        // The caller id is what the phone network vouches for: it links the call.
        let sender = Sender { phone: note.and_then(|n| n.caller.clone()), ..Sender::default() };
        Ok(InboundMessage {
            idempotency_key: InboundMessage::phone_idempotency_key(
                &detail.contact_id,
                &detail.event_type,
                at,
            ),
            source: Source::Phone(phone),
            sender,
            text: CALL_TEXT.to_owned(),
            attachments: Vec::new(),
            sent_at: Some(at),
            received_at,
        })
    }
}

fn missed_reason(detail: &ContactDetail, note: Option<&CallNote>) -> MissedReason {
    match note {
        Some(note) if note.voicemail => MissedReason::Voicemail,
        Some(note) if note.after_hours => MissedReason::AfterHours,
        _ if detail.queue_info.is_some() => MissedReason::AbandonedInQueue,
        _ => MissedReason::BeforeAgent,
    }
}

/// The agent's id: the last part of the agent ARN (`…/agent/<id>`).
fn agent_id(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}
