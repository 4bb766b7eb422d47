//! The public, read-only help centre: `GET /v1/kb/articles/{slug}` and `GET /v1/kb/search`
//! (`?q=&lang=&limit=`), as JSON, or as plain HTML pages for `Accept: text/html` or a
//! `.html` path (`/v1/kb/articles/{slug}.html`, `/v1/kb/search.html`). Answers carry an ETag
//! (304 on `If-None-Match`) and `Cache-Control: public`, so a CDN or browser keeps them; a
//! per-container request cap answers 429 beyond it (the HTTP API's route throttling is the
//! first line). Pages are server-rendered with one inline style and no script; article
//! Markdown goes through [`super::render`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use omnidesk_domain::kb::{Article, Catalogue, Hit, Language, MAX_QUERY_CHARS, article_page_url, valid_slug};
use omnidesk_domain::ports::{Clock, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::pages;
use crate::error::ApiError;

/// Most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 20;
/// Requests one container answers per second before 429.
pub const MAX_REQUESTS_PER_SECOND: u64 = 200;
const CACHE_ARTICLE: &str = "public, max-age=300";
const CACHE_SEARCH: &str = "public, max-age=60";

#[derive(Clone)]
pub struct HelpCentre {
    pub catalogue: Arc<Catalogue>,
    pub clock: Arc<dyn Clock>,
    /// `<public_url>`: links in answers.
    pub base_url: String,
    limiter: Arc<SecondWindow>,
}

impl HelpCentre {
    pub fn new(catalogue: Arc<Catalogue>, clock: Arc<dyn Clock>, base_url: &str) -> Self {
        Self {
            catalogue,
            clock,
            base_url: base_url.trim_end_matches('/').to_owned(),
            limiter: Arc::new(SecondWindow::default()),
        }
    }
}

/// A fixed one-second window per container.
#[derive(Default)]
pub(crate) struct SecondWindow {
    /// The second (high bits) and the count in it (low 20 bits).
    state: AtomicU64,
}

impl SecondWindow {
    pub(crate) fn admit(&self, second: u64, limit: u64) -> bool {
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (at, count) = (current >> 20, current & 0xF_FFFF);
            let next =
                if at == second { (second << 20) | (count + 1).min(0xF_FFFF) } else { (second << 20) | 1 };
            match self.state.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return next & 0xF_FFFF <= limit,
                Err(seen) => current = seen,
            }
        }
    }
}

pub fn router(help: HelpCentre) -> Router {
    Router::new()
        .route("/v1/kb/articles/{slug}", get(article))
        .route("/v1/kb/search", get(search))
        .route("/v1/kb/search.html", get(search_html))
        .with_state(help)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn limited(help: &HelpCentre) -> Result<(), ApiError> {
    let second = help.clock.now().as_second().max(0) as u64;
    if help.limiter.admit(second, MAX_REQUESTS_PER_SECOND) {
        Ok(())
    } else {
        Err(ApiError::rate_limited("too many help-centre requests: try again in a second"))
    }
}

fn store_failed(error: StoreError) -> ApiError {
    tracing::error!(%error, "help_centre.store_failed");
    ApiError::unavailable("the help centre cannot read its articles: try again shortly")
}

/// The response with its validators; 304 when the client holds this version.
fn cached(headers: &HeaderMap, etag: &str, cache: &'static str, html: bool, body: String) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else if html {
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    if html {
        if let Ok(csp) = HeaderValue::from_str(&pages::content_security_policy()) {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    }
    response
}

fn etag_of(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    format!("\"{}\"", &hex::encode(hasher.finalize())[..32])
}

/// An article as the help centre shows it.
#[derive(Debug, Serialize)]
pub struct PublicArticle {
    pub slug: String,
    pub language: Language,
    pub title: String,
    /// The Markdown source.
    pub body: String,
    /// The body rendered safely (raw HTML escaped).
    pub body_html: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub version: u64,
    pub updated_at: jiff::Timestamp,
    pub url: String,
}

async fn article(
    State(help): State<HelpCentre>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    limited(&help)?;
    let (slug, html) = match raw.strip_suffix(".html") {
        Some(slug) => (slug, true),
        None => (raw.as_str(), wants_html(&headers)),
    };
    let not_found = || ApiError::not_found(format!("no published article {slug:?}"));
    if !valid_slug(slug) {
        return Err(not_found());
    }
    let article: Article = help
        .catalogue
        .store()
        .article(slug)
        .await
        .map_err(store_failed)?
        .filter(Article::is_published)
        .ok_or_else(not_found)?;
    let etag = etag_of(&[&article.slug, &article.version.to_string(), if html { "html" } else { "json" }]);
    let public = PublicArticle {
        url: article_page_url(&help.base_url, &article.slug),
        body_html: super::render::markdown_to_html(&article.body),
        slug: article.slug,
        language: article.language,
        title: article.title,
        body: article.body,
        category: article.category,
        tags: article.tags.into_iter().collect(),
        version: article.version,
        updated_at: article.updated_at,
    };
    let body = if html {
        pages::article_page(&public)
    } else {
        serde_json::to_string(&public).map_err(|e| ApiError::internal(e.to_string()))?
    };
    Ok(cached(&headers, &etag, CACHE_ARTICLE, html, body))
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// One result of a search.
#[derive(Debug, Serialize)]
pub struct SearchResult {
    pub slug: String,
    pub title: String,
    pub language: Language,
    pub snippet: String,
    pub url: String,
    pub score: f32,
    pub confidence: f32,
}

/// A search's answer. `fallback`: nothing matched in `lang`, these are the other language's.
#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    pub query: String,
    pub lang: Option<Language>,
    pub fallback: bool,
    pub results: Vec<SearchResult>,
}

fn parse_query(raw: Option<String>) -> Result<(String, Option<Language>, usize), ApiError> {
    let parsed: SearchQuery = crate::agent_api::query(raw)?;
    let q = parsed.q.unwrap_or_default();
    let q = q.trim();
    if q.is_empty() {
        return Err(ApiError::bad_request("q: must not be empty"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!("q: at most {MAX_QUERY_CHARS} characters")));
    }
    let lang = match parsed.lang.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => None,
        Some(raw) => Some(
            Language::parse(raw)
                .ok_or_else(|| ApiError::bad_request("lang: use zh-CN or en (or leave it out)"))?,
        ),
    };
    let limit = parsed.limit.unwrap_or(10);
    if !(1..=MAX_SEARCH_RESULTS).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit: 1–{MAX_SEARCH_RESULTS}")));
    }
    Ok((q.to_owned(), lang, limit))
}

