//! What the cross-server tests need from any IMAP server: where it listens, how it names
//! folders, whether it offers IDLE, and the client side helpers (APPEND, CREATE, DELETE, the
//! server's own UID list) spoken with the imap crate over plaintext loopback, so they do not
//! depend on the code under test.
//!
//! [`Dovecot`](super::Dovecot), [`Cyrus`](super::cyrus::Cyrus) and
//! [`Courier`](super::courier::Courier) implement it, each with one login, [`USER`].

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use super::Dovecot;

/// The login every server here is started with.
pub const USER: &str = "security";
pub const PASSWORD: &str = "Srv-Pa55-word";

const IO_TIMEOUT: Duration = Duration::from_secs(20);

pub trait ImapServer: Sync {
    /// The server's name, for messages.
    fn name(&self) -> &'static str;
    /// The plaintext loopback port.
    fn port(&self) -> u16;
    /// The server's name for a top-level folder (Courier puts folders under `INBOX.`).
    fn folder(&self, name: &str) -> String {
        name.to_string()
    }
    /// Whether the server announces IDLE (RFC 2177).
    fn offers_idle(&self) -> bool;
    /// The end of the server's log, for failure messages.
    fn log_tail(&self) -> String;
}

impl ImapServer for Dovecot {
    fn name(&self) -> &'static str {
        "Dovecot"
    }
    fn port(&self) -> u16 {
        self.imap_port
    }
    fn offers_idle(&self) -> bool {
        true
    }
    fn log_tail(&self) -> String {
        Dovecot::log_tail(self)
    }
}

/// Starts Dovecot with the [`USER`] login.
pub fn start_dovecot() -> Dovecot {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server
}

/// Logs in as [`USER`].
pub fn session(server: &dyn ImapServer) -> imap::Session<TcpStream> {
    let name = server.name();
    let tcp = TcpStream::connect(("127.0.0.1", server.port()))
        .unwrap_or_else(|e| panic!("connect to {name}: {e}\n{}", server.log_tail()));
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut client = imap::Client::new(tcp);
    client
        .read_greeting()
        .unwrap_or_else(|e| panic!("{name} greeting: {e}\n{}", server.log_tail()));
    client
        .login(USER, PASSWORD)
        .unwrap_or_else(|(e, _)| panic!("{name} login: {e}\n{}", server.log_tail()))
}

/// APPENDs messages in order over one session.
pub fn append_all(server: &dyn ImapServer, mailbox: &str, raws: &[Vec<u8>]) {
    let mut s = session(server);
    for raw in raws {
        s.append(mailbox, raw).finish().unwrap_or_else(|e| {
            panic!(
                "{} APPEND to {mailbox}: {e}\n{}",
                server.name(),
                server.log_tail()
            )
        });
    }
    s.logout().ok();
}

pub fn create(server: &dyn ImapServer, mailbox: &str) {
    on_mailbox(server, "CREATE", mailbox, |s| s.create(mailbox));
}

pub fn delete(server: &dyn ImapServer, mailbox: &str) {
    on_mailbox(server, "DELETE", mailbox, |s| s.delete(mailbox));
}

/// Runs one mailbox command in its own session; panics with the server's log if refused.
fn on_mailbox(
    server: &dyn ImapServer,
    verb: &str,
    mailbox: &str,
    command: impl FnOnce(&mut imap::Session<TcpStream>) -> imap::error::Result<()>,
) {
    let mut s = session(server);
    if let Err(e) = command(&mut s) {
        panic!(
            "{} {verb} {mailbox}: {e}\n{}",
            server.name(),
            server.log_tail()
        );
    }
    s.logout().ok();
}

/// The mailbox's UIDVALIDITY (RFC 3501 §2.3.1.1).
pub fn uidvalidity(server: &dyn ImapServer, mailbox: &str) -> u32 {
    let mut s = session(server);
    let mb = s
        .examine(mailbox)
        .unwrap_or_else(|e| panic!("{} EXAMINE {mailbox}: {e}", server.name()));
    s.logout().ok();
    mb.uid_validity
        .unwrap_or_else(|| panic!("{} sent no UIDVALIDITY", server.name()))
}

/// Every UID in `mailbox`, ascending, from `UID FETCH 1:* (UID)`: the server's own list.
pub fn uids(server: &dyn ImapServer, mailbox: &str) -> Vec<u32> {
    fetch_all(server, mailbox, "UID", |_| Some(()))
        .into_iter()
        .map(|(uid, ())| uid)
        .collect()
}

