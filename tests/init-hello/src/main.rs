//! init-hello: the smallest lambda_runtime function, an echo, built like the desk's functions
//! (same workspace, same release profile). `scripts/bench-init.sh` measures its start — process
//! start to the first request for an event — as the floor a Rust function on Lambda's custom
//! runtime cannot go below, and each function's start against it.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<_, Error>(event.payload) }))
        .await
}
