//! Compares a command's output with a line the README shows for it, loosely: what a reader
//! would check by eye. A status line must have the same code; in JSON every `"key": value`
//! shown must be in the output (`…` stands for anything, digits inside strings and ticket
//! numbers and versions may differ, since they depend on what ran before); any other line's
//! pieces between `…` must appear in order, digits aside.

/// JSON numbers that depend on what the desk did before: ticket numbers and versions.
const VARYING_NUMBERS: [&str; 4] = ["number", "ticket", "version", "seq"];

/// `Err` says what is missing from `output`.
pub fn check(expected: &str, output: &str) -> Result<(), String> {
    if let Some(status) = expected.strip_prefix("HTTP/") {
        let code = status.split_whitespace().nth(1).unwrap_or_default();
        let seen = output
            .lines()
            .filter_map(|line| line.strip_prefix("HTTP/"))
            .any(|line| line.split_whitespace().nth(1) == Some(code));
        return if seen { Ok(()) } else { Err(format!("no HTTP status {code}")) };
    }
    let shown = pairs(expected);
    if !shown.is_empty() {
        let actual = pairs(output);
        for (key, value) in &shown {
            if !actual.iter().any(|(k, v)| k == key && matches(key, value, v)) {
                return Err(format!("no \"{key}\": {} in the output", value.shown()));
            }
        }
        return Ok(());
    }
    let output = normalise(output);
    let mut from = 0;
    // A `…` may stand for nothing: the commas around it belong to neither side.
    let pieces = expected.split('…').map(|p| p.trim_matches(|c: char| c == ',' || c.is_whitespace()));
    for piece in pieces.filter(|p| !p.is_empty()) {
        let normalised = normalise(piece);
        match output[from..].find(&normalised) {
            Some(at) => from += at + normalised.len(),
            None => return Err(format!("no {piece:?} in the output")),
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Value {
    Text(String),
    Bare(String),
}

impl Value {
    fn shown(&self) -> String {
        match self {
            Value::Text(t) => format!("\"{t}\""),
            Value::Bare(b) => b.clone(),
        }
    }
}

fn matches(key: &str, shown: &Value, actual: &Value) -> bool {
    match (shown, actual) {
        (Value::Text(shown), Value::Text(actual)) => {
            let actual = normalise(actual);
            let mut pieces = shown.split('…').map(normalise);
            let first = pieces.next().unwrap_or_default();
            let Some(mut rest) = actual.strip_prefix(first.as_str()) else { return false };
            for piece in pieces.filter(|p| !p.is_empty()) {
                match rest.find(&piece) {
                    Some(at) => rest = &rest[at + piece.len()..],
                    None => return false,
                }
            }
            shown.contains('…') || rest.is_empty()
        }
        (Value::Bare(shown), Value::Bare(actual)) => {
            let number = |v: &str| v.parse::<i64>().is_ok();
            shown == actual || (VARYING_NUMBERS.contains(&key) && number(shown) && number(actual))
        }
        _ => false,
    }
}

/// Digit runs become one `0`: timestamps, ids and ticket numbers vary from run to run.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('0');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Every `"key": scalar` in a JSON-ish text (nested objects and arrays are entered, not
/// compared as a whole); tolerant of text cut off by `…` or a line end.
fn pairs(text: &str) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('"') {
        let (key, after) = string_at(&rest[at..]);
        rest = after;
        let Some(after_colon) = rest.trim_start().strip_prefix(':') else { continue };
        let value_text = after_colon.trim_start();
        if value_text.starts_with(['{', '[']) {
            rest = value_text;
        } else if value_text.starts_with('"') {
            let (value, after) = string_at(value_text);
            found.push((key, Value::Text(value)));
            rest = after;
        } else {
            let end = value_text.find([',', '}', ']', ' ', '\n', '\r', '…']).unwrap_or(value_text.len());
            if end > 0 {
                found.push((key, Value::Bare(value_text[..end].to_owned())));
            }
            rest = value_text;
        }
    }
    found
}

/// The string literal `text` starts with (its raw content), and what follows it.
fn string_at(text: &str) -> (String, &str) {
    let body = &text[1..];
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return (body[..i].to_owned(), &body[i + 1..]),
            _ => escaped = false,
        }
    }
    (body.to_owned(), "")
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn status_lines_need_the_same_code() {
        assert!(check("HTTP/1.1 202 Accepted", "HTTP/1.1 202 Accepted\r\nx: y\r\n").is_ok());
        assert!(check("HTTP/1.1 202 Accepted", "HTTP/1.1 401 Unauthorized\r\n").is_err());
    }

    #[test]
    fn json_fields_shown_must_be_there_with_numbers_and_elisions_loose() {
        let output = r#"{"ticket":3,"message":"msg_9f","version":12,"delivery":"queued","n":0}"#;
        assert!(check(r#"{"ticket":1,"message":"msg_…","version":7,"delivery":"queued","#, output).is_ok());
        assert!(check(r#"{"delivery":"sent"}"#, output).is_err());
        assert!(check(r#"{"n":1}"#, output).is_err(), "only ticket numbers and versions vary");
        assert!(check(r#"{"missing":true}"#, output).is_err());
        let list = r#"{"tickets":[{"number":3,"team":"frontline","sla":{"calendar":"24x7"}}],"next":null}"#;
        assert!(check(r#"{"tickets":[{"number":1,"team":"frontline",…}],"next":null}"#, list).is_ok());
        assert!(check(r#"{"sla":{"calendar":"business"}}"#, list).is_err());
        let pretty = "{\n  \"text\": \"your ticket is #12.\",\n  \"ok\": true\n}";
        assert!(check(r#"# "text":"your ticket is #1.", "ok":true"#, pretty).is_ok());
    }

    #[test]
    fn other_lines_match_piece_by_piece_in_order() {
        let ls = "20261206T101010.001Z-000002-msg_abc@desk.example.eml\n";
        assert!(check("20261123T090000.412Z-000001-msg_…@desk.example.eml", ls).is_ok());
        let events = r#"["created","sla_warning","sla_breached","escalated","assigned","sla_notified"]"#;
        assert!(check(r#"[…,"sla_warning","sla_breached","escalated",…,"sla_notified"]"#, events).is_ok());
        assert!(check(r#"[…,"sla_breached","sla_warning",…]"#, events).is_err());
        let adjacent = r#"["a","escalated","sla_notified"]"#;
        assert!(check(r#"[…,"escalated",…,"sla_notified"]"#, adjacent).is_ok(), "… may stand for nothing");
        assert!(check("…", "").is_ok());
    }
}
