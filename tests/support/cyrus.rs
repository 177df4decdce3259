//! A real Cyrus IMAP server (Debian's cyrus-imapd 3.6) for integration tests, from the
//! package unpacked by `scripts/test` (it conflicts with dovecot-imapd, so it is never
//! installed; its libraries come from the installed cyrus-common). Config, spool and the
//! SASL password database live in a temp dir; `master` runs in the foreground and, started
//! as root, drops to the `cyrus` user. See ../shared/NOTES.md.
//!
//! Folders are named as in Dovecot (`altnamespace`, `unixhierarchysep`). It offers IDLE
//! (through `idled`), UIDPLUS, MOVE, CONDSTORE, SPECIAL-USE and LITERAL+.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::imap_server::{self, ImapServer, PASSWORD, USER};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const MASTER: &str = "/usr/lib/cyrus/bin/master";
const HINT: &str = "run scripts/test, which installs cyrus-common and sasl2-bin";

/// A running Cyrus. Stopped (and its directory removed) on drop.
pub struct Cyrus {
    dir: tempfile::TempDir,
    pub port: u16,
    /// Where the unpacked binaries are.
    bin: PathBuf,
    child: Option<Child>,
}

impl Cyrus {
    /// Starts Cyrus on a free loopback port with the [`USER`] login.
    pub fn start() -> Cyrus {
        let bin = imap_server::unpacked("cyrus-imapd", "usr/lib/cyrus/bin/imapd")
            .join("usr/lib/cyrus/bin");
        for tool in [MASTER, "/usr/sbin/saslpasswd2"] {
            assert!(Path::new(tool).exists(), "{tool} is missing: {HINT}");
        }
        let dir = tempfile::Builder::new()
            .prefix("secdesk-cyrus-")
            .tempdir()
            .expect("temp dir for cyrus");
        let t = dir.path();
        fs::create_dir_all(t.join("conf/socket")).expect("cyrus conf dir");
        fs::create_dir_all(t.join("spool")).expect("cyrus spool");
        fs::write(
            t.join("imapd.conf"),
            format!(
                "configdirectory: {t}/conf\npartition-default: {t}/spool\nservername: localhost\n\
                 sasl_pwcheck_method: auxprop\nsasl_auxprop_plugin: sasldb\n\
                 sasl_sasldb_path: {t}/sasldb2\nsasl_mech_list: PLAIN LOGIN\n\
                 allowplaintext: yes\nautocreate_quota: 0\n\
                 altnamespace: yes\nunixhierarchysep: yes\n",
                t = t.display()
            ),
        )
        .expect("write imapd.conf");
        let mut pw = Command::new("/usr/sbin/saslpasswd2")
            .args(["-p", "-c", "-f"])
            .arg(t.join("sasldb2"))
            .args(["-u", "localhost", USER])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("saslpasswd2: {e}: {HINT}"));
        {
            use std::io::Write;
            let mut stdin = pw.stdin.take().expect("saslpasswd2 stdin");
            stdin
                .write_all(PASSWORD.as_bytes())
                .expect("password to saslpasswd2");
        }
        assert!(
            pw.wait().expect("saslpasswd2").success(),
            "saslpasswd2 failed"
        );
        let status = Command::new("chown")
            .args(["-R", "cyrus:mail"])
            .arg(t)
            .status()
            .expect("chown");
        assert!(status.success(), "chown -R cyrus:mail {}", t.display());

        let server = Cyrus {
            dir,
            port: 0,
            bin,
            child: None,
        };
        imap_server::launch_on_free_port(server)
    }

    fn launch(&mut self) -> Result<(), String> {
        let bin = self.bin.clone();
        let t = self.dir.path();
        let conf = t.join("imapd.conf");
        fs::write(
            t.join("cyrus.conf"),
            format!(
                "SERVICES {{\n  imap cmd=\"{bin}/imapd -C {conf}\" listen=\"127.0.0.1:{port}\" prefork=0\n}}\n\
                 DAEMON {{\n  idled cmd=\"{bin}/idled -C {conf}\"\n}}\n",
                bin = bin.display(),
                conf = conf.display(),
                port = self.port
            ),
        )
        .expect("write cyrus.conf");
        let log = fs::File::create(t.join("master.log")).expect("cyrus log");
        let child = Command::new(MASTER)
            .arg("-D")
            .arg("-C")
            .arg(&conf)
            .arg("-M")
            .arg(t.join("cyrus.conf"))
            .arg("-p")
            .arg(t.join("master.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {MASTER}: {e}: {HINT}"));
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!("master exited with {status}"));
            }
            if imap_server::greets(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("no greeting within {START_TIMEOUT:?}"))
    }

    /// Stops master and everything it started (SIGTERM, then SIGKILL to the group).
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            imap_server::stop_group(child, STOP_TIMEOUT);
        }
    }
}

impl ImapServer for Cyrus {
    fn name(&self) -> &'static str {
        "Cyrus"
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn offers_idle(&self) -> bool {
        true
    }
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("master.log")).unwrap_or_default();
        format!("--- cyrus master output (it logs to syslog, absent here) ---\n{log}")
    }
}

impl imap_server::Launch for Cyrus {
    fn try_on(&mut self, port: u16) -> Result<(), String> {
        self.port = port;
        self.launch()
    }
    fn stop(&mut self) {
        Cyrus::stop(self)
    }
}

impl Drop for Cyrus {
    fn drop(&mut self) {
        self.stop();
    }
}
