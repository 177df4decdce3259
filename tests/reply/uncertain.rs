//! Replies whose fate is not known: a send cut off at the `[sync] deadline_seconds`, one
//! the server took while nothing could record it, one with no team copy to look for, and a
//! `sending` row that may be another desk's live attempt. Each reaches the reporter once,
//! and what the desk says is what happened.

use std::time::Duration;

use super::desk::{stderr, stdout, Desk, REPORTER, TEAM};
use super::faults::{copies, drop_after_data, outbox_ids};
use super::REPORT;
use crate::support::{free_port, Smtp, SmtpOptions};

/// Sets `[sync] deadline_seconds` (the config's last section is `[sync]`).
fn set_deadline(desk: &Desk, seconds: u64) {
    let path = desk.dir.path().join("config.toml");
    let mut cfg = std::fs::read_to_string(&path).unwrap();
    cfg.push_str(&format!("deadline_seconds = {seconds}\n"));
    std::fs::write(path, cfg).unwrap();
}

/// A server so slow at RCPT (2 s each, two recipients) that the 3 s deadline passes before
/// DATA. The send is given up, and its thread, still running while the next reply is sent,
/// must never go on to hand the message over: the reply is queued, so a later retry sends
/// it, and it would arrive twice.
#[test]
fn a_send_given_up_at_the_deadline_never_delivers_behind_the_outbox() {
    let desk = Desk::new(REPORT, 0);
    let maildir = desk.server.maildir(REPORTER, "INBOX");
    let port = free_port();
    desk.configure(port, "");
    for _ in 0..2 {
        let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
        assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    }
    let slow = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            rcpt_delay: Some(2.0),
            ..SmtpOptions::default()
        },
    );
    set_deadline(&desk, 3);
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("still not done after 3 s")
            && err.contains("stopped before the message went out"),
        "{err}"
    );
    // Long enough for an unstopped thread to finish its RCPTs and its DATA.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        desk.reporter_maildir_count(),
        0,
        "delivered behind the outbox"
    );
    let rows = desk.outbox_json();
    assert_eq!(rows[0]["state"], "queued", "{rows}");
    assert_eq!(rows[1]["state"], "queued", "{rows}");

    drop(slow);
    let _smtp = Smtp::start_with(
        &maildir,
        SmtpOptions {
            port: Some(port),
            ..SmtpOptions::default()
        },
    );
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (id, mid) in outbox_ids(&desk) {
        assert_eq!(copies(&desk, REPORTER, "INBOX", &mid), 1, "outbox #{id}");
    }
}

/// The server stores the message at once but answers its DATA only after 4 s, past the 2 s
/// deadline: the message was going out, so the answer is awaited (one read timeout more)
/// and decides. The reply is recorded as sent, not left to be sent again.
#[test]
fn a_send_answered_after_the_deadline_is_recorded_as_sent() {
    let desk = Desk::new(REPORT, 0);
    let smtp = Smtp::start_with(
        &desk.server.maildir(REPORTER, "INBOX"),
        SmtpOptions {
            answer_delay: Some(4.0),
            ..SmtpOptions::default()
        },
    );
    desk.configure(smtp.port, "");
    set_deadline(&desk, 2);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("reply to report #1 sent"),
        "{}",
        stdout(&out)
    );
    assert_eq!(desk.reporter_maildir_count(), 1);
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// With `[reply] cc = ""` there is no team copy to look for: a reply cut off after DATA is
/// never resent by itself, however long ago; the desk says how to resend it by hand, a new
/// reply to the report is refused meanwhile, and `outbox --resend` sends it once. Only a
/// person settles it, so `reply` and `outbox --retry` exit 1, not 75: a cron job retrying
/// on 75 looped on it forever and never alerted anyone.
#[test]
fn an_uncertain_reply_with_no_copy_to_look_for_waits_for_a_person() {
    let desk = Desk::new(REPORT, 0);
    let no_cc = |desk: &Desk, port: u16| {
        desk.configure(port, "");
        let path = desk.dir.path().join("config.toml");
        let cfg = std::fs::read_to_string(&path).unwrap().replacen(
            "[reply]\n",
            "[reply]\ncc = \"\"\n",
            1,
        );
        std::fs::write(path, cfg).unwrap();
    };
    let (port, server) = drop_after_data();
    no_cc(&desk, port);
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("secdesk outbox --resend 1"),
        "{}",
        stderr(&out)
    );
    server.join().expect("scripted server");
    let smtp = Smtp::start(&desk.server.maildir(REPORTER, "INBOX"));
    no_cc(&desk, smtp.port);
    // Hours later, still nothing to show it was not delivered: not resent.
    desk.db()
        .execute(
            "UPDATE outbox SET last_attempt_at = '2000-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("not sent again by itself") && err.contains("secdesk outbox --resend 1"),
        "{err}"
    );
    let json = desk.run(&["outbox", "--retry", "--json"], &[]);
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(rows[0]["outcome"], "uncertain", "{rows}");
    assert_eq!(rows[0]["exit_status"], 1, "{rows}");
    assert_eq!(desk.reporter_maildir_count(), 0, "resent without a word");
    assert_eq!(desk.outbox_json()[0]["state"], "uncertain");

    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("already has a reply that may have reached the reporter"),
        "{}",
        stderr(&out)
    );
    assert_eq!(desk.reporter_maildir_count(), 0);

    let help = desk.run(&["outbox", "--help"], &[]);
    assert!(stdout(&help).contains("--resend"), "{}", stdout(&help));
    let out = desk.run(&["outbox", "--resend", "1"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("sent"), "{}", stdout(&out));
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(desk.reporter_maildir_count(), 1);
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// The server took the reply, then recording it failed (as on a full disk; a trigger stands
/// in for the disk). The user is told it WAS sent, never to run the command again, and a
/// second `reply` is refused; once the store is writable, the retry finds the reply on the
/// server and records it without sending it again.
#[test]
fn a_reply_sent_but_not_recorded_says_so_and_is_not_sent_twice() {
    let desk = Desk::new(REPORT, 0);
    // The team's Cc copy lands where the check looks.
    let smtp = Smtp::start(&desk.server.maildir(TEAM, "INBOX"));
    desk.configure(smtp.port, "");
    desk.db()
        .execute_batch(
            "CREATE TRIGGER disk_full BEFORE UPDATE OF state ON outbox
             WHEN NEW.state = 'sent' BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END",
        )
        .unwrap();
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    let err = stderr(&out);
    assert!(
        err.contains("WAS sent") && err.contains("Do not send it again"),
        "{err}"
    );
    assert!(!err.contains("run the command again"), "{err}");
    let (_, mid) = outbox_ids(&desk)[0].clone();
    assert_eq!(copies(&desk, TEAM, "INBOX", &mid), 1);

    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("outbox #1 is sending"),
        "{}",
        stderr(&out)
    );
    assert_eq!(outbox_ids(&desk).len(), 1, "no second reply queued");

    desk.db().execute_batch("DROP TRIGGER disk_full").unwrap();
    // Once older than the longest attempt, the row counts as interrupted.
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
    assert_eq!(desk.outbox_json(), serde_json::json!([]));
}

