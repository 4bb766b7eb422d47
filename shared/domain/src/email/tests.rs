//! Behaviour of the parts of the email parser, and properties over hostile input. The golden
//! fixtures (`tests/email_golden.rs`) cover whole messages.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;

fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}").into_bytes()
}

const CUSTOMER: &str = "From: Alice <alice@example.com>\r\nTo: support@desk.example\r\nSubject: Parcel";

// --- errors and limits -----------------------------------------------------------------------

#[test]
fn empty_input_is_an_error_not_a_message() {
    assert_eq!(parse(b""), Err(EmailError::Empty));
    assert_eq!(parse(b" \r\n\r\n"), Err(EmailError::Empty));
}

#[test]
fn input_over_the_size_limit_is_refused_before_parsing() {
    let raw = vec![b'a'; MAX_RAW_BYTES + 1];
    assert_eq!(parse(&raw), Err(EmailError::TooLarge { size: MAX_RAW_BYTES + 1, max: MAX_RAW_BYTES }));
}

#[test]
fn a_from_without_an_address_is_invalid() {
    let raw = mail("From: Alice\r\nTo: support@desk.example\r\nSubject: hi", "hello");
    assert_eq!(parse(&raw), Err(EmailError::InvalidFrom));
}

#[test]
fn a_missing_from_is_its_own_error() {
    let raw = mail("To: support@desk.example\r\nSubject: hi", "hello");
    assert_eq!(parse(&raw), Err(EmailError::MissingFrom));
}

#[test]
fn errors_do_not_name_addresses() {
    for error in [EmailError::MissingFrom, EmailError::InvalidFrom, EmailError::NotAMessage] {
        assert!(!error.to_string().contains('@'), "{error}");
    }
}

#[test]
fn too_many_attachments_is_an_error() {
    let mut body = String::new();
    for n in 0..=MAX_ATTACHMENTS {
        body.push_str(&format!(
            "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"f{n}.pdf\"\r\n\r\n%PDF\r\n"
        ));
    }
    body.push_str("--b--\r\n");
    let raw = mail(&format!("{CUSTOMER}\r\nContent-Type: multipart/mixed; boundary=\"b\""), &body);
    assert_eq!(
        parse(&raw),
        Err(EmailError::TooManyAttachments { count: MAX_ATTACHMENTS + 1, max: MAX_ATTACHMENTS })
    );
}

#[test]
fn long_text_is_cut_at_a_character_boundary_and_flagged() {
    let body = "包".repeat(MAX_TEXT_BYTES); // three bytes each
    let email =
        parse(&mail(&format!("{CUSTOMER}\r\nContent-Type: text/plain; charset=utf-8"), &body)).unwrap();
    assert!(email.text_truncated);
    assert!(email.text.len() <= MAX_TEXT_BYTES);
    assert!(email.text.chars().all(|c| c == '包'));
}

#[test]
fn recipient_lists_and_subjects_are_bounded() {
    let to: Vec<String> = (0..MAX_RECIPIENTS + 20).map(|i| format!("c{i}@x.example")).collect();
    let subject = "退款".repeat(MAX_FIELD_BYTES);
    let raw = mail(&format!("From: a@b.example\r\nTo: {}\r\nSubject: {subject}", to.join(", ")), "x");
    let email = parse(&raw).unwrap();
    assert_eq!(email.to.len(), MAX_RECIPIENTS);
    assert!(email.subject.len() <= MAX_FIELD_BYTES && email.subject.starts_with("退款"));
}

// --- headers ---------------------------------------------------------------------------------

#[test]
fn date_with_a_western_offset_becomes_the_right_instant() {
    let raw = mail(&format!("{CUSTOMER}\r\nDate: Mon, 3 Mar 2025 22:30:00 -0330"), "x");
    assert_eq!(parse(&raw).unwrap().date, Some("2025-03-04T02:00:00Z".parse().unwrap()));
}

#[test]
fn impossible_dates_are_dropped() {
    let raw = mail(&format!("{CUSTOMER}\r\nDate: Mon, 31 Feb 2025 10:00:00 +0000"), "x");
    assert_eq!(parse(&raw).unwrap().date, None);
}

#[test]
fn references_keep_the_root_and_the_latest_ids() {
    let refs: String = (0..150).map(|i| format!(" <r{i}@x.example>")).collect();
    let email = parse(&mail(&format!("{CUSTOMER}\r\nReferences:{refs}"), "x")).unwrap();
    assert_eq!(email.references.len(), MAX_REFERENCES);
    assert_eq!(email.references[0], "r0@x.example");
    assert_eq!(email.references[1], "r51@x.example");
    assert_eq!(email.references.last().map(String::as_str), Some("r149@x.example"));
}

