//! Unit tests for composing, editing and building replies against a real (temporary) store.

use std::path::Path;

use chrono::TimeZone;

use super::buffer::{apply_buffer, to_buffer};
use super::message::build;
use super::*;
use crate::core::ingest::{Ingestor, RawIncoming};
use crate::core::model::ReportState;

const CONFIG: &str = r#"
[identity]
name = "Grace Hopper"
email = "grace@example.org"

[team]
address = "security@example.org"
members = [{ name = "Ada", email = "ada@example.org" }]

[reply]
signature = "-- \nThe Security Team"
"#;

const REPORT: &str = "Message-ID: <r1@reporter.example>\r\n\
From: =?UTF-8?Q?J=C3=BCrgen_R=2E?= <juergen@reporter.example>\r\n\
Reply-To: Jürgen private <jr@private.example>\r\n\
To: security@example.org, Other Maintainer <other@example.com>\r\n\
Cc: ada@example.org, cve@mitre.example\r\n\
Subject: RE: Re: tarfile symlink escape\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
\r\n\
extractall() follows a symlink.\r\n\
\r\n\
PoC attached.\r\n";

fn config(dir: &Path) -> Config {
    Config::parse(CONFIG, &dir.join("config.toml")).unwrap()
}

fn store_with(dir: &Path, msgs: &[&str]) -> Store {
    let mut store = Store::open(&dir.join("s.db")).unwrap();
    let batch = msgs.iter().map(|m| RawIncoming::file(*m)).collect();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    store
}

fn date() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap()
}

use chrono::{DateTime, Utc};

#[test]
fn compose_addresses_threads_and_fills_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[REPORT]);
    let d = compose(&config(dir.path()), &store, 1, Some("acknowledge")).unwrap();
    // Reply-To wins over From.
    assert_eq!(d.to, vec!["Jürgen private <jr@private.example>"]);
    // Team first; other recipients kept; the team's own members and the team address not
    // repeated.
    assert_eq!(
        d.cc,
        vec![
            "security@example.org",
            "Other Maintainer <other@example.com>",
            "cve@mitre.example"
        ]
    );
    assert_eq!(d.from, "Grace Hopper <grace@example.org>");
    assert_eq!(d.subject, "Re: tarfile symlink escape");
    assert_eq!(d.in_reply_to.as_deref(), Some("r1@reporter.example"));
    assert_eq!(d.references, vec!["r1@reporter.example"]);
    assert_eq!(d.state_change.unwrap().state, ReportState::Acknowledged);
    assert!(d.body.starts_with("Hello Jürgen private,"), "{}", d.body);
    assert!(d.body.contains("#1"), "{}", d.body);
    assert!(d.body.contains("\"tarfile symlink escape\""), "{}", d.body);
    assert!(
        d.body.contains("Grace Hopper\n-- \nThe Security Team"),
        "{}",
        d.body
    );
    assert!(d
        .body
        .contains("> extractall() follows a symlink.\n>\n> PoC attached."));
    assert!(d
        .body
        .contains("On Tue, 24 Nov 2026 10:00 UTC, Jürgen R. <juergen@reporter.example> wrote:"));
}

#[test]
fn reply_answers_the_reporters_latest_message() {
    let dir = tempfile::tempdir().unwrap();
    let follow = "Message-ID: <r2@reporter.example>\r\nFrom: juergen@reporter.example\r\n\
        In-Reply-To: <t1@example.org>\r\nReferences: <r1@reporter.example> <t1@example.org>\r\n\
        Subject: Re: tarfile\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nMore versions.\r\n";
    let ours = "Message-ID: <t1@example.org>\r\nFrom: ada@example.org\r\n\
        In-Reply-To: <r1@reporter.example>\r\nReferences: <r1@reporter.example>\r\n\
        Subject: Re: tarfile\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n\r\nThanks\r\n";
    let store = store_with(dir.path(), &[REPORT, ours, follow]);
    let d = compose(&config(dir.path()), &store, 1, None).unwrap();
    assert_eq!(d.to, vec!["juergen@reporter.example"]);
    assert_eq!(d.in_reply_to.as_deref(), Some("r2@reporter.example"));
    assert_eq!(
        d.references,
        vec![
            "r1@reporter.example",
            "t1@example.org",
            "r2@reporter.example"
        ]
    );
    assert!(d.template.is_none() && d.state_change.is_none());
    assert!(d.body.contains("> More versions."), "{}", d.body);
}

