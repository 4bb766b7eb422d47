//! An agent asks for a callback on a ticket: the same Connect task a missed call gets,
//! queued for the dispatcher (the one component that talks to Connect), scheduled at the
//! next business minute of the team's calendar after hours, with its callback SLA timer.

use jiff::Timestamp;
use serde::Serialize;

use super::{AgentDesk, DeskError, Staff};
use crate::envelope::seal;
use crate::model::{Status, TicketNumber};
use crate::outbound::Destination;
use crate::router::phone::{callback_job, note_callback};

/// What a callback request did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackOutcome {
    pub ticket: TicketNumber,
    /// The outbound job that starts the task.
    pub job: String,
    /// When the task reaches the team's queue; `None`: at once.
    pub scheduled_for: Option<Timestamp>,
    pub version: u64,
}

impl AgentDesk {
    pub async fn request_callback(
        &self,
        staff: &Staff,
        number: TicketNumber,
        version: u64,
    ) -> Result<CallbackOutcome, DeskError> {
        let mut ticket = self.load_at(number, Some(version)).await?;
        if ticket.status == Status::Closed {
            return Err(DeskError::Invalid(format!("ticket {number} is closed")));
        }
        let now = self.ports.clock.now();
        let job = callback_job(self.sla.as_deref(), &ticket, None, "agent_request", &*self.ports.ids, now);
        let event = note_callback(self.sla.as_deref(), self.callback_minutes, &mut ticket, &job, now);
        tracing::info!(ticket = number.0, agent = %staff.0, "desk.callback_requested");
        let ticket = self.save(ticket, version, vec![event]).await?;
        self.ports.outbound.send(seal(&job)).await?;
        let scheduled_for = match &job.destination {
            Destination::Callback(task) => task.scheduled_for,
            _ => None,
        };
        Ok(CallbackOutcome { ticket: number, job: job.id, scheduled_for, version: ticket.version })
    }
}
