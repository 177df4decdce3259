//! Getting a password from `password_command` (an argv, never a shell) or `password_env`.
//!
//! A [`Secret`] never prints itself: not in `Debug`, not in errors, and it is zeroed when
//! dropped. The command runs with a deadline (`password_command_timeout_seconds`, 30 s by
//! default) in its own process group, so a stuck `pass`/`gpg` is stopped with all its children.
//! Its stderr is captured, never inherited: in the desk a prompt would paint over the screen.
//! When it fails, that stderr is shown as one sanitized line in the error.
//!
//! A command's answer is kept for the life of the process (the desk reconnects without running
//! the password manager again); the cache holds [`Secret`]s, so it too is zeroed on drop.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::core::config::DEFAULT_PASSWORD_COMMAND_TIMEOUT_SECONDS;
use crate::core::sanitize::terminal_line_cut;
pub use crate::core::secret::Secret;
use crate::mailio::process;

/// Most bytes read from the command's stdout: a password is a line, not a file.
const MAX_STDOUT: u64 = 64 * 1024;
/// Most bytes of its stderr kept for the error message.
const MAX_STDERR: u64 = 16 * 1024;
/// Most characters of stderr shown in the error line.
const STDERR_SHOWN: usize = 300;

/// Why no password could be had. None of these messages carries the password.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{section}.password_command {program:?} could not be started: {source}; check the program name in the config")]
    Spawn {
        section: String,
        program: String,
        source: std::io::Error,
    },
    #[error(
        "{section}.password_command {program:?} failed ({status}){}; run it by hand to see why",
        said(stderr)
    )]
    Failed {
        section: String,
        program: String,
        status: String,
        /// Its stderr as one sanitized line (may be empty).
        stderr: String,
    },
    #[error("{section}.password_command {program:?} did not finish within {seconds} s and was stopped{}; check that it runs without a prompt, or raise {section}.password_command_timeout_seconds", said(stderr))]
    TimedOut {
        section: String,
        program: String,
        seconds: u64,
        stderr: String,
    },
    #[error(
        "{section}.password_command {program:?} printed no password{}",
        said(stderr)
    )]
    Empty {
        section: String,
        program: String,
        stderr: String,
    },
    #[error(
        "{section}.password_env names ${var}, which is {why}: export it, holding the password, before running secdesk"
    )]
    EnvMissing {
        section: String,
        var: String,
        /// "not set", "empty" or "not UTF-8".
        why: &'static str,
    },
    #[error("no password configured for [{section}]: set {section}.password_command or {section}.password_env")]
    NotConfigured { section: String },
}

impl SecretError {
    /// Whether the config is what must change (exit status 78): no password configured,
    /// or a `password_command` program that does not exist or may not be run.
    pub fn is_config(&self) -> bool {
        match self {
            SecretError::NotConfigured { .. } => true,
            SecretError::Spawn { source, .. } => spawn_is_config(source),
            _ => false,
        }
    }
}

/// A command that could not be started because its program is not there or may not be
/// run: the name in the config is wrong. Anything else (no processes left) may pass.
pub(crate) fn spawn_is_config(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
    )
}

/// `, saying: LINE` when the command wrote anything to stderr.
fn said(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(", saying: {stderr}")
    }
}

/// The IMAP password: inline (from a private config file), from the command, or from the
/// environment.
pub fn imap_password(c: &crate::core::config::ImapConfig) -> Result<Secret, SecretError> {
    match &c.password {
        Some(p) => Ok(p.clone()),
        None => resolve_cached(
            "imap",
            c.password_command.as_deref(),
            c.password_env.as_deref(),
            timeout(c.password_command_timeout_seconds),
        ),
    }
}

/// The SMTP password, or `None` when the relay needs no login.
pub fn smtp_password(c: &crate::core::config::SmtpConfig) -> Result<Option<Secret>, SecretError> {
    if let Some(p) = &c.password {
        return Ok(Some(p.clone()));
    }
    if c.password_command.is_none() && c.password_env.is_none() {
        return Ok(None);
    }
    resolve_cached(
        "smtp",
        c.password_command.as_deref(),
        c.password_env.as_deref(),
        timeout(c.password_command_timeout_seconds),
    )
    .map(Some)
}

