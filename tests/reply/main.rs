//! `secdesk reply` and `secdesk outbox` end to end, with the real binary, a real Dovecot
//! and a real SMTP server (aiosmtpd). The SMTP server delivers into a maildir that Dovecot
//! serves as the reporter's INBOX, so each test reads what the reporter would read.

#[path = "../support/mod.rs"]
mod support;

mod desk;
mod faults;
mod full_disk;
mod hostile;
mod idn;
mod interactive;
#[path = "../pgp/keys.rs"]
mod keys;
mod pgp;
mod pgp_keys;
mod pgp_keys_refused;
mod retry_status;
mod uncertain;

use std::time::Duration;

use mailparse::MailHeaderMap;

use desk::{addrs, body, header, stderr, stdout, Desk, REPORTER, TEAM};
use support::{free_port, Smtp, SmtpOptions};

/// The report, as the reporter sent it: a follow-up in an older thread, with a Cc.
const REPORT: &str = "From: Reporter <reporter@example.net>\r\n\
To: security@example.org\r\n\
Cc: Other Maintainer <other@example.com>\r\n\
Subject: Re: RE: tarfile escape\r\n\
Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <report-1@reporter.example>\r\n\
In-Reply-To: <root-0@reporter.example>\r\n\
References: <root-0@reporter.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
extractall() follows a symlink out of the target directory.\r\n";

#[test]
fn reply_reaches_the_reporter_threaded_and_is_filed() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");

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
    assert!(out.status.success(), "reply failed: {}", stderr(&out));
    assert!(
        stdout(&out).contains("reply to report #1 sent"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("now acknowledged"),
        "{}",
        stdout(&out)
    );

    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let raw = &inbox[0];
    assert_eq!(addrs(raw, "To"), ["Reporter <reporter@example.net>"]);
    // The team address only: the report's own Cc is never copied (issue 11).
    assert_eq!(addrs(raw, "Cc"), ["security@example.org"]);
    assert_eq!(addrs(raw, "From"), ["Grace Hopper <grace@example.org>"]);
    // Re: exactly once, though the original had `Re: RE:`.
    assert_eq!(
        header(raw, "Subject").as_deref(),
        Some("Re: tarfile escape")
    );
    assert_eq!(
        header(raw, "In-Reply-To").as_deref(),
        Some("<report-1@reporter.example>")
    );
    assert_eq!(
        header(raw, "References").as_deref(),
        Some("<root-0@reporter.example> <report-1@reporter.example>")
    );
    let message_id = header(raw, "Message-ID").expect("Message-ID");
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@example.org>"),
        "{message_id}"
    );
    let date = header(raw, "Date").expect("Date");
    assert!(mailparse::dateparse(&date).is_ok(), "{date}");
    assert!(header(raw, "Content-Type")
        .unwrap()
        .starts_with("text/plain; charset=utf-8"));
    // Every recipient got it: the envelope the server saw.
    let rcpt = header(raw, "X-RcptTo").expect("aiosmtpd adds X-RcptTo");
    for addr in ["reporter@example.net", "security@example.org"] {
        assert!(rcpt.contains(addr), "{rcpt}");
    }
    assert!(!rcpt.contains("other@example.com"), "{rcpt}");
    let text = body(raw);
    assert!(text.starts_with("Hello Reporter,"), "{text}");
    assert!(text.contains("tracked as report #1"), "{text}");
    assert!(
        text.contains("Grace Hopper\r\n-- \r\nThe Security Team"),
        "{text:?}"
    );
    assert!(
        text.contains("> extractall() follows a symlink out of the target directory."),
        "{text}"
    );

    // The Sent copy, marked seen, with the same Message-ID.
    let sent = desk.mailbox(TEAM, "Sent");
    assert_eq!(sent.len(), 1);
    assert_eq!(header(&sent[0], "Message-ID"), Some(message_id.clone()));
    let flags = desk.server.flags(TEAM, "Sent");
    assert!(flags[0].1.iter().any(|f| f.contains("Seen")), "{flags:?}");

    // In the thread, as the first response, and the template's state applied.
    let id = message_id.trim_matches(['<', '>']);
    assert_eq!(
        desk.query(&format!(
            "SELECT count(*) FROM messages WHERE report_id = 1 AND direction = 'out'
             AND message_id = '{id}'"
        )),
        1
    );
    assert_eq!(
        desk.query("SELECT count(*) FROM events WHERE report_id = 1 AND kind = 'reply'"),
        1
    );
    assert_eq!(
        desk.query("SELECT count(*) FROM reports WHERE id = 1 AND state = 'acknowledged'"),
        1
    );
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

