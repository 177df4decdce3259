//! A reply queued for a report that is then deleted: it must never reach anyone (checked at
//! a real aiosmtpd), must say why, and must be discardable; and the next report must not
//! inherit the deleted report's id (and with it the reply).

use crate::desk::{mail, stderr, Desk};
use crate::support::{free_port, Smtp, SmtpOptions};

fn delivered(maildir: &std::path::Path) -> usize {
    ["new", "cur"]
        .iter()
        .map(|d| {
            std::fs::read_dir(maildir.join(d))
                .map(|e| e.count())
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn a_reply_whose_report_was_deleted_is_never_sent_and_can_be_discarded() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secdesk.db");
    let desk = Desk::with_store(
        dir,
        db,
        &format!("\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\n[sync]\ntimeout_seconds = 5\n"),
    );
    desk.import_ok(&[mail(
        1,
        "Rita <rita@reporter.example>",
        "overflow",
        "details",
    )]);
    // SMTP is down: both replies wait in the outbox.
    for _ in 0..2 {
        let out = desk.run(&[
            "reply",
            "1",
            "--template",
            "acknowledge",
            "--no-edit",
            "--yes",
        ]);
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    }
    // The second one as a crashed attempt left it, long ago.
    desk.db()
        .execute(
            "UPDATE outbox SET state = 'sending', last_attempt_at = '2026-01-01T00:00:00Z' WHERE id = 2",
            [],
        )
        .unwrap();
    // Someone deletes report #1 with the sqlite3 shell (foreign keys off, as it defaults).
    desk.db()
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             DELETE FROM attachments; DELETE FROM messages; DELETE FROM events;
             DELETE FROM notes; DELETE FROM reports WHERE id = 1;",
        )
        .unwrap();
    // A new report arrives: it is #2, not #1, so the replies do not attach to it.
    desk.import_ok(&[mail(
        2,
        "Mallory <m@attacker.example>",
        "hello",
        "new report",
    )]);
    assert_eq!(desk.count("SELECT max(id) FROM reports"), 2);

    let sink = tempfile::tempdir().unwrap();
    let maildir = sink.path().join("Maildir");
    let _smtp = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    for _ in 0..3 {
        let out = desk.run(&["outbox", "--retry"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!stderr(&out).contains("FOREIGN KEY"), "{}", stderr(&out));
    }
    assert_eq!(
        delivered(&maildir),
        0,
        "a reply of a deleted report was sent"
    );

    let rows: serde_json::Value = serde_json::from_str(&desk.ok(&["outbox", "--json"])).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in rows {
        assert_eq!(row["state"], "failed", "{row}");
        let why = row["last_error"].as_str().unwrap();
        assert!(why.contains("report #1 no longer exists"), "{why}");
        assert!(why.contains("secdesk outbox --discard"), "{why}");
    }
    let table = desk.ok(&["outbox"]);
    assert!(
        table.contains("failed") && table.contains("no longer exists"),
        "{table}"
    );
    // The new report shows no reply of the old one.
    let show = desk.ok(&["show", "2"]);
    assert!(!show.contains("REPLY"), "{show}");

    for id in ["1", "2"] {
        let said = desk.ok(&["outbox", "--discard", id]);
        assert!(said.contains("discarded"), "{said}");
    }
    assert_eq!(desk.ok(&["outbox", "--json"]).trim(), "[]");
    assert_eq!(delivered(&maildir), 0);
}
