//! The help centre's return form: plain HTML, no script. A typed email address proves
//! nothing, so nothing here starts a return or shows an order:
//!
//! - `GET /v1/returns/new` (`?lang=zh-CN` for Chinese): the form — order number, email, item,
//!   reason, "arrived damaged".
//! - `POST /v1/returns/new`: queues the request for the desk (`ReturnFormRequest`), which mails
//!   a signed, expiring link to the address the order was placed with when it is the one
//!   typed. The page answers the same whether or not order and address match.
//! - `GET /v1/returns/confirm/{token}`: what the link asks for and a button; records nothing
//!   (mail scanners follow links). 404 for a link we did not make, 410 for an expired one.
//! - `POST /v1/returns/confirm/{token}`: queues the confirmation (`ReturnConfirmation`); the
//!   desk starts the return once per link. The token in the path is the proof: a cross-site
//!   form cannot know it.
//!
//! Bodies are bounded ([`MAX_FORM_BYTES`]) and fields checked; a per-container cap answers 429
//! past [`MAX_REQUESTS_PER_SECOND`], behind the HTTP API's route throttling.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use omnidesk_domain::desk::{ReturnConfirmation, ReturnFormRequest};
use omnidesk_domain::envelope::seal;
use omnidesk_domain::kb::Language;
use omnidesk_domain::markup::escape;
use omnidesk_domain::model::Identity;
use omnidesk_domain::orders::MAX_ORDER_NAME_CHARS;
use omnidesk_domain::orders::return_link::{LinkError, LinkKey, MAX_ITEM_CHARS, ReturnLink};
use omnidesk_domain::orders::returns::MAX_RETURN_REASON_CHARS;
use omnidesk_domain::ports::{Clock, Queue};
use sha2::{Digest, Sha256};

use crate::kb::help_centre::SecondWindow;

/// The largest form body read.
pub const MAX_FORM_BYTES: usize = 8 * 1024;
/// Requests one container answers per second before 429.
pub const MAX_REQUESTS_PER_SECOND: u64 = 20;
const MAX_EMAIL_CHARS: usize = 254;

#[derive(Clone)]
pub struct ReturnForm {
    /// The inbound queue: the desk behind it does the lookups and the mail.
    pub inbound: Arc<dyn Queue>,
    /// Verifies links; `None`: the form is off (404).
    pub key: Option<LinkKey>,
    pub clock: Arc<dyn Clock>,
    limiter: Arc<SecondWindow>,
}

impl ReturnForm {
    pub fn new(inbound: Arc<dyn Queue>, key: Option<LinkKey>, clock: Arc<dyn Clock>) -> Self {
        Self { inbound, key, clock, limiter: Arc::new(SecondWindow::default()) }
    }
}

pub fn router(form: ReturnForm) -> Router {
    Router::new()
        .route("/v1/returns/new", get(new_form).post(post_form))
        .route("/v1/returns/confirm/{token}", get(show_link).post(confirm_link))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(form)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.6;color:#111;\
background:#fff}main{max-width:36rem;margin:0 auto}label{display:block;margin-top:.75rem}input,textarea{font:inherit;\
padding:.5rem;width:100%;box-sizing:border-box}button{font:inherit;padding:.5rem 1rem;margin-top:1rem}.note{color:#444}";

fn page(status: StatusCode, language: Language, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
         <style>{STYLE}</style></head><body><main><h1>{}</h1>{body}</main></body></html>",
        language.as_str(),
        escape(title),
        escape(title)
    );
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let hash = crate::survey_page::base64(&Sha256::digest(STYLE.as_bytes()));
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn language_of(raw: Option<&str>) -> Language {
    let lang = raw
        .map(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned()))
        .unwrap_or_default();
    match lang.as_deref().and_then(Language::parse) {
        Some(language) => language,
        None => Language::En,
    }
}

fn zh(language: Language) -> bool {
    language == Language::ZhCn
}

/// The 429 page past the container's cap; `None` while under it.
fn over_limit(form: &ReturnForm, language: Language) -> Option<Response> {
    let second = form.clock.now().as_second().max(0) as u64;
    if form.limiter.admit(second, MAX_REQUESTS_PER_SECOND) {
        return None;
    }
    let text = if zh(language) {
        "请求过多,请稍后再试。"
    } else {
        "Too many requests: try again in a moment."
    };
    Some(page(StatusCode::TOO_MANY_REQUESTS, language, text, ""))
}

fn off(language: Language) -> Response {
    let text = if zh(language) { "此表单未开放" } else { "This form is not available" };
    page(StatusCode::NOT_FOUND, language, text, "")
}

