//! Forum questions waiting for staff. A customer's question on the forum is public, and often
//! someone from the shop answers it there; only a question nobody from staff has answered
//! within the forum's business hours becomes a ticket. Until then it is a [`PendingQuestion`]
//! on the due index the SLA sweeper already reads (ARCHITECTURE.md §4): a staff post cancels
//! it, a due one is queued to the router as one message ([`due_message`]) whose idempotency
//! key is fixed per question, so however often the sweeper queues it, one ticket opens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::inbound::{InboundMessage, Source};
use crate::model::TicketNumber;
use crate::ports::{StoreError, ThreadKey};
use crate::sla::Calendar;
use crate::sla::sweeper::bucket_of;
use crate::system::later;

/// The `event` of the router's message for a question that fell due.
pub const UNANSWERED_EVENT: &str = "forum_unanswered";
/// Posts kept on one question before it is a ticket; later ones wait for the ticket (the
/// webhook's redeliveries are not kept, so this bounds the stored item).
pub const MAX_PENDING_POSTS: usize = 20;
/// Text kept on one question in all (a DynamoDB item holds 400 KB).
pub const MAX_PENDING_TEXT_BYTES: usize = 128 * 1024;
/// How long a question's record outlives its last change (then the table's TTL removes it).
pub const QUESTION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longest delay a forum may be given, in business hours (a month of working days).
pub const MAX_DELAY_HOURS: u32 = 200;

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    /// No staff answer yet; due at `due_at`.
    Waiting,
    /// A staff member answered on the forum: no ticket.
    Answered,
    /// It fell due and its ticket is open.
    Opened,
}

/// One forum topic whose question waits for a staff answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingQuestion {
    /// The forum (`forum:<id>`).
    pub network: String,
    /// The topic id.
    pub topic: String,
    pub state: QuestionState,
    /// When the question became due (business hours after it was asked); set while waiting:
    /// only then is it on the due index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// The customers' posts so far, in arrival order: the first is the question.
    pub posts: Vec<InboundMessage>,
    /// How many of `posts` the ticket was opened with.
    #[serde(default)]
    pub included: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketNumber>,
    /// Every save moves it on by one; saves are conditioned on it.
    pub version: u64,
    /// When the record may be forgotten.
    pub expires_at: Timestamp,
}

impl PendingQuestion {
    pub fn key(&self) -> ThreadKey {
        ThreadKey::social(&self.network, &self.topic)
    }

    /// Whether this post is already on it (a redelivery of the webhook).
    pub fn holds(&self, post: &InboundMessage) -> bool {
        self.posts.iter().any(|p| p.idempotency_key == post.idempotency_key)
    }

    /// Whether this post went into the ticket when the question became one.
    pub fn opened_with(&self, post: &InboundMessage) -> bool {
        self.state == QuestionState::Opened
            && self.posts.iter().take(self.included).any(|p| p.idempotency_key == post.idempotency_key)
    }

    /// Takes it off the due index for good, as answered: it will make no ticket (a staff
    /// answer, or its asker erased while it waited). The next save is conditioned on the
    /// version it had.
    pub fn close_unopened(&mut self, now: Timestamp) {
        self.state = QuestionState::Answered;
        self.due_at = None;
        self.version += 1;
        self.expires_at = later(now, QUESTION_TTL);
    }

    /// Of the posts a ticket was opened with, keeps only what recognises a redelivery (the
    /// key, the topic, when it came): their words and authors are the ticket's now, where an
    /// erasure finds them.
    pub fn forget_included_posts(&mut self) {
        for post in self.posts.iter_mut().take(self.included) {
            post.text.clear();
            post.attachments.clear();
            post.sender = crate::inbound::Sender::default();
            if let Source::Social(social) = &mut post.source {
                social.user.clear();
                social.union_id = None;
            }
        }
    }

    /// Keeps a post, within [`MAX_PENDING_POSTS`] and [`MAX_PENDING_TEXT_BYTES`]; false when
    /// it did not fit (it will join the ticket if one opens).
    pub fn keep(&mut self, post: &InboundMessage) -> bool {
        let used: usize = self.posts.iter().map(|p| p.text.len()).sum();
        if self.posts.len() >= MAX_PENDING_POSTS || used + post.text.len() > MAX_PENDING_TEXT_BYTES {
            return false;
        }
        self.posts.push(post.clone());
        true
    }
}

/// One forum's rule: how long a question may wait, in business time on which calendar.
#[derive(Debug, Clone)]
pub struct ForumDelay {
    pub calendar: Calendar,
    pub delay: Duration,
}

/// The forums whose questions wait for staff, by network (`forum:<id>`). A forum not listed
/// (or with no delay) turns every question into a ticket at once.
#[derive(Debug, Clone, Default)]
pub struct ForumRules {
    pub forums: HashMap<String, ForumDelay>,
}

