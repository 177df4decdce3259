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
