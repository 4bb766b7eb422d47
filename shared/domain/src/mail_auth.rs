//! Mail authentication: SES's DMARC, SPF, DKIM and virus verdicts on a received mail, and the
//! one rule for when its From address may be believed.
//!
//! A From address is only a claim. It is believed (it may thread by `[#N]` and link to an
//! existing customer) when DMARC passes, or when the sender's domain publishes no DMARC policy
//! (SES says GRAY) and SPF or DKIM passes. A missing verdict is not a pass: a queue message
//! written before verdicts were kept reads as unauthenticated.

use serde::{Deserialize, Serialize};

/// One SES verdict status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Pass,
    Fail,
    /// DMARC: the domain publishes no policy. SPF/DKIM: no result either way.
    Gray,
    ProcessingFailed,
}

impl Verdict {
    /// SES's status text (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`, any case); anything
    /// else is no verdict at all.
    pub fn parse(status: &str) -> Option<Verdict> {
        match status.trim().to_ascii_uppercase().as_str() {
            "PASS" => Some(Verdict::Pass),
            "FAIL" => Some(Verdict::Fail),
            "GRAY" => Some(Verdict::Gray),
            "PROCESSING_FAILED" => Some(Verdict::ProcessingFailed),
            _ => None,
        }
    }
}

/// The sender-authentication verdicts of one mail; `None` where the receiver gave none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim: Option<Verdict>,
}

impl MailAuth {
    /// Every check passed: what the local desk assumes of mail handed to it directly.
    pub fn passed() -> Self {
        Self { dmarc: Some(Verdict::Pass), spf: Some(Verdict::Pass), dkim: Some(Verdict::Pass) }
    }

    /// Whether the From address may be believed (see the module comment).
    pub fn authenticated(&self) -> bool {
        match self.dmarc {
            Some(Verdict::Pass) => true,
            Some(Verdict::Gray) => self.spf == Some(Verdict::Pass) || self.dkim == Some(Verdict::Pass),
            _ => false,
        }
    }

    /// The sender's domain says this mail is not from it: nothing automatic answers it.
    pub fn dmarc_failed(&self) -> bool {
        self.dmarc == Some(Verdict::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(dmarc: Option<Verdict>, spf: Option<Verdict>, dkim: Option<Verdict>) -> MailAuth {
        MailAuth { dmarc, spf, dkim }
    }

    #[test]
    fn dmarc_pass_or_no_policy_with_spf_or_dkim_pass_is_authenticated_and_nothing_else() {
        use Verdict::*;
        assert!(auth(Some(Pass), None, None).authenticated());
        assert!(auth(Some(Gray), Some(Pass), Some(Fail)).authenticated());
        assert!(auth(Some(Gray), None, Some(Pass)).authenticated());
        assert!(!auth(Some(Gray), Some(Fail), Some(Gray)).authenticated());
        assert!(!auth(Some(Fail), Some(Pass), Some(Pass)).authenticated());
        assert!(!auth(Some(ProcessingFailed), Some(Pass), Some(Pass)).authenticated());
        assert!(!auth(None, Some(Pass), Some(Pass)).authenticated(), "a missing DMARC verdict is no pass");
        assert!(!MailAuth::default().authenticated());
    }

    #[test]
    fn verdicts_parse_from_ses_statuses_and_old_messages_read_as_unauthenticated() {
        assert_eq!(Verdict::parse("PASS"), Some(Verdict::Pass));
        assert_eq!(Verdict::parse("processing_failed"), Some(Verdict::ProcessingFailed));
        assert_eq!(Verdict::parse("MAYBE"), None);
        let old: MailAuth = serde_json::from_str("{}").unwrap();
        assert!(!old.authenticated());
        let json = serde_json::to_string(&MailAuth::passed()).unwrap();
        assert_eq!(json, r#"{"dmarc":"PASS","spf":"PASS","dkim":"PASS"}"#);
    }
}
