//! One HTTP client for the shop adapters: a timeout on every request, no redirects (a
//! redirect could carry the token to a host nobody configured), and bounded retries with
//! backoff for what a retry can fix — timeouts, 5xx, 429 (after `Retry-After`, capped).

use std::time::Duration;

use omnidesk_domain::orders::OrdersError;
use reqwest::{RequestBuilder, Response, StatusCode};

/// The longest wait between tries, whatever the shop asks: a chat customer is waiting.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(2);
/// The largest response read: ten orders with their lines and parcels fit in far less.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct ShopHttp {
    pub(super) client: reqwest::Client,
    attempts: u32,
}

/// What one try came to.
pub(super) enum Try {
    Done(Response),
    /// Worth another try after this long (at most [`MAX_RETRY_WAIT`]).
    Again(OrdersError, Duration),
}

impl ShopHttp {
    pub fn new(timeout: Duration, attempts: u32) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("omnidesk/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, attempts: attempts.max(1) })
    }

    /// Sends what `build` makes, up to `attempts` times; `judge` decides whether an answer
    /// is final or worth another try (Shopify's throttling comes as 200 with an error).
    pub(super) async fn send<B, J, F, T>(&self, build: B, judge: J) -> Result<T, OrdersError>
    where
        B: Fn() -> RequestBuilder,
        J: Fn(Response) -> F,
        F: std::future::Future<Output = Result<Result<T, (OrdersError, Duration)>, OrdersError>>,
    {
        let mut last = OrdersError::Unavailable("no attempt made".into());
        for attempt in 0..self.attempts {
            let backoff = FIRST_BACKOFF * 2u32.pow(attempt);
            let wait = match first_try(build().send().await) {
                Try::Done(response) => match judge(response).await? {
                    Ok(value) => return Ok(value),
                    Err((error, wait)) => {
                        last = error;
                        wait
                    }
                },
                Try::Again(error, wait) => {
                    last = error;
                    wait.max(backoff)
                }
            };
            if attempt + 1 < self.attempts {
                tokio::time::sleep(wait.min(MAX_RETRY_WAIT)).await;
            }
        }
        Err(last)
    }
}

fn first_try(sent: Result<Response, reqwest::Error>) -> Try {
    match sent {
        Ok(response) => Try::Done(response),
        // URLs may carry shop names; keep them out of errors and logs.
        Err(error) => Try::Again(OrdersError::Unavailable(error.without_url().to_string()), FIRST_BACKOFF),
    }
}

/// The usual verdict on a status: 2xx is read, 429 and 5xx are tried again, 401/403 are
/// refusals, anything else is a bug on one side.
pub(super) fn verdict(response: &Response) -> Result<(), Result<(OrdersError, Duration), OrdersError>> {
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_FOUND {
        return Ok(());
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = retry_after(response).unwrap_or(FIRST_BACKOFF);
        return Err(Ok((OrdersError::RateLimited(format!("HTTP {status}")), wait)));
    }
    if status.is_server_error() {
        return Err(Ok((OrdersError::Unavailable(format!("HTTP {status}")), FIRST_BACKOFF)));
    }
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return Err(Err(OrdersError::Denied(format!("HTTP {status}"))));
    }
    Err(Err(OrdersError::Invalid(format!("HTTP {status}"))))
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// The body, at most [`MAX_RESPONSE_BYTES`], as JSON.
pub(super) async fn json_body(response: Response) -> Result<serde_json::Value, OrdersError> {
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
        return Err(OrdersError::Invalid("the shop's answer is too large".into()));
    }
    let bytes = response.bytes().await.map_err(|e| OrdersError::Unavailable(e.without_url().to_string()))?;
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(OrdersError::Invalid("the shop's answer is too large".into()));
    }
    serde_json::from_slice(&bytes).map_err(|e| OrdersError::Invalid(format!("not JSON: {e}")))
}
