//! The edges of omnidesk, shared by the Lambda functions and the local desk: the HTTP routers,
//! the SQS batch handlers, the email-inbound handler, configuration, request signing and the
//! senders per channel (chat callbacks, mail). Free
//! of the AWS SDK and the Lambda runtime; only the event types come from `aws_lambda_events`.

pub mod agent_api;
pub mod analytics_rollup;
pub mod body;
pub mod callback_tasks;
pub mod chat_attachments;
pub mod chat_callback;
pub mod chat_webhook;
pub mod config;
pub mod email_inbound;
pub mod error;
pub mod kb;
pub mod outbound_channels;
pub mod outbound_dispatcher;
pub mod phone_events;
pub mod shop;
pub mod signature;
pub mod sla_sweeper;
pub mod social;
pub mod sqs_batch;
pub mod survey_page;
pub mod survey_sender;
pub mod survey_web;
pub mod telemetry;
pub mod ticket_router;
pub mod webhook;
