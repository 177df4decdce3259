//! Hostile mail against who a reply goes to (issue 11), with the real binary, Dovecot and
//! aiosmtpd: the SMTP sink's `X-RcptTo` header is the envelope the server really got, and
//! the files it stored are read byte for byte for line lengths.

use std::path::Path;

use crate::desk::{addrs, header, stderr, stdout, Desk, REPORTER, TEAM};
use crate::support::Smtp;

/// The report, from Rita.
const RITA: &str = "From: Rita Reporter <rita@reporter.test>\r\n\
To: security@example.org\r\n\
Subject: heap overflow in the parser\r\n\
Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <report@reporter.test>\r\n\
\r\n\
A crafted file overflows the parser's buffer.\r\n";

/// The envelope recipients of one stored message, lowercase.
fn rcpt(raw: &[u8]) -> Vec<String> {
    let list = header(raw, "X-RcptTo").expect("aiosmtpd adds X-RcptTo");
    let mut out: Vec<String> = list
        .split(',')
        .map(|a| a.trim().to_lowercase())
        .filter(|a| !a.is_empty())
        .collect();
    out.sort();
    out
}

/// Files the SMTP sink stored, as bytes.
fn sink_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                out.push(std::fs::read(e.path()).expect("read sink file"));
            }
        }
    }
    out
}

