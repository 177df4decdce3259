//! The hostile-mail suite: mail crafted to break a parser, a terminal or a spreadsheet.
//! Each input gets a clear outcome and never a panic, and the raw message is always kept.

use std::path::{Path, PathBuf};
use std::process::Command;

use secdesk::core::ingest::{Ingestor, RawIncoming};
use secdesk::core::parse::parse_message;
use secdesk::core::sanitize::is_terminal_safe;
use secdesk::core::store::Store;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hostile")
            .join(name),
    )
    .unwrap()
}

/// A throwaway desk: a config pointing at a fresh database.
struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[store]\npath = {:?}\n\n[identity]\nname = \"Tess Ter\"\nemail = \"tess@example.org\"\n",
            dir.path().join("desk.db")
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Desk { dir }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .output()
            .unwrap()
    }

    fn import_bytes(&self, name: &str, raw: &[u8]) -> std::process::Output {
        let path: PathBuf = self.dir.path().join(name);
        std::fs::write(&path, raw).unwrap();
        let out = self.run(&["import", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("desk.db")).unwrap()
    }

    fn raw_of_only_message(&self) -> Vec<u8> {
        self.store()
            .conn()
            .query_row("SELECT raw FROM messages", [], |r| {
                r.get::<_, secdesk::core::store::raw::RawMessage>(0)
                    .map(|m| m.0)
            })
            .unwrap()
    }
}

fn assert_terminal_safe(out: &[u8]) {
    let text = String::from_utf8(out.to_vec()).expect("output is UTF-8");
    assert!(
        is_terminal_safe(&text),
        "raw control or bidi characters reached the terminal: {text:?}"
    );
}

#[test]
fn terminal_escapes_and_bidi_never_reach_the_terminal() {
    let desk = Desk::new();
    desk.import_bytes("escapes.eml", &fixture("escapes.eml"));
    let list = desk.run(&["list"]);
    assert!(list.status.success());
    assert_terminal_safe(&list.stdout);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("␛[2J"),
        "the escape is shown inert, not hidden: {listed}"
    );
    // The message's own bytes are untouched in the store.
    assert_eq!(desk.raw_of_only_message(), fixture("escapes.eml"));
    let m = parse_message(&fixture("escapes.eml"));
    assert_eq!(
        m.attachments.len(),
        1,
        "the attachment with a hostile name is still listed"
    );
}

#[test]
fn nul_bytes_and_unencoded_8bit_headers_are_read() {
    let raw = fixture("nul-and-8bit.eml");
    let m = parse_message(&raw);
    assert!(m.subject.contains("caf"), "{:?}", m.subject);
    assert!(m.body_text.contains("latin-1"));
    let desk = Desk::new();
    desk.import_bytes("nul.eml", &raw);
    assert_eq!(desk.raw_of_only_message(), raw);
    assert_terminal_safe(&desk.run(&["list"]).stdout);
}

#[test]
fn invalid_charsets_and_malformed_encoded_words_fall_back_to_text() {
    let m = parse_message(&fixture("bad-charsets.eml"));
    assert!(!m.subject.is_empty());
    assert!(m.body_text.contains("unknown charset"), "{:?}", m.body_text);
    assert_eq!(m.from.unwrap().addr, "b@example.net");
}

#[test]
fn broken_base64_and_quoted_printable_keep_what_can_be_read() {
    let m = parse_message(&fixture("broken-encodings.eml"));
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name.as_deref(), Some("x.pdf"));
    assert!(m.body_html.is_some());
}

