//! Running a helper program (gpg, an OAuth2 token command) by argv, never through a shell,
//! bounded in time and output. On the limit the helper's whole process group is killed, so
//! a wrapper script's children cannot keep the pipes open.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

/// What a bounded run gave back.
#[derive(Debug, Default)]
pub struct Bounded {
    /// `None` when the program was stopped (time or output limit).
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    /// Stdout passed its limit.
    pub over: bool,
}

/// Runs `cmd` with `input` on stdin; stops it after `timeout` or `max_stdout` bytes of
/// output. Stderr is kept up to `max_stderr` bytes. Fails only when it cannot start.
pub fn run(
    cmd: &mut Command,
    input: &[u8],
    timeout: Duration,
    max_stdout: usize,
    max_stderr: usize,
) -> io::Result<Bounded> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let over = Arc::new(AtomicBool::new(false));
    let stdin = child.stdin.take();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            // The program may stop reading (bad input, killed): a broken pipe is expected.
            let _ = s.write_all(&data);
        }
    });
    let out = reader(child.stdout.take(), max_stdout, over.clone());
    let err = reader(
        child.stderr.take(),
        max_stderr,
        Arc::new(AtomicBool::new(false)),
    );
    let started = Instant::now();
    let (status, mut timed_out) = wait(&mut child, timeout, &over);
    // A background process the program left behind may still hold the pipes open: it gets
    // what is left of the time limit, then its group is killed too.
    while !(out.is_finished() && err.is_finished()) {
        if started.elapsed() >= timeout {
            kill_group(&child);
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = writer.join();
    Ok(Bounded {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
        over: over.load(Ordering::SeqCst),
    })
}

/// Kills the process group made for `child` (`process_group(0)` made its pid the group id).
/// A group already gone is no error: the point is that nothing of it runs on.
pub(crate) fn kill_group(child: &Child) {
    let pid = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
    if let Some(pid) = pid {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

/// Waits until the child ends, the time runs out or the output passes its limit; in the
/// last two cases kills its process group. Returns the status and whether time ran out.
fn wait(child: &mut Child, timeout: Duration, over: &AtomicBool) -> (Option<ExitStatus>, bool) {
    let start = Instant::now();
    let timed_out = loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false),
            Ok(None) => {}
            Err(_) => break false,
        }
        if over.load(Ordering::SeqCst) {
            break false;
        }
        if start.elapsed() >= timeout {
            break true;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
    (None, timed_out)
}

/// Reads a pipe to its end on a thread, keeping at most `limit` bytes; past it sets `over`
/// and stops reading (the child is then killed).
fn reader(
    pipe: Option<impl Read + Send + 'static>,
    limit: usize,
    over: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let Some(mut pipe) = pipe else {
            return kept;
        };
        let mut buf = [0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if kept.len() + n > limit {
                        over.store(true, Ordering::SeqCst);
                        break;
                    }
                    kept.extend_from_slice(&buf[..n]);
                }
            }
        }
        kept
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_behind_background_process_cannot_hold_the_run_open() {
        let started = Instant::now();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo token; sleep 30 &"]);
        let r = super::run(&mut cmd, b"", Duration::from_secs(1), 1024, 1024).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r.stdout, b"token\n");
        assert!(r.status.is_some_and(|s| s.success()));
    }

    #[test]
    fn output_and_time_limits_stop_the_whole_group() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "yes | head -c 10000000"]);
        let r = super::run(&mut cmd, b"", Duration::from_secs(10), 4096, 1024).unwrap();
        assert!(r.over && r.stdout.len() <= 4096);
        let started = Instant::now();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30; echo late"]);
        let r = super::run(&mut cmd, b"", Duration::from_millis(300), 1024, 1024).unwrap();
        assert!(r.timed_out && r.stdout.is_empty());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
