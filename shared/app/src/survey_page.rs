//! The survey pages customers see: plain HTML and one inline style sheet, no script and no
//! third-party asset, readable on a phone (one column, large touch targets), accessible (a
//! fieldset of labelled radio buttons, a labelled comment, the page language declared). Every
//! text a person typed is escaped. The strings come from `omnidesk_domain::survey::texts`.

use omnidesk_domain::markup::escape;
use omnidesk_domain::model::TicketNumber;
use omnidesk_domain::survey::MAX_COMMENT_CHARS;
use omnidesk_domain::survey::texts::{Lang, Texts};
use sha2::{Digest, Sha256};

/// The page's only style sheet; the Content-Security-Policy allows exactly it, by hash.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.5;\
color:#111;background:#fff}main{max-width:34rem;margin:0 auto}h1{font-size:1.4rem}\
fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:600;margin-bottom:.5rem}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
.rating label{display:block;padding:.75rem;margin:.25rem 0;border:1px solid #666;border-radius:.5rem}\
.rating input{margin-right:.6rem;transform:scale(1.3)}\
.rating input:focus-visible+span{outline:2px solid #0645ad}\
textarea{width:100%;box-sizing:border-box;font:inherit;padding:.5rem}\
button{font:inherit;font-weight:600;padding:.75rem 1.5rem;margin-top:1rem;border:0;border-radius:.5rem;\
background:#0645ad;color:#fff}.note{font-size:.9rem;color:#333}";

/// `Content-Security-Policy` for every survey response: nothing loads but the style above,
/// forms post only to this origin, and no one may frame the page.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        base64(&Sha256::digest(STYLE.as_bytes()))
    )
}

/// The form, with `rating` preselected (from the link) or the recorded answer.
pub struct FormPage<'a> {
    pub ticket: TicketNumber,
    pub lang: Lang,
    pub rating: Option<u8>,
    pub comment: Option<&'a str>,
    pub form_field: &'a str,
    /// A line above the form (the recorded answer).
    pub notice: Option<String>,
}

pub fn form_page(page: &FormPage<'_>) -> String {
    let t = page.lang.texts();
    let mut body = String::new();
    if let Some(notice) = &page.notice {
        body.push_str(&format!("<p role=\"status\"><strong>{}</strong></p>", escape(notice)));
    }
    body.push_str(&format!(
        "<h1>{}</h1><p>{}</p>",
        escape(t.question),
        escape(&Texts::fill(t.intro, page.ticket))
    ));
    body.push_str("<form method=\"post\"><fieldset class=\"rating\">");
    // The heading already asks the question on screen; the legend names the group for
    // screen readers without saying it twice.
    body.push_str(&format!("<legend class=\"sr\">{}</legend>", escape(t.question)));
    for (i, label) in t.ratings.iter().enumerate() {
        let value = i + 1;
        let checked = if page.rating == Some(value as u8) { " checked" } else { "" };
        body.push_str(&format!(
            "<label for=\"rating-{value}\"><input type=\"radio\" id=\"rating-{value}\" name=\"rating\" \
             value=\"{value}\" required{checked}><span>{}</span></label>",
            escape(label)
        ));
    }
    body.push_str("</fieldset>");
    body.push_str(&format!(
        "<label for=\"comment\">{}</label><textarea id=\"comment\" name=\"comment\" rows=\"4\" \
         maxlength=\"{MAX_COMMENT_CHARS}\">{}</textarea>",
        escape(t.comment),
        escape(page.comment.unwrap_or_default())
    ));
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"form\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <button type=\"submit\">{}</button></form>",
        escape(page.form_field),
        page.lang.tag(),
        escape(if page.notice.is_some() { t.change } else { t.submit })
    ));
    body.push_str(&language_switch(page.lang, page.rating));
    document(page.lang, t.question, &body)
}

/// The opt-out confirmation form.
pub fn unsubscribe_page(lang: Lang, form_field: &str) -> String {
    let t = lang.texts();
    let body = format!(
        "<h1>{}</h1><form method=\"post\"><input type=\"hidden\" name=\"form\" value=\"{}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        escape(t.unsubscribe_question),
        escape(form_field),
        lang.tag(),
        escape(t.unsubscribe_button)
    );
    document(lang, t.unsubscribe_question, &body)
}

/// A page with one message (thanks, errors).
pub fn message_page(lang: Lang, message: &str) -> String {
    document(lang, message, &format!("<h1>{}</h1>", escape(message)))
}

fn language_switch(lang: Lang, rating: Option<u8>) -> String {
    let other = lang.other();
    let rating = rating.map(|r| format!("&amp;rating={r}")).unwrap_or_default();
    format!(
        "<p class=\"note\"><a href=\"?lang={tag}{rating}\" hreflang=\"{tag}\" lang=\"{tag}\">{}</a></p>",
        escape(other.texts().language_name),
        tag = other.tag()
    )
}

fn document(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        lang.tag(),
        escape(title)
    )
}

/// Standard base64 with padding (the CSP hash source's form).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_comment_with_markup_is_escaped_in_the_form() {
        let page = form_page(&FormPage {
            ticket: TicketNumber(7),
            lang: Lang::En,
            rating: Some(4),
            comment: Some("<script>alert(1)</script>"),
            form_field: "f",
            notice: None,
        });
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("id=\"rating-4\" name=\"rating\" value=\"4\" required checked"));
        assert!(page.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    }
}
