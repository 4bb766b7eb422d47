//! The one place where AWS SDK failures become the ports' errors, so every call retries (or
//! gives up) for the same reasons.
//!
//! - a lost condition (ConditionalCheckFailed, alone or inside a cancelled transaction) is a
//!   [`StoreError::Conflict`]: re-read and try again;
//! - a request DynamoDB refuses as invalid (ValidationException, an item over 400 KB, an item
//!   collection over its limit) is [`StoreError::Corrupt`]: retrying cannot help;
//! - everything else — throttling, transaction conflicts, 5xx, timeouts, connection failures,
//!   unreadable responses, and also access or configuration errors that an operator can fix —
//!   is [`StoreError::Unavailable`]: worth retrying later, and dead-lettered if it persists.
//!
//! S3 follows the same lines for the blob store (a refused request is `Corrupt`, the rest
//! `Unavailable`). SES refusals that no retry can fix — the message, the sender or the
//! account — are [`MailError::Rejected`]; throttling, quotas, 5xx and transport failures are
//! [`MailError::Unavailable`]. Mail errors never carry addresses: SES names the offending
//! identities in its messages, and logs must not hold email addresses (ARCHITECTURE.md §5).

use std::error::Error;
use std::fmt::Display;

#[cfg(feature = "dynamodb")]
use aws_sdk_dynamodb::operation::{
    batch_get_item::BatchGetItemError, batch_write_item::BatchWriteItemError, delete_item::DeleteItemError,
    get_item::GetItemError, put_item::PutItemError, query::QueryError,
    transact_write_items::TransactWriteItemsError, update_item::UpdateItemError,
};
#[cfg(feature = "dynamodb")]
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_s3::operation::delete_object::DeleteObjectError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
use aws_sdk_s3::operation::put_object::PutObjectError;
#[cfg(feature = "sesv2")]
use aws_sdk_sesv2::operation::send_email::SendEmailError;
// The smithy types every SDK crate re-exports, so that no client's crate is needed here.
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
#[cfg(feature = "dynamodb")]
use aws_smithy_types::error::operation::BuildError;
#[cfg(feature = "sesv2")]
use omnidesk_domain::ports::MailError;
#[cfg(feature = "sqs")]
use omnidesk_domain::ports::QueueError;
use omnidesk_domain::ports::StoreError;

/// What every SDK client's call fails with (each client crate re-exports this very type).
type SdkError<E> = aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>;

#[cfg(feature = "dynamodb")]
/// How a failed DynamoDB call should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Conflict,
    Unavailable,
    Invalid,
}

#[cfg(feature = "dynamodb")]
/// Operation errors whose modelled variants already say what went wrong. Matching variants
/// (not only error codes) matters: an error built by hand, as in tests, carries no code.
pub(crate) trait Classify {
    fn class(&self) -> Option<Class>;

    /// Extra detail worth logging, e.g. a cancelled transaction's per-item reasons.
    fn detail(&self) -> Option<String> {
        None
    }
}

