//! A chat provider's callback endpoint that the test controls: it checks signatures, records
//! every attempt, and can be taken "down" (503 to everything).

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use omnidesk_app::chat_callback::ChatCallback;
use omnidesk_app::signature::{SIGNATURE_HEADER, verify};
use tokio::net::TcpListener;

use crate::SECRET;

#[derive(Default)]
pub struct CallbackReceiver {
    down: AtomicBool,
    attempts: Mutex<Vec<Attempt>>,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub signature_valid: bool,
    /// Set when the attempt was accepted (the receiver was up).
    pub accepted: Option<ChatCallback>,
}

impl CallbackReceiver {
    /// Answer 503 to everything, like a provider having an outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Callbacks accepted (answered 2xx), repeats included.
    pub fn delivered(&self) -> Vec<ChatCallback> {
        self.attempts().into_iter().filter_map(|a| a.accepted).collect()
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
    let accepted = if down { None } else { serde_json::from_slice(&body).ok() };
    receiver.attempts.lock().unwrap_or_else(|p| p.into_inner()).push(Attempt { signature_valid, accepted });
    if down { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
}
