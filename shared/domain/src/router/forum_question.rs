//! Forum questions before they are tickets (see [`crate::forum_watch`]): a customer's post on
//! a topic without a ticket is kept on the topic's pending question; a staff post answers it;
//! the sweeper's message for a question past its deadline opens the one ticket, with every
//! post kept so far.

use std::sync::Arc;

use jiff::Timestamp;

use super::{MAX_COMMIT_ATTEMPTS, RouteError, RouteOutcome, TicketRouter, resolve_customer};
use crate::forum_watch::{ForumQuestions, ForumRules, QUESTION_TTL, QuestionState, is_due_message};
use crate::inbound::{InboundMessage, Source};
use crate::log_id::Hashed;
use crate::model::{Actor, CustomerId, MessageId, TicketNumber};
use crate::ports::{StoreError, ThreadKey};
use crate::social::Platform;
use crate::system::later;

/// Where pending questions live and how long each forum's wait.
#[derive(Clone)]
pub struct ForumWatch {
    pub questions: Arc<dyn ForumQuestions>,
    pub rules: Arc<ForumRules>,
}

/// An outcome that wrote no ticket.
pub(super) fn untouched(ticket: Option<TicketNumber>, duplicate: bool, dropped: bool) -> RouteOutcome {
    RouteOutcome {
        ticket: ticket.unwrap_or(TicketNumber(0)),
        message: MessageId::new(if dropped { "dropped" } else { "pending" }),
        customer: CustomerId::new("none"),
        opened: false,
        follow_up_of: None,
        outbound: Vec::new(),
        duplicate,
        dropped,
    }
}