#[test]
fn smtp_down_then_retry_delivers_exactly_once() {
    let port = free_port();
    let desk = Desk::new(REPORT, port);

    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("queued") && err.contains("outbox --retry"),
        "{err}"
    );
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");

    let rows = desk.outbox_json();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["state"], "queued");
    assert_eq!(rows[0]["attempts"], 1);
    assert!(rows[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1"));
    // Nothing counts as a response yet.
    assert_eq!(
        desk.query("SELECT count(*) FROM events WHERE kind = 'reply'"),
        0
    );
    let table = stdout(&desk.run(&["outbox"], &[]));
    assert!(
        table.contains("report #1") && table.contains("retry from"),
        "{table}"
    );

    let _smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("sent"), "{}", stdout(&out));
    assert_eq!(desk.reporter_maildir_count(), 1);

    // Retrying again (and again) sends nothing more.
    for _ in 0..2 {
        let out = desk.run(&["outbox", "--retry"], &[]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(desk.reporter_maildir_count(), 1);
    assert_eq!(desk.mailbox(TEAM, "Sent").len(), 1);
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
    assert_eq!(
        desk.query("SELECT count(*) FROM events WHERE kind = 'reply'"),
        1
    );
}

#[test]
fn crash_after_the_server_accepted_never_sends_twice() {
    let port = free_port();
    let desk = Desk::new(REPORT, port);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));

    // The team's copy lands in the team mailbox, as the Cc to security@ does in real life.
    let _smtp = Smtp::start_with(
        &desk.server.maildir(TEAM, "INBOX"),
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    // An attempt reaches the server, then the process dies before recording it.
    let (raw, from, rcpt): (Vec<u8>, String, String) = desk
        .db()
        .query_row(
            "SELECT raw, envelope_from, recipients FROM outbox WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let rcpt: Vec<String> = serde_json::from_str(&rcpt).unwrap();
    let cfg = secdesk::core::config::SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: secdesk::core::config::Security::Plain,
        username: None,
        password: None,
        password_command: None,
        password_env: None,
        password_command_timeout_seconds: None,
        auth: Default::default(),
        oauth2_token_command: None,
        oauth2_token_timeout_seconds: None,
        ca_file: None,
    };
    secdesk::mailio::smtp::SmtpSender::new(&cfg, None, Duration::from_secs(10))
        .unwrap()
        .send(&from, &rcpt, &raw)
        .unwrap();
    desk.db()
        .execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1,
             last_attempt_at = '2026-01-01T00:00:00Z' WHERE id = 1",
            [],
        )
        .unwrap();
    let team_inbox_before = desk.mailbox(TEAM, "INBOX").len();

    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already on the server (not sent again)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(desk.mailbox(TEAM, "INBOX").len(), team_inbox_before);
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
    assert_eq!(
        desk.query("SELECT count(*) FROM messages WHERE direction = 'out'"),
        1
    );
    assert_eq!(desk.mailbox(TEAM, "Sent").len(), 1);

    // Syncing the team's copy does not add it to the thread a second time, nor as the
    // reporter's message.
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.query("SELECT count(*) FROM messages"), 2);
}

#[test]
fn an_unsent_crashed_attempt_is_sent_once() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    // Queued with SMTP pointing nowhere, then "crashed" in sending before any byte left.
    desk.configure(free_port(), "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    desk.db()
        .execute(
            "UPDATE outbox SET state = 'sending', last_attempt_at = '2026-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    desk.configure(smtp.port, "");
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("reply to report #1 sent"),
        "{}",
        stdout(&out)
    );
    assert_eq!(desk.reporter_maildir_count(), 1);
}