#[test]
fn unknown_report_and_unknown_template_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[REPORT]);
    let e = compose(&config(dir.path()), &store, 99, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("#99"), "{e}");
    let e = compose(&config(dir.path()), &store, 1, Some("ack"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("acknowledge"), "{e}");
}

#[test]
fn template_override_from_config_dir_with_unknown_placeholder_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[REPORT]);
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/acknowledge.txt"), "Hi {name}\n").unwrap();
    let e = compose(&config(dir.path()), &store, 1, Some("acknowledge"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("acknowledge") && e.contains("{name}"), "{e}");
}

#[test]
fn built_message_has_threading_headers_and_encodes_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[REPORT]);
    let d = compose(&config(dir.path()), &store, 1, Some("acknowledge")).unwrap();
    let b = build(&d, "abc.1@example.org", date()).unwrap();
    let text = String::from_utf8(b.raw.clone()).unwrap();
    assert!(
        text.contains("Message-ID: <abc.1@example.org>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("In-Reply-To: <r1@reporter.example>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("References: <r1@reporter.example>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Date: Wed, 25 Nov 2026 09:30:00 +0000\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Transfer-Encoding: quoted-printable"),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: text/plain; charset=utf-8"),
        "{text}"
    );
    assert_eq!(b.envelope_from, "grace@example.org");
    assert_eq!(
        b.recipients,
        vec![
            "jr@private.example",
            "security@example.org",
            "other@example.com",
            "cve@mitre.example"
        ]
    );
    // It reads back as the same reply.
    let parsed = crate::core::parse::parse_message(&b.raw);
    assert_eq!(parsed.subject, "Re: tarfile symlink escape");
    assert_eq!(
        parsed.body_text.replace("\r\n", "\n").trim_end(),
        d.body.trim_end()
    );
    assert_eq!(parsed.to[0].name.as_deref(), Some("Jürgen private"));
}

#[test]
fn ascii_body_stays_7bit() {
    let d = Draft {
        report_id: 1,
        template: None,
        state_change: None,
        from: "me@example.org".into(),
        to: vec!["you@example.net".into()],
        cc: vec![],
        subject: "Re: x".into(),
        in_reply_to: None,
        references: vec![],
        body: "plain ascii\n".into(),
    };
    let text = String::from_utf8(build(&d, "a@b", date()).unwrap().raw).unwrap();
    assert!(text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
    assert!(!text.contains("In-Reply-To"), "{text}");
}

#[test]
fn header_injection_is_refused_or_flattened() {
    let dir = tempfile::tempdir().unwrap();
    // An encoded CRLF in the subject decodes to a line break; the reply subject flattens it.
    let evil = "Message-ID: <e1@x.example>\r\nFrom: a@x.example\r\n\
        Subject: =?UTF-8?Q?hi=0D=0ABcc=3A_victim=40example=2Eorg?=\r\n\r\nbody\r\n";
    let store = store_with(dir.path(), &[evil]);
    let d = compose(&config(dir.path()), &store, 1, None).unwrap();
    assert_eq!(d.subject, "Re: hi Bcc: victim@example.org");
    let text = String::from_utf8(build(&d, "a@b", date()).unwrap().raw).unwrap();
    assert!(!text.contains("\r\nBcc:"), "{text}");

    // Values with line breaks set directly (a front end bypassing the editor) are refused.
    let mut bad = d.clone();
    bad.subject = "x\r\nBcc: victim@example.org".into();
    assert!(matches!(
        build(&bad, "a@b", date()),
        Err(ReplyError::HeaderInjection(_))
    ));
    let mut bad = d.clone();
    bad.to = vec!["a@x.example\r\nBcc: victim@example.org".into()];
    assert!(matches!(
        build(&bad, "a@b", date()),
        Err(ReplyError::HeaderInjection(_))
    ));
    let mut bad = d.clone();
    bad.in_reply_to = Some("x@y>\r\nBcc: <v@z".into());
    assert!(build(&bad, "a@b", date()).is_err());
}

#[test]
fn reply_to_with_line_break_never_reaches_headers() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "Message-ID: <e2@x.example>\r\nFrom: a@x.example\r\n\
        Reply-To: =?UTF-8?Q?Eve=0D=0ABcc=3A_v=40example=2Eorg?= <eve@x.example>\r\n\
        Subject: hi\r\n\r\nbody\r\n";
    let store = store_with(dir.path(), &[evil]);
    let d = compose(&config(dir.path()), &store, 1, None).unwrap();
    let b = build(&d, "a@b", date()).unwrap();
    let parsed = crate::core::parse::parse_message(&b.raw);
    assert!(parsed.header("Bcc").is_none());
    assert_eq!(b.recipients[0], "eve@x.example");
    assert_eq!(parsed.to.len(), 1);
}

