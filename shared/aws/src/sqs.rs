//! The queue port on SQS. `kind` and `version` travel as message attributes too, so a
//! consumer (or an operator looking at a dead-letter queue) can route without parsing bodies.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::operation::delete_message::DeleteMessageError;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use jiff::Timestamp;
use omnidesk_domain::ports::{Queue, QueueDepth, QueueError, QueueMessage, Received};

use crate::errors::queue_error;

/// SQS's classic cap on a message body, the same limit the in-memory queue enforces (the
/// domain keeps its constant private to the memory module).
pub const MAX_QUEUE_MESSAGE_BYTES: usize = 256 * 1024;
/// SQS's cap on entries per SendMessageBatch / messages per ReceiveMessage.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// SQS's cap on the summed size of one SendMessageBatch.
pub const MAX_BATCH_BYTES: usize = MAX_QUEUE_MESSAGE_BYTES;

const KIND: &str = "kind";
const VERSION: &str = "version";
/// Short, so an idle `receive` returns quickly, yet long enough to avoid empty receives
/// that a 0-second poll gets when messages sit on another SQS host.
const RECEIVE_WAIT_SECONDS: i32 = 1;
/// The per-entry error code of a stale receipt handle in a DeleteMessageBatch answer.
const RECEIPT_HANDLE_IS_INVALID: &str = "ReceiptHandleIsInvalid";

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, message: QueueMessage) -> Result<String, QueueError> {
        refuse_oversized(&message)?;
        let (kind, version) = attributes(&message)?;
        let output = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.body)
            .message_attributes(KIND, kind)
            .message_attributes(VERSION, version)
            .send()
            .await
            .map_err(|e| queue_error("SendMessage", e))?;
        // SQS always answers with an id; were it ever missing, the message is still sent, and
        // failing here would only make the caller send it twice.
        Ok(output.message_id.unwrap_or_default())
    }

    async fn send_batch(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        // Refuse the whole batch before sending any of it.
        for message in &messages {
            refuse_oversized(message)?;
        }
        for chunk in chunks(messages) {
            let entries = chunk
                .into_iter()
                .enumerate()
                .map(|(index, message)| {
                    let (kind, version) = attributes(&message)?;
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(message.body)
                        .message_attributes(KIND, kind)
                        .message_attributes(VERSION, version)
                        .build()
                        .map_err(|e| QueueError::Unavailable(format!("SendMessageBatch: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| queue_error("SendMessageBatch", e))?;
            if !output.failed().is_empty() {
                let codes: Vec<&str> = output.failed().iter().map(|f| f.code()).collect();
                return Err(QueueError::Unavailable(format!(
                    "SendMessageBatch: {} of the entries failed: {}",
                    codes.len(),
                    codes.join(", ")
                )));
            }
        }
        Ok(())
    }

    async fn receive(&self, max: usize) -> Result<Vec<Received>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let wanted = i32::try_from(max.min(MAX_BATCH_ENTRIES)).unwrap_or(1);
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(wanted)
            .wait_time_seconds(RECEIVE_WAIT_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| queue_error("ReceiveMessage", e))?;
        Ok(output.messages.unwrap_or_default().into_iter().filter_map(received).collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        match self
            .client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // A handle SQS no longer knows deletes nothing, as in the in-memory queue.
            Err(e) if matches!(e.as_service_error(), Some(DeleteMessageError::ReceiptHandleIsInvalid(_))) => {
                Ok(())
            }
            Err(e) => Err(queue_error("DeleteMessage", e)),
        }
    }

    /// DeleteMessageBatch, ten handles a request, as Lambda's event source mapping deletes a
    /// finished batch: one request instead of ten.
    async fn delete_batch(&self, receipt_handles: &[String]) -> Result<(), QueueError> {
        for chunk in receipt_handles.chunks(MAX_BATCH_ENTRIES) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, handle)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .receipt_handle(handle)
                        .build()
                        .map_err(|e| QueueError::Unavailable(format!("DeleteMessageBatch: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| queue_error("DeleteMessageBatch", e))?;
            // A handle SQS no longer knows deletes nothing, as `delete` treats it.
            let failed: Vec<&str> = output
                .failed()
                .iter()
                .map(|f| f.code())
                .filter(|code| *code != RECEIPT_HANDLE_IS_INVALID)
                .collect();
            if !failed.is_empty() {
                return Err(QueueError::Unavailable(format!(
                    "DeleteMessageBatch: {} of the entries failed: {}",
                    failed.len(),
                    failed.join(", ")
                )));
            }
        }
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| queue_error("GetQueueAttributes", e))?;
        let count = |name| {
            output.attributes().and_then(|a| a.get(&name)).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0)
        };
        Ok(QueueDepth {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

fn refuse_oversized(message: &QueueMessage) -> Result<(), QueueError> {
    if message.body.len() > MAX_QUEUE_MESSAGE_BYTES {
        return Err(QueueError::TooLarge(message.body.len()));
    }
    Ok(())
}

fn attributes(message: &QueueMessage) -> Result<(MessageAttributeValue, MessageAttributeValue), QueueError> {
    let build = |data_type: &str, value: String| {
        MessageAttributeValue::builder()
            .data_type(data_type)
            .string_value(value)
            .build()
            .map_err(|e| QueueError::Unavailable(format!("message attribute: {e}")))
    };
    Ok((build("String", message.kind.clone())?, build("Number", message.version.to_string())?))
}

/// Splits messages into SendMessageBatch calls: at most ten entries, and at most
/// [`MAX_BATCH_BYTES`] of bodies per call.
fn chunks(messages: Vec<QueueMessage>) -> Vec<Vec<QueueMessage>> {
    let mut chunks: Vec<Vec<QueueMessage>> = Vec::new();
    let mut current: Vec<QueueMessage> = Vec::new();
    let mut current_bytes = 0;
    for message in messages {
        let bytes = message.body.len();
        if !current.is_empty()
            && (current.len() == MAX_BATCH_ENTRIES || current_bytes + bytes > MAX_BATCH_BYTES)
        {
            chunks.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += bytes;
        current.push(message);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// A received SQS message as the port describes it. A message without a receipt handle
/// cannot be deleted, so it is left for SQS to redeliver. Missing `kind`/`version`
/// attributes read as empty / 0, which every consumer refuses (and dead-letters) by name.
fn received(message: Message) -> Option<Received> {
    let (Some(message_id), Some(receipt_handle)) = (message.message_id, message.receipt_handle) else {
        tracing::warn!("sqs.message_without_id_or_receipt_handle");
        return None;
    };
    let attributes = message.message_attributes.unwrap_or_default();
    let text = |name: &str| attributes.get(name).and_then(|a| a.string_value()).map(str::to_owned);
    let system = message.attributes.unwrap_or_default();
    let receive_count = system
        .get(&MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let sent_at = system
        .get(&MessageSystemAttributeName::SentTimestamp)
        .and_then(|millis| millis.parse::<i64>().ok())
        .and_then(|millis| Timestamp::from_millisecond(millis).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    Some(Received {
        message_id,
        receipt_handle,
        body: message.body.unwrap_or_default(),
        kind: text(KIND).unwrap_or_default(),
        version: text(VERSION).and_then(|v| v.parse().ok()).unwrap_or(0),
        receive_count,
        sent_at,
    })
}

#[cfg(test)]
mod tests {

    use aws_sdk_sqs::operation::delete_message::DeleteMessageError;
    use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchOutput;
    use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
    use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
    use aws_sdk_sqs::operation::send_message_batch::builders::SendMessageBatchOutputBuilder;
    use aws_sdk_sqs::types::error::ReceiptHandleIsInvalid;
    use aws_sdk_sqs::types::{BatchResultErrorEntry, SendMessageBatchResultEntry};
    use aws_smithy_mocks::{Rule, RuleMode, mock};

    use super::*;

    fn queue(rules: &[&Rule]) -> SqsQueue {
        queue_with(RuleMode::Sequential, rules)
    }

    fn queue_with(mode: RuleMode, rules: &[&Rule]) -> SqsQueue {
        SqsQueue::new(
            crate::mock_client::mock_client!(aws_sdk_sqs, mode, rules),
            "http://sqs.local/000000000000/inbound",
        )
    }

    fn ok_batch(count: usize) -> SendMessageBatchOutput {
        ok_entries(count).set_failed(Some(Vec::new())).build().unwrap()
    }

    fn ok_entries(count: usize) -> SendMessageBatchOutputBuilder {
        let mut output = SendMessageBatchOutput::builder();
        for id in 0..count {
            let entry = SendMessageBatchResultEntry::builder()
                .id(id.to_string())
                .message_id(format!("m{id}"))
                .md5_of_message_body("x")
                .build()
                .unwrap();
            output = output.successful(entry);
        }
        output
    }

    #[tokio::test]
    async fn batch_is_sent_in_chunks_of_ten_with_attributes() {
        let rule = mock!(Client::send_message_batch)
            .match_requests(move |request| {
                let entries = request.entries();
                let tagged = entries.iter().all(|e| {
                    let attributes = e.message_attributes();
                    attributes.and_then(|a| a.get(KIND)).and_then(|k| k.string_value())
                        == Some("outbound_job")
                        && attributes.and_then(|a| a.get(VERSION)).map(|v| v.data_type()) == Some("Number")
                });
                tagged && entries.len() <= MAX_BATCH_ENTRIES
            })
            .then_compute_output(|request| ok_batch(request.entries().len()));
        let queue = queue_with(RuleMode::MatchAny, &[&rule]);
        queue.send_batch((0..25).map(|_| message(10)).collect()).await.unwrap();
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn a_failed_batch_entry_makes_the_batch_unavailable() {
        let rule = mock!(Client::send_message_batch).then_output(|| {
            let failed = BatchResultErrorEntry::builder()
                .id("1")
                .code("InternalError")
                .sender_fault(false)
                .build()
                .unwrap();
            ok_entries(1).failed(failed).build().unwrap()
        });
        let queue = queue(&[&rule]);
        let result = queue.send_batch(vec![message(1), message(1)]).await;
        assert!(matches!(result, Err(QueueError::Unavailable(m)) if m.contains("InternalError")));
    }

    #[tokio::test]
    async fn oversized_message_is_refused_before_sending() {
        let queue = queue(&[]);
        let big = message(MAX_QUEUE_MESSAGE_BYTES + 1);
        assert_eq!(queue.send(big.clone()).await, Err(QueueError::TooLarge(big.body.len())));
        assert_eq!(
            queue.send_batch(vec![message(1), big.clone()]).await,
            Err(QueueError::TooLarge(big.body.len()))
        );
    }

    #[tokio::test]
    async fn receive_asks_for_counts_times_and_attributes() {
        let rule = mock!(Client::receive_message)
            .match_requests(|request| {
                let system = request.message_system_attribute_names();
                request.max_number_of_messages() == Some(10)
                    && request.wait_time_seconds() == Some(RECEIVE_WAIT_SECONDS)
                    && system.contains(&MessageSystemAttributeName::ApproximateReceiveCount)
                    && system.contains(&MessageSystemAttributeName::SentTimestamp)
                    && request.message_attribute_names() == ["All".to_owned()]
            })
            .then_output(|| {
                ReceiveMessageOutput::builder()
                    .messages(Message::builder().message_id("m1").receipt_handle("r1").body("{}").build())
                    .build()
            });
        let queue = queue(&[&rule]);
        let received = queue.receive(50).await.unwrap();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].receive_count, 1);
        assert!(queue.receive(0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn deleting_with_a_stale_handle_is_a_no_op() {
        let rule = mock!(Client::delete_message).then_error(|| {
            DeleteMessageError::ReceiptHandleIsInvalid(ReceiptHandleIsInvalid::builder().build())
        });
        let queue = queue(&[&rule]);
        queue.delete("stale").await.unwrap();
    }

    #[tokio::test]
    async fn batch_delete_sends_ten_handles_a_request_and_skips_stale_ones() {
        let rule = mock!(Client::delete_message_batch)
            .match_requests(|request| request.entries().len() <= MAX_BATCH_ENTRIES)
            .then_compute_output(|request| {
                let stale = request
                    .entries()
                    .iter()
                    .filter(|entry| entry.receipt_handle() == "stale")
                    .map(|entry| {
                        BatchResultErrorEntry::builder()
                            .id(entry.id())
                            .code(RECEIPT_HANDLE_IS_INVALID)
                            .sender_fault(true)
                            .build()
                            .unwrap()
                    })
                    .collect();
                DeleteMessageBatchOutput::builder()
                    .set_successful(Some(Vec::new()))
                    .set_failed(Some(stale))
                    .build()
                    .unwrap()
            });
        let queue = queue_with(RuleMode::MatchAny, &[&rule]);
        let mut handles: Vec<String> = (0..12).map(|i| format!("r{i}")).collect();
        handles.push("stale".into());
        queue.delete_batch(&handles).await.unwrap();
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_batch_delete_that_fails_for_another_reason_is_an_error() {
        let rule = mock!(Client::delete_message_batch).then_output(|| {
            let failed = BatchResultErrorEntry::builder()
                .id("0")
                .code("InternalError")
                .sender_fault(false)
                .build()
                .unwrap();
            DeleteMessageBatchOutput::builder()
                .set_successful(Some(Vec::new()))
                .failed(failed)
                .build()
                .unwrap()
        });
        let queue = queue(&[&rule]);
        let result = queue.delete_batch(&["r0".to_owned()]).await;
        assert!(matches!(result, Err(QueueError::Unavailable(m)) if m.contains("InternalError")));
    }

    fn message(bytes: usize) -> QueueMessage {
        QueueMessage { body: "x".repeat(bytes), kind: "outbound_job".into(), version: 1 }
    }

    #[test]
    fn batches_hold_at_most_ten_messages() {
        let sizes: Vec<usize> = chunks((0..25).map(|_| message(10)).collect()).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
    }

    #[test]
    fn batches_stay_under_the_size_limit() {
        let big = MAX_BATCH_BYTES / 2;
        let sizes: Vec<usize> =
            chunks(vec![message(big), message(big), message(1), message(MAX_BATCH_BYTES)])
                .iter()
                .map(Vec::len)
                .collect();
        assert_eq!(sizes, vec![2, 1, 1]);
    }

    #[test]
    fn received_message_reads_attributes() {
        let message = Message::builder()
            .message_id("m1")
            .receipt_handle("r1")
            .body("{}")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1790000000123")
            .message_attributes(
                KIND,
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("outbound_job")
                    .build()
                    .unwrap(),
            )
            .message_attributes(
                VERSION,
                MessageAttributeValue::builder().data_type("Number").string_value("2").build().unwrap(),
            )
            .build();
        let received = received(message).unwrap();
        assert_eq!(received.kind, "outbound_job");
        assert_eq!(received.version, 2);
        assert_eq!(received.receive_count, 3);
        assert_eq!(received.sent_at, Timestamp::from_millisecond(1_790_000_000_123).unwrap());
    }

    #[test]
    fn message_without_receipt_handle_is_skipped() {
        assert!(received(Message::builder().message_id("m1").body("{}").build()).is_none());
    }
}