#[test]
fn permanent_refusal_is_kept_for_editing_and_not_retried() {
    let desk = Desk::new(REPORT, 0);
    let maildir = desk.server.maildir(REPORTER, "INBOX");
    let tiny = Smtp::start_with(
        &maildir,
        SmtpOptions {
            max_size: Some(300),
            ..SmtpOptions::default()
        },
    );
    desk.configure(tiny.port, "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("refused") && err.contains("552"), "{err}");
    assert!(err.contains("outbox --edit 1"), "{err}");

    let rows = desk.outbox_json();
    assert_eq!(rows[0]["state"], "failed-permanent");
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.outbox_json()[0]["attempts"], 1, "retried a 5xx");
    assert_eq!(desk.reporter_maildir_count(), 0);

    // The user edits it and sends it through a server that takes it.
    drop(tiny);
    let smtp = Smtp::start(&maildir);
    desk.configure(smtp.port, "");
    let out = desk.run(
        &["outbox", "--edit", "1", "--yes"],
        &[("EDITOR", "sed -i -e s/^Hello/Howdy/")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    assert!(body(&inbox[0]).starts_with("Howdy Reporter,"));
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

#[test]
fn header_injection_from_mail_and_editor_never_adds_headers() {
    let evil =
        "From: =?UTF-8?Q?Eve=0D=0ABcc=3A_victim=40evil=2Eexample?= <eve@reporter.example>\r\n\
        To: security@example.org\r\n\
        Reply-To: =?UTF-8?Q?Eve=0D=0ABcc=3A_v2=40evil=2Eexample?= <eve@reporter.example>\r\n\
        Subject: =?UTF-8?Q?hi=0D=0ABcc=3A_v3=40evil=2Eexample?=\r\n\
        Message-ID: <evil-1@reporter.example>\r\n\r\nhello\r\n";
    let desk = Desk::new(evil, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");

    // A header line added in the editor is refused, and nothing is sent.
    let out = desk.run(
        &["reply", "1", "--yes"],
        &[("EDITOR", "sed -i -e 1iBcc:victim@evil.example")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("only To, Cc and Subject"),
        "{}",
        stderr(&out)
    );
    assert_eq!(desk.reporter_maildir_count(), 0);

    // A bare CR typed into the Subject line is folded into the subject.
    let out = desk.run(
        &["reply", "1", "--yes"],
        &[(
            "EDITOR",
            r"sed -i -e s/^Subject:.*/Subject:\x20x\rBcc:\x20v4@evil.example/",
        )],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1);
    let raw = &inbox[0];
    let (headers, _) = mailparse::parse_headers(raw).unwrap();
    assert!(headers.get_first_value("Bcc").is_none());
    assert_eq!(
        headers.get_first_value("Subject").as_deref(),
        Some("x Bcc: v4@evil.example")
    );
    let rcpt = header(raw, "X-RcptTo").unwrap();
    assert!(!rcpt.contains("evil.example"), "{rcpt}");

    // Mail-borne line breaks (subject and Reply-To name) are flattened, never sent raw.
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    let raw = &inbox[1];
    let (headers, _) = mailparse::parse_headers(raw).unwrap();
    assert!(headers.get_first_value("Bcc").is_none());
    assert_eq!(
        headers.get_first_value("Subject").as_deref(),
        Some("Re: hi Bcc: v3@evil.example")
    );
    let to = headers.get_first_value("To").unwrap();
    assert!(
        to.contains("<eve@reporter.example>") && !to.contains('\n'),
        "{to}"
    );
    let rcpt = header(raw, "X-RcptTo").unwrap();
    assert!(!rcpt.contains("evil.example"), "{rcpt}");
}

#[test]
fn template_from_the_config_dir_overrides_the_shipped_one() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let templates = desk.dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("acknowledge.txt"),
        "---\nstate = triaged\n---\nDear {reporter_name}, our own words on #{report_id}. Grüße\n",
    )
    .unwrap();
    let out = desk.run(
        &["reply", "1", "-t", "acknowledge", "--no-edit", "--yes"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    let raw = &inbox[0];
    let text = body(raw);
    assert!(
        text.starts_with("Dear Reporter, our own words on #1. Grüße"),
        "{text}"
    );
    assert_eq!(
        header(raw, "Content-Transfer-Encoding").as_deref(),
        Some("quoted-printable")
    );
    assert_eq!(
        desk.query("SELECT count(*) FROM reports WHERE id = 1 AND state = 'triaged'"),
        1
    );

    // An unknown placeholder is a clear error naming the template; nothing is queued.
    std::fs::write(templates.join("acknowledge.txt"), "Hi {reporter}\n").unwrap();
    let out = desk.run(
        &["reply", "1", "-t", "acknowledge", "--no-edit", "--yes"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("acknowledge") && err.contains("{reporter}"),
        "{err}"
    );
    assert_eq!(desk.query("SELECT count(*) FROM outbox"), 1);
}

#[test]
fn smtp_tls_is_verified_against_the_configured_ca() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            tls: Some(desk.server.server_cert()),
            ..SmtpOptions::default()
        },
    );
    // Without the test CA the certificate is not trusted: kept queued, nothing sent.
    smtp_over_tls(&desk, smtp.port, None);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).to_lowercase().contains("certificate"),
        "{}",
        stderr(&out)
    );
    assert_eq!(desk.reporter_maildir_count(), 0);

    smtp_over_tls(&desk, smtp.port, Some(&desk.server.ca_file()));
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.reporter_maildir_count(), 1);
}

