//! `secdesk sync` against answers a server may send that are not the ones asked for, but
//! are allowed or harmless (tests/support/badimap.rs): none of them may keep mail from the
//! store, nor let the sync exit 0 with mail missing.

mod support;

use std::time::Duration;

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

/// Two messages whose every FETCH answer breaks the session (UIDs 10 and 20, good mail
/// after both). A sync that ended before asking for one of them wrote "not reached" over
/// the failure an earlier sync had recorded, so it lost its place after the others, and
/// the two took turns keeping UIDs 21 to 30 out of the store for good. Within a few syncs
/// every good message is stored, both stay named and missing, every sync with a gap fails,
/// and the cursor never passes a message that is not stored; each is asked for in turn.
#[test]
fn two_messages_that_always_break_the_fetch_do_not_keep_later_mail_out() {
    let server = BadImap::start(Behaviour {
        literal_too_long: vec![10, 20],
        ..inbox(1..=30)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let mut last = None;
    for _ in 0..6 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
        assert!(run.stderr.contains("not valid IMAP"), "{}", run.stderr);
        let stored = desk.uids("INBOX");
        let first_gap = (1..=30).find(|u| !stored.contains(u)).unwrap_or(31);
        let cursor = desk.cursor("INBOX").unwrap_or(0);
        assert!(
            cursor < first_gap,
            "cursor {cursor} passes UID {first_gap}, not stored"
        );
        last = Some(run);
    }
    let good: Vec<u32> = (1..=30).filter(|u| *u != 10 && *u != 20).collect();
    assert_eq!(desk.uids("INBOX"), good, "all good mail stored: {last:?}");
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![10, 20]);
    assert_eq!(desk.inbox_cursor(), 9);

    // The two take turns at being asked first: UID 10 breaking every time does not keep
    // UID 20 out once it can be fetched.
    server.set(|b| b.literal_too_long = vec![10]);
    for _ in 0..2 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
    }
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![10], "UID 20 stored while UID 10 still breaks");

    server.set(|b| b.literal_too_long.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=30).collect::<Vec<_>>());
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
    assert_eq!(desk.inbox_cursor(), 30);
}

/// A UID is tried once more in its place in UID order before it is fetched after the
/// others, so a reply that arrives later is stored after the report it answers and joins
/// it (docs/reliability.md). Syncs that ended before asking for a UID counted as attempts
/// at it: UIDs 5 and 6, never reached by two syncs, then cut off once (UID 5 broke their
/// FETCH), were sent to the end at once, behind an always broken UID 2, so the reply to
/// UID 6 (UID 7) was stored alone and UID 6 never.
#[test]
fn a_uid_not_reached_keeps_its_place_in_uid_order() {
    let server = BadImap::start(Behaviour {
        literal_too_long: vec![2],
        ..inbox(1..=6)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let sync = || {
        desk.run(
            &["sync", "--verbose", "--batch-size", "2"],
            Duration::from_secs(60),
        )
    };
    for _ in 0..2 {
        let run = sync();
        assert_ne!(run.code, Some(0), "{run:?}");
    }
    assert_eq!(desk.uids("INBOX"), vec![1]);

    server.set(|b| b.literal_too_long = vec![2, 5]);
    let run = sync();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 3, 4]);

    server.set(|b| {
        b.literal_too_long = vec![2];
        b.mailboxes[0].1.push((
            7,
            support::reply("r7@example.org", "m6@example.net", "report 6", "fixed"),
        ));
    });
    let run = sync();
    assert_ne!(run.code, Some(0), "UID 2 still breaks: {run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 3, 4, 5, 6, 7], "{run:?}");
    let reports: Vec<i64> = desk.query("SELECT report_id FROM messages WHERE uid IN (6, 7)");
    assert_eq!(
        reports[0], reports[1],
        "the reply joins the report it answers"
    );
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![2]);
    assert_eq!(desk.inbox_cursor(), 1);
}

