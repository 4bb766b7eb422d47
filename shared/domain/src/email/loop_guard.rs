//! May the desk send an automatic mail (the acknowledgement) in answer to this one?
//!
//! Mail loops are impossible by construction (ARCHITECTURE.md §5): two autoresponders answering each
//! other, an acknowledgement to a bounce that bounces again, a newsletter list subscribed to
//! the desk. So nothing automatic answers mail that says a machine or a list sent it (RFC 3834
//! §2 lists the signals), nor mail whose sender cannot or will not read answers, nor the desk
//! itself. A human reply from an agent is never blocked by this: it is for automatic mail only.
//! The per-sender cap on automatic mail needs a store and lives with the sender.

use serde::{Deserialize, Serialize};

use super::ParsedEmail;

/// Why no automatic answer may go out. The first matching reason is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// From or Reply-To is one of the desk's own addresses.
    OwnAddress,
    /// A delivery status notification.
    Bounce,
    /// Another `multipart/report`, e.g. a read receipt.
    Report,
    /// `Auto-Submitted` with any value but `no`.
    AutoSubmitted,
    /// `X-Autoreply` or `X-Autorespond`.
    AutoReplyHeader,
    /// `Precedence: bulk`, `junk`, `list` or `auto_reply`.
    Precedence,
    /// `List-Id` or `List-Unsubscribe`: list traffic or a newsletter.
    MailingList,
    /// `Return-Path: <>`, the null sender of bounces and other notifications.
    NullReturnPath,
    /// mailer-daemon, postmaster, no-reply and the like: nobody reads the answer.
    NoReplySender,
}

/// `Ok(())` when an automatic answer may go to the sender; the refusal otherwise.
///
/// `own_addresses` are the desk's addresses; they match with any `+tag`
/// (`support+abc123@desk.example` is `support@desk.example`), case-insensitively.
pub fn check_auto_reply<S: AsRef<str>>(email: &ParsedEmail, own_addresses: &[S]) -> Result<(), Refusal> {
    let answered: Vec<&str> =
        std::iter::once(&email.from).chain(&email.reply_to).map(|m| m.address.as_str()).collect();
    let signals = &email.automation;

    if answered.iter().any(|a| own_addresses.iter().any(|own| same_mailbox(a, own.as_ref()))) {
        return Err(Refusal::OwnAddress);
    }
    if email.bounce.is_some() {
        return Err(Refusal::Bounce);
    }
    if signals.report_type.is_some() {
        return Err(Refusal::Report);
    }
    if signals.auto_submitted.as_deref().is_some_and(|v| first_token(v) != "no") {
        return Err(Refusal::AutoSubmitted);
    }
    if signals.x_autoreply || signals.x_autorespond {
        return Err(Refusal::AutoReplyHeader);
    }
    let bulk = |p: &str| {
        matches!(first_token(p).replace('-', "_").as_str(), "bulk" | "junk" | "list" | "auto_reply")
    };
    if signals.precedence.as_deref().is_some_and(bulk) {
        return Err(Refusal::Precedence);
    }
    if signals.list_id.is_some() || signals.list_unsubscribe {
        return Err(Refusal::MailingList);
    }
    if signals.return_path.as_deref().is_some_and(str::is_empty) {
        return Err(Refusal::NullReturnPath);
    }
    if answered.iter().any(|a| is_no_reply(a)) {
        return Err(Refusal::NoReplySender);
    }
    Ok(())
}

/// `auto-replied; owner-email="x@y"` → `auto-replied`.
fn first_token(value: &str) -> String {
    value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

fn same_mailbox(a: &str, b: &str) -> bool {
    let (a, b) = (base_address(a), base_address(b));
    !a.is_empty() && a == b
}

/// Lower-cased, without a `+tag` in the local part.
fn base_address(address: &str) -> String {
    let address = address.trim().to_lowercase();
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        None => address,
    }
}

