//! `secdesk sync` against a misbehaving IMAP server (tests/support/badimap.rs) on loopback:
//! deadlines and size limits. A drip of one byte a second, a gigabyte greeting, a flood of
//! lines, an endless line, a gigabyte literal and an oversized message each end in a clear
//! error or a complete store, within the deadline and below 200 MiB of peak memory.

mod support;

use std::time::Duration;

use support::badimap::{inbox, BadImap, Behaviour};
use support::measure::Measured;
use support::syncdesk::SyncDesk;

fn failed(run: &Measured) -> bool {
    run.code != Some(0)
}

/// `[sync]` keys for the timing cases: 3 s without progress, 4 s per operation.
const TIGHT: &str = "deadline_seconds = 4\n";

fn assert_deadline(run: &Measured, port: u16, during: &str) {
    assert!(failed(run), "{run:?}");
    // 75 (EX_TEMPFAIL): a slow server is worth another try later.
    assert_eq!(run.code, Some(75), "{run:?}");
    let line = run.stderr.trim();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    assert!(
        line.contains(&format!(
            "IMAP server 127.0.0.1:{port} was still answering after 4 s while {during}"
        )),
        "{line}"
    );
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_greeting_dripped_one_byte_a_second_ends_at_the_login_deadline() {
    let server = BadImap::start(Behaviour {
        drip_greeting: Some(Duration::from_secs(1)),
        ..inbox(1..=3)
    });
    let desk = SyncDesk::loopback(server.port, TIGHT);
    let run = desk.sync_bounded();
    assert_deadline(&run, server.port, "waiting for the greeting");
    assert!(!desk.db().exists(), "nothing touched before login");
}

#[test]
fn a_fetch_dripped_one_byte_a_second_ends_at_the_batch_deadline_and_keeps_the_cursor() {
    let server = BadImap::start(Behaviour {
        drip_fetch: Some(Duration::from_secs(1)),
        ..inbox(1..=3)
    });
    let desk = SyncDesk::loopback(server.port, TIGHT);
    let run = desk.sync_bounded();
    assert_deadline(&run, server.port, "fetching messages");
    assert!(desk.uids("INBOX").is_empty());
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![1, 2, 3], "accounted for in the store");
}

fn assert_refused(run: &Measured, port: u16, what: &str) {
    assert!(failed(run), "{run:?}");
    let line = run.stderr.trim();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    assert!(
        line.contains(&format!("IMAP server 127.0.0.1:{port} sent {what}")),
        "{line}"
    );
    assert!(line.contains("refused"), "{line}");
}

/// Syncs from a server behaving as `behaviour` (over a three-message INBOX) and checks the
/// sync is refused with `what`, in bounded memory.
fn sync_refused(behaviour: Behaviour, what: &str) -> Measured {
    let server = BadImap::start(behaviour);
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_refused(&run, server.port, what);
    run
}

#[test]
fn a_gigabyte_greeting_without_a_line_end_is_refused_in_bounded_memory() {
    let b = Behaviour {
        huge_greeting: Some(1_200_000_000),
        ..inbox(1..=3)
    };
    sync_refused(b, "a line longer than the limit of 1048576 bytes");
}

#[test]
fn a_flood_of_untagged_lines_is_refused_in_bounded_memory() {
    let b = Behaviour {
        flood_lines: Some(760_000_000),
        ..inbox(1..=3)
    };
    sync_refused(b, "a response longer than the limit");
}

#[test]
fn an_endless_line_in_a_fetch_is_refused_in_bounded_memory() {
    let b = Behaviour {
        long_line: Some(1_000_000_000),
        ..inbox(1..=3)
    };
    sync_refused(b, "a line longer than the limit");
}

#[test]
fn a_gigabyte_literal_is_refused_before_it_is_read() {
    let b = Behaviour {
        huge_literal: Some(1_073_741_824),
        ..inbox(1..=3)
    };
    let run = sync_refused(b, "a literal of 1073741824 bytes, over the limit");
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[test]
fn a_message_over_max_message_bytes_is_stored_as_headers_and_a_note() {
    let mut b = inbox(1..=3);
    let big = support::message("big@example.net", "huge attachment", &"A".repeat(20_000));
    b.mailboxes[0].1[1].1 = big.clone();
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback(server.port, "max_message_bytes = 10000\n");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("1 too large, stored as headers only"),
        "{}",
        run.stdout
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3], "its UID counts as done");
    let bodies: Vec<String> = desk.query(
        "SELECT secdesk_body(body, pgp, raw) FROM messages WHERE subject = 'huge attachment'",
    );
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains(&format!(
            "too large, {} bytes, kept on the server",
            big.len()
        )),
        "{}",
        bodies[0]
    );
    assert_eq!(desk.inbox_cursor(), 3);
    assert!(
        server
            .commands()
            .iter()
            .any(|c| c.contains("BODY.PEEK[]<0.10001>")),
        "at most one byte over the limit was asked for"
    );
}
