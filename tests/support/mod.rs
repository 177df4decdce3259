//! Real mail servers for integration tests: a Dovecot IMAP server and an
//! aiosmtpd SMTP sink, each in its own temporary directory on free loopback
//! ports. No mock stands in for either.
//!
//! Dovecot runs as root with its internal processes as `dovecot`/`dovenull`
//! (see ../shared/NOTES.md). The helpers here talk IMAP over the plaintext
//! loopback port with the imap crate directly, so they do not depend on the
//! code under test.
//!
//! Every wait has a timeout and panics with the Dovecot log tail.

#![allow(dead_code)] // each test binary uses a different subset

pub mod badimap;
pub mod courier;
pub mod cyrus;
pub mod imap_server;
pub mod measure;
pub mod oauth2;
pub mod proxy;
pub mod pymap;
pub mod syncdesk;
pub mod tmpfs;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// Dovecot's LMTP server (Debian `dovecot-lmtpd`), for [`Dovecot::deliver`].
const LMTP: &str = "/usr/lib/dovecot/lmtp";

/// What to run when the mail servers are missing.
const INSTALL_HINT: &str =
    "run scripts/test, which installs dovecot-imapd, python3-aiosmtpd and the other test tools";

/// A running Dovecot. Stopped (and its directory removed) on drop.
pub struct Dovecot {
    dir: tempfile::TempDir,
    /// IMAPS (TLS from the first byte); 0 when started without TLS.
    pub imaps_port: u16,
    /// Plaintext port; offers STARTTLS unless started with [`Dovecot::start_without_tls`].
    pub imap_port: u16,
    tls: bool,
    /// `ssl = required`: no login without TLS, even on loopback (LOGINDISABLED in plaintext).
    tls_required: bool,
    users: Mutex<HashMap<String, String>>,
    child: Option<Child>,
    uid: u32,
    gid: u32,
}

impl Dovecot {
    /// Starts Dovecot with an IMAPS port and a plain port offering STARTTLS.
    pub fn start() -> Self {
        Self::start_with(true)
    }

    /// Starts Dovecot with TLS off entirely: one plaintext port, no STARTTLS.
    /// For checking that STARTTLS mode refuses to continue in plaintext.
    pub fn start_without_tls() -> Self {
        Self::start_with(false)
    }

    /// Starts Dovecot as [`Dovecot::start`] does, with `ssl = required`: its plaintext port
    /// announces LOGINDISABLED (RFC 3501 §6.2.3) until STARTTLS to a client it does not
    /// count as local (from 127.0.0.1 to its 127.0.0.2).
    pub fn start_requiring_tls() -> Self {
        let mut server = Self::start_with(true);
        server.stop();
        server.tls_required = true;
        server.write_config();
        server.restart();
        server
    }

    fn start_with(tls: bool) -> Self {
        for tool in ["/usr/sbin/dovecot", "/usr/bin/openssl"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: {INSTALL_HINT}"
            );
        }
        let (uid, gid) = lookup_user("dovecot")
            .unwrap_or_else(|| panic!("system user `dovecot` is missing: {INSTALL_HINT}"));

        let dir = tempfile::Builder::new()
            .prefix("secdesk-dovecot-")
            .tempdir()
            .expect("create temp dir for dovecot");
        // mktemp-style dirs are 0700; dovecot's processes must be able to enter.
        set_mode(dir.path(), 0o755);
        for sub in ["run", "state", "mail"] {
            fs::create_dir(dir.path().join(sub)).expect("create dovecot subdir");
        }
        set_mode(&dir.path().join("state"), 0o755);
        chown(dir.path().join("mail"), Some(uid), Some(gid)).expect("chown mail dir");
        fs::write(dir.path().join("passwd"), "").expect("write passwd file");
        set_mode(&dir.path().join("passwd"), 0o644);
        // Made even without TLS, so a client can be pointed at a valid CA.
        make_certificates(dir.path());

