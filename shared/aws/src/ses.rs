//! The mailer port on SESv2: `SendEmail` with the complete raw message, so the headers the
//! domain builds (Message-ID, In-Reply-To, Auto-Submitted…) reach the customer unchanged.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use omnidesk_domain::ports::{MailError, Mailer, OutgoingMail};

use crate::errors::mail_error;

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
}

impl SesMailer {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send_raw(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        // Refused here as the in-memory twin does; SES would answer BadRequest.
        if mail.to.is_empty() {
            return Err(MailError::Rejected("SendEmail: no recipients".into()));
        }
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| MailError::Rejected(format!("SendEmail: request could not be built: {e}")))?;
        let output = self
            .client
            .send_email()
            // The envelope: SES takes the sender and recipients from here, not from the
            // headers, so Bcc never shows and the Return-Path is ours.
            .from_email_address(&mail.from)
            .destination(Destination::builder().set_to_addresses(Some(mail.to.clone())).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(mail_error)?;
        // SES always answers with an id; were it ever missing, the mail is still sent, and
        // failing here would only make the caller send it twice.
        Ok(output.message_id.unwrap_or_default())
    }

    /// SES replaces the Message-ID header with `<provider id>@<region host>` ("If you provide
    /// a Message-ID header, Amazon SES overrides the header with its own value", SES header
    /// fields): `email.amazonses.com` in us-east-1, `<region>.amazonses.com` elsewhere.
    fn delivered_message_id(&self, provider_id: &str, composed: &str) -> String {
        if provider_id.is_empty() {
            return composed.to_owned();
        }
        let region = self.client.config().region().map(|r| r.as_ref().to_owned());
        message_id_host(provider_id, region.as_deref())
    }
}

fn message_id_host(provider_id: &str, region: Option<&str>) -> String {
    match region {
        None | Some("us-east-1") => format!("{provider_id}@email.amazonses.com"),
        Some(region) => format!("{provider_id}@{region}.amazonses.com"),
    }
}

#[cfg(test)]
mod tests {

    use aws_sdk_sesv2::operation::send_email::{SendEmailError, SendEmailOutput};
    use aws_sdk_sesv2::types::error::{
        AccountSuspendedException, BadRequestException, LimitExceededException,
        MailFromDomainNotVerifiedException, MessageRejected, SendingPausedException,
        TooManyRequestsException,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock};

    use super::*;

    fn mailer(rules: &[&Rule]) -> SesMailer {
        SesMailer::new(crate::mock_client::mock_client!(aws_sdk_sesv2, RuleMode::Sequential, rules))
    }

    fn mail() -> OutgoingMail {
        OutgoingMail {
            from: "support@shop.example".into(),
            to: vec!["ana@customer.example".into()],
            raw: b"From: support@shop.example\r\nSubject: [#1042] parcel\r\n\r\nhello\r\n".to_vec(),
        }
    }

    #[tokio::test]
    async fn sends_the_raw_message_to_the_envelope_recipients() {
        let rule = mock!(Client::send_email)
            .match_requests(|request| {
                request.from_email_address() == Some("support@shop.example")
                    && request.destination().map(|d| d.to_addresses())
                        == Some(&["ana@customer.example".to_owned()][..])
                    && request.content().and_then(|c| c.raw()).map(|r| r.data().as_ref())
                        == Some(&mail().raw[..])
            })
            .then_output(|| SendEmailOutput::builder().message_id("0100-ses-id").build());
        let id = mailer(&[&rule]).send_raw(&mail()).await.unwrap();
        assert_eq!(id, "0100-ses-id");
    }

    #[tokio::test]
    async fn refusals_are_rejected_and_never_name_addresses() {
        let refusals: Vec<fn() -> SendEmailError> = vec![
            || {
                SendEmailError::MessageRejected(
                    MessageRejected::builder()
                        .message("Email address is not verified: support@shop.example")
                        .build(),
                )
            },
            || {
                SendEmailError::MailFromDomainNotVerifiedException(
                    MailFromDomainNotVerifiedException::builder().build(),
                )
            },
            || SendEmailError::AccountSuspendedException(AccountSuspendedException::builder().build()),
            || SendEmailError::SendingPausedException(SendingPausedException::builder().build()),
            || SendEmailError::BadRequestException(BadRequestException::builder().build()),
        ];
        for refusal in refusals {
            let rule = mock!(Client::send_email).then_error(refusal);
            let result = mailer(&[&rule]).send_raw(&mail()).await;
            match result {
                Err(MailError::Rejected(message)) => assert!(!message.contains('@'), "{message}"),
                other => panic!("expected Rejected, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn throttling_quotas_and_server_errors_are_unavailable() {
        let throttled = mock!(Client::send_email).then_error(|| {
            SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().build())
        });
        let quota = mock!(Client::send_email)
            .then_error(|| SendEmailError::LimitExceededException(LimitExceededException::builder().build()));
        let server = mock!(Client::send_email).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(503).unwrap(),
                aws_smithy_types::body::SdkBody::from("{}"),
            )
        });
        for rule in [throttled, quota, server] {
            let result = mailer(&[&rule]).send_raw(&mail()).await;
            assert!(matches!(result, Err(MailError::Unavailable(_))), "{result:?}");
        }
    }

    #[tokio::test]
    async fn a_mail_without_recipients_is_refused_before_sending() {
        let mut nobody = mail();
        nobody.to.clear();
        assert!(matches!(mailer(&[]).send_raw(&nobody).await, Err(MailError::Rejected(_))));
    }

    #[test]
    fn the_delivered_message_id_is_the_one_ses_writes() {
        assert_eq!(
            message_id_host("0100abc-000000", Some("us-east-1")),
            "0100abc-000000@email.amazonses.com"
        );
        assert_eq!(
            message_id_host("0102abc-000000", Some("eu-west-1")),
            "0102abc-000000@eu-west-1.amazonses.com"
        );
        let mailer = mailer(&[]);
        assert_eq!(mailer.delivered_message_id("id-1", "ours@desk.example"), "id-1@email.amazonses.com");
        assert_eq!(mailer.delivered_message_id("", "ours@desk.example"), "ours@desk.example");
    }
}