/// The Mailman REST password (`[mailman]`): inline, from the command, or from the
/// environment.
pub fn mailman_password(c: &crate::core::config::MailmanConfig) -> Result<Secret, SecretError> {
    match &c.password {
        Some(p) => Ok(p.clone()),
        None => resolve_cached(
            "mailman",
            c.password_command.as_deref(),
            c.password_env.as_deref(),
            timeout(c.password_command_timeout_seconds),
        ),
    }
}

fn timeout(seconds: Option<u64>) -> Duration {
    Duration::from_secs(
        seconds
            .unwrap_or(DEFAULT_PASSWORD_COMMAND_TIMEOUT_SECONDS)
            .max(1),
    )
}

/// Passwords already had from a command in this process, by section and argv.
type Cache = Mutex<HashMap<(String, Vec<String>), Secret>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// [`resolve`], running a given command at most once per process when it succeeds.
fn resolve_cached(
    section: &str,
    command: Option<&[String]>,
    env: Option<&str>,
    limit: Duration,
) -> Result<Secret, SecretError> {
    let key = match (env, command) {
        (None, Some(argv)) => (section.to_string(), argv.to_vec()),
        _ => return resolve(section, command, env, limit),
    };
    // A poisoned lock only means another thread panicked mid-insert: the map is still valid.
    let lock = || cache().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = lock().get(&key) {
        return Ok(s.clone());
    }
    let secret = resolve(section, command, env, limit)?;
    lock().insert(key, secret.clone());
    Ok(secret)
}

/// Resolves the password for config section `section` (`imap` or `smtp`), giving the command
/// at most `limit` to answer.
pub fn resolve(
    section: &str,
    command: Option<&[String]>,
    env: Option<&str>,
    limit: Duration,
) -> Result<Secret, SecretError> {
    if let Some(var) = env {
        let missing = |why| SecretError::EnvMissing {
            section: section.into(),
            var: var.into(),
            why,
        };
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            Ok(_) => Err(missing("empty")),
            Err(std::env::VarError::NotUnicode(_)) => Err(missing("not UTF-8")),
            Err(std::env::VarError::NotPresent) => Err(missing("not set")),
        };
    }
    let Some((program, args)) = command.and_then(|c| c.split_first()) else {
        return Err(SecretError::NotConfigured {
            section: section.into(),
        });
    };
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: on timeout the whole group (a shell and its children) is
        // stopped, and a background group cannot read the desk's terminal.
        .process_group(0)
        .spawn()
        .map_err(|source| SecretError::Spawn {
            section: section.into(),
            program: program.clone(),
            source,
        })?;
    let run = run_with_deadline(child, limit);
    let stderr = one_line(&run.stderr, &run.stdout);
    let fail = |status: String| SecretError::Failed {
        section: section.into(),
        program: program.clone(),
        status,
        stderr: stderr.clone(),
    };
    match run.status {
        None => {
            return Err(SecretError::TimedOut {
                section: section.into(),
                program: program.clone(),
                seconds: limit.as_secs(),
                stderr,
            })
        }
        Some(Err(e)) => return Err(fail(format!("waiting for it: {e}"))),
        Some(Ok(status)) if !status.success() => return Err(fail(status.to_string())),
        Some(Ok(_)) => {}
    }
    // Like pass(1) and most password managers: the first line is the password.
    let stdout = Secret::new(String::from_utf8_lossy(&run.stdout).into_owned());
    let first = stdout.expose().lines().next().unwrap_or("");
    if first.is_empty() {
        return Err(SecretError::Empty {
            section: section.into(),
            program: program.clone(),
            stderr,
        });
    }
    Ok(Secret::new(first.to_string()))
}

