//! outbound-dispatcher: consumes the outbound queue (SQS, ReportBatchItemFailures) and
//! delivers each job once. The workflow is `omnidesk_domain::dispatch`; the senders are
//! `omnidesk_app::chat_callback` (chat), `omnidesk_app::outbound_channels` (mail, SESv2) and
//! `omnidesk_app::webhook` (SLA alerts to on-call URLs) and `omnidesk_app::callback_tasks`
//! (callbacks as Amazon Connect tasks, when the stack has the phone channel) and
//! `omnidesk_app::social::send` (WeChat, Meta and forum replies, with `[social]`).

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use omnidesk_app::callback_tasks::CallbackNotifier;
use omnidesk_app::chat_callback::ChatCallbackNotifier;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::outbound_channels::{ChannelNotifier, MailNotifier};
use omnidesk_app::outbound_dispatcher::{DispatcherHandler, batch_budget};
use omnidesk_app::social::send::{self, SocialNotifier, WechatIssuer};
use omnidesk_app::social::token::SharedToken;
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_app::webhook::WebhookNotifier;
use omnidesk_aws::AwsEnvironment;
use omnidesk_aws_connect::ConnectTasks;
use omnidesk_domain::dispatch::DispatcherPorts;
use omnidesk_domain::ports::{IdSource, OutboundNotifier};
use omnidesk_domain::system::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // The inbox secrets, resolved once per container; the role may read only those.
    let secrets = aws.secrets();
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, Some(&secrets)).await?;
    // The platforms' API credentials, for social replies.
    if let Some(social) = config.social.as_mut() {
        social.resolve(&secrets).await?;
    }
    // Secrets are read in init only: its client goes.
    drop(secrets);
    let store = Arc::new(aws.store()?);
    let clock = Arc::new(SystemClock);
    let chat = ChatCallbackNotifier::new(config.inboxes(), clock.clone(), config.delivery.clone())?;
    // SESv2 only when the desk has an email channel; otherwise email jobs are dead-lettered.
    // SES replaces Message-IDs: the one it assigns is recorded as a thread key of the ticket.
    // SLA alert mail to teams goes the same way (sla.notify_from, default email.address).
    let sends_mail =
        config.email.is_some() || config.sla.as_ref().is_some_and(|sla| sla.notify_from.is_some());
    let email = sends_mail.then(|| {
        let mailer = MailNotifier::new(Arc::new(aws.mailer())).recording_threads(store.clone());
        Arc::new(mailer) as Arc<dyn OutboundNotifier>
    });
    // SLA alerts to on-call webhooks.
    let webhook = WebhookNotifier::new(clock.clone(), &config.delivery)?;
    let mut notifier = ChannelNotifier::new(Arc::new(chat), email).with_webhook(Arc::new(webhook));
    // Callback tasks only with a Connect instance (stack parameter); otherwise callback
    // jobs are dead-lettered, where someone sees them.
    if let Some(tasks) = ConnectTasks::from_env(&aws.clients()) {
        notifier = notifier.with_callbacks(Arc::new(CallbackNotifier::new(Arc::new(tasks))));
    }
    // Social replies; WeChat's access token is shared with every container through the table.
    if let Some(social) = config.social.clone() {
        let http = send::http_client()?;
        let issuer = Arc::new(WechatIssuer { http: http.clone() });
        let tokens = SharedToken::new(store.clone(), clock.clone(), issuer, RandomIds.token());
        notifier =
            notifier.with_social(Arc::new(SocialNotifier::new(http, Arc::new(social), Arc::new(tokens))));
    }
    // A platform's refusal of a reply goes to the router, which notes it on the ticket.
    let handler = &DispatcherHandler::new(DispatcherPorts {
        idempotency: store,
        notifier: Arc::new(notifier),
        clock,
        ids: Arc::new(RandomIds),
    })
    .with_refusals(Arc::new(aws.inbound_queue()?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let budget = batch_budget(event.context.deadline, now_ms());
        Ok::<_, Error>(handler.handle_within(event.payload, budget).await)
    }))
    .await
}

/// Milliseconds since the epoch, the unit of the invocation's deadline.
fn now_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}
