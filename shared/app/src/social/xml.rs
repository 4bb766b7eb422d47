//! Reads WeChat's flat XML (`<xml><Field>value</Field>…</xml>`) into field → text. Nested
//! elements, DTDs and entities other than XML's own are refused: nothing WeChat sends
//! needs them, and a parser that expands them can be made to do a lot of work.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Most fields one message may carry.
const MAX_FIELDS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(pub String);

fn err(message: impl Into<String>) -> XmlError {
    XmlError(message.into())
}

/// The children of the root element, by name, with their text (CDATA or escaped).
pub fn fields(body: &[u8]) -> Result<BTreeMap<String, String>, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| err("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    let mut fields = BTreeMap::new();
    let mut depth = 0usize;
    let mut current: Option<(String, String)> = None;
    let mut saw_root = false;
    loop {
        match reader.read_event().map_err(|e| err(e.to_string()))? {
            Event::Start(start) => {
                depth += 1;
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                match depth {
                    1 if !saw_root => saw_root = true,
                    2 => current = Some((name, String::new())),
                    _ => return Err(err(format!("unexpected element <{name}>"))),
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((name, value)) = current.take()
                {
                    if fields.len() >= MAX_FIELDS {
                        return Err(err("too many fields"));
                    }
                    fields.insert(name, value);
                }
                depth = depth.checked_sub(1).ok_or_else(|| err("unbalanced"))?;
            }
            Event::Empty(start) if depth == 1 => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                fields.insert(name, String::new());
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| err(e.to_string()))?;
                match &mut current {
                    Some((_, value)) => value.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err(err("text outside a field")),
                }
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|e| err(e.to_string()))?;
                match &mut current {
                    Some((_, value)) => value.push_str(&decoded),
                    None => return Err(err("CDATA outside a field")),
                }
            }
            Event::GeneralRef(reference) => {
                let ch = match reference.resolve_char_ref().map_err(|e| err(e.to_string()))? {
                    Some(ch) => ch,
                    None => match reference.decode().map_err(|e| err(e.to_string()))?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(err(format!("unknown entity &{other};"))),
                    },
                };
                match &mut current {
                    Some((_, value)) => value.push(ch),
                    None => return Err(err("text outside a field")),
                }
            }
            Event::DocType(_) => return Err(err("a DOCTYPE is not accepted")),
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
        }
    }
    if !saw_root || depth != 0 {
        return Err(err("no complete root element"));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_escaped_text_and_numbers_are_read() {
        let body = b"<xml><ToUserName><![CDATA[toUser]]></ToUserName>\n<CreateTime>1348831860</CreateTime>\
            <Content>a &amp; b &#20320;</Content></xml>";
        let fields = fields(body).unwrap();
        assert_eq!(fields["ToUserName"], "toUser");
        assert_eq!(fields["CreateTime"], "1348831860");
        assert_eq!(fields["Content"], "a & b 你");
    }

    #[test]
    fn nesting_doctype_and_truncation_are_refused() {
        assert!(fields(b"<xml><a><b>x</b></a></xml>").is_err());
        assert!(fields(b"<!DOCTYPE x [<!ENTITY e \"y\">]><xml><a>&e;</a></xml>").is_err());
        assert!(fields(b"<xml><a>x</a>").is_err());
        assert!(fields(b"not xml").is_err());
    }
}