impl ForumRules {
    /// The delay for questions on `network`, if they wait.
    pub fn delay(&self, network: &str) -> Option<&ForumDelay> {
        self.forums.get(network).filter(|f| !f.delay.is_zero())
    }

    /// A new question asked at `asked`: waiting until the forum's business hours have passed.
    /// `None` when its forum does not watch, or the calendar has no such hours.
    pub fn open(&self, post: &InboundMessage, asked: Timestamp) -> Option<PendingQuestion> {
        let Source::Social(social) = &post.source else { return None };
        let forum = self.delay(&social.network())?;
        let due = forum.calendar.add_business(asked, forum.delay).ok()?;
        Some(PendingQuestion {
            network: social.network(),
            topic: social.conversation.clone(),
            state: QuestionState::Waiting,
            due_at: Some(due),
            posts: vec![post.clone()],
            included: 0,
            ticket: None,
            version: 1,
            expires_at: later(asked, QUESTION_TTL),
        })
    }

    /// A question asked again after a staff answer waits anew from `at`.
    pub fn rewait(&self, question: &mut PendingQuestion, at: Timestamp) -> bool {
        let Some(forum) = self.delay(&question.network) else { return false };
        let Ok(due) = forum.calendar.add_business(at, forum.delay) else { return false };
        question.state = QuestionState::Waiting;
        question.due_at = Some(due);
        true
    }
}

/// The router's message for a question that fell due: its first post, under a key fixed per
/// question and the [`UNANSWERED_EVENT`].
pub fn due_message(question: &PendingQuestion) -> Option<InboundMessage> {
    let mut message = question.posts.first()?.clone();
    let Source::Social(social) = &mut message.source else { return None };
    social.event = Some(UNANSWERED_EVENT.to_owned());
    message.idempotency_key = format!("forum-due:{}:{}", question.network, question.topic);
    Some(message)
}

/// Whether `inbound` is the router's message for a question that fell due.
pub fn is_due_message(inbound: &InboundMessage) -> bool {
    matches!(&inbound.source, Source::Social(s) if s.event.as_deref() == Some(UNANSWERED_EVENT))
        && inbound.idempotency_key.starts_with("forum-due:")
}

/// Where pending questions are kept, and the due index over them.
#[async_trait]
pub trait ForumQuestions: Send + Sync {
    async fn question(&self, key: &ThreadKey) -> Result<Option<PendingQuestion>, StoreError>;
    /// Stores `question` if the stored one is still at `expected` (`None`: none is stored);
    /// `Conflict` otherwise. A waiting question is filed on the due index by `due_at`.
    async fn save_question(
        &self,
        question: &PendingQuestion,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
    /// Up to `limit` waiting questions due in the minute starting at `bucket`, at or before
    /// `up_to`, earliest first (possibly as they were moments ago).
    async fn due_questions(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingQuestion>, StoreError>;
}

/// The in-memory twin.
#[derive(Default)]
pub struct MemoryForumQuestions {
    questions: Mutex<HashMap<ThreadKey, PendingQuestion>>,
}

impl MemoryForumQuestions {
    fn lock(&self) -> MutexGuard<'_, HashMap<ThreadKey, PendingQuestion>> {
        self.questions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ForumQuestions for MemoryForumQuestions {
    async fn question(&self, key: &ThreadKey) -> Result<Option<PendingQuestion>, StoreError> {
        Ok(self.lock().get(key).cloned())
    }

    async fn save_question(
        &self,
        question: &PendingQuestion,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut questions = self.lock();
        let stored = questions.get(&question.key()).map(|q| q.version);
        if stored != expected {
            return Err(StoreError::Conflict(format!(
                "forum question at version {stored:?}, not {expected:?}"
            )));
        }
        questions.insert(question.key(), question.clone());
        Ok(())
    }

    async fn due_questions(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingQuestion>, StoreError> {
        let bucket = bucket_of(bucket);
        let mut due: Vec<PendingQuestion> = self
            .lock()
            .values()
            .filter(|q| q.state == QuestionState::Waiting)
            .filter(|q| q.due_at.is_some_and(|d| bucket_of(d) == bucket && d <= up_to))
            .cloned()
            .collect();
        due.sort_by_key(|q| q.due_at);
        due.truncate(limit);
        Ok(due)
    }
}

/// What the SLA sweeper needs to turn due questions into tickets.
#[derive(Clone)]
pub struct ForumSweep {
    pub questions: Arc<dyn ForumQuestions>,
    /// The router's queue.
    pub inbound: Arc<dyn crate::ports::Queue>,
}

#[cfg(test)]
mod tests;
