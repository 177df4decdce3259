//! A desk for the sync tests: a config and a store in a temporary folder, `secdesk sync`
//! run under a hard deadline with its peak memory measured, and the store read back with
//! plain SQL (not through the code under test).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::measure::{self, Measured};

/// The environment variable the configs name in `password_env`.
pub const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";

pub struct SyncDesk {
    pub dir: tempfile::TempDir,
    password: String,
}

impl SyncDesk {
    /// Writes `config`, in which `{db}` stands for the store's path.
    pub fn new(config: &str, password: &str) -> SyncDesk {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("{:?}", dir.path().join("secdesk.db"));
        std::fs::write(dir.path().join("config.toml"), config.replace("{db}", &db))
            .expect("write config");
        SyncDesk {
            dir,
            password: password.to_string(),
        }
    }

    /// A desk syncing plain from a test server on loopback `port`, password `pw`; `sync`
    /// adds lines to `[sync]` (where `timeout_seconds = 3`).
    pub fn loopback(port: u16, sync: &str) -> SyncDesk {
        SyncDesk::loopback_imap(port, "", sync)
    }

    /// [`SyncDesk::loopback`] syncing `mailboxes` in order (`[imap] mailboxes`).
    pub fn loopback_mailboxes(port: u16, mailboxes: &[&str]) -> SyncDesk {
        SyncDesk::loopback_imap(port, &format!("mailboxes = {mailboxes:?}\n"), "")
    }

    /// [`SyncDesk::loopback`] with `imap` added to `[imap]`.
    fn loopback_imap(port: u16, imap: &str, sync: &str) -> SyncDesk {
        SyncDesk::new(
            &format!(
                "[imap]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
                 username = \"security\"\npassword_env = \"{PASSWORD_VAR}\"\n{imap}\n\
                 [store]\npath = {{db}}\n\n\
                 [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n\n\
                 [sync]\ntimeout_seconds = 3\n{sync}\n"
            ),
            "pw",
        )
    }

    /// `secdesk sync --verbose` within a minute and below 200 MiB.
    pub fn sync_bounded(&self) -> Measured {
        self.sync(Duration::from_secs(60), 200.0)
    }

    /// The cursor kept for INBOX.
    pub fn inbox_cursor(&self) -> u32 {
        self.cursor("INBOX").expect("a cursor for INBOX")
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("secdesk.db")
    }

    /// Runs `secdesk ARGS` to its end (killed after `deadline`), and says how it went.
    pub fn run(&self, args: &[&str], deadline: Duration) -> Measured {
        self.run_with_env(args, &[], deadline)
    }

    /// [`SyncDesk::run`] with `env` added to the environment.
    pub fn run_with_env(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        deadline: Duration,
    ) -> Measured {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        cmd.envs(env.iter().copied());
        cmd.arg("--config")
            .arg(self.config())
            .args(args)
            .env(PASSWORD_VAR, &self.password)
            .env("EDITOR", "false")
            .env("HOME", self.dir.path());
        let run = measure::run(cmd, deadline);
        eprintln!(
            "{args:?}: exit {:?}, peak RSS {:.0} MiB, {:.2} s; {}",
            run.code,
            run.peak_rss_mib,
            run.elapsed.as_secs_f64(),
            run.stderr.lines().next().unwrap_or("")
        );
        assert!(
            !run.killed,
            "{args:?} did not end within {deadline:?}: {run:?}"
        );
        run
    }

    /// `secdesk sync --verbose`, which must stay below `max_rss_mib`.
    pub fn sync(&self, deadline: Duration, max_rss_mib: f64) -> Measured {
        let run = self.run(&["sync", "--verbose"], deadline);
        assert!(
            run.peak_rss_mib < max_rss_mib,
            "sync peaked at {:.0} MiB: {run:?}",
            run.peak_rss_mib
        );
        run
    }

    pub fn conn(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.db()).expect("open the store");
        // Bodies are read as the desk reads them (core::store::body).
        secdesk::core::store::register_functions(&conn).expect("store functions");
        conn
    }

    /// The first column of every row `sql` returns.
    pub fn query<T: rusqlite::types::FromSql>(&self, sql: &str) -> Vec<T> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt.query_map([], |r| r.get(0)).expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// The UIDs stored from `mailbox`, ascending.
    pub fn uids(&self, mailbox: &str) -> Vec<u32> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT uid FROM messages WHERE mailbox = ?1 ORDER BY uid")
            .expect("prepare");
        let rows = stmt.query_map([mailbox], |r| r.get(0)).expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// The store's record of UIDs listed but not stored: (uid, reason).
    pub fn missing(&self) -> Vec<(u32, String)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT uid, reason FROM imap_missing ORDER BY uid")
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// The cursor (last UID) kept for `mailbox`.
    pub fn cursor(&self, mailbox: &str) -> Option<u32> {
        self.conn()
            .query_row(
                "SELECT last_uid FROM mailbox_state WHERE mailbox = ?1",
                [mailbox],
                |r| r.get(0),
            )
            .ok()
    }
}
