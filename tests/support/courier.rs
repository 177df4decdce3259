//! A real Courier IMAP server (Debian's courier-imap 5.0) for integration tests, from the
//! package unpacked by `scripts/test` (it conflicts with dovecot-imapd, so it is never
//! installed; courier-base, courier-authdaemon and courier-authlib-userdb are). See
//! ../shared/NOTES.md.
//!
//! Courier's auth paths are compiled in (`/etc/courier`, `/run/courier`), so it runs inside
//! `unshare --mount` with a temp dir bind-mounted over both: the host's files are untouched.
//! Its capabilities come from `IMAP_CAPABILITY`: without IDLE, and never with MOVE,
//! CONDSTORE, SPECIAL-USE or LITERAL+, it is the fallback case. Folders are `INBOX.Name`.

use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::imap_server::{self, ImapServer, PASSWORD, USER};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The mail owner: any uid works, Courier's userdb maps the login to it.
const MAIL_UID: u32 = 31000;
const HINT: &str =
    "run scripts/test, which installs courier-base, courier-authdaemon and courier-authlib-userdb";

/// A running Courier. Stopped (and its directory removed) on drop.
pub struct Courier {
    dir: tempfile::TempDir,
    pub port: u16,
    /// Where the unpacked binaries are.
    root: PathBuf,
    idle: bool,
    child: Option<Child>,
}

impl Courier {
    /// Starts Courier without IDLE (nor MOVE, CONDSTORE, SPECIAL-USE, LITERAL+).
    pub fn start() -> Courier {
        Courier::start_with(false)
    }

    fn inbox_maildir(&self) -> PathBuf {
        self.dir.path().join("home").join(USER).join("Maildir")
    }

    /// Delivers `raw` into the INBOX's Maildir (`new/`) as a delivery agent does: LF line
    /// ends (Courier serves a CR it finds in the file as one more), no `,S=` size in the
    /// name, owned by the mail user with file mode `mode`.
    pub fn deliver_file(&self, name: &str, raw: &[u8], mode: u32) {
        let path = self.inbox_maildir().join("new").join(name);
        let lf = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        fs::write(&path, lf).expect("deliver into the Maildir");
        chown(&path, Some(MAIL_UID), Some(MAIL_UID)).expect("chown delivered file");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod delivered");
    }

