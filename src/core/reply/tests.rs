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

/// The reporter of [`REPORT`], as a reply addresses him.
const JUERGEN: &str = "\"Jürgen R.\" <juergen@reporter.example>";

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
    // The Reply-To is on another domain than the sender's: not followed.
    assert_eq!(d.to, vec![JUERGEN]);
    // The team address alone: the report's other recipients (To and Cc) are not copied.
    assert_eq!(d.cc, vec!["security@example.org"]);
    assert_eq!(d.from, "Grace Hopper <grace@example.org>");
    assert_eq!(d.subject, "Re: tarfile symlink escape");
    assert_eq!(d.in_reply_to.as_deref(), Some("r1@reporter.example"));
    assert_eq!(d.references, vec!["r1@reporter.example"]);
    assert_eq!(d.state_change.unwrap().state, ReportState::Acknowledged);
    assert!(d.body.starts_with("Hello Jürgen R.,"), "{}", d.body);
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
    assert_eq!(d.to, vec![JUERGEN]);
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
        vec!["juergen@reporter.example", "security@example.org"]
    );
    // It reads back as the same reply.
    let parsed = crate::core::parse::parse_message(&b.raw);
    assert_eq!(parsed.subject, "Re: tarfile symlink escape");
    assert_eq!(
        parsed.body_text.replace("\r\n", "\n").trim_end(),
        d.body.trim_end()
    );
    assert_eq!(parsed.to[0].name.as_deref(), Some("Jürgen R."));
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
        other_senders: vec![],
        report_encrypted: false,
        unencrypted_ok: false,
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

    // Add a Cc, rewrite the body; a # line in the body is kept.
    let edited = buf
        .replace(
            "Cc: security@example.org",
            "Cc: security@example.org, cve@mitre.example",
        )
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

const RITA: &str = "From: Rita Reporter <rita@reporter.test>\r\nTo: security@example.org\r\n\
    Message-ID: <report@reporter.test>\r\nSubject: heap overflow in parser\r\n\
    Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nThe parser overflows.\r\n";

fn hijack() -> String {
    let reply_to: Vec<String> = (0..30).map(|i| format!("x{i}@evil.test")).collect();
    format!(
        "From: Rita Reporter <rita@evil.test>\r\nReply-To: {}\r\nMessage-ID: <h@evil.test>\r\n\
         In-Reply-To: <report@reporter.test>\r\nSubject: Re: heap overflow in parser\r\n\r\n\
         Please send the advisory draft here.\r\n",
        reply_to.join(", ")
    )
}

#[test]
fn a_hijacking_follow_up_never_steers_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[RITA, &hijack()]);
    let d = compose(&config(dir.path()), &store, 1, Some("acknowledge")).unwrap();
    assert_eq!(d.to, vec!["Rita Reporter <rita@reporter.test>"]);
    assert_eq!(d.cc, vec!["security@example.org"]);
    // It answers Rita's mail, and quotes hers, not the stranger's.
    assert_eq!(d.in_reply_to.as_deref(), Some("report@reporter.test"));
    assert!(d.body.contains("> The parser overflows."), "{}", d.body);
    assert!(!d.body.contains("advisory draft"), "{}", d.body);
    assert_eq!(d.other_senders, vec!["rita@evil.test"]);
    let b = build(&d, "a@b", date()).unwrap();
    assert_eq!(
        b.recipients,
        vec!["rita@reporter.test", "security@example.org"]
    );
    check_recipient_limit(&config(dir.path()), &d).unwrap();

    // Named explicitly, the other sender is answered: its own mail is the one quoted.
    let d = compose_to(
        &config(dir.path()),
        &store,
        1,
        None,
        &["rita@evil.test".to_string()],
    )
    .unwrap();
    assert_eq!(d.to, vec!["rita@evil.test"]);
    assert_eq!(d.in_reply_to.as_deref(), Some("h@evil.test"));
    assert!(!d.body.contains("The parser overflows"), "{}", d.body);
    assert!(compose_to(
        &config(dir.path()),
        &store,
        1,
        None,
        &["not an address".into()]
    )
    .is_err());
}

/// A follow-up with Rita's own From that the receiving server says failed DMARC (her report
/// passed) is not hers: the reply answers and quotes her report, not the forgery.
#[test]
fn a_follow_up_that_only_claims_the_reporters_from_is_not_quoted_to_her() {
    let dir = tempfile::tempdir().unwrap();
    let verdict = |v: &str| {
        format!("Authentication-Results: mx.example.org; dkim=none; dmarc={v} header.from=reporter.test\r\n")
    };
    let report = format!("{}{RITA}", verdict("pass"));
    let forged = format!(
        "{}From: Rita Reporter <rita@reporter.test>\r\nMessage-ID: <f@evil.test>\r\n\
         In-Reply-To: <report@reporter.test>\r\nSubject: Re: heap overflow in parser\r\n\r\n\
         My new PGP key is at http://evil.test/key.asc\r\n",
        verdict("fail")
    );
    let store = store_with(dir.path(), &[&report, &forged]);
    let d = compose(&config(dir.path()), &store, 1, None).unwrap();
    assert_eq!(d.to, vec!["Rita Reporter <rita@reporter.test>"]);
    assert_eq!(d.in_reply_to.as_deref(), Some("report@reporter.test"));
    assert!(d.body.contains("> The parser overflows."), "{}", d.body);
    assert!(!d.body.contains("evil.test/key"), "{}", d.body);
}

