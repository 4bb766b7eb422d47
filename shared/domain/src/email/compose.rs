//! Outbound mail: an [`OutboundJob`] for the email channel becomes a complete RFC 5322 message
//! (text and HTML alternatives) with the headers that keep the thread and prevent loops.
//!
//! - Message-ID comes from the job, so a resend after a crash is the same mail, and
//!   In-Reply-To / References carry the thread for the customer's client.
//! - Reply-To is the ticket's token address: whatever the client does with the subject, the
//!   answer finds its ticket.
//! - Automatic mail (acknowledgements) carries `Auto-Submitted: auto-replied` (RFC 3834) and
//!   `X-Auto-Response-Suppress: All`, so well-behaved autoresponders stay silent towards it.

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;

use crate::markup::escape;
use crate::outbound::{EmailDestination, OutboundJob, OutboundKind};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("cannot write the message: {0}")]
    Write(String),
}

/// The raw message for `job`, which goes to `destination`.
pub fn compose(job: &OutboundJob, destination: &EmailDestination) -> Result<Vec<u8>, ComposeError> {
    let mut builder = MessageBuilder::new()
        .from(destination.from.as_str())
        .to(destination.to.as_str())
        .subject(destination.subject.as_str())
        .message_id(destination.message_id.as_str())
        .date(job.created_at.as_second())
        .header("Content-Language", Raw::new(destination.language.as_str()))
        .text_body(job.text.as_str())
        .html_body(match &job.survey {
            Some(links) => crate::survey::texts::survey_mail_html(job.ticket, links, &destination.language),
            None => html_body(&job.text, &destination.language),
        });
    if let Some(links) = &job.survey {
        // RFC 2369 and RFC 8058: mail clients offer a one-click opt-out.
        builder = builder
            .header("List-Unsubscribe", Raw::new(format!("<{}>", links.unsubscribe)))
            .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
    }
    if !destination.cc.is_empty() {
        let cc: Vec<&str> = destination.cc.iter().map(String::as_str).collect();
        builder = builder.cc(cc);
    }
    if let Some(reply_to) = &destination.reply_to {
        builder = builder.reply_to(reply_to.as_str());
    }
    if let Some(parent) = &destination.in_reply_to {
        builder = builder.in_reply_to(parent.as_str());
    }
    if !destination.references.is_empty() {
        builder = builder.references(destination.references.clone());
    }
    if is_automatic(job.kind) {
        builder = builder
            .header("Auto-Submitted", Raw::new("auto-replied"))
            .header("X-Auto-Response-Suppress", Raw::new("All"))
            .header("Precedence", Raw::new("auto_reply"));
    }
    builder.write_to_vec().map_err(|e| ComposeError::Write(e.to_string()))
}

/// Mail no person wrote. Agent replies are written by people and go without the marks.
pub fn is_automatic(kind: OutboundKind) -> bool {
    match kind {
        OutboundKind::Acknowledgement
        | OutboundKind::SlaAlert
        | OutboundKind::SpikeAlert
        | OutboundKind::Survey
        | OutboundKind::Callback
        | OutboundKind::BotAnswer
        | OutboundKind::BotMessage => true,
        OutboundKind::AgentReply => false,
    }
}

