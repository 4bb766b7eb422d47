//! The one sanitiser for text that enters the desk from outside (chat, mail, the agent API).
//!
//! Two kinds of text:
//! - a *line* (a name, subject, tag, category, file name) is shown in lists and headers, where
//!   an invisible character can disguise it: control characters (C0, C1; line breaks and tabs
//!   become a space), bidirectional overrides and isolates (`U+202A`–`U+202E`,
//!   `U+2066`–`U+2069`, which make `gpj.exe` read as `exe.jpg`), directional marks, zero-width
//!   spaces, word joiners, byte-order marks, soft hyphens and Unicode tag characters are
//!   dropped, and the ends trimmed;
//! - a *body* (a message, a note, a reply) keeps its layout: `\n` and `\t` stay (`\r\n` and a
//!   lone `\r` become `\n`); other control characters and the bidi overrides and isolates go.
//!   Zero-width joiners stay everywhere: emoji sequences and Persian or Indic names need them.
//!
//! Sanitising is idempotent. A value that is required must still show something once clean:
//! [`required_line`] and [`required_body`] refuse invisible-only text with an error naming
//! the field.

/// Longest person's name kept (a chat visitor's, a mail display name), in characters. Longer
/// names are cut, not refused: a long name must not lose a customer's message.
pub const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field}: must contain visible text")]
    Invisible { field: String },
    #[error("{field}: at most {max} characters")]
    TooLong { field: String, max: usize },
}

/// Bidirectional embeddings, overrides and isolates: they reorder what follows them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no room and change nothing a reader should see in a one-line value.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{061C}' // Arabic letter mark
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}' // zero-width space
            | '\u{200E}' | '\u{200F}' // left-to-right and right-to-left marks
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{206A}'..='\u{206F}' // deprecated format characters
            | '\u{FEFF}' // byte-order mark, zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters (invisible ASCII look-alikes)
    )
}

/// Never kept in a line.
pub fn is_forbidden_in_line(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible_format(c)
}

/// Never kept in a body.
pub fn is_forbidden_in_body(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// A one-line value, cleaned: see the module documentation.
pub fn line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}') {
            out.push(' ');
        } else if !is_forbidden_in_line(c) {
            out.push(c);
        }
    }
    trimmed(out)
}

/// A multi-line text, cleaned: see the module documentation.
pub fn body(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() != Some(&'\n') {
                out.push('\n');
            }
        } else if !is_forbidden_in_body(c) {
            out.push(c);
        }
    }
    out
}

/// A person's name: a clean line of at most [`MAX_NAME_CHARS`]; `None` when nothing visible
/// is left.
pub fn name(raw: &str) -> Option<String> {
    let cleaned = line(raw);
    let cut = if cleaned.chars().count() > MAX_NAME_CHARS {
        trimmed(cleaned.chars().take(MAX_NAME_CHARS).collect())
    } else {
        cleaned
    };
    has_visible(&cut).then_some(cut)
}

/// A clean line that must show something and fit in `max_chars`.
pub fn required_line(field: &str, raw: &str, max_chars: usize) -> Result<String, TextError> {
    let cleaned = line(raw);
    if !has_visible(&cleaned) {
        return Err(TextError::Invisible { field: field.to_owned() });
    }
    if cleaned.chars().count() > max_chars {
        return Err(TextError::TooLong { field: field.to_owned(), max: max_chars });
    }
    Ok(cleaned)
}

/// A clean body that must show something. Its ends are trimmed.
pub fn required_body(field: &str, raw: &str) -> Result<String, TextError> {
    let cleaned = trimmed(body(raw));
    if has_visible(&cleaned) { Ok(cleaned) } else { Err(TextError::Invisible { field: field.to_owned() }) }
}

