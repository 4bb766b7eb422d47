//! Keyword matching shared by the detectors: Latin keywords match whole words, Chinese ones
//! anywhere (no spaces to split on).

pub(super) fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(crate::kb::fold_char)
        .collect::<String>()
        .to_lowercase()
        .trim()
        .to_owned()
}

/// Whether `text` holds `keyword`: as a substring for Chinese, as whole words for Latin.
pub(super) fn contains(text: &str, keyword: &str) -> bool {
    if !keyword.is_ascii() {
        return text.contains(keyword);
    }
    let mut start = 0;
    while let Some(found) = text[start..].find(keyword) {
        let at = start + found;
        let end = at + keyword.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        if boundary(before) && boundary(after) {
            return true;
        }
        start = end;
    }
    false
}

pub(super) fn any(text: &str, keywords: &[&str]) -> bool {
    keywords.iter().any(|k| contains(text, k))
}

/// The message with punctuation and spaces dropped: "Yes!!" and "yes." read as "yes".
pub(super) fn bare(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}
