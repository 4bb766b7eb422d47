//! Order numbers in what customers write: "where is #1001", "order 1001", "订单号：1001".
//! Configurable: the words that may come before the digits, how many digits an order
//! number has, and how the shop names the order (`#{digits}`). Digits alone are never an
//! order number: they are as often a phone number or an amount.

/// The placeholder in a name template.
pub const DIGITS: &str = "{digits}";
/// Most order numbers read from one message; more are ignored.
pub const MAX_NAMES_PER_TEXT: usize = 5;
/// Separators allowed between a prefix and the digits ("order: 1001", "订单号 1001").
const SEPARATORS: &[char] = &[' ', ':', '：', '#', '号', '.', '-'];
const MAX_SEPARATORS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("prefixes[{0}]: 1–20 characters, no control characters")]
    Prefix(usize),
    #[error("name: must contain {DIGITS} once")]
    Template,
    #[error("min_digits/max_digits: 1 ≤ min ≤ max ≤ 20")]
    Digits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPatterns {
    /// Lower-cased.
    prefixes: Vec<String>,
    template: String,
    min_digits: usize,
    max_digits: usize,
}

impl Default for OrderPatterns {
    /// Shopify's numbering: `#1001`, four digits or more.
    fn default() -> Self {
        let prefixes = ["#", "order", "订单", "单号"].map(str::to_owned).to_vec();
        Self { prefixes, template: format!("#{DIGITS}"), min_digits: 4, max_digits: 12 }
    }
}

impl OrderPatterns {
    pub fn new(
        prefixes: &[String],
        template: &str,
        min_digits: usize,
        max_digits: usize,
    ) -> Result<Self, PatternError> {
        for (i, prefix) in prefixes.iter().enumerate() {
            let chars = prefix.chars().count();
            if chars == 0 || chars > 20 || prefix.chars().any(char::is_control) {
                return Err(PatternError::Prefix(i));
            }
        }
        if template.matches(DIGITS).count() != 1 {
            return Err(PatternError::Template);
        }
        if min_digits == 0 || min_digits > max_digits || max_digits > 20 {
            return Err(PatternError::Digits);
        }
        Ok(Self {
            prefixes: prefixes.iter().map(|p| p.to_lowercase()).collect(),
            template: template.to_owned(),
            min_digits,
            max_digits,
        })
    }

    /// The shop's names of the orders `text` mentions, in order of appearance, each once.
    pub fn find(&self, text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        let mut names = Vec::new();
        for (start, _) in lower.char_indices() {
            if names.len() >= MAX_NAMES_PER_TEXT {
                break;
            }
            let rest = &lower[start..];
            let Some(prefix) = self.prefixes.iter().find(|p| rest.starts_with(p.as_str())) else {
                continue;
            };
            // "#1001" inside "##1001" or "ab#1001" still counts; digits glued to a word do not.
            if let Some(digits) = self.digits_after(&rest[prefix.len()..]) {
                let name = self.template.replace(DIGITS, digits);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    fn digits_after<'a>(&self, rest: &'a str) -> Option<&'a str> {
        let mut skipped = 0;
        let mut offset = 0;
        for c in rest.chars() {
            if SEPARATORS.contains(&c) && skipped < MAX_SEPARATORS {
                skipped += 1;
                offset += c.len_utf8();
            } else {
                break;
            }
        }
        let rest = &rest[offset..];
        let len = rest.chars().take_while(char::is_ascii_digit).count();
        let after = rest[len..].chars().next();
        let glued = after.is_some_and(|c| c.is_ascii_alphanumeric());
        ((self.min_digits..=self.max_digits).contains(&len) && !glued).then(|| &rest[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_found_after_their_words_in_english_and_chinese() {
        let patterns = OrderPatterns::default();
        assert_eq!(patterns.find("where is my order #1001?"), ["#1001"]);
        assert_eq!(patterns.find("Order 1002 and order: 1003"), ["#1002", "#1003"]);
        assert_eq!(patterns.find("我的订单号：1004 到哪了"), ["#1004"]);
        assert_eq!(patterns.find("订单1005"), ["#1005"]);
    }

    #[test]
    fn bare_digits_phone_numbers_and_short_numbers_are_not_order_numbers() {
        let patterns = OrderPatterns::default();
        assert!(patterns.find("call me on 13800138000").is_empty());
        assert!(patterns.find("order 12").is_empty());
        assert!(patterns.find("#1001abc").is_empty());
    }

    #[test]
    fn configured_patterns_name_orders_as_the_shop_does() {
        let patterns = OrderPatterns::new(&["so-".to_owned()], "SO-{digits}", 6, 6).unwrap();
        assert_eq!(patterns.find("about SO-123456 please"), ["SO-123456"]);
        assert_eq!(OrderPatterns::new(&[], "no placeholder", 1, 2), Err(PatternError::Template));
        assert_eq!(OrderPatterns::new(&[String::new()], "#{digits}", 1, 2), Err(PatternError::Prefix(0)));
    }
}