/// A message whose every FETCH answer breaks the session, once it is fetched after the
/// others, used to end its mailbox's sync with that error, so a mailbox listed after it
/// (and the team round, and the outbox's deliveries) never had their turn while it stayed.
/// Now its failure is a gap: named, the sync exits 1, and after logging in again the next
/// mailbox is synced all the same.
#[test]
fn a_message_that_always_breaks_the_fetch_does_not_hold_back_later_mailboxes() {
    let mut b = Behaviour {
        literal_too_long: vec![3],
        ..inbox(1..=5)
    };
    let other = vec![(1, support::message("o1@example.net", "other 1", "x"))];
    b.mailboxes.push(("Other".to_string(), other));
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    for _ in 0..2 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
    }
    for _ in 0..2 {
        let run = desk.sync_bounded();
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(
            run.stderr
                .contains("mailbox \"INBOX\": UID 3 not stored: not fetched:")
                && run.stderr.contains("not valid IMAP"),
            "the gap is named: {}",
            run.stderr
        );
        assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
        assert_eq!(desk.uids("Other"), vec![1], "the next mailbox is synced");
        let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
        assert_eq!(missing, vec![3]);
        assert_eq!(desk.cursor("INBOX"), Some(2));
    }

    server.set(|b| b.literal_too_long.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4, 5]);
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
}

/// Several messages whose every FETCH answer breaks the session: each, fetched after the
/// others, used to cost a new login (and maybe a timeout) on every sync, K of them K logins.
/// Now one sync logs in again at most `MAX_RELOGINS` times; past that it asks for none of
/// the rest, naming each as a gap and saying why, and they wait their turn in a later sync.
/// The good mail is all stored, and every sync exits non-zero while mail is missing.
#[test]
fn messages_that_always_break_the_fetch_cost_at_most_two_new_logins_per_sync() {
    let broken = vec![2, 4, 6, 8];
    let server = BadImap::start(Behaviour {
        literal_too_long: broken.clone(),
        ..inbox(1..=10)
    });
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX"]);
    let mut said_why = false;
    for _ in 0..8 {
        let before = server.logins();
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
        let logins = server.logins() - before;
        assert!(logins <= 3, "{logins} logins in one sync: {run:?}");
        said_why |= run
            .stderr
            .contains("not asked for: its FETCH broke the session before, and this sync already logged in again 2 times");
    }
    assert!(said_why, "the limit is named once it is reached");
    assert_eq!(desk.uids("INBOX"), vec![1, 3, 5, 7, 9, 10]);
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, broken);
}

