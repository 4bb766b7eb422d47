//! Social channels (WeChat, Messenger, Instagram, WhatsApp, the community forum): what every
//! platform adapter hands the router, and each platform's rule for when a reply may go out.
//! One platform is one more [`Platform`] variant plus an adapter at the edge.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The platforms the desk answers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// A WeChat Official Account (微信公众号).
    Wechat,
    Messenger,
    Instagram,
    Whatsapp,
    /// A Discourse community forum: everything there is public.
    Forum,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Wechat => "wechat",
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
            Platform::Whatsapp => "whatsapp",
            Platform::Forum => "forum",
        }
    }

    /// How long after the customer's last message the platform still takes a free-form
    /// reply: WeChat's customer-service messages 48 hours, Meta's standard messaging window
    /// 24 hours; a forum topic has none.
    pub fn reply_window(self) -> Option<Duration> {
        match self {
            Platform::Wechat => Some(Duration::from_secs(48 * 3600)),
            Platform::Messenger | Platform::Instagram | Platform::Whatsapp => {
                Some(Duration::from_secs(24 * 3600))
            }
            Platform::Forum => None,
        }
    }

    /// Whether an answer there is seen by everyone, not just the customer.
    pub fn is_public(self) -> bool {
        self == Platform::Forum
    }
}

/// The tag of a ticket whose answers everyone can read (a forum topic's).
pub const PUBLIC_TAG: &str = "public";

/// Longest id accepted from a platform (account, user, message, topic).
pub const MAX_SOCIAL_ID_CHARS: usize = 256;

/// What a platform adapter knows about one inbound message, beyond sender and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialSource {
    pub platform: Platform,
    /// The desk's own account there: the WeChat account's configured id, the Page, Instagram
    /// account or WhatsApp phone-number id, the forum's configured id.
    pub account: String,
    /// The platform-scoped id of the person writing (OpenID, PSID, IGSID, wa_id, forum user
    /// id): the identity the platform vouches for, within `account`.
    pub user: String,
    /// Where the conversation lives: the user's id on messaging platforms, the topic id on
    /// the forum. Replies go there.
    pub conversation: String,
    /// The platform's id of this message (MsgId, mid, wamid, post id), or for WeChat events
    /// the sender and time they carry.
    pub message_id: String,
    /// WeChat's UnionID, when the platform gave one: the same owner across accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union_id: Option<String>,
    /// A non-message event (subscribe, menu click, postback), by the platform's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// A forum post by the forum's staff: an answer, not a customer writing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staff: bool,
}

impl SocialSource {
    /// The network an identity is scoped to: platform ids are per account (an OpenID means
    /// nothing to another Official Account).
    pub fn network(&self) -> String {
        network(self.platform, &self.account)
    }
}

/// See [`SocialSource::network`].
pub fn network(platform: Platform, account: &str) -> String {
    format!("{}:{account}", platform.as_str())
}

/// Why a reply cannot go out on its platform now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{platform} takes replies only within {hours} hours of the customer's last message (last at {last}); \
     the reply was kept on the ticket but not sent: answer on another channel or wait for the customer to write"
)]
pub struct OutsideWindow {
    pub platform: &'static str,
    pub hours: u64,
    pub last: Timestamp,
}

/// Whether a reply at `now` to a customer who last wrote at `last` is within the platform's
/// window.
pub fn check_window(platform: Platform, last: Timestamp, now: Timestamp) -> Result<(), OutsideWindow> {
    let Some(window) = platform.reply_window() else { return Ok(()) };
    let elapsed = now.as_second().saturating_sub(last.as_second());
    if u64::try_from(elapsed).unwrap_or(0) <= window.as_secs() {
        return Ok(());
    }
    Err(OutsideWindow { platform: platform.as_str(), hours: window.as_secs() / 3600, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_replies_are_allowed_for_48_hours_and_meta_for_24_and_the_forum_always() {
        let last = Timestamp::from_second(1_790_000_000).unwrap();
        let at = |hours: i64| Timestamp::from_second(1_790_000_000 + hours * 3600).unwrap();
        assert!(check_window(Platform::Wechat, last, at(48)).is_ok());
        assert!(check_window(Platform::Wechat, last, at(49)).is_err());
        assert!(check_window(Platform::Messenger, last, at(24)).is_ok());
        assert!(check_window(Platform::Whatsapp, last, at(25)).is_err());
        assert!(check_window(Platform::Forum, last, at(24 * 365)).is_ok());
    }
}
