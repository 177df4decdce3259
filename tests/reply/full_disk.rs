//! A reply whose attempt ends while the store's disk is full: the server has (or may have)
//! the reply, and nothing can be recorded. What the desk says must be what became of the
//! reply, never the store's "run the command again" alone, and `outbox --retry` reports the
//! replies it got to. The disk is a small tmpfs (root only; skipped plainly elsewhere),
//! filled while the command runs.

use std::time::Duration;

use super::desk::{stderr, stdout, Desk, TEAM};
use super::faults::{copies, outbox_ids, set_timeout};
use super::REPORT;
use crate::support::tmpfs::{fill, Tmpfs};
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

/// When the disk fills, in the command: after the message went out (at once), before the
/// 3 s read timeout gives up on the server's answer to DATA (which comes after 5 s).
const FILL_AFTER: Duration = Duration::from_secs(2);

/// Runs `args` on `desk`, filling `fs` [`FILL_AFTER`] into the run; returns its output
/// and the filler file (removing it frees the disk).
fn run_filling(
    desk: &Desk,
    fs: &Tmpfs,
    args: &[&str],
) -> (std::process::Output, std::path::PathBuf) {
    std::thread::scope(|s| {
        let filler = s.spawn(|| {
            std::thread::sleep(FILL_AFTER);
            fill(fs.path())
        });
        let out = desk.run(args, &[]);
        (out, filler.join().expect("filler"))
    })
}

/// An SMTP server that stores each message in the team's INBOX (where its Cc copy is
/// looked for), then answers DATA only after 5 s, past the desk's 3 s timeout.
fn slow_answer(desk: &Desk, port: Option<u16>) -> Smtp {
    Smtp::start_with(
        &desk.server.maildir(TEAM, "INBOX"),
        SmtpOptions {
            port,
            answer_delay: Some(5.0),
            ..SmtpOptions::default()
        },
    )
}

/// Before, the only line was the store's "the disk holding … is full: …; free some space,
/// then run the command again" (exit 1): recording the uncertain attempt failed, then
/// recording that the reply ended failed too, and that second error replaced the first.
/// Running it again writes a second reply to a reporter who may have the first.
#[test]
fn an_uncertain_send_on_a_full_disk_says_the_reply_may_have_gone() {
    let Some(fs) = Tmpfs::mount("16m") else {
        return;
    };
    let desk = Desk::with_store_in(REPORT, 0, Some(fs.path()));
    let smtp = slow_answer(&desk, None);
    desk.configure(smtp.port, "");
    set_timeout(&desk, 3);
    let (out, filler) = run_filling(
        &desk,
        &fs,
        &[
            "reply",
            "1",
            "--template",
            "acknowledge",
            "--no-edit",
            "--yes",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "outbox #1 may have reached the server and is kept unfinished; do not send it again"
        ),
        "{err}"
    );
    assert!(err.contains("is full"), "{err}");
    assert!(!err.contains("run the command again"), "{err}");
    assert!(
        err.lines().all(|l| !l.starts_with("secdesk: error: ")),
        "{err}"
    );
    let (_, mid) = outbox_ids(&desk)[0].clone();
    assert_eq!(copies(&desk, TEAM, "INBOX", &mid), 1);

    // Space again, and the attempt long over: found on the server, never sent again.
    std::fs::remove_file(filler).unwrap();
    desk.db()
        .execute(
            "UPDATE outbox SET last_attempt_at = '2000-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already on the server (not sent again)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(copies(&desk, TEAM, "INBOX", &mid), 1, "sent exactly once");
}

/// Before, `outbox --retry --json` on the same fault printed the store's line and no JSON:
/// the first reply's store error ended the whole run, and what it did to that reply was
/// lost. Now the reply's outcome is listed, the run stops before sending more with nothing
/// to record them, and says so.
#[test]
fn retry_on_a_full_disk_reports_what_it_did() {
    let Some(fs) = Tmpfs::mount("16m") else {
        return;
    };
    let port = free_port();
    let desk = Desk::with_store_in(REPORT, port, Some(fs.path()));
    desk.server.append(TEAM, "INBOX", SECOND.as_bytes());
    let out = desk.run(&["sync"], &[]);
    assert!(out.status.success(), "sync failed: {}", stderr(&out));
    for id in ["1", "2"] {
        let out = desk.run(&["reply", id, "--no-edit", "--yes"], &[]);
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    }
    let _smtp = slow_answer(&desk, Some(port));
    set_timeout(&desk, 3);
    let (out, filler) = run_filling(&desk, &fs, &["outbox", "--retry", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(&out), stderr(&out)));
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["outcome"], "uncertain-unrecorded", "{rows:?}");
    assert_eq!(rows[0]["exit_status"], 1, "{rows:?}");
    let error = rows[0]["outcome_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("is full") && error.contains("the 1 other due reply was not tried"),
        "{error}"
    );
    // Not tried: no outcome, and nothing sent for it.
    assert_eq!(rows[1]["outcome"], serde_json::Value::Null, "{rows:?}");
    let ids = outbox_ids(&desk);
    assert_eq!(copies(&desk, TEAM, "INBOX", &ids[0].1), 1);
    assert_eq!(copies(&desk, TEAM, "INBOX", &ids[1].1), 0);

    // With space again, the first is found on the server and the second sent, once each.
    std::fs::remove_file(filler).unwrap();
    desk.configure(port, "");
    desk.db()
        .execute(
            "UPDATE outbox SET last_attempt_at = '2000-01-01T00:00:00Z' WHERE id = 1",
            [],
        )
        .unwrap();
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (id, mid) in &ids {
        assert_eq!(copies(&desk, TEAM, "INBOX", mid), 1, "outbox #{id}");
    }
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}
