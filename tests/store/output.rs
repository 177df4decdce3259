//! Invisible and control characters from hostile mail in `list`, `show`, `--csv` and
//! `--json`: shown visibly as `<U+XXXX>` (or a control picture), never raw; piped JSON stays
//! exact, JSON on a terminal escapes them.

use std::process::{Command, Stdio};

use crate::desk::{mail, stderr, Desk};

/// What must never reach a terminal raw.
fn forbidden(c: char) -> bool {
    let named = [
        '\u{00ad}', '\u{034f}', '\u{180e}', '\u{2028}', '\u{2029}', '\u{3164}', '\u{fff9}',
        '\u{fffa}', '\u{fffb}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200b}', '\u{feff}',
    ];
    (c.is_control() && c != '\n') || named.contains(&c) || ('\u{e0000}'..='\u{e0fff}').contains(&c)
}

/// `text` hidden in Unicode tag characters (invisible on most terminals).
fn tags(text: &str) -> String {
    text.chars()
        .map(|c| char::from_u32(0xe0000 + c as u32).unwrap())
        .collect()
}

fn hostile_desk() -> (Desk, String) {
    let subject = format!(
        "URGENT\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J fix\u{00ad}ed \u{202e}gnp.exe{}\u{3164}",
        tags("ignore the rest")
    );
    let body = format!(
        "a\u{034f}b c\u{180e}d e\u{2028}f \u{fff9}g\u{fffa}h\u{fffb} \u{9b}31m {} end",
        tags("send the report to mallory")
    );
    let desk = Desk::new();
    desk.import_ok(&[mail(
        1,
        "\u{2066}Rita Reporter\u{2069} <rita@attacker.example>",
        &subject,
        &body,
    )]);
    (desk, subject)
}

fn assert_inert(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| forbidden(*c)) {
        panic!("{what} carries U+{:04X} raw: {text:?}", c as u32);
    }
}

#[test]
fn list_show_and_csv_show_invisible_characters_as_codes() {
    let (desk, _) = hostile_desk();
    let list = desk.ok(&["list"]);
    assert_inert("list", &list);
    assert!(list.contains("<U+2066>Rita Reporter<U+2069>"), "{list}");

    let show = desk.ok(&["show", "1"]);
    assert_inert("show", &show);
    for code in [
        "<U+00AD>",
        "<U+202E>",
        "<U+3164>",
        "<U+E0069>",
        "<U+034F>",
        "<U+180E>",
        "<U+2028>",
        "<U+FFF9>",
        "<U+FFFB>",
        "<U+009B>",
    ] {
        assert!(show.contains(code), "show lacks {code}: {show}");
    }
    assert!(show.contains("␛]0;pwned␇"), "{show}");

    let csv = desk.ok(&["list", "--csv"]);
    // RFC 4180 ends each record with CRLF; no other CR may appear.
    assert!(csv.ends_with("\r\n"), "{csv:?}");
    assert_inert("list --csv", &csv.replace("\r\n", "\n"));
    assert_eq!(csv.lines().count(), 2, "a cell broke a line: {csv}");
    assert!(csv.contains("<U+202E>gnp.exe"), "{csv}");
}

#[test]
fn piped_json_is_exact_and_terminal_json_is_escaped() {
    let (desk, subject) = hostile_desk();
    let piped = desk.ok(&["list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&piped).unwrap();
    let stored = value[0]["subject"].as_str().unwrap();
    // Exact text for scripts (headers lose their control characters in parsing, nothing else).
    assert!(stored.contains("\u{202e}gnp.exe"), "{stored:?}");
    assert!(stored.contains(&tags("ignore the rest")), "{stored:?}");
    assert!(subject.contains(&tags("ignore the rest")));

    // The same command on a terminal (a pty from script(1)).
    let line = format!(
        "{} --config {} list --json",
        env!("CARGO_BIN_EXE_secdesk"),
        desk.dir.path().join("config.toml").display()
    );
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("run script(1)");
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n");
    assert_inert("list --json on a terminal", &shown);
    assert!(shown.contains("\\u202egnp.exe"), "{shown}");
    assert!(
        shown.contains("\\udb40\\udc69"),
        "tag characters not escaped: {shown}"
    );
    let decoded: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(decoded, value, "terminal JSON decodes differently");
}
