//! `GET|HEAD|POST /v1/surveys/{token}` and `/v1/surveys/{token}/unsubscribe`: the pages
//! behind a survey link (the `survey-web` function; the local desk serves the same router).
//!
//! GET and HEAD only read: mail scanners and link previews open links, and must record
//! nothing. A POST records the answer once ([`SurveyDesk::answer`]); it must carry the
//! anti-forgery field of a form a GET of the same link rendered, so a cross-site form or a bare
//! replayed URL cannot answer. A tampered or unknown link is 404, an expired one 410, a missing
//! or stale form field 403, a bad rating 400, a body over [`MAX_FORM_BYTES`] 413. Every
//! response, errors included, is HTML with a strict Content-Security-Policy, `Cache-Control:
//! no-store` and `Referrer-Policy: no-referrer` (the token is in the URL: it must not leak to
//! caches or other sites).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use omnidesk_domain::ports::StoreError;
use omnidesk_domain::survey::texts::Lang;
use omnidesk_domain::survey::{SurveyDesk, SurveyError, SurveyForm, SurveyPorts};

use crate::survey_page::{self, FormPage};

/// Largest form body accepted: a rating, a comment of 2,000 characters (up to 4 bytes each,
/// percent-encoded: 3 characters per byte) and the form field.
pub const MAX_FORM_BYTES: usize = 32 * 1024;
/// Longest token path segment looked at; longer is 404 without work.
const MAX_TOKEN_CHARS: usize = 128;

#[derive(Clone)]
pub struct SurveyWeb {
    pub desk: Arc<SurveyDesk>,
}

/// The survey desk the configuration describes: `None` without `[survey]` or before its key
/// is resolved. Follow-up tickets get the SLA of `[sla]`.
pub fn desk(config: &crate::config::DeskConfig, ports: SurveyPorts) -> Option<SurveyDesk> {
    let survey = config.survey.as_ref()?;
    let desk = SurveyDesk::new(ports, Arc::new(survey.rules()), survey.keys()?);
    Some(match config.sla_policies().ok().flatten() {
        Some(sla) => desk.with_sla(sla),
        None => desk,
    })
}

pub fn router(web: SurveyWeb) -> Router {
    Router::new()
        .route("/v1/surveys/{token}", get(show).post(submit))
        .route("/v1/surveys/{token}/unsubscribe", get(unsubscribe_form).post(unsubscribe))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::map_response(protect))
        .with_state(web)
}

/// Adds the headers every survey response carries.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&survey_page::content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `?rating=N&lang=…` of a link; anything else in the query is ignored.
#[derive(Debug, Default)]
struct PageQuery {
    rating: Option<String>,
    lang: Option<String>,
}

impl PageQuery {
    fn parse(raw: Option<String>) -> Self {
        let mut query = Self::default();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let slot = match name.as_ref() {
                "rating" => &mut query.rating,
                "lang" => &mut query.lang,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        query
    }
}

/// The page language: asked for in the link, else the ticket's.
fn language(asked: Option<&str>, ticket: Lang) -> Lang {
    match asked {
        Some(tag) if !tag.is_empty() => Lang::from_tag(Some(tag)),
        _ => ticket,
    }
}

fn html(status: StatusCode, page: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], Body::from(page)).into_response()
}

