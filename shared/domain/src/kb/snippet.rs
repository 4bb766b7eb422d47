//! A short plain-text answer from an article's Markdown: its first paragraph that is not a
//! heading, without Markdown marks, cut on a character boundary.

/// Longest snippet, in characters.
pub const MAX_SNIPPET_CHARS: usize = 240;

pub fn snippet(markdown: &str) -> String {
    let paragraph = markdown
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#') && !p.starts_with("```") && !p.starts_with('|'))
        .unwrap_or_default();
    let mut plain = String::new();
    let mut chars = paragraph.chars().peekable();
    let mut in_link_target = false;
    while let Some(c) = chars.next() {
        match c {
            ']' if chars.peek() == Some(&'(') => {
                chars.next();
                in_link_target = true;
            }
            ')' if in_link_target => in_link_target = false,
            _ if in_link_target => {}
            '*' | '_' | '`' | '[' | ']' | '>' | '<' => {}
            '\n' => plain.push(' '),
            c if c.is_control() => {}
            c => plain.push(c),
        }
    }
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if plain.chars().count() <= MAX_SNIPPET_CHARS {
        return plain;
    }
    let mut cut: String = plain.chars().take(MAX_SNIPPET_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_paragraph_loses_its_markdown_and_links() {
        let md = "# Returns\n\nYou can **return** items within [30 days](https://x.example/r).\n\nMore.";
        assert_eq!(snippet(md), "You can return items within 30 days.");
    }

    #[test]
    fn markup_in_the_snippet_is_dropped() {
        assert_eq!(snippet("<script>alert(1)</script> hi"), "scriptalert(1)/script hi");
    }
}
