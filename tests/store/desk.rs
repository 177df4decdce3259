//! A desk for these tests: a config and a store in a temporary folder (or on a given
//! file system), filled with `secdesk import`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Desk {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Desk {
    /// A desk whose store is `secdesk.db` in its own temporary folder.
    pub fn new() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("secdesk.db");
        Desk::with_store(dir, db, "")
    }

    /// A desk whose store is at `db`; `extra` is appended to the config.
    pub fn with_store(dir: tempfile::TempDir, db: PathBuf, extra: &str) -> Desk {
        let config = format!(
            "[store]\npath = {db:?}\n\n[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n\n\
             [team]\naddress = \"security@example.org\"\n{extra}"
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir, db }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_secdesk"));
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("VISUAL")
            .env("EDITOR", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run secdesk")
    }

    /// Runs a command that must succeed with nothing on stderr; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?} said: {}", stderr(&out));
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    /// Runs a command that must fail with exactly one line on stderr; returns that line.
    pub fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} was not refused");
        one_line(&out, args)
    }

    /// Writes each message into a folder of `.eml` files and imports it.
    pub fn import(&self, messages: &[String]) -> Output {
        let folder = tempfile::tempdir().expect("temp dir");
        for (i, m) in messages.iter().enumerate() {
            std::fs::write(folder.path().join(format!("{i:05}.eml")), m).expect("write eml");
        }
        self.run(&["import", folder.path().to_str().expect("utf-8 path")])
    }

    pub fn import_ok(&self, messages: &[String]) {
        let out = self.import(messages);
        assert!(out.status.success(), "import failed: {}", stderr(&out));
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open the store")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// The single line of stderr, checked to be one line, terminal-safe, and free of SQLite's
/// raw text.
pub fn one_line(out: &Output, args: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err:?}");
    assert!(
        !err.contains("Error code") && !err.contains("database is locked"),
        "{args:?}: raw SQLite text: {err}"
    );
    err.trim_end().to_string()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A plain report from `from` with `subject` and `body`.
pub fn mail(n: usize, from: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: security@example.org\r\nSubject: {subject}\r\n\
         Date: Tue, 24 Nov 2026 10:{:02}:00 +0000\r\nMessage-ID: <m{n}@reporter.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        n % 60
    )
}

/// `n` distinct reports.
pub fn reports(n: usize, body: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            mail(
                i,
                "Rita Reporter <rita@reporter.example>",
                &format!("finding {i}"),
                body,
            )
        })
        .collect()
}

/// SHA-256-free fingerprint of a file: its bytes.
pub fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
