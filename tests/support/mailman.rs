//! A real GNU Mailman 3 core (Debian `mailman3`) for integration tests: its own config, var
//! dir and SQLite database in a temp dir, REST and LMTP on free loopback ports, outgoing
//! mail to an SMTP sink the test gives. Started with `mailman start`, stopped by SIGTERM to
//! the master's pid (see ../shared/NOTES.md, "GNU Mailman 3 core as a test server").
//!
//! The helpers talk REST (plain HTTP/1.0) and LMTP (RFC 2033) over raw sockets, so they do
//! not depend on the code under test.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::free_ports;

pub const ADMIN_USER: &str = "restadmin";
pub const ADMIN_PASS: &str = "rest-Pa55word";
/// base64("restadmin:rest-Pa55word"), for the helpers' own Basic auth.
const ADMIN_BASIC: &str = "cmVzdGFkbWluOnJlc3QtUGE1NXdvcmQ=";
const MAILMAN: &str = "/usr/bin/mailman";
/// Start-up takes about 3 s on an idle machine, far longer on a busy one.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Mailman. Stopped on drop.
pub struct Mailman {
    dir: tempfile::TempDir,
    pub rest_port: u16,
    pub lmtp_port: u16,
    pid: Option<i32>,
}

impl Mailman {
    /// True when Debian's mailman3 is installed; tests print a plain skip otherwise.
    pub fn installed() -> bool {
        Path::new(MAILMAN).exists() && Path::new("/usr/lib/mailman3/bin/master").exists()
    }

