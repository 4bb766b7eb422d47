//! What the router does differently for email: reply-token addresses, the acknowledgement
//! mail (templates per language, the `[#N]` subject, a thread-keeping Message-ID) and the
//! conditions under which no automatic mail may go out at all (ARCHITECTURE.md §5: mail loops are
//! impossible).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use crate::inbound::{EmailSource, InboundMessage};
use crate::model::{Customer, Message, Ticket, TicketNumber};
use crate::outbound::{Destination, EmailDestination, OutboundJob, OutboundKind};
use crate::ports::{RateLimiter, StoreError};

/// Message-IDs kept in the References of a mail we send: the root and the recent ones.
const MAX_REFERENCES: usize = 20;

/// An acknowledgement in one language. `{ticket}` becomes `#N`, `{subject}` the customer's
/// subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplate {
    pub subject: String,
    pub text: String,
}

/// The email channel's rules, from the `[email]` section of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRules {
    /// `support` in `support+<token>@desk.example`.
    pub reply_local_part: String,
    /// The domain of reply addresses and of the Message-IDs the desk makes.
    pub domain: String,
    /// Send an acknowledgement when an email opens a ticket.
    pub acknowledge: bool,
    /// By primary language tag (`en`, `zh`); `default_language`'s must exist.
    pub templates: BTreeMap<String, EmailTemplate>,
    pub default_language: String,
    /// At most this many automatic mails to one address per `auto_reply_window`.
    pub auto_reply_limit: u32,
    pub auto_reply_window: Duration,
    /// Most addresses a ticket's cc list holds (taken from the requester's mail, or set by
    /// an agent).
    pub max_cc: usize,
}

/// The default of [`EmailRules::max_cc`].
pub const DEFAULT_MAX_CC: usize = 10;

impl Default for EmailRules {
    fn default() -> Self {
        Self {
            reply_local_part: "support".into(),
            domain: "desk.example".into(),
            acknowledge: true,
            templates: default_templates(),
            default_language: "en".into(),
            auto_reply_limit: 3,
            auto_reply_window: Duration::from_secs(3600),
            max_cc: DEFAULT_MAX_CC,
        }
    }
}

pub fn default_templates() -> BTreeMap<String, EmailTemplate> {
    BTreeMap::from([
        (
            "en".to_owned(),
            EmailTemplate {
                subject: "[{ticket}] {subject}".into(),
                text: "Hello,\n\nWe received your message; your ticket is {ticket}. \
                       We will answer as soon as we can.\n\n\
                       To add anything, simply reply to this email."
                    .into(),
            },
        ),
        (
            "zh".to_owned(),
            EmailTemplate {
                subject: "[{ticket}] {subject}".into(),
                text: "您好！\n\n我们已收到您的来信，工单号为 {ticket}。我们会尽快回复您。\n\n\
                       如需补充信息，直接回复此邮件即可。"
                    .into(),
            },
        ),
    ])
}

impl EmailRules {
    /// `support+<token>@domain`.
    pub fn reply_address(&self, token: &str) -> String {
        format!("{}+{token}@{}", self.reply_local_part, self.domain)
    }

    /// The Message-ID of a mail the desk sends for `message`: stable, so a resend is the same
    /// mail, and under our domain, so replies to it are recognisable.
    pub fn message_id(&self, message: &Message) -> String {
        format!("{}@{}", message.id, self.domain)
    }

    fn template(&self, language: &str) -> Option<&EmailTemplate> {
        self.templates.get(language).or_else(|| self.templates.get(&self.default_language))
    }
}

/// Why the desk stays quiet towards a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quiet {
    Disabled,
    /// The loop guard's reason: a machine wrote the mail.
    Automatic(String),
    DmarcFailed,
    NoAddress,
    Bouncing,
    /// The per-sender cap on automatic mail is reached.
    Capped,
}

/// Whether an acknowledgement may go to the sender of `email`, and to which address; takes a
/// slot of the per-sender cap when it may (the same slot again for a redelivery).
pub async fn may_acknowledge(
    rules: &EmailRules,
    limiter: &dyn RateLimiter,
    inbound: &InboundMessage,
    email: &EmailSource,
    customer: Option<&Customer>,
    now: Timestamp,
) -> Result<Result<String, Quiet>, StoreError> {
    if !rules.acknowledge {
        return Ok(Err(Quiet::Disabled));
    }
    if let Some(reason) = &email.automatic {
        return Ok(Err(Quiet::Automatic(reason.clone())));
    }
    if email.dmarc_failed() {
        return Ok(Err(Quiet::DmarcFailed));
    }
    // Believed or not, the From is where the writer reads their answers.
    let Some(address) = inbound.from_address() else {
        return Ok(Err(Quiet::NoAddress));
    };
    if customer.is_some_and(|c| c.is_bouncing(&address, now)) {
        return Ok(Err(Quiet::Bouncing));
    }
    let key = format!("auto-reply:{address}");
    let holder = &inbound.idempotency_key;
    if !limiter.try_acquire(&key, holder, rules.auto_reply_limit, rules.auto_reply_window, now).await? {
        return Ok(Err(Quiet::Capped));
    }
    Ok(Ok(address))
}

/// The acknowledgement text for a new ticket, in the mail's language.
pub fn acknowledgement_text(rules: &EmailRules, email: &EmailSource, ticket: TicketNumber) -> Option<String> {
    let template = rules.template(&email.language)?;
    Some(template.text.replace("{ticket}", &ticket.to_string()))
}

/// The outbound job for a mail in the thread of `email`, from the desk to `to`.
pub fn reply_job(
    rules: &EmailRules,
    inbound: &InboundMessage,
    email: &EmailSource,
    to: String,
    ticket: &Ticket,
    message: &Message,
) -> OutboundJob {
    // A mail without a subject is answered under the ticket's, taken from its first line.
    let subject_text = match email.subject.trim() {
        "" => ticket.subject.as_str(),
        subject => subject,
    };
    let subject = rules
        .template(&email.language)
        .map(|t| t.subject.as_str())
        .unwrap_or("[{ticket}] {subject}")
        .replace("{ticket}", &message.ticket.to_string())
        .replace("{subject}", subject_text);
    let mut references: Vec<String> = email.references.clone();
    references.retain(|id| *id != email.message_id);
    references.push(email.message_id.clone());
    if references.len() > MAX_REFERENCES {
        // Keep the root, which names the thread, and the most recent ones.
        let end = references.len() - (MAX_REFERENCES - 1);
        references.drain(1..end);
    }
    OutboundJob {
        id: OutboundJob::acknowledgement_id(&inbound.idempotency_key),
        ticket: message.ticket,
        message: message.id.clone(),
        kind: OutboundKind::Acknowledgement,
        destination: Destination::Email(EmailDestination {
            to,
            cc: Vec::new(),
            from: email.mailbox.clone(),
            reply_to: ticket.reply_token.as_deref().map(|token| rules.reply_address(token)),
            subject,
            message_id: rules.message_id(message),
            in_reply_to: Some(email.message_id.clone()),
            references,
            language: email.language.clone(),
        }),
        text: message.text.clone(),
        created_at: message.created_at,
        survey: None,
    }
}
