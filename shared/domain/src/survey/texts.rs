//! The survey's words, one catalogue per language (zh-CN and en): the mail, the chat message
//! and the page all take their strings from here.

/// The languages surveys speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    /// From a language tag (`zh`, `zh-CN`, `zh-Hans`, `en-GB`, …); anything not Chinese is
    /// English.
    pub fn from_tag(tag: Option<&str>) -> Self {
        match tag {
            Some(tag) if tag.trim().to_ascii_lowercase().starts_with("zh") => Lang::ZhCn,
            _ => Lang::En,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Lang::En => Lang::ZhCn,
            Lang::ZhCn => Lang::En,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::ZhCn => &ZH_CN,
        }
    }
}

/// Every string a survey shows. `{ticket}` becomes `#N`.
#[derive(Debug)]
pub struct Texts {
    pub language_name: &'static str,
    pub subject: &'static str,
    pub intro: &'static str,
    pub question: &'static str,
    /// Labels of ratings 1 to 5.
    pub ratings: [&'static str; 5],
    pub comment: &'static str,
    pub submit: &'static str,
    pub thanks: &'static str,
    pub recorded: &'static str,
    pub change: &'static str,
    pub unsubscribe_link: &'static str,
    pub unsubscribe_question: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribed: &'static str,
    pub not_found: &'static str,
    pub expired: &'static str,
    pub bad_request: &'static str,
    pub forbidden: &'static str,
    pub chat_message: &'static str,
    pub mail_footer: &'static str,
}

pub static EN: Texts = Texts {
    language_name: "English",
    subject: "[{ticket}] How did we do?",
    intro: "Your request {ticket} was solved. We would like to know how it went.",
    question: "How satisfied are you with the help you received?",
    ratings: [
        "1 – Very dissatisfied",
        "2 – Dissatisfied",
        "3 – Neutral",
        "4 – Satisfied",
        "5 – Very satisfied",
    ],
    comment: "Anything you would like to tell us? (optional)",
    submit: "Send my answer",
    thanks: "Thank you for your answer.",
    recorded: "Your rating: {rating} of 5. You can change it below while the link is valid.",
    change: "Change my answer",
    unsubscribe_link: "Do not send me surveys any more",
    unsubscribe_question: "Stop sending you satisfaction surveys?",
    unsubscribe_button: "Stop surveys",
    unsubscribed: "Done: we will not send you surveys any more.",
    not_found: "This survey link is not valid.",
    expired: "This survey has closed. Thank you all the same.",
    bad_request: "Please choose a rating from 1 to 5 (and keep the comment under 2,000 characters).",
    forbidden: "This form has expired. Please open the survey link again.",
    chat_message: "Your request {ticket} was solved. How did we do? Rate us here: {link}",
    mail_footer: "Choose a rating (one click opens the form; nothing is recorded until you send it):",
};

pub static ZH_CN: Texts = Texts {
    language_name: "简体中文",
    subject: "[{ticket}] 请评价我们的服务",
    intro: "您的请求 {ticket} 已解决。我们想了解您对这次服务的感受。",
    question: "您对本次获得的帮助满意吗？",
    ratings: ["1 – 非常不满意", "2 – 不满意", "3 – 一般", "4 – 满意", "5 – 非常满意"],
    comment: "还有什么想告诉我们的吗？（选填）",
    submit: "提交评价",
    thanks: "感谢您的评价。",
    recorded: "您的评分：{rating} / 5。链接有效期内可以在下方修改。",
    change: "修改评价",
    unsubscribe_link: "不再接收满意度调查",
    unsubscribe_question: "不再向您发送满意度调查？",
    unsubscribe_button: "停止发送",
    unsubscribed: "已完成：我们不会再向您发送满意度调查。",
    not_found: "此调查链接无效。",
    expired: "此调查已结束，仍然感谢您。",
    bad_request: "请选择 1 到 5 的评分（留言请少于 2000 字）。",
    forbidden: "表单已过期，请重新打开调查链接。",
    chat_message: "您的请求 {ticket} 已解决。请评价我们的服务：{link}",
    mail_footer: "请选择评分（点击只会打开表单，提交后才会记录）：",
};

impl Texts {
    /// `template` with `{ticket}` filled in.
    pub fn fill(template: &str, ticket: crate::model::TicketNumber) -> String {
        template.replace("{ticket}", &ticket.to_string())
    }
}

/// The plain-text body of a survey mail: the question, one link per rating, the opt-out.
pub fn survey_mail_text(
    ticket: crate::model::TicketNumber,
    links: &crate::outbound::SurveyLinks,
    lang: Lang,
) -> String {
    let t = lang.texts();
    let mut text = format!("{}\n\n{}\n{}\n\n", Texts::fill(t.intro, ticket), t.question, t.mail_footer);
    for (i, label) in t.ratings.iter().enumerate() {
        text.push_str(&format!("{label}: {}\n", rating_link(&links.form, i + 1, lang)));
    }
    text.push_str(&format!("\n{}: {}\n", t.unsubscribe_link, links.unsubscribe));
    text
}

/// The HTML body of a survey mail: a row of five rating links (each opens the form with that
/// rating chosen; nothing is recorded until the person sends it), and the opt-out. Inline
/// styles only: mail clients drop style sheets.
pub fn survey_mail_html(
    ticket: crate::model::TicketNumber,
    links: &crate::outbound::SurveyLinks,
    language: &str,
) -> String {
    use crate::markup::escape;
    let lang = Lang::from_tag(Some(language));
    let t = lang.texts();
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>{}</p><p><strong>{}</strong></p><p>{}</p><table role=\"presentation\"><tr>",
        lang.tag(),
        escape(&Texts::fill(t.intro, ticket)),
        escape(t.question),
        escape(t.mail_footer)
    );
    for (i, label) in t.ratings.iter().enumerate() {
        html.push_str(&format!(
            "<td style=\"padding:4px\"><a href=\"{}\" title=\"{}\" style=\"display:inline-block;\
             padding:10px 14px;border:1px solid #555;border-radius:6px;color:#111;text-decoration:none\">{}</a></td>",
            escape(&rating_link(&links.form, i + 1, lang)),
            escape(label),
            i + 1
        ));
    }
    html.push_str(&format!(
        "</tr></table><p style=\"font-size:small\"><a href=\"{}\">{}</a></p></body></html>",
        escape(&links.unsubscribe),
        escape(t.unsubscribe_link)
    ));
    html
}

/// The form's URL with `rating` preselected, in `lang`.
pub fn rating_link(form: &str, rating: usize, lang: Lang) -> String {
    format!("{form}?rating={rating}&lang={}", lang.tag())
}