    /// Starts Mailman delivering outgoing mail to the SMTP server on `smtp_port`.
    pub fn start(smtp_port: u16) -> Mailman {
        assert!(
            Mailman::installed(),
            "{MAILMAN} is missing: run scripts/test, which installs mailman3"
        );
        let dir = tempfile::Builder::new()
            .prefix("secdesk-mailman-")
            .tempdir()
            .expect("create temp dir for mailman");
        let [rest_port, lmtp_port] = free_ports();
        let mut m = Mailman {
            dir,
            rest_port,
            lmtp_port,
            pid: None,
        };
        std::fs::write(m.config_path(), m.config_text(smtp_port)).expect("write mailman.cfg");
        // The forked master inherits stdout and stderr: files, not pipes, or waiting for
        // `start` to finish would wait for Mailman to exit.
        let start_log = m.dir.path().join("start.log");
        let log = std::fs::File::create(&start_log).expect("create start.log");
        let status = Command::new(MAILMAN)
            .arg("--run-as-root")
            .arg("-C")
            .arg(m.config_path())
            .args(["start", "-q"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone start.log"))
            .stderr(log)
            .status()
            .expect("run mailman start");
        assert!(
            status.success(),
            "mailman start failed: {}",
            std::fs::read_to_string(&start_log).unwrap_or_default()
        );
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if m.pid.is_none() {
                m.pid = std::fs::read_to_string(m.var().join("master.pid"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok());
            }
            // Runners start in any order: wait for both the REST API and LMTP.
            let lmtp = TcpStream::connect(("127.0.0.1", m.lmtp_port)).is_ok();
            if m.pid.is_some() && lmtp && matches!(m.get("/3.1/system/versions"), Ok((200, _))) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "mailman did not answer on port {} within {START_TIMEOUT:?}; log:\n{}",
                m.rest_port,
                m.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn config_text(&self, smtp_port: u16) -> String {
        let mut text = format!(
            "[mailman]\nlayout: testing\nsite_owner: owner@example.test\n\n\
             [paths.testing]\nvar_dir: {var}\nbin_dir: /usr/lib/mailman3/bin\n\n\
             [database]\nclass: mailman.database.sqlite.SQLiteDatabase\n\
             url: sqlite:///$DATA_DIR/mailman.db\n\n\
             [webservice]\nhostname: 127.0.0.1\nport: {rest}\nadmin_user: {ADMIN_USER}\n\
             admin_pass: {ADMIN_PASS}\nworkers: 1\n\n\
             [mta]\nincoming: mailman.mta.null.NullMTA\noutgoing: mailman.mta.deliver.deliver\n\
             smtp_host: 127.0.0.1\nsmtp_port: {smtp_port}\nlmtp_host: 127.0.0.1\nlmtp_port: {lmtp}\n\n\
             [devmode]\nenabled: yes\nrecipient: sink@example.test\n",
            var = self.var().display(),
            rest = self.rest_port,
            lmtp = self.lmtp_port,
        );
        // Runners the tests never need: half the start-up time and memory.
        for runner in [
            "archive", "bounces", "command", "nntp", "digest", "retry", "task",
        ] {
            text.push_str(&format!("\n[runner.{runner}]\nstart: no\n"));
        }
        text
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("mailman.cfg")
    }

    fn var(&self) -> PathBuf {
        self.dir.path().join("var")
    }

    /// Mailman's message store, where each held post's message is kept (`var/messages`).
    #[allow(dead_code)] // Not every test that includes this file loses messages.
    pub fn message_store(&self) -> PathBuf {
        self.var().join("messages")
    }

    /// The REST root secdesk is configured with.
    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}/3.1", self.rest_port)
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.var().join("logs/mailman.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Creates `fqdn` (e.g. `security@example.org`) with one member, holding every post from
    /// a non-member, without the two notices each hold would otherwise send.
    pub fn create_list(&self, fqdn: &str) {
        let domain = fqdn.split('@').nth(1).expect("list address has a domain");
        // 400 when the domain exists already.
        let _ = self.request("POST", "/3.1/domains", &format!("mail_host={domain}"));
        let (status, body) = self
            .request("POST", "/3.1/lists", &format!("fqdn_listname={fqdn}"))
            .expect("create list");
        assert_eq!(status, 201, "create list {fqdn}: {body}");
        let list_id = fqdn.replace('@', ".");
        let (status, body) = self
            .request(
                "PATCH",
                &format!("/3.1/lists/{list_id}/config"),
                "default_nonmember_action=hold&respond_to_post_requests=false&admin_immed_notify=false\
                 &send_welcome_message=false",
            )
            .expect("configure list");
        assert_eq!(status, 204, "configure list {fqdn}: {body}");
        // One member, so an accepted post is delivered (to the sink, in devmode).
        let (status, body) = self
            .request(
                "POST",
                "/3.1/members",
                &format!(
                    "list_id={list_id}&subscriber=member@example.test&pre_verified=true\
                     &pre_confirmed=true&pre_approved=true"
                ),
            )
            .expect("subscribe member");
        assert_eq!(status, 201, "subscribe to {fqdn}: {body}");
    }

    /// Posts `raw` to `list` over LMTP (RFC 2033) from `sender`: a non-member's post is held.
    pub fn post(&self, list: &str, sender: &str, raw: &[u8]) {
        let tcp = TcpStream::connect(("127.0.0.1", self.lmtp_port)).expect("connect lmtp");
        tcp.set_read_timeout(Some(WAIT_TIMEOUT)).ok();
        let mut reader = BufReader::new(tcp.try_clone().expect("clone lmtp socket"));
        let mut w = tcp;
        let expect = |code: &str, reader: &mut BufReader<TcpStream>| loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read lmtp reply");
            assert!(
                line.starts_with(code),
                "lmtp: expected {code}, got {line:?}"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        };
        expect("220", &mut reader);
        for (cmd, code) in [
            ("LHLO tests.example".to_string(), "250"),
            (format!("MAIL FROM:<{sender}>"), "250"),
            (format!("RCPT TO:<{list}>"), "250"),
            ("DATA".to_string(), "354"),
        ] {
            write!(w, "{cmd}\r\n").expect("write lmtp command");
            expect(code, &mut reader);
        }
        let text = String::from_utf8_lossy(raw);
        for line in text.lines() {
            assert!(line.len() < 998, "lmtp refuses lines over 1,000 characters");
            let stuffed = if line.starts_with('.') { "." } else { "" };
            write!(w, "{stuffed}{line}\r\n").expect("write lmtp data");
        }
        w.write_all(b".\r\n").expect("end lmtp data");
        expect("250", &mut reader);
        w.write_all(b"QUIT\r\n").ok();
    }

    /// The request ids held for `list` (its id, `security.example.org`), per Mailman.
    pub fn held_ids(&self, list_id: &str) -> Vec<u64> {
        let (status, body) = self
            .get(&format!("/3.1/lists/{list_id}/held?count=1000&page=1"))
            .expect("get held");
        assert_eq!(status, 200, "held: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("held json");
        json.get("entries")
            .and_then(|e| e.as_array())
            .map(|a| a.iter().filter_map(|e| e["request_id"].as_u64()).collect())
            .unwrap_or_default()
    }

    /// Waits until `list_id` holds `n` posts (the pipeline runner holds them shortly after
    /// LMTP accepts them).
    pub fn wait_held(&self, list_id: &str, n: usize) -> Vec<u64> {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let ids = self.held_ids(list_id);
            if ids.len() == n {
                return ids;
            }
            assert!(
                Instant::now() < deadline,
                "{list_id} holds {} posts, not {n}, after {WAIT_TIMEOUT:?}; log:\n{}",
                ids.len(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        self.request("GET", path, "")
    }

    /// One HTTP/1.0 request with the admin's Basic credentials; the status and body.
    pub fn request(&self, method: &str, path: &str, form: &str) -> std::io::Result<(u16, String)> {
        let mut tcp = TcpStream::connect(("127.0.0.1", self.rest_port))?;
        tcp.set_read_timeout(Some(WAIT_TIMEOUT))?;
        write!(
            tcp,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic {ADMIN_BASIC}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )?;
        let mut response = String::new();
        tcp.read_to_string(&mut response)?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Stops Mailman: SIGTERM to the master, then waits until the REST port is closed.
    pub fn stop(&mut self) {
        let Some(pid) = self.pid.take() else { return };
        // SAFETY: kill(2) on the pid Mailman wrote; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + WAIT_TIMEOUT;
        while Instant::now() < deadline {
            // SAFETY: signal 0 only checks that the process exists.
            let alive = unsafe { libc::kill(pid, 0) } == 0;
            let listening = TcpStream::connect(("127.0.0.1", self.rest_port)).is_ok();
            if !alive && !listening {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // The master did not stop in time: end its whole session (it leads it, as a daemon)
        // hard, so no runner outlives the test.
        // SAFETY: as above.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

impl Drop for Mailman {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running Mailman with `list`, its outgoing mail going to an SMTP sink writing into the
/// returned temp dir; `None`, with a plain skip line, when Debian's mailman3 is not
/// installed.
pub fn with_list(list: &str) -> Option<(tempfile::TempDir, crate::support::Smtp, Mailman)> {
    if !Mailman::installed() {
        eprintln!("skip: Debian mailman3 is not installed (scripts/test installs it)");
        return None;
    }
    let sink = tempfile::tempdir().expect("temp dir");
    let smtp = crate::support::Smtp::start(&sink.path().join("Maildir"));
    let mm = Mailman::start(smtp.port);
    mm.create_list(list);
    Some((sink, smtp, mm))
}

/// The messages an SMTP sink stored in `maildir` (its `new/` folder), as text.
/// A plain-text post to `list`, as a sender's mail client would write it.
pub fn list_post(list: &str, message_id: &str, from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {list}\r\nSubject: {subject}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub fn sink_messages(maildir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(maildir.join("new"))
        .into_iter()
        .flatten()
        .flatten()
    {
        out.push(
            String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()).into_owned(),
        );
    }
    out
}

/// Waits until the sink holds a message containing every one of `needles`; returns it.
pub fn wait_for_sink(maildir: &Path, needles: &[&str]) -> String {
    let deadline = Instant::now() + WAIT_TIMEOUT;
    loop {
        if let Some(m) = sink_messages(maildir)
            .into_iter()
            .find(|m| needles.iter().all(|n| m.contains(n)))
        {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "no message with {needles:?} reached the SMTP sink within {WAIT_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