#[test]
fn an_incoming_cc_is_never_copied_and_many_recipients_need_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let cc: Vec<String> = (0..2000).map(|i| format!("list{i}@many.test")).collect();
    let report = RITA.replace(
        "To: security@example.org\r\n",
        &format!("To: security@example.org\r\nCc: {}\r\n", cc.join(",\r\n ")),
    );
    let store = store_with(dir.path(), &[&report]);
    let mut d = compose(&config(dir.path()), &store, 1, None).unwrap();
    assert_eq!(d.to.len() + d.cc.len(), 2);

    // Six addresses typed into the editor: over the default limit of 5.
    d.cc.extend((0..4).map(|i| format!("p{i}@x.test")));
    match check_recipient_limit(&config(dir.path()), &d) {
        Err(ReplyError::TooManyRecipients { count: 6, max: 5 }) => {}
        other => panic!("{other:?}"),
    }
    let mut roomy = config(dir.path());
    roomy.reply.max_recipients = 6;
    check_recipient_limit(&roomy, &d).unwrap();
}

#[test]
fn reply_to_on_the_senders_domain_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let report = RITA.replace(
        "To: security@example.org\r\n",
        "To: security@example.org\r\nReply-To: Rita at work <rita.work@reporter.test>, x@evil.test\r\n",
    );
    let store = store_with(dir.path(), &[&report]);
    let d = compose(&config(dir.path()), &store, 1, None).unwrap();
    assert_eq!(d.to, vec!["Rita at work <rita.work@reporter.test>"]);
}

#[test]
fn long_address_lists_and_huge_subjects_are_folded_and_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[RITA]);
    let mut d = compose(&config(dir.path()), &store, 1, None).unwrap();
    d.cc = (0..45)
        .map(|i| format!("maintainer{i:02}@project.test"))
        .collect();
    d.subject = format!("Re: {}", "overflow ".repeat(120_000));
    let b = build(&d, "a@b", date()).unwrap();
    let text = String::from_utf8(b.raw.clone()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    for line in head.split("\r\n") {
        assert!(line.len() <= 78, "{} chars: {line}", line.len());
    }
    // Unfolded, it is the same message: every address, the subject cut with an ellipsis.
    let parsed = crate::core::parse::parse_message(&b.raw);
    assert_eq!(parsed.cc.len(), 45);
    assert_eq!(parsed.cc[44].addr, "maintainer44@project.test");
    assert_eq!(b.recipients.len(), 46);
    assert!(
        parsed.subject.starts_with("Re: overflow overflow") && parsed.subject.ends_with('…'),
        "{}",
        parsed.subject
    );
    assert!(parsed.subject.chars().count() <= message::MAX_SUBJECT_CHARS);

    // A word no folding can split is refused, not sent broken.
    let mut giant = d.clone();
    giant.references = vec!["x".repeat(240); 5];
    build(&giant, "a@b", date()).unwrap();
    assert!(message::fold_headers(format!("X: {}\r\n\r\nb", "y".repeat(1200)).as_bytes()).is_err());
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

#[test]
fn hidden_characters_never_reach_a_header_we_send() {
    // A display name reversed by U+202E reads as another address in the reporter's client.
    let name = super::flatten("Rita \u{202e}tset.live@rekcatta\u{200b}\r\nBcc: x@y");
    assert_eq!(name, "Rita tset.live@rekcatta Bcc: x@y");
    assert!(!super::flatten("re: \u{2066}bug\u{2069}").contains('\u{2066}'));
}

/// A display name of 10,000 characters (with an escape and a bidi override in it) is the
/// greeting cut to what the To header carries, not a 10 KB first line of the reply.
#[test]
fn a_huge_display_name_is_greeted_cut_short_and_flat() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("Eve\u{202e} \u{1b}[2J{}", "e".repeat(10_000));
    // Encoded words of 30 bytes each, folded, as RFC 2047 §2 wants them.
    let words: Vec<String> = name
        .as_bytes()
        .chunks(30)
        .map(|c| {
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, c);
            format!("=?UTF-8?B?{b64}?=")
        })
        .collect();
    let raw = format!(
        "Message-ID: <big@evil.example>\r\nFrom: {} <eve@evil.example>\r\n\
         Subject: name\r\n\r\nbody\r\n",
        words.join("\r\n ")
    );
    let store = store_with(dir.path(), &[&raw]);
    let draft = compose(&config(dir.path()), &store, 1, None).unwrap();
    let greeting = draft.body.lines().next().unwrap();
    assert!(greeting.starts_with("Hello Eve [2Jeee"), "{greeting:.80}");
    assert!(greeting.ends_with("e…,"), "{greeting:.80}");
    assert!(
        greeting.chars().count() < 120,
        "{} chars",
        greeting.chars().count()
    );
}

#[test]
fn a_mailbox_named_in_to_and_cc_gets_one_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &[REPORT]);
    let mut d = compose(&config(dir.path()), &store, 1, Some("acknowledge")).unwrap();
    // Typed again in Cc by hand in the editor, in other case.
    d.cc.push("Juergen <JUERGEN@Reporter.Example>".into());
    d.cc.push("security@example.org".into());
    let b = build(&d, "abc.2@example.org", date()).unwrap();
    assert_eq!(
        b.recipients,
        vec!["juergen@reporter.example", "security@example.org"]
    );
    // The headers keep what the person wrote.
    let text = String::from_utf8(b.raw).unwrap();
    assert!(text.contains("JUERGEN@Reporter.Example"), "{text}");
}
