//! The `sla-sweeper` edge: an EventBridge schedule event (every minute) runs one sweep of
//! the due index ([`omnidesk_domain::sla::SlaSweeper`]). The event itself carries nothing
//! the sweep needs: time comes from the clock, and where to start from the watermark, so a
//! late, repeated or missed invocation changes nothing but how much the next run catches up.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use omnidesk_domain::forum_watch::ForumSweep;
use omnidesk_domain::sla::{SlaPolicies, SlaSweeper, SweepError, SweepReport, SweeperPorts};

#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Some tickets failed and wait for the next run; reported as an error so the function's
    /// Errors alarm sees a sweeper that keeps failing.
    #[error("{} tickets or buckets failed and are left for the next run", .0.failures)]
    Partial(SweepReport),
}

pub struct SweeperHandler {
    sweeper: SlaSweeper,
}

impl SweeperHandler {
    pub fn new(policies: Arc<SlaPolicies>, ports: SweeperPorts) -> Self {
        Self { sweeper: SlaSweeper::new(ports, policies) }
    }

    /// Also turns forum questions past their deadline into tickets.
    pub fn with_forum(mut self, forum: ForumSweep) -> Self {
        self.sweeper = self.sweeper.with_forum(forum);
        self
    }

    pub fn sweeper(&self) -> &SlaSweeper {
        &self.sweeper
    }

    pub async fn handle(&self, event: EventBridgeEvent) -> Result<SweepReport, SweepRunError> {
        tracing::debug!(scheduled = ?event.time, "sla.sweep_invoked");
        let report = self.sweeper.run().await?;
        if report.failures > 0 {
            return Err(SweepRunError::Partial(report));
        }
        Ok(report)
    }
}
