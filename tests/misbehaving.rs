//! `secdesk sync` against a misbehaving IMAP server (tests/support/badimap.rs) on loopback,
//! driving the real binary: what the server says is checked. Each case must end in a clear
//! error or a complete store, within its deadline and with bounded memory, and the store must
//! account for every UID the server announced: stored, or recorded missing with the reason.
//! Deadlines and size limits are in tests/misbehaving_limits.rs.

mod support;

use std::time::{Duration, Instant};

use secdesk::core::config::Config;
use secdesk::mailio::watch::Watch;

use support::badimap::{inbox, BadImap, Behaviour};
use support::measure::Measured;
use support::syncdesk::SyncDesk;

fn failed(run: &Measured) -> bool {
    run.code != Some(0)
}

#[test]
fn bodies_the_server_withholds_are_named_recorded_and_fetched_by_the_next_sync() {
    let server = BadImap::start(Behaviour {
        withhold: vec![4, 5],
        ..inbox(1..=5)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert!(
        failed(&run),
        "a sync with two bodies missing must fail: {run:?}"
    );
    assert!(run.stderr.contains("UIDs 4:5 not stored"), "{}", run.stderr);
    assert!(
        run.stderr.contains("127.0.0.1"),
        "names the server: {}",
        run.stderr
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3]);
    assert_eq!(
        desk.inbox_cursor(),
        3,
        "the cursor never moves past a UID not stored"
    );
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    assert_eq!(missing, vec![4, 5], "the gap is recorded in the store");
    // `secdesk check` names it for whoever looks later, without calling the file damaged.
    let check = desk.run(&["check"], Duration::from_secs(30));
    assert_eq!(check.code, Some(0), "{check:?}");
    assert!(
        check
            .stdout
            .contains("server mail 2 gap(s) between what the server announced and what is stored")
            && check
                .stdout
                .contains("mailbox \"INBOX\" UID 4: tried once, last ")
            && check.stdout.contains("mailbox \"INBOX\" UID 5: tried once"),
        "{}",
        check.stdout
    );
    // For monitoring, --strict makes the unstored mail a failure.
    let strict = desk.run(&["check", "--strict"], Duration::from_secs(30));
    assert_eq!(strict.code, Some(1), "{strict:?}");
    assert!(
        strict
            .stderr
            .contains("secdesk: error: mail the server announced is not stored yet (2 gaps under \"server mail\")"),
        "{}",
        strict.stderr
    );
    let json = desk.run(&["check", "--json"], Duration::from_secs(30));
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("check --json");
    assert_eq!(v["unstored"]["count"], 2, "{v}");
    assert_eq!(v["unstored"]["listed"][0]["uid"], 4, "{v}");
    assert_eq!(v["unstored"]["listed"][1]["attempts"], 1, "{v}");
    assert_eq!(v["whole"], true, "{v}");

    server.set(|b| b.withhold.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4, 5]);
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
    assert_eq!(desk.inbox_cursor(), 5);
    let check = desk.run(&["check", "--strict"], Duration::from_secs(30));
    assert_eq!(check.code, Some(0), "{check:?}");
    assert!(
        check
            .stdout
            .contains("server mail every message the syncs listed is stored"),
        "{}",
        check.stdout
    );
}

#[test]
fn a_huge_uid_in_the_listing_is_refused_and_never_moves_the_cursor() {
    let server = BadImap::start(Behaviour {
        extra_listed: vec![(8, 4_294_967_295)],
        ..inbox(1..=7)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert!(failed(&run), "{run:?}");
    assert!(run.stderr.contains("UID 4294967295"), "{}", run.stderr);
    assert!(run.stderr.contains("UIDNEXT 8"), "{}", run.stderr);
    assert_eq!(desk.uids("INBOX"), (1..=7).collect::<Vec<_>>());
    assert!(desk.inbox_cursor() <= 7, "cursor {}", desk.inbox_cursor());

    // Every later sync still sees the mailbox as it is, and the server's word is checked.
    server.set(|b| b.extra_listed.clear());
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=7).collect::<Vec<_>>());
    assert_eq!(desk.inbox_cursor(), 7);
}