#[cfg(feature = "dynamodb")]
/// Maps any failed DynamoDB call. `operation` names the call in the message, e.g. `PutItem`.
pub(crate) fn store_error<E>(operation: &'static str, error: SdkError<E>) -> StoreError
where
    E: Classify + ProvideErrorMetadata + Error + 'static,
{
    let (class, detail) = match &error {
        SdkError::ServiceError(context) => {
            let service_error = context.err();
            let class = service_error
                .class()
                .or_else(|| class_of_code(service_error.code()))
                // Unknown codes, whatever the status (5xx, 429, or a 4xx such as access
                // denied that an operator fixes): the request itself may succeed later.
                .unwrap_or(Class::Unavailable);
            let mut detail = format!("{}", DisplayErrorContext(service_error));
            if let Some(extra) = service_error.detail() {
                detail = format!("{detail} {extra}");
            }
            (class, detail)
        }
        // Timeouts, connection failures, unreadable responses, missing credentials: the
        // service may answer in a moment.
        other => (Class::Unavailable, format!("{}", DisplayErrorContext(other))),
    };
    let message = format!("{operation}: {detail}");
    match class {
        Class::Conflict => StoreError::Conflict(message),
        Class::Unavailable => StoreError::Unavailable(message),
        Class::Invalid => StoreError::Corrupt(message),
    }
}

#[cfg(feature = "dynamodb")]
/// A request our own code could not assemble (a required field missing): a bug, never
/// fixed by retrying.
pub(crate) fn build_error(operation: &'static str, error: BuildError) -> StoreError {
    StoreError::Corrupt(format!("{operation}: request could not be built: {error}"))
}

#[cfg(feature = "dynamodb")]
/// A stored item that does not read back as what it should be, or a value that cannot be
/// written as an item.
pub(crate) fn corrupt(what: impl Display, error: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

#[cfg(feature = "sqs")]
/// Maps any failed SQS call. Every SQS failure a sender or receiver can see is worth a retry
/// (or a redelivery); the one permanent failure, a message over the size limit, is refused
/// before sending.
pub(crate) fn queue_error<E>(operation: &'static str, error: SdkError<E>) -> QueueError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    QueueError::Unavailable(format!("{operation}: {}", DisplayErrorContext(&error)))
}

#[cfg(feature = "sesv2")]
/// Maps a failed SESv2 SendEmail.
pub(crate) fn mail_error(error: SdkError<SendEmailError>) -> MailError {
    let message = redact_addresses(&format!("SendEmail: {}", DisplayErrorContext(&error)));
    match error.as_service_error() {
        Some(refusal) if mail_refused(refusal) => MailError::Rejected(message),
        // Throttling (TooManyRequests), quotas (LimitExceeded), 5xx, unknown codes, and
        // timeouts or connection failures: the same mail may go through later.
        _ => MailError::Unavailable(message),
    }
}

#[cfg(feature = "sesv2")]
/// Refusals that retrying the same mail cannot fix: the message itself (MessageRejected,
/// BadRequest), the sender (MailFromDomainNotVerified), the account (AccountSuspended,
/// SendingPaused: an operator must act, typically for days) or a missing resource
/// (NotFound). Dead-lettered at once, with the reason, instead of being retried for nothing.
fn mail_refused(error: &SendEmailError) -> bool {
    match error {
        SendEmailError::MessageRejected(_)
        | SendEmailError::MailFromDomainNotVerifiedException(_)
        | SendEmailError::AccountSuspendedException(_)
        | SendEmailError::SendingPausedException(_)
        | SendEmailError::BadRequestException(_)
        | SendEmailError::NotFoundException(_) => true,
        SendEmailError::LimitExceededException(_) | SendEmailError::TooManyRequestsException(_) => false,
        other => matches!(
            other.code(),
            Some(
                "MessageRejected"
                    | "MailFromDomainNotVerifiedException"
                    | "AccountSuspendedException"
                    | "SendingPausedException"
                    | "BadRequestException"
                    | "NotFoundException"
            )
        ),
    }
}

#[cfg(feature = "sesv2")]
/// Replaces every word that looks like an address (`a@b`, `<a@b>`, `"a@b",`) by
/// `<address>`, keeping the rest of the provider's explanation, on one line.
fn redact_addresses(text: &str) -> String {
    text.split_whitespace()
        .map(|word| if word.contains('@') { "<address>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// S3 operation errors whose modelled variants say the request itself is refused.
pub(crate) trait Refused {
    fn refused(&self) -> bool;
}

impl Refused for PutObjectError {
    fn refused(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest(_)
                | Self::EncryptionTypeMismatch(_)
                | Self::InvalidWriteOffset(_)
                | Self::TooManyParts(_)
        )
    }
}

impl Refused for GetObjectError {
    fn refused(&self) -> bool {
        // An archived object must be restored by an operator before it can be read.
        matches!(self, Self::InvalidObjectState(_))
    }
}

impl Refused for DeleteObjectError {
    fn refused(&self) -> bool {
        false
    }
}

impl Refused for ListObjectsV2Error {
    fn refused(&self) -> bool {
        // NoSuchBucket is a deployment error an operator fixes: Unavailable, like access.
        false
    }
}

/// Maps any failed S3 call of the blob store. `operation` names the call, e.g. `PutObject`.
pub(crate) fn blob_error<E>(operation: &'static str, error: SdkError<E>) -> StoreError
where
    E: Refused + ProvideErrorMetadata + Error + 'static,
{
    let message = format!("{operation}: {}", DisplayErrorContext(&error));
    let refused = error.as_service_error().is_some_and(|e| {
        e.refused()
            || matches!(
                e.code(),
                Some(
                    "InvalidRequest"
                        | "InvalidArgument"
                        | "EntityTooLarge"
                        | "KeyTooLongError"
                        | "InvalidObjectState"
                )
            )
    });
    if refused { StoreError::Corrupt(message) } else { StoreError::Unavailable(message) }
}

#[cfg(feature = "dynamodb")]
/// Classes by error code, for errors the operation does not model (they arrive as
/// `Unhandled`), e.g. ValidationException.
fn class_of_code(code: Option<&str>) -> Option<Class> {
    match code? {
        "ConditionalCheckFailedException" => Some(Class::Conflict),
        "ValidationException" | "SerializationException" | "ItemCollectionSizeLimitExceededException" => {
            Some(Class::Invalid)
        }
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TransactionConflictException"
        | "TransactionInProgressException"
        | "ReplicatedWriteConflictException"
        | "InternalServerError"
        | "ServiceUnavailable"
        | "LimitExceededException" => Some(Class::Unavailable),
        _ => None,
    }
}

#[cfg(feature = "dynamodb")]
/// The per-item reasons of a cancelled transaction decide: one lost condition makes the whole
/// transaction a conflict; otherwise throttling or a concurrent transaction is worth a retry,
/// and an invalid item is not.
fn cancellation_class(cancelled: &TransactionCanceledException) -> Class {
    let codes: Vec<&str> = cancelled.cancellation_reasons().iter().filter_map(|r| r.code()).collect();
    // Some emulators leave the reasons out and only list them in the message.
    let message = cancelled.message().unwrap_or_default();
    let mentions = |code: &str| codes.contains(&code) || (codes.is_empty() && message.contains(code));
    if mentions("ConditionalCheckFailed") {
        Class::Conflict
    } else if mentions("ValidationError") || mentions("ItemCollectionSizeLimitExceeded") {
        Class::Invalid
    } else {
        Class::Unavailable
    }
}

#[cfg(feature = "dynamodb")]
impl Classify for TransactWriteItemsError {
    fn class(&self) -> Option<Class> {
        match self {
            Self::TransactionCanceledException(cancelled) => Some(cancellation_class(cancelled)),
            Self::TransactionInProgressException(_)
            | Self::ProvisionedThroughputExceededException(_)
            | Self::RequestLimitExceeded(_)
            | Self::ThrottlingException(_)
            | Self::InternalServerError(_) => Some(Class::Unavailable),
            _ => None,
        }
    }

    fn detail(&self) -> Option<String> {
        let Self::TransactionCanceledException(cancelled) = self else { return None };
        let reasons: Vec<&str> =
            cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
        Some(format!("reasons: [{}]", reasons.join(", ")))
    }
}

#[cfg(feature = "dynamodb")]
/// The single-item writes share one set of modelled errors.
macro_rules! classify_item_write {
    ($($error:ty),+) => {$(
        impl Classify for $error {
            fn class(&self) -> Option<Class> {
                match self {
                    Self::ConditionalCheckFailedException(_) => Some(Class::Conflict),
                    Self::ItemCollectionSizeLimitExceededException(_) => Some(Class::Invalid),
                    Self::ProvisionedThroughputExceededException(_)
                    | Self::RequestLimitExceeded(_)
                    | Self::ThrottlingException(_)
                    | Self::TransactionConflictException(_)
                    | Self::ReplicatedWriteConflictException(_)
                    | Self::InternalServerError(_) => Some(Class::Unavailable),
                    _ => None,
                }
            }
        }
    )+};
}

#[cfg(feature = "dynamodb")]
/// Reads fail only for capacity or server reasons among their modelled errors.
macro_rules! classify_read {
    ($($error:ty),+) => {$(
        impl Classify for $error {
            fn class(&self) -> Option<Class> {
                match self {
                    Self::ProvisionedThroughputExceededException(_)
                    | Self::RequestLimitExceeded(_)
                    | Self::ThrottlingException(_)
                    | Self::InternalServerError(_) => Some(Class::Unavailable),
                    _ => None,
                }
            }
        }
    )+};
}

#[cfg(feature = "dynamodb")]
classify_item_write!(PutItemError, UpdateItemError, DeleteItemError);
// BatchWriteItem (seeding only) fails like a read: capacity or server trouble.
#[cfg(feature = "dynamodb")]
classify_read!(GetItemError, QueryError, BatchGetItemError, BatchWriteItemError);

#[cfg(all(test, feature = "dynamodb", feature = "sesv2"))]
mod tests {
    use aws_sdk_dynamodb::types::CancellationReason;

    use super::*;

    fn cancelled(codes: &[&str]) -> TransactionCanceledException {
        let mut builder = TransactionCanceledException::builder().message("Transaction cancelled");
        for code in codes {
            builder = builder.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        builder.build()
    }

    #[test]
    fn any_lost_condition_makes_the_transaction_a_conflict() {
        assert_eq!(cancellation_class(&cancelled(&["None", "ConditionalCheckFailed"])), Class::Conflict);
        assert_eq!(
            cancellation_class(&cancelled(&["TransactionConflict", "ConditionalCheckFailed"])),
            Class::Conflict
        );
    }

    #[test]
    fn contention_and_throttling_in_a_transaction_are_retryable() {
        assert_eq!(cancellation_class(&cancelled(&["None", "TransactionConflict"])), Class::Unavailable);
        assert_eq!(cancellation_class(&cancelled(&["ThrottlingError"])), Class::Unavailable);
        assert_eq!(cancellation_class(&cancelled(&["ProvisionedThroughputExceeded"])), Class::Unavailable);
    }

    #[test]
    fn an_invalid_item_in_a_transaction_is_not_retryable() {
        assert_eq!(cancellation_class(&cancelled(&["None", "ValidationError"])), Class::Invalid);
    }

    #[test]
    fn reasons_only_in_the_message_still_count() {
        let bare = TransactionCanceledException::builder()
            .message("Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")
            .build();
        assert_eq!(cancellation_class(&bare), Class::Conflict);
    }

    #[test]
    fn addresses_are_redacted() {
        let text = "MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: support@shop.example, <a.b@c.example>";
        let redacted = redact_addresses(text);
        assert!(!redacted.contains('@'), "{redacted}");
        assert!(redacted.starts_with("MessageRejected: Email address is not verified."));
    }

    #[test]
    fn codes_of_unmodelled_errors_are_classified() {
        assert_eq!(class_of_code(Some("ValidationException")), Some(Class::Invalid));
        assert_eq!(class_of_code(Some("ThrottlingException")), Some(Class::Unavailable));
        assert_eq!(class_of_code(Some("ConditionalCheckFailedException")), Some(Class::Conflict));
        assert_eq!(class_of_code(Some("AccessDeniedException")), None);
        assert_eq!(class_of_code(None), None);
    }
}
