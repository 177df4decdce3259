//! Fault injection against the real binary: a TCP proxy between `secdesk sync` and a real
//! Dovecot cuts the connection in the middle of a FETCH, again and again, or stalls it;
//! `secdesk import` is SIGKILLed at seeded random moments. After every fault the store
//! passes `PRAGMA integrity_check` and, once a clean run has finished, holds exactly the
//! messages of the source: no duplicate, no gap.
//!
//! Delays and cut offsets come from a seeded generator; `SECDESK_FAULT_SEED=N` replays
//! another sequence.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::proxy::{Fault, Proxy};
use support::{Dovecot, SeededRng};

const USER: &str = "security";
const PASSWORD: &str = "fault-Pa55word";
const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A config and database for one desk, talking IMAPS to `port` (Dovecot or the proxy).
struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(server: &Dovecot, port: u16, timeout_seconds: u64) -> Desk {
        Desk::with_sync(
            server,
            port,
            &format!("timeout_seconds = {timeout_seconds}\n"),
        )
    }

    /// A desk whose `[sync]` section is `sync`.
    fn with_sync(server: &Dovecot, port: u16, sync: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "[imap]\nhost = \"localhost\"\nport = {port}\nsecurity = \"tls\"\n\
             username = \"{USER}\"\npassword_env = \"{PASSWORD_VAR}\"\nca_file = {ca:?}\n\n\
             [store]\npath = {db:?}\n\n\
             [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n\n\
             [sync]\n{sync}",
            ca = server.ca_file(),
            db = dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir }
    }

    /// A desk without IMAP, for import.
    fn offline() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "[store]\npath = {:?}\n\n[identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n",
            dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("secdesk.db")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        cmd.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env(PASSWORD_VAR, PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs secdesk to completion, or panics after [`RUN_TIMEOUT`]; returns the output
    /// and how long it took.
    fn run(&self, args: &[&str]) -> (Output, Duration) {
        let started = Instant::now();
        let mut child = self.command(args).spawn().expect("run secdesk");
        while child.try_wait().expect("poll secdesk").is_none() {
            if started.elapsed() > RUN_TIMEOUT {
                child.kill().ok();
                let out = child.wait_with_output().expect("collect output");
                panic!(
                    "secdesk {args:?} still running after {RUN_TIMEOUT:?}\nstderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let out = child.wait_with_output().expect("collect output");
        (out, started.elapsed())
    }

    /// Spawns `args`, SIGKILLs it after `delay` (if still running), reaps it.
    /// Returns whether the kill landed before the process finished on its own.
    fn kill_after(&self, args: &[&str], delay: Duration) -> bool {
        let mut child = self.command(args).spawn().expect("run secdesk");
        let started = Instant::now();
        while started.elapsed() < delay {
            if child.try_wait().expect("poll secdesk").is_some() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().expect("SIGKILL secdesk"); // Child::kill sends SIGKILL
        child.wait().expect("reap secdesk");
        true
    }

    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("open store")
    }

    fn integrity(&self) -> String {
        self.conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check")
    }

    /// Content hash of every stored message, and how many rows there are (a duplicate
    /// would make the row count exceed the set).
    fn stored(&self) -> (BTreeSet<String>, usize) {
        // A kill can land after the file is created and before the schema is: no table yet.
        if !self.db().exists() || !self.has_messages_table() {
            return (BTreeSet::new(), 0);
        }
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT lower(hex(content_hash)) FROM messages")
            .expect("prepare");
        let hashes: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let rows = hashes.len();
        (hashes.into_iter().collect(), rows)
    }

    fn has_messages_table(&self) -> bool {
        self.conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect("read schema")
            == 1
    }

    /// Message-IDs as stored (without brackets).
    fn message_ids(&self) -> BTreeSet<String> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT message_id FROM messages")
            .expect("prepare");
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .map(|r| r.expect("row").trim_matches(['<', '>']).to_string())
            .collect();
        ids
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failed run: non-zero exit, nothing on stdout, exactly one line on stderr.
fn one_error_line(out: &Output) -> String {
    assert!(!out.status.success(), "the run should have failed");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(!err.contains(PASSWORD), "{err}");
    err.trim().to_string()
}

fn hashes(raws: &[Vec<u8>]) -> BTreeSet<String> {
    raws.iter()
        .map(|r| secdesk::core::parse::content_hash(r))
        .collect()
}

/// `n` distinct reports of about 1.5 KB each, so a FETCH of a batch spans many TLS records.
fn mailbox(prefix: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            support::message(
                &format!("{prefix}{i}@fault.example"),
                &format!("report {i}"),
                &format!("body {i}\r\n{}", "steps to reproduce. ".repeat(70)),
            )
        })
        .collect()
}

fn server() -> Dovecot {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server
}

#[test]
fn sync_cut_mid_fetch_again_and_again_resumes_without_duplicate_or_gap() {
    const MESSAGES: usize = 600;
    const CUTS: usize = 12;
    let server = server();
    let mail = mailbox("cut", MESSAGES);
    server.append_all(USER, "INBOX", &mail);
    let proxy = Proxy::start(server.imaps_port, Fault::None);
    let desk = Desk::new(&server, proxy.port, 10);
    let mut rng = SeededRng::from_env(7);

    let mut before = 0;
    for attempt in 0..CUTS {
        // Past the TLS handshake, login, EXAMINE and the UID listing (about 30 KB for 600
        // messages), and well short of the mailbox (about 1 MB), so every cut lands in a
        // FETCH of bodies.
        let offset = rng.between(40_000, 100_000);
        proxy.set_fault(Fault::CutAfter(offset));
        let (out, took) = desk.run(&["sync", "--batch-size", "10"]);
        let line = one_error_line(&out);
        assert!(
            line.ends_with(&format!(
                "connection to IMAP server localhost:{} lost while fetching messages: \
                 the server closed the connection; try again",
                proxy.port
            )),
            "attempt {attempt}, cut after {offset} bytes: {line}"
        );
        assert_eq!(desk.integrity(), "ok", "after cut {attempt}");
        let (stored, rows) = desk.stored();
        assert_eq!(stored.len(), rows, "a duplicate after cut {attempt}");
        assert!(stored.is_subset(&hashes(&mail)), "a message nobody sent");
        assert!(rows >= before, "cut {attempt} lost committed mail");
        eprintln!("cut {attempt} after {offset} bytes ({took:?}): {rows} stored; {line}");
        before = rows;
    }
    assert_eq!(proxy.faulted() as usize, CUTS, "every run was cut");
    assert!(
        before > 0 && before < MESSAGES,
        "the cuts should leave a partial store, not {before}"
    );

    proxy.set_fault(Fault::None);
    let (out, _) = desk.run(&["sync", "--verbose"]);
    assert!(out.status.success(), "clean sync failed: {}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        summary.starts_with(&format!("fetched {} new messages", MESSAGES - before)),
        "{summary}"
    );
    let (stored, rows) = desk.stored();
    assert_eq!(rows, MESSAGES, "no duplicate, no gap");
    assert_eq!(stored, hashes(&mail));
    let expected_ids: BTreeSet<String> = (0..MESSAGES)
        .map(|i| format!("cut{i}@fault.example"))
        .collect();
    assert_eq!(desk.message_ids(), expected_ids);
    assert_eq!(desk.integrity(), "ok");
}

/// Runs a sync through a proxy that stalls after `after` bytes and checks it gives up
/// within the configured timeout with a clear line. Returns that line.
fn stalled_sync(server: &Dovecot, after: u64, batch: &str) -> String {
    const TIMEOUT_S: u64 = 2;
    let proxy = Proxy::start(server.imaps_port, Fault::StallAfter(after));
    let desk = Desk::new(server, proxy.port, TIMEOUT_S);
    let (out, took) = desk.run(&["sync", "--batch-size", batch]);
    let line = one_error_line(&out);
    assert!(
        line.contains(&format!(
            "IMAP server localhost:{} did not answer within {TIMEOUT_S} s while",
            proxy.port
        )),
        "{line}"
    );
    assert!(proxy.faulted() >= 1, "the proxy never stalled");
    // One timeout per blocked read, plus process start; far from hanging.
    assert!(
        took < Duration::from_secs(TIMEOUT_S * 2 + 3),
        "gave up only after {took:?}"
    );
    assert!(
        took >= Duration::from_secs(TIMEOUT_S),
        "gave up early: {took:?}"
    );
    if desk.db().exists() {
        assert_eq!(desk.integrity(), "ok");
    }
    line
}

#[test]
fn stalled_connection_times_out_with_a_clear_message_instead_of_hanging() {
    let server = server();
    server.append_all(USER, "INBOX", &mailbox("stall", 200));
    // Silent from the first byte: no TLS handshake answer at all.
    let line = stalled_sync(&server, 0, "20");
    assert!(line.contains("while negotiating TLS"), "{line}");
    // Silent in the middle of a FETCH.
    let line = stalled_sync(&server, 30_000, "20");
    assert!(line.contains("while fetching messages"), "{line}");
}

#[test]
fn a_drip_through_tls_ends_at_the_operation_deadline_naming_the_server() {
    let server = server();
    server.append_all(USER, "INBOX", &mailbox("drip", 200));
    // One byte a second: each read makes progress within timeout_seconds (3 s), so only
    // the whole-operation deadline (5 s) can end it.
    for (after, during) in [(0, "negotiating TLS"), (40_000, "fetching messages")] {
        let proxy = Proxy::start(
            server.imaps_port,
            Fault::DripAfter(after, Duration::from_secs(1)),
        );
        let desk = Desk::with_sync(
            &server,
            proxy.port,
            "timeout_seconds = 3\ndeadline_seconds = 5\n",
        );
        let (out, took) = desk.run(&["sync", "--batch-size", "20"]);
        let line = one_error_line(&out);
        assert!(
            line.contains(&format!(
                "IMAP server localhost:{} was still answering after 5 s while {during}",
                proxy.port
            )),
            "{line}"
        );
        assert!(proxy.faulted() >= 1, "the proxy never dripped");
        assert!(
            took < Duration::from_secs(15),
            "gave up only after {took:?}"
        );
        if desk.db().exists() {
            assert_eq!(desk.integrity(), "ok");
        }
    }
}

/// An mbox of `n` small messages, every fifth a reply to an earlier one.
fn mbox(n: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut out = Vec::new();
    let mut raws = Vec::new();
    for i in 0..n {
        let raw = if i % 5 == 4 {
            support::reply(
                &format!("m{i}@import.example"),
                &format!("m{}@import.example", i - 3),
                "report",
                &format!("reply {i}"),
            )
        } else {
            support::message(
                &format!("m{i}@import.example"),
                &format!("report {i}"),
                &format!("body {i}"),
            )
        };
        out.extend_from_slice(b"From reporter@example.net Tue Nov 24 10:00:00 2026\n");
        out.extend_from_slice(&raw);
        out.push(b'\n');
        raws.push(raw);
    }
    (out, raws)
}

#[test]
fn import_killed_at_random_points_then_rerun_holds_exactly_the_mbox() {
    // Import stores 500 messages a transaction: enough batches that most of the run is spent
    // between the first commit and the last, where a kill tests something.
    const MESSAGES: usize = 4000;
    const KILLS: usize = 20;
    let work = tempfile::tempdir().expect("temp dir");
    let (data, raws) = mbox(MESSAGES);
    let path = work.path().join("reports.mbox");
    std::fs::write(&path, data).expect("write mbox");
    let expected = hashes(&raws);
    let path_arg = path.to_str().expect("utf-8 temp path");

    let reference = Desk::offline();
    let (out, full) = reference.run(&["import", path_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(reference.stored().0, expected);

    let mut rng = SeededRng::from_env(11);
    let mut partial = 0;
    let mut window = full;
    for kill in 0..KILLS {
        let desk = Desk::offline();
        let delay = Duration::from_millis(rng.between(0, window.as_millis() as u64 + 1));
        let landed = desk.kill_after(&["import", path_arg], delay);
        if !landed {
            // It finished first: the machine got faster than when `full` was measured.
            window = window * 3 / 4;
        }
        let (stored, rows) = desk.stored();
        if desk.db().exists() {
            assert_eq!(desk.integrity(), "ok", "after kill {kill} at {delay:?}");
        }
        assert_eq!(stored.len(), rows, "a duplicate after kill {kill}");
        assert!(stored.is_subset(&expected));
        if landed && rows > 0 && rows < MESSAGES {
            partial += 1;
        }
        eprintln!("kill {kill} after {delay:?} of {full:?}: {rows} of {MESSAGES} stored");

        let (out, _) = desk.run(&["import", path_arg]);
        assert!(out.status.success(), "re-import failed: {}", stderr(&out));
        let summary = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            summary.starts_with(&format!("imported {} new messages", MESSAGES - rows))
                && summary.contains(&format!("({rows} already stored)")),
            "{summary}"
        );
        let (stored, rows) = desk.stored();
        assert_eq!((rows, &stored), (MESSAGES, &expected), "after kill {kill}");
        assert_eq!(desk.integrity(), "ok");
    }
    assert!(
        partial >= 2,
        "only {partial} of {KILLS} kills landed mid-import (a full import takes {full:?})"
    );
}