/// Points `[smtp]` at the TLS server on `port` as `localhost` (the name its certificate
/// holds), trusting `ca_file` besides the system roots when given.
pub(crate) fn smtp_over_tls(desk: &Desk, port: u16, ca_file: Option<&std::path::Path>) {
    let extra = ca_file.map_or(String::new(), |ca| format!("ca_file = {ca:?}\n"));
    desk.configure(port, &extra);
    let path = desk.dir.path().join("config.toml");
    let cfg = std::fs::read_to_string(&path)
        .unwrap()
        .replace("host = \"127.0.0.1\"\nport", "host = \"localhost\"\nport")
        .replace("security = \"plain\"", "security = \"tls\"");
    std::fs::write(path, cfg).unwrap();
}

#[test]
fn sync_sends_queued_replies_once_their_backoff_has_passed() {
    let port = free_port();
    let desk = Desk::new(REPORT, port);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let _smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    // Within the backoff, a sync leaves it queued.
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.reporter_maildir_count(), 0);
    assert_eq!(desk.outbox_json()[0]["state"], "queued");
    // Once due, the next sync sends it, and the one after sends nothing more.
    desk.db()
        .execute(
            "UPDATE outbox SET next_attempt_at = '2026-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    for _ in 0..2 {
        let out = desk.run(&["sync"], &[]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(desk.reporter_maildir_count(), 1);
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// A desk whose reply to report #1 was queued with the SMTP server down, and the server
/// (delivering into the reporter's INBOX) back up, nothing sent yet.
fn queued_then_smtp_back() -> (Desk, Smtp) {
    let (desk, port) = queued_reply();
    let smtp = smtp_on(&desk.server.maildir(REPORTER, "INBOX"), port, None);
    (desk, smtp)
}

/// A reply queued because its SMTP server was down, and the port that server will be on.
fn queued_reply() -> (Desk, u16) {
    let port = free_port();
    let desk = Desk::new(REPORT, port);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert_eq!(desk.outbox_json()[0]["state"], "queued");
    (desk, port)
}

/// An SMTP server on `port` delivering into `maildir`, answering every DATA with
/// `data_reply` when given.
fn smtp_on(maildir: &std::path::Path, port: u16, data_reply: Option<&str>) -> Smtp {
    Smtp::start_with(
        maildir,
        SmtpOptions {
            port: Some(port),
            data_reply: data_reply.map(str::to_string),
            ..SmtpOptions::default()
        },
    )
}

/// `outbox --edit 1 --yes` changing `Hello` to `Howdy`, which must exit 0 with the reporter
/// holding exactly one reply, the edited one; returns the reporter's INBOX.
fn edit_and_send(desk: &Desk) -> Vec<Vec<u8>> {
    let out = desk.run(
        &["outbox", "--edit", "1", "--yes"],
        &[("EDITOR", "sed -i -e s/^Hello/Howdy/")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1, "sent once");
    assert!(
        body(&inbox[0]).starts_with("Howdy Reporter,"),
        "{}",
        body(&inbox[0])
    );
    inbox
}

/// A queued reply (the SMTP server down) with a typo: `outbox --edit` opens it, and what the
/// reporter gets is the edited reply, once, under a new Message-ID.
#[test]
fn a_queued_reply_is_edited_before_it_goes() {
    let (desk, _smtp) = queued_then_smtp_back();
    let queued = desk.outbox_json();
    let inbox = edit_and_send(&desk);
    let sent_id = header(&inbox[0], "Message-ID").expect("Message-ID");
    assert_ne!(
        sent_id.trim_matches(['<', '>']),
        queued[0]["message_id"].as_str().expect("message_id")
    );
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
    // Nothing left to send twice.
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.reporter_maildir_count(), 1);
}

/// Runs `outbox --edit 1 --yes` with an editor that first runs `secdesk ARGS` (as the
/// desk's sync, a cron job or a teammate would while the editor is open), then changes
/// `Hello` to `Howdy`. Returns the edit's output and what the inner command printed.
fn edit_while(desk: &Desk, args: &str) -> (std::process::Output, String) {
    let editor = desk.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\n{bin:?} --config {cfg:?} {args} >{log:?} 2>&1\n\
             sed -i -e s/^Hello/Howdy/ \"$1\"\n",
            bin = env!("CARGO_BIN_EXE_secdesk"),
            cfg = desk.dir.path().join("config.toml"),
            log = desk.dir.path().join("inner.log"),
        ),
    )
    .expect("write the editor");
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&editor, mode).expect("chmod the editor");
    let out = desk.run(
        &["outbox", "--edit", "1", "--yes"],
        &[("EDITOR", editor.to_str().expect("utf-8 path"))],
    );
    let inner = std::fs::read_to_string(desk.dir.path().join("inner.log")).unwrap_or_default();
    (out, inner)
}

