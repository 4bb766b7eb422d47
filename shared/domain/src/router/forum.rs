//! A staff member's post on the forum: an answer given where the question was asked. It
//! joins the topic's ticket as an agent's public message and solves the ticket (the customer
//! has their answer, in public). A topic without a ticket needs none: its question, waiting
//! for staff, is answered and will not become one (`forum_question`).

use jiff::Timestamp;

use super::forum_question::untouched;
use super::{MAX_COMMIT_ATTEMPTS, Plan, RouteError, RouteOutcome, TicketRouter};
use crate::inbound::InboundMessage;
use crate::model::{Actor, AuthorKind, Direction, Message, MessageId, Status, Visibility};
use crate::ports::{StoreError, TicketCommit};
use crate::social::SocialSource;

impl TicketRouter {
    pub(super) async fn route_forum_answer(
        &self,
        inbound: &InboundMessage,
        social: &SocialSource,
        now: Timestamp,
    ) -> Result<RouteOutcome, RouteError> {
        for _ in 1..=MAX_COMMIT_ATTEMPTS {
            let plan = match self.forum_answer(inbound, social, now).await? {
                Ok(plan) => plan,
                Err(nothing) => return Ok(nothing),
            };
            match self.ports.tickets.commit(plan.commit).await {
                Ok(()) => {
                    tracing::info!(ticket = plan.outcome.ticket.0, "router.forum_answer");
                    return Ok(plan.outcome);
                }
                // A repeat of this post, or a change to the ticket meanwhile: look again.
                Err(StoreError::Conflict(_)) => {
                    if let Some(done) = self.finished(inbound, now).await? {
                        return Ok(done);
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }

    /// The plan for a staff post, or the outcome when there is nothing to write.
    async fn forum_answer(
        &self,
        inbound: &InboundMessage,
        social: &SocialSource,
        now: Timestamp,
    ) -> Result<Result<Plan, RouteOutcome>, RouteError> {
        let found = self.ports.tickets.thread_ticket(&inbound.thread_key()).await?;
        let ticket = match found {
            Some(number) => self.ports.tickets.ticket(number).await?,
            None => None,
        };
        let Some(mut ticket) = ticket.filter(|t| t.status != Status::Closed && t.erased_at.is_none()) else {
            // Answered before it was a ticket: it will not become one.
            self.answer_question(&inbound.thread_key(), now).await?;
            tracing::info!(key = %crate::log_id::Hashed(&inbound.idempotency_key), "router.forum_answer_without_ticket");
            return Ok(Err(untouched(None, false, true)));
        };
        let expected_version = Some(ticket.version);
        let staff = Actor::Agent(format!("forum:{}", social.user));
        let message = Message {
            id: MessageId::from_token(&self.ports.ids.token()),
            ticket: ticket.number,
            direction: Direction::Outbound,
            author: AuthorKind::Agent,
            author_id: Some(format!("forum:{}", inbound.sender.name.as_deref().unwrap_or(&social.user))),
            visibility: Visibility::Public,
            text: inbound.text.clone(),
            attachments: Vec::new(),
            channel_ref: inbound.channel_ref(),
            created_at: inbound.thread_at(),
            flags: Default::default(),
        };
        let mut events = ticket.add_message(&staff, &message, now)?;
        events.extend(ticket.set_status(&staff, Status::Solved, now)?);
        if let Some(sla) = &self.sla {
            sla.apply(&mut ticket, &events, None);
        }
        let outcome = RouteOutcome {
            ticket: ticket.number,
            message: message.id.clone(),
            customer: ticket.requester.clone(),
            opened: false,
            follow_up_of: None,
            outbound: Vec::new(),
            duplicate: false,
            dropped: false,
        };
        let commit = TicketCommit {
            ticket,
            expected_version,
            messages: vec![message],
            events,
            thread_claims: Vec::new(),
            idempotency: Some(self.record(inbound, &outcome, now)),
        };
        Ok(Ok(Plan { commit, outcome }))
    }
}