/// Local parts nobody reads, as runs of `.`/`-`/`_`-separated words: `no-reply`, `No_Reply`,
/// `noreply-orders`, `do.not.reply`, `MAILER-DAEMON`. Whole words only, so `leonor.eply`
/// is a person.
fn is_no_reply(address: &str) -> bool {
    const NAMES: [&str; 5] = ["noreply", "donotreply", "dontreply", "mailerdaemon", "postmaster"];
    /// Enough words for `do-not-reply`; local parts are short, so few need looking at.
    const MAX_RUN: usize = 3;
    const MAX_WORDS: usize = 16;
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local).to_lowercase();
    let local = local.split_once('+').map_or(local.as_str(), |(base, _)| base);
    let words: Vec<&str> = local.split(['.', '-', '_']).take(MAX_WORDS).collect();
    (0..words.len()).any(|start| {
        (1..=MAX_RUN).filter(|len| start + len <= words.len()).any(|len| {
            let run: String = words[start..start + len].concat();
            NAMES.contains(&run.as_str())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::{Automation, Bounce, Mailbox};

    const OWN: [&str; 2] = ["support@desk.example", "help@desk.example"];

    fn email(from: &str) -> ParsedEmail {
        ParsedEmail {
            from: Mailbox { address: from.into(), name: None },
            reply_to: vec![],
            to: vec![Mailbox { address: "support@desk.example".into(), name: None }],
            cc: vec![],
            subject: "Where is my parcel?".into(),
            message_id: Some("m1@example.com".into()),
            in_reply_to: vec![],
            references: vec![],
            date: None,
            language: "en".into(),
            text: "Order NW-1 has not arrived.".into(),
            quoted: String::new(),
            text_truncated: false,
            attachments: vec![],
            automation: Automation::default(),
            bounce: None,
        }
    }

    fn with(change: impl FnOnce(&mut ParsedEmail)) -> ParsedEmail {
        let mut email = email("alice@example.com");
        change(&mut email);
        email
    }

    #[test]
    fn each_signal_refuses_automatic_mail_with_its_reason() {
        let auto = |value: &str| with(|e| e.automation.auto_submitted = Some(value.into()));
        let precedence = |value: &str| with(|e| e.automation.precedence = Some(value.into()));
        let cases: Vec<(&str, ParsedEmail, Result<(), Refusal>)> = vec![
            ("a customer writing", email("alice@example.com"), Ok(())),
            ("auto-submitted: no is a human", auto("no"), Ok(())),
            ("auto-replied", auto("auto-replied"), Err(Refusal::AutoSubmitted)),
            ("auto-generated", auto("auto-generated"), Err(Refusal::AutoSubmitted)),
            (
                "auto-replied with parameters",
                auto("auto-replied; owner-email=\"a@b.c\""),
                Err(Refusal::AutoSubmitted),
            ),
            ("x-autoreply", with(|e| e.automation.x_autoreply = true), Err(Refusal::AutoReplyHeader)),
            ("x-autorespond", with(|e| e.automation.x_autorespond = true), Err(Refusal::AutoReplyHeader)),
            ("precedence bulk", precedence("bulk"), Err(Refusal::Precedence)),
            ("precedence junk", precedence("junk"), Err(Refusal::Precedence)),
            ("precedence list", precedence("list"), Err(Refusal::Precedence)),
            ("precedence auto_reply", precedence("auto_reply"), Err(Refusal::Precedence)),
            ("precedence auto-reply", precedence("auto-reply"), Err(Refusal::Precedence)),
            ("precedence first-class is a human", precedence("first-class"), Ok(())),
            (
                "list-id",
                with(|e| e.automation.list_id = Some("sellers.lists.example".into())),
                Err(Refusal::MailingList),
            ),
            ("list-unsubscribe", with(|e| e.automation.list_unsubscribe = true), Err(Refusal::MailingList)),
            (
                "null return-path",
                with(|e| e.automation.return_path = Some(String::new())),
                Err(Refusal::NullReturnPath),
            ),
            (
                "real return-path",
                with(|e| e.automation.return_path = Some("alice@example.com".into())),
                Ok(()),
            ),
            (
                "bounce",
                with(|e| e.bounce = Some(Bounce { reporting_mta: None, recipients: vec![] })),
                Err(Refusal::Bounce),
            ),
            (
                "read receipt",
                with(|e| e.automation.report_type = Some("disposition-notification".into())),
                Err(Refusal::Report),
            ),
            ("the desk itself", email("support@desk.example"), Err(Refusal::OwnAddress)),
            ("the desk with a reply token", email("support+abc123@desk.example"), Err(Refusal::OwnAddress)),
            ("the desk in capitals", email("HELP@Desk.Example"), Err(Refusal::OwnAddress)),
            (
                "reply-to the desk",
                with(|e| e.reply_to = vec![Mailbox { address: "support@desk.example".into(), name: None }]),
                Err(Refusal::OwnAddress),
            ),
            ("another mailbox at the desk's domain", email("li.na@desk.example"), Ok(())),
        ];
        for (name, email, expected) in cases {
            assert_eq!(check_auto_reply(&email, &OWN), expected, "{name}");
        }
    }

    #[test]
    fn no_reply_senders_are_recognised_whatever_the_separators() {
        let refused = [
            "noreply@shop.example",
            "no-reply@shop.example",
            "No_Reply@shop.example",
            "no.reply@shop.example",
            "donotreply@shop.example",
            "do-not-reply@shop.example",
            "DO_NOT_REPLY@shop.example",
            "dont-reply@shop.example",
            "noreply-orders@shop.example",
            "orders.noreply@shop.example",
            "noreply+bounce@shop.example",
            "MAILER-DAEMON@mx.example",
            "mailer_daemon@mx.example",
            "postmaster@example.com",
        ];
        for address in refused {
            assert_eq!(check_auto_reply(&email(address), &OWN), Err(Refusal::NoReplySender), "{address}");
        }
        let allowed = ["leonor.eply@example.com", "replies@example.com", "norman@example.com"];
        for address in allowed {
            assert_eq!(check_auto_reply(&email(address), &OWN), Ok(()), "{address}");
        }
    }

    #[test]
    fn a_no_reply_reply_to_is_refused_too() {
        let email =
            with(|e| e.reply_to = vec![Mailbox { address: "no-reply@shop.example".into(), name: None }]);
        assert_eq!(check_auto_reply(&email, &OWN), Err(Refusal::NoReplySender));
    }

    #[test]
    fn own_address_is_reported_before_other_reasons() {
        let email = with(|e| {
            e.from.address = "support@desk.example".into();
            e.automation.auto_submitted = Some("auto-replied".into());
        });
        assert_eq!(check_auto_reply(&email, &OWN), Err(Refusal::OwnAddress));
    }
}