fn error_page(error: &SurveyError, lang: Lang) -> Response {
    let t = lang.texts();
    let (status, message) = match error {
        SurveyError::NotFound => (StatusCode::NOT_FOUND, t.not_found),
        SurveyError::Gone => (StatusCode::GONE, t.expired),
        SurveyError::Forbidden => (StatusCode::FORBIDDEN, t.forbidden),
        SurveyError::Invalid(_) => (StatusCode::BAD_REQUEST, t.bad_request),
        SurveyError::Store(StoreError::Conflict(_) | StoreError::Unavailable(_)) => {
            tracing::warn!(%error, "survey.store_unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, t.forbidden)
        }
        SurveyError::Store(_) => {
            tracing::error!(%error, "survey.store_failed");
            (StatusCode::INTERNAL_SERVER_ERROR, t.not_found)
        }
    };
    html(status, survey_page::message_page(lang, message))
}

fn plausible(token: &str) -> bool {
    token.len() <= MAX_TOKEN_CHARS
}

async fn show(
    State(web): State<SurveyWeb>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = PageQuery::parse(query);
    let asked = query.lang.as_deref();
    if !plausible(&token) {
        return error_page(&SurveyError::NotFound, language(asked, Lang::En));
    }
    match web.desk.view(&token).await {
        Ok(view) => {
            let lang = language(asked, view.lang);
            let preselected =
                query.rating.as_deref().and_then(|r| r.parse::<u8>().ok()).filter(|r| (1..=5).contains(r));
            let recorded = view.answer.as_ref();
            let notice = recorded.map(|a| lang.texts().recorded.replace("{rating}", &a.rating.to_string()));
            html(
                StatusCode::OK,
                survey_page::form_page(&FormPage {
                    ticket: view.ticket,
                    lang,
                    rating: preselected.or(recorded.map(|a| a.rating)),
                    comment: recorded.and_then(|a| a.comment.as_deref()),
                    form_field: &view.form_field,
                    notice,
                }),
            )
        }
        Err(error) => error_page(&error, language(asked, Lang::En)),
    }
}

/// The fields of a posted form; unknown ones are ignored, the first of a repeated one wins.
#[derive(Debug, Default)]
struct Posted {
    rating: Option<String>,
    comment: Option<String>,
    form: Option<String>,
    lang: Option<String>,
    one_click: bool,
}

fn parse_form(body: &[u8]) -> Posted {
    let mut posted = Posted::default();
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "rating" => &mut posted.rating,
            "comment" => &mut posted.comment,
            "form" => &mut posted.form,
            "lang" => &mut posted.lang,
            "List-Unsubscribe" => {
                posted.one_click |= value == "One-Click";
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    posted
}

fn too_large(rejection: &BytesRejection, lang: Lang) -> Response {
    let status = rejection.status();
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        lang.texts().bad_request
    } else {
        lang.texts().not_found
    };
    html(status, survey_page::message_page(lang, message))
}

async fn submit(
    State(web): State<SurveyWeb>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let asked_query = PageQuery::parse(query).lang;
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return too_large(&rejection, language(asked_query.as_deref(), Lang::En)),
    };
    let posted = parse_form(&body);
    let asked = posted.lang.as_deref().or(asked_query.as_deref());
    let fallback = language(asked, Lang::En);
    if !plausible(&token) {
        return error_page(&SurveyError::NotFound, fallback);
    }
    let Some(rating) = posted.rating.as_deref().and_then(|r| r.trim().parse::<u8>().ok()) else {
        // Check the link first: a bad link is 404 whatever the body says.
        return match web.desk.view(&token).await {
            Ok(_) => error_page(&SurveyError::Invalid("rating: 1 to 5".into()), fallback),
            Err(error) => error_page(&error, fallback),
        };
    };
    let form = SurveyForm {
        rating,
        comment: posted.comment.clone(),
        form_field: posted.form.clone().unwrap_or_default(),
    };
    match web.desk.answer(&token, &form).await {
        Ok(outcome) => {
            let lang = language(asked, outcome.lang);
            let t = lang.texts();
            // A fresh form, so the answer can be changed while the link is open.
            match web.desk.view(&token).await {
                Ok(view) => html(
                    StatusCode::OK,
                    survey_page::form_page(&FormPage {
                        ticket: view.ticket,
                        lang,
                        rating: Some(outcome.rating),
                        comment: view.answer.as_ref().and_then(|a| a.comment.as_deref()),
                        form_field: &view.form_field,
                        notice: Some(format!(
                            "{} {}",
                            t.thanks,
                            t.recorded.replace("{rating}", &outcome.rating.to_string())
                        )),
                    }),
                ),
                Err(_) => html(StatusCode::OK, survey_page::message_page(lang, t.thanks)),
            }
        }
        Err(error) => error_page(&error, fallback),
    }
}

async fn unsubscribe_form(
    State(web): State<SurveyWeb>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let asked = PageQuery::parse(query).lang;
    if !plausible(&token) {
        return error_page(&SurveyError::NotFound, language(asked.as_deref(), Lang::En));
    }
    match web.desk.unsubscribe_view(&token).await {
        Ok(view) => {
            let lang = language(asked.as_deref(), view.lang);
            html(StatusCode::OK, survey_page::unsubscribe_page(lang, &view.form_field))
        }
        Err(error) => error_page(&error, language(asked.as_deref(), Lang::En)),
    }
}

async fn unsubscribe(
    State(web): State<SurveyWeb>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let asked_query = PageQuery::parse(query).lang;
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return too_large(&rejection, language(asked_query.as_deref(), Lang::En)),
    };
    let posted = parse_form(&body);
    let asked = posted.lang.as_deref().or(asked_query.as_deref());
    if !plausible(&token) {
        return error_page(&SurveyError::NotFound, language(asked, Lang::En));
    }
    match web.desk.unsubscribe(&token, posted.form.as_deref(), posted.one_click).await {
        Ok(lang) => {
            let lang = language(asked, lang);
            html(StatusCode::OK, survey_page::message_page(lang, lang.texts().unsubscribed))
        }
        Err(error) => error_page(&error, language(asked, Lang::En)),
    }
}