    /// Sets the mode of the INBOX message delivered as `name`, in `new/` or, once Courier
    /// has seen it, in `cur/` (as `name:2,FLAGS`).
    pub fn set_file_mode(&self, name: &str, mode: u32) {
        let found = ["new", "cur"]
            .iter()
            .filter_map(|sub| fs::read_dir(self.inbox_maildir().join(sub)).ok())
            .flatten()
            .map(|e| e.expect("maildir entry").path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(name))
            })
            .unwrap_or_else(|| panic!("{name} is not in the INBOX's Maildir"));
        fs::set_permissions(found, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// Starts Courier, announcing IDLE when `idle` is true.
    pub fn start_with(idle: bool) -> Courier {
        let root = imap_server::unpacked("courier-imap", "usr/bin/imapd");
        for tool in [
            "/usr/sbin/couriertcpd",
            "/usr/lib/courier/courier-authlib/authdaemond",
            "/usr/sbin/userdbpw",
            "/usr/sbin/makeuserdb",
            "/usr/bin/maildirmake.courier",
            "/usr/bin/unshare",
        ] {
            assert!(Path::new(tool).exists(), "{tool} is missing: {HINT}");
        }
        let dir = tempfile::Builder::new()
            .prefix("secdesk-courier-")
            .tempdir()
            .expect("temp dir for courier");
        let t = dir.path();
        // The mail owner must be able to reach its home through the temp dir.
        fs::set_permissions(t, fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
        for sub in ["etc", "run/authdaemon", "home"] {
            fs::create_dir_all(t.join(sub)).expect("courier dirs");
        }
        fs::write(
            t.join("etc/authdaemonrc"),
            "authmodulelist=\"authuserdb\"\ndaemons=1\nauthdaemonvar=/run/courier/authdaemon\n\
             DEBUG_LOGIN=0\nDEFAULTOPTIONS=\"\"\nLOGGEROPTS=\"\"\n",
        )
        .expect("write authdaemonrc");
        let home = t.join("home").join(USER);
        fs::create_dir_all(&home).expect("home");
        run(Command::new("/usr/bin/maildirmake.courier").arg(home.join("Maildir")));
        let hash = run(Command::new("sh").args([
            "-c",
            "printf '%s\\n' \"$1\" | /usr/sbin/userdbpw -md5",
            "sh",
            PASSWORD,
        ]));
        let userdb = t.join("etc/userdb");
        fs::write(
            &userdb,
            format!(
                "{USER}\tuid={MAIL_UID}|gid={MAIL_UID}|home={h}|mail={h}/Maildir|systempw={hash}\n",
                h = home.display(),
                hash = hash.trim()
            ),
        )
        .expect("write userdb");
        fs::set_permissions(&userdb, fs::Permissions::from_mode(0o600)).expect("chmod userdb");
        run(Command::new("/usr/sbin/makeuserdb").arg("-f").arg(&userdb));
        chown_tree(&home);

        let server = Courier {
            dir,
            port: 0,
            root,
            idle,
            child: None,
        };
        imap_server::launch_on_free_port(server)
    }

    fn launch(&mut self) -> Result<(), String> {
        let root = self.root.clone();
        let t = self.dir.path();
        let capability = if self.idle {
            "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE"
        } else {
            "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE"
        };
        // GAMIN_DEBUG_SERVER=/bin/false: without it each LOGIN waits 1.2 s for gam_server,
        // which then outlives the test.
        let script = format!(
            "set -e\nmount --bind {t}/etc /etc/courier\nmount --bind {t}/run /run/courier\n\
             /usr/lib/courier/courier-authlib/authdaemond &\n\
             exec env -i PATH=/usr/bin:/bin IMAP_CAPABILITY='{capability}' IMAP_IDLE_TIMEOUT=1 \
             IMAP_USELOCKS=0 GAMIN_DEBUG_SERVER=/bin/false MAILDIRPATH=Maildir \
             /usr/sbin/couriertcpd -address=127.0.0.1 -nodnslookup -noidentlookup {port} \
             {root}/usr/lib/courier/courier/imaplogin {root}/usr/bin/imapd Maildir\n",
            t = t.display(),
            root = root.display(),
            port = self.port,
        );
        let log = fs::File::create(t.join("courier.log")).expect("courier log");
        let child = Command::new("/usr/bin/unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn unshare: {e}"));
        self.child = Some(child);
        // The port comes up before the auth daemon's socket: wait for both.
        let socket = t.join("run/authdaemon/socket");
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!("couriertcpd exited with {status}"));
            }
            if socket.exists() && imap_server::greets(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "no greeting and auth socket within {START_TIMEOUT:?}"
        ))
    }

    /// Stops couriertcpd, the auth daemon and every imapd (the whole process group).
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            imap_server::stop_group(child, STOP_TIMEOUT);
        }
    }
}

impl ImapServer for Courier {
    fn name(&self) -> &'static str {
        "Courier"
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn folder(&self, name: &str) -> String {
        format!("INBOX.{name}")
    }
    fn offers_idle(&self) -> bool {
        self.idle
    }
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.path().join("courier.log")).unwrap_or_default();
        format!("--- courier output ---\n{log}")
    }
}

impl imap_server::Launch for Courier {
    fn try_on(&mut self, port: u16) -> Result<(), String> {
        self.port = port;
        self.launch()
    }
    fn stop(&mut self) {
        Courier::stop(self)
    }
}

impl Drop for Courier {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs a set-up command to success and returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}: {HINT}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn chown_tree(path: &Path) {
    chown(path, Some(MAIL_UID), Some(MAIL_UID)).expect("chown courier home");
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("read courier home") {
            chown_tree(&entry.expect("entry").path());
        }
    }
}
