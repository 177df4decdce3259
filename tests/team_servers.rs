//! The two-desk team test on four independent IMAP servers (docs/team.md): Dovecot, Cyrus,
//! Courier (no MOVE, folders under `INBOX.`: the COPY + EXPUNGE fallback) and pymap (PyPI). Two desks
//! with their own stores on one account share an assignment, a state and a race through
//! the events folder, and a spam confirmation moves the message to Junk and back, checked
//! with the server's own UID lists.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::courier::Courier;
use support::cyrus::Cyrus;
use support::imap_server::{self as srv, ImapServer, PASSWORD, USER};
use support::message;
use support::pymap::Pymap;

const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const MEMBERS: &str =
    r#"[{ name = "Ada", email = "ada@example.org" }, { name = "Bo", email = "bo@example.org" }]"#;

struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(server: &dyn ImapServer, name: &str, email: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "[imap]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
             username = \"{USER}\"\npassword_env = \"{PASSWORD_VAR}\"\n\
             junk_mailbox = \"{junk}\"\n\n\
             [store]\npath = {db:?}\n\n\
             [identity]\nname = \"{name}\"\nemail = \"{email}\"\n\n\
             [team]\nmembers = {MEMBERS}\nevents_mailbox = \"{events}\"\n\n\
             [sync]\ntimeout_seconds = 10\n",
            port = server.port(),
            junk = server.folder("Junk"),
            events = server.folder("secdesk"),
            db = dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env(PASSWORD_VAR, PASSWORD)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run secdesk");
        let deadline = Instant::now() + RUN_TIMEOUT;
        while child.try_wait().expect("poll").is_none() {
            if Instant::now() > deadline {
                child.kill().ok();
                panic!("secdesk {args:?} still running after {RUN_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait_with_output().expect("output")
    }

    fn ok(&self, server: &dyn ImapServer, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{}: secdesk {args:?} failed: {}\n{}",
            server.name(),
            String::from_utf8_lossy(&out.stderr),
            server.log_tail()
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn show(&self, server: &dyn ImapServer, id: i64) -> serde_json::Value {
        let text = self.ok(server, &["show", &id.to_string(), "--json"]);
        serde_json::from_str(&text).expect("show --json")
    }

    fn conflicts(&self) -> Vec<String> {
        self.strings("SELECT detail FROM events WHERE kind = 'conflict' ORDER BY detail")
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.dir.path().join("secdesk.db")).expect("db");
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt.query_map([], |r| r.get(0)).expect("query");
        rows.map(|r| r.expect("row")).collect()
    }
}

fn two_desks_share_triage_and_moderation(server: &dyn ImapServer) {
    let raws: Vec<Vec<u8>> = (1..=3)
        .map(|i| {
            message(
                &format!("r{i}@reporter.example"),
                &format!("report {i}"),
                "body",
            )
        })
        .collect();
    srv::append_all(server, "INBOX", &raws);
    let ada = Desk::new(server, "Ada", "ada@example.org");
    let bo = Desk::new(server, "Bo", "bo@example.org");
    ada.ok(server, &["sync"]);
    bo.ok(server, &["sync"]);

    // Desk A assigns and changes state; desk B sees both after one sync.
    ada.ok(server, &["take", "1"]);
    ada.ok(server, &["state", "1", "triaged"]);
    ada.ok(server, &["sync"]);
    bo.ok(server, &["sync"]);
    let report = bo.show(server, 1);
    assert_eq!(
        report["coordinator"],
        "ada@example.org",
        "{}",
        server.name()
    );
    assert_eq!(report["state"], "triaged", "{}", server.name());
    assert_eq!(srv::uids(server, &server.folder("secdesk")).len(), 2);

    // Both change report 2 without syncing: after syncing both agree, the race is shown.
    ada.ok(server, &["state", "2", "acknowledged"]);
    bo.ok(server, &["state", "2", "triaged"]);
    for d in [&ada, &bo, &ada] {
        d.ok(server, &["sync"]);
    }
    assert_eq!(bo.show(server, 2)["state"], "triaged", "{}", server.name());
    assert_eq!(ada.show(server, 2)["state"], "triaged", "{}", server.name());
    let race = vec!["bo set triaged; ada's acknowledged, made at the same time, lost".to_string()];
    assert_eq!(ada.conflicts(), race, "{}", server.name());
    assert_eq!(bo.conflicts(), race, "{}", server.name());

    // Confirmed spam leaves the INBOX for Junk; restoring brings it back, not as new mail.
    let junk = server.folder("Junk");
    ada.ok(server, &["mark", "3", "spam"]);
    let out = ada.ok(server, &["sync", "--verbose"]);
    assert!(
        out.contains("moderation: 1 moved to Junk"),
        "{}: {out}\n{:?}",
        server.name(),
        ada.strings("SELECT seq || ' ' || action || ' ' || coalesce(done_at, '-') || ' ' || coalesce(error, '-') FROM moderation_queue")
    );
    assert_eq!(srv::uids(server, "INBOX").len(), 2, "{}", server.name());
    assert_eq!(srv::uids(server, &junk).len(), 1, "{}", server.name());
    ada.ok(server, &["mark", "3", "valid"]);
    ada.ok(server, &["sync"]);
    assert_eq!(srv::uids(server, "INBOX").len(), 3, "{}", server.name());
    assert!(srv::uids(server, &junk).is_empty(), "{}", server.name());
    let out = ada.ok(server, &["sync", "--verbose"]);
    assert!(out.contains("0 new reports"), "{}: {out}", server.name());
    bo.ok(server, &["sync"]);
    assert_eq!(
        bo.show(server, 3)["state"],
        "acknowledged",
        "{}",
        server.name()
    );
}

#[test]
fn dovecot() {
    two_desks_share_triage_and_moderation(&srv::start_dovecot());
}

#[test]
fn cyrus() {
    two_desks_share_triage_and_moderation(&Cyrus::start());
}

#[test]
fn courier() {
    two_desks_share_triage_and_moderation(&Courier::start());
}

#[test]
fn pymap() {
    two_desks_share_triage_and_moderation(&Pymap::start());
}