#[test]
fn without_uidnext_a_huge_uid_is_stored_but_never_becomes_the_cursor() {
    let mut b = inbox(1..=3);
    b.mailboxes[0].1[2].0 = 4_294_967_295;
    b.omit_uid_next = true;
    let server = BadImap::start(b);
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 4_294_967_295]);
    assert_eq!(
        desk.inbox_cursor(),
        0,
        "nothing bounds the UIDs: the cursor stays"
    );
    // The next sync lists again, skips what is stored, and still sees new mail.
    let late = support::message("late@example.net", "late", "x");
    server.set(|b| b.mailboxes[0].1.insert(2, (3, late)));
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("fetched 1 new message,"),
        "{}",
        run.stdout
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4_294_967_295]);
}

#[test]
fn a_body_for_a_uid_not_asked_for_is_refused() {
    let stray = support::message("stray@example.net", "not asked for", "x");
    let server = BadImap::start(Behaviour {
        extra_bodies: vec![(4_294_967_295, stray)],
        ..inbox(1..=3)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert!(failed(&run), "{run:?}");
    assert!(
        run.stderr
            .contains("UID 4294967295, which was not asked for; refused"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3]);
    assert_eq!(desk.inbox_cursor(), 3);
    let subjects: Vec<String> = desk.query("SELECT subject FROM messages");
    assert!(
        !subjects.iter().any(|s| s == "not asked for"),
        "{subjects:?}"
    );
}

#[test]
fn an_empty_search_answer_does_not_hide_mail_because_uids_are_listed_with_fetch() {
    let server = BadImap::start(inbox(1..=22));
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=22).collect::<Vec<_>>());
    assert!(
        run.stdout.contains("fetched 22 new messages"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_listing_short_of_exists_is_a_named_gap_and_the_cursor_stays() {
    let server = BadImap::start(Behaviour {
        empty_listing: true,
        empty_seq_listing: true,
        ..inbox(1..=22)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert!(failed(&run), "22 announced, none listed: {run:?}");
    assert!(
        run.stderr
            .contains("announced 22 messages (EXISTS) but listed 0 UIDs"),
        "{}",
        run.stderr
    );
    assert!(desk.uids("INBOX").is_empty());
    assert_eq!(desk.inbox_cursor(), 0);
    let recorded = desk.missing();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].0, 0, "a gap no UID names is kept as UID 0");
    assert!(recorded[0].1.contains("22 unaccounted for"), "{recorded:?}");

    server.set(|b| {
        b.empty_listing = false;
        b.empty_seq_listing = false;
    });
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=22).collect::<Vec<_>>());
    assert!(desk.missing().is_empty(), "{:?}", desk.missing());
}

#[test]
fn a_uid_listing_short_of_exists_is_completed_by_a_listing_by_sequence_numbers() {
    let server = BadImap::start(Behaviour {
        empty_listing: true,
        ..inbox(1..=22)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=22).collect::<Vec<_>>());
    assert!(
        server.commands().iter().any(|c| c.starts_with("FETCH 1:*")),
        "listed a second way: {:?}",
        server.commands()
    );
}

#[test]
fn a_bye_in_the_middle_of_a_fetch_keeps_what_came_and_fails_clearly() {
    let server = BadImap::start(Behaviour {
        bye_after_bodies: Some(4),
        ..inbox(1..=10)
    });
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert!(failed(&run), "{run:?}");
    // 75 (EX_TEMPFAIL): the connection was lost; running it again is the fix.
    assert_eq!(run.code, Some(75), "{run:?}");
    assert!(
        run.stderr.contains("127.0.0.1") && run.stderr.contains("BYE"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    let missing: Vec<u32> = desk.missing().iter().map(|m| m.0).collect();
    let stored = desk.uids("INBOX");
    let mut all = stored.clone();
    all.extend(&missing);
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=10).collect::<Vec<_>>(),
        "every UID stored or recorded missing"
    );

    server.set(|b| b.bye_after_bodies = None);
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), (1..=10).collect::<Vec<_>>());
    assert!(desk.missing().is_empty());
}

