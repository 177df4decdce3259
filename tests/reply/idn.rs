//! Reporters whose address is not ASCII: an internationalized domain (`bücher.example`,
//! RFC 5891) or local part (`jörg@`, RFC 6531), against aiosmtpd with SMTPUTF8 off (its
//! default) and on (`-u`).

use crate::desk::{addrs, body, header, stderr, stdout, Desk, REPORTER};
use crate::support::{Smtp, SmtpOptions};

/// A report from `from`, its header written in UTF-8 (RFC 6532).
fn report(from: &str) -> String {
    format!(
        "From: {from}\r\n\
         To: security@example.org\r\n\
         Subject: path traversal in unpack\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <idn-report-1@reporter.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         unpack() writes outside the target directory.\r\n"
    )
}

fn desk_with_smtp(from: &str, smtputf8: bool) -> (Desk, Smtp) {
    let desk = Desk::new(&report(from), 0);
    let smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            smtputf8,
            ..SmtpOptions::default()
        },
    );
    desk.configure(smtp.port, "");
    (desk, smtp)
}

const REPLY: &[&str] = &[
    "reply",
    "1",
    "--template",
    "acknowledge",
    "--no-edit",
    "--yes",
];

/// Without SMTPUTF8 the reply stayed queued for ever ("the server does not support
/// SMTPUTF8"), retried at every run. The domain has an ASCII form: it goes as that.
#[test]
fn an_idn_domain_goes_as_its_a_label_to_a_server_without_smtputf8() {
    let (desk, _smtp) = desk_with_smtp("Bob <bob@bücher.example>", false);
    let out = desk.run(REPLY, &[]);
    assert!(out.status.success(), "reply failed: {}", stderr(&out));
    assert!(
        stdout(&out).contains("reply to report #1 sent"),
        "{}",
        stdout(&out)
    );
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let raw = &inbox[0];
    let rcpt = header(raw, "X-RcptTo").expect("aiosmtpd adds X-RcptTo");
    assert!(rcpt.contains("bob@xn--bcher-kva.example"), "{rcpt}");
    // The header is ASCII too: the same domain, the form any server carries.
    assert_eq!(addrs(raw, "To"), ["Bob <bob@xn--bcher-kva.example>"]);
    assert!(
        raw.split(|&b| b == b'\n')
            .take_while(|l| l.len() > 1)
            .all(|l| l.is_ascii()),
        "a header line is not ASCII: {}",
        String::from_utf8_lossy(raw)
    );
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// A local part has no ASCII form: refused for good, said why, listed, never retried.
#[test]
fn a_non_ascii_local_part_without_smtputf8_is_refused_for_good_and_says_why() {
    let (desk, _smtp) = desk_with_smtp("Jörg <jörg@example.org>", false);
    let out = desk.run(REPLY, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the server does not accept non-ASCII addresses (no SMTPUTF8)")
            && err.contains("jörg@example.org")
            && err.contains("outbox --edit 1"),
        "{err}"
    );
    let rows = desk.outbox_json();
    assert_eq!(rows[0]["state"], "failed-permanent", "{rows}");
    let listed = stdout(&desk.run(&["outbox"], &[]));
    assert!(
        listed.contains("failed-permanent") && listed.contains("no SMTPUTF8"),
        "{listed}"
    );
    // Not tried again by a retry (nor by a sync), and nothing reached the server.
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.outbox_json()[0]["attempts"], 1, "retried");
    assert_eq!(desk.reporter_maildir_count(), 0);
}

