//! `secdesk sync` against answers a server may send that are not the ones asked for, but
//! are allowed or harmless (tests/support/badimap.rs): none of them may keep mail from the
//! store, nor let the sync exit 0 with mail missing.

mod support;

use support::badimap::{inbox, BadImap, Behaviour};
use support::syncdesk::SyncDesk;

/// An untagged `* NO` is a warning and an untagged `* BAD` an error the server cannot tie to
/// a command (RFC 3501 §7.1.2, §7.1.3; RFC 9051 §7.1.2, §7.1.3): the command still
/// completes. A server that adds one to every answer (a quota warning) must not keep its
/// mail out of the store, sync after sync.
#[test]
fn untagged_warnings_in_fetch_answers_do_not_keep_mail_out() {
    let server = BadImap::start(Behaviour {
        warnings: vec![
            "* NO [ALERT] Mailbox is at 95% of its quota".to_string(),
            "* BAD Line too long, ignored".to_string(),
        ],
        withhold: vec![4],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "UID 4 is withheld: {run:?}");
    assert!(run.stderr.contains("UID 4 not stored"), "{}", run.stderr);
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 5]);

    server.set(|b| b.withhold.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4, 5]);
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
    assert_eq!(desk.inbox_cursor(), 5);
}

/// Messages no real mail is like, each under its own UID: empty, with NUL bytes, with bare
/// CR line ends, and two different messages sharing one Message-ID (an attacker's copy
/// could otherwise shadow the real report). Each is stored as sent, and the sync exits 0.
#[test]
fn odd_messages_are_each_stored_as_sent() {
    let real = support::message("same@reporter.test", "the real report", "heap overflow");
    let shadow = support::message("same@reporter.test", "a decoy", "nothing here");
    let mut nul = support::message("nul@reporter.test", "with NUL", "a\0b\0c");
    nul.extend_from_slice(b"\0\0\0\r\n");
    let bare_cr = b"From: r@reporter.test\rSubject: bare CR\r\rbody\rline\r".to_vec();
    let mut b = inbox(1..=1);
    b.mailboxes[0].1 = vec![
        (1, shadow.clone()),
        (2, Vec::new()),
        (3, nul.clone()),
        (4, bare_cr.clone()),
        (5, real.clone()),
    ];
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4, 5]);
    let sizes: Vec<i64> = desk.query("SELECT secdesk_raw_len(raw) FROM messages ORDER BY uid");
    let sent: Vec<i64> = [&shadow, &Vec::new(), &nul, &bare_cr, &real]
        .iter()
        .map(|m| m.len() as i64)
        .collect();
    assert_eq!(sizes, sent, "each kept whole, NULs and CRs included");
    let reports: Vec<i64> = desk.query("SELECT report_id FROM messages WHERE uid IN (1, 5)");
    assert_ne!(
        reports[0], reports[1],
        "the real report is not hidden in the decoy's"
    );
    let subjects: Vec<String> = desk
        .query("SELECT subject FROM messages WHERE message_id = 'same@reporter.test' ORDER BY uid");
    assert_eq!(subjects, vec!["a decoy", "the real report"]);
}

/// With several mailboxes, a gap in one (a body withheld) and a failure in a later one (its
/// FETCH refused): the failure ends the sync, and the gap must still be named, not only
/// recorded (the failure's line was all that was printed).
#[test]
fn a_gap_in_one_mailbox_is_named_when_a_later_mailbox_fails() {
    let mut b = inbox(1..=5);
    let other = vec![(1, support::message("o1@example.net", "other 1", "x"))];
    b.mailboxes.push(("Other".to_string(), other));
    b.withhold = vec![4];
    b.refuse_fetch_in = vec!["Other".to_string()];
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("mailbox \"Other\"") && run.stderr.contains("not served today"),
        "the failure: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("mailbox \"INBOX\": UID 4 not stored: the server answered the FETCH without this message's body"),
        "the gap in INBOX is named too: {}",
        run.stderr
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 5]);

    server.set(|b| {
        b.withhold.clear();
        b.refuse_fetch_in.clear();
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4, 5]);
    assert_eq!(desk.uids("Other"), vec![1]);
}

/// A message whose every FETCH answer breaks the session (here a literal longer than
/// announced, every time) ends each sync where it is fetched. Asked for again in UID order,
/// before the mail after it, it kept every later message out of the store for good: new
/// reports never arrived. Once it has failed on its own as well, it is fetched after the
/// others: they are stored, it stays named and missing, the cursor waits below it.
#[test]
fn one_message_that_always_breaks_the_fetch_does_not_keep_later_mail_out() {
    let server = BadImap::start(Behaviour {
        literal_too_long: vec![3],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let mut last = None;
    for _ in 0..3 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
        assert!(run.stderr.contains("not valid IMAP"), "{}", run.stderr);
        last = Some(run);
    }
    assert_eq!(
        desk.uids("INBOX"),
        vec![1, 2, 4, 5],
        "the mail after UID 3 is stored: {last:?}"
    );
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![3]);
    assert_eq!(desk.inbox_cursor(), 2);

    server.set(|b| {
        b.literal_too_long.clear();
        b.mailboxes[0]
            .1
            .push((6, support::message("m6@example.net", "report 6", "new")));
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4, 5, 6]);
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
    assert_eq!(desk.inbox_cursor(), 6);
}
