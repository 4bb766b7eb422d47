//! Forum questions waiting for staff on the table: `FORUMQ#sha256:<digest of the topic's
//! thread key>` / `FORUMQ`, the question as JSON text with its `version` beside it (saves are
//! conditioned on it) and `ttl`. While it waits it is on the `timers` index under its due
//! minute's `#forum` sub-bucket, which the ticket sweep never reads
//! ([`omnidesk_domain::partitions::forum_timer_key`]).

use async_trait::async_trait;
use jiff::Timestamp;
use omnidesk_domain::forum_watch::{ForumQuestions, PendingQuestion, QuestionState};
use omnidesk_domain::partitions::forum_timer_key;
use omnidesk_domain::ports::{StoreError, ThreadKey};
use omnidesk_domain::sla::sweeper::bucket_of;

use super::codec::{number_attr, read_string, string_attr, ttl_seconds};
use super::keys::{self, Item};
use super::timers::{TIMER_BUCKET, TIMER_DUE, due_key};
use super::{Condition, DynamoStore};
use crate::errors::corrupt;

const QUESTION_SK: &str = "FORUMQ";
const BODY: &str = "question";
const VERSION: &str = "version";

fn question_pk(key: &ThreadKey) -> String {
    format!("FORUMQ#{}", key.digest())
}

fn read_question(item: &Item) -> Result<PendingQuestion, StoreError> {
    let text = read_string(item, BODY, "forum question")?;
    serde_json::from_str(text).map_err(|e| corrupt("forum question", e))
}

#[async_trait]
impl ForumQuestions for DynamoStore {
    async fn question(&self, key: &ThreadKey) -> Result<Option<PendingQuestion>, StoreError> {
        match self.get_item(question_pk(key), QUESTION_SK).await? {
            Some(item) => read_question(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn save_question(
        &self,
        question: &PendingQuestion,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(question).map_err(|e| corrupt("forum question", e))?;
        let mut item = Item::new();
        item.insert(BODY.to_owned(), string_attr(body));
        item.insert(VERSION.to_owned(), number_attr(question.version));
        item.insert("ttl".to_owned(), ttl_seconds(question.expires_at));
        if let (QuestionState::Waiting, Some(due)) = (question.state, question.due_at) {
            item.insert(TIMER_BUCKET.to_owned(), string_attr(forum_timer_key(due)));
            item.insert(TIMER_DUE.to_owned(), string_attr(due_key(due)));
        }
        let item = keys::with_key(item, question_pk(&question.key()), QUESTION_SK.to_owned());
        let condition = match expected {
            None => Condition::absent(),
            Some(version) => Condition::new("#v = :v").name("#v", VERSION).value(":v", number_attr(version)),
        };
        self.put_if(item, condition).await
    }

    async fn due_questions(
        &self,
        bucket: Timestamp,
        up_to: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingQuestion>, StoreError> {
        let entries = self.query_sub_bucket(&forum_timer_key(bucket), up_to, limit).await?;
        // The index holds keys; the questions come from the table, current.
        let minute = bucket_of(bucket);
        let mut due = Vec::with_capacity(entries.len());
        for item in self.get_items(&entries).await? {
            let question = read_question(&item)?;
            let waiting = question.state == QuestionState::Waiting;
            if waiting && question.due_at.is_some_and(|d| bucket_of(d) == minute && d <= up_to) {
                due.push(question);
            }
        }
        Ok(due)
    }
}
