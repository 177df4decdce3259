//! A TCP fault-injection proxy on loopback, between the code under test and a real server.
//!
//! Each accepted connection is forwarded to the upstream port by two threads, one per
//! direction. The fault applies to the server-to-client direction of every connection
//! accepted after it was set:
//!
//! - [`Fault::None`]: bytes pass untouched.
//! - [`Fault::CutAfter`]: after N bytes from the server both sockets are shut down, as a
//!   dropped link or a crashed server would do (in the middle of a FETCH, for large N).
//! - [`Fault::StallAfter`]: after N bytes from the server nothing more is forwarded, in
//!   either direction, but nothing is closed either: the client sees a silent peer.
//! - [`Fault::DripAfter`]: after N bytes from the server the rest is forwarded one byte at
//!   a time, each after a pause: always some progress, never done.
//!
//! The proxy forwards raw bytes, so TLS passes through it end to end.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy does to the server's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    CutAfter(u64),
    StallAfter(u64),
    DripAfter(u64, Duration),
}

struct Shared {
    fault: Mutex<Fault>,
    stop: AtomicBool,
    /// Connections accepted so far.
    accepted: AtomicU64,
    /// Connections a fault was applied to (cut, or stalled).
    faulted: AtomicU64,
    /// Every socket, so dropping the proxy closes stalled connections too.
    sockets: Mutex<Vec<TcpStream>>,
}

/// A running proxy. Stops listening and closes every connection on drop.
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a fresh loopback port, forwarding to `127.0.0.1:upstream`.
    pub fn start(upstream: u16, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking proxy listener");
        let shared = Arc::new(Shared {
            fault: Mutex::new(fault),
            stop: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            faulted: AtomicU64::new(0),
            sockets: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        thread::spawn(move || accept_loop(listener, upstream, s));
        Proxy { port, shared }
    }

    /// Applies to connections accepted from now on.
    pub fn set_fault(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
    }

    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many connections were cut or stalled.
    pub fn faulted(&self) -> u64 {
        self.shared.faulted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for s in self.shared.sockets.lock().unwrap().iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, upstream: u16, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                client.set_nonblocking(false).ok();
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let fault = *shared.fault.lock().unwrap();
                let stalled = Arc::new(AtomicBool::new(false));
                {
                    let mut all = shared.sockets.lock().unwrap();
                    for s in [&client, &server] {
                        all.push(s.try_clone().expect("clone proxy socket"));
                    }
                }
                let (c2, s2) = (
                    client.try_clone().expect("clone client socket"),
                    server.try_clone().expect("clone server socket"),
                );
                let (sh, st) = (shared.clone(), stalled.clone());
                thread::spawn(move || pump(server, client, fault, &sh, &st));
                let (sh, st) = (shared.clone(), stalled);
                thread::spawn(move || pump(c2, s2, Fault::None, &sh, &st));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Copies `from` to `to` until EOF, applying `fault` to the byte count.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    fault: Fault,
    shared: &Shared,
    stalled: &AtomicBool,
) {
    let limit = match fault {
        Fault::None => u64::MAX,
        Fault::CutAfter(n) | Fault::StallAfter(n) | Fault::DripAfter(n, _) => n,
    };
    let mut dripping = false;
    let mut sent: u64 = 0;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stalled.load(Ordering::SeqCst) {
            continue; // swallow: a stalled link carries nothing either way
        }
        if let (true, Fault::DripAfter(_, every)) = (dripping, fault) {
            if !drip(&mut to, &buf[..n], every) {
                break;
            }
            continue;
        }
        let room = (limit - sent).min(n as u64) as usize;
        if to.write_all(&buf[..room]).is_err() {
            break;
        }
        sent += room as u64;
        if room < n || sent == limit {
            shared.faulted.fetch_add(1, Ordering::SeqCst);
            match fault {
                Fault::CutAfter(_) => {
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
                Fault::StallAfter(_) => {
                    stalled.store(true, Ordering::SeqCst);
                    continue;
                }
                Fault::DripAfter(_, every) => {
                    dripping = true;
                    if !drip(&mut to, &buf[room..n], every) {
                        break;
                    }
                }
                Fault::None => {}
            }
        }
    }
    if !stalled.load(Ordering::SeqCst) {
        let _ = to.shutdown(Shutdown::Write);
    }
}

/// Writes `bytes` one at a time, `every` apart; false once the peer is gone.
fn drip(to: &mut TcpStream, bytes: &[u8], every: Duration) -> bool {
    for b in bytes {
        thread::sleep(every);
        if to.write_all(&[*b]).is_err() {
            return false;
        }
    }
    true
}