impl TicketRouter {
    /// A customer's forum post or the sweeper's due message, when the forum is watched:
    /// `Some` when it was handled here, `None` to route it as usual (the topic has a ticket).
    pub(super) async fn watch_forum_post(
        &self,
        inbound: &InboundMessage,
        now: Timestamp,
    ) -> Result<Option<RouteOutcome>, RouteError> {
        let Source::Social(social) = &inbound.source else { return Ok(None) };
        if social.platform != Platform::Forum {
            return Ok(None);
        }
        let Some(watch) = &self.forum else {
            // A due message reaches only a router that watches (the sweeper's config is the same).
            return Ok(is_due_message(inbound).then(|| untouched(None, false, true)));
        };
        if is_due_message(inbound) {
            return self.open_due_question(watch, inbound, now).await.map(Some);
        }
        let key = inbound.thread_key();
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let question = watch.questions.question(&key).await?;
            if let Some(question) = &question
                && question.opened_with(inbound)
            {
                return Ok(Some(untouched(question.ticket, true, false)));
            }
            if self.ports.tickets.thread_ticket(&key).await?.is_some() {
                return Ok(None);
            }
            let (next, expected) = match question {
                None => match watch.rules.open(inbound, inbound.thread_at()) {
                    Some(question) => (question, None),
                    None => return Ok(None),
                },
                Some(mut question) => {
                    let expected = Some(question.version);
                    if question.holds(inbound) {
                        return Ok(Some(untouched(None, true, false)));
                    }
                    match question.state {
                        QuestionState::Opened => return Ok(None),
                        // Asked again after a staff answer: it waits anew.
                        QuestionState::Answered => {
                            if !watch.rules.rewait(&mut question, inbound.thread_at()) {
                                return Ok(None);
                            }
                        }
                        QuestionState::Waiting => {}
                    }
                    if !question.keep(inbound) {
                        tracing::warn!(key = %Hashed(&inbound.idempotency_key), "router.forum_post_not_kept");
                    }
                    question.version += 1;
                    question.expires_at = later(now, QUESTION_TTL);
                    (question, expected)
                }
            };
            match watch.questions.save_question(&next, expected).await {
                Ok(()) => {
                    tracing::info!(due = ?next.due_at, posts = next.posts.len(), "router.forum_question_waits");
                    return Ok(Some(untouched(None, false, false)));
                }
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }

    /// A staff post on a topic without a ticket: its waiting question is answered and will
    /// make no ticket.
    pub(super) async fn answer_question(&self, key: &ThreadKey, now: Timestamp) -> Result<(), RouteError> {
        let Some(watch) = &self.forum else { return Ok(()) };
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let Some(mut question) = watch.questions.question(key).await? else { return Ok(()) };
            if question.state != QuestionState::Waiting {
                return Ok(());
            }
            let expected = Some(question.version);
            question.close_unopened(now);
            match watch.questions.save_question(&question, expected).await {
                Ok(()) => {
                    tracing::info!("router.forum_question_answered");
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }

    /// The sweeper's message for a question past its deadline: one ticket, public, with the
    /// question and every post kept, committed under the message's fixed key.
    async fn open_due_question(
        &self,
        watch: &ForumWatch,
        inbound: &InboundMessage,
        now: Timestamp,
    ) -> Result<RouteOutcome, RouteError> {
        let key = inbound.thread_key();
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let Some(question) = watch.questions.question(&key).await? else {
                return Ok(untouched(None, false, true));
            };
            // Answered by staff after the sweeper queued it, or already a ticket.
            if question.state != QuestionState::Waiting {
                return Ok(untouched(question.ticket, question.state == QuestionState::Opened, true));
            }
            if let Some(done) = self.finished(inbound, now).await? {
                self.mark_opened(watch, &key, done.ticket, question.posts.len(), now).await?;
                return Ok(done);
            }
            let Some(customer) =
                resolve_customer(&*self.ports.customers, &*self.ports.ids, inbound, now).await?
            else {
                // Its asker was erased while it waited: no ticket, and the posts go.
                let mut forgotten = question;
                let expected = Some(forgotten.version);
                forgotten.close_unopened(now);
                forgotten.posts.clear();
                match watch.questions.save_question(&forgotten, expected).await {
                    Ok(()) => return Ok(untouched(None, false, true)),
                    Err(StoreError::Conflict(_)) => continue,
                    Err(other) => return Err(other.into()),
                }
            };
            let mut plan = self.open_ticket(inbound, &customer, None, true, now).await?;
            for post in question.posts.iter().skip(1) {
                // A later post whose author was erased while it waited stays out.
                let Some(author) =
                    resolve_customer(&*self.ports.customers, &*self.ports.ids, post, now).await?
                else {
                    continue;
                };
                let message = self.customer_message(post, &author, plan.outcome.ticket);
                let events = plan.commit.ticket.add_message(&Actor::Customer(author), &message, now)?;
                if let Some(sla) = &self.sla {
                    sla.apply(&mut plan.commit.ticket, &events, None);
                }
                plan.commit.events.extend(events);
                plan.commit.messages.push(message);
            }
            match self.ports.tickets.commit(plan.commit).await {
                Ok(()) => {
                    self.enqueue(&plan.outcome.outbound).await?;
                    tracing::info!(
                        ticket = plan.outcome.ticket.0,
                        posts = question.posts.len(),
                        "router.forum_question_opened"
                    );
                    self.mark_opened(watch, &key, plan.outcome.ticket, question.posts.len(), now).await?;
                    return Ok(plan.outcome);
                }
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }

    /// Records that the question is ticket `ticket`, opened with its first `included` posts;
    /// posts kept after those (they came while it opened) join the ticket now.
    async fn mark_opened(
        &self,
        watch: &ForumWatch,
        key: &ThreadKey,
        ticket: TicketNumber,
        included: usize,
        now: Timestamp,
    ) -> Result<(), RouteError> {
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let Some(mut question) = watch.questions.question(key).await? else { return Ok(()) };
            if question.state == QuestionState::Opened {
                return Ok(());
            }
            let expected = Some(question.version);
            question.state = QuestionState::Opened;
            question.due_at = None;
            question.ticket = Some(ticket);
            question.included = included.min(question.posts.len());
            question.forget_included_posts();
            question.version += 1;
            question.expires_at = later(now, QUESTION_TTL);
            match watch.questions.save_question(&question, expected).await {
                Ok(()) => {
                    for late in question.posts.iter().skip(question.included) {
                        Box::pin(self.route(late)).await?;
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RouteError::Contended(MAX_COMMIT_ATTEMPTS))
    }
}