/// With `deadline_seconds = 1800`, a send may run for half an hour: a `sending` row 15
/// minutes old is another delivery still at work, and `outbox --retry` leaves it alone, says
/// so and exits 75 (the reply is not sent yet: run again later). Once older than the longest send it counts as crashed, and is looked for on the
/// server (where its team copy is) instead of being sent again.
#[test]
fn a_live_attempt_is_never_taken_for_a_crashed_one() {
    let desk = Desk::new(REPORT, 0);
    desk.configure(free_port(), "");
    let out = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let smtp = Smtp::start(&desk.server.maildir(TEAM, "INBOX"));
    desk.configure(smtp.port, "");
    set_deadline(&desk, 1800);
    let fifteen_ago = chrono::Utc::now() - chrono::Duration::minutes(15);
    desk.db()
        .execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = ?1",
            [fifteen_ago.format("%Y-%m-%dT%H:%M:%SZ").to_string()],
        )
        .unwrap();
    // Not sent yet, by anyone: 75, run again later (it was 0, as if all were sent).
    let out = desk.run(&["outbox", "--retry"], &[]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let json = desk.run(&["outbox", "--retry", "--json"], &[]);
    assert_eq!(json.status.code(), Some(75), "{}", stderr(&json));
    assert!(
        stderr(&out).contains("outbox #1 was left alone"),
        "{}",
        stderr(&out)
    );
    let (_, mid) = outbox_ids(&desk)[0].clone();
    assert_eq!(copies(&desk, TEAM, "INBOX", &mid), 0, "sent twice");

    // That attempt had in fact delivered, then the desk died.
    let raw: Vec<u8> = desk
        .db()
        .query_row("SELECT raw FROM outbox", [], |r| r.get(0))
        .unwrap();
    desk.server.write_maildir(TEAM, "INBOX", &[raw]);
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
    assert_eq!(copies(&desk, TEAM, "INBOX", &mid), 1);
}

/// A second reply to a report whose first one is still queued (the SMTP server down) went
/// without a word: both reach the reporter at the next delivery. It is said now, with how to
/// change or drop the queued one; with `--yes` (a script) the second is still queued.
#[test]
fn a_second_reply_while_the_first_is_queued_is_said() {
    let desk = Desk::new(REPORT, 0);
    desk.configure(free_port(), "");
    let first = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(first.status.code(), Some(75), "{}", stderr(&first));
    assert!(
        !stderr(&first).contains("already has a reply"),
        "{}",
        stderr(&first)
    );
    let second = desk.run(&["reply", "1", "--no-edit", "--yes"], &[]);
    assert_eq!(second.status.code(), Some(75), "{}", stderr(&second));
    let id = outbox_ids(&desk)[0].0;
    assert!(
        stderr(&second).contains(&format!(
            "report #1 already has a reply queued to go: outbox #{id}"
        )) && stderr(&second).contains(&format!("secdesk outbox --discard {id}")),
        "{}",
        stderr(&second)
    );
}
