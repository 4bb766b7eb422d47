use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::ports::{MailError, Mailer, OutgoingMail};

/// Keeps sent mail in memory. Like SES, it refuses senders that are not verified (an address,
/// or every address of a verified domain).
#[derive(Debug, Default)]
pub struct MemoryMailer {
    verified: Mutex<BTreeSet<String>>,
    sent: Mutex<Vec<OutgoingMail>>,
    next_id: AtomicU64,
}

impl MemoryMailer {
    /// Verifies an address (`support@shop.example`) or a whole domain (`shop.example`).
    pub fn verify(&self, identity: &str) {
        self.verified.lock().unwrap_or_else(|p| p.into_inner()).insert(identity.to_lowercase());
    }

    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn is_verified(&self, from: &str) -> bool {
        let from = from.to_lowercase();
        let domain = from.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        verified.contains(&from) || verified.contains(&domain)
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send_raw(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        if !self.is_verified(&mail.from) {
            return Err(MailError::Rejected(format!("sender {} is not verified", mail.from)));
        }
        if mail.to.is_empty() {
            return Err(MailError::Rejected("no recipients".into()));
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(mail.clone());
        Ok(format!("memory-{:010}", self.next_id.fetch_add(1, Ordering::Relaxed) + 1))
    }
}