/// `mailbox::find` against a server's LIST answer.
fn find_role(
    list: Vec<(&str, &str)>,
    role: secdesk::mailio::imap::mailbox::Role,
) -> Option<String> {
    use secdesk::mailio::imap::{connect, mailbox, Endpoint, Security};
    let server = BadImap::start(Behaviour {
        list: list
            .into_iter()
            .map(|(a, n)| (a.to_string(), n.to_string()))
            .collect(),
        ..inbox(1..=1)
    });
    let endpoint = Endpoint::new("127.0.0.1", server.port, Security::Plain);
    let mut session = connect(&endpoint, "security", "pw").expect("log in");
    mailbox::find(&endpoint, &mut session, role).expect("LIST")
}

#[test]
fn special_use_finds_sent_and_junk_and_usual_names_are_the_fallback() {
    use secdesk::mailio::imap::mailbox::Role;
    let marked = vec![
        ("\\HasNoChildren", "INBOX"),
        ("\\HasNoChildren \\Sent", "\"Envoy&AOk-s\""),
        ("\\HasNoChildren \\Junk", "Pourriel"),
        ("\\HasNoChildren", "Sent"),
    ];
    assert_eq!(
        find_role(marked.clone(), Role::Sent).as_deref(),
        Some("Envoyés")
    );
    assert_eq!(find_role(marked, Role::Junk).as_deref(), Some("Pourriel"));
    // No SPECIAL-USE: a usual name the server lists.
    let plain = vec![
        ("\\HasNoChildren", "INBOX"),
        ("\\HasNoChildren", "\"Sent Items\""),
    ];
    assert_eq!(
        find_role(plain.clone(), Role::Sent).as_deref(),
        Some("Sent Items")
    );
    assert_eq!(find_role(plain, Role::Junk), None);
}

#[test]
fn a_server_with_no_extension_at_all_is_synced_with_imap4rev1_alone() {
    // The test server announces only IMAP4rev1: no IDLE, UIDPLUS, MOVE, CONDSTORE,
    // SPECIAL-USE nor LITERAL+.
    let server = BadImap::start(inbox(1..=4));
    let desk = SyncDesk::loopback(server.port, "");
    let run = desk.sync_bounded();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(desk.uids("INBOX"), vec![1, 2, 3, 4]);
    let used: Vec<String> = server.commands();
    for ext in ["IDLE", "MOVE", "CHANGEDSINCE", "ENABLE", "UID SEARCH"] {
        assert!(
            !used
                .iter()
                .any(|c| c.to_ascii_uppercase().starts_with(ext) || c.contains(ext)),
            "{ext} used: {used:?}"
        );
    }
}

/// The desk's sync worker (`Watch`) on the test server at `port`, syncing `mailboxes`
/// (a TOML array) with `sync` in `[sync]`. The folder holds its config and store.
fn watch_on(port: u16, mailboxes: &str, sync: &str) -> (tempfile::TempDir, Watch) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[imap]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
             username = \"security\"\npassword = \"pw\"\nmailboxes = {mailboxes}\n\n\
             [store]\npath = {:?}\n\n\
             [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n\n\
             [sync]\n{sync}\n",
            dir.path().join("secdesk.db")
        ),
    )
    .expect("write config");
    // The password is in the file, which must then be private.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let watch = Watch::new(Config::load(&path).expect("config"));
    (dir, watch)
}

#[test]
fn the_desk_polls_a_server_without_idle_and_syncs_each_mailbox() {
    let mut b = inbox(1..=2);
    let held = support::message("mod1@example.net", "held", "x");
    b.mailboxes
        .push(("Moderation".to_string(), vec![(1, held)]));
    let server = BadImap::start(b);
    let (_dir, mut watch) = watch_on(
        server.port,
        "[\"INBOX\", \"Moderation\"]",
        "poll_seconds = 1\ntimeout_seconds = 3",
    );
    let round = watch.round().expect("first round");
    assert_eq!(round.new_messages, 3);
    assert!(!round.idle, "the server has no IDLE: the desk polls");

    let late = support::message("late@example.net", "late report", "x");
    server.set(|b| b.mailboxes[0].1.push((3, late)));
    let started = Instant::now();
    watch.wait();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_eq!(watch.round().expect("second round").new_messages, 1);
    assert!(
        !server.commands().iter().any(|c| c.starts_with("IDLE")),
        "{:?}",
        server.commands()
    );
}