#[test]
fn editor_buffer_round_trips_and_revalidates() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[REPORT]);
    let d = compose(&config(dir.path()), &store, 1, Some("acknowledge")).unwrap();
    let buf = to_buffer(&d);
    assert_eq!(apply_buffer(&d, &buf).unwrap(), d);

    // Drop a Cc, rewrite the body; a # line in the body is kept.
    let edited = buf
        .replace(", cve@mitre.example", "")
        .split("\n\nHello")
        .next()
        .unwrap()
        .to_string()
        + "\n\nNew body\n# not a comment\n";
    let e = apply_buffer(&d, &edited).unwrap();
    assert_eq!(e.cc.len(), 2);
    assert_eq!(e.body, "New body\n# not a comment\n");
    assert_eq!(e.in_reply_to, d.in_reply_to);

    // Quoted names with commas survive.
    let e = apply_buffer(&d, "To: \"Doe, Jane\" <j@x.example>, k@x.example\n\nhi\n").unwrap();
    assert_eq!(e.to, vec!["\"Doe, Jane\" <j@x.example>", "k@x.example"]);
    assert!(e.cc.is_empty());

    for bad in [
        "To: a@x.example\nBcc: v@example.org\n\nhi\n",
        "To: a@x.example\nTo: b@x.example\n\nhi\n",
        "To: a@x.example\nnot a header\n\nhi\n",
    ] {
        assert!(
            matches!(apply_buffer(&d, bad), Err(ReplyError::Buffer { .. })),
            "{bad}"
        );
    }
    assert!(matches!(
        apply_buffer(&d, "To: a@x.example\n\n  \n"),
        Err(ReplyError::EmptyBody)
    ));
    let no_to = apply_buffer(&d, "To:\nCc: a@x.example\n\nhi\n").unwrap();
    assert!(matches!(
        build(&no_to, "a@b", date()),
        Err(ReplyError::NoRecipients)
    ));
    let bad_addr = apply_buffer(&d, "To: not an address\n\nhi\n");
    let e = bad_addr
        .map_err(|e| e.to_string())
        .and_then(|d| build(&d, "a@b", date()).map_err(|e| e.to_string()))
        .unwrap_err();
    assert!(e.contains("not an address") || e.contains("To"), "{e}");
}

#[test]
fn quoted_mail_shows_hidden_characters_in_the_editor_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "Message-ID: <h1@reporter.example>\r\nFrom: rita@reporter.example\r\n\
        Subject: bug\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n\
        pay \u{202e}gnp.exe\u{202c} now\u{e0041}\u{e0042}\u{00ad}\r\n";
    let store = store_with(dir.path(), &[hostile]);
    let d = compose(&config(dir.path()), &store, 1, Some("acknowledge")).unwrap();
    let buffer = to_buffer(&d);
    assert!(
        buffer.contains("> pay <U+202E>gnp.exe<U+202C> now<U+E0041><U+E0042><U+00AD>"),
        "{buffer}"
    );
    assert!(
        crate::core::sanitize::is_terminal_safe(&buffer),
        "{buffer:?}"
    );
}
