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
    /// Exchange made it: `X-MS-Exchange-Inbox-Rules-Loop` (an inbox rule answered or
    /// forwarded) or `X-MS-Exchange-Generated-Message-Source` (an Exchange agent wrote it).
    ExchangeGenerated,
    /// `X-Auto-Response-Suppress` naming `All` or `AutoReply`: see [`suppresses_auto_replies`].
    AutoResponseSuppressed,
    /// An out-of-office subject: `Automatic reply:`, `自动回复:`, `Abwesenheitsnotiz:`, ...
    AutoReplySubject,
    /// A Return-Path such as `<auto-reply@…>` or `<autoresponder@…>`.
    AutoReplyReturnPath,
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
    // Outlook and Exchange auto-replies often carry none of the RFC 3834 signals above.
    if signals.exchange_rules_loop || signals.exchange_generated_by.is_some() {
        return Err(Refusal::ExchangeGenerated);
    }
    if signals.auto_response_suppress.as_deref().is_some_and(suppresses_auto_replies) {
        return Err(Refusal::AutoResponseSuppressed);
    }
    if is_auto_reply_subject(&email.subject, !email.in_reply_to.is_empty() || !email.references.is_empty()) {
        return Err(Refusal::AutoReplySubject);
    }
    if signals.return_path.as_deref().is_some_and(|p| has_local_word(p, &AUTO_REPLY_NAMES)) {
        return Err(Refusal::AutoReplyReturnPath);
    }
    Ok(())
}

/// Whether an `X-Auto-Response-Suppress` value asks for no auto-reply.
///
/// The field (MS-OXCMAIL 2.2.3.2.20) is a request from the sender: do not answer this mail
/// with the listed kinds of automatic mail (`DR`, `NDR`, `RN`, `NRN`, `OOF`, `AutoReply`,
/// `All`). Exchange puts `All` on the auto-replies and notices it generates, which is what
/// makes it a loop signal; but Outlook users, CRMs and calendar invitations send it too. So
/// only the values that cover the desk's acknowledgement count: `All` and `AutoReply`. A mail
/// asking only for no receipts (`DR, RN, NRN`) or no out-of-office notice (`OOF`, which the
/// acknowledgement is not) is answered as usual. A real customer who asks for no auto-reply
/// loses only the acknowledgement: the ticket opens and agents answer as always.
fn suppresses_auto_replies(value: &str) -> bool {
    value.split([',', ';', ' ']).map(str::trim).any(|v| v == "all" || v == "autoreply")
}

/// Subject prefixes (before the colon, lower-cased) that mail clients put on out-of-office
/// and other automatic replies, in the languages customers write in.
const AUTO_REPLY_SUBJECTS: [&str; 33] = [
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "out of office",
    "out of office autoreply",
    "out of office reply",
    "out of the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "reponse automatique",
    "risposta automatica",
    "respuesta automática",
    "respuesta automatica",
    "resposta automática",
    "automatisch antwoord",
    "autosvar",
    "automatisk svar",
    "automaattinen vastaus",
    "odpowiedź automatyczna",
    "автоответ",
    "автоматический ответ",
    "自动回复",
    "自动答复",
    "自動回覆",
    "自動回复",
    "自動応答",
    "自動返信",
    "자동 응답",
];

/// Longest prefix looked at for an automatic-reply marker, in characters.
const MAX_SUBJECT_PREFIX_CHARS: usize = 40;

/// `Automatic reply: Where is my parcel?`, `自动回复：…`, `Out of Office AutoReply: …`.
///
/// Only the part before the first colon counts, and it must be one of the known markers as a
/// whole, so `Out of office chair broken` (no colon) or `Absence of refund: …` is a customer.
/// Lotus Notes and some Outlook versions write just `Auto: <subject>`; as `Auto:` is also how
/// a customer may start a mail about a car, it counts only on a mail that answers another
/// (In-Reply-To or References), which is what an automatic reply to the desk always is.
fn is_auto_reply_subject(subject: &str, answers_a_mail: bool) -> bool {
    let head: String = subject.trim_start().chars().take(MAX_SUBJECT_PREFIX_CHARS).collect();
    let Some((marker, _)) = head.split_once([':', '：']) else {
        return false;
    };
    let marker = marker.trim().to_lowercase();
    AUTO_REPLY_SUBJECTS.contains(&marker.as_str()) || (answers_a_mail && marker == "auto")
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
    has_local_word(address, &NAMES)
}

