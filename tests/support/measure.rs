//! Running a child under a hard deadline and measuring its peak resident memory, from the
//! kernel's own account, so a test can assert that a command ended in time and stayed small.
//!
//! The peak is the child's `VmHWM` (`/proc/PID/status`, the high-water mark of its own
//! address space after exec), read every few milliseconds until it exits. `ru_maxrss` from
//! `wait4` is not used: Linux folds into it the memory of the address space the child had
//! before exec, which is the test process's own (`posix_spawn` shares it), so a test
//! holding a 60 MB message would be charged to the command it runs.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How a measured run ended.
#[derive(Debug)]
pub struct Measured {
    /// The exit code; `None` when killed by a signal (or by the deadline).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident set size of the child, in MiB.
    pub peak_rss_mib: f64,
    pub elapsed: Duration,
    /// The child was still running at the deadline and was killed.
    pub killed: bool,
}

/// Runs `cmd` to its end, killing it at `deadline`. The child is reaped here with `wait4`,
/// not with `Child::wait`.
#[allow(clippy::zombie_processes)]
pub fn run(mut cmd: Command, deadline: Duration) -> Measured {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the command under test");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    let mut peak_kib = 0u64;
    loop {
        // `spawn` returns once the child has exec'd, so this is the command's own memory.
        peak_kib = peak_kib.max(vm_hwm_kib(pid).unwrap_or(0));
        // SAFETY: waiting on our own child, with valid pointers.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r >= 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if started.elapsed() > deadline && !killed {
            // SAFETY: signalling our own child, which has not been reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        peak_rss_mib: peak_kib as f64 / 1024.0,
        elapsed: started.elapsed(),
        killed,
    }
}

/// `VmHWM` of a running process, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
