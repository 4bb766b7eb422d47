//! Which language a message is written in, to pick the acknowledgement template and route to
//! an agent who reads it.
//!
//! A heuristic, not a classifier: count CJK characters against other letters in the new text
//! (the subject when the text has no letters). One Han character carries about as much as a
//! short Latin word, so CJK wins when `3 × cjk ≥ other letters`: `我买的 iPhone 15 case 坏了`
//! is Chinese. Among CJK, mostly Hangul is `ko`, a fair share of kana (≥ 20 %) is `ja`, the rest
//! `zh`. Everything else is `en`, the desk's default.

/// A lowercase language tag: `zh`, `ja`, `ko` or `en`.
pub(super) fn guess(text: &str, subject: &str) -> &'static str {
    let counts = Counts::of(text);
    let counts = if counts.is_empty() { Counts::of(subject) } else { counts };
    counts.language()
}

#[derive(Default)]
struct Counts {
    han: usize,
    kana: usize,
    hangul: usize,
    other: usize,
}

impl Counts {
    fn of(text: &str) -> Self {
        let mut counts = Counts::default();
        for c in text.chars() {
            match c {
                '\u{4e00}'..='\u{9fff}'
                | '\u{3400}'..='\u{4dbf}'
                | '\u{f900}'..='\u{faff}'
                | '\u{20000}'..='\u{2ffff}' => counts.han += 1,
                '\u{3040}'..='\u{30ff}' => counts.kana += 1,
                '\u{ac00}'..='\u{d7af}' | '\u{1100}'..='\u{11ff}' => counts.hangul += 1,
                c if c.is_alphabetic() => counts.other += 1,
                _ => {}
            }
        }
        counts
    }

    fn is_empty(&self) -> bool {
        self.han + self.kana + self.hangul + self.other == 0
    }

    fn language(&self) -> &'static str {
        let cjk = self.han + self.kana + self.hangul;
        if cjk == 0 || cjk.saturating_mul(3) < self.other {
            "en"
        } else if self.hangul > self.han + self.kana {
            "ko"
        } else if self.kana.saturating_mul(5) >= self.han + self.kana {
            "ja"
        } else {
            "zh"
        }
    }
}