/// Whether `text` shows anything: a character that is neither white space nor one of the
/// invisible ones (joiners, variation selectors, fillers that render as blank).
pub fn has_visible(text: &str) -> bool {
    text.chars().any(|c| {
        !c.is_whitespace()
            && !is_forbidden_in_line(c)
            && !matches!(
                c,
                '\u{034F}' // combining grapheme joiner
                    | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
                    | '\u{200C}' | '\u{200D}' // zero-width non-joiner and joiner
                    | '\u{2800}' // braille blank
                    | '\u{FE00}'..='\u{FE0F}' // variation selectors
                    | '\u{E0100}'..='\u{E01EF}'
            )
    })
}

fn trimmed(text: String) -> String {
    let trimmed = text.trim();
    if trimmed.len() == text.len() { text } else { trimmed.to_owned() }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Text with a good share of the characters the sanitiser must catch.
    fn hostile_text() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '\0',
            '\u{7}',
            '\t',
            '\n',
            '\r',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
            '\u{9B}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{FEFF}',
            '\u{E0041}',
            '\u{00AD}',
            ' ',
            '\u{3000}',
            'a',
            '中',
            '😀',
        ]);
        let any = prop::char::any();
        prop::collection::vec(prop_oneof![3 => special, 1 => any], 0..40)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn sanitised_lines_never_hold_control_bidi_or_invisible_format_characters(raw in hostile_text()) {
            let clean = line(&raw);
            prop_assert!(!clean.chars().any(is_forbidden_in_line), "{clean:?}");
            prop_assert_eq!(line(&clean), clean.clone(), "idempotent");
            if let Some(name) = name(&raw) {
                prop_assert!(!name.chars().any(is_forbidden_in_line));
                prop_assert!(name.chars().count() <= MAX_NAME_CHARS);
                prop_assert_eq!(super::name(&name), Some(name.clone()), "idempotent");
            }
        }

        #[test]
        fn sanitised_bodies_keep_only_newlines_and_tabs_of_the_controls(raw in hostile_text()) {
            let clean = body(&raw);
            prop_assert!(!clean.chars().any(is_forbidden_in_body), "{clean:?}");
            prop_assert!(!clean.contains('\r'));
            prop_assert_eq!(body(&clean), clean.clone(), "idempotent");
        }

        #[test]
        fn long_names_are_cut_to_the_cap(raw in "[a-z]{201,400}") {
            prop_assert_eq!(name(&raw).map(|n| n.chars().count()), Some(MAX_NAME_CHARS));
        }
    }

    #[test]
    fn bidi_overrides_cannot_disguise_a_file_name_or_subject() {
        assert_eq!(line("invoice\u{202E}gpj.exe"), "invoicegpj.exe");
        assert_eq!(line("\u{2067}Refund\u{2069} now\u{200B}"), "Refund now");
        assert_eq!(line("Re:\tyour\r\norder\u{7}"), "Re: your  order");
    }

    #[test]
    fn bodies_keep_their_layout_and_joiners() {
        assert_eq!(
            body("line 1\r\nline 2\rline 3\n\tindented\u{0}\u{1B}[31m"),
            "line 1\nline 2\nline 3\n\tindented[31m"
        );
        assert_eq!(body("👩\u{200D}💻 \u{202E}txt"), "👩\u{200D}💻 txt");
    }

    #[test]
    fn invisible_only_text_is_refused_naming_the_field() {
        for raw in ["", "   ", "\u{200B}\u{202E}", "\u{200D}\u{FE0F}", "\u{3164}", "\u{7}\n\t"] {
            assert_eq!(
                required_line("tags", raw, 64),
                Err(TextError::Invisible { field: "tags".into() }),
                "{raw:?}"
            );
            assert_eq!(
                required_body("text", raw).unwrap_err().to_string(),
                "text: must contain visible text"
            );
            assert_eq!(name(raw), None);
        }
        assert_eq!(required_line("category", "  Refunds\u{202E} ", 64).as_deref(), Ok("Refunds"));
        assert_eq!(
            required_line("category", "abcdef", 5),
            Err(TextError::TooLong { field: "category".into(), max: 5 })
        );
        assert_eq!(required_body("text", " 你好\r\n ").as_deref(), Ok("你好"));
    }
}
