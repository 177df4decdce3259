//! Intake that is bounded and honest, through the real `secdesk` binary and a real SQLite
//! store: an mbox body line beginning `From ` survives whole; a FIFO and `/dev/zero` are
//! refused at once; a Maildir's symlink and FIFO are named in the summary; a large mbox is
//! imported in bounded memory, its oversized message kept as headers and a note; a Maildir names its Maildir++ subfolders and tmp/ files; a `password_command` that hangs is stopped at its configured
//! deadline, and one that fails shows its stderr as one line.

use std::ffi::CString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Every secdesk run here is killed (and the test failed) after this long.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

struct Desk {
    dir: tempfile::TempDir,
}

/// What a finished run left: status, stdout, stderr, wall time and peak RSS in KiB.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
    peak_kib: i64,
}

impl Desk {
    /// A desk whose config holds `extra` (e.g. an `[imap]` section).
    fn new(extra: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "{extra}\n[store]\npath = {:?}\n\n[identity]\nname = \"Test Desk\"\nemail = \"desk@example.org\"\n",
            dir.path().join("secdesk.db"),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        Desk { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs secdesk with `args`; stdout and stderr go to files, so a full pipe cannot stall
    /// it, and wait4 gives its own peak RSS.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(Command::new(env!("CARGO_BIN_EXE_secdesk")), args)
    }

    /// [`Desk::run`] as the unprivileged `nobody`, for whom file modes count (tests run as
    /// root, who can read anything).
    fn run_as_nobody(&self, args: &[&str]) -> Run {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod desk dir");
        let mut cmd = Command::new("/usr/bin/setpriv");
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_secdesk"));
        self.run_with(cmd, args)
    }

    fn run_with(&self, mut cmd: Command, args: &[&str]) -> Run {
        let out = self.path("stdout");
        let err = self.path("stderr");
        let started = Instant::now();
        // Reaped below with wait4 (for its rusage), not Child::wait.
        #[allow(clippy::zombie_processes)]
        let child = cmd
            .arg("--config")
            .arg(self.path("config.toml"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("run secdesk");
        let pid = child.id() as i32;
        let (status, peak_kib) = loop {
            let mut status = 0;
            // SAFETY: rusage is plain data; wait4 with WNOHANG on our own child.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            if done == pid {
                break (ExitStatus::from_raw(status), usage.ru_maxrss);
            }
            if started.elapsed() > RUN_TIMEOUT {
                // SAFETY: signal to our own child, then reap it.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                unsafe { libc::waitpid(pid, &mut status, 0) };
                panic!("secdesk {args:?} still running after {RUN_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Run {
            status,
            stdout: std::fs::read_to_string(out).unwrap_or_default(),
            stderr: std::fs::read_to_string(err).unwrap_or_default(),
            took: started.elapsed(),
            peak_kib,
        }
    }

    fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.path("secdesk.db")).expect("open store");
        // Bodies are read as the desk reads them (core::store::body).
        secdesk::core::store::register_functions(&conn).expect("store functions");
        conn
    }

    /// The raw bytes of the message `condition` (SQL on `messages`) picks, as stored.
    fn raw(&self, condition: &str) -> Vec<u8> {
        self.db()
            .query_row(
                &format!("SELECT raw FROM messages WHERE {condition}"),
                [],
                |r| r.get::<_, secdesk::core::store::raw::RawMessage>(0),
            )
            .expect("the message is stored")
            .0
    }

    fn stored(&self) -> i64 {
        self.db()
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
            .expect("count messages")
    }
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn message(id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Reporter <reporter@example.net>\nTo: security@example.org\nSubject: {subject}\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <{id}>\n\n{body}"
    )
}

#[test]
fn an_mbox_body_line_starting_with_from_survives_whole() {
    let desk = Desk::new("");
    // As the reporter wrote it.
    let body = "Steps to reproduce:\n\nFrom the login page, send a crafted token.\n\
                >From a quoted line\n\n\
                From attacker@evil.example Mon Nov  2 10:00:00 2026\nthat line is pasted from a log.\n";
    // As an mboxrd writer stores it: a separator-shaped line and `>From` lines gain a `>`;
    // a plain `From ` line that is no separator is left as it is (mboxcl writers do that).
    let in_file = body
        .replace(">From a quoted", ">>From a quoted")
        .replace("\nFrom attacker@", "\n>From attacker@");
    let first = message("one@example.net", "XSS in login", &in_file);
    let second = message("two@example.net", "second report", "Thanks.\n");
    let mbox = format!(
        "From reporter@example.net Tue Nov 24 10:00:00 2026\n{first}\n\
         From reporter@example.net Tue Nov 24 11:00:00 2026\n{second}\n"
    );
    std::fs::write(desk.path("reports.mbox"), mbox).expect("write mbox");
    let run = desk.run(&["import", desk.path("reports.mbox").to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 2 new messages"),
        "{}",
        run.stdout
    );
    let raw = desk.raw("message_id LIKE '%one@example.net%'");
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        message("one@example.net", "XSS in login", body),
        "the whole body, with its From lines unquoted one level"
    );
}

#[test]
fn a_large_import_leaves_one_index_segment_that_finds_every_report() {
    let desk = Desk::new("");
    // 3,000 messages: six import batches, each written to the index as a segment.
    let mut mbox = String::new();
    for i in 0..3000 {
        let body = format!("The zipfile parser overflows on archive {i}.\n");
        mbox += &format!(
            "From reporter@example.net Tue Nov 24 10:00:00 2026\n{}\n",
            message(&format!("r{i}@example.net"), &format!("report {i}"), &body)
        );
    }
    std::fs::write(desk.path("archive.mbox"), mbox).expect("write mbox");
    let run = desk.run(&["import", desk.path("archive.mbox").to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    let segments: i64 = desk
        .db()
        .query_row(
            "SELECT count(DISTINCT segid) FROM messages_fts_idx",
            [],
            |r| r.get(0),
        )
        .expect("read the index");
    assert_eq!(segments, 1, "the index is merged after the import");
    let found = desk.run(&["list", "--search", "zipfile archive", "--json"]);
    assert!(found.status.success(), "{}", found.stderr);
    let list: serde_json::Value = serde_json::from_str(&found.stdout).expect("JSON list");
    assert_eq!(list.as_array().map(Vec::len), Some(3000));
    let one = desk.run(&["list", "--search", "report 2999", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&one.stdout).expect("JSON list");
    assert_eq!(list[0]["subject"], "report 2999", "{}", one.stdout);
}

/// `import a.eml MISSING b.eml` stopped at the missing path: b.eml was never tried and
/// nothing said so, and with `--historical` what a.eml brought stayed open and overdue (the
/// history step never ran), which running it again could not mend. Now the missing path is
/// named with the entries skipped, the rest is imported and closed as history, exit 1.
#[test]
fn an_unreadable_path_among_several_is_named_and_the_others_imported() {
    let desk = Desk::new("");
    std::fs::write(desk.path("a.eml"), message("a@x", "report a", "body a")).expect("a");
    std::fs::write(desk.path("b.eml"), message("b@x", "report b", "body b")).expect("b");
    let missing = desk.path("no-such-archive.mbox");
    let run = desk.run(&[
        "import",
        "--historical",
        desk.path("a.eml").to_str().unwrap(),
        missing.to_str().unwrap(),
        desk.path("b.eml").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1), "{} {}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("no-such-archive.mbox: cannot be read")
            && run.stdout.contains("2 new reports")
            && run.stdout.contains("2 closed as history"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 entry not imported"),
        "{}",
        run.stderr
    );
    let open: i64 = desk
        .db()
        .query_row(
            "SELECT count(*) FROM reports WHERE state NOT IN ('resolved', 'spam')",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(open, 0, "both closed as history");
    assert_eq!(desk.stored(), 2);
}

/// An import meeting another writer (a desk marking a report) waited for it, as every other
/// command does: its transaction began as a read, and SQLite does not wait for a read that
/// must become a write, so it failed at once, "database is locked", exit 1.
#[test]
fn an_import_waits_for_another_writer() {
    let desk = Desk::new("");
    std::fs::write(desk.path("a.eml"), message("a@x", "report a", "body a")).expect("a");
    std::fs::write(desk.path("b.eml"), message("b@x", "report b", "body b")).expect("b");
    let first = desk.run(&["import", desk.path("a.eml").to_str().unwrap()]);
    assert!(first.status.success(), "{}", first.stderr);
    let db = desk.path("secdesk.db");
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).expect("open");
        conn.execute_batch("BEGIN IMMEDIATE; UPDATE reports SET id = id WHERE id = 1;")
            .expect("hold the write lock");
        held_tx.send(()).expect("say held");
        // Past the start of a debug build, well within the 10 s it waits.
        std::thread::sleep(Duration::from_secs(6));
        conn.execute_batch("COMMIT").expect("commit");
    });
    held_rx.recv().expect("held");
    let run = desk.run(&["import", desk.path("b.eml").to_str().unwrap()]);
    writer.join().expect("writer");
    assert!(run.status.success(), "{} {}", run.stdout, run.stderr);
    assert!(
        run.took >= Duration::from_millis(1500),
        "it waited: {:?}",
        run.took
    );
    assert_eq!(desk.stored(), 2);
}

/// Runs `import PATH` for something that is not a file or folder: refused fast, with its kind.
fn refused_at_once(path: &Path, kind: &str) {
    let desk = Desk::new("");
    let run = desk.run(&["import", path.to_str().unwrap()]);
    assert!(!run.status.success(), "{}", run.stdout);
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
    let line = run.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert!(line.contains(kind), "{line}");
    assert!(line.contains("not a regular file or a folder"), "{line}");
    assert!(run.peak_kib < 100 * 1024, "peak RSS {} KiB", run.peak_kib);
}

#[test]
fn a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("reports.mbox");
    mkfifo(&fifo);
    refused_at_once(&fifo, "a FIFO");
}

#[test]
fn dev_zero_is_refused_at_once() {
    refused_at_once(Path::new("/dev/zero"), "a character device");
}

#[test]
fn a_maildir_symlink_and_fifo_are_named_in_the_summary() {
    let desk = Desk::new("");
    let md = desk.path("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).expect("maildir");
    }
    std::fs::write(
        md.join("cur/1700000000.1.host:2,S"),
        message("kept@example.net", "kept", "body\n"),
    )
    .expect("write message");
    let outside = desk.path("elsewhere.eml");
    std::fs::write(&outside, message("linked@example.net", "linked", "body\n")).expect("write");
    std::os::unix::fs::symlink(&outside, md.join("cur/1700000001.2.host:2,")).expect("symlink");
    mkfifo(&md.join("new/1700000002.3.host"));
    let run = desk.run(&["import", md.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 1 new message,"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("skipped 2 entries"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("cur/1700000001.2.host:2,: a symbolic link, not followed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("new/1700000002.3.host: a FIFO (named pipe), not a regular file"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("2 entries not imported"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.stored(), 1);
}

/// Writes an mbox of about `total` bytes to `path` as a stream: one `big`-byte message
/// (over the import limit), then `small` messages of about 8 KiB.
/// A file that is not a mail (empty, text, binary) made a report with no sender and no
/// subject, and the import said "imported 1 new messages".
#[test]
fn a_file_that_is_not_a_mail_is_named_and_not_imported() {
    let desk = Desk::new("");
    let cases: [(&str, &[u8]); 3] = [
        ("empty.eml", b""),
        ("notes.eml", b"# Notes\n\nsome text: with a colon later\n"),
        ("blob.eml", b"\x7fELF\x02\x01\x01\x00\x00binary"),
    ];
    for (name, bytes) in cases {
        let path = desk.path(name);
        std::fs::write(&path, bytes).expect("write");
        let run = desk.run(&["import", path.to_str().unwrap()]);
        assert_eq!(
            run.status.code(),
            Some(1),
            "{name}: {}{}",
            run.stdout,
            run.stderr
        );
        assert!(
            run.stdout.starts_with("imported 0 new messages"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(name), "{}", run.stdout);
    }
    let folder = desk.path("folder");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(
        folder.join("a.eml"),
        message("real@example.net", "real", "body\n"),
    )
    .expect("write");
    std::fs::write(folder.join("b.eml"), b"just some words\n").expect("write");
    let run = desk.run(&["import", folder.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 1 new message,"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("b.eml: not a mail: its first line is not a header field"),
        "{}",
        run.stdout
    );
    let list = desk.run(&["list", "--json"]);
    let reports: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    assert_eq!(reports.as_array().map(Vec::len), Some(1), "{}", list.stdout);
}

#[test]
fn a_maildir_file_that_cannot_be_read_is_named_and_the_rest_imported() {
    use std::os::unix::fs::PermissionsExt;
    let desk = Desk::new("");
    let md = desk.path("Maildir");
    std::fs::create_dir_all(md.join("cur")).expect("maildir");
    for (name, id, mode) in [("1.a:2,S", "open", 0o644), ("2.b:2,S", "locked", 0o000)] {
        let path = md.join("cur").join(name);
        std::fs::write(&path, message(&format!("{id}@example.net"), id, "body\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let run = desk.run_as_nobody(&["import", md.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 1 new message,"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("cur/2.b:2,S: cannot be read: Permission denied"),
        "{}",
        run.stdout
    );
    assert_eq!(desk.stored(), 1);
}

fn write_big_mbox(path: &Path, big: usize, small: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create mbox"));
    let sep = "From reporter@example.net Tue Nov 24 10:00:00 2026\n";
    write!(out, "{sep}{}", message("big@example.net", "huge log", "")).unwrap();
    let line = "x".repeat(999) + "\n";
    for _ in 0..big / line.len() {
        out.write_all(line.as_bytes()).unwrap();
    }
    let filler = "y".repeat(79) + "\n";
    for i in 0..small {
        let body = filler.repeat(100);
        write!(
            out,
            "\n{sep}{}",
            message(&format!("s{i}@example.net"), &format!("report {i}"), &body)
        )
        .unwrap();
    }
    out.flush().unwrap();
}

#[test]
fn a_large_mbox_is_imported_in_bounded_memory() {
    const BIG: usize = 160 * 1024 * 1024;
    const SMALL: usize = 1500;
    let desk = Desk::new("");
    let mbox = desk.path("large.mbox");
    write_big_mbox(&mbox, BIG, SMALL);
    let size = std::fs::metadata(&mbox).unwrap().len();
    let run = desk.run(&["import", mbox.to_str().unwrap()]);
    eprintln!(
        "imported a {} MB mbox in {:.1} s, peak RSS {} MB",
        size / 1_000_000,
        run.took.as_secs_f64(),
        run.peak_kib / 1024
    );
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("imported {} new messages", SMALL + 1)),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("stored 1 message too large as headers and a note")
            && run.stdout.contains("large.mbox: message 1, 16"),
        "{}",
        run.stdout
    );
    assert_eq!(desk.stored(), SMALL as i64 + 1);
    // The big one is findable: its own headers, and a note saying where the rest is.
    let (subject, body): (String, String) = desk
        .db()
        .query_row(
            "SELECT subject, secdesk_body(body, pgp, raw) FROM messages WHERE message_id LIKE '%big@example.net%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the big message is stored as headers and a note");
    assert_eq!(subject, "huge log");
    // The whole body is the note: the message's own size in the file (its headers and
    // every 1,000-byte line; the blank line before the next separator is the format's),
    // where it is kept, and the limit it went over.
    let big_bytes = message("big@example.net", "huge log", "").len() + BIG / 1000 * 1000;
    assert_eq!(
        body,
        format!(
            "[secdesk] too large, {big_bytes} bytes, kept in message 1 of the mbox it was \
             imported from: only its headers are stored here, as it is over [sync] \
             max_message_bytes ({}).\r\n",
            50 * 1024 * 1024
        )
    );
    // The file is ~195 MB; a reader that held it (or the big message) would pass 160 MB.
    assert!(run.peak_kib < 120 * 1024, "peak RSS {} KiB", run.peak_kib);
}

#[test]
fn a_password_command_that_hangs_is_stopped_at_its_deadline() {
    let desk = Desk::new(
        "[imap]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"plain\"\nusername = \"u\"\n\
         password_command = [\"sh\", \"-c\", \"echo 'Enter passphrase:' >&2; sleep 1000\"]\n\
         password_command_timeout_seconds = 1\n",
    );
    let run = desk.run(&["sync"]);
    assert!(!run.status.success());
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
    let line = run.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains("imap.password_command \"sh\" did not finish within 1 s and was stopped"),
        "{line}"
    );
    assert!(line.contains("saying: Enter passphrase:"), "{line}");
    assert!(
        line.contains("imap.password_command_timeout_seconds"),
        "{line}"
    );
}

#[test]
fn a_failing_password_command_shows_its_stderr_as_one_line() {
    let desk = Desk::new(
        "[imap]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"plain\"\nusername = \"u\"\n\
         password_command = [\"sh\", \"-c\", \"printf 'gpg: decryption failed: No secret key\\\\n\\\\033[2Jcleared\\\\n' >&2; exit 2\"]\n",
    );
    let run = desk.run(&["sync"]);
    assert!(!run.status.success());
    let line = run.stderr.trim_end();
    // Not inherited: the command's text appears once, inside secdesk's own error line.
    assert_eq!(line.lines().count(), 1, "{line:?}");
    assert!(!line.contains('\u{1b}'), "{line:?}");
    assert!(line.starts_with("secdesk: error: "), "{line}");
    assert!(
        line.contains(
            "failed (exit status: 2), saying: gpg: decryption failed: No secret key / ␛[2Jcleared"
        ),
        "{line}"
    );
}

#[test]
fn an_oversized_maildir_message_is_kept_as_headers_and_a_note() {
    let desk = Desk::new("[sync]\nmax_message_bytes = 1000\n");
    let md = desk.path("Maildir");
    std::fs::create_dir_all(md.join("cur")).expect("maildir");
    let big = message("fat@example.net", "Crash dump attached", &"z".repeat(5000));
    std::fs::write(md.join("cur/1700000000.1.host:2,S"), &big).expect("write");
    std::fs::write(
        md.join("cur/1700000001.2.host:2,S"),
        message("thin@example.net", "small", "ok\n"),
    )
    .expect("write");
    let run = desk.run(&["import", md.to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 2 new messages"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("cur/1700000000.1.host:2,S: {} bytes", big.len())),
        "{}",
        run.stdout
    );
    let body: String = desk
        .db()
        .query_row(
            "SELECT secdesk_body(body, pgp, raw) FROM messages WHERE subject = 'Crash dump attached'",
            [],
            |r| r.get(0),
        )
        .expect("stored as headers and a note");
    assert!(
        body.contains(&format!(
            "too large, {} bytes, kept in the file it was imported from",
            big.len()
        )) && body.contains("max_message_bytes (1000)"),
        "{body}"
    );
}

#[test]
fn in_the_desk_a_password_commands_stderr_stays_inside_the_status_line() {
    let desk = Desk::new(
        "[imap]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"plain\"\nusername = \"u\"\n\
         password_command = [\"sh\", \"-c\", \"echo PAINTED-PROMPT >&2; exit 1\"]\n",
    );
    let socket = format!("secdesk-intake-{}", std::process::id());
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed (scripts/test installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line = format!(
        "{} --config {}",
        env!("CARGO_BIN_EXE_secdesk"),
        desk.path("config.toml").display()
    );
    tmux(&["new-session", "-d", "-x", "220", "-y", "30", &line]);
    let started = Instant::now();
    let screen = loop {
        let screen = tmux(&["capture-pane", "-p", "-t", "0"]);
        if screen.contains("sync failed") || started.elapsed() > Duration::from_secs(20) {
            break screen;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    tmux(&["kill-server"]);
    let hits: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("PAINTED-PROMPT"))
        .collect();
    // Shown once, inside the desk's own message, never painted raw over the screen.
    assert_eq!(hits.len(), 1, "{screen}");
    assert!(
        hits[0].contains("sync failed: imap.password_command \"sh\" failed")
            && hits[0].contains("saying: PAINTED-PROMPT"),
        "{screen}"
    );
}

/// A message of exactly `[sync] max_message_bytes` is stored whole, as sync stores one; one
/// byte over is kept as headers and a note, named with its own size. The blank line the
/// mbox format puts before each separator (LF or CRLF) is not part of the message: it made
/// a message of exactly the limit "too large, N+1 bytes", its body never stored.
#[test]
fn an_mbox_message_of_exactly_the_limit_is_stored_whole() {
    const LIMIT: usize = 2000;
    let desk = Desk::new(&format!("[sync]\nmax_message_bytes = {LIMIT}\n"));
    for eol in ["\n", "\r\n"] {
        let sized = |id: &str, size: usize| {
            let head = message(id, id, "").replace('\n', eol);
            let fill = "b".repeat(size - head.len() - eol.len());
            format!("{head}{fill}{eol}")
        };
        let tag = if eol == "\n" { "lf" } else { "crlf" };
        let (exact, over, last) = (
            sized(&format!("exact-{tag}"), LIMIT),
            sized(&format!("over-{tag}"), LIMIT + 1),
            sized(&format!("last-{tag}"), LIMIT),
        );
        let sep = format!("From reporter@example.net Tue Nov 24 10:00:00 2026{eol}");
        let path = desk.path(&format!("{tag}.mbox"));
        let mbox = format!("{sep}{exact}{eol}{sep}{over}{eol}{sep}{last}{eol}");
        std::fs::write(&path, mbox).expect("write mbox");
        let run = desk.run(&["import", path.to_str().unwrap()]);
        assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.starts_with("imported 3 new messages")
                && run.stdout.contains("stored 1 message too large")
                && run
                    .stdout
                    .contains(&format!("{tag}.mbox: message 2, {} bytes", LIMIT + 1)),
            "{tag}: {}",
            run.stdout
        );
        for whole in [format!("exact-{tag}"), format!("last-{tag}")] {
            let body: String = desk
                .db()
                .query_row(
                    "SELECT secdesk_body(body, pgp, raw) FROM messages WHERE subject = ?1",
                    [&whole],
                    |r| r.get(0),
                )
                .expect("stored");
            assert!(
                !body.contains("too large") && body.contains(&"b".repeat(1500)),
                "{whole} of exactly {LIMIT} bytes was not stored whole: {body}"
            );
        }
    }
}

/// An archive kept compressed (`reports 2025.mbox.gz`) is no mail as it is: the line says
/// which compression and gives the command that unpacks it, quoted for the shell, and that
/// command, run as printed, gives a file the import stores.
#[test]
fn a_compressed_archive_says_how_to_unpack_it() {
    let desk = Desk::new("");
    let mbox = desk.path("reports 2025.mbox");
    std::fs::write(
        &mbox,
        format!(
            "From reporter@example.net Tue Nov 24 10:00:00 2026\n{}",
            message("gz@example.net", "kept gzipped", "body\n")
        ),
    )
    .expect("write");
    let gzip = Command::new("gzip").arg(&mbox).status().expect("gzip");
    assert!(gzip.success());
    let packed = desk.path("reports 2025.mbox.gz");
    let run = desk.run(&["import", packed.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("reports 2025.mbox.gz: gzip-compressed, not a mail as it is"),
        "{}",
        run.stdout
    );
    let command = run
        .stdout
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {}", run.stdout));
    assert!(command.starts_with("gunzip -k '"), "{command}");
    let unpacked = Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()
        .expect("sh");
    assert!(unpacked.success(), "{command}");
    let run = desk.run(&["import", mbox.to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 1 new message,"),
        "{}",
        run.stdout
    );
}

/// In a folder of .eml files, a mail file not named .eml (an MH folder's `1`, a `.txt`) was
/// passed over without a word and the import exited 0. It is named, with what to do, and
/// the import exits 1; a file that is no mail (a README) is still passed over quietly.
#[test]
fn a_mail_file_not_named_eml_in_a_folder_is_named_not_passed_over() {
    let desk = Desk::new("");
    let folder = desk.path("archive");
    std::fs::create_dir_all(&folder).expect("folder");
    let write = |name: &str, text: String| {
        std::fs::write(folder.join(name), text).expect("write");
    };
    write("a.eml", message("eml@example.net", "named eml", "body\n"));
    write("1", message("mh@example.net", "an MH message", "body\n"));
    write(
        "b.txt",
        message("txt@example.net", "saved as txt", "body\n"),
    );
    write("README", "These are the reports of 2026.\n".to_string());
    let run = desk.run(&["import", folder.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 1 new message,")
            && run.stdout.contains("skipped 2 entries"),
        "{}",
        run.stdout
    );
    for name in ["archive/1", "archive/b.txt"] {
        assert!(
            run.stdout.contains(&format!(
                "{name}: starts as a mail does, but only .eml files of a folder are imported"
            )),
            "{name}: {}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("README"), "{}", run.stdout);
    assert!(
        run.stderr.contains("2 entries not imported"),
        "{}",
        run.stderr
    );
    // Imported by their own paths, as the line says, they are stored.
    let (mh, txt) = (folder.join("1"), folder.join("b.txt"));
    let run = desk.run(&["import", mh.to_str().unwrap(), txt.to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert_eq!(desk.stored(), 3);
}

/// A file that only begins `From ` (a letter, notes) was taken for an mbox and each entry
/// stored as a report with no sender and no subject, exit 0. An entry that does not start
/// with a header field is named with its number, as a `.eml` that is no mail is, and the
/// import exits 1; the real messages in the same file are stored.
#[test]
fn an_mbox_entry_that_is_not_a_mail_is_named_not_stored() {
    let desk = Desk::new("");
    let letter = desk.path("letter.txt");
    std::fs::write(
        &letter,
        "From the desk of the security team\n\nDear all,\nthese are our notes.\n",
    )
    .expect("write");
    let run = desk.run(&["import", letter.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 0 new messages")
            && run.stdout.contains(
                "letter.txt: message 1: not a mail: its first line is not a header field"
            ),
        "{}",
        run.stdout
    );

    let mbox = desk.path("mixed.mbox");
    let sep = "From reporter@example.net Tue Nov 24 10:00:00 2026\n";
    std::fs::write(
        &mbox,
        format!(
            "{sep}{}\n{sep}\nthe headers of this one were lost\n\n{sep}{}\n",
            message("one@example.net", "first", "body\n"),
            message("three@example.net", "third", "body\n"),
        ),
    )
    .expect("write");
    let run = desk.run(&["import", mbox.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 2 new messages")
            && run.stdout.contains("mixed.mbox: message 2: not a mail"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 entry not imported"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.stored(), 2);
}

/// An mbox cut short (a copy or download that stopped mid-message) was imported without a
/// word: its last message is stored as far as the file goes and named, so the user knows
/// to look for the whole file.
#[test]
fn an_mbox_cut_short_names_its_last_message() {
    let desk = Desk::new("");
    let sep = "From reporter@example.net Tue Nov 24 10:00:00 2026\n";
    let whole = format!(
        "{sep}{}\n{sep}{}",
        message("one@example.net", "first", "body\n"),
        message("two@example.net", "second", "the steps to reproduce are\n"),
    );
    let path = desk.path("archive.mbox");
    std::fs::write(&path, &whole).expect("write");
    let run = desk.run(&["import", path.to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("cut short"), "{}", run.stdout);

    let cut = desk.path("cut.mbox");
    std::fs::write(&cut, &whole[..whole.len() - 10]).expect("write");
    let run = desk.run(&["import", cut.to_str().unwrap()]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    // The first message is stored already; what the file holds of the second is new.
    assert!(
        run.stdout
            .starts_with("imported 1 new message, 1 new report (1 already stored)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "cut.mbox: message 2 ends mid-line where the file ends: the file looks cut short; \
             what it holds of the message is stored"
        ),
        "{}",
        run.stdout
    );
}

/// A Maildir++ root imported only cur/ and new/ and said nothing of `.Sent`, `.Junk` or
/// `.INBOX.Reports` beside them, nor of the deliveries still in tmp/.
#[test]
fn a_maildir_names_its_subfolders_and_unfinished_deliveries() {
    let desk = Desk::new("");
    let md = desk.path("Maildir");
    for sub in [
        "cur",
        "new",
        "tmp",
        ".Sent/cur",
        ".Sent/new",
        ".Sent/tmp",
        ".Junk/cur",
        ".INBOX.Reports/new",
    ] {
        std::fs::create_dir_all(md.join(sub)).expect("maildir");
    }
    std::fs::write(
        md.join("cur/1700000000.1.host:2,S"),
        message("inbox@example.net", "in the inbox", "body\n"),
    )
    .expect("write");
    std::fs::write(
        md.join(".Sent/cur/1700000001.2.host:2,S"),
        message("sent@example.net", "sent", "body\n"),
    )
    .expect("write");
    for n in 0..3 {
        std::fs::write(
            md.join(format!("tmp/1700000010.{n}.host")),
            message(&format!("tmp{n}@example.net"), "half", "bo"),
        )
        .expect("write");
    }
    let run = desk.run(&["import", md.to_str().unwrap()]);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.status.code(), Some(75), "run again later: {out}");
    assert!(run.stdout.starts_with("imported 1 new message,"), "{out}");
    assert!(
        run.stdout.contains(
            "not imported: 3 Maildir++ subfolders, each a mailbox of its own; import each by its path:"
        ),
        "{out}"
    );
    for sub in [".INBOX.Reports", ".Junk", ".Sent"] {
        let line = format!("  secdesk import {}", md.join(sub).display());
        assert!(run.stdout.lines().any(|l| l == line), "{line}: {out}");
    }
    assert!(
        run.stdout.contains(
            "3 files in tmp/ are deliveries not finished: not imported; run again once they are done"
        ),
        "{out}"
    );
    assert!(run.stderr.contains("3 files in tmp/ not imported"), "{out}");
    assert_eq!(desk.stored(), 1, "only the inbox's message");

    // The deliveries done, the root imports with status 0 (its subfolders still named);
    // a subfolder imports by the command shown.
    for n in 0..3 {
        std::fs::remove_file(md.join(format!("tmp/1700000010.{n}.host"))).expect("rm");
    }
    let run = desk.run(&["import", md.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("secdesk import"), "{}", run.stdout);
    assert!(!run.stdout.contains("in tmp/"), "{}", run.stdout);
    let run = desk.run(&["import", md.join(".Sent").to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 1 new message,"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("subfolder"), "{}", run.stdout);
    assert_eq!(desk.stored(), 2);
    // Named in the same call, a subfolder is not listed as left out.
    let all: Vec<String> = ["", ".Sent", ".Junk", ".INBOX.Reports"]
        .iter()
        .map(|s| md.join(s).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["import"];
    args.extend(all.iter().map(String::as_str));
    let run = desk.run(&args);
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("not imported"), "{}", run.stdout);
}

/// Courier serves a Maildir file written with CRLF as `\r\r\n`. Imported, such a message
/// showed no sender and no subject (the parse ended its headers after the first field); its
/// raw bytes stay as they came.
#[test]
fn a_message_with_cr_cr_lf_line_ends_shows_its_sender_subject_and_body() {
    let desk = Desk::new("");
    let md = desk.path("Maildir");
    std::fs::create_dir_all(md.join("cur")).expect("maildir");
    let raw = format!(
        "Return-Path: <reporter@example.net>\n{}",
        message(
            "crcrlf@example.net",
            "Heap overflow in parser",
            "Steps to reproduce.\n"
        )
    )
    .replace('\n', "\r\r\n");
    std::fs::write(md.join("cur/1700000000.1.host:2,S"), &raw).expect("write");
    let run = desk.run(&["import", md.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    let list = desk.run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list.stdout).expect("JSON list");
    assert_eq!(list[0]["subject"], "Heap overflow in parser", "{list}");
    assert!(
        list[0]["from"]
            .as_str()
            .is_some_and(|f| f.contains("reporter@example.net")),
        "{list}"
    );
    assert_eq!(list[0]["message_id"], "crcrlf@example.net", "{list}");
    let show = desk.run(&["show", "1"]);
    assert!(show.status.success(), "{}", show.stderr);
    assert!(
        show.stdout.contains("reporter@example.net"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("Steps to reproduce."),
        "{}",
        show.stdout
    );
    let stored = desk.raw("1");
    assert_eq!(stored, raw.as_bytes(), "the raw bytes as they came");
}

/// In a folder given to `import`, a gzipped mbox, a plain mbox, a FIFO and a socket were
/// passed over without a word ("imported 0 new messages", exit 0), and a plain mbox was
/// told to be renamed to .eml. Each is named with its reason and what imports it, the
/// import exits 1, and the FIFO is never opened (the run would wait for a writer).
#[test]
fn an_archive_fifo_or_socket_in_a_folder_is_named_with_how_to_import_it() {
    let desk = Desk::new("");
    let folder = desk.path("archive");
    std::fs::create_dir_all(&folder).expect("folder");
    let mbox_text = |from: &str, subject: &str| {
        format!(
            "From {from} Tue Nov 24 10:00:00 2026\n{}",
            message(from, subject, "body\n")
        )
    };
    let packed = folder.join("old.mbox");
    std::fs::write(&packed, mbox_text("gz@example.net", "kept gzipped")).expect("write");
    assert!(Command::new("gzip")
        .arg(&packed)
        .status()
        .expect("gzip")
        .success());
    let mbox = folder.join("reports.mbox");
    std::fs::write(&mbox, mbox_text("mbox@example.net", "in an mbox")).expect("write");
    let fifo = folder.join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: mkfifo on a NUL-terminated path this test owns.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(folder.join("sock")).expect("socket");
    std::fs::write(folder.join("README"), "These are the reports of 2026.\n").expect("write");
    // Links not named like a mail (a `latest` folder, another name for the README) are
    // passed over quietly, as a README is: never followed, never counted.
    std::os::unix::fs::symlink("/nonexistent-folder", folder.join("latest")).expect("link");
    std::os::unix::fs::symlink(folder.join("README"), folder.join("notes")).expect("link");

    let run = desk.run(&["import", folder.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("imported 0 new messages,")
            && run.stdout.contains("skipped 4 entries"),
        "{}",
        run.stdout
    );
    let gunzip = format!("gunzip -k {}", folder.join("old.mbox.gz").display());
    for line in [
        format!("archive/old.mbox.gz: gzip-compressed, not a mail as it is: unpack it first (`{gunzip}`)"),
        format!(
            "archive/reports.mbox: an mbox, and only .eml files of a folder are imported; import it by its own path (`secdesk import {}`)",
            mbox.display()
        ),
        "archive/pipe: a FIFO (named pipe), not a regular file: not read".to_string(),
        "archive/sock: a socket, not a regular file: not read".to_string(),
    ] {
        assert!(run.stdout.contains(&line), "{line}\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("rename it to .eml"), "{}", run.stdout);
    assert!(
        run.stderr.contains("4 entries not imported"),
        "{}",
        run.stderr
    );
    // Done as the lines say, both archives are stored.
    let unpacked = Command::new("sh")
        .arg("-c")
        .arg(&gunzip)
        .status()
        .expect("sh");
    assert!(unpacked.success());
    let run = desk.run(&[
        "import",
        folder.join("old.mbox").to_str().unwrap(),
        mbox.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    assert_eq!(desk.stored(), 2);
}