/// Every message in `mailbox`, in UID order.
pub fn bodies(server: &dyn ImapServer, mailbox: &str) -> Vec<Vec<u8>> {
    fetch_all(server, mailbox, "BODY.PEEK[]", |f| Some(f.body()?.to_vec()))
        .into_iter()
        .map(|(_, body)| body)
        .collect()
}

/// `UID FETCH 1:* (items)` on `mailbox` (EXAMINEd, so nothing changes), by UID; checks
/// that every message EXISTS announced came back.
fn fetch_all<T: Ord>(
    server: &dyn ImapServer,
    mailbox: &str,
    items: &str,
    take: impl Fn(&imap::types::Fetch) -> Option<T>,
) -> Vec<(u32, T)> {
    let mut s = session(server);
    let name = server.name();
    let mb = s
        .examine(mailbox)
        .unwrap_or_else(|e| panic!("{name} EXAMINE {mailbox}: {e}"));
    let mut out = Vec::new();
    if mb.exists > 0 {
        let fetches = s
            .uid_fetch("1:*", items)
            .unwrap_or_else(|e| panic!("{name} UID FETCH 1:* {items}: {e}"));
        out = fetches
            .iter()
            .filter_map(|f| Some((f.uid?, take(f)?)))
            .collect();
    }
    s.logout().ok();
    assert_eq!(
        out.len(),
        mb.exists as usize,
        "{name} answered UID FETCH 1:* {items} for fewer messages than EXISTS"
    );
    out.sort();
    out
}

/// Where Cyrus and Courier were unpacked: `$SECDESK_TEST_SERVERS_DIR`, else
/// `target/test-servers`. Unpacked by `scripts/test --unpack-servers` when missing.
pub fn unpacked(package: &str, binary: &str) -> PathBuf {
    let root = std::env::var_os("SECDESK_TEST_SERVERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-servers"));
    let dir = root.join(package);
    if !dir.join(binary).exists() {
        static UNPACK: Once = Once::new();
        UNPACK.call_once(|| {
            let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/test");
            let status = Command::new(&script)
                .arg("--unpack-servers")
                .env("SECDESK_TEST_SERVERS_DIR", &root)
                .status();
            assert!(
                matches!(status, Ok(s) if s.success()),
                "{} --unpack-servers failed ({status:?}): it runs apt-get download cyrus-imapd courier-imap",
                script.display()
            );
        });
    }
    assert!(
        dir.join(binary).exists(),
        "{} is missing: run scripts/test --unpack-servers",
        dir.join(binary).display()
    );
    dir
}

/// Waits up to `limit` for a `* OK` greeting on `port`.
pub fn greets(port: u16) -> bool {
    use std::io::{BufRead, BufReader, Write};
    let Ok(tcp) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    tcp.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut line = String::new();
    let ok = BufReader::new(&tcp).read_line(&mut line).is_ok() && line.starts_with("* OK");
    let _ = (&tcp).write_all(b"z LOGOUT\r\n");
    ok
}

/// Stops a server started as its own process group leader: SIGTERM to it, then SIGKILL to
/// the whole group after `limit`, and reaps it.
pub fn stop_group(mut child: std::process::Child, limit: Duration) {
    let pid = child.id() as i32;
    // SAFETY: plain signal delivery to a process this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Whatever is left of the group (children that ignored SIGTERM) goes too.
    // SAFETY: as above; the group id is the leader's pid (process_group(0)).
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    child.kill().ok();
    child.wait().ok();
}

/// A server the tests start on a port picked just before: another process may take the
/// port in between, so [`launch_on_free_port`] retries a failed start on a new one.
pub trait Launch: ImapServer {
    fn try_on(&mut self, port: u16) -> Result<(), String>;
    fn stop(&mut self);
}

pub fn launch_on_free_port<S: Launch>(mut server: S) -> S {
    for _attempt in 0..5 {
        let port = super::free_port();
        match server.try_on(port) {
            Ok(()) => return server,
            Err(e) => {
                server.stop();
                eprintln!("{} did not start on {port}: {e}; retrying", server.name());
            }
        }
    }
    panic!("{} did not start\n{}", server.name(), server.log_tail());
}
