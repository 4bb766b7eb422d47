//! The help centre's HTML: one column, one inline style allowed by hash, no script, every
//! text escaped; the article body comes from [`super::render`].

use sha2::{Digest, Sha256};

use super::help_centre::{PublicArticle, SearchAnswer};
use omnidesk_domain::markup::escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.6;color:#111;\
background:#fff}main{max-width:40rem;margin:0 auto}h1{font-size:1.5rem}input{font:inherit;padding:.5rem;\
width:70%}button{font:inherit;padding:.5rem 1rem}li{margin:.75rem 0}.meta,.note{color:#444;font-size:.9rem}";

pub fn content_security_policy() -> String {
    let hash = crate::survey_page::base64(&Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

fn document(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
         <style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(lang),
        escape(title)
    )
}

fn search_form(q: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/v1/kb/search.html\" role=\"search\"><label for=\"q\" class=\"note\">Search the help centre / 搜索帮助中心</label><br>\
         <input id=\"q\" name=\"q\" value=\"{}\" maxlength=\"500\"> <button type=\"submit\">Search</button></form>",
        escape(q)
    )
}

pub fn article_page(article: &PublicArticle) -> String {
    let body = format!(
        "{}<article><h1>{}</h1><p class=\"meta\">{}</p>{}</article>",
        search_form(""),
        escape(&article.title),
        escape(article.category.as_deref().unwrap_or_default()),
        article.body_html
    );
    document(article.language.as_str(), &article.title, &body)
}

pub fn search_page(answer: Option<&SearchAnswer>, error: Option<&str>) -> String {
    let mut body = search_form(answer.map_or("", |a| a.query.as_str()));
    if let Some(error) = error {
        body.push_str(&format!("<p class=\"note\" role=\"alert\">{}</p>", escape(error)));
    }
    if let Some(answer) = answer {
        if answer.results.is_empty() {
            body.push_str("<p>No articles found. / 没有找到相关文章。</p>");
        } else {
            body.push_str("<ol>");
            for r in &answer.results {
                body.push_str(&format!(
                    "<li><a href=\"/v1/kb/articles/{}.html\" lang=\"{}\">{}</a><br><span class=\"note\">{}</span></li>",
                    escape(&r.slug),
                    r.language.as_str(),
                    escape(&r.title),
                    escape(&r.snippet)
                ));
            }
            body.push_str("</ol>");
        }
    }
    document("en", "Help centre", &body)
}
