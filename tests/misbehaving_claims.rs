//! `secdesk sync` against a server whose claims do not hold together
//! (tests/support/badimap.rs): a listing that leaves a message out while announcing news,
//! an incremental listing that leaves out its first new message, `0 EXISTS` beside a
//! higher UIDNEXT, two bodies for one UID, a body short of its size, a size that lies
//! either way, a listing entry without a size, and one mailbox of several refused. In each
//! no message may be skipped for good: a sync that exits 0 stored everything, and a sync
//! that could not says so and leaves the next one to fetch it.

mod support;

use support::badimap::{inbox, BadImap, Behaviour};
use support::syncdesk::SyncDesk;

fn all(n: u32) -> Vec<u32> {
    (1..=n).collect()
}

/// The subject the store holds for `uid` of INBOX.
fn subject(desk: &SyncDesk, uid: u32) -> String {
    desk.query::<String>(&format!(
        "SELECT subject FROM messages WHERE mailbox = 'INBOX' AND uid = {uid}"
    ))
    .pop()
    .unwrap_or_default()
}

#[test]
fn a_message_left_out_of_a_listing_that_announces_news_is_not_skipped() {
    // The EXISTS repeats the count: no change, so the counts are checked and UID 3's
    // absence is seen; a listing by sequence numbers then finds it.
    let server = BadImap::start(Behaviour {
        omit_listed: vec![3],
        listing_news: vec!["* 5 EXISTS".into()],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));

    // An EXISTS that says the mailbox moved, every time: the counts cannot be checked, so
    // the sync says so and the cursor stays; nothing listed later is lost.
    let server = BadImap::start(Behaviour {
        omit_listed: vec![3],
        listing_news: vec!["* 6 EXISTS".into()],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("during each of 3 listings"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
    assert_eq!(desk.inbox_cursor(), 0, "the cursor stays below UID 3");
    server.set(|b| {
        b.omit_listed.clear();
        b.listing_news.clear();
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));
}

#[test]
fn an_incremental_listing_that_leaves_out_its_first_message_is_caught() {
    let server = BadImap::start(inbox(1..=2));
    let desk = SyncDesk::loopback(server.port, "");
    assert_eq!(desk.sync_bounded().code, Some(0));
    let grown = inbox(1..=5).mailboxes;
    server.set(|b| {
        b.mailboxes = grown;
        b.omit_listed = vec![3];
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        desk.uids("INBOX"),
        all(5),
        "message 3 of `3:*` came with sequence number 4: UID 3 was left out"
    );
}

#[test]
fn exists_zero_beside_a_higher_uidnext_does_not_move_the_cursor_past_mail() {
    let server = BadImap::start(inbox(1..=2));
    let desk = SyncDesk::loopback(server.port, "");
    assert_eq!(desk.sync_bounded().code, Some(0));
    let grown = inbox(1..=5).mailboxes;
    server.set(|b| {
        b.mailboxes = grown;
        b.exists = Some(0);
    });
    let run = desk.sync_bounded();
    assert!(desk.inbox_cursor() <= 2, "{run:?}");
    server.set(|b| b.exists = None);
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5), "UIDs 3 to 5 were not skipped");
    assert_eq!(desk.inbox_cursor(), 5);
}

#[test]
fn uids_listed_above_uidnext_are_asked_for_until_they_come() {
    let server = BadImap::start(Behaviour {
        uid_next: Some(3),
        exists: Some(2),
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    // UIDNEXT 3 says nothing is new; the store remembers the contradiction, so the next
    // sync lists again instead of exiting 0 without UIDs 3 to 5.
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    server.set(|b| {
        b.uid_next = None;
        b.exists = None;
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
}

#[test]
fn two_different_bodies_for_one_uid_store_neither_until_it_is_clear() {
    let decoy = support::message("decoy@example.net", "report 3 decoy", "close this");
    let server = BadImap::start(Behaviour {
        extra_bodies: vec![(3, decoy)],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("two different bodies"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
    server.set(|b| b.extra_bodies.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(subject(&desk, 3), "report 3");
}

#[test]
fn a_body_short_of_its_size_is_asked_for_again() {
    let server = BadImap::start(Behaviour {
        short_bodies: vec![3],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("bytes of a message it says has"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4, 5]);
    server.set(|b| b.short_bodies.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));
    assert_eq!(subject(&desk, 3), "report 3");
}

#[test]
fn a_size_that_lies_either_way_does_not_cost_a_message() {
    // Claimed 4 GB: fetched capped and found whole. Short of its claim, it is asked for
    // again; the same answer twice is stored as sent, whole (not as a headers-only stub),
    // and named.
    let server = BadImap::start(Behaviour {
        size_claims: vec![(3, 4_294_967_295)],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("says has 4294967295"), "{}", run.stderr);
    let run = desk.sync_bounded();
    assert!(
        run.stderr.contains("a second time; stored as sent"),
        "{run:?}"
    );
    assert_eq!(desk.uids("INBOX"), all(5));
    assert_eq!(desk.sync_bounded().code, Some(0));
    let note: Vec<i64> =
        desk.query("SELECT COUNT(*) FROM messages WHERE uid = 3 AND subject = 'report 3'");
    assert_eq!(note, vec![1]);
    let show = desk.run(&["show", "3"], std::time::Duration::from_secs(30));
    assert!(
        show.stdout.contains("hello"),
        "the body is stored: {}",
        show.stdout
    );
    assert!(!show.stdout.contains("too large"), "{}", show.stdout);

    // Claimed 500 bytes, sent 2 MB, over max_message_bytes and the literal limit: the
    // batch fails once; the next sync asks for it alone and capped, and stores the rest.
    let mut b = inbox(1..=5);
    let big = support::message("big@example.net", "report 3", &"x".repeat(2 << 20));
    b.mailboxes[0].1[2].1 = big;
    b.size_claims = vec![(3, 500)];
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback(server.port, "max_message_bytes = 100000");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));
    let show = desk.run(&["show", "3"], std::time::Duration::from_secs(30));
    assert!(show.stdout.contains("too large"), "{}", show.stdout);
}

#[test]
fn a_message_listed_without_its_size_is_fetched() {
    let server = BadImap::start(Behaviour {
        sizeless: vec![3],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));
}

#[test]
fn one_refused_mailbox_does_not_keep_the_others_from_syncing() {
    let mut b = inbox(1..=3);
    let other = vec![(1, support::message("o1@example.net", "other 1", "x"))];
    b.mailboxes.push(("Other".to_string(), other));
    b.refuse_fetch_in = vec!["INBOX".to_string()];
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback_mailboxes(server.port, &["INBOX", "Other"]);
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("mailbox \"INBOX\""),
        "the error names the mailbox: {}",
        run.stderr
    );
    assert_eq!(desk.uids("Other"), vec![1], "Other was synced all the same");
    server.set(|b| b.refuse_fetch_in.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(3));
}

#[test]
fn a_literal_longer_than_announced_is_named_as_such_not_as_a_bye() {
    let server = BadImap::start(Behaviour {
        literal_too_long: vec![3],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("not valid IMAP"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("BYE"),
        "no BYE was sent: {}",
        run.stderr
    );
    server.set(|b| b.literal_too_long.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(5));
}

#[test]
fn after_a_failed_fetch_only_its_own_uids_are_asked_for_one_by_one() {
    // Batches of 3: UIDs 1-3, 4-6, 7-9. The server says BYE inside the second, so 4-6 are
    // the FETCH that failed and 7-9 were never asked for.
    let server = BadImap::start(Behaviour {
        bye_at_uid: Some(5),
        ..inbox(1..=9)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let sync = || {
        desk.run(
            &["sync", "--verbose", "--batch-size", "3"],
            std::time::Duration::from_secs(60),
        )
    };
    let run = sync();
    assert_ne!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3]);
    server.set(|b| b.bye_at_uid = None);
    let before = server.commands().len();
    let run = sync();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), all(9));
    let fetched: Vec<String> = server.commands()[before..]
        .iter()
        .filter(|c| c.contains("BODY.PEEK[]"))
        .map(|c| c.split_whitespace().nth(2).unwrap_or("").to_string())
        .collect();
    assert_eq!(
        fetched,
        vec!["4", "5", "6", "7:9"],
        "{:?}",
        server.commands()
    );
}
