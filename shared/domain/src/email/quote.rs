//! Splitting a reply into what the customer wrote now and the history they quoted.
//!
//! Agents read the new text; the history is kept beside it. The split is made at the first
//! sign of history, and everything after it is history too (top-posting, which nearly every
//! client does):
//!
//! - a line starting with `>`;
//! - an attribution: `On <date>, <name> wrote:` (possibly wrapped over three lines), `在 … 写道：`
//!   and the German, French and Spanish forms;
//! - a separator: `-----Original Message-----`, QQ Mail's `---- 原始邮件 ----`;
//! - a header block as Outlook writes it: `From:` followed within a few lines by `Sent:` or
//!   `Date:` and by `To:` or `Subject:` (also `发件人:` / `发送时间:` / `收件人:` / `主题:`),
//!   together with the header fields and the underscore rule just above it.
//!
//! When nothing is left above the split (bottom-posting, or answers between the quotes), the
//! new text is every line that is not quoted. A forward is not a reply: a forwarded-message
//! marker before any history stops the search and the whole text is new.

/// Returns `(new_text, quoted)`, both trimmed.
pub fn split_quoted(text: &str) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    let Some(cut) = find_cut(&lines) else {
        return (text.trim().to_string(), String::new());
    };
    let new_text = lines[..cut].join("\n").trim().to_string();
    let quoted = lines[cut..].join("\n").trim().to_string();
    if !new_text.is_empty() {
        return (new_text, quoted);
    }
    // Nothing above the history: keep the lines that are not quoted.
    let (mut kept, mut history) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < lines.len() {
        let span = if is_quote_line(lines[i]) { Some(1) } else { attribution_len(&lines, i) };
        match span {
            Some(n) => history.extend_from_slice(&lines[i..(i + n).min(lines.len())]),
            None => kept.push(lines[i]),
        }
        i += span.unwrap_or(1);
    }
    (collapse_blank_lines(&kept), history.join("\n").trim().to_string())
}

/// Whether a subject says the message is a forward (`Fwd:`, `FW:`, `转发:`, …).
pub(super) fn is_forward_subject(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    ["fwd:", "fw:", "fwd：", "fw：", "wg:", "转发:", "转发：", "轉寄:", "轉寄："]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
}

/// Index of the first line of history, if any; `None` also when a forward comes first.
fn find_cut(lines: &[&str]) -> Option<usize> {
    for i in 0..lines.len() {
        let line = lines[i];
        if is_forward_marker(line) {
            return None;
        }
        if is_quote_line(line) || attribution_len(lines, i).is_some() || is_separator(line) {
            return Some(i);
        }
        if is_header_block(lines, i) {
            return Some(rule_above(lines, block_start(lines, i)));
        }
    }
    None
}

fn is_quote_line(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Longest attribution considered, in bytes: a name, an address and a date.
const MAX_ATTRIBUTION_BYTES: usize = 400;

/// If an attribution starts at line `i`, how many lines it spans.
fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines.get(i)?.trim();
    let starts = ["On ", "在", "於", "于", "Am ", "Le ", "El "].iter().any(|p| first.starts_with(p));
    if !starts {
        return None;
    }
    let mut joined = String::new();
    for (n, line) in lines.iter().skip(i).take(3).enumerate() {
        if n > 0 && line.trim().is_empty() {
            return None;
        }
        joined.push_str(line.trim());
        joined.push(' ');
        if joined.len() > MAX_ATTRIBUTION_BYTES {
            return None;
        }
        if is_attribution(joined.trim_end()) {
            return Some(n + 1);
        }
    }
    None
}

fn is_attribution(text: &str) -> bool {
    let ends_colon = text.ends_with(':') || text.ends_with('：');
    let body = text.trim_end_matches([':', '：']).trim_end();
    ends_colon
        && (body.ends_with("wrote")
            || body.ends_with("写道")
            || body.ends_with("寫道")
            || body.ends_with("schrieb")
            || body.ends_with("a écrit")
            || body.ends_with("escribió"))
}

/// `-----Original Message-----`, `----- 原始邮件 -----` and their spacing variants.
fn is_separator(line: &str) -> bool {
    let core = line.trim().trim_matches(|c: char| c == '-' || c == '_' || c.is_whitespace());
    let has_rule = line.trim_start().starts_with("--");
    has_rule && matches!(core.to_lowercase().as_str(), "original message" | "原始邮件" | "原始郵件")
}

fn is_forward_marker(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    let core = lower.trim_matches(|c: char| c == '-' || c.is_whitespace());
    matches!(core, "forwarded message" | "begin forwarded message:" | "转发的邮件" | "轉寄的郵件")
}

/// How many lines after `From:` the other fields of the block may appear.
const HEADER_BLOCK_LINES: usize = 5;

/// `From:` followed by a date field and a recipient or subject field.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    if field(lines[i]).is_none_or(|name| !matches!(name.as_str(), "from" | "发件人" | "寄件者")) {
        return false;
    }
    let names: Vec<String> =
        lines.iter().skip(i + 1).take(HEADER_BLOCK_LINES).filter_map(|l| field(l)).collect();
    let has = |wanted: &[&str]| names.iter().any(|n| wanted.contains(&n.as_str()));
    has(&["sent", "date", "发送时间", "时间", "日期", "寄件日期"])
        && has(&["to", "subject", "收件人", "主题", "主旨"])
}

/// The field name of a `Name: value` line, lower-cased, without bold markers.
fn field(line: &str) -> Option<String> {
    let line = line.trim().trim_start_matches('*');
    let colon = line.find([':', '：'])?;
    let name = line[..colon].trim().trim_end_matches('*').trim();
    (!name.is_empty() && name.chars().count() <= 12).then(|| name.to_lowercase())
}

/// A copied header block may have fields above `From:` (`Return-path:`, `Received:`).
fn block_start(lines: &[&str], i: usize) -> usize {
    let mut j = i;
    const FIELDS: [&str; 9] =
        ["return-path", "received", "delivered-to", "envelope-to", "reply-to", "date", "sent", "to", "cc"];
    while j > 0 && field(lines[j - 1]).is_some_and(|name| FIELDS.contains(&name.as_str())) {
        j -= 1;
    }
    j
}

/// Outlook puts a rule of underscores above its header block; it belongs to the history.
fn rule_above(lines: &[&str], i: usize) -> usize {
    let mut j = i;
    while j > 0 && lines[j - 1].trim().is_empty() {
        j -= 1;
    }
    let is_rule = |l: &str| {
        let t = l.trim();
        t.len() >= 8 && t.chars().all(|c| c == '_' || c == '-')
    };
    if j > 0 && is_rule(lines[j - 1]) { j - 1 } else { i }
}

fn collapse_blank_lines(lines: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    for line in lines {
        let blank = line.trim().is_empty();
        if blank && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    out.join("\n").trim().to_string()
}
