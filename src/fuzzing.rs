//! Entry points shared by the `cargo fuzz` targets (`fuzz/`) and by the test that replays
//! saved crashers in CI (`tests/fuzz_regressions.rs`). Each one runs a hostile-input path
//! and checks the properties that must hold whatever the input.

use crate::core::parse::parse_message as parse;
use crate::core::sanitize::{is_terminal_safe, terminal_line, terminal_text};

/// Parses a message and sanitizes everything a view would show.
pub fn parse_message(data: &[u8]) {
    let m = parse(data);
    for text in [m.subject.as_str(), m.body_text.as_str()] {
        assert!(is_terminal_safe(&terminal_text(text)));
        assert!(is_terminal_safe(&terminal_line(text)));
    }
    if let Some(from) = &m.from {
        assert!(is_terminal_safe(&terminal_line(&from.display())));
    }
    for a in &m.attachments {
        if let Some(name) = &a.name {
            assert!(is_terminal_safe(&terminal_line(name)));
            let safe = crate::core::sanitize::safe_file_name(Some(name), "x");
            assert!(!safe.contains('/') && !safe.starts_with('.') && !safe.is_empty());
        }
    }
}

/// Splits an mbox and parses each message.
pub fn import_mbox(data: &[u8]) {
    for m in crate::mailio::import::split_mbox(data) {
        parse(&m);
    }
}

/// Parses and validates a config file.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::core::config::Config::parse(text, std::path::Path::new("fuzz.toml"));
    }
}

/// Parses a reply template and renders it with hostile values: a value that looks like a
/// placeholder is inserted literally, never expanded again.
pub fn template(data: &[u8]) {
    use crate::core::reply::template::{Placeholders, Template};
    const MARKER: &str = "\u{e000}my-name-value\u{e001}";
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Template::parse("fuzz", "fuzz", text) {
        let values = Placeholders {
            reporter_name: "{my_name}".into(),
            subject: "{quote}\r\nBcc: x@example.org".into(),
            my_name: MARKER.into(),
            quote: "> {subject}".into(),
            ..Placeholders::default()
        };
        let out = t.render(&values);
        if !t.uses("my_name") && !text.contains(MARKER) {
            assert!(
                !out.contains(MARKER),
                "a value was expanded as a placeholder"
            );
        }
    }
}

/// Parses a classifier rule file. A file that parses must also run: every compiled rule is
/// evaluated on a small message without panicking, and a file that fails names a line
/// inside the file.
pub fn rules(data: &[u8]) {
    use crate::core::classify::rules::RuleSet;
    use crate::core::classify::ClassifyError;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RuleSet::parse(text, "fuzz.toml") {
        Ok(set) => {
            let m = parse(
                b"From: a@example.org\r\nSubject: bug bounty xss\r\n\r\nsteps to reproduce\r\n",
            );
            let fired = set.evaluate(&m);
            assert!(fired.len() <= set.len());
        }
        Err(ClassifyError::RuleFile { line, .. }) => {
            assert!(line >= 1 && line <= text.lines().count().max(1) + 1);
        }
        Err(other) => panic!("a rule file parse failed without a line: {other}"),
    }
}

/// The PGP/MIME and inline-PGP side (issue 16): finding the OpenPGP part, opening a message
/// with no gpg (encrypted mail is only marked), and sealing a reply. Nothing panics, what a
/// view would show stays terminal-safe, and a signed part is never longer than the message.
pub fn pgp_mime(data: &[u8]) {
    use crate::core::pgp::{mime, open};
    let text = String::from_utf8_lossy(data);
    if let Some(found) = mime::find(data, &text) {
        if let mime::Kind::MimeSigned { signed, .. } = &found.kind {
            // CRLF canonicalisation at most doubles the bytes it is given.
            assert!(signed.len() <= 2 * data.len());
        }
    }
    let mut m = parse(data);
    if let Some(opened) = open(data, &mut m, None) {
        assert!(is_terminal_safe(&terminal_line(&opened.info.line())));
    }
    assert!(is_terminal_safe(&terminal_text(&m.body_text)));
    let (outer, inner) = mime::split_for_sealing(data);
    assert!(inner.ends_with(b"\r\n") || inner.windows(4).any(|w| w == b"\r\n\r\n"));
    let sealed = mime::sealed(
        &outer,
        b"-----BEGIN PGP MESSAGE-----\n\nx\n-----END PGP MESSAGE-----\n",
        "B",
    );
    let _ = mime::find(&sealed, "");
    // Attached keys (issue 16): bounded, never a secret block, names safe to show.
    let attachments = crate::core::parse::attachments_with_bodies(data);
    let found = crate::core::pgp::keys::find(&attachments);
    assert!(found.len() <= crate::core::pgp::keys::MAX_BLOCKS + attachments.len());
    for f in &found {
        match f {
            crate::core::pgp::keys::Found::Block { source, data } => {
                assert!(is_terminal_safe(source));
                assert!(data.len() <= crate::core::pgp::keys::MAX_KEY_BYTES + 1);
                assert!(!String::from_utf8_lossy(data).contains("PRIVATE KEY BLOCK-----"));
            }
            crate::core::pgp::keys::Found::Skipped { source, .. } => {
                assert!(is_terminal_safe(source))
            }
        }
    }
    for key in crate::core::pgp::keys::read_colons(&text) {
        assert!(key.uids.iter().all(|u| is_terminal_safe(u)));
    }
}
