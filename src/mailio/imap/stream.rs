//! The byte stream under an IMAP session, with two clocks on every socket read and write:
//!
//! - **no progress** (`[sync] timeout_seconds`): a read or write that moves nothing for
//!   that long fails, as a plain socket timeout would;
//! - **a deadline for the whole operation** (login, one fetch batch): set by the caller
//!   with [`ImapStream::set_deadline`]. Each read and write may only wait for what is left
//!   of it, so a server that sends one byte a second (always "progress") still ends at
//!   the deadline, with [`DeadlinePassed`].
//!
//! The clocks sit on the TCP socket itself, under TLS, because one TLS read may need many
//! socket reads to complete a record.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};

/// An operation's deadline passed while the server was still (slowly) answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePassed {
    pub seconds: u64,
}

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the operation took longer than its deadline of {} s",
            self.seconds
        )
    }
}

impl std::error::Error for DeadlinePassed {}

/// A TCP socket whose reads and writes respect the two clocks (see the module header).
/// Interior mutability lets `&TimedTcp` read and write, like `&TcpStream`.
#[derive(Debug)]
pub struct TimedTcp {
    tcp: TcpStream,
    /// The no-progress timeout in force (IDLE lengthens it for its wait).
    idle: Cell<Duration>,
    /// The configured no-progress timeout.
    base_idle: Duration,
    deadline: Cell<Option<(Instant, Duration)>>,
    /// The socket timeout last set, to skip redundant system calls.
    applied: Cell<Option<Duration>>,
}

impl TimedTcp {
    pub fn new(tcp: TcpStream, idle: Duration) -> TimedTcp {
        TimedTcp {
            tcp,
            idle: Cell::new(idle),
            base_idle: idle,
            deadline: Cell::new(None),
            applied: Cell::new(None),
        }
    }

    /// Every read and write from now on ends by `now + limit`; `None` lifts the deadline.
    pub fn set_deadline(&self, limit: Option<Duration>) {
        self.deadline.set(limit.map(|l| (Instant::now() + l, l)));
    }

    /// The no-progress timeout; `None` puts back the configured one.
    pub fn set_idle(&self, idle: Option<Duration>) {
        self.idle.set(idle.unwrap_or(self.base_idle));
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Sets the socket timeouts for the next read or write, or fails if the deadline passed.
    fn arm(&self) -> io::Result<()> {
        let mut wait = self.idle.get();
        if let Some((at, limit)) = self.deadline.get() {
            let left = at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(passed(limit));
            }
            wait = wait.min(left);
        }
        // A zero timeout means "block for ever" to the socket.
        let wait = wait.max(Duration::from_millis(1));
        if self.applied.get() != Some(wait) {
            self.tcp.set_read_timeout(Some(wait))?;
            self.tcp.set_write_timeout(Some(wait))?;
            self.applied.set(Some(wait));
        }
        Ok(())
    }

    /// A timeout at the deadline is the deadline's error.
    fn explain(&self, e: io::Error) -> io::Error {
        let timed_out = matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        );
        match self.deadline.get() {
            Some((at, limit)) if timed_out && Instant::now() >= at => passed(limit),
            _ => e,
        }
    }
}

fn passed(limit: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        DeadlinePassed {
            seconds: limit.as_secs(),
        },
    )
}

impl Read for &TimedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        (&self.tcp).read(buf).map_err(|e| self.explain(e))
    }
}

impl Write for &TimedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        (&self.tcp).write(buf).map_err(|e| self.explain(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        (&self.tcp).flush()
    }
}

impl Read for TimedTcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TimedTcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self).flush()
    }
}

/// The byte stream under an IMAP session: plain TCP (loopback only) or TLS.
pub enum ImapStream {
    Plain(TimedTcp),
    Tls(Box<StreamOwned<ClientConnection, TimedTcp>>),
}

impl ImapStream {
    fn timed(&self) -> &TimedTcp {
        match self {
            ImapStream::Plain(s) => s,
            ImapStream::Tls(s) => &s.sock,
        }
    }

    /// See [`TimedTcp::set_deadline`].
    pub fn set_deadline(&self, limit: Option<Duration>) {
        self.timed().set_deadline(limit);
    }

    /// See [`TimedTcp::set_idle`].
    pub fn set_idle(&self, idle: Option<Duration>) {
        self.timed().set_idle(idle);
    }
}

impl Read for ImapStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ImapStream::Plain(s) => s.read(buf),
            ImapStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for ImapStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ImapStream::Plain(s) => s.write(buf),
            ImapStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            ImapStream::Plain(s) => s.flush(),
            ImapStream::Tls(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_drip_ends_at_the_deadline_though_each_byte_is_progress() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            for _ in 0..40 {
                if s.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let timed = TimedTcp::new(tcp, Duration::from_secs(2));
        timed.set_deadline(Some(Duration::from_millis(700)));
        let started = Instant::now();
        let mut buf = [0u8; 1];
        let err = loop {
            match (&timed).read(&mut buf) {
                Ok(0) => panic!("closed before the deadline"),
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let passed = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<DeadlinePassed>());
        assert!(passed.is_some(), "{err:?}");
        drop(timed);
        server.join().unwrap();
    }
}
