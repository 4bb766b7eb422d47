//! Surveys on the local desk: the survey pages (the `survey-web` router itself), the sender
//! on a timer (as its EventBridge schedule on AWS), and `POST /local/surveys/run` to run the
//! sender now — with `?ahead_minutes=N`, as if N minutes had passed, without moving its
//! watermark, so a walk-through need not wait a day for a survey to fall due.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use axum::{Json, Router};
use jiff::SignedDuration;
use omnidesk_app::error::ApiError;
use omnidesk_app::survey_sender::{self, SenderHandler};
use omnidesk_app::survey_web::{self, SurveyWeb};
use omnidesk_domain::survey::{SendReport, SenderPorts, SurveyPorts};
use omnidesk_domain::system::RandomIds;
use serde::Deserialize;

use crate::LocalDesk;

/// The most a preview run may look ahead: the longest sensible delay plus a day.
const MAX_AHEAD_MINUTES: i64 = 30 * 24 * 60;

/// The survey pages and the sender, when the config has `[survey]`.
pub struct Surveys {
    pub web: SurveyWeb,
    pub sender: SenderHandler,
}

impl Surveys {
    pub fn build(
        desk_config: &omnidesk_app::config::DeskConfig,
        ports: &crate::DeskPorts,
        clock: Arc<dyn omnidesk_domain::ports::Clock>,
    ) -> Option<Self> {
        let web = survey_web::desk(
            desk_config,
            SurveyPorts {
                tickets: ports.tickets.clone(),
                customers: ports.customers.clone(),
                clock: clock.clone(),
                ids: Arc::new(RandomIds),
            },
        )?;
        let sender = survey_sender::sender(
            desk_config,
            SenderPorts {
                tickets: ports.tickets.clone(),
                customers: ports.customers.clone(),
                watermarks: ports.watermarks.clone(),
                outbound: ports.outbound.clone(),
                clock,
            },
        )?;
        Some(Self { web: SurveyWeb { desk: Arc::new(web) }, sender: SenderHandler::new(sender) })
    }
}

#[derive(Debug, Default, Deserialize)]
struct RunQuery {
    #[serde(default)]
    ahead_minutes: Option<i64>,
}

pub fn router(desk: Arc<LocalDesk>) -> Router {
    let pages = desk.surveys.as_ref().map(|s| survey_web::router(s.web.clone()));
    let local = Router::new().route("/local/surveys/run", post(run)).with_state(desk);
    match pages {
        Some(pages) => local.merge(pages),
        None => local,
    }
}

async fn run(
    State(desk): State<Arc<LocalDesk>>,
    Query(query): Query<RunQuery>,
) -> Result<Json<SendReport>, ApiError> {
    let Some(surveys) = &desk.surveys else {
        return Err(ApiError::not_found("the config has no [survey] section"));
    };
    let ahead = query.ahead_minutes.unwrap_or(0);
    if !(0..=MAX_AHEAD_MINUTES).contains(&ahead) {
        return Err(ApiError::bad_request(format!("ahead_minutes: 0 to {MAX_AHEAD_MINUTES}")));
    }
    let sender = surveys.sender.sender();
    let report = if ahead == 0 {
        sender.run().await
    } else {
        let at = desk
            .clock
            .now()
            .checked_add(SignedDuration::from_mins(ahead))
            .unwrap_or_else(|_| desk.clock.now());
        sender.run_at(at, false).await
    };
    report.map(Json).map_err(|e| ApiError::unavailable(e.to_string()))
}

/// The schedule: one run every `every`.
pub async fn send_forever(desk: Arc<LocalDesk>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(surveys) = &desk.surveys else { return };
        match surveys.sender.sender().run().await {
            Ok(report) if report.failures > 0 => {
                tracing::warn!(failures = report.failures, "survey.run_partial")
            }
            Err(error) => tracing::warn!(%error, "survey.run_failed"),
            _ => {}
        }
    }
}
