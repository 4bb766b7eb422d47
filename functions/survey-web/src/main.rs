//! survey-web: `GET|POST /v1/surveys/{token}` and its unsubscribe page, public routes of the
//! HTTP API (throttled apart from the agent API). The routes, pages, headers and status
//! mapping live in `omnidesk_app::survey_web`; the workflow in `omnidesk_domain::survey`.

use std::sync::Arc;

use lambda_http::Error;
use omnidesk_app::config::{DeskConfig, MAX_CONFIG_BYTES};
use omnidesk_app::survey_web::{self, SurveyWeb};
use omnidesk_app::telemetry::{self, LogFormat};
use omnidesk_aws::AwsEnvironment;
use omnidesk_domain::survey::SurveyPorts;
use omnidesk_domain::system::{RandomIds, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let aws = AwsEnvironment::load().await?;
    // Only the survey link key is resolved: the role may read that secret and no other.
    let mut config = DeskConfig::deployed(&aws.config_text(MAX_CONFIG_BYTES).await?, None).await?;
    config.resolve_survey_secrets(&aws.secrets()).await?;
    let store = Arc::new(aws.store()?);
    let ports = SurveyPorts {
        tickets: store.clone(),
        customers: store,
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
    };
    let Some(desk) = survey_web::desk(&config, ports) else {
        return Err("the desk configuration has no [survey] section: survey-web needs one".into());
    };
    lambda_http::run(survey_web::router(SurveyWeb { desk: Arc::new(desk) })).await
}