#[test]
fn an_empty_return_path_is_the_null_sender() {
    let email = parse(&mail(&format!("Return-Path: <>\r\n{CUSTOMER}"), "x")).unwrap();
    assert_eq!(email.automation.return_path.as_deref(), Some(""));
}

#[test]
fn content_language_wins_over_the_guess() {
    let email =
        parse(&mail(&format!("{CUSTOMER}\r\nContent-Language: EN-gb, zh"), "你好，包裹到了吗？")).unwrap();
    assert_eq!(email.language, "en");
}

#[test]
fn attachment_names_lose_their_directories() {
    let body = "--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/pdf\r\n\
                Content-Disposition: attachment; filename=\"..\\\\..\\\\windows\\\\evil.pdf\"\r\n\r\n%PDF\r\n--b--\r\n";
    let raw = mail(&format!("{CUSTOMER}\r\nContent-Type: multipart/mixed; boundary=\"b\""), body);
    let email = parse(&raw).unwrap();
    assert_eq!(email.attachments[0].filename, "evil.pdf");
}

// --- html ------------------------------------------------------------------------------------

#[test]
fn html_drops_head_scripts_styles_and_comments() {
    let html = "<html><head><title>T</title><style>p{}</style></head><body><!-- c --><script>x()</script>\
                <p>Hi</p><style>.a{}</style></body></html>";
    assert_eq!(html_to_text(html), "Hi");
}

#[test]
fn html_blocks_become_lines_and_paragraphs() {
    let html = "<div>one</div><div>two<br>three</div><p>four</p><ul><li>a</li><li>b</li></ul>end";
    assert_eq!(html_to_text(html), "one\ntwo\nthree\n\nfour\n\n- a\n- b\n\nend");
}

#[test]
fn html_whitespace_collapses_except_in_pre() {
    assert_eq!(html_to_text("a \n\t  b&nbsp;&nbsp;c"), "a b c");
    assert_eq!(html_to_text("<pre>x  = 1\n  y = 2</pre>"), "x  = 1\n  y = 2");
}

#[test]
fn html_entities_decode_and_unknown_ones_stay() {
    assert_eq!(
        html_to_text("&lt;b&gt; &amp; &#20320;&#x597D; &#150; &bogus; AT&T"),
        "<b> & 你好 – &bogus; AT&T"
    );
}

#[test]
fn html_blockquotes_are_marked_as_quotes() {
    let html = "<div>Yes.</div><blockquote><div>Shall we?</div><blockquote>Old</blockquote></blockquote>";
    assert_eq!(html_to_text(html), "Yes.\n\n> Shall we?\n\n> > Old");
}

