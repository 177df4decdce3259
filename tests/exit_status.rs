//! What a script sees when `secdesk sync` cannot do its job: one line on stderr, and an
//! exit status that says whether to fix the config (78) or run again later (75). A refused
//! login (77) is checked against a real Dovecot in `tests/secrets.rs`, and a busy store (75)
//! in `tests/store/faults.rs`.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;

/// A config for a loopback IMAP server at `port`, with `extra` appended.
fn write_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[imap]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
         username = \"security\"\npassword_command = [\"printf\", \"pw\"]\n\n\
         [store]\npath = {:?}\n\n\
         [identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n{extra}",
        dir.join("secdesk.db")
    );
    std::fs::write(&path, text).expect("write config");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

fn secdesk(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secdesk"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run secdesk")
}

/// The status and the single stderr line of a failed run.
fn failure(out: &Output) -> (Option<i32>, String) {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.code(), err)
}

#[test]
fn a_config_that_needs_fixing_exits_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, line) = failure(&secdesk(&dir.path().join("absent.toml"), &["sync"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(line.contains("no config file at"), "{line}");

    let config = write_config(
        dir.path(),
        143,
        "[sync]\ndeadline_seconds = 18446744073709551615\n",
    );
    let (code, line) = failure(&secdesk(&config, &["sync"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(line.contains("`sync.deadline_seconds`"), "{line}");

    let config = write_config(dir.path(), 143, "[sync]\ntimeout_secs = 5\n");
    let (code, line) = failure(&secdesk(&config, &["list"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(line.contains("did you mean `timeout_seconds`?"), "{line}");

    std::fs::write(dir.path().join("latin1.toml"), b"# caf\xe9\n[identity]\n").expect("write");
    let (code, line) = failure(&secdesk(&dir.path().join("latin1.toml"), &["list"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(
        line.contains("it is not UTF-8 text: save it as UTF-8"),
        "{line}"
    );

    // A section the command needs is a config matter too.
    let no_imap = dir.path().join("no-imap.toml");
    std::fs::write(
        &no_imap,
        "[identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n",
    )
    .expect("write");
    let (code, line) = failure(&secdesk(&no_imap, &["sync"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(line.contains("it has no [imap] section"), "{line}");

    // A folder given as the config is named, with what to give instead.
    let (code, line) = failure(&secdesk(dir.path(), &["list"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(line.contains("is a folder"), "{line}");
}

#[test]
fn a_server_that_is_down_or_silent_exits_75() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = support::free_port();
    let config = write_config(dir.path(), closed, "");
    let (code, line) = failure(&secdesk(&config, &["sync"]));
    assert_eq!(code, Some(75), "{line}");
    assert!(
        line.contains(&format!("cannot reach IMAP server 127.0.0.1:{closed}")),
        "{line}"
    );

    // Accepts the connection and never says a word: given up after timeout_seconds.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let config = write_config(dir.path(), port, "[sync]\ntimeout_seconds = 1\n");
    let out = secdesk(&config, &["sync"]);
    let (code, line) = failure(&out);
    assert_eq!(code, Some(75), "{line}");
    assert!(
        line.contains(&format!(
            "IMAP server 127.0.0.1:{port} did not answer within 1 s while waiting for the plaintext greeting (a port that speaks TLS from the first byte never sends one: if this is such a port, set security = \"tls\" in [imap])"
        )),
        "{line}"
    );
    assert!(
        !dir.path().join("secdesk.db").exists(),
        "nothing was stored, so no store"
    );
    drop(silent);
}

/// Every value the user typed that a command does not take exits 2, as clap's own errors
/// do, with one line that names what it takes; nothing is opened or changed first.
#[test]
fn a_value_the_command_does_not_take_exits_2_naming_what_it_takes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smtp = "[smtp]\nhost = \"127.0.0.1\"\nport = 25\nsecurity = \"plain\"\n";
    let config = write_config(dir.path(), 143, smtp);
    let cases: &[(&[&str], &str)] = &[
        (
            &["list", "--state", "bogus"],
            "expected one of new, acknowledged",
        ),
        (
            &["list", "--class", "foo"],
            "expected spam, invalid or valid",
        ),
        (&["mark", "5", "bogus"], "expected spam, invalid or valid"),
        (
            &["mark", "5", "invalid", "--reason", "foo"],
            "expected one of not-a-vulnerability, third-party",
        ),
        (
            &["state", "5", "flying"],
            "expected one of new, acknowledged",
        ),
        (
            &["state", "5", "invalid", "--reason", "foo"],
            "expected one of not-a-vulnerability",
        ),
        (&["responded", "5", "--via", "email"], "phone or other"),
        // It printed words on stdout, after discarding, to a script reading JSON.
        (
            &["outbox", "--discard", "1", "--json"],
            "cannot be used with '--json'",
        ),
        (&["stats", "--tz", "Mars/Base"], "an IANA name such as"),
        (
            &["stats", "--since", "2026-13-01"],
            "write it as YYYY-MM-DD",
        ),
        (&["stats", "--until", "yesterday"], "write it as YYYY-MM-DD"),
        (
            &["stats", "--since", "2026-02-01", "--until", "2026-01-01"],
            "--since 2026-02-01 is after --until 2026-01-01: swap them",
        ),
        (
            &["advisory", "1", "--unset", "foo"],
            "the fields are component",
        ),
        (
            &["advisory", "1", "--set", "foo=bar"],
            "the fields are component",
        ),
        (&["advisory", "1", "--set", "cvss"], "write KEY=VALUE"),
        (
            &["notice", "1", "--template", "x", "--to", "a@example.org"],
            "the notice template is embargo",
        ),
        (
            &["reply", "1", "--template", "nosuch", "--no-edit", "--yes"],
            "choose one of acknowledge",
        ),
        (
            &[
                "reply",
                "1",
                "--template",
                "acknowledge",
                "--to",
                "nobody",
                "--no-edit",
                "--yes",
            ],
            "--to address \"nobody\" is not a valid mail address",
        ),
        (
            &["notice", "1", "--to", "nobody"],
            "--to address \"nobody\" is not a valid mail address",
        ),
        // lettre's address parser takes an address literal, its header parser does not:
        // it was refused only after the preview ("To address … (Invalid input)"), exit 1.
        (
            &[
                "reply",
                "1",
                "--template",
                "acknowledge",
                "--to",
                "a@[127.0.0.1]",
                "--no-edit",
                "--yes",
            ],
            "--to address \"a@[127.0.0.1]\" is not a valid mail address (an address literal",
        ),
        (
            &["notice", "1", "--to", "Ops <ops@[IPv6:::1]>"],
            "(an address literal (a host's IP address in brackets) is not taken",
        ),
        (&["store"], "`secdesk store --stats`"),
        (&["train"], "name folders to train on"),
        // Those clap already refused stay so.
        (&["list", "--due", "xyz"], "--due"),
        (&["stats", "--by", "day"], "week, month, quarter or year"),
        (&["export", "1", "--format", "pdf"], "--format"),
        (&["show", "abc"], "abc"),
    ];
    for (args, says) in cases {
        let out = secdesk(&config, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        // secdesk's own refusals are one line; clap's add a hint to --help.
        if err.starts_with("secdesk: ") {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
    }
}

/// `pgp import-key` without a `[pgp]` section (no keyring to import into) is the config's to
/// fix, 78, as `sync` without `[imap]` is; it exited 1.
#[test]
fn a_key_import_without_a_keyring_exits_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), support::free_port(), "");
    let (code, line) = failure(&secdesk(&config, &["pgp", "import-key", "1"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(line.contains("no [pgp] section"), "{line}");
}

/// A `password_command` whose program does not exist is the config's to fix (78), as its
/// message says; one that runs and fails is not.
#[test]
fn a_password_command_that_does_not_exist_exits_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = support::free_port();
    let config = write_config(dir.path(), closed, "");
    let text = std::fs::read_to_string(&config).expect("read config");
    let missing = text.replace(
        "[\"printf\", \"pw\"]",
        "[\"secdesk-no-such-password-program\"]",
    );
    std::fs::write(&config, missing).expect("write config");
    let (code, line) = failure(&secdesk(&config, &["sync"]));
    assert_eq!(code, Some(78), "{line}");
    assert!(
        line.contains("check the program name in the config"),
        "{line}"
    );

    let failing = text.replace("[\"printf\", \"pw\"]", "[\"false\"]");
    std::fs::write(&config, failing).expect("write config");
    let (code, line) = failure(&secdesk(&config, &["sync"]));
    assert_eq!(code, Some(1), "{line}");
    assert!(line.contains("run it by hand"), "{line}");
}
