//! HTML mail to clean plain text, for agents and for the quote splitter.
//!
//! A small streaming converter rather than `html2text`: that crate lays text out for a
//! terminal (wrapping, table borders, link footnotes) we do not want, pulls in html5ever, and
//! its table layout has panicked on inputs from the wild (underflow, `rowspan="0"`). Mail
//! HTML only needs: drop `head`, `script`, `style` and comments; turn blocks into line breaks;
//! decode entities; collapse whitespace (except in `pre`); prefix `blockquote` lines with `> `
//! so quoted history is recognisable. One pass, no recursion, no DOM: linear in the input and
//! unable to overflow the stack whatever the nesting.

/// Converts an HTML document or fragment to plain text with `\n` line ends.
pub fn html_to_text(html: &str) -> String {
    let mut out = Writer::default();
    let bytes = html.as_bytes();
    let mut head_skipped = false;
    let (mut i, mut text_start) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let Some((tag, end)) = markup(html, i) else {
            i += 1; // a lone '<' is text
            continue;
        };
        out.text(&html[text_start..i]);
        i = end;
        if let Some(tag) = tag {
            i = apply(&mut out, html, &tag, i, &mut head_skipped);
        }
        text_start = i;
    }
    out.text(&html[text_start..]);
    out.finish()
}

struct Tag {
    name: String,
    closing: bool,
}

/// Recognises markup at `start` (a '<'): returns the tag, if it is one, and where it ends.
/// Comments, doctypes and processing instructions are markup without a tag.
fn markup(html: &str, start: usize) -> Option<(Option<Tag>, usize)> {
    let bytes = html.as_bytes();
    let rest = &bytes[start + 1..];
    if rest.starts_with(b"!--") {
        let end = find(bytes, start + 4, b"-->").map_or(bytes.len(), |p| p + 3);
        return Some((None, end));
    }
    match rest.first()? {
        b'!' | b'?' => Some((None, skip_to_gt(bytes, start + 1))),
        b'/' if rest.get(1).is_some_and(u8::is_ascii_alphabetic) => {
            let name = tag_name(&rest[1..]);
            Some((Some(Tag { name, closing: true }), skip_to_gt(bytes, start + 2)))
        }
        c if c.is_ascii_alphabetic() => {
            let name = tag_name(rest);
            Some((Some(Tag { name, closing: false }), skip_to_gt(bytes, start + 1)))
        }
        _ => None,
    }
}

fn tag_name(bytes: &[u8]) -> String {
    let len = bytes.iter().take_while(|b| b.is_ascii_alphanumeric()).count();
    String::from_utf8_lossy(&bytes[..len]).to_ascii_lowercase()
}

/// Index just past the '>' that closes the tag, honouring quoted attribute values.
fn skip_to_gt(bytes: &[u8], from: usize) -> usize {
    let mut quote = None;
    for (offset, &b) in bytes[from..].iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return from + offset + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// ASCII case-insensitive search for `needle` from `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| p + from)
}

/// Applies a tag to the writer; returns where parsing continues (past skipped content).
fn apply(out: &mut Writer, html: &str, tag: &Tag, at: usize, head_skipped: &mut bool) -> usize {
    let bytes = html.as_bytes();
    match (tag.name.as_str(), tag.closing) {
        ("script" | "style" | "title" | "template" | "xml", false) => {
            let close = format!("</{}", tag.name);
            find(bytes, at, close.as_bytes()).map_or(bytes.len(), |p| skip_to_gt(bytes, p))
        }
        ("head", false) if !*head_skipped => {
            *head_skipped = true;
            match find(bytes, at, b"</head").or_else(|| find(bytes, at, b"<body")) {
                Some(p) => p,
                None => at,
            }
        }
        ("br", _) => {
            out.line_break();
            at
        }
        ("p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol" | "dl" | "hr", _) => {
            out.paragraph();
            at
        }
        ("blockquote", closing) => {
            out.paragraph();
            out.quote_depth = if closing { out.quote_depth.saturating_sub(1) } else { out.quote_depth + 1 };
            at
        }
        ("pre", closing) => {
            out.paragraph();
            out.pre_depth = if closing { out.pre_depth.saturating_sub(1) } else { out.pre_depth + 1 };
            at
        }
        ("li", false) => {
            out.block();
            out.word("-");
            out.space();
            at
        }
        ("td" | "th", false) => {
            out.space();
            at
        }
        (
            "div" | "li" | "tr" | "dt" | "dd" | "section" | "article" | "header" | "footer" | "address"
            | "center" | "form" | "fieldset" | "nav" | "main" | "aside" | "caption" | "figure" | "figcaption"
            | "details" | "summary" | "body",
            _,
        ) => {
            out.block();
            at
        }
        _ => at,
    }
}