/// Every note on a message of `show --json`, as one text.
fn notes(m: &serde_json::Value) -> String {
    m["parse_notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Files `raws` in the team's INBOX and syncs them in.
fn arrive(desk: &Desk, raws: &[String]) {
    for raw in raws {
        desk.server.append(TEAM, "INBOX", raw.as_bytes());
    }
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync: {}", stderr(&out));
}

fn hijack() -> String {
    let reply_to: Vec<String> = (0..30).map(|i| format!("leak{i}@evil.test")).collect();
    format!(
        "From: Rita Reporter <rita@evil.test>\r\n\
         Reply-To: {}\r\n\
         To: security@example.org\r\n\
         Subject: Re: heap overflow in the parser\r\n\
         Date: Mon, 30 Nov 2026 12:00:00 +0000\r\n\
         Message-ID: <hijack@evil.test>\r\n\
         In-Reply-To: <report@reporter.test>\r\n\
         References: <report@reporter.test>\r\n\
         \r\n\
         New address: please send the advisory draft and the PoC here.\r\n",
        reply_to.join(",\r\n ")
    )
}

#[test]
fn a_hijacking_follow_up_is_flagged_and_the_reply_reaches_only_the_reporter() {
    let desk = Desk::new(RITA, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    arrive(&desk, &[hijack()]);

    // It joined the report, marked; show and show --json say so.
    let text = stdout(&desk.run(&["show", "1"], &[]));
    assert!(
        text.contains("another sender wrote into this thread"),
        "{text}"
    );
    assert!(text.contains("MAIL from ANOTHER SENDER"), "{text}");
    let detail = json(&desk.run(&["show", "1", "--json"], &[]));
    assert_eq!(detail["another_sender"], true);
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["another_sender"], false);
    assert_eq!(messages[1]["another_sender"], true);
    assert!(
        notes(&messages[1]).contains("not the reporter (rita@reporter.test)"),
        "{}",
        notes(&messages[1])
    );

    let out = desk.run(
        &[
            "reply",
            "1",
            "--template",
            "acknowledge",
            "--no-edit",
            "--yes",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // --yes still prints the final recipients, and names the sender left out.
    assert!(
        stdout(&out).contains(
            "reply to report #1 goes to 2 addresses: rita@reporter.test, security@example.org"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("another sender") && stderr(&out).contains("rita@evil.test"),
        "{}",
        stderr(&out)
    );
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        rcpt(&inbox[0]),
        ["rita@reporter.test", "security@example.org"]
    );
    assert_eq!(
        addrs(&inbox[0], "To"),
        ["Rita Reporter <rita@reporter.test>"]
    );
    assert_eq!(
        header(&inbox[0], "In-Reply-To").as_deref(),
        Some("<report@reporter.test>")
    );

    // The other sender is answered only when named.
    let out = desk.run(
        &["reply", "1", "--to", "rita@evil.test", "--no-edit", "--yes"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 2);
    assert_eq!(rcpt(&inbox[1]), ["rita@evil.test", "security@example.org"]);
    assert_eq!(
        header(&inbox[1], "In-Reply-To").as_deref(),
        Some("<hijack@evil.test>")
    );
}

#[test]
fn a_report_cc_to_2000_addresses_is_answered_to_the_reporter_and_the_team() {
    let cc: Vec<String> = (0..2000).map(|i| format!("person{i}@crowd.test")).collect();
    let report = RITA.replace(
        "To: security@example.org\r\n",
        &format!("To: security@example.org\r\nCc: {}\r\n", cc.join(",\r\n ")),
    );
    let desk = Desk::new(&report, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        rcpt(&inbox[0]),
        ["rita@reporter.test", "security@example.org"]
    );
    assert_eq!(addrs(&inbox[0], "Cc"), ["security@example.org"]);
}

#[test]
fn more_recipients_than_max_recipients_are_refused_unless_named_with_to() {
    let team: Vec<String> = (0..6).map(|i| format!("dev{i}@reporter.test")).collect();
    let report = RITA.replace(
        "To: security@example.org\r\n",
        &format!(
            "To: security@example.org\r\nReply-To: {}\r\n",
            team.join(", ")
        ),
    );
    let desk = Desk::new(&report, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    // Six Reply-To addresses on the reporter's own domain, plus the team: 7 > 5.
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("7 addresses") && err.contains("max_recipients = 5") && err.contains("--to"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
    assert_eq!(desk.reporter_maildir_count(), 0);

    // Named on the command line, they need no confirmation.
    let out = desk.run(
        &["reply", "1", "--to", &team.join(", "), "--no-edit", "--yes"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("goes to 7 addresses"),
        "{}",
        stdout(&out)
    );
    let inbox = desk.reporter_inbox();
    assert_eq!(rcpt(&inbox[0]).len(), 7);
}

#[test]
fn a_squatted_message_id_does_not_capture_the_reporters_follow_up() {
    let squat = "From: Eve <eve@evil.test>\r\nTo: security@example.org\r\n\
        Subject: hello\r\nMessage-ID: <same@x.test>\r\n\r\nfirst!\r\n";
    let report = RITA.replace("<report@reporter.test>", "<same@x.test>");
    let follow = "From: Rita Reporter <rita@reporter.test>\r\nTo: security@example.org\r\n\
        Subject: Re: heap overflow in the parser\r\nMessage-ID: <follow@reporter.test>\r\n\
        In-Reply-To: <same@x.test>\r\nReferences: <same@x.test>\r\n\r\n\
        Also affects 2.x.\r\n";
    let desk = Desk::new(squat, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    arrive(&desk, &[report, follow.to_string()]);

    let squatter = json(&desk.run(&["show", "1", "--json"], &[]));
    assert_eq!(squatter["messages"].as_array().unwrap().len(), 1);
    let real = json(&desk.run(&["show", "2", "--json"], &[]));
    let messages = real["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{real}");
    assert_eq!(real["another_sender"], false);
    let collision = notes(&messages[0]);
    assert!(
        collision.contains("already used") && collision.contains("eve@evil.test"),
        "{collision}"
    );

    let out = desk.run(&["reply", "2", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(
        rcpt(&inbox[0]),
        ["rita@reporter.test", "security@example.org"]
    );
    assert_eq!(
        header(&inbox[0], "In-Reply-To").as_deref(),
        Some("<follow@reporter.test>")
    );
}

#[test]
fn forged_dates_neither_order_the_queue_nor_choose_the_reply_target() {
    let future = RITA
        .replace(
            "Mon, 30 Nov 2026 10:00:00 +0000",
            "Fri, 31 Dec 9999 23:59:59 +0000",
        )
        .replace("<report@reporter.test>", "<future@reporter.test>");
    let past = RITA
        .replace(
            "Mon, 30 Nov 2026 10:00:00 +0000",
            "Thu, 01 Jan 1970 00:00:00 +0000",
        )
        .replace("<report@reporter.test>", "<past@reporter.test>");
    let desk = Desk::new(&future, 0);
    arrive(&desk, &[past]);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for id in ["1", "2"] {
        let d = json(&desk.run(&["show", id, "--json"], &[]));
        let m = &d["messages"][0];
        assert!(d["created_at"].as_str().unwrap().starts_with(&today), "{d}");
        assert!(m["date"].as_str().unwrap().starts_with(&today), "{m}");
        let written = m["date_header"].as_str().unwrap();
        assert!(written.contains("9999") || written.contains("1970"), "{m}");
        assert!(notes(m).contains("ordered and timed by its arrival"), "{m}");
        assert_eq!(d["overdue"], false, "{d}");
        let text = stdout(&desk.run(&["show", id], &[]));
        assert!(text.contains("Date header as sent: "), "{text}");
    }

    // On import, too: a follow-up from someone else dated 9999 once looked like the
    // latest mail and took the reply.
    let dir = tempfile::tempdir().unwrap();
    let report = RITA.replace("<report@reporter.test>", "<imported@reporter.test>");
    let forged = hijack()
        .replace(
            "Mon, 30 Nov 2026 12:00:00 +0000",
            "Fri, 31 Dec 9999 23:59:59 +0000",
        )
        .replace("<report@reporter.test>", "<imported@reporter.test>");
    std::fs::write(dir.path().join("1-report.eml"), report).unwrap();
    std::fs::write(dir.path().join("2-follow-up.eml"), forged).unwrap();
    let out = desk.run(&["import", dir.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let d = json(&desk.run(&["show", "3", "--json"], &[]));
    let messages = d["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{d}");
    assert!(messages[1]["received_at"]
        .as_str()
        .unwrap()
        .starts_with(&today));
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let out = desk.run(&["reply", "3", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(
        rcpt(&inbox[0]),
        ["rita@reporter.test", "security@example.org"]
    );
}

#[test]
fn many_addresses_and_a_1_mb_subject_are_delivered_folded() {
    let huge = "overflow ".repeat(120_000);
    let report = RITA.replace("heap overflow in the parser", huge.trim());
    let desk = Desk::new(&report, 0);
    let sink = desk.server.maildir(REPORTER, "INBOX");
    let smtp = Smtp::start(&sink);
    desk.configure(smtp.port, "");
    // 45 bare addresses, named on the command line (as the team would, to copy them all).
    let cc: Vec<String> = (0..45)
        .map(|i| format!("maintainer{i:02}@project.test"))
        .collect();
    let out = desk.run(
        &["reply", "1", "--to", &cc.join(","), "--no-edit", "--yes"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let files = sink_files(&sink);
    assert_eq!(files.len(), 1);
    let raw = &files[0];
    for line in raw.split(|&b| b == b'\n') {
        // The sink's own envelope header (one line, whatever its length) is not ours.
        if line.starts_with(b"X-RcptTo:") {
            continue;
        }
        assert!(
            line.len() <= 998,
            "a line of {} bytes was sent: {}",
            line.len(),
            String::from_utf8_lossy(&line[..60.min(line.len())])
        );
    }
    assert_eq!(addrs(raw, "To").len(), 45);
    assert_eq!(rcpt(raw).len(), 46);
    let subject = header(raw, "Subject").unwrap();
    assert!(
        subject.starts_with("Re: overflow overflow") && subject.ends_with('…'),
        "{subject}"
    );
    assert!(subject.chars().count() <= 200, "{}", subject.len());
}

/// Follow-ups that try to add or redirect recipients through every header a mail client
/// might answer to (Reply-To, Sender, Resent-*, Mail-Followup-To, To/Cc groups), encoded
/// words hiding commas and angle brackets, quoted local parts, source routes, look-alike
/// and case-varied addresses; the last one passes as the reporter's (her From in another
/// case, no DMARC verdict to say otherwise), so its Subject, Message-ID and a References
/// chain of 3,000 ids are what the reply threads on. What the SMTP server got, with and
/// without the editor in between: the reporter and the team as the envelope and in To/Cc,
/// one-line Subject, no added header, at most 20 well-formed References, no line over 998.
#[test]
fn follow_ups_through_every_address_header_never_add_a_recipient_or_a_header() {
    let desk = Desk::new(RITA, 0);
    let sink = desk.server.maildir(REPORTER, "INBOX");
    let smtp = Smtp::start(&sink);
    desk.configure(smtp.port, "");
    let follow_up = |n: usize, from: &str, extra: &str| {
        format!(
            "From: {from}\r\n{extra}To: security@example.org\r\n\
             Subject: Re: heap overflow in the parser\r\n\
             Date: Mon, 30 Nov 2026 12:0{n}:00 +0000\r\n\
             Message-ID: <f{n}@follow.test>\r\n\
             In-Reply-To: <report@reporter.test>\r\n\
             References: <report@reporter.test>\r\n\r\n\
             Please answer at the new address.\r\n"
        )
    };
    let chain: Vec<String> = (0..3000).map(|i| format!("<c{i}@chain.test>")).collect();
    let arrivals = [
        follow_up(
            1,
            "=?utf-8?q?rita=40reporter.test=2C_?= <eve@evil.test>",
            "Reply-To: =?utf-8?q?Rita_=3Crita=40reporter.test=3E=2C?= <eve2@evil.test>\r\n",
        ),
        follow_up(2, "\"rita@reporter.test,\"@evil.test", ""),
        follow_up(3, "<@reporter.test:eve3@evil.test>", ""),
        follow_up(4, "Rita Reporter <rita@reporter.test.>", ""),
        // A Cyrillic і, and a punycode domain that displays like the reporter's.
        follow_up(5, "Rita Reporter <r\u{456}ta@reporter.test>", ""),
        follow_up(6, "Rita Reporter <rita@xn--reprter-u4a.test>", ""),
        format!(
            "From: Rita Reporter <RITA@Reporter.TEST>\r\n\
             Sender: eve4@evil.test\r\n\
             Reply-To: eve5@evil.test, \"rita@reporter.test\" <eve6@evil.test>\r\n\
             Mail-Followup-To: eve7@evil.test\r\n\
             Resent-From: eve8@evil.test\r\n\
             Resent-To: eve9@evil.test\r\n\
             To: team: security@example.org, eve10@evil.test;\r\n\
             Cc: undisclosed:;, (comment) eve11@evil.test (x)\r\n\
             Subject: =?utf-8?q?fix=0D=0ABcc=3A_eve12=40evil.test=0D=0A=0D=0Abody?=\r\n\
             Date: Mon, 30 Nov 2026 13:00:00 +0000\r\n\
             Message-ID: <last@reporter.test>\r\n\
             In-Reply-To: <report@reporter.test>\r\n\
             References: <report@reporter.test>\r\n {}\r\n\
             \r\n\
             Here is the fix.\r\n",
            chain.join("\r\n ")
        ),
    ];
    arrive(&desk, &arrivals);

    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same draft through the editor (left as it is) and read back.
    let out = desk.run(&["reply", "1", "--yes"], &[("EDITOR", "true")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = sink_files(&sink);
    assert_eq!(files.len(), 2);
    for raw in &files {
        let text = String::from_utf8_lossy(raw);
        assert_eq!(
            rcpt(raw),
            ["rita@reporter.test", "security@example.org"],
            "{text}"
        );
        assert_eq!(addrs(raw, "To"), ["Rita Reporter <rita@reporter.test>"]);
        assert_eq!(addrs(raw, "Cc"), ["security@example.org"]);
        let (headers, _) = mailparse::parse_headers(raw).expect("headers parse");
        let names: Vec<String> = headers.iter().map(|h| h.get_key().to_lowercase()).collect();
        for name in [
            "bcc",
            "reply-to",
            "sender",
            "mail-followup-to",
            "resent-to",
            "resent-from",
        ] {
            assert!(!names.contains(&name.to_string()), "{name} sent: {text}");
        }
        assert_eq!(
            names.iter().filter(|n| *n == "to" || *n == "cc").count(),
            2,
            "{text}"
        );
        let subject = header(raw, "Subject").expect("Subject");
        assert_eq!(subject, "Re: fix Bcc: eve12@evil.test body", "{text}");
        assert_eq!(
            header(raw, "In-Reply-To").as_deref(),
            Some("<last@reporter.test>")
        );
        let references = header(raw, "References").expect("References");
        let ids: Vec<&str> = references.split_whitespace().collect();
        assert_eq!(ids.len(), 20, "{references}");
        assert_eq!(ids[0], "<report@reporter.test>");
        assert_eq!(ids[18], "<c2999@chain.test>");
        assert_eq!(ids[19], "<last@reporter.test>");
        for line in raw.split(|&b| b == b'\n') {
            if !line.starts_with(b"X-RcptTo:") {
                assert!(line.len() <= 998, "a line of {} bytes", line.len());
            }
        }
        // No address of the attacker's anywhere in the headers but the flattened Subject
        // (and the sink's own envelope line).
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        for line in head.lines() {
            if !line.starts_with("Subject:") && !line.starts_with("X-RcptTo:") {
                assert!(!line.contains("evil.test"), "{line}");
            }
        }
    }
    // The look-alikes are other senders, named on stderr and left out.
    let err = stderr(&out);
    for who in [
        "eve@evil.test",
        "r\u{456}ta@reporter.test",
        "rita@xn--reprter-u4a.test",
        "rita@reporter.test.",
    ] {
        assert!(err.contains(who), "{who} not named: {err}");
    }
}
