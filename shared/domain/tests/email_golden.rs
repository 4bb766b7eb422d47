//! Golden files for the email parser, laid out as mail-parser keeps its own: every
//! `tests/fixtures/email/NAME.eml` sits beside `NAME.json`, the pretty-printed parse (or
//! `{"error": …}`) and the loop guard's verdict on it.
//!
//! After a deliberate change, `UPDATE_GOLDEN=1 cargo test -p omnidesk-domain --test
//! email_golden` rewrites the JSON; review `git diff` by eye before committing it. A failing
//! run prints the differing lines of each fixture.

use std::fs;
use std::path::{Path, PathBuf};

use omnidesk_domain::email::{self, ParsedEmail, check_auto_reply};
use serde::Serialize;

const DESK_ADDRESSES: [&str; 2] = ["support@desk.example", "help@desk.example"];

#[derive(Serialize)]
#[serde(untagged)]
enum Golden {
    Parsed { auto_reply: String, email: Box<ParsedEmail> },
    Failed { error: String },
}

fn render(raw: &[u8]) -> String {
    let golden = match email::parse(raw) {
        Ok(email) => {
            let auto_reply = match check_auto_reply(&email, &DESK_ADDRESSES) {
                Ok(()) => "allowed".to_string(),
                Err(refusal) => {
                    format!("refused: {}", serde_json::to_value(refusal).unwrap().as_str().unwrap())
                }
            };
            Golden::Parsed { auto_reply, email: Box::new(email) }
        }
        Err(error) => Golden::Failed { error: error.to_string() },
    };
    serde_json::to_string_pretty(&golden).unwrap() + "\n"
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/email");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
}

fn name(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_fixture_parses_to_its_golden_json() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 78, "expected at least 78 fixtures, found {}", fixtures.len());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for path in &fixtures {
        let actual = render(&fs::read(path).unwrap());
        let golden = path.with_extension("json");
        let expected = fs::read_to_string(&golden).ok();
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if update {
            fs::write(&golden, &actual).unwrap();
            eprintln!("updated {}", golden.display());
            continue;
        }
        match expected {
            Some(expected) => failures.push(format!("{}:\n{}", name(path), diff(&expected, &actual))),
            None => failures.push(format!("{}: no golden file {}", name(path), golden.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ from their golden JSON; if the change is intended, rerun with \
         UPDATE_GOLDEN=1 and review `git diff`:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_golden_file_has_its_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/email");
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            assert!(path.with_extension("eml").exists(), "orphan golden file {}", path.display());
        }
    }
}

#[test]
fn fixtures_use_both_line_endings() {
    let raws: Vec<Vec<u8>> = fixtures().iter().map(|p| fs::read(p).unwrap()).collect();
    assert!(raws.iter().any(|raw| raw.windows(2).any(|w| w == b"\r\n")));
    assert!(raws.iter().any(|raw| !raw.contains(&b'\r')));
}

#[test]
fn attachment_bytes_match_their_description() {
    for path in fixtures() {
        let raw = fs::read(&path).unwrap();
        let Ok((email, bytes)) = email::parse_with_attachments(&raw) else { continue };
        assert_eq!(Ok(&email), email::parse(&raw).as_ref(), "{}", name(&path));
        assert_eq!(email.attachments.len(), bytes.len(), "{}", name(&path));
        for (attachment, body) in email.attachments.iter().zip(&bytes) {
            assert_eq!(attachment.size, body.bytes.len() as u64, "{}", name(&path));
            assert_eq!(attachment.sha256, body.sha256, "{}", name(&path));
        }
    }
}

/// The lines between the common head and tail of both texts, with a little context.
fn diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX_LINES: usize = 40;
    let (old, new): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..].iter().rev().zip(new[head..].iter().rev()).take_while(|(a, b)| a == b).count();
    let mut out = String::new();
    for line in &old[head.saturating_sub(CONTEXT)..head] {
        out.push_str(&format!("   {line}\n"));
    }
    for line in old[head..old.len() - tail].iter().take(MAX_LINES) {
        out.push_str(&format!("-  {line}\n"));
    }
    for line in new[head..new.len() - tail].iter().take(MAX_LINES) {
        out.push_str(&format!("+  {line}\n"));
    }
    for line in old[old.len() - tail..].iter().take(CONTEXT) {
        out.push_str(&format!("   {line}\n"));
    }
    out
}