/// What a finished (or stopped) command left.
struct Run {
    /// `None` when it was stopped at the deadline.
    status: Option<std::io::Result<std::process::ExitStatus>>,
    /// Holds the password: zeroed on drop.
    stdout: Zeroizing<Vec<u8>>,
    stderr: Vec<u8>,
}

/// Waits for `child` until `limit`, reading its stdout and stderr on threads so a full pipe
/// never blocks it. At the deadline its process group is killed. Output not in by the
/// deadline (a grandchild that escaped the group may hold a pipe open) is not waited for.
fn run_with_deadline(mut child: Child, limit: Duration) -> Run {
    let deadline = Instant::now() + limit;
    let stdout = spawn_reader(child.stdout.take().map(boxed), MAX_STDOUT);
    let stderr = spawn_reader(child.stderr.take().map(boxed), MAX_STDERR);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(Ok(status)),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                // process_group(0) made the child its group's leader.
                process::kill_group(&child);
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(e) => break Some(Err(e)),
        }
    };
    // What the command wrote before it ended is already in the pipes: a short grace reads it
    // even when a daemon it started (a gpg-agent) keeps a pipe open and no end ever comes.
    let until = Instant::now() + OUTPUT_GRACE;
    Run {
        status,
        stdout: Zeroizing::new(collect(&stdout, until)),
        stderr: collect(&stderr, until),
    }
}

/// How long output is still read once the command has ended or been stopped.
const OUTPUT_GRACE: Duration = Duration::from_millis(300);

fn boxed<R: Read + Send + 'static>(pipe: R) -> Box<dyn Read + Send> {
    Box::new(pipe)
}