        let mut server = Dovecot {
            dir,
            imaps_port: 0,
            imap_port: 0,
            tls,
            tls_required: false,
            users: Mutex::new(HashMap::new()),
            child: None,
            uid,
            gid,
        };
        server.launch_on_fresh_ports();
        server
    }

    /// The temp directory holding config, log and maildirs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's `localhost` certificate and key (PEM), signed by [`Dovecot::ca_file`].
    pub fn server_cert(&self) -> (PathBuf, PathBuf) {
        (
            self.dir.path().join("server.crt"),
            self.dir.path().join("server.key"),
        )
    }

    /// The test CA certificate (PEM) that signed the server's `localhost` leaf.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The maildir folder behind `mailbox` of `user` (Maildir++ layout).
    pub fn maildir(&self, user: &str, mailbox: &str) -> PathBuf {
        let root = self.dir.path().join("mail").join(user);
        if mailbox.eq_ignore_ascii_case("INBOX") {
            root
        } else {
            root.join(format!(".{mailbox}"))
        }
    }

    /// Adds a login. Dovecot re-reads the passwd-file when it changes.
    pub fn add_user(&self, name: &str, password: &str) {
        let mut users = self.users.lock().unwrap();
        users.insert(name.to_string(), password.to_string());
        let mut text = String::new();
        for (user, pass) in users.iter() {
            text.push_str(&format!("{user}:{{PLAIN}}{pass}::::::\n"));
        }
        let path = self.dir.path().join("passwd");
        let tmp = self.dir.path().join("passwd.tmp");
        fs::write(&tmp, text).expect("write passwd file");
        set_mode(&tmp, 0o644);
        fs::rename(&tmp, &path).expect("replace passwd file");
    }

    /// Opens an authenticated session over the plaintext loopback port.
    pub fn session(&self, user: &str) -> imap::Session<TcpStream> {
        let password = self
            .users
            .lock()
            .unwrap()
            .get(user)
            .cloned()
            .unwrap_or_else(|| panic!("test user {user} was never added"));
        let tcp = TcpStream::connect(("127.0.0.1", self.imap_port))
            .unwrap_or_else(|e| panic!("connect to dovecot: {e}\n{}", self.log_tail()));
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut client = imap::Client::new(tcp);
        client
            .read_greeting()
            .unwrap_or_else(|e| panic!("dovecot greeting: {e}\n{}", self.log_tail()));
        client
            .login(user, &password)
            .unwrap_or_else(|(e, _)| panic!("test login as {user}: {e}\n{}", self.log_tail()))
    }

    /// Creates a mailbox over IMAP.
    pub fn create_mailbox(&self, user: &str, mailbox: &str) {
        let mut s = self.session(user);
        s.create(mailbox)
            .unwrap_or_else(|e| panic!("CREATE {mailbox}: {e}\n{}", self.log_tail()));
        s.logout().ok();
    }

    /// APPENDs one message over IMAP.
    pub fn append(&self, user: &str, mailbox: &str, raw: &[u8]) {
        self.append_all(user, mailbox, &[raw.to_vec()]);
    }

    /// APPENDs messages in order over one session.
    pub fn append_all(&self, user: &str, mailbox: &str, raws: &[Vec<u8>]) {
        let mut s = self.session(user);
        for raw in raws {
            s.append(mailbox, raw)
                .finish()
                .unwrap_or_else(|e| panic!("APPEND to {mailbox}: {e}\n{}", self.log_tail()));
        }
        s.logout().ok();
    }

    /// Delivers one message as mail from outside, over Dovecot's own LMTP (RFC 2033), the way
    /// an MTA hands it over. `recipient` may carry a `+detail`: Dovecot files that into the
    /// folder of that name when it exists (`lmtp_save_to_detail_mailbox`), as plus-addressing
    /// setups do. Dovecot adds its trace fields (`Return-Path`, `Delivered-To`, `Received`).
    pub fn deliver(&self, sender: &str, recipient: &str, raw: &[u8]) {
        use std::os::unix::net::UnixStream;
        assert!(
            Path::new(LMTP).exists(),
            "{LMTP} is missing: {INSTALL_HINT}"
        );
        let socket = self.dir.path().join("run").join("lmtp");
        let stream = UnixStream::connect(&socket).unwrap_or_else(|e| {
            panic!(
                "connect to LMTP {}: {e}\n{}",
                socket.display(),
                self.log_tail()
            )
        });
        stream.set_read_timeout(Some(IO_TIMEOUT)).ok();
        let mut reader = BufReader::new(stream.try_clone().expect("clone LMTP stream"));
        let mut writer = stream;
        let expect = |what: &str, code: &str, reader: &mut BufReader<UnixStream>| loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read LMTP reply");
            assert!(
                line.starts_with(code),
                "LMTP {what}: {line}\n{}",
                self.log_tail()
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        };
        expect("greeting", "220", &mut reader);
        let mut data = Vec::new();
        for line in raw.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.starts_with(b".") {
                data.push(b'.');
            }
            data.extend_from_slice(line);
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        for (command, code) in [
            (b"LHLO localhost\r\n".to_vec(), "250"),
            (format!("MAIL FROM:<{sender}>\r\n").into_bytes(), "250"),
            (format!("RCPT TO:<{recipient}>\r\n").into_bytes(), "250"),
            (b"DATA\r\n".to_vec(), "354"),
            (data, "250"),
            (b"QUIT\r\n".to_vec(), "221"),
        ] {
            writer.write_all(&command).expect("write LMTP command");
            expect(
                &String::from_utf8_lossy(&command[..command.len().min(20)]),
                code,
                &mut reader,
            );
        }
    }

    /// Writes messages straight into the maildir's `cur/` (as seen, or not),
    /// owned by dovecot. Much faster than APPEND for thousands of messages;
    /// Dovecot indexes them on the next access. The mailbox must exist
    /// (INBOX always does once the user has logged in or this is called).
    pub fn write_maildir(&self, user: &str, mailbox: &str, raws: &[Vec<u8>]) {
        let root = self.maildir(user, mailbox);
        let user_root = self.maildir(user, "INBOX");
        for dir in [&user_root, &root] {
            for sub in ["", "cur", "new", "tmp"] {
                let d = dir.join(sub);
                if !d.exists() {
                    fs::create_dir_all(&d).expect("create maildir");
                    chown(&d, Some(self.uid), Some(self.gid)).expect("chown maildir");
                }
            }
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for (i, raw) in raws.iter().enumerate() {
            let name = format!(
                "{stamp}.M{i}P{}.secdesk-test,S={}:2,",
                std::process::id(),
                raw.len()
            );
            let path = root.join("cur").join(name);
            fs::write(&path, raw).expect("write maildir message");
            chown(&path, Some(self.uid), Some(self.gid)).expect("chown maildir message");
        }
    }

    /// UID and flags of every message in `mailbox`, in UID order.
    pub fn flags(&self, user: &str, mailbox: &str) -> Vec<(u32, Vec<String>)> {
        let mut s = self.session(user);
        s.examine(mailbox)
            .unwrap_or_else(|e| panic!("EXAMINE {mailbox}: {e}\n{}", self.log_tail()));
        let fetches = s
            .uid_fetch("1:*", "FLAGS")
            .unwrap_or_else(|e| panic!("FETCH FLAGS: {e}\n{}", self.log_tail()));
        let mut out: Vec<(u32, Vec<String>)> = fetches
            .iter()
            .map(|f| {
                (
                    f.uid.expect("UID FETCH returns UIDs"),
                    f.flags().iter().map(|fl| format!("{fl:?}")).collect(),
                )
            })
            .collect();
        s.logout().ok();
        out.sort();
        out
    }

    /// The mailbox's current UIDVALIDITY (RFC 3501 §2.3.1.1).
    pub fn uidvalidity(&self, user: &str, mailbox: &str) -> u32 {
        let mut s = self.session(user);
        let mb = s
            .examine(mailbox)
            .unwrap_or_else(|e| panic!("EXAMINE {mailbox}: {e}\n{}", self.log_tail()));
        s.logout().ok();
        mb.uid_validity.expect("dovecot reports UIDVALIDITY")
    }

    /// Makes Dovecot forget the mailbox's UIDs: stops the server, removes the
    /// uidlist and index files, restarts. Dovecot then assigns a new
    /// UIDVALIDITY and renumbers the same messages. Returns the new value.
    pub fn reset_uidvalidity(&mut self, user: &str, mailbox: &str) -> u32 {
        let before = self.uidvalidity(user, mailbox);
        self.stop();
        let dir = self.maildir(user, mailbox);
        for entry in fs::read_dir(&dir).expect("read maildir") {
            let entry = entry.expect("maildir entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
                fs::remove_file(entry.path()).expect("remove dovecot index file");
            }
        }
        self.launch();
        let after = self.uidvalidity(user, mailbox);
        assert_ne!(
            before,
            after,
            "UIDVALIDITY did not change after wiping the index\n{}",
            self.log_tail()
        );
        after
    }

    /// The last lines of the Dovecot log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- dovecot log tail ---\n{tail}")
    }

    /// Stops the server (SIGTERM via master.pid, SIGKILL after a timeout).
    pub fn stop(&mut self) {
        let pid_file = self.dir.path().join("run").join("master.pid");
        let pid = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .or_else(|| self.child.as_ref().map(|c| c.id() as i32));
        if let Some(pid) = pid {
            // SAFETY: plain signal delivery to a pid we started.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + STOP_TIMEOUT;
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        child.kill().ok();
                        child.wait().ok();
                        break;
                    }
                }
            }
        }
        let _ = fs::remove_file(pid_file);
    }

    /// Starts a stopped server again on the same ports, with the same mail.
    pub fn restart(&mut self) {
        self.launch();
    }

    fn launch_on_fresh_ports(&mut self) {
        // Ports are picked by binding :0 and releasing; another process may
        // grab one in between, so a bind failure is retried with new ports.
        for _attempt in 0..5 {
            // Both bound at once, so the two can never be the same port (dovecot refuses a
            // "duplicate listener").
            let [imap, imaps] = free_ports();
            self.imap_port = imap;
            self.imaps_port = if self.tls { imaps } else { 0 };
            self.write_config();
            match self.try_launch() {
                Ok(()) => return,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("dovecot did not start\n{log}"),
            }
        }
        panic!(
            "dovecot could not bind free ports after 5 attempts\n{}",
            self.log_tail()
        );
    }

    fn launch(&mut self) {
        if let Err(log) = self.try_launch() {
            panic!("dovecot did not restart\n{log}");
        }
    }

    fn try_launch(&mut self) -> Result<(), String> {
        let conf = self.dir.path().join("dovecot.conf");
        let log = fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("dovecot.stderr"))
            .expect("open dovecot stderr log");
        let child = Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn dovecot: {e}: {INSTALL_HINT}"));
        self.child = Some(child);

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    let stderr = fs::read_to_string(self.dir.path().join("dovecot.stderr"))
                        .unwrap_or_default();
                    return Err(format!(
                        "dovecot exited with {status}\n{stderr}\n{}",
                        self.log_tail()
                    ));
                }
            }
            if self.greets_ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(format!(
                    "dovecot not ready on 127.0.0.1:{} within {START_TIMEOUT:?}\n{}",
                    self.imap_port,
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Ready means the greeting says so: right after start Dovecot first
    /// greets with "Waiting for authentication process to respond".
    fn greets_ready(&self) -> bool {
        let Ok(tcp) = TcpStream::connect(("127.0.0.1", self.imap_port)) else {
            return false;
        };
        tcp.set_read_timeout(Some(Duration::from_secs(2))).ok();
        let mut reader = BufReader::new(&tcp);
        let mut ready = false;
        for _ in 0..4 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if line.starts_with("* OK") && line.contains("ready") {
                ready = true;
                break;
            }
        }
        let _ = (&tcp).write_all(b"z LOGOUT\r\n");
        ready
    }

    fn write_config(&self) {
        let d = self.dir.path().display();
        let ssl = if self.tls {
            let ssl = if self.tls_required { "required" } else { "yes" };
            format!("ssl = {ssl}\nssl_cert = <{d}/server.crt\nssl_key = <{d}/server.key\n")
        } else {
            "ssl = no\n".to_string()
        };
        let imaps = if self.tls {
            format!(
                "  inet_listener imaps {{\n    port = {}\n    ssl = yes\n  }}\n",
                self.imaps_port
            )
        } else {
            String::new()
        };
        let (mechanisms, oauth2_passdb) = oauth2::dovecot_lines(self.dir.path());
        // LMTP (Debian `dovecot-lmtpd`) for tests that deliver mail as an MTA would.
        let (protocols, lmtp) = if Path::new(LMTP).exists() {
            (
                "imap lmtp",
                "recipient_delimiter = +\nlmtp_save_to_detail_mailbox = yes\n\
                 service lmtp {\n  unix_listener lmtp {\n    mode = 0666\n  }\n}\n",
            )
        } else {
            ("imap", "")
        };
        let conf = format!(
            "\
protocols = {protocols}
listen = 127.0.0.1, 127.0.0.2
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
first_valid_uid = 1
first_valid_gid = 1
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
{ssl}disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
mail_location = maildir:{d}/mail/%u
{oauth2_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap}
  }}
{imaps}}}
service anvil {{
  chroot =
}}
{lmtp}",
            imap = self.imap_port,
        );
        fs::write(self.dir.path().join("dovecot.conf"), conf).expect("write dovecot.conf");
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running aiosmtpd that stores every message it receives into a maildir,
/// as the dovecot user so Dovecot can serve that maildir. Stopped on drop.
pub struct Smtp {
    pub port: u16,
    child: Child,
    tls: bool,
    _tls_dir: Option<tempfile::TempDir>,
}