#[test]
fn a_50_mb_message_is_kept_whole_with_a_note() {
    let mut raw =
        b"Message-ID: <big@example.net>\nSubject: big one\nContent-Type: text/plain\n\n".to_vec();
    let line = b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    while raw.len() < 50 * 1024 * 1024 {
        raw.extend_from_slice(line);
    }
    let m = parse_message(&raw);
    assert_eq!(m.subject, "big one");
    assert!(
        m.notes.iter().any(|n| n.contains("parse limit")),
        "{:?}",
        m.notes
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let batch = vec![RawIncoming::file(raw.clone())];
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    let (stored, notes): (Vec<u8>, String) = store
        .conn()
        .query_row("SELECT raw, notes FROM messages", [], |r| {
            Ok((
                r.get::<_, secdesk::core::store::raw::RawMessage>(0)?.0,
                r.get(1)?,
            ))
        })
        .unwrap();
    assert_eq!(stored.len(), raw.len());
    assert!(notes.contains("parse limit"));
}

#[test]
fn mime_nested_10000_deep_does_not_overflow() {
    let mut raw = b"Message-ID: <deep@example.net>\nSubject: deep\nMIME-Version: 1.0\n".to_vec();
    for i in 0..10_000 {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\n\ninnermost\n");
    let m = parse_message(&raw);
    assert_eq!(m.subject, "deep");
    assert!(
        !m.notes.is_empty(),
        "the depth problem is noted for the triager"
    );
}

#[test]
fn a_hundred_thousand_header_lines_parse() {
    let mut raw = b"Message-ID: <hdr@example.net>\nSubject: many headers\n".to_vec();
    for i in 0..100_000 {
        raw.extend_from_slice(format!("X-Filler-{i}: value {i}\n").as_bytes());
    }
    raw.extend_from_slice(b"\nbody\n");
    let m = parse_message(&raw);
    assert_eq!(m.subject, "many headers");
    assert_eq!(m.message_id.as_deref(), Some("hdr@example.net"));
    assert_eq!(m.body_text.trim(), "body");
}

#[test]
fn attachment_names_with_dot_dot_cannot_escape_the_folder() {
    let desk = Desk::new();
    desk.import_bytes("trav.eml", &fixture("traversal-filename.eml"));
    let into = desk.dir.path().join("a/b/saved");
    let out = desk.run(&["save", "1", "--dir", into.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(into.join("bashrc")).unwrap(), b"echo owned");
    assert!(!desk.dir.path().join("a/.bashrc").exists());
    assert!(!desk.dir.path().join(".bashrc").exists());
    // Saving again never overwrites: a second copy gets a new name.
    let again = desk.run(&["save", "1", "--dir", into.to_str().unwrap()]);
    assert!(again.status.success());
    assert!(into.join("bashrc-1").exists());
}

/// A name of 120 three-byte characters (360 bytes, over the 255 a file system allows) once
/// stopped `save` with "File name too long" before the other attachments.
#[test]
fn save_keeps_every_attachment_whatever_its_name() {
    let desk = Desk::new();
    let long = format!("{}.txt", "日".repeat(120));
    let raw = format!(
        "From: r@x.example\nSubject: names\nMessage-ID: <names@x>\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n\
         --b\nContent-Type: text/plain\nContent-Disposition: attachment; filename*=UTF-8''{}\n\nlong\n\
         --b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"-rf\"\n\ndash\n\
         --b\nContent-Type: text/x-python\nContent-Disposition: attachment; filename=\"poc.py\"\n\nprint(1)\n--b--\n",
        long.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
    );
    desk.import_bytes("names.eml", raw.as_bytes());
    let into = desk.dir.path().join("saved");
    for _ in 0..2 {
        let out = desk.run(&["save", "1", "--dir", into.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&into)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(
        names.contains(&"poc.py".to_string()) && names.contains(&"poc-1.py".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"_rf".to_string()) && names.contains(&"_rf-1".to_string()),
        "{names:?}"
    );
    let long_saved: Vec<&String> = names.iter().filter(|n| n.starts_with('日')).collect();
    assert_eq!(long_saved.len(), 2, "{names:?}");
    assert!(long_saved
        .iter()
        .all(|n| n.ends_with(".txt") && n.len() <= 255));
    assert_eq!(std::fs::read(into.join("poc.py")).unwrap(), b"print(1)");
    // A report without attachments leaves no empty folder behind.
    desk.import_bytes(
        "plain.eml",
        b"From: p@x.example\nSubject: plain\nMessage-ID: <plain@x>\n\nno files\n",
    );
    let none = desk.dir.path().join("nothing");
    let out = desk.run(&["save", "2", "--dir", none.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!none.exists());
}

/// `list --csv` and `stats --format csv` are written by one function: both end every line
/// with CRLF (RFC 4180), so a spreadsheet or a script reads them alike.
#[test]
fn list_and_stats_csv_both_end_every_line_with_crlf() {
    let desk = Desk::new();
    desk.import_bytes("csv.eml", &fixture("formula-subject.eml"));
    for args in [&["list", "--csv"][..], &["stats", "--format", "csv"][..]] {
        let out = desk.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        assert!(csv.ends_with("\r\n"), "{args:?}: {csv:?}");
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
        assert!(lines.len() >= 2, "{args:?}: a header and rows: {csv:?}");
        for line in &lines {
            assert!(
                !line.contains(['\r', '\n']),
                "{args:?}: a bare line break inside {line:?}"
            );
        }
    }
    let list = desk.run(&["list", "--csv"]).stdout;
    assert!(list
        .starts_with(b"id,received_at,state,class,coordinator,overdue,messages,from,subject\r\n"));
}

#[test]
fn a_csv_export_never_hands_a_spreadsheet_a_formula() {
    let desk = Desk::new();
    desk.import_bytes("csv.eml", &fixture("formula-subject.eml"));
    let out = desk.run(&["list", "--csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let row = csv.lines().nth(1).expect("one report row");
    // Neither the sender nor the subject may start a cell with = + - @.
    for cell in split_csv_row(row) {
        assert!(
            !cell.starts_with(['=', '+', '-', '@']),
            "unguarded cell {cell:?} in {row}"
        );
    }
    assert!(
        row.contains("'=HYPERLINK"),
        "the subject is kept, as text: {row}"
    );
    assert!(row.contains("'=cmd|"), "the sender is kept, as text: {row}");
}

/// A spreadsheet skips white space and quotes before a formula and reads a full-width `＝`
/// or `＋` as `=` or `+`: those cells are guarded too.
#[test]
fn a_csv_formula_behind_a_quote_or_in_full_width_is_guarded() {
    use base64::Engine;
    let word = |s: &str| {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    };
    let desk = Desk::new();
    for (i, (from, subject)) in [
        ("\u{ff1d}cmd|' /C calc'!A0", "\u{ff0b}1+1"),
        // The quote behind which the formula hides is in the subject: in a display name
        // it makes the name shown quoted (`"\" @SUM…" <addr>`), which no spreadsheet reads
        // as a formula.
        ("\u{3000}\u{ff20}SUM(A1)", "\" @SUM(A1)"),
    ]
    .into_iter()
    .enumerate()
    {
        let raw = format!(
            "From: {} <x{i}@evil.example>\nTo: security@example.org\nSubject: {}\n\
             Message-ID: <csv{i}@evil.example>\n\nbody\n",
            word(from),
            word(subject)
        );
        desk.import_bytes(&format!("csv{i}.eml"), raw.as_bytes());
    }
    let out = desk.run(&["list", "--csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    for row in csv.split_terminator("\r\n").skip(1) {
        let cells = split_csv_row(row);
        for cell in &cells[cells.len() - 2..] {
            assert!(cell.starts_with('\''), "unguarded cell {cell:?} in {row}");
        }
    }
    assert!(
        csv.contains("'\u{ff1d}cmd|"),
        "the sender is kept, as text: {csv}"
    );
}

/// Splits one RFC 4180 row into unquoted cells.
fn split_csv_row(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

#[test]
fn a_reply_to_mail_with_encoded_line_breaks_cannot_inject_headers() {
    use secdesk::core::config::Config;
    use secdesk::core::reply::{compose, message};
    let desk = Desk::new();
    desk.import_bytes("inj.eml", &fixture("header-injection-reply.eml"));
    let config_path = desk.dir.path().join("config.toml");
    let config = Config::load(&config_path).unwrap();
    let store = desk.store();
    let draft = compose(&config, &store, 1, Some("acknowledge")).unwrap();
    let built = message::build(
        &draft,
        &message::new_message_id("example.org"),
        chrono::Utc::now(),
    )
    .unwrap();
    let raw = String::from_utf8_lossy(&built.raw);
    let headers = &raw[..raw.find("\r\n\r\n").expect("a header block")];
    let names: Vec<&str> = headers
        .split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert!(
        !names.iter().any(|n| n.eq_ignore_ascii_case("bcc")),
        "{headers}"
    );
    assert_eq!(
        built.recipients,
        vec!["r@example.net".to_string()],
        "no extra recipient"
    );
    assert!(draft.subject.starts_with("Re: bug"), "{:?}", draft.subject);
}

/// Issue 16: attached keys with hostile names and contents are shown inert, a secret key is
/// not marked as importable, and without `[pgp]` an import is one clear line.
#[test]
fn attached_keys_are_named_inertly_and_a_secret_one_is_not_offered() {
    let desk = Desk::new();
    desk.import_bytes("keys.eml", &fixture("pgp-key-attachments.eml"));
    let show = desk.run(&["show", "1"]);
    assert!(show.status.success());
    assert_terminal_safe(&show.stdout);
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("public key attached: `secdesk pgp import-key 1`"),
        "{shown}"
    );
    let json = desk.run(&["show", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("show --json");
    let marked: Vec<&str> = v["messages"][0]["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .filter(|a| a["public_key"] == true)
        .filter_map(|a| a["name"].as_str())
        .collect();
    // The typed key and the binary one; never the secret key or the unterminated block.
    assert_eq!(marked.len(), 2, "{marked:?}");
    assert!(marked.contains(&"binary.gpg"), "{marked:?}");
    let out = desk.run(&["pgp", "import-key", "1", "--yes"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no [pgp] section"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
