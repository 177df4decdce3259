//! `secdesk outbox --retry` with several replies failing differently: one exit status by
//! precedence (README "Exit status"), whatever the order of the failures, and, with
//! `--json`, each reply's own outcome.

use crate::desk::{stderr, Desk, TEAM};
use crate::support::{free_port, Smtp, SmtpOptions};

/// A second report, from another reporter.
const SECOND: &str = "From: Second Reporter <second@example.com>\r\n\
To: security@example.org\r\n\
Subject: heap overflow in zlib binding\r\n\
Date: Tue, 24 Nov 2026 12:00:00 +0000\r\n\
Message-ID: <report-2@second.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
decompress() overflows its buffer.\r\n";

/// Replies to reports #1 (outbox #1) and #2 (outbox #2), both queued with the SMTP server
/// down, then a server on that port that refuses report #1's reporter for good (550 at
/// RCPT) and answers report #2's message with a 451: the permanent failure comes first, the
/// temporary one last.
fn refused_then_deferred() -> (Desk, Smtp) {
    let port = free_port();
    let desk = Desk::new(crate::REPORT, port);
    desk.server.append(TEAM, "INBOX", SECOND.as_bytes());
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync failed: {}", stderr(&out));
    for id in ["1", "2"] {
        let out = desk.run(&["reply", id, "--no-edit", "--yes"], &[]);
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    }
    let smtp = Smtp::start_with(
        &desk.server.maildir(crate::desk::REPORTER, "INBOX"),
        SmtpOptions {
            port: Some(port),
            refuse_rcpt: Some("reporter@example.net".into()),
            data_reply: Some("451 4.3.0 try again later".into()),
            ..SmtpOptions::default()
        },
    );
    (desk, smtp)
}

/// Before, the last failure's status won: the 451 after the 550 made it 75, "run again
/// later", though running again never sends the refused reply.
#[test]
fn a_permanent_refusal_outranks_a_later_temporary_failure() {
    let (desk, _smtp) = refused_then_deferred();
    let out = desk.run(&["outbox", "--retry"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("report #1 was refused") && err.contains("550"),
        "{err}"
    );
    assert!(
        err.contains("report #2 is queued") && err.contains("451"),
        "{err}"
    );
}

/// Before, `--json` mapped every failure to 75 and listed the rows with no word of what
/// the run did to each.
#[test]
fn retry_json_reports_each_replys_outcome_and_the_most_urgent_status() {
    let (desk, _smtp) = refused_then_deferred();
    let out = desk.run(&["outbox", "--retry", "--json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = rows.as_array().expect("an array, as before");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (refused, deferred) = (&rows[0], &rows[1]);
    // The fields `outbox --json` always had, and what this run did.
    assert_eq!(refused["id"], 1);
    assert_eq!(refused["report_id"], 1);
    assert_eq!(refused["state"], "failed-permanent");
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["exit_status"], 1);
    assert!(
        refused["outcome_error"]
            .as_str()
            .unwrap_or_default()
            .contains("550"),
        "{refused}"
    );
    assert_eq!(deferred["id"], 2);
    assert_eq!(deferred["state"], "queued");
    assert_eq!(deferred["outcome"], "queued");
    assert_eq!(deferred["exit_status"], 75);
    assert!(
        deferred["outcome_error"]
            .as_str()
            .unwrap_or_default()
            .contains("451"),
        "{deferred}"
    );
    // A listing without --retry is as it was: no fields about a run.
    let listed = desk.outbox_json();
    assert!(listed[0].get("outcome").is_none(), "{listed}");
}

/// With `[smtp]` gone, the queued replies wait for the config: 78, not "run again later".
#[test]
fn retry_without_smtp_config_exits_as_a_config_error() {
    let (desk, _smtp) = refused_then_deferred();
    let path = desk.dir.path().join("config.toml");
    let config = std::fs::read_to_string(&path).expect("config");
    let start = config.find("[smtp]").expect("[smtp]");
    let end = config.find("[reply]").expect("[reply]");
    std::fs::write(&path, format!("{}{}", &config[..start], &config[end..])).expect("write");
    let out = desk.run(&["outbox", "--retry"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("fix [smtp] in the config"), "{err}");
}
