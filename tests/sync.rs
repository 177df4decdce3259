//! `secdesk sync` end to end: the real binary against a real Dovecot, checked
//! through what a user sees (exit status, output, the store's contents) and
//! what the server saw (flags, the bodies it served).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{message, reply, Dovecot};

const USER: &str = "security";
const PASSWORD: &str = "s3cret-Pa55word";
const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A config file and database for one desk.
struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(server: &Dovecot) -> Desk {
        Desk::with(server, server.imaps_port, "tls", "INBOX", true)
    }

    fn with(server: &Dovecot, port: u16, security: &str, mailbox: &str, ca: bool) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_line = if ca {
            format!("ca_file = {:?}\n", server.ca_file())
        } else {
            String::new()
        };
        let config = format!(
            "[imap]\nhost = \"localhost\"\nport = {port}\nsecurity = \"{security}\"\n\
             username = \"{USER}\"\npassword_env = \"{PASSWORD_VAR}\"\n{ca_line}\
             mailbox = \"{mailbox}\"\n\n[store]\npath = {:?}\n\n\
             [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n",
            dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("secdesk.db")
    }

    fn command(&self, password: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        cmd.arg("--config")
            .arg(self.config())
            .arg("sync")
            .args(extra)
            .env(PASSWORD_VAR, password)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `secdesk sync` to completion (or panics after a timeout).
    fn sync_with(&self, password: &str, extra: &[&str]) -> Output {
        let mut child = self.command(password, extra).spawn().expect("run secdesk");
        let deadline = Instant::now() + RUN_TIMEOUT;
        while child.try_wait().expect("poll secdesk").is_none() {
            if Instant::now() > deadline {
                child.kill().ok();
                let out = child.wait_with_output().expect("collect secdesk output");
                panic!(
                    "secdesk sync still running after {RUN_TIMEOUT:?}\nstderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait_with_output().expect("collect secdesk output")
    }

    /// `secdesk sync --verbose`, asserted successful; returns stdout.
    fn sync_ok(&self, server: &Dovecot) -> String {
        let out = self.sync_with(PASSWORD, &["--verbose"]);
        assert!(
            out.status.success(),
            "sync failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log_tail()
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("open store")
    }

    fn count(&self, table: &str) -> i64 {
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count rows")
    }

    /// Report id of the message with this Message-ID (stored without brackets or with).
    fn report_of(&self, message_id: &str) -> i64 {
        self.conn()
            .query_row(
                "SELECT report_id FROM messages WHERE message_id IN (?1, ?2)",
                [message_id.to_string(), format!("<{message_id}>")],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("message {message_id} not stored: {e}"))
    }

    fn cursor(&self) -> (u32, u32) {
        self.conn()
            .query_row(
                "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = 'INBOX'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("cursor stored")
    }

    /// Everything that must match between two stores holding the same mail:
    /// the messages (by content hash), grouped into reports, and the cursor.
    fn snapshot(&self) -> Snapshot {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT report_id, lower(hex(content_hash)) FROM messages")
            .expect("prepare");
        let mut groups: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .expect("query messages");
        let mut messages = 0;
        for row in rows {
            let (report, hash) = row.expect("row");
            groups.entry(report).or_default().insert(hash);
            messages += 1;
        }
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        Snapshot {
            messages,
            reports: self.count("reports"),
            threads: groups.into_values().collect(),
            cursor: self.cursor(),
            integrity,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    messages: usize,
    reports: i64,
    /// Each report's set of message hashes: same threads, whatever the ids.
    threads: BTreeSet<BTreeSet<String>>,
    cursor: (u32, u32),
    integrity: String,
}

fn server() -> Dovecot {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server
}

/// How many message bodies Dovecot served in its most recent finished session
/// (its logout line reports `body_count`).
fn bodies_served_last(server: &Dovecot) -> u64 {
    session_ends(server)
        .last()
        .copied()
        .unwrap_or_else(|| panic!("no logout line in the dovecot log\n{}", server.log_tail()))
}

/// The `body_count` of every finished session of USER, oldest first.
fn session_ends(server: &Dovecot) -> Vec<u64> {
    let log = std::fs::read_to_string(server.dir().join("dovecot.log")).expect("dovecot log");
    log.lines()
        .filter(|l| l.contains(&format!("imap({USER})")) && l.contains("Disconnected"))
        .filter_map(|l| {
            let rest = &l[l.find(" body_count=")? + " body_count=".len()..];
            rest.split_whitespace().next()?.parse().ok()
        })
        .collect()
}

/// Runs a sync and returns how many message bodies its own IMAP session downloaded.
/// Dovecot logs a session's end a moment after the client leaves, so this waits for it.
fn sync_counting_bodies(desk: &Desk, server: &Dovecot) -> (String, u64) {
    let before = session_ends(server).len();
    let out = desk.sync_ok(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while session_ends(server).len() <= before {
        assert!(
            Instant::now() < deadline,
            "dovecot never logged the end of the sync session\n{}",
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (out, bodies_served_last(server))
}

/// The one line a failed sync prints, asserted to be exactly one line on
/// stderr, nothing on stdout, a failure exit, and no password anywhere.
fn single_error_line(out: &Output) -> String {
    assert!(!out.status.success(), "sync should have failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.is_empty(), "stdout: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(
        !stderr.contains(PASSWORD) && !stderr.contains("wrong-pw"),
        "{stderr}"
    );
    stderr.trim().to_string()
}

#[test]
fn first_sync_stores_every_message_and_says_so() {
    let server = server();
    server.append_all(
        USER,
        "INBOX",
        &[
            message("r1@example.net", "XSS in search", "steps to reproduce"),
            message("r2@example.net", "Open redirect", "details"),
            reply(
                "a1@example.org",
                "r1@example.net",
                "XSS in search",
                "thanks",
            ),
        ],
    );
    let desk = Desk::new(&server);
    let out = desk.sync_ok(&server);
    assert!(
        out.starts_with("fetched 3 new messages, 2 new reports in ") && out.ends_with(" s\n"),
        "{out:?}"
    );
    assert_eq!(desk.count("messages"), 3);
    assert_eq!(desk.count("reports"), 2);
    assert_eq!(desk.cursor().1, 3);
}

#[test]
fn incremental_sync_fetches_only_new_mail_and_is_quiet_without_a_terminal() {
    let server = server();
    server.append_all(
        USER,
        "INBOX",
        &[message("i1@x", "one", "1"), message("i2@x", "two", "2")],
    );
    let desk = Desk::new(&server);
    // Not a terminal and no --verbose: success prints nothing.
    let out = desk.sync_with(PASSWORD, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert_eq!(desk.count("messages"), 2);

    server.append_all(
        USER,
        "INBOX",
        &[message("i3@x", "three", "3"), message("i4@x", "four", "4")],
    );
    let (out, bodies) = sync_counting_bodies(&desk, &server);
    assert!(
        out.starts_with("fetched 2 new messages, 2 new reports"),
        "{out}"
    );
    assert_eq!(bodies, 2, "only the new mail is downloaded");
    assert_eq!(desk.count("messages"), 4);

    let (out, bodies) = sync_counting_bodies(&desk, &server);
    assert!(
        out.starts_with("fetched 0 new messages, 0 new reports"),
        "{out}"
    );
    assert_eq!(bodies, 0);
}

#[test]
fn a_reply_joins_the_report_it_answers() {
    let server = server();
    server.append(USER, "INBOX", &message("t1@x", "SQLi in login", "payload"));
    let desk = Desk::new(&server);
    desk.sync_ok(&server);

    server.append_all(
        USER,
        "INBOX",
        &[
            reply("t2@x", "t1@x", "SQLi in login", "we are looking"),
            message("t3@x", "Unrelated", "new report"),
        ],
    );
    let out = desk.sync_ok(&server);
    assert!(
        out.starts_with("fetched 2 new messages, 1 new report in"),
        "{out}"
    );
    assert_eq!(desk.report_of("t2@x"), desk.report_of("t1@x"));
    assert_ne!(desk.report_of("t3@x"), desk.report_of("t1@x"));
    assert_eq!(desk.count("reports"), 2);
}

#[test]
fn uidvalidity_reset_neither_duplicates_nor_loses_mail() {
    let mut server = server();
    server.append_all(
        USER,
        "INBOX",
        &[
            message("u1@x", "one", "1"),
            message("u2@x", "two", "2"),
            reply("u3@x", "u1@x", "one", "3"),
        ],
    );
    let desk = Desk::new(&server);
    desk.sync_ok(&server);
    let (old_validity, _) = desk.cursor();

    let new_validity = server.reset_uidvalidity(USER, "INBOX");
    assert_ne!(old_validity, new_validity);
    server.append(USER, "INBOX", &message("u4@x", "four", "4"));

    let out = desk.sync_ok(&server);
    assert!(
        out.starts_with("fetched 1 new message, 1 new report in")
            && out.contains("(3 already stored, mailbox UIDVALIDITY changed)"),
        "{out}"
    );
    assert_eq!(desk.count("messages"), 4);
    assert_eq!(desk.count("reports"), 3);
    assert_eq!(desk.cursor(), (new_validity, 4));

    // Back to incremental under the new UIDVALIDITY.
    server.append(USER, "INBOX", &message("u5@x", "five", "5"));
    let (out, bodies) = sync_counting_bodies(&desk, &server);
    assert!(out.starts_with("fetched 1 new message"), "{out}");
    assert_eq!(bodies, 1);
}

/// A server that gives a stored UID to a new message without changing UIDVALIDITY (Courier
/// did, its UID file rewritten after its process was killed; RFC 3501 §2.3.1.1 forbids it)
/// is caught before its cursor is trusted: the new message is stored, not skipped for good.
/// Dovecot is made to do it by rewriting its `dovecot-uidlist` while stopped: the new
/// message takes UID 3, the stored third one moves to 4, the same UIDVALIDITY.
#[test]
fn a_server_that_gives_a_stored_uid_to_a_new_message_is_caught() {
    let mut server = server();
    server.append_all(
        USER,
        "INBOX",
        &[
            message("r1@x", "one", "1"),
            message("r2@x", "two", "2"),
            message("r3@x", "three", "3"),
        ],
    );
    let desk = Desk::new(&server);
    desk.sync_ok(&server);
    let (validity, cursor) = desk.cursor();
    assert_eq!(cursor, 3);

    server.stop();
    let dir = server.maildir(USER, "INBOX");
    let uidlist = std::fs::read_to_string(dir.join("dovecot-uidlist")).expect("uidlist");
    let mut lines = uidlist.lines();
    let header = lines.next().expect("uidlist header");
    let files: Vec<String> = lines
        .map(|l| {
            l.split_once(':')
                .map(|(_, f)| f.to_string())
                .unwrap_or_else(|| panic!("uidlist line {l:?}"))
        })
        .collect();
    assert_eq!(files.len(), 3, "{uidlist}");
    let new_file = "1700000000.renumbered.test:2,";
    std::fs::write(
        dir.join("cur").join(new_file),
        message("r4@x", "the new one", "4"),
    )
    .expect("write the new message");
    let header: Vec<String> = header
        .split(' ')
        .map(|f| {
            if f.starts_with('N') {
                "N5".to_string()
            } else {
                f.to_string()
            }
        })
        .collect();
    let rewritten = format!(
        "{}\n1 :{}\n2 :{}\n3 :{new_file}\n4 :{}\n",
        header.join(" "),
        files[0],
        files[1],
        files[2]
    );
    std::fs::write(dir.join("dovecot-uidlist"), rewritten).expect("rewrite uidlist");
    for entry in std::fs::read_dir(&dir).expect("maildir") {
        let entry = entry.expect("entry");
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("dovecot.index")
        {
            std::fs::remove_file(entry.path()).expect("remove index");
        }
    }
    server.restart();
    assert_eq!(
        server.uidvalidity(USER, "INBOX"),
        validity,
        "Dovecot kept the UIDVALIDITY of its uidlist"
    );

    let out = desk.sync_with(PASSWORD, &["--verbose"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("mailbox \"INBOX\": the server now gives UID 3 to another message than the one stored under it")
            && stderr.contains("listed again from UID 1"),
        "{stderr}"
    );
    desk.report_of("r4@x");
    assert_eq!(desk.count("messages"), 4);
    assert_eq!(desk.cursor(), (validity, 4));
    // The stored messages carry the UIDs they have now, so the next sync compares them
    // and is incremental again.
    let uids: Vec<(String, u32)> = {
        let conn = desk.conn();
        let mut stmt = conn
            .prepare("SELECT message_id, uid FROM messages ORDER BY uid")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows
    };
    let ids: Vec<(&str, u32)> = uids
        .iter()
        .map(|(id, uid)| (id.trim_matches(|c| c == '<' || c == '>'), *uid))
        .collect();
    assert_eq!(ids, [("r1@x", 1), ("r2@x", 2), ("r4@x", 3), ("r3@x", 4)]);
    server.append(USER, "INBOX", &message("r5@x", "five", "5"));
    let (out, bodies) = sync_counting_bodies(&desk, &server);
    assert!(out.starts_with("fetched 1 new message"), "{out}");
    assert_eq!(bodies, 1);
}

#[test]
fn sync_leaves_messages_unread_on_the_server() {
    let server = server();
    server.append_all(
        USER,
        "INBOX",
        &[message("s1@x", "one", "1"), message("s2@x", "two", "2")],
    );
    let desk = Desk::new(&server);
    desk.sync_ok(&server);
    let flags = server.flags(USER, "INBOX");
    assert_eq!(flags.len(), 2);
    for (uid, f) in flags {
        assert!(
            !f.iter().any(|x| x.contains("Seen")),
            "UID {uid} was marked read: {f:?}"
        );
    }
}

/// Permission bits of the store and of whichever WAL files exist.
fn store_modes(desk: &Desk) -> Vec<(String, u32)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let path = PathBuf::from(format!("{}{suffix}", desk.db().display()));
            let meta = std::fs::metadata(&path).ok()?;
            Some((
                path.display().to_string(),
                meta.permissions().mode() & 0o777,
            ))
        })
        .collect()
}

#[test]
fn sigkill_at_any_moment_then_resync_equals_an_uninterrupted_sync() {
    const TOTAL: usize = 1200;
    const KILLS: usize = 20;
    let server = server();
    // Small reports, every fifth one answered later on, so threads span batches.
    let mut mail = Vec::with_capacity(TOTAL);
    for i in 0..TOTAL {
        if i % 5 == 4 {
            let parent = format!("k{}@x", i - 3);
            mail.push(reply(
                &format!("k{i}@x"),
                &parent,
                "report",
                &format!("reply {i}"),
            ));
        } else {
            mail.push(message(
                &format!("k{i}@x"),
                &format!("report {i}"),
                &format!("body {i}"),
            ));
        }
    }
    server.write_maildir(USER, "INBOX", &mail);

    // Timed with the kills' own batch size, which makes the sync longer than the default.
    let reference = Desk::new(&server);
    let started = Instant::now();
    let out = reference.sync_with(PASSWORD, &["--verbose", "--batch-size", "100"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = started.elapsed();
    let expected = reference.snapshot();
    assert_eq!(expected.messages, TOTAL);
    assert_eq!(expected.integrity, "ok");

    // Kills come in pairs on a fresh desk: one during the first sync, one during the sync
    // that resumes it; then a clean sync must equal the uninterrupted one. Each kill lands at
    // a seeded moment within a full sync's time; small batches make many commit points.
    let mut rng = support::SeededRng::from_env(5);
    let mut mid_sync = 0;
    let mut wal_seen = false;
    let mut desk = Desk::new(&server);
    let mut window = full;
    for kill in 0..KILLS {
        if kill % 2 == 0 {
            desk = Desk::new(&server);
        }
        let mut child = desk
            .command(PASSWORD, &["--batch-size", "100"])
            .spawn()
            .expect("run secdesk");
        // A fresh desk spends its first moments starting (the classifier, the login, the
        // listing) before the first batch commits: half of its kills are aimed past the
        // first quarter; the others, and a resumed sync's, at any moment.
        let earliest = if kill % 4 == 2 {
            window.as_millis() as u64 / 4
        } else {
            0
        };
        let delay = Duration::from_millis(rng.between(earliest, window.as_millis() as u64 + 1));
        let deadline = Instant::now() + delay;
        while Instant::now() < deadline && child.try_wait().expect("poll").is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        if child.try_wait().expect("poll").is_some() {
            // It finished first: the machine got faster than when `full` was measured
            // (other tests ended). Aim the next kills earlier.
            window = window * 3 / 4;
        }
        child.kill().ok(); // Child::kill sends SIGKILL
        child.wait().expect("reap secdesk");
        let stored = if desk.db().exists() {
            let modes = store_modes(&desk);
            wal_seen |= modes.len() == 3;
            for (path, mode) in modes {
                assert_eq!(mode, 0o600, "{path} after kill {kill}");
            }
            let integrity: String = desk
                .conn()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("integrity_check");
            assert_eq!(integrity, "ok", "after kill {kill} at {delay:?}");
            // A kill can land after the file is created and before the schema is.
            let tables: i64 = desk
                .conn()
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'messages'",
                    [],
                    |r| r.get(0),
                )
                .expect("read schema");
            if tables == 1 {
                desk.count("messages") as usize
            } else {
                0
            }
        } else {
            0
        };
        eprintln!("kill {kill} after {delay:?} of a {full:?} sync: {stored} of {TOTAL} stored");
        if kill % 2 == 0 && stored == 0 && delay > window / 2 {
            // Nothing committed past half the window: the machine got slower than when
            // `full` was measured (other tests started). Aim the next kills later.
            window = window * 5 / 4;
        }
        if stored > 0 && stored < TOTAL {
            mid_sync += 1;
        }
        if kill % 2 == 1 {
            desk.sync_ok(&server);
            assert_eq!(desk.snapshot(), expected, "after kill {kill} at {delay:?}");
        }
    }
    assert!(
        mid_sync >= 2,
        "only {mid_sync} of {KILLS} kills landed between the first and the last batch (a full sync takes {full:?})"
    );
    assert!(wal_seen, "no kill left the WAL files to check");
}

#[test]
fn wrong_password_is_one_line_without_the_password_and_leaves_the_store_alone() {
    let server = server();
    server.append(USER, "INBOX", &message("w1@x", "one", "1"));
    let desk = Desk::new(&server);

    let line = single_error_line(&desk.sync_with("wrong-pw", &["--verbose"]));
    assert!(
        line.contains(
            "login refused for user security at localhost: check password_command/password_env"
        ),
        "{line}"
    );
    assert!(
        !desk.db().exists(),
        "a failed first sync must not create the store"
    );

    desk.sync_ok(&server);
    let before = std::fs::read(desk.db()).expect("read store");
    single_error_line(&desk.sync_with("wrong-pw", &[]));
    assert_eq!(std::fs::read(desk.db()).expect("read store"), before);
}

#[test]
fn server_not_listening_is_one_line_naming_host_and_port() {
    let server = server();
    let port = support::free_port();
    let desk = Desk::with(&server, port, "tls", "INBOX", true);
    let line = single_error_line(&desk.sync_with(PASSWORD, &[]));
    assert!(
        line.contains(&format!("cannot reach IMAP server localhost:{port}")),
        "{line}"
    );
    assert!(!desk.db().exists());
}

#[test]
fn bad_mailbox_name_is_one_line_naming_the_mailbox() {
    let server = server();
    let desk = Desk::with(&server, server.imaps_port, "tls", "No/Such Folder", true);
    let line = single_error_line(&desk.sync_with(PASSWORD, &[]));
    assert!(
        line.contains("mailbox \"No/Such Folder\" cannot be opened"),
        "{line}"
    );
    assert!(!desk.db().exists());
}

#[test]
fn starttls_against_a_server_without_it_refuses_to_continue() {
    let server = Dovecot::start_without_tls();
    server.add_user(USER, PASSWORD);
    let desk = Desk::with(&server, server.imap_port, "starttls", "INBOX", true);
    let line = single_error_line(&desk.sync_with(PASSWORD, &[]));
    assert!(
        line.contains("does not offer STARTTLS; refusing to continue in plaintext"),
        "{line}"
    );
    assert!(!desk.db().exists());
    assert!(
        !server.log_tail().contains("Login: user=<security>"),
        "credentials were sent"
    );
}

#[test]
fn untrusted_certificate_points_at_ca_file() {
    let server = server();
    let desk = Desk::with(&server, server.imaps_port, "tls", "INBOX", false);
    let line = single_error_line(&desk.sync_with(PASSWORD, &[]));
    assert!(
        line.contains("certificate is not trusted") && line.contains("ca_file"),
        "{line}"
    );
    assert!(!desk.db().exists());
}

#[test]
fn starttls_and_loopback_plain_both_sync() {
    let server = server();
    server.append(USER, "INBOX", &message("p1@x", "one", "1"));
    for security in ["starttls", "plain"] {
        let desk = Desk::with(&server, server.imap_port, security, "INBOX", true);
        let out = desk.sync_ok(&server);
        assert!(
            out.starts_with("fetched 1 new message"),
            "{security}: {out}"
        );
    }
}

#[test]
fn a_sync_with_nothing_new_loads_no_classifier_and_one_with_new_mail_does() {
    let server = server();
    server.append(USER, "INBOX", &message("c1@x", "one", "1"));
    let desk = Desk::new(&server);
    desk.sync_ok(&server);
    // The rules file breaks after the first sync: a sync with nothing new never reads it.
    std::fs::write(desk.dir.path().join("rules.toml"), "[[rule]\nbroken = ").unwrap();
    let out = desk.sync_ok(&server);
    assert!(out.starts_with("fetched 0 new messages"), "{out}");
    // New mail needs the classifier: the broken file is named, nothing is stored unclassified.
    server.append(USER, "INBOX", &message("c2@x", "two", "2"));
    let out = desk.sync_with(PASSWORD, &["--verbose"]);
    assert!(!out.status.success());
    let err = single_error_line(&out);
    assert!(err.contains("rules.toml"), "{err}");
    assert_eq!(desk.count("messages"), 1);
}