/// Return-Path local parts of autoresponders: `auto-reply@`, `autoresponder@`, `out.of.office@`.
const AUTO_REPLY_NAMES: [&str; 6] =
    ["autoreply", "autoreplies", "autoresponder", "autorespond", "autoresponse", "outofoffice"];

/// Whether a run of the `.`/`-`/`_`-separated words of the local part spells one of `names`.
fn has_local_word(address: &str, names: &[&str]) -> bool {
    /// Enough words for `do-not-reply`; local parts are short, so few need looking at.
    const MAX_RUN: usize = 3;
    const MAX_WORDS: usize = 16;
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local).to_lowercase();
    let local = local.split_once('+').map_or(local.as_str(), |(base, _)| base);
    let words: Vec<&str> = local.split(['.', '-', '_']).take(MAX_WORDS).collect();
    (0..words.len()).any(|start| {
        (1..=MAX_RUN).filter(|len| start + len <= words.len()).any(|len| {
            let run: String = words[start..start + len].concat();
            names.contains(&run.as_str())
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
            repairs: vec![],
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
                with(|e| {
                    e.bounce =
                        Some(Bounce { reporting_mta: None, recipients: vec![], original_message_id: None })
                }),
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

    #[test]
    fn exchange_and_outlook_auto_replies_get_no_acknowledgement() {
        let subject = |s: &str| with(|e| e.subject = s.into());
        let answering = |s: &str| {
            with(|e| {
                e.subject = s.into();
                e.in_reply_to = vec!["ack-1@desk.example".into()];
            })
        };
        let suppress = |v: &str| with(|e| e.automation.auto_response_suppress = Some(v.into()));
        let cases: Vec<(&str, ParsedEmail, Result<(), Refusal>)> = vec![
            (
                "inbox rules loop",
                with(|e| e.automation.exchange_rules_loop = true),
                Err(Refusal::ExchangeGenerated),
            ),
            (
                "generated message source",
                with(|e| e.automation.exchange_generated_by = Some("Mailbox Rules Agent".into())),
                Err(Refusal::ExchangeGenerated),
            ),
            ("suppress all", suppress("all"), Err(Refusal::AutoResponseSuppressed)),
            (
                "suppress autoreply in a list",
                suppress("dr, oof, autoreply"),
                Err(Refusal::AutoResponseSuppressed),
            ),
            ("suppress receipts only is a customer", suppress("dr, rn, nrn"), Ok(())),
            ("suppress oof only is a customer", suppress("oof"), Ok(())),
            (
                "automatic reply",
                subject("Automatic reply: [#12] Where is my parcel?"),
                Err(Refusal::AutoReplySubject),
            ),
            ("chinese", subject("自动回复: 订单 NW-1"), Err(Refusal::AutoReplySubject)),
            ("chinese full-width colon", subject("自动回复：订单 NW-1"), Err(Refusal::AutoReplySubject)),
            ("traditional chinese", subject("自動回覆: 訂單"), Err(Refusal::AutoReplySubject)),
            ("german", subject("Abwesenheitsnotiz: Bestellung"), Err(Refusal::AutoReplySubject)),
            ("french", subject("Réponse automatique : Commande"), Err(Refusal::AutoReplySubject)),
            ("out of office", subject("Out of Office: parcel"), Err(Refusal::AutoReplySubject)),
            (
                "out of office autoreply",
                subject("Out of Office AutoReply: parcel"),
                Err(Refusal::AutoReplySubject),
            ),
            (
                "auto: answering a mail",
                answering("Auto: [#12] Where is my parcel?"),
                Err(Refusal::AutoReplySubject),
            ),
            ("auto: opening a conversation is a customer", subject("Auto: brake pads not delivered"), Ok(())),
            (
                "out of office without a colon is a customer",
                subject("Out of office chair arrived broken"),
                Ok(()),
            ),
            (
                "the marker later in the subject is a customer",
                subject("Re: my automatic reply: settings"),
                Ok(()),
            ),
            (
                "auto-reply return-path",
                with(|e| e.automation.return_path = Some("auto-reply@mail.example.com".into())),
                Err(Refusal::AutoReplyReturnPath),
            ),
            (
                "autoresponder return-path",
                with(|e| e.automation.return_path = Some("autoresponder+x@mail.example.com".into())),
                Err(Refusal::AutoReplyReturnPath),
            ),
            (
                "a person's return-path",
                with(|e| e.automation.return_path = Some("automatic.annie@example.com".into())),
                Ok(()),
            ),
        ];
        for (name, email, expected) in cases {
            assert_eq!(check_auto_reply(&email, &OWN), expected, "{name}");
        }
    }
}