#[test]
fn a_drip_during_idle_ends_the_wait_and_the_next_round_logs_in_again() {
    let server = BadImap::start(Behaviour {
        capabilities: vec!["IDLE".to_string()],
        drip_idle: Some(Duration::from_millis(500)),
        ..inbox(1..=2)
    });
    let (_dir, mut watch) = watch_on(
        server.port,
        "[\"INBOX\"]",
        "poll_seconds = 1\ntimeout_seconds = 2",
    );
    let round = watch.round().expect("first round");
    assert!(round.idle, "the server announces IDLE");
    let started = Instant::now();
    // Each dripped byte is progress within timeout_seconds; only the deadline
    // (poll 1 s + timeout 2 s) ends the wait.
    watch.wait();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(6), "{waited:?}");
    assert!(server.commands().iter().any(|c| c.starts_with("IDLE")));
    let logins = server.logins();
    assert_eq!(watch.round().expect("the next round").new_messages, 0);
    assert_eq!(
        server.logins(),
        logins + 1,
        "the dripped session was dropped"
    );
}

#[test]
fn the_desk_does_not_send_a_refused_password_again() {
    // Before, the desk's worker logged in again after every backoff (2 s, 4 s, … then every
    // 5 minutes, for as long as the desk was open) with the same cached password.
    let server = BadImap::start(Behaviour {
        refuse_login: true,
        ..inbox(1..=2)
    });
    let (_dir, mut watch) = watch_on(
        server.port,
        "[\"INBOX\"]",
        "poll_seconds = 1\ntimeout_seconds = 3",
    );
    let first = watch.round().expect_err("the login is refused");
    assert!(first.contains("login refused for user security"), "{first}");
    assert!(first.contains("fix it, then restart secdesk"), "{first}");
    assert!(
        !first.contains("\"pw\""),
        "the password in an error: {first}"
    );
    for _ in 0..3 {
        let again = watch.round().expect_err("still refused");
        assert_eq!(again, first);
    }
    assert_eq!(server.logins(), 1, "{:?}", server.commands());
}

/// The desk's round meets a server that gave a stored UID to a new message (same
/// UIDVALIDITY): it stores the new message (it would never have been asked for), and its
/// status line says the mailbox was listed again, not that mail is missing.
#[test]
fn the_desks_round_catches_a_server_that_gave_a_stored_uid_to_a_new_message() {
    let server = BadImap::start(inbox(1..=3));
    let (dir, mut watch) = watch_on(server.port, "[\"INBOX\"]", "poll_seconds = 1");
    let first = watch.round().expect("first round");
    assert_eq!(first.new_messages, 3);
    let new = support::message("new@example.net", "the new report", "x");
    server.set(|b| {
        let inbox = &mut b.mailboxes[0].1;
        let third = inbox[2].1.clone();
        inbox[2].1 = new;
        inbox.push((4, third));
    });
    let round = watch.round().expect("a renumbered mailbox is no failure");
    let line = secdesk::cli::desk::round_line(&round);
    assert!(
        line.contains("the server now gives UID 3 to another message than the one stored under it")
            && line.contains("listed again from UID 1")
            && !line.contains("mail missing"),
        "{line}"
    );
    assert_eq!(round.new_messages, 1, "{line}");
    let conn = rusqlite::Connection::open(dir.path().join("secdesk.db")).unwrap();
    let uid: u32 = conn
        .query_row(
            "SELECT uid FROM messages WHERE message_id IN ('new@example.net', '<new@example.net>')",
            [],
            |r| r.get(0),
        )
        .expect("the new message is stored");
    assert_eq!(uid, 3);
    // Agreed again: the next round is quiet.
    let again = watch.round().expect("third round");
    assert!(
        !secdesk::cli::desk::round_line(&again).contains("listed again"),
        "{}",
        secdesk::cli::desk::round_line(&again)
    );
}