/// With SMTPUTF8 offered, the address goes as it is written, local part and domain.
#[test]
fn with_smtputf8_a_non_ascii_address_goes_as_it_is() {
    let (desk, _smtp) = desk_with_smtp("Jörg <jörg@bücher.example>", true);
    let out = desk.run(REPLY, &[]);
    assert!(out.status.success(), "reply failed: {}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let rcpt = header(&inbox[0], "X-RcptTo").expect("aiosmtpd adds X-RcptTo");
    assert!(rcpt.contains("jörg@bücher.example"), "{rcpt}");
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// One address spelt two ways: case in the non-ASCII letters (which SQLite's `lower()`
/// does not fold) and the domain's A-label. A follow-up from either is the reporter's:
/// not "another sender", quoted as the reporter's latest, and the reply goes to one
/// reporter address.
#[test]
fn a_follow_up_from_another_spelling_of_the_reporters_address_is_the_reporters() {
    let desk = Desk::new(&report("Bob <bob@BÜCHER.example>"), 0);
    for (n, from) in [
        (2, "Bob <Bob@bücher.example>"),
        (3, "Bob <bob@xn--bcher-kva.example>"),
    ] {
        let follow_up = format!(
            "From: {from}\r\n\
             To: security@example.org\r\n\
             Subject: Re: path traversal in unpack\r\n\
             Date: Tue, 24 Nov 2026 11:0{n}:00 +0000\r\n\
             Message-ID: <idn-report-{n}@reporter.example>\r\n\
             In-Reply-To: <idn-report-1@reporter.example>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Proof of concept number {n} attached.\r\n"
        );
        desk.server
            .append("security", "INBOX", follow_up.as_bytes());
    }
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync failed: {}", stderr(&out));
    let show: serde_json::Value =
        serde_json::from_slice(&desk.run(&["show", "1", "--json"], &[]).stdout)
            .expect("show --json");
    let messages = show["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3, "{show}");
    for m in messages {
        assert_eq!(m["another_sender"], false, "{m}");
    }

    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let out = desk.run(REPLY, &[]);
    assert!(out.status.success(), "reply failed: {}", stderr(&out));
    assert!(!stderr(&out).contains("another sender"), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        addrs(&inbox[0], "To").len(),
        1,
        "{:?}",
        addrs(&inbox[0], "To")
    );
    let rcpt = header(&inbox[0], "X-RcptTo").expect("X-RcptTo");
    assert_eq!(rcpt.matches("xn--bcher-kva").count(), 1, "{rcpt}");
    // The reporter's latest mail is the one answered and quoted.
    let text = body(&inbox[0]);
    assert!(text.contains("> Proof of concept number 3"), "{text}");
}

/// What UTS #46 and Unicode lowercasing would fold into the reporter's address (fullwidth
/// letters, an ideographic full stop, a Kelvin sign for `k`) is another sender: such a
/// follow-up passes no DMARC check of the reporter's domain, so it must not pass as theirs.
#[test]
fn a_follow_up_from_a_look_alike_of_the_reporters_address_is_another_sender() {
    let desk = Desk::new(&report("Kim <kim@reporter.example>"), 0);
    let look_alikes = [
        "Kim <kim@ｒｅｐｏｒｔｅｒ.example>",
        "Kim <kim@reporter。example>",
        "Kim <\u{212A}im@reporter.example>",
    ];
    for (n, from) in (2..).zip(look_alikes) {
        let follow_up = format!(
            "From: {from}\r\n\
             To: security@example.org\r\n\
             Subject: Re: path traversal in unpack\r\n\
             Date: Tue, 24 Nov 2026 11:0{n}:00 +0000\r\n\
             Message-ID: <idn-report-{n}@reporter.example>\r\n\
             In-Reply-To: <idn-report-1@reporter.example>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Send the bounty to my new wallet instead.\r\n"
        );
        desk.server
            .append("security", "INBOX", follow_up.as_bytes());
    }
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync failed: {}", stderr(&out));
    let show: serde_json::Value =
        serde_json::from_slice(&desk.run(&["show", "1", "--json"], &[]).stdout)
            .expect("show --json");
    let messages = show["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1 + look_alikes.len(), "{show}");
    assert_eq!(messages[0]["another_sender"], false, "{show}");
    for m in &messages[1..] {
        assert_eq!(m["another_sender"], true, "{m}");
    }
}

/// lettre's address parser takes an address literal (`a@[127.0.0.1]`, RFC 5321 §4.1.3), its
/// header parser does not: `--to` passed, and the reply was refused only once built ("To
/// address … (Invalid input)"), exit 1. Now the `--to` is refused as typed, exit 2 (a
/// value the command does not take), saying why, and nothing is queued or sent.
#[test]
fn an_address_literal_in_to_is_refused_as_typed() {
    let (desk, _smtp) = desk_with_smtp("Reporter <reporter@example.net>", false);
    for to in ["a@[127.0.0.1]", "Ops <ops@[IPv6:::1]>"] {
        let out = desk.run(
            &[
                "reply",
                "1",
                "--template",
                "acknowledge",
                "--to",
                to,
                "--no-edit",
                "--yes",
            ],
            &[],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{to}: {err}");
        assert!(
            err.contains("is not a valid mail address (an address literal")
                && err.contains("name the address by its domain"),
            "{to}: {err}"
        );
        assert!(!err.contains("Invalid input"), "{err}");
    }
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
    assert_eq!(desk.reporter_maildir_count(), 0);
}