/// How to run an [`Smtp`] sink besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Listen on this port (e.g. one a client was configured with while the server was
    /// down) instead of a fresh one.
    pub port: Option<u16>,
    /// Refuse messages larger than this many bytes (552 after DATA: a permanent failure).
    pub max_size: Option<usize>,
    /// Implicit TLS (SMTPS) with this certificate and key, e.g. [`Dovecot::server_cert`].
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Answer every message with this reply (e.g. a 4xx) instead of storing it.
    pub data_reply: Option<String>,
    /// Offer AUTH in plaintext and refuse every login (535).
    pub refuse_auth: bool,
    /// Answer each RCPT only after this many seconds.
    pub rcpt_delay: Option<f64>,
    /// Store each message, then answer its DATA only after this many seconds.
    pub answer_delay: Option<f64>,
    /// Answer RCPT for this address with 550 5.1.1.
    pub refuse_rcpt: Option<String>,
    /// Offer SMTPUTF8 (RFC 6531; aiosmtpd's `-u`), which aiosmtpd does not by default.
    pub smtputf8: bool,
}

impl SmtpOptions {
    /// Whether the scripted launcher (tests/support/aiosmtpd_faults.py) is needed.
    fn scripted(&self) -> bool {
        self.data_reply.is_some()
            || self.refuse_auth
            || self.rcpt_delay.is_some()
            || self.answer_delay.is_some()
            || self.refuse_rcpt.is_some()
    }
}