fn form_html(language: Language, error: Option<&str>, values: &Fields) -> String {
    let t = |en: &'static str, cn: &'static str| if zh(language) { cn } else { en };
    let error =
        error.map(|e| format!("<p class=\"note\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "{error}<p class=\"note\">{}</p>\
         <form method=\"post\" action=\"/v1/returns/new\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label for=\"order\">{}</label><input id=\"order\" name=\"order\" required maxlength=\"{MAX_ORDER_NAME_CHARS}\" value=\"{}\">\
         <label for=\"email\">{}</label><input id=\"email\" name=\"email\" type=\"email\" required maxlength=\"{MAX_EMAIL_CHARS}\" value=\"{}\">\
         <label for=\"item\">{}</label><input id=\"item\" name=\"item\" required maxlength=\"{MAX_ITEM_CHARS}\" value=\"{}\">\
         <label for=\"reason\">{}</label><textarea id=\"reason\" name=\"reason\" rows=\"4\" maxlength=\"{MAX_RETURN_REASON_CHARS}\">{}</textarea>\
         <label><input type=\"checkbox\" name=\"damaged\" value=\"yes\" style=\"width:auto\"{}> {}</label>\
         <button type=\"submit\">{}</button></form>",
        t(
            "We send a link to the email address the order was placed with; following it starts the return.",
            "我们会把确认链接发送到下单时使用的邮箱,打开链接即可提交退换货申请。"
        ),
        language.as_str(),
        t("Order number", "订单号"),
        escape(&values.order),
        t("Email address used for the order", "下单邮箱"),
        escape(&values.email),
        t("Item to return", "要退换的商品"),
        escape(&values.item),
        t("Reason", "原因"),
        escape(&values.reason),
        if values.damaged { " checked" } else { "" },
        t("It arrived damaged", "商品到货时有破损"),
        t("Send me the link", "发送确认链接"),
    )
}

#[derive(Debug, Default)]
struct Fields {
    order: String,
    email: String,
    item: String,
    reason: String,
    damaged: bool,
    lang: Option<String>,
}

fn parse_fields(body: &[u8]) -> Fields {
    let mut fields = Fields::default();
    for (name, value) in form_urlencoded::parse(body) {
        let value = omnidesk_domain::text::line(&value);
        match name.as_ref() {
            "order" => fields.order = value.trim().to_owned(),
            "email" => fields.email = value.trim().to_owned(),
            "item" => fields.item = value.trim().to_owned(),
            "reason" => fields.reason = value.trim().to_owned(),
            "damaged" => fields.damaged = !value.is_empty(),
            "lang" => fields.lang = Some(value),
            _ => {}
        }
    }
    fields
}

/// What is wrong with the form, in the page's language.
fn check(fields: &Fields, language: Language) -> Option<&'static str> {
    let count = |s: &str| s.chars().count();
    let t = |en: &'static str, cn: &'static str| if zh(language) { cn } else { en };
    if !(1..=MAX_ORDER_NAME_CHARS).contains(&count(&fields.order)) {
        return Some(t("Order number: 1 to 40 characters.", "订单号:1 到 40 个字符。"));
    }
    if count(&fields.email) > MAX_EMAIL_CHARS || Identity::email(&fields.email).is_err() {
        return Some(t("Email: an address like name@example.com.", "邮箱:请填写有效的邮箱地址。"));
    }
    if !(1..=MAX_ITEM_CHARS).contains(&count(&fields.item)) {
        return Some(t("Item: 1 to 200 characters.", "商品:1 到 200 个字符。"));
    }
    if count(&fields.reason) > MAX_RETURN_REASON_CHARS {
        return Some(t("Reason: at most 500 characters.", "原因:最多 500 个字符。"));
    }
    None
}

async fn new_form(State(form): State<ReturnForm>, RawQuery(raw): RawQuery) -> Response {
    let language = language_of(raw.as_deref());
    if let Some(response) = over_limit(&form, language) {
        return response;
    }
    if form.key.is_none() {
        return off(language);
    }
    let title = if zh(language) { "申请退换货" } else { "Return an item" };
    page(StatusCode::OK, language, title, &form_html(language, None, &Fields::default()))
}

