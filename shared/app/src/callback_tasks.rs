//! Callback jobs into Connect tasks: the dispatcher hands each `callback` job here, which
//! starts one task through the [`ContactCenter`] port (Connect's StartTaskContact on AWS, a
//! recording twin locally). The job id is the task's client token, so Connect itself starts
//! one task per callback even if a retry repeats the request.

use std::sync::Arc;

use async_trait::async_trait;
use omnidesk_domain::log_id::Hashed;
use omnidesk_domain::outbound::{Destination, OutboundJob};
use omnidesk_domain::phone::ports::{ContactCenter, TaskRequest};
use omnidesk_domain::ports::{NotifyError, OutboundNotifier};
use sha2::{Digest, Sha256};

/// Connect's limits on a task's name and description.
const MAX_TASK_NAME_CHARS: usize = 512;
const MAX_TASK_DESCRIPTION_CHARS: usize = 4096;

pub struct CallbackNotifier {
    center: Arc<dyn ContactCenter>,
}

impl CallbackNotifier {
    pub fn new(center: Arc<dyn ContactCenter>) -> Self {
        Self { center }
    }
}

/// The request for `job`; `None` when it is not a callback.
pub fn task_request(job: &OutboundJob) -> Option<TaskRequest> {
    let Destination::Callback(task) = &job.destination else { return None };
    let name: String = format!("Callback {}", job.ticket).chars().take(MAX_TASK_NAME_CHARS).collect();
    let description: String = job.text.chars().take(MAX_TASK_DESCRIPTION_CHARS).collect();
    // Connect takes at most 500 characters of token; a digest of the job id fits and stays
    // the same on every retry.
    let client_token = hex::encode(Sha256::digest(job.id.as_bytes()));
    Some(TaskRequest { ticket: job.ticket, task: task.clone(), name, description, client_token })
}

#[async_trait]
impl OutboundNotifier for CallbackNotifier {
    async fn deliver(&self, job: &OutboundJob) -> Result<(), NotifyError> {
        let request = task_request(job).ok_or_else(|| NotifyError::Permanent("not a callback job".into()))?;
        let task = self.center.start_task(&request).await?;
        tracing::info!(ticket = job.ticket.0, job = %Hashed(&job.id), task = %task, "callback.task_started");
        Ok(())
    }
}