/// The file the refused edit's message says the edited text is kept in, and its text,
/// checked private.
fn kept_edit(err: &str) -> (String, String) {
    let kept = err
        .split("your edited text is kept in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no kept file named: {err}"));
    let text = std::fs::read_to_string(kept).expect("the kept edit is readable");
    let mode = std::fs::metadata(kept).expect("kept file").permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    (kept.to_string(), text)
}

/// A delivery sends the queued reply while its editor is open (here the editor itself runs
/// `secdesk outbox --retry`, as the desk's sync or a cron job would): the edit is refused,
/// saying so and what to do, and the reporter gets the reply once, as it stood.
#[test]
fn a_queued_reply_sent_while_it_is_edited_is_not_sent_again() {
    let (desk, _smtp) = queued_then_smtp_back();
    let (out, retry) = edit_while(&desk, "outbox --retry");
    assert_eq!(out.status.code(), Some(1), "{}{retry}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "your edit of outbox reply #1 (report #1) was not applied, and none of it was sent: while you edited it, a delivery (this desk's sync or `secdesk outbox --retry`, or another desk sharing the store) sent the reply as it stood; follow it up with `secdesk reply 1`"
        ),
        "{err}"
    );
    // The edited text is not lost: it is kept in a private file the message names.
    let (_, text) = kept_edit(&err);
    assert!(text.starts_with("Howdy Reporter,"), "{text}");
    let inbox = desk.reporter_inbox();
    assert_eq!(inbox.len(), 1, "sent twice: {retry}");
    assert!(
        body(&inbox[0]).starts_with("Hello Reporter,"),
        "{}",
        body(&inbox[0])
    );
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.reporter_maildir_count(), 1);
}

