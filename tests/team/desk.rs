//! A desk under test: its own config and database on the shared Dovecot account, driving
//! the real binary, and the helpers that read the server's folders.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{message, Dovecot};

pub const USER: &str = "security";
pub const PASSWORD: &str = "team-Pa55word";
pub const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub const MEMBERS: &str = r#"[{ name = "Ada", email = "ada@example.org" }, { name = "Bo", email = "bo@example.org" }, { name = "Cy", email = "cy@example.org" }]"#;

/// One desk: its own config and database on the shared account.
pub struct Desk {
    pub dir: tempfile::TempDir,
    pub email: String,
}

impl Desk {
    pub fn new(server: &Dovecot, name: &str, email: &str) -> Desk {
        Desk::with_members(server, name, email, MEMBERS, "")
    }

    pub fn with_members(
        server: &Dovecot,
        name: &str,
        email: &str,
        members: &str,
        extra: &str,
    ) -> Desk {
        let desk = Desk {
            dir: tempfile::tempdir().expect("temp dir"),
            email: email.to_string(),
        };
        desk.configure(server.imap_port, name, members, extra);
        desk
    }

    pub fn configure(&self, port: u16, name: &str, members: &str, extra: &str) {
        let config = format!(
            "[imap]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
             username = \"{USER}\"\npassword_env = \"{PASSWORD_VAR}\"\n\n\
             [store]\npath = {db:?}\n\n\
             [identity]\nname = \"{name}\"\nemail = \"{email}\"\n\n\
             [team]\nmembers = {members}\n\n\
             [sync]\ntimeout_seconds = 5\n{extra}",
            db = self.db(),
            email = self.email,
        );
        std::fs::write(self.dir.path().join("config.toml"), config).expect("write config");
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("secdesk.db")
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
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
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        wait(self.command(args, &[]).spawn().expect("run secdesk"), args)
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "secdesk {args:?} as {} failed: {}",
            self.email,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn sync(&self) -> Output {
        let out = self.run(&["sync", "--verbose"]);
        assert!(
            out.status.success(),
            "sync as {} failed: {}",
            self.email,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn show(&self, id: i64) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["show", &id.to_string(), "--json"])).expect("show --json")
    }

    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("open store")
    }

    pub fn strings(&self, sql: &str) -> BTreeSet<String> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// Everything the team shares, by root Message-ID (local ids may differ): each
    /// report's triage fields, the notes, and the conflicts in the audit log.
    pub fn shared_state(&self) -> BTreeSet<String> {
        let mut all = self.strings(
            "SELECT 'report ' || m.message_id || ' ' || r.state || ' ' ||
                    coalesce(r.invalid_reason, '-') || ' ' || coalesce(r.class, '-') || ' ' ||
                    r.class_confirmed || ' ' || coalesce(r.coordinator, '-')
             FROM reports r JOIN messages m ON m.report_id = r.id",
        );
        all.extend(self.strings(
            "SELECT 'note ' || m.message_id || ' ' || n.author || ' ' || n.at || ' ' || n.text
             FROM notes n JOIN messages m ON m.report_id = n.report_id",
        ));
        all.extend(self.conflicts());
        all
    }

    pub fn conflicts(&self) -> BTreeSet<String> {
        self.strings(
            "SELECT 'conflict ' || m.message_id || ' ' || e.detail
             FROM events e JOIN messages m ON m.report_id = e.report_id
             WHERE e.kind = 'conflict'",
        )
    }
}

/// The `[smtp]` section for a desk that sends through `smtp`.
pub fn smtp_section(smtp: &crate::support::Smtp) -> String {
    format!(
        "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n",
        smtp.port
    )
}

pub fn wait(mut child: Child, what: &[&str]) -> Output {
    let deadline = Instant::now() + RUN_TIMEOUT;
    while child.try_wait().expect("poll secdesk").is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("secdesk {what:?} still running after {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect output")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A server whose INBOX holds `n` reports `r1@reporter.example` … with subjects.
pub fn server(n: usize) -> Dovecot {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    let raws: Vec<Vec<u8>> = (1..=n)
        .map(|i| {
            message(
                &format!("r{i}@reporter.example"),
                &format!("tarfile: path traversal {i}"),
                "extractall() follows a symlink",
            )
        })
        .collect();
    server.append_all(USER, "INBOX", &raws);
    server
}

/// The raw messages in the server's events folder, in UID order.
pub fn folder(server: &Dovecot, mailbox: &str) -> Vec<Vec<u8>> {
    let mut s = server.session(USER);
    s.examine(mailbox).expect("examine events folder");
    let fetched = s.uid_fetch("1:*", "BODY.PEEK[]").expect("fetch events");
    let mut out: Vec<(u32, Vec<u8>)> = fetched
        .iter()
        .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
        .collect();
    s.logout().ok();
    out.sort();
    out.into_iter().map(|(_, b)| b).collect()
}

/// The Message-IDs in a server folder with their flags, as an IMAP client sees them.
pub fn on_server(server: &Dovecot, mailbox: &str) -> Vec<(String, Vec<String>)> {
    let mut s = server.session(USER);
    let exists = s.examine(mailbox).map(|m| m.exists).unwrap_or(0);
    let mut out = Vec::new();
    if exists > 0 {
        let fetched = s
            .uid_fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            .expect("fetch flags");
        for f in fetched.iter() {
            let header = String::from_utf8_lossy(f.header().unwrap_or_default()).into_owned();
            let id = header
                .trim()
                .trim_start_matches("Message-ID:")
                .trim()
                .to_string();
            let flags = f.flags().iter().map(|fl| format!("{fl:?}")).collect();
            out.push((id, flags));
        }
    }
    s.logout().ok();
    out.sort();
    out
}

pub fn has_keyword(flags: &[String], keyword: &str) -> bool {
    flags.iter().any(|f| f.contains(keyword))
}

/// An event message "by Ada" exactly as a desk writes it, for tests that put one in the
/// events folder themselves.
pub fn ada_event(
    report: &str,
    kind: &str,
    value: serde_json::Value,
    lamport: u64,
    at: &str,
) -> Vec<u8> {
    use secdesk::core::team::event::{new_id, Event, ReportRef, FORMAT};
    use secdesk::core::team::message::{build, Context};
    let ev = Event {
        secdesk: FORMAT,
        id: new_id("ada@example.org", lamport),
        actor: "ada@example.org".into(),
        at: at.into(),
        lamport,
        report: ReportRef::MessageId(report.into()),
        kind: kind.into(),
        value,
        base: None,
    };
    build(&ev, &Context::default()).expect("build event")
}
