//! Secrets and files, through the real binary against a real Dovecot: a refused login never
//! shows the password, whichever way it was configured; the store and its WAL files are
//! private; a config holding a password that others can read is refused; a bad `ca_file`
//! fails closed. (SMTP's side of each is in tests/reply/faults.rs.)

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{message, Dovecot};

const USER: &str = "security";
const PASSWORD: &str = "right-Pa55word";
/// What each failing login is given: it must appear nowhere in the output.
const WRONG: &str = "Wrong-Secret-9731";
const PASSWORD_VAR: &str = "SECDESK_TEST_IMAP_PASSWORD";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn server() -> Dovecot {
    let server = Dovecot::start();
    server.add_user(USER, PASSWORD);
    server
}

/// Writes a config with `imap_extra` in `[imap]` (the password lines, `ca_file`).
fn write_config(dir: &Path, port: u16, imap_extra: &str, db: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[imap]\nhost = \"localhost\"\nport = {port}\nsecurity = \"tls\"\n\
         username = \"{USER}\"\n{imap_extra}\n\
         [store]\npath = {db:?}\n\n\
         [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n"
    );
    std::fs::write(&path, text).expect("write config");
    set_mode(&path, 0o600);
    path
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// Runs `secdesk --config CONFIG ARGS` with umask 000, so any file secdesk does not make
/// private itself would come out world-readable.
fn secdesk(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_secdesk"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env_remove(PASSWORD_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: umask is async-signal-safe and touches only the child's own state.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("run secdesk");
    let started = Instant::now();
    while child.try_wait().expect("poll secdesk").is_none() {
        if started.elapsed() > RUN_TIMEOUT {
            child.kill().ok();
            panic!("secdesk {args:?} still running after {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect output")
}

/// All a user would see of a run.
fn seen(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_refused_imap_login_never_shows_the_password_however_it_was_given() {
    let server = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("secdesk.db");
    for (way, line) in [
        (
            "password_env",
            format!("password_env = \"{PASSWORD_VAR}\"\n"),
        ),
        (
            "password_command",
            format!("password_command = [\"printf\", \"{WRONG}\"]\n"),
        ),
        ("password", format!("password = \"{WRONG}\"\n")),
    ] {
        let config = write_config(
            dir.path(),
            server.imaps_port,
            &format!("{line}ca_file = {:?}\n", server.ca_file()),
            &db,
        );
        let out = secdesk(&config, &["sync", "--verbose"], &[(PASSWORD_VAR, WRONG)]);
        let text = seen(&out);
        // 77 (EX_NOPERM): a script stops and asks for the password, not retries.
        assert_eq!(out.status.code(), Some(77), "{way}: {text}");
        assert!(
            text.contains("login refused for user security at localhost"),
            "{way}: {text}"
        );
        assert_eq!(text.lines().count(), 1, "{way}: {text}");
        assert!(!text.contains(WRONG), "{way} leaked the password: {text}");
        assert!(!db.exists(), "{way}: a refused login created the store");
    }
    // Dovecot saw each attempt: the password really was sent, and refused.
    // Dovecot writes the line for a refused login when it closes that
    // connection, which can come a moment after secdesk has already exited, so
    // the log is read until all three lines are there (or 20 s have passed).
    let refused = |log: &str| {
        log.matches("auth failed").count() >= 3 || log.matches("Aborted login").count() >= 3
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut log = String::new();
    while std::time::Instant::now() < deadline {
        log = std::fs::read_to_string(server.dir().join("dovecot.log")).unwrap_or_default();
        if refused(&log) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(refused(&log), "{}", server.log_tail());
}

#[test]
fn the_store_and_its_wal_files_are_private_even_with_umask_000() {
    let server = server();
    server.append_all(
        USER,
        "INBOX",
        &(0..50)
            .map(|i| message(&format!("p{i}@x"), "embargoed", "details under embargo"))
            .collect::<Vec<_>>(),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    // The store's folder does not exist yet: secdesk creates it, private too.
    let db = dir.path().join("private/secdesk.db");
    let config = write_config(
        dir.path(),
        server.imaps_port,
        &format!(
            "password_env = \"{PASSWORD_VAR}\"\nca_file = {:?}\n",
            server.ca_file()
        ),
        &db,
    );
    let out = secdesk(&config, &["sync"], &[(PASSWORD_VAR, PASSWORD)]);
    assert!(out.status.success(), "{}", seen(&out));
    // A reader holds the WAL open, so the next sync's writes land in -wal and -shm files
    // that stay on disk to be checked.
    let reader = rusqlite::Connection::open(&db).expect("open store");
    let _: i64 = reader
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .expect("read store");
    server.append(USER, "INBOX", &message("p-late@x", "later", "more"));
    let out = secdesk(&config, &["sync"], &[(PASSWORD_VAR, PASSWORD)]);
    assert!(out.status.success(), "{}", seen(&out));
    assert_eq!(mode(db.parent().unwrap()), 0o700, "the store's folder");
    // `-clean` is the stamp a clean close leaves (core::store::stamp).
    for suffix in ["", "-wal", "-shm", "-clean"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        assert!(path.exists(), "{} is missing", path.display());
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    drop(reader);
}

#[test]
fn a_config_holding_a_password_that_others_can_read_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("secdesk.db");
    // Nothing listens there: the refusal must come before any connection.
    let config = write_config(
        dir.path(),
        support::free_port(),
        &format!("password = \"{WRONG}\"\n"),
        &db,
    );
    for loose in [0o640, 0o604, 0o644] {
        set_mode(&config, loose);
        let out = secdesk(&config, &["sync"], &[]);
        let text = seen(&out);
        // 78 (EX_CONFIG): the config needs fixing.
        assert_eq!(out.status.code(), Some(78), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains("holds a password but is readable by group or others")
                && text.contains(&format!("mode {loose:o}"))
                && text.contains(&format!("chmod 600 {}", config.display())),
            "{text}"
        );
        assert!(!text.contains(WRONG), "{text}");
        assert!(!db.exists());
    }
    // Private again: it gets as far as the (absent) server.
    set_mode(&config, 0o600);
    let text = seen(&secdesk(&config, &["sync"], &[]));
    assert!(text.contains("cannot reach IMAP server"), "{text}");
}

/// A CA certificate that signed nothing Dovecot uses.
fn other_ca(dir: &Path) -> PathBuf {
    let out = Command::new("/usr/bin/openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-keyout", "other.key", "-out", "other-ca.crt"])
        .args(["-subj", "/CN=some other CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("other-ca.crt")
}

#[test]
fn a_bad_imap_ca_file_fails_closed_before_logging_in() {
    let server = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("secdesk.db");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate at all\n").expect("write garbage");
    let wrong = other_ca(dir.path());
    let missing = dir.path().join("no-such-ca.pem");
    // The right CA, then a damaged block: the file is refused, not half used.
    let damaged = dir.path().join("damaged.pem");
    let good = std::fs::read_to_string(server.ca_file()).expect("read the test CA");
    std::fs::write(
        &damaged,
        format!("{good}-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n"),
    )
    .expect("write damaged");
    for (ca, expect) in [
        (&missing, "cannot read ca_file"),
        (&garbage, "holds no PEM certificate"),
        (&damaged, "is not valid PEM"),
        (&wrong, "the server certificate is not trusted"),
    ] {
        let config = write_config(
            dir.path(),
            server.imaps_port,
            &format!("password_env = \"{PASSWORD_VAR}\"\nca_file = {ca:?}\n"),
            &db,
        );
        let out = secdesk(&config, &["sync"], &[(PASSWORD_VAR, PASSWORD)]);
        let text = seen(&out);
        assert_eq!(out.status.code(), Some(1), "{ca:?}: {text}");
        assert_eq!(text.lines().count(), 1, "{ca:?}: {text}");
        assert!(text.contains(expect), "{ca:?}: {text}");
        if ca != &wrong {
            assert!(text.contains(&ca.display().to_string()), "{ca:?}: {text}");
        }
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(!db.exists(), "{ca:?}: the store was created");
    }
    assert!(
        !server.log_tail().contains("Login: user=<security>"),
        "a login got through\n{}",
        server.log_tail()
    );
}