/// A teammate discards the reply while it is edited: the refusal says it was discarded
/// (before, "taken up while you edited it ... if it went out as it stood, follow it up"),
/// nothing is sent, and the edited text is kept under a name of its own even when files of
/// earlier refused edits of this reply, this very second, hold the usual name (before, the
/// second refusal within one second said the text could not be kept).
#[test]
fn a_reply_discarded_while_it_is_edited_is_refused_as_discarded_and_the_text_kept_apart() {
    let (desk, _smtp) = queued_then_smtp_back();
    // Earlier refused edits' files, for every second this edit could be refused in.
    let store_dir = desk.db_path().parent().expect("store dir").to_path_buf();
    let start = chrono::Utc::now();
    for s in 0..30 {
        let stamp = (start + chrono::Duration::seconds(s)).format("%Y%m%dT%H%M%SZ");
        std::fs::write(
            store_dir.join(format!("outbox-1-edit-{stamp}.txt")),
            "an earlier edit",
        )
        .expect("write an earlier kept edit");
    }

    let (out, inner) = edit_while(&desk, "outbox --discard 1");
    assert_eq!(out.status.code(), Some(1), "{}{inner}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "your edit of outbox reply #1 (report #1) was not applied, and none of it was sent: the reply was discarded (`secdesk outbox --discard 1`) while you edited it; `secdesk reply 1` writes a new one"
        ),
        "{err}"
    );
    assert!(
        !err.contains("taken up") && !err.contains("follow it up"),
        "{err}"
    );
    let (kept, text) = kept_edit(&err);
    assert!(kept.ends_with("-2.txt"), "{kept}");
    assert!(text.starts_with("Howdy Reporter,"), "{text}");
    for s in 0..30 {
        let stamp = (start + chrono::Duration::seconds(s)).format("%Y%m%dT%H%M%SZ");
        let earlier = std::fs::read_to_string(store_dir.join(format!("outbox-1-edit-{stamp}.txt")))
            .expect("an earlier kept edit is still there");
        assert_eq!(
            earlier, "an earlier edit",
            "an earlier kept edit was overwritten"
        );
    }
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        desk.reporter_maildir_count(),
        0,
        "a discarded reply was sent"
    );
}

/// A delivery tries the reply while it is edited and the server says "come back later": the
/// reply was not sent, so the refusal says that and to edit again (before: "taken up while
/// you edited it (it is queued now) ... if it went out as it stood, follow it up"). The
/// second edit goes out, once.
#[test]
fn a_reply_tried_and_not_sent_while_it_is_edited_says_to_edit_it_again() {
    let (desk, port) = queued_reply();
    // Attempt times are kept to the second: the first attempt is made older, so the
    // one during the edit is told apart from it however fast the test runs.
    desk.db()
        .execute(
            "UPDATE outbox SET last_attempt_at = '2026-01-01T00:00:00Z'",
            [],
        )
        .expect("age the first attempt");
    let maildir = desk.server.maildir(REPORTER, "INBOX");
    let busy = smtp_on(
        &maildir,
        port,
        Some("451 4.3.0 mailbox busy, try again later"),
    );
    let (out, retry) = edit_while(&desk, "outbox --retry");
    assert_eq!(out.status.code(), Some(1), "{}{retry}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("while you edited it, a delivery (this desk's sync or `secdesk outbox --retry`, or another desk sharing the store) tried to send the reply as it stood, and it was not sent (")
            && err.contains("451")
            && err.contains("it is queued again: run `secdesk outbox --edit 1` again"),
        "{err}"
    );
    assert!(!err.contains("follow it up"), "{err}");
    assert_eq!(desk.reporter_maildir_count(), 0);

    drop(busy);
    let _smtp = smtp_on(&maildir, port, None);
    edit_and_send(&desk);
}

/// A reply an attempt may have delivered is not edited: the refusal says why and what to do.
#[test]
fn outbox_edit_refuses_a_sent_reply_and_says_what_to_do() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    desk.configure(smtp.port, "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = desk.run(
        &["outbox", "--edit", "1", "--yes"],
        &[("EDITOR", "sed -i -e s/^Hello/Howdy/")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "outbox #1 is sent: only a queued or refused (failed-permanent) reply is edited; follow it up with `secdesk reply 1`"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(desk.reporter_maildir_count(), 1);
}