impl Smtp {
    /// Starts aiosmtpd delivering into `maildir` (created if missing).
    pub fn start(maildir: &Path) -> Self {
        Self::start_with(maildir, SmtpOptions::default())
    }

    /// Starts aiosmtpd delivering into `maildir`, as `options` say.
    pub fn start_with(maildir: &Path, options: SmtpOptions) -> Self {
        const PYTHON: &str = "/usr/bin/python3";
        assert!(
            Path::new(PYTHON).exists(),
            "{PYTHON} is missing: {INSTALL_HINT}"
        );
        let (uid, gid) = lookup_user("dovecot")
            .unwrap_or_else(|| panic!("system user `dovecot` is missing: {INSTALL_HINT}"));
        for sub in ["", "cur", "new", "tmp"] {
            let d = maildir.join(sub);
            fs::create_dir_all(&d).expect("create smtp maildir");
            chown(&d, Some(uid), Some(gid)).expect("chown smtp maildir");
        }
        // aiosmtpd runs as dovecot, so it gets its own readable copy of the key.
        let tls_dir = options.tls.as_ref().map(|(cert, key)| {
            let dir = tempfile::Builder::new()
                .prefix("secdesk-smtp-tls-")
                .tempdir()
                .expect("create smtp tls dir");
            set_mode(dir.path(), 0o755);
            for (from, name) in [(cert, "smtp.crt"), (key, "smtp.key")] {
                let to = dir.path().join(name);
                fs::copy(from, &to).expect("copy smtp tls file");
                chown(&to, Some(uid), Some(gid)).expect("chown smtp tls file");
            }
            dir
        });
        let mut last_err = String::new();
        for _attempt in 0..5 {
            let port = options.port.unwrap_or_else(free_port);
            let mut cmd = Command::new("/usr/bin/setpriv");
            cmd.args([
                "--reuid=dovecot",
                "--regid=dovecot",
                "--init-groups",
                PYTHON,
            ]);
            if options.scripted() {
                // aiosmtpd's command line cannot script these; the launcher can.
                let script =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/aiosmtpd_faults.py");
                cmd.arg(script).arg(port.to_string()).arg(maildir);
                if let Some(reply) = &options.data_reply {
                    cmd.arg("--data-reply").arg(reply);
                }
                if options.refuse_auth {
                    cmd.arg("--refuse-auth");
                }
                if let Some(s) = options.rcpt_delay {
                    cmd.arg("--rcpt-delay").arg(s.to_string());
                }
                if let Some(s) = options.answer_delay {
                    cmd.arg("--answer-delay").arg(s.to_string());
                }
                if let Some(a) = &options.refuse_rcpt {
                    cmd.arg("--refuse-rcpt").arg(a);
                }
            } else {
                cmd.args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox"])
                    .arg("-l")
                    .arg(format!("127.0.0.1:{port}"));
            }
            if options.smtputf8 {
                assert!(
                    !options.scripted(),
                    "SMTPUTF8 with the scripted launcher: add it there"
                );
                cmd.arg("-u");
            }
            if let Some(size) = options.max_size {
                cmd.arg("-s").arg(size.to_string());
            }
            if let Some(dir) = &tls_dir {
                cmd.arg("--smtpscert")
                    .arg(dir.path().join("smtp.crt"))
                    .arg("--smtpskey")
                    .arg(dir.path().join("smtp.key"));
            }
            if !options.scripted() {
                // The handler's argument goes last, after every option.
                cmd.arg(maildir);
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn aiosmtpd: {e}: {INSTALL_HINT}"));
            let mut smtp = Smtp {
                port,
                child,
                tls: tls_dir.is_some(),
                _tls_dir: None,
            };
            match smtp.wait_ready() {
                Ok(()) => {
                    smtp._tls_dir = tls_dir;
                    return smtp;
                }
                Err(e) => last_err = e,
            }
            if options.port.is_some() {
                break;
            }
        }
        panic!("aiosmtpd did not start: {last_err}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    std::io::Read::read_to_string(&mut e, &mut err).ok();
                }
                return Err(format!("aiosmtpd exited with {status}: {err}"));
            }
            if self.tls {
                // The greeting comes only after a TLS handshake: listening is enough.
                if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    return Ok(());
                }
            } else if let Ok(tcp) = TcpStream::connect(("127.0.0.1", self.port)) {
                tcp.set_read_timeout(Some(Duration::from_secs(2))).ok();
                let mut line = String::new();
                if BufReader::new(&tcp).read_line(&mut line).is_ok() && line.starts_with("220") {
                    let _ = (&tcp).write_all(b"QUIT\r\n");
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not ready on port {} within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Runs `cmd` (stdin empty, stdout and stderr piped) to its end, killing it and failing the
/// test when it is still running after `timeout`.
#[allow(dead_code)] // each test binary uses a different subset
pub fn output_within(mut cmd: Command, timeout: Duration) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the command");
    let deadline = Instant::now() + timeout;
    while child.try_wait().expect("poll the command").is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("{cmd:?} still running after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
        .wait_with_output()
        .expect("collect the command's output")
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// `N` free ports, all different: each is held until all are picked (two `free_port` calls
/// can return the same port, since the first is released before the second is asked for).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port"))
        .collect();
    std::array::from_fn(|i| {
        held[i]
            .local_addr()
            .expect("a bound port has an address")
            .port()
    })
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == name {
            Some((f[2].parse().ok()?, f[3].parse().ok()?))
        } else {
            None
        }
    })
}

/// A test CA and a `localhost` leaf it signed (CA:FALSE, SAN localhost and
/// 127.0.0.1, serverAuth): rustls refuses a self-signed CA as end entity.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("/usr/bin/openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("run openssl: {e}: {INSTALL_HINT}"));
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend_from_slice(&ec);
    ca.extend_from_slice(&[
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=secdesk test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend_from_slice(&ec);
    csr.extend_from_slice(&[
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&csr);
    fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         subjectAltName=DNS:localhost,IP:127.0.0.1\n\
         extendedKeyUsage=serverAuth\n\
         keyUsage=critical,digitalSignature\n",
    )
    .expect("write leaf.ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    // The key is read by dovecot's config process (running as root) via
    // `ssl_key = <FILE`, but login processes need nothing from it directly.
    set_mode(&dir.join("server.key"), 0o600);
}

/// A small RFC 5322 message.
pub fn message(message_id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Reporter <reporter@example.net>\r\n\
         To: security@example.org\r\n\
         Subject: {subject}\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n"
    )
    .into_bytes()
}

/// A reply to `parent_id` (In-Reply-To and References set).
pub fn reply(message_id: &str, parent_id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Security Team <security@example.org>\r\n\
         To: reporter@example.net\r\n\
         Subject: Re: {subject}\r\n\
         Date: Tue, 24 Nov 2026 11:00:00 +0000\r\n\
         Message-ID: <{message_id}>\r\n\
         In-Reply-To: <{parent_id}>\r\n\
         References: <{parent_id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n"
    )
    .into_bytes()
}

/// A small seeded pseudo-random generator (SplitMix64), so fault-injection runs reproduce:
/// the seed is `SECDESK_FAULT_SEED` when set, else a fixed default, and tests print it.
pub struct SeededRng(u64);

impl SeededRng {
    pub fn from_env(default: u64) -> SeededRng {
        let seed = std::env::var("SECDESK_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default);
        eprintln!("fault seed {seed} (set SECDESK_FAULT_SEED to change it)");
        SeededRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi` (`lo` when the range is empty).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo)
    }
}
