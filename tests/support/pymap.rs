//! pymap (PyPI's `pymap`, an IMAP server written in Python on asyncio, by another author
//! than Dovecot's, Cyrus's or Courier's) for integration tests: a fourth server family, from
//! a package registry rather than Debian. `scripts/test` installs it into `.venv-tests`.
//!
//! Its in-memory `dict` backend holds one login ([`USER`]) with an empty INBOX, folders
//! named as in Dovecot (`/` separator). It offers IDLE, UIDPLUS, MOVE and LITERAL+, and not
//! CONDSTORE or SPECIAL-USE.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::imap_server::{self, ImapServer, PASSWORD, USER};

/// Python's start-up and pymap's imports take about a second on an idle machine; much
/// longer while two cores build and test beside it.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const HINT: &str = "run scripts/test, which installs pymap into .venv-tests";

/// A running pymap. Stopped (and its directory removed) on drop.
pub struct Pymap {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl Pymap {
    /// Starts pymap on a free loopback port with the [`USER`] login and an empty INBOX.
    pub fn start() -> Pymap {
        let dir = tempfile::Builder::new()
            .prefix("secdesk-pymap-")
            .tempdir()
            .expect("temp dir for pymap");
        let server = Pymap {
            dir,
            port: 0,
            child: None,
        };
        imap_server::launch_on_free_port(server)
    }

    fn binary() -> PathBuf {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-tests/bin/pymap");
        assert!(bin.exists(), "{} is missing: {HINT}", bin.display());
        bin
    }

    fn launch(&mut self) -> Result<(), String> {
        let log = fs::File::create(self.dir.path().join("pymap.log")).expect("pymap log");
        let child = Command::new(Pymap::binary())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--no-tls", "dict", "--demo-user", USER, "--demo-password"])
            .arg(PASSWORD)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn pymap: {e}: {HINT}"));
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!("pymap exited with {status}"));
            }
            if imap_server::greets(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("no greeting within {START_TIMEOUT:?}"))
    }

    /// Stops pymap (SIGTERM, then SIGKILL to its group).
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            imap_server::stop_group(child, STOP_TIMEOUT);
        }
    }
}

impl ImapServer for Pymap {
    fn name(&self) -> &'static str {
        "pymap"
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn offers_idle(&self) -> bool {
        true
    }
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("pymap.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("--- pymap output ---\n{}", tail.join("\n"))
    }
}

impl imap_server::Launch for Pymap {
    fn try_on(&mut self, port: u16) -> Result<(), String> {
        self.port = port;
        self.launch()
    }
    fn stop(&mut self) {
        Pymap::stop(self)
    }
}

impl Drop for Pymap {
    fn drop(&mut self) {
        self.stop();
    }
}
