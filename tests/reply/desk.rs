//! The desk under test: a config and database talking to a real Dovecot, and the helpers
//! that read what the reporter and the team would see.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailparse::MailHeaderMap;

use crate::support::Dovecot;

pub const TEAM: &str = "security";
pub const REPORTER: &str = "reporter";
const PASSWORD: &str = "pw-Team-1";
const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A desk (config and database) talking to one Dovecot, with the report synced in.
pub struct Desk {
    pub server: Dovecot,
    pub dir: tempfile::TempDir,
    /// The store: in `dir`, or where [`Desk::with_store_in`] put it.
    db: PathBuf,
}

impl Desk {
    /// Starts Dovecot with the team and reporter accounts, files `report` in the team's
    /// INBOX and syncs it into a new desk whose SMTP server is `smtp_port`.
    pub fn new(report: &str, smtp_port: u16) -> Desk {
        Desk::with_store_in(report, smtp_port, None)
    }

    /// [`Desk::new`], with the store in `folder` (e.g. a small tmpfs) when given.
    pub fn with_store_in(report: &str, smtp_port: u16, folder: Option<&Path>) -> Desk {
        let server = Dovecot::start();
        server.add_user(TEAM, PASSWORD);
        server.add_user(REPORTER, PASSWORD);
        server.append(TEAM, "INBOX", report.as_bytes());
        let dir = tempfile::tempdir().expect("temp dir");
        let db = folder.unwrap_or(dir.path()).join("secdesk.db");
        let desk = Desk { server, dir, db };
        desk.configure(smtp_port, "");
        let out = desk.run(&["sync"], &[]);
        assert!(out.status.success(), "sync failed: {}", stderr(&out));
        desk
    }

    /// (Re)writes the config; `smtp_extra` adds lines to `[smtp]`.
    pub fn configure(&self, smtp_port: u16, smtp_extra: &str) {
        let config = format!(
            "[imap]\nhost = \"localhost\"\nport = {imaps}\nsecurity = \"tls\"\n\
             username = \"{TEAM}\"\npassword_env = \"{PASSWORD_VAR}\"\nca_file = {ca:?}\n\n\
             [store]\npath = {db:?}\n\n\
             [identity]\nname = \"Grace Hopper\"\nemail = \"grace@example.org\"\n\n\
             [team]\naddress = \"security@example.org\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"plain\"\n{smtp_extra}\n\
             [reply]\nsignature = \"-- \\nThe Security Team\"\n\n\
             [sync]\ntimeout_seconds = 10\n",
            imaps = self.server.imaps_port,
            ca = self.server.ca_file(),
            db = self.db_path(),
        );
        std::fs::write(self.dir.path().join("config.toml"), config).expect("write config");
    }

    pub fn db_path(&self) -> PathBuf {
        self.db.clone()
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).expect("open test db")
    }

    pub fn query(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs the secdesk binary with `args` (and environment `env`) to completion.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        cmd.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env(PASSWORD_VAR, PASSWORD)
            .env_remove("VISUAL")
            .env("EDITOR", "false")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run secdesk");
        let deadline = Instant::now() + RUN_TIMEOUT;
        while child.try_wait().expect("poll secdesk").is_none() {
            if Instant::now() > deadline {
                child.kill().ok();
                panic!("secdesk {args:?} still running after {RUN_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("collect secdesk output")
    }

    /// Spawns the command of [`Desk::run`], SIGKILLs it after `delay` if it is still
    /// running, and reaps it. Returns whether the kill landed before it ended on its own.
    pub fn kill_after(&self, args: &[&str], delay: Duration) -> bool {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        cmd.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env(PASSWORD_VAR, PASSWORD)
            .env_remove("VISUAL")
            .env("EDITOR", "false")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("run secdesk");
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

    /// The same command as [`Desk::run`], as one shell line (for a tmux pane). Only test
    /// paths and fixed words go into it, never mail text.
    pub fn shell_line(&self, args: &[&str]) -> String {
        format!(
            "env -u VISUAL {PASSWORD_VAR}={PASSWORD} EDITOR=false HOME={home} {bin} --config {config} {args}",
            home = self.dir.path().display(),
            bin = env!("CARGO_BIN_EXE_secdesk"),
            config = self.dir.path().join("config.toml").display(),
            args = args.join(" "),
        )
    }

    /// The reporter's INBOX over IMAP, oldest first.
    pub fn reporter_inbox(&self) -> Vec<Vec<u8>> {
        self.mailbox(REPORTER, "INBOX")
    }

    pub fn mailbox(&self, user: &str, mailbox: &str) -> Vec<Vec<u8>> {
        let mut s = self.server.session(user);
        let mb = s.examine(mailbox).expect("examine");
        if mb.exists == 0 {
            return Vec::new();
        }
        let fetches = s.fetch("1:*", "BODY.PEEK[]").expect("fetch");
        let out = fetches
            .iter()
            .map(|f| f.body().expect("body").to_vec())
            .collect();
        s.logout().ok();
        out
    }

    /// Messages delivered into the reporter's maildir (counted on disk).
    pub fn reporter_maildir_count(&self) -> usize {
        maildir_count(&self.server.maildir(REPORTER, "INBOX"))
    }

    pub fn outbox_json(&self) -> serde_json::Value {
        let out = self.run(&["outbox", "--json"], &[]);
        assert!(out.status.success(), "outbox failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("outbox --json is JSON")
    }
}

pub fn maildir_count(dir: &Path) -> usize {
    ["new", "cur"]
        .iter()
        .map(|sub| {
            std::fs::read_dir(dir.join(sub))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let (headers, _) = mailparse::parse_headers(raw).expect("headers parse");
    headers.get_first_value(name)
}

/// `name <addr>` (or `addr`) of each mailbox in an address header, decoded.
pub fn addrs(raw: &[u8], name: &str) -> Vec<String> {
    let (headers, _) = mailparse::parse_headers(raw).expect("headers parse");
    let header = headers.get_first_header(name).expect("header present");
    let list = mailparse::addrparse_header(header).expect("addresses parse");
    list.iter()
        .map(|a| match a {
            mailparse::MailAddr::Single(s) => match &s.display_name {
                Some(n) => format!("{n} <{}>", s.addr),
                None => s.addr.clone(),
            },
            mailparse::MailAddr::Group(g) => panic!("unexpected group {}", g.group_name),
        })
        .collect()
}

pub fn body(raw: &[u8]) -> String {
    mailparse::parse_mail(raw)
        .expect("mail parses")
        .get_body()
        .expect("body decodes")
}