/// Accumulates words, deciding spaces and line breaks lazily so none trail or lead.
#[derive(Default)]
struct Writer {
    out: String,
    pending_space: bool,
    pending_newlines: usize,
    at_line_start: bool,
    quote_depth: usize,
    pre_depth: usize,
}

impl Writer {
    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        if self.pre_depth > 0 {
            for (n, line) in decoded.split('\n').enumerate() {
                if n > 0 {
                    self.line_break();
                }
                let line = line.trim_end_matches('\r');
                if !line.trim().is_empty() {
                    self.word(line.trim_end());
                }
            }
            return;
        }
        let mut word = String::new();
        for c in decoded.chars() {
            if c.is_whitespace() {
                if !word.is_empty() {
                    self.word(&word);
                    word.clear();
                }
                self.space();
            } else if !is_invisible(c) {
                word.push(c);
            }
        }
        if !word.is_empty() {
            self.word(&word);
        }
    }

    fn word(&mut self, word: &str) {
        if !self.out.is_empty() {
            if self.pending_newlines > 0 {
                self.out.push_str(if self.pending_newlines > 1 { "\n\n" } else { "\n" });
                self.at_line_start = true;
            } else if self.pending_space && !self.at_line_start {
                self.out.push(' ');
            }
        } else {
            self.at_line_start = true;
        }
        if self.at_line_start {
            for _ in 0..self.quote_depth.min(MAX_QUOTE_MARKS) {
                self.out.push_str("> ");
            }
        }
        self.out.push_str(word);
        self.at_line_start = false;
        self.pending_space = false;
        self.pending_newlines = 0;
    }

    fn space(&mut self) {
        self.pending_space = true;
    }

    /// `<br>`: each one is a line break, two make a blank line.
    fn line_break(&mut self) {
        self.pending_newlines = (self.pending_newlines + 1).min(2);
    }

    /// A block element starts or ends on its own line.
    fn block(&mut self) {
        self.pending_newlines = self.pending_newlines.max(1);
    }

    /// Paragraph-like elements are set off by a blank line.
    fn paragraph(&mut self) {
        self.pending_newlines = 2;
    }

    fn finish(self) -> String {
        self.out
    }
}

/// Deeply nested quotes still read as quotes; more marks add nothing.
const MAX_QUOTE_MARKS: usize = 8;

/// Zero-width and soft-hyphen characters that newsletters use as padding.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00ad}' | '\u{034f}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}') || c.is_control()
}

/// Longest entity name or number looked for (`&CounterClockwiseContourIntegral;` is 31).
const MAX_ENTITY_BYTES: usize = 32;

/// Decodes `&name;`, `&#123;` and `&#x1F600;`; anything else is left as written.
fn decode_entities(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Look for the ';' nearby only: a page of '&' must not be quadratic.
        let semi = rest.as_bytes()[1..].iter().take(MAX_ENTITY_BYTES + 1).position(|&b| b == b';');
        let entity = semi.and_then(|semi| {
            let decoded = entity(&rest[1..1 + semi])?;
            Some((decoded, semi + 2))
        });
        match entity {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        return Some(windows_1252(code).unwrap_or_else(|| char::from_u32(code).unwrap_or('\u{fffd}')));
    }
    Some(match name {
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "times" => '×',
        "divide" => '÷',
        "deg" => '°',
        "plusmn" => '±',
        "sect" => '§',
        "para" => '¶',
        "shy" => '\u{00ad}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "iexcl" => '¡',
        "iquest" => '¿',
        "rarr" => '→',
        "larr" => '←',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "auml" => 'ä',
        "Auml" => 'Ä',
        "ccedil" => 'ç',
        "egrave" => 'è',
        "eacute" => 'é',
        "Eacute" => 'É',
        "ecirc" => 'ê',
        "iacute" => 'í',
        "ntilde" => 'ñ',
        "oacute" => 'ó',
        "ouml" => 'ö',
        "Ouml" => 'Ö',
        "uacute" => 'ú',
        "uuml" => 'ü',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        _ => return None,
    })
}

/// Browsers read `&#150;` and friends as Windows-1252, and so do the mailers that write them.
fn windows_1252(code: u32) -> Option<char> {
    Some(match code {
        0x80 => '€',
        0x85 => '…',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        0x99 => '™',
        _ => return None,
    })
}

#[cfg(test)]
mod hygiene_tests {
    use super::html_to_text;

    #[test]
    fn input_hygiene_entities_that_decode_to_markup_stay_text() {
        // Decoded once, to text: the markup they spell is kept as characters, never parsed.
        assert_eq!(
            html_to_text("<p>&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=y&#62;</p>"),
            "<script>alert(1)</script> <img src=x onerror=y>"
        );
        // Twice-encoded entities decode once only.
        assert_eq!(html_to_text("<p>&amp;lt;b&amp;gt;</p>"), "&lt;b&gt;");
    }
}