async fn run_search(help: &HelpCentre, raw: Option<String>) -> Result<(SearchAnswer, String), ApiError> {
    let (q, lang, limit) = parse_query(raw)?;
    let version = help.catalogue.store().catalogue_version().await.map_err(store_failed)?;
    let index = help.catalogue.index().await.map_err(store_failed)?;
    let (hits, fallback) = index.search(&q, lang, limit);
    let etag_base =
        etag_of(&[&version.to_string(), &q, lang.map_or("", Language::as_str), &limit.to_string()]);
    let results = hits
        .into_iter()
        .map(|hit: Hit| SearchResult {
            url: article_page_url(&help.base_url, &hit.slug),
            slug: hit.slug,
            title: hit.title,
            language: hit.language,
            snippet: hit.snippet,
            score: (hit.score * 100.0).round() / 100.0,
            confidence: (hit.confidence * 100.0).round() / 100.0,
        })
        .collect();
    Ok((SearchAnswer { query: q, lang, fallback, results }, etag_base))
}

async fn search(State(help): State<HelpCentre>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let html = wants_html(&headers);
    respond_search(&help, raw, &headers, html).await
}

async fn search_html(
    State(help): State<HelpCentre>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond_search(&help, raw, &headers, true).await
}

async fn respond_search(help: &HelpCentre, raw: Option<String>, headers: &HeaderMap, html: bool) -> Response {
    if let Err(error) = limited(help) {
        return error.into_response();
    }
    // The HTML page without a query is the search form itself.
    if html && raw.as_deref().is_none_or(|r| !r.split('&').any(|p| p.starts_with("q=") && p.len() > 2)) {
        let etag = etag_of(&["search-form"]);
        return cached(headers, &etag, CACHE_ARTICLE, true, pages::search_page(None, None));
    }
    match run_search(help, raw).await {
        Ok((answer, etag)) => {
            let etag = etag_of(&[&etag, if html { "html" } else { "json" }]);
            let body = if html {
                pages::search_page(Some(&answer), None)
            } else {
                match serde_json::to_string(&answer) {
                    Ok(body) => body,
                    Err(e) => return ApiError::internal(e.to_string()).into_response(),
                }
            };
            cached(headers, &etag, CACHE_SEARCH, html, body)
        }
        Err(error) if html => {
            let mut response = (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                pages::search_page(None, Some(&error.message)),
            )
                .into_response();
            *response.status_mut() = error.status;
            if let Ok(csp) = HeaderValue::from_str(&pages::content_security_policy()) {
                response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_cap_counts_per_second() {
        let window = SecondWindow::default();
        assert!((0..3).all(|_| window.admit(10, 3)));
        assert!(!window.admit(10, 3));
        assert!(window.admit(11, 3));
    }
}