/// When the new session such a message calls for cannot be had (the login refused), the
/// sync ends with the FETCH error, as before, and now says why it could not go on; the
/// mailbox's gaps are named with it (only the error was printed).
#[test]
fn a_refused_new_login_past_a_message_that_always_breaks_the_fetch_is_named() {
    let (_server, desk) = past_uid_3_in_a_new_session(
        |b, before| b.refuse_login_after = Some(before + 1),
        "login refused",
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
}

/// Three messages in INBOX whose every FETCH answer breaks the session, and a mailbox after
/// it. Once the sync's two new logins were spent, the third ended INBOX's sync ("not logged
/// in again") and the sync stopped there: "Other" was never synced, nor the team round run,
/// nor replies delivered, for as long as the three stayed. Now the ones left past the limit
/// are not asked for (named gaps, recorded not reached, the cursor below them), and the sync
/// goes on with "Other" on the session it still has; every such sync exits 1.
#[test]
fn past_the_new_login_limit_the_sync_goes_on_with_later_mailboxes() {
    let broken = vec![2, 4, 6];
    let mut b = Behaviour {
        literal_too_long: broken.clone(),
        ..inbox(1..=8)
    };
    let other = vec![(1, support::message("o1@example.net", "other 1", "x"))];
    b.mailboxes.push(("Other".to_string(), other));
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    // Each of the three ends a sync twice in its place in UID order before it is fetched
    // after the others.
    let good = vec![1, 3, 5, 7, 8];
    for _ in 0..8 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
        if desk.uids("INBOX") == good && desk.uids("Other") == vec![1] {
            break;
        }
    }
    assert_eq!(desk.uids("INBOX"), good);
    for _ in 0..3 {
        let before = server.logins();
        let run = desk.sync_bounded();
        assert_eq!(run.code, Some(1), "a gap remains: {run:?}");
        assert!(server.logins() - before <= 3, "{run:?}");
        assert!(
            run.stderr.contains("mailbox \"INBOX\": UID ")
                && run
                    .stderr
                    .contains("not asked for: its FETCH broke the session before"),
            "the UID left past the limit is named: {}",
            run.stderr
        );
        assert_eq!(named_gaps(&run.stderr, "INBOX"), broken, "{}", run.stderr);
        assert!(
            !run.stderr.contains("could not go on"),
            "the sync went on: {}",
            run.stderr
        );
        assert_eq!(desk.uids("Other"), vec![1], "the next mailbox is synced");
        let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
        assert_eq!(missing, broken);
        assert_eq!(desk.cursor("INBOX"), Some(1));
    }
    // New mail in "Other" keeps arriving while the three stay broken (the fault goes by
    // UID, in every mailbox: UID 3 is a good one).
    server.set(|b| {
        b.mailboxes[1]
            .1
            .push((3, support::message("o3@example.net", "other 3", "y")))
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(desk.uids("Other"), vec![1, 3], "{run:?}");

    server.set(|b| b.literal_too_long.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=8).collect::<Vec<_>>());
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
}

/// The UIDs of `mailbox` that the gap lines of `stderr` name, ascending.
fn named_gaps(stderr: &str, mailbox: &str) -> Vec<u32> {
    let mut uids: Vec<u32> = stderr
        .lines()
        .filter_map(|l| l.split_once(&format!("mailbox \"{mailbox}\": UID")))
        .filter_map(|(_, rest)| rest.split_once(" not stored"))
        .flat_map(|(set, _)| {
            set.trim_start_matches('s')
                .trim()
                .split(',')
                .flat_map(|part| match part.split_once(':') {
                    Some((a, b)) => (a.parse().unwrap_or(0)..=b.parse().unwrap_or(0)).collect(),
                    None => vec![part.parse().unwrap_or(0)],
                })
                .collect::<Vec<u32>>()
        })
        .collect();
    uids.sort_unstable();
    uids
}

/// A sync past a message that always breaks the FETCH logs in again, and the mailbox then
/// has another UIDVALIDITY (it was recreated meanwhile): its UIDs name other messages now
/// (RFC 3501 §2.3.1.1), so the sync must not go on with the old ones, nor record anything
/// under the new one. The error says so and to run the sync again, and names the gap.
#[test]
fn a_changed_uidvalidity_after_the_new_login_ends_the_sync_and_stores_nothing_under_it() {
    let (server, desk) = past_uid_3_in_a_new_session(
        |b, before| b.uidvalidity_after_logins = Some((before + 1, 99)),
        "the mailbox's UIDVALIDITY changed during the sync; run the sync again",
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
    let under_new: Vec<i64> = desk.query(
        "SELECT count(*) FROM messages WHERE uidvalidity = 99
         UNION ALL SELECT count(*) FROM imap_missing WHERE uidvalidity = 99
         UNION ALL SELECT count(*) FROM mailbox_state WHERE uidvalidity = 99",
    );
    assert_eq!(
        under_new,
        vec![0, 0, 0],
        "nothing under the new UIDVALIDITY"
    );
    assert_eq!(
        desk.cursor("INBOX"),
        Some(2),
        "the cursor stays below UID 3"
    );
    assert!(server.logins() > 0);
}

/// The same, when EXAMINE is refused in the new session: the error says that the server
/// refused to open the mailbox again and why (the server's reason), and names the gap. Not
/// "check mailbox in [imap]": the same name opened a moment before.
#[test]
fn a_refused_examine_after_the_new_login_is_named_with_the_gap() {
    let (_server, desk) = past_uid_3_in_a_new_session(
        |b, before| b.refuse_examine_after_logins = Some(before + 1),
        "the server refused to open the mailbox again in a new session ([UNAVAILABLE] mailbox is being rebuilt); run the sync again",
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![3]);
    assert_eq!(desk.cursor("INBOX"), Some(2));
}

/// When INBOX cannot go on past its broken UID in the new session (its UIDVALIDITY changed),
/// that session still serves the mailbox after it: before, the sync ended there and new
/// mail in the next mailbox waited for INBOX to be mended.
#[test]
fn a_mailbox_that_cannot_go_on_in_its_new_session_does_not_keep_the_next_mailbox_out() {
    let mut b = Behaviour {
        literal_too_long: vec![3],
        ..inbox(1..=5)
    };
    b.mailboxes.push((
        "Other".to_string(),
        vec![(1, support::message("o1@example.net", "other 1", "y"))],
    ));
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    // Each ends at UID 3 in its place, and with it the session: "Other" waits.
    for _ in 0..2 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
    }
    let before = server.logins();
    server.set(|b| {
        b.uidvalidity_after_logins = Some((before + 1, 99));
        b.mailboxes[1]
            .1
            .push((2, support::message("o2@example.net", "other 2", "z")));
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("the sync could not go on past UID 3: the mailbox's UIDVALIDITY changed"),
        "{}",
        run.stderr
    );
    assert_eq!(named_gaps(&run.stderr, "INBOX"), vec![3], "{}", run.stderr);
    assert_eq!(
        desk.query::<String>(
            "SELECT subject FROM messages WHERE mailbox = 'Other' ORDER BY subject"
        ),
        vec!["other 1", "other 2"],
        "the next mailbox is synced in the new session: {}",
        run.stderr
    );
}

/// When INBOX cannot go on in its new session and leaves it to "Other", and Other then
/// cannot go on past its own broken message either (the server refuses the next login),
/// Other's gaps are named too: its report went only into the error's text, so `secdesk
/// sync` named no "UID 3 not stored" for Other.
#[test]
fn the_gaps_of_a_later_mailbox_that_cannot_go_on_either_are_named() {
    let mut b = Behaviour {
        literal_too_long: vec![3],
        ..inbox(1..=5)
    };
    let other = (1..=4)
        .map(|u| {
            (
                u,
                support::message(&format!("o{u}@example.net"), &format!("other {u}"), "y"),
            )
        })
        .collect();
    b.mailboxes.push(("Other".to_string(), other));
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    // UID 3 of each, twice in its place (ending the sync), then after the others.
    for _ in 0..4 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
    }
    let before = server.logins();
    // This sync's first login is let in, and the new login past INBOX's UID 3; EXAMINE of
    // INBOX is refused in that new session; the new login past Other's UID 3 is refused.
    server.set(|b| {
        b.refuse_examine_after_logins = Some(before + 1);
        b.refuse_examine_only = Some("INBOX".to_string());
        b.refuse_login_after = Some(before + 2);
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("the server refused to open the mailbox again in a new session"),
        "{}",
        run.stderr
    );
    assert_eq!(named_gaps(&run.stderr, "INBOX"), vec![3], "{}", run.stderr);
    assert!(
        named_gaps(&run.stderr, "Other").contains(&3),
        "Other's gap is named: {}",
        run.stderr
    );
}

/// INBOX with UIDs 1 to 5, UID 3 answered with a literal longer than announced on every
/// FETCH, synced twice so that the next sync fetches UID 3 after the others; then `change`
/// (given the LOGINs so far) and that sync, which logs in again past UID 3 and cannot go on:
/// it exits 1, says why after "the sync could not go on past UID 3" (`why`), with one new
/// login, and names UID 3 as the gap.
fn past_uid_3_in_a_new_session(
    change: impl FnOnce(&mut Behaviour, usize),
    why: &str,
) -> (BadImap, SyncDesk) {
    let server = BadImap::start(Behaviour {
        literal_too_long: vec![3],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX"]);
    for _ in 0..2 {
        let run = desk.sync_bounded();
        assert_ne!(run.code, Some(0), "{run:?}");
    }
    let before = server.logins();
    server.set(|b| change(b, before));
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("not valid IMAP")
            && run
                .stderr
                .contains(&format!("the sync could not go on past UID 3: {why}")),
        "{}",
        run.stderr
    );
    assert_eq!(named_gaps(&run.stderr, "INBOX"), vec![3], "{}", run.stderr);
    assert_eq!(server.logins(), before + 2, "one new login: {run:?}");
    (server, desk)
}