/// The text as simple HTML: paragraphs at blank lines, line breaks kept, everything escaped.
fn html_body(text: &str, language: &str) -> String {
    let mut html = format!("<!DOCTYPE html><html lang=\"{}\"><body>", escape(language));
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let lines: Vec<String> = paragraph.lines().map(escape).collect();
        html.push_str("<p>");
        html.push_str(&lines.join("<br>"));
        html.push_str("</p>");
    }
    html.push_str("</body></html>");
    html
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::email::parse;
    use crate::model::{MessageId, TicketNumber};
    use crate::outbound::Destination;

    fn job(kind: OutboundKind, text: &str) -> (OutboundJob, EmailDestination) {
        let destination = EmailDestination {
            to: "li.wei@example.com".into(),
            cc: vec!["wang@example.com".into()],
            from: "support@desk.example".into(),
            reply_to: Some("support+tok123@desk.example".into()),
            subject: "[#7] 我的包裹在哪里？".into(),
            message_id: "msg_ack7@desk.example".into(),
            in_reply_to: Some("orig-1@mail.example.com".into()),
            references: vec!["root@mail.example.com".into(), "orig-1@mail.example.com".into()],
            language: "zh".into(),
        };
        let job = OutboundJob {
            id: "email:orig-1@mail.example.com:ack".into(),
            ticket: TicketNumber(7),
            message: MessageId::from_token("ack7"),
            kind,
            destination: Destination::Email(destination.clone()),
            text: text.into(),
            created_at: Timestamp::from_second(1_790_000_000).unwrap(),
            survey: None,
        };
        (job, destination)
    }

    #[test]
    fn an_acknowledgement_reads_back_with_thread_headers_and_loop_marks() {
        let (job, destination) = job(OutboundKind::Acknowledgement, "您好！\n\n工单号为 #7。<请勿>");
        let raw = compose(&job, &destination).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"));
        assert!(text.contains("X-Auto-Response-Suppress: All\r\n"));
        let parsed = parse(&raw).unwrap();
        assert_eq!(parsed.subject, "[#7] 我的包裹在哪里？");
        assert_eq!(parsed.message_id.as_deref(), Some("msg_ack7@desk.example"));
        assert_eq!(parsed.in_reply_to, vec!["orig-1@mail.example.com"]);
        assert_eq!(parsed.references, vec!["root@mail.example.com", "orig-1@mail.example.com"]);
        assert_eq!(parsed.reply_to[0].address, "support+tok123@desk.example");
        assert_eq!(parsed.cc[0].address, "wang@example.com");
        assert_eq!(parsed.text, "您好！\n\n工单号为 #7。<请勿>");
        assert_eq!(parsed.automation.auto_submitted.as_deref(), Some("auto-replied"));
        // The desk's own acknowledgement would be refused by its own loop guard.
        assert!(crate::email::check_auto_reply(&parsed, &["support@desk.example"]).is_err());
    }

    #[test]
    fn an_agent_reply_carries_no_automatic_marks() {
        let (job, destination) = job(OutboundKind::AgentReply, "Your parcel left Shenzhen today.");
        let raw = compose(&job, &destination).unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("Auto-Submitted"));
        let parsed = parse(&raw).unwrap();
        assert_eq!(parsed.text, "Your parcel left Shenzhen today.");
        assert_eq!(parsed.automation.auto_submitted, None);
    }

    #[test]
    fn input_hygiene_markup_from_customers_and_agents_is_escaped_in_the_html_part() {
        // A customer's `&lt;script&gt;` arrives decoded as text; an agent quoting it (or
        // typing markup) must not put live markup into the mail's HTML alternative.
        for text in ["<script>alert(1)</script>", "&lt;script&gt;", "<img src=x onerror=alert(1)>"] {
            let (job, destination) = job(OutboundKind::AgentReply, text);
            let raw = compose(&job, &destination).unwrap();
            let html = html_part(&raw);
            assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
            assert_eq!(parse(&raw).unwrap().text, text, "the text part keeps the text as written");
        }
        let html = html_body("&lt;script&gt;", "en");
        assert!(html.contains("&amp;lt;script&amp;gt;"), "{html}");
    }

    /// The decoded HTML alternative of a composed mail.
    fn html_part(raw: &[u8]) -> String {
        let message = mail_parser::MessageParser::default().parse(raw).unwrap();
        message.body_html(0).unwrap().into_owned()
    }

    #[test]
    fn html_is_escaped_and_paragraphed() {
        assert_eq!(
            html_body("a <b> & \"c\"\nd\n\n\ne", "en"),
            "<!DOCTYPE html><html lang=\"en\"><body><p>a &lt;b&gt; &amp; &quot;c&quot;<br>d</p><p>e</p></body></html>"
        );
    }
}
