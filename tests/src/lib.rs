//! Test support: a local desk on 127.0.0.1 wired to a chat callback receiver the test
//! controls, plus helpers to sign requests and wait (boundedly) for asynchronous effects.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use omnidesk_app::chat_callback::ChatCallback;
use omnidesk_app::config::DeskConfig;
use omnidesk_app::signature::{SIGNATURE_HEADER, sign, verify};
use omnidesk_domain::system::SystemClock;
use omnidesk_local::LocalDesk;
use tokio::net::TcpListener;

pub const INBOX: &str = "web";
pub const SECRET: &str = "test-secret-0123456789";

/// Chat callbacks as a provider would receive them.
#[derive(Default)]
pub struct CallbackReceiver {
    down: AtomicBool,
    attempts: Mutex<Vec<Attempt>>,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub signature_valid: bool,
    pub callback: Option<ChatCallback>,
}

impl CallbackReceiver {
    /// Answer 503 to everything, like a provider having an outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Callbacks accepted (answered 2xx).
    pub fn delivered(&self) -> Vec<ChatCallback> {
        if self.down.load(Ordering::SeqCst) {
            return Vec::new();
        }
        self.attempts().into_iter().filter_map(|a| a.callback).collect()
    }

    /// Serves on 127.0.0.1 at a free port; returns the callback URL.
    pub async fn start(self: &Arc<Self>) -> String {
        let app = Router::new().route("/callback", post(receive)).with_state(self.clone());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind a loopback port");
        let address = listener.local_addr().expect("bound address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/callback")
    }
}

async fn receive(
    State(receiver): State<Arc<CallbackReceiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let signature_valid = verify(header, SECRET.as_bytes(), &body, jiff::Timestamp::now()).is_ok();
    let down = receiver.down.load(Ordering::SeqCst);
    let callback = if down { None } else { serde_json::from_slice(&body).ok() };
    receiver.attempts.lock().unwrap_or_else(|p| p.into_inner()).push(Attempt { signature_valid, callback });
    if down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
}

/// A configuration with one inbox calling back to `callback_url`, and fast queues so
/// redelivery and dead-lettering happen within a test's time.
pub fn test_config(callback_url: &str) -> DeskConfig {
    let text = format!(
        r#"
        [[chat_inboxes]]
        id = "{INBOX}"
        secret = "{SECRET}"
        callback_url = "{callback_url}"

        [delivery]
        attempts = 2
        backoff_ms = 10
        timeout_ms = 2000

        [local]
        visibility_timeout_ms = 150
        max_receive_count = 3
        poll_interval_ms = 10
        "#
    );
    DeskConfig::from_toml(&text).expect("test config is valid")
}

/// A running local desk and its callback receiver.
pub struct TestDesk {
    pub desk: Arc<LocalDesk>,
    pub receiver: Arc<CallbackReceiver>,
    pub address: SocketAddr,
    pub http: reqwest::Client,
}

impl TestDesk {
    pub async fn start() -> Self {
        let receiver = Arc::new(CallbackReceiver::default());
        let callback_url = receiver.start().await;
        let desk = Arc::new(LocalDesk::new(test_config(&callback_url), Arc::new(SystemClock)).expect("desk"));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind a loopback port");
        let address = listener.local_addr().expect("bound address");
        tokio::spawn(desk.clone().serve(listener, std::future::pending()));
        Self { desk, receiver, address, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// POSTs `body` to the inbox, signed at `signed_at` (unix seconds), or unsigned.
    pub async fn post_chat(
        &self,
        inbox: &str,
        body: &[u8],
        signed_at: Option<i64>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/v1/chat/{inbox}/messages")))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(at) = signed_at {
            request = request.header(SIGNATURE_HEADER, sign(SECRET.as_bytes(), at, body));
        }
        let response = request.send().await.expect("desk answers");
        let status = response.status().as_u16();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// Posts a correctly signed chat message.
    pub async fn send_chat(&self, message_id: &str, conversation: &str, visitor: &str, text: &str) -> u16 {
        let body = chat_body(message_id, conversation, visitor, text);
        self.post_chat(INBOX, body.as_bytes(), Some(now())).await.0
    }
}

pub fn chat_body(message_id: &str, conversation: &str, visitor: &str, text: &str) -> String {
    serde_json::json!({
        "message_id": message_id,
        "conversation_id": conversation,
        "visitor": { "id": visitor, "name": "Li Wei" },
        "text": text,
    })
    .to_string()
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Waits until `condition` holds, checking every 10 ms, for at most `limit`.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Lets pollers run for a while, to show that nothing more happens.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}