/// A server that takes no LOGIN on this connection (LOGINDISABLED) will not take one at the
/// next round either: the desk says what to change and does not connect again until it is
/// restarted. Before, it connected again after every backoff, all day.
#[test]
fn the_desk_does_not_connect_again_to_a_server_that_takes_no_login() {
    let server = BadImap::start(Behaviour {
        login_disabled: true,
        ..inbox(1..=2)
    });
    let (_dir, mut watch) = watch_on(
        server.port,
        "[\"INBOX\"]",
        "poll_seconds = 1\ntimeout_seconds = 3",
    );
    let first = watch.round().expect_err("no LOGIN on this connection");
    assert!(first.contains("LOGINDISABLED"), "{first}");
    assert!(
        first.contains(
            "the desk does not try again until the config is changed and secdesk restarted"
        ),
        "{first}"
    );
    let connections = server.connections();
    for _ in 0..3 {
        assert_eq!(watch.round().expect_err("still refused"), first);
    }
    assert_eq!(server.connections(), connections);
    assert_eq!(server.logins(), 0, "{:?}", server.commands());
}

/// The desk's round with a message in INBOX whose every FETCH answer breaks the session:
/// once it is fetched after the others, its failure is a gap the round names in the status
/// line, not the round's failure (no logout, no backoff), nor the end of the round: the desk
/// logs in again and syncs the mailbox listed after it (there, the team's moderation mailbox).
#[test]
fn the_desks_round_syncs_later_mailboxes_past_a_message_that_always_breaks_the_fetch() {
    let (_server, dir, mut watch) = desk_with_broken_uids(vec![3], 5);
    // The first two rounds break on the batch holding UID 3 (as any broken session would);
    // from the third, UID 3 is fetched after the others.
    for _ in 0..2 {
        let _ = watch.round();
    }
    for _ in 0..2 {
        let r = watch.round().expect("a gap is no failure of the round");
        // What the desk's status line says: the round ran, mail is missing, and which.
        let line = secdesk::cli::desk::round_line(&r);
        assert!(
            line.starts_with("synced:")
                && line.contains("sync incomplete, mail missing")
                && line.contains("mailbox \"INBOX\"")
                && line.contains("UID 3"),
            "{line}"
        );
        // Neither logged out nor backing off: the next round comes as usual.
        assert_eq!(watch.failures_in_a_row(), 0, "{line}");
    }
    let uids = stored_uids(dir.path());
    assert_eq!(uids("INBOX"), vec![1, 2, 4, 5]);
    assert_eq!(uids("Moderation"), vec![1], "the next mailbox is synced");
}