/// Reads `pipe` (at most `cap` bytes) on a thread, sending each chunk as it comes and `None`
/// at its end.
fn spawn_reader(pipe: Option<Box<dyn Read + Send>>, cap: u64) -> mpsc::Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    match pipe {
        Some(pipe) => {
            std::thread::spawn(move || {
                let mut pipe = pipe.take(cap);
                let mut chunk = Zeroizing::new(vec![0u8; 4096]);
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx.send(Some(chunk[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(None);
            });
        }
        None => {
            let _ = tx.send(None);
        }
    }
    rx
}

/// The chunks a reader sent until its end or `until`, whichever comes first. Chunks of the
/// password are zeroed once copied.
fn collect(rx: &mpsc::Receiver<Option<Vec<u8>>>, until: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
        let chunk = Zeroizing::new(chunk);
        out.extend_from_slice(&chunk);
    }
    out
}

/// A command's stderr as one sanitized line: its non-empty lines joined by ` / `, control
/// characters made visible, credentials (its own answer on `stdout` among them) replaced by
/// `[redacted]` (`core::secret::redact_credentials`), cut at [`STDERR_SHOWN`] characters.
pub(crate) fn one_line(stderr: &[u8], stdout: &[u8]) -> String {
    let stdout = Zeroizing::new(String::from_utf8_lossy(stdout).into_owned());
    let text = crate::core::secret::redact_credentials(&String::from_utf8_lossy(stderr), &stdout);
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    terminal_line_cut(&joined, STDERR_SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn an_empty_password_env_is_called_empty_not_unset() {
        // Before, an exported but empty variable read "which is not set", and the user
        // went looking for a missing export.
        let var = "SECDESK_TEST_EMPTY_PASSWORD_ENV";
        // Only this test uses this variable.
        std::env::set_var(var, "");
        let e = resolve("imap", None, Some(var), LIMIT)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("${var}, which is empty")), "{e}");
        std::env::remove_var(var);
        let e = resolve("imap", None, Some(var), LIMIT)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("${var}, which is not set")), "{e}");
    }

    #[test]
    fn command_first_line_is_the_password_and_no_shell_is_used() {
        let argv = argv(&["printf", "hunter2\\nsecond; echo $HOME"]);
        let s = resolve("imap", Some(&argv), None, LIMIT).unwrap();
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
    }

    #[test]
    fn failures_name_the_key_not_the_secret() {
        let e = resolve("imap", Some(&argv(&["false"])), None, LIMIT)
            .unwrap_err()
            .to_string();
        assert!(e.contains("imap.password_command"), "{e}");
        let e = resolve("smtp", None, Some("SECDESK_SURELY_UNSET_VAR"), LIMIT)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SECDESK_SURELY_UNSET_VAR"), "{e}");
        let argv = argv(&["/nonexistent/prog"]);
        assert!(resolve("imap", Some(&argv), None, LIMIT).is_err());
    }

    #[test]
    fn a_slow_command_and_its_children_are_stopped_at_the_deadline() {
        let started = Instant::now();
        let argv = argv(&[
            "sh",
            "-c",
            "echo 'enter PIN' >&2; sleep 30 & sleep 30; echo late",
        ]);
        let e = resolve("smtp", Some(&argv), None, Duration::from_secs(1)).unwrap_err();
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(5), "took {waited:?}");
        let e = e.to_string();
        assert!(e.contains("smtp.password_command"), "{e}");
        assert!(e.contains("did not finish within 1 s"), "{e}");
        assert!(e.contains("smtp.password_command_timeout_seconds"), "{e}");
        assert!(e.contains("saying: enter PIN"), "{e}");
    }

    #[test]
    fn stderr_of_a_failing_command_is_one_sanitized_line() {
        let script = "printf 'gpg: decryption failed\\n\\n\\033]2;pwned\\007No secret key\\n' >&2; printf 'not-the-password\\n'; exit 2";
        let argv = argv(&["sh", "-c", script]);
        let e = resolve("imap", Some(&argv), None, LIMIT)
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "{e:?}");
        assert!(
            e.contains("saying: gpg: decryption failed / ␛]2;pwned␇No secret key"),
            "{e}"
        );
        assert!(e.contains("exit status: 2"), "{e}");
        assert!(!e.contains("not-the-password"), "{e}");
    }

    #[test]
    fn each_section_has_its_own_configured_timeout() {
        let text = r#"
[imap]
host = "127.0.0.1"
port = 143
security = "plain"
username = "u"
password_command = ["sleep", "7"]
password_command_timeout_seconds = 1

[smtp]
host = "127.0.0.1"
port = 25
security = "plain"
username = "u"
password_command = ["sleep", "8"]
password_command_timeout_seconds = 2

[identity]
name = "T"
email = "t@example.org"
"#;
        let c = crate::core::config::Config::parse(text, std::path::Path::new("c.toml")).unwrap();
        let started = Instant::now();
        let e = imap_password(c.imap.as_ref().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("imap.password_command \"sleep\" did not finish within 1 s"),
            "{e}"
        );
        let e = smtp_password(c.smtp.as_ref().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("smtp.password_command \"sleep\" did not finish within 2 s"),
            "{e}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            timeout(None),
            Duration::from_secs(30),
            "the documented default"
        );
        let zero = text.replace("timeout_seconds = 2", "timeout_seconds = 0");
        let e = crate::core::config::Config::parse(&zero, std::path::Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("smtp.password_command_timeout_seconds` = 0"),
            "{e}"
        );
    }

    #[test]
    fn a_child_left_holding_the_pipes_does_not_hold_up_the_answer() {
        // Like `pass` starting a gpg-agent that keeps stdout and stderr open.
        let argv = argv(&["sh", "-c", "sleep 5 & echo pw-now"]);
        let started = Instant::now();
        let s = resolve("imap", Some(&argv), None, LIMIT).unwrap();
        assert_eq!(s.expose(), "pw-now");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_successful_command_runs_once_per_process() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        let script = format!("echo x >> {}; echo pw-cached", count.display());
        let argv = argv(&["sh", "-c", &script]);
        for _ in 0..3 {
            let s = resolve_cached("imap", Some(&argv), None, LIMIT).unwrap();
            assert_eq!(s.expose(), "pw-cached");
        }
        assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");
    }
}
