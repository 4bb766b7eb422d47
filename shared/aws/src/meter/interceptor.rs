//! The SDK interceptor that feeds a [`RequestMeter`]. Attach it to any client's config (the
//! [`crate::Clients`] builder does so for every client it builds).

use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::RequestMeter;

/// Counts every HTTP attempt. `read_before_transmit` runs once per attempt, after signing and
/// right before the request is handed to the HTTP client, so a call the SDK retries twice
/// counts three times, as AWS bills it. An attempt that never reaches the service (connection
/// refused) is counted too: it is rare, and the meter errs on the side of the bill.
#[derive(Debug, Clone)]
pub struct MeterInterceptor {
    meter: Arc<RequestMeter>,
}

impl MeterInterceptor {
    pub fn new(meter: Arc<RequestMeter>) -> Self {
        Self { meter }
    }
}

impl Intercept for MeterInterceptor {
    fn name(&self) -> &'static str {
        "OmnideskRequestMeter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Every generated operation stores its Metadata; a hand-built operation might not,
        // and a request is still a request.
        match cfg.load::<Metadata>() {
            Some(metadata) => self.meter.record_call(metadata.service(), metadata.name()),
            None => self.meter.record_call("unknown", "unknown"),
        }
        Ok(())
    }
}