/// The desk's round with a message whose every FETCH answer breaks the session: once it
/// failed after the others too, each round (every poll, every new mail) asked for it again
/// and logged in again for it, all day. Now later rounds leave it for a wait that doubles
/// with each failure, still naming the gap and when it is asked for again; `secdesk sync`,
/// run by hand, asks at once.
#[test]
fn the_desk_asks_again_for_a_message_that_always_breaks_the_fetch_only_after_a_wait() {
    let (server, dir, mut watch) = desk_with_broken_uids(vec![3], 5);
    let fetches_of_3 = || {
        server
            .commands()
            .iter()
            .filter(|c| c.starts_with("UID FETCH 3 ") && c.contains("BODY.PEEK"))
            .count()
    };
    // Twice in its place in UID order, once after the others (a new login after it).
    for _ in 0..3 {
        let _ = watch.round();
    }
    let (fetched, logins) = (fetches_of_3(), server.logins());
    assert_eq!(fetched, 2, "{:?}", server.commands());
    for _ in 0..3 {
        let r = watch.round().expect("a gap is no failure of the round");
        let line = secdesk::cli::desk::round_line(&r);
        assert!(
            line.contains("sync incomplete, mail missing")
                && line.contains("UID 3")
                && line.contains("its FETCH failed 3 times, the desk asks for it again after"),
            "{line}"
        );
    }
    assert_eq!(fetches_of_3(), fetched, "asked for again before its wait");
    assert_eq!(server.logins(), logins, "logged in again for nothing new");
    assert_eq!(stored_uids(dir.path())("INBOX"), vec![1, 2, 4, 5]);

    // The wait (a minute after the third failure) is over.
    let store = rusqlite::Connection::open(dir.path().join("secdesk.db")).expect("store");
    let minutes_ago = |m: i64| {
        (chrono::Utc::now() - chrono::Duration::minutes(m))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    store
        .execute("UPDATE imap_missing SET last_tried = ?1", [minutes_ago(2)])
        .expect("age the last try");
    let r = watch.round().expect("a gap is no failure of the round");
    assert_eq!(
        fetches_of_3(),
        fetched + 1,
        "asked for once the wait is over"
    );
    assert!(secdesk::cli::desk::round_line(&r).contains("UID 3"));
    // Failed a fourth time: two minutes now, so one minute ago is too early.
    store
        .execute("UPDATE imap_missing SET last_tried = ?1", [minutes_ago(1)])
        .expect("age the last try");
    let r = watch.round().expect("a gap is no failure of the round");
    assert_eq!(
        fetches_of_3(),
        fetched + 1,
        "asked for before its longer wait"
    );
    assert!(
        secdesk::cli::desk::round_line(&r).contains("failed 4 times"),
        "{r:?}"
    );
    // A last try later than now (a clock set back, a store from another machine) would hold
    // it back until then, its time never written again: it is due.
    store
        .execute(
            "UPDATE imap_missing SET last_tried = ?1",
            [minutes_ago(-30 * 60)],
        )
        .expect("a last try in the future");
    watch.round().expect("a gap is no failure of the round");
    assert_eq!(fetches_of_3(), fetched + 2, "a time to come is no wait");

    // `secdesk sync` by hand does not wait: the mail may be wanted now.
    let run = support::measure::run(
        {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_secdesk"));
            cmd.arg("--config")
                .arg(dir.path().join("config.toml"))
                .arg("sync");
            cmd
        },
        Duration::from_secs(60),
    );
    assert_ne!(
        run.code,
        Some(0),
        "a sync with a message missing fails: {run:?}"
    );
    assert!(run.stderr.contains("UID 3"), "{}", run.stderr);
    assert_eq!(fetches_of_3(), fetched + 3, "{:?}", server.commands());
}

/// The desk's round with three messages in INBOX whose every FETCH answer breaks the
/// session: once its two new logins were spent, the third failed the round (logged out,
/// backing off) and the moderation mailbox after INBOX was never synced while the three
/// stayed. Now the round asks for none past the limit: it names the gap, is no failure, and
/// syncs the moderation mailbox.
#[test]
fn the_desks_round_goes_on_past_the_new_login_limit() {
    let (server, dir, mut watch) = desk_with_broken_uids(vec![2, 4, 6], 8);
    // Each of the three ends a round twice in its place in UID order first.
    for _ in 0..5 {
        let _ = watch.round();
    }
    for _ in 0..2 {
        let before = server.logins();
        let r = watch.round().expect("a gap is no failure of the round");
        let line = secdesk::cli::desk::round_line(&r);
        assert!(
            line.contains("sync incomplete, mail missing") && line.contains("mailbox \"INBOX\""),
            "{line}"
        );
        assert_eq!(watch.failures_in_a_row(), 0, "{line}");
        assert!(server.logins() - before <= 2, "{line}");
    }
    let uids = stored_uids(dir.path());
    assert_eq!(uids("INBOX"), vec![1, 3, 5, 7, 8], "the good mail of INBOX");
    assert_eq!(uids("Moderation"), vec![1], "the next mailbox is synced");
}

/// A desk syncing INBOX (UIDs 1 to `last`, those in `broken` answered with a literal longer
/// than announced, on every FETCH) and then a moderation mailbox holding one message.
fn desk_with_broken_uids(broken: Vec<u32>, last: u32) -> (BadImap, tempfile::TempDir, Watch) {
    let mut b = Behaviour {
        literal_too_long: broken,
        ..inbox(1..=last)
    };
    let held = support::message("mod1@example.net", "held", "x");
    b.mailboxes
        .push(("Moderation".to_string(), vec![(1, held)]));
    let server = BadImap::start(b);
    let (dir, watch) = watch_on(
        server.port,
        "[\"INBOX\", \"Moderation\"]",
        "poll_seconds = 1\ntimeout_seconds = 3",
    );
    (server, dir, watch)
}

/// The UIDs stored in the desk's store in `dir`, by mailbox.
fn stored_uids(dir: &std::path::Path) -> impl Fn(&str) -> Vec<u32> {
    let conn = rusqlite::Connection::open(dir.join("secdesk.db")).expect("store");
    move |mailbox: &str| {
        conn.prepare("SELECT uid FROM messages WHERE mailbox = ?1 ORDER BY uid")
            .and_then(|mut s| {
                s.query_map([mailbox], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .expect("query")
    }
}