#[test]
fn html_attributes_with_angle_brackets_do_not_leak() {
    assert_eq!(html_to_text(r#"<a title="a > b" href='x>y'>link</a> and <img alt="<cat>">"#), "link and");
}

#[test]
fn html_lone_angle_brackets_are_text() {
    assert_eq!(html_to_text("1 < 2 and 3 <= 4"), "1 < 2 and 3 <= 4");
}

#[test]
fn html_unclosed_constructs_end_the_text_quietly() {
    assert_eq!(html_to_text("ok <script>never closed"), "ok");
    assert_eq!(html_to_text("ok <!-- never closed"), "ok");
    assert_eq!(html_to_text("ok <a href=\"never closed"), "ok");
}

#[test]
fn html_zero_width_padding_disappears() {
    assert_eq!(html_to_text("Sale&zwnj;&nbsp;&zwnj;&nbsp;\u{200b}now"), "Sale now");
}

// --- quotes ----------------------------------------------------------------------------------

#[test]
fn a_reply_without_history_is_all_new_text() {
    assert_eq!(split_quoted("  Hello\n\nThanks\n"), ("Hello\n\nThanks".into(), String::new()));
}

#[test]
fn gmail_attribution_wrapped_over_two_lines_starts_the_history() {
    let (text, quoted) = split_quoted("Thanks!\n\nOn Mon, 3 Mar 2025, Support <s@d.example>\nwrote:\n> old");
    assert_eq!(text, "Thanks!");
    assert_eq!(quoted, "On Mon, 3 Mar 2025, Support <s@d.example>\nwrote:\n> old");
}

#[test]
fn on_at_the_start_of_a_sentence_is_not_an_attribution() {
    let body = "On Monday the courier came.\nNobody was home.";
    assert_eq!(split_quoted(body), (body.into(), String::new()));
}

#[test]
fn chinese_attributions_start_the_history() {
    for attribution in ["在 2025年3月22日 21:05，客服 <s@d.example> 写道：", "於 2025/3/22 21:05, 客服 寫道:"]
    {
        let (text, quoted) = split_quoted(&format!("好的\n\n{attribution}\n> 旧邮件"));
        assert_eq!(text, "好的");
        assert!(quoted.starts_with(attribution));
    }
}

#[test]
fn outlook_separators_start_the_history() {
    for separator in ["-----Original Message-----", "----- Original Message -----", "-----原始邮件-----"]
    {
        let (text, quoted) = split_quoted(&format!("Done.\n\n{separator}\nFrom: a\nold"));
        assert_eq!(text, "Done.");
        assert!(quoted.starts_with(separator));
    }
}

#[test]
fn a_from_line_alone_is_not_a_header_block() {
    let body = "From: my side the order is fine.\nTo be honest I like it.";
    assert_eq!(split_quoted(body), (body.into(), String::new()));
}

#[test]
fn a_header_block_takes_the_rule_and_copied_fields_above_it() {
    let body =
        "New.\n\nOrder: NW-1\n__________\nReturn-path: <x@y.example>\nFrom: A\nDate: today\nTo: B\n\nold";
    let (text, quoted) = split_quoted(body);
    assert_eq!(text, "New.\n\nOrder: NW-1");
    assert!(quoted.starts_with("__________\nReturn-path:"));
}

#[test]
fn a_forward_marker_keeps_everything_as_new_text() {
    let body = "See below.\n\n---------- Forwarded message ---------\nFrom: A\nDate: today\nTo: B\n\n> quoted inside";
    assert_eq!(split_quoted(body), (body.into(), String::new()));
}

#[test]
fn forward_subjects_are_recognised() {
    for subject in ["Fwd: parcel", "FW: parcel", "转发：包裹", "Fw：x"] {
        assert!(quote::is_forward_subject(subject), "{subject}");
    }
    assert!(!quote::is_forward_subject("Re: Fwd: parcel"));
}

// --- language --------------------------------------------------------------------------------

#[test]
fn language_is_guessed_from_the_script() {
    let cases = [
        ("Where is my parcel?", "en"),
        ("我的包裹在哪里？", "zh"),
        ("我买的 iPhone 15 Pro case 坏了", "zh"),
        ("Order NW-1: the 包装 was damaged, please send a replacement quickly", "en"),
        ("荷物がまだ届いていません", "ja"),
        ("택배가 아직 안 왔어요", "ko"),
        ("12345 !!!", "en"),
    ];
    for (text, expected) in cases {
        assert_eq!(language::guess(text, ""), expected, "{text}");
    }
    assert_eq!(language::guess("", "退款"), "zh");
}

// --- properties ------------------------------------------------------------------------------

fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/email");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

// --- lenient parsing of what real clients send (each shape checked against Python's `email`) -----

#[test]
fn lenient_parsing_reads_a_multipart_without_boundary_as_text() {
    let raw =
        mail(&format!("{CUSTOMER}\r\nContent-Type: multipart/mixed"), "Hello, order NW-1 is late.\r\nAnna");
    let email = parse(&raw).unwrap();
    assert_eq!(email.text, "Hello, order NW-1 is late.\nAnna");
    assert!(email.attachments.is_empty(), "the body is not offered as a file");
    assert_eq!(email.repairs, vec![Repair::MissingBoundary]);
}

#[test]
fn lenient_parsing_starts_the_body_at_the_first_non_header_line() {
    let raw = format!(
        "{CUSTOMER}\r\nMessage-ID: <x@y.example>\r\nHello, order NW-2 is late.\r\nCan you check: it was due.\r\n"
    );
    let email = parse(raw.as_bytes()).unwrap();
    assert_eq!(email.text, "Hello, order NW-2 is late.\nCan you check: it was due.");
    assert_eq!(email.message_id.as_deref(), Some("x@y.example"));
    assert_eq!(email.repairs, vec![Repair::MissingHeaderSeparator]);
}

#[test]
fn lenient_parsing_shows_the_text_of_a_forwarded_message_body() {
    let enclosed = "From: Shop <orders@shop.example>\r\nSubject: Shipped\r\n\r\nOrder NW-3 has shipped.";
    let raw = mail(&format!("{CUSTOMER}\r\nContent-Type: message/rfc822"), enclosed);
    let email = parse(&raw).unwrap();
    assert_eq!(email.text, "Order NW-3 has shipped.");
    assert_eq!(email.repairs, vec![Repair::EnclosedMessage]);
    assert_eq!(email.attachments.len(), 1, "the forwarded mail stays available as a file");
}

#[test]
fn lenient_parsing_decodes_the_valid_prefix_of_broken_base64_and_flags_the_rest() {
    let headers =
        format!("{CUSTOMER}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64");
    let email = parse(&mail(&headers, "5YyF6KO55Zyo5ZOq6YeM77yf\r\n!!% garbage")).unwrap();
    assert_eq!(email.text, "包裹在哪里？");
    assert_eq!(email.repairs, vec![Repair::InvalidBase64 { undecoded_bytes: 10 }]);
}

#[test]
fn oversized_texts_lose_c0_control_characters_but_keep_newlines_and_tabs() {
    let raw = mail(CUSTOMER, "Where\u{0} is\u{7} my\u{1b} order?\tNW-4\r\nThanks\u{c}");
    assert_eq!(parse(&raw).unwrap().text, "Where is my order?\tNW-4\nThanks");
}

/// Parses and runs the guard, as the email channel will; only a panic can fail this.
fn exercise(raw: &[u8]) {
    if let Ok((email, bytes)) = parse_with_attachments(raw) {
        assert_eq!(email.attachments.len(), bytes.len());
        let _ = check_auto_reply(&email, &["support@desk.example"]);
    }
}

/// Pieces of MIME structure, so random input reaches deep into the parser.
fn mime_soup() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "From: a@b.example\r\n",
        "From: =?utf-8?B?5byg?= <x@y.example>\r\n",
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
        "Content-Type: multipart/alternative; boundary=b\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Type: message/delivery-status\r\n",
        "Content-Type: text/html; charset=gbk\r\n",
        "Content-Type: text/plain; charset=iso-2022-jp\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "Content-Disposition: attachment; filename*0*=UTF-8''%E4%; filename*1=x\r\n",
        "Subject: =?gb2312?B?1eI=?= =?utf-8?Q?=E9=80?=\r\n",
        "Date: Mon, 3 Mar 2025 99:99:99 +9999\r\n",
        "Return-Path: <>\r\n",
        "Final-Recipient: rfc822;\r\n",
        "\r\n",
        "\n",
        "--b\r\n",
        "--b--\r\n",
        "<div><blockquote>",
        "&#x110000;&amp",
        "On x wrote:\n> ",
        "=E4=BD=A0",
        "5L2g5aW9",
        "\u{ff}",
        "Content-Type: multipart/mixed\r\n",
        "Hello, no blank line before me\r\n",
        "5L2g!!%%5aW9",
        "\u{0}\u{1b}\u{7}",
        "Subject: Automatic reply: x\r\n",
        "X-Auto-Response-Suppress: All\r\n",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|pieces| pieces.concat().into_bytes())
}