async fn post_form(State(form): State<ReturnForm>, body: Result<Bytes, BytesRejection>) -> Response {
    let Ok(body) = body else {
        return page(StatusCode::PAYLOAD_TOO_LARGE, Language::En, "The form is too large", "");
    };
    let fields = parse_fields(&body);
    let language = language_of(Some(&format!("lang={}", fields.lang.as_deref().unwrap_or("en"))));
    if let Some(response) = over_limit(&form, language) {
        return response;
    }
    if form.key.is_none() {
        return off(language);
    }
    let title = if zh(language) { "申请退换货" } else { "Return an item" };
    if let Some(error) = check(&fields, language) {
        return page(StatusCode::BAD_REQUEST, language, title, &form_html(language, Some(error), &fields));
    }
    let request = ReturnFormRequest {
        order: fields.order,
        email: fields.email,
        item: fields.item,
        reason: fields.reason,
        damaged: fields.damaged,
        language: if zh(language) { "zh" } else { "en" }.to_owned(),
    };
    if let Err(error) = form.inbound.send(seal(&request)).await {
        tracing::error!(%error, "returns.form_queue_failed");
        let text = if zh(language) {
            "暂时无法提交,请稍后再试。"
        } else {
            "We could not take the form: try again shortly."
        };
        return page(StatusCode::SERVICE_UNAVAILABLE, language, text, "");
    }
    tracing::info!("returns.form_queued");
    // The same answer whether or not order and address match: nothing to enumerate.
    let text = if zh(language) {
        "如果该订单是用这个邮箱下的,我们已向该邮箱发送确认链接。请在 24 小时内打开它完成申请。"
    } else {
        "If that order was placed with that address, we have sent it a link. Follow it within 24 hours to file the return."
    };
    let done = if zh(language) { "请查收邮件" } else { "Check your mail" };
    page(StatusCode::OK, language, done, &format!("<p>{}</p>", escape(text)))
}

/// The link's contents, or the page saying why not.
fn open_link(form: &ReturnForm, token: &str) -> Result<ReturnLink, Box<Response>> {
    let Some(key) = &form.key else { return Err(Box::new(off(Language::En))) };
    let refused = match key.verify(token, form.clock.now()) {
        Ok(link) => return Ok(link),
        Err(LinkError::Invalid) => {
            page(StatusCode::NOT_FOUND, Language::En, "No such return link / 链接无效", "")
        }
        Err(LinkError::Expired) => {
            let body = "<p><a href=\"/v1/returns/new\">Send the form again / 重新提交</a></p>";
            page(StatusCode::GONE, Language::En, "This link has expired / 链接已过期", body)
        }
    };
    Err(Box::new(refused))
}

fn link_language(link: &ReturnLink) -> Language {
    omnidesk_domain::orders::language_of_tag(&link.language)
}

async fn show_link(State(form): State<ReturnForm>, Path(token): Path<String>) -> Response {
    if let Some(response) = over_limit(&form, Language::En) {
        return response;
    }
    let link = match open_link(&form, &token) {
        Ok(link) => link,
        Err(response) => return *response,
    };
    let language = link_language(&link);
    let t = |en: &'static str, cn: &'static str| if zh(language) { cn } else { en };
    let body = format!(
        "<p>{} {}</p><p>{} {}</p><p>{} {}</p>\
         <form method=\"post\" action=\"/v1/returns/confirm/{}\"><button type=\"submit\">{}</button></form>",
        t("Order:", "订单:"),
        escape(&link.order),
        t("Item:", "商品:"),
        escape(&link.item),
        t("Reason:", "原因:"),
        escape(&link.reason),
        escape(&token),
        t("Confirm the return", "确认提交退换货"),
    );
    page(StatusCode::OK, language, t("Confirm your return", "确认退换货申请"), &body)
}

async fn confirm_link(State(form): State<ReturnForm>, Path(token): Path<String>) -> Response {
    if let Some(response) = over_limit(&form, Language::En) {
        return response;
    }
    let link = match open_link(&form, &token) {
        Ok(link) => link,
        Err(response) => return *response,
    };
    let language = link_language(&link);
    if let Err(error) = form.inbound.send(seal(&ReturnConfirmation { token })).await {
        tracing::error!(%error, "returns.confirmation_queue_failed");
        let text = if zh(language) {
            "暂时无法提交,请稍后再试。"
        } else {
            "We could not take it: try again shortly."
        };
        return page(StatusCode::SERVICE_UNAVAILABLE, language, text, "");
    }
    tracing::info!("returns.link_confirmed");
    let (title, text) = if zh(language) {
        ("已收到", "我们已收到您的退换货申请,处理结果会通过邮件通知您。")
    } else {
        ("Thank you", "Your return request is filed; we will write to you at the order's address.")
    };
    page(StatusCode::OK, language, title, &format!("<p>{}</p>", escape(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_refuses_a_bad_address_and_an_overlong_reason_naming_the_field() {
        let ok = Fields {
            order: "#1001".into(),
            email: "ada@example.com".into(),
            item: "Teapot".into(),
            reason: "chipped".into(),
            ..Fields::default()
        };
        assert_eq!(check(&ok, Language::En), None);
        let bad = Fields { email: "not an address".into(), ..Fields::default() };
        assert!(check(&Fields { order: "#1".into(), ..bad }, Language::En).unwrap().starts_with("Email"));
        let long = Fields { reason: "x".repeat(501), ..ok };
        assert!(check(&long, Language::En).unwrap().starts_with("Reason"));
    }
}
