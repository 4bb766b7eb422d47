//! The StartTaskContact request as the adapter sends it, and how Connect's refusals map.

use aws_sdk_connect::Client;
use aws_sdk_connect::operation::start_task_contact::{StartTaskContactError, StartTaskContactOutput};
use aws_sdk_connect::types::ReferenceType;
use aws_sdk_connect::types::error::{InvalidParameterException, ThrottlingException};
use aws_smithy_mocks::{Rule, RuleMode, mock};
use jiff::Timestamp;
use omnidesk_domain::model::TicketNumber;
use omnidesk_domain::outbound::CallbackTask;
use omnidesk_domain::phone::ports::{ContactCenter, TaskRequest};
use omnidesk_domain::ports::NotifyError;

use super::ConnectTasks;

/// A Connect client answered by `rules` in order, one attempt per call.
fn client(rules: &[&Rule]) -> Client {
    let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_connect::Config::builder()
        .behavior_version(aws_sdk_connect::config::BehaviorVersion::latest())
        .region(aws_sdk_connect::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_connect::config::Credentials::new("test", "test", None, None, "test"))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .retry_config(aws_sdk_connect::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn request(scheduled_for: Option<Timestamp>) -> TaskRequest {
    TaskRequest {
        ticket: TicketNumber(42),
        task: CallbackTask {
            team: Some("frontline".into()),
            contact_id: Some("c0ffee00-1111-2222-3333-444455556666".into()),
            scheduled_for,
            reason: "after_hours".into(),
        },
        name: "Callback #42".into(),
        description: "Call back the customer of ticket #42 (after hours)".into(),
        client_token: "a".repeat(64),
    }
}

#[tokio::test]
async fn a_scheduled_callback_names_instance_flow_ticket_team_previous_contact_and_token() {
    let at = Timestamp::from_second(1_796_000_400).unwrap();
    let rule = mock!(Client::start_task_contact)
        .match_requests(move |r| {
            let attributes = r.attributes().cloned().unwrap_or_default();
            let ticket = r.references().and_then(|refs| refs.get("ticket")).cloned();
            r.instance_id() == Some("inst-1")
                && r.contact_flow_id() == Some("flow-1")
                && r.name() == Some("Callback #42")
                && r.previous_contact_id() == Some("c0ffee00-1111-2222-3333-444455556666")
                && r.scheduled_time().map(|t| t.secs()) == Some(at.as_second())
                && r.client_token() == Some("a".repeat(64).as_str())
                && attributes.get("omnidesk_team").map(String::as_str) == Some("frontline")
                && attributes.get("omnidesk_ticket").map(String::as_str) == Some("42")
                && ticket.is_some_and(|t| t.value() == "42" && *t.r#type() == ReferenceType::Number)
        })
        .then_output(|| StartTaskContactOutput::builder().contact_id("task-1").build());
    let client = client(&[&rule]);
    let tasks = ConnectTasks::new(client, "inst-1", "flow-1");
    assert_eq!(tasks.start_task(&request(Some(at))).await.unwrap(), "task-1");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_callback_for_now_sends_no_scheduled_time() {
    let rule = mock!(Client::start_task_contact)
        .match_requests(|r| r.scheduled_time().is_none())
        .then_output(|| StartTaskContactOutput::builder().contact_id("task-2").build());
    let client = client(&[&rule]);
    let tasks = ConnectTasks::new(client, "inst-1", "flow-1");
    assert_eq!(tasks.start_task(&request(None)).await.unwrap(), "task-2");
}

#[tokio::test]
async fn throttling_is_retryable_and_an_invalid_parameter_is_permanent() {
    let throttled = mock!(Client::start_task_contact).then_error(|| {
        StartTaskContactError::ThrottlingException(
            ThrottlingException::builder().message("slow down").build(),
        )
    });
    let invalid = mock!(Client::start_task_contact).then_error(|| {
        StartTaskContactError::InvalidParameterException(
            InvalidParameterException::builder().message("bad flow").build(),
        )
    });
    let client = client(&[&throttled, &invalid]);
    let tasks = ConnectTasks::new(client, "inst-1", "flow-1");
    assert!(matches!(tasks.start_task(&request(None)).await, Err(NotifyError::Retryable(_))));
    assert!(matches!(tasks.start_task(&request(None)).await, Err(NotifyError::Permanent(_))));
}
