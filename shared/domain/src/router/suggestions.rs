//! Articles suggested in a mail acknowledgement: up to [`MAX_SUGGESTIONS`] whose confidence
//! for the mail's subject and text clears the configured bar, as a short list under the
//! acknowledgement's text. None clears it: the acknowledgement is sent as it was.

use std::sync::Arc;

use super::TicketRouter;
use crate::inbound::{EmailSource, InboundMessage};
use crate::kb::{Catalogue, Hit, Language};

/// Most articles one acknowledgement lists.
pub const MAX_SUGGESTIONS: usize = 3;
/// How much of a mail is searched, in characters: the opening says what it is about.
const SEARCHED_CHARS: usize = 500;

/// Where suggestions come from and how sure they must be.
pub struct MailSuggestions {
    pub catalogue: Arc<Catalogue>,
    pub min_confidence: f32,
    /// Article links: `<base_url>/v1/kb/articles/<slug>.html`.
    pub base_url: String,
}

/// The good enough hits, best first, at most [`MAX_SUGGESTIONS`].
pub fn choose(hits: Vec<Hit>, min_confidence: f32) -> Vec<Hit> {
    hits.into_iter().filter(|h| h.confidence >= min_confidence).take(MAX_SUGGESTIONS).collect()
}

/// The list appended to the acknowledgement, in the mail's language.
pub fn render(hits: &[Hit], base_url: &str, language: Language) -> String {
    let heading = match language {
        Language::ZhCn => "以下文章或许能解答您的问题:",
        Language::En => "These articles may answer your question:",
    };
    let mut text = format!("\n\n{heading}\n");
    for hit in hits {
        text.push_str(&format!("- {}: {}\n", hit.title, crate::kb::article_page_url(base_url, &hit.slug)));
    }
    text
}

impl TicketRouter {
    /// The suggestions block for an acknowledgement of `email`, or nothing.
    pub(super) async fn suggestions(&self, inbound: &InboundMessage, email: &EmailSource) -> String {
        let Some(suggest) = &self.suggestions else { return String::new() };
        let query: String =
            format!("{}\n{}", email.subject, inbound.text).chars().take(SEARCHED_CHARS).collect();
        let index = match suggest.catalogue.index().await {
            Ok(index) => index,
            Err(error) => {
                // Suggestions are a courtesy: the acknowledgement goes without them.
                tracing::warn!(%error, "router.suggestions_unavailable");
                return String::new();
            }
        };
        let language = crate::kb::detect_language(&query);
        let found = index.find(&query, Some(language), MAX_SUGGESTIONS);
        // A mail like the questions the desk leaves to a person gets no article to read.
        let hits =
            if found.countered.is_some() { Vec::new() } else { choose(found.hits, suggest.min_confidence) };
        if hits.is_empty() { String::new() } else { render(&hits, &suggest.base_url, language) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(slug: &str, confidence: f32) -> Hit {
        Hit {
            slug: slug.into(),
            title: format!("About {slug}"),
            snippet: String::new(),
            language: Language::En,
            score: confidence * 10.0,
            confidence,
            covered: confidence * 5.0,
        }
    }

    #[test]
    fn email_acknowledgement_lists_at_most_three_articles_that_score_well() {
        let hits = vec![hit("a", 0.9), hit("b", 0.8), hit("c", 0.75), hit("d", 0.72), hit("e", 0.2)];
        let chosen = choose(hits, 0.7);
        assert_eq!(chosen.iter().map(|h| h.slug.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        let text = render(&chosen, "https://help.example", Language::En);
        assert!(text.contains("- About a: https://help.example/v1/kb/articles/a.html"));
        assert!(choose(vec![hit("e", 0.2)], 0.7).is_empty());
    }
}
