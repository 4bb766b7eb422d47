//! The [`ContactCenter`] port on Amazon Connect: a callback becomes a task (StartTaskContact)
//! in the desk's instance, started by the task contact flow, which puts it in the team's
//! queue (the `omnidesk_team` attribute). A crate of its own so that only the functions that
//! start tasks link aws-sdk-connect, the slowest SDK crate to build.
//!
//! Moto does not implement these Connect APIs; the tests here hold the request's shape and
//! the error mapping against aws-smithy-mocks.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_connect::error::{DisplayErrorContext, SdkError};
use aws_sdk_connect::operation::start_task_contact::StartTaskContactError;
use aws_sdk_connect::types::{Reference, ReferenceType};
use aws_smithy_types::DateTime;
use omnidesk_aws::{Clients, MeterInterceptor};
use omnidesk_domain::phone::ports::{ContactCenter, TaskRequest};
use omnidesk_domain::ports::NotifyError;

/// The environment variables naming the instance and the task flow.
pub const CONNECT_INSTANCE_ID: &str = "OMNIDESK_CONNECT_INSTANCE_ID";
pub const CONNECT_TASK_FLOW_ID: &str = "OMNIDESK_CONNECT_TASK_FLOW_ID";

/// Connect's client on the shared SDK config (timeouts, retries, meter).
pub fn connect_client(clients: &Clients) -> aws_sdk_connect::Client {
    let mut builder = aws_sdk_connect::config::Builder::from(clients.sdk());
    if let Some(meter) = clients.meter() {
        builder = builder.interceptor(MeterInterceptor::new(meter.clone()));
    }
    aws_sdk_connect::Client::from_conf(builder.build())
}

pub struct ConnectTasks {
    client: aws_sdk_connect::Client,
    instance_id: String,
    contact_flow_id: String,
}

impl ConnectTasks {
    pub fn new(client: aws_sdk_connect::Client, instance_id: &str, contact_flow_id: &str) -> Self {
        Self { client, instance_id: instance_id.to_owned(), contact_flow_id: contact_flow_id.to_owned() }
    }

    /// From [`CONNECT_INSTANCE_ID`] and [`CONNECT_TASK_FLOW_ID`]; `None` when either is unset
    /// or empty (a stack without the phone channel).
    pub fn from_env(clients: &Clients) -> Option<Self> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.trim().is_empty());
        Some(Self::new(connect_client(clients), &var(CONNECT_INSTANCE_ID)?, &var(CONNECT_TASK_FLOW_ID)?))
    }
}

#[async_trait]
impl ContactCenter for ConnectTasks {
    async fn start_task(&self, request: &TaskRequest) -> Result<String, NotifyError> {
        let task = &request.task;
        let mut attributes = HashMap::from([
            ("omnidesk_ticket".to_owned(), request.ticket.0.to_string()),
            ("omnidesk_reason".to_owned(), task.reason.clone()),
        ]);
        if let Some(team) = &task.team {
            attributes.insert("omnidesk_team".to_owned(), team.clone());
        }
        let ticket = Reference::builder()
            .r#type(ReferenceType::Number)
            .value(request.ticket.0.to_string())
            .build()
            .map_err(|e| NotifyError::Permanent(e.to_string()))?;
        let output = self
            .client
            .start_task_contact()
            .instance_id(&self.instance_id)
            .contact_flow_id(&self.contact_flow_id)
            .name(&request.name)
            .description(&request.description)
            .set_attributes(Some(attributes))
            .references("ticket", ticket)
            .set_previous_contact_id(task.contact_id.clone())
            .set_scheduled_time(task.scheduled_for.map(|at| DateTime::from_secs(at.as_second())))
            .client_token(&request.client_token)
            .send()
            .await
            .map_err(task_error)?;
        Ok(output.contact_id.unwrap_or_default())
    }
}

/// Throttling, limits, 5xx and transport failures are worth retrying; a request Connect
/// refuses as invalid (or for a missing instance, flow or contact) is not.
fn task_error(error: SdkError<StartTaskContactError>) -> NotifyError {
    let message = format!("StartTaskContact: {}", DisplayErrorContext(&error));
    match &error {
        SdkError::ServiceError(context) => match context.err() {
            StartTaskContactError::InvalidParameterException(_)
            | StartTaskContactError::InvalidRequestException(_)
            | StartTaskContactError::ResourceNotFoundException(_) => NotifyError::Permanent(message),
            _ => NotifyError::Retryable(message),
        },
        _ => NotifyError::Retryable(message),
    }
}

#[cfg(test)]
mod tests;