// 256 cases each by default; `PROPTEST_CASES=50000` for a longer hunt.
proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&raw);
    }

    #[test]
    fn mime_soup_never_panics(raw in mime_soup()) {
        exercise(&raw);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut raw = pick.get(fixtures()).clone();
        for (at, byte) in flips {
            if !raw.is_empty() {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
        }
        if truncate && !raw.is_empty() {
            raw.truncate(cut.index(raw.len()));
        }
        exercise(&raw);
    }

    #[test]
    fn html_conversion_never_panics_and_leaves_no_trailing_spaces(html in "(<[/!a-z\"' =>-]{0,12}|&[#xa-z0-9]{0,8};?|[ \t\n]|[a-z\u{4e00}-\u{4e10}]{1,4}){0,80}") {
        let text = html_to_text(&html);
        prop_assert!(text.lines().all(|l| !l.ends_with(' ')), "{text:?}");
        prop_assert_eq!(text.trim(), text.as_str());
    }

    #[test]
    fn quote_splitting_never_panics_and_trims(text in "(>|On |wrote:|在|写道：|From: |Sent: |To: |-----Original Message-----|_{10}|\n|[a-z ]{1,8}){0,60}") {
        let (new_text, quoted) = split_quoted(&text);
        prop_assert_eq!(new_text.trim(), new_text.as_str());
        prop_assert_eq!(quoted.trim(), quoted.as_str());
    }

    #[test]
    fn parsed_texts_hold_no_control_characters_but_newlines_and_tabs(raw in mime_soup()) {
        if let Ok(email) = parse(&raw) {
            let bad = |c: char| c < ' ' && c != '\n' && c != '\t';
            prop_assert!(!email.text.chars().any(bad), "{:?}", email.text);
            prop_assert!(!email.quoted.chars().any(bad), "{:?}", email.quoted);
        }
    }

    #[test]
    fn the_guard_never_panics_on_odd_values(
        from in ".{0,40}",
        auto in proptest::option::of(".{0,20}"),
        precedence in proptest::option::of(".{0,20}"),
        return_path in proptest::option::of(".{0,20}"),
        subject in ".{0,60}",
        suppress in proptest::option::of(".{0,20}"),
    ) {
        let mut email = parse(&mail(CUSTOMER, "x")).unwrap();
        email.from.address = from;
        email.automation.auto_submitted = auto;
        email.automation.precedence = precedence;
        email.automation.return_path = return_path;
        email.subject = subject;
        email.automation.auto_response_suppress = suppress;
        let _ = check_auto_reply(&email, &["support@desk.example", ""]);
    }
}
