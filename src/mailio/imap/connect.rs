//! Opening an authenticated IMAP session (RFC 3501 §6.2, RFC 9051 §6.2).
//!
//! Owns the transport: TCP with connect, read and write timeouts, TLS through
//! rustls (see [`crate::mailio::tls`]), the STARTTLS upgrade, and LOGIN. The
//! imap crate's own `ClientBuilder` is not used because it cannot trust an
//! extra CA and its automatic mode may stay in plaintext; here the stream is
//! built by hand and every security decision is explicit:
//!
//! - `tls`: TLS from the first byte (IMAPS, RFC 8314).
//! - `starttls`: plaintext greeting, then STARTTLS (RFC 3501 §6.2.1). If the
//!   server does not offer or accept it, the connection is abandoned before
//!   any credential is sent. Anything the server sent after its STARTTLS
//!   reply and before the handshake is discarded (response injection).
//! - `plain`: only to a loopback host, for local test servers and tunnels.
//!
//! Logging in is [`super::login`]'s.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::error::{server_text, unexpected_answer, ImapError};
pub use super::stream::{DeadlinePassed, ImapStream, TimedTcp};
use crate::core::config::is_loopback;
use crate::mailio::tls;

pub use crate::core::config::Security;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Extra CA (PEM) trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// No progress for this long ends an operation: applies to the TCP connect and to
    /// every socket read and write (`[sync] timeout_seconds`).
    pub timeout: Duration,
    /// The most one whole operation may take: login (from connect to LOGIN's answer), one
    /// fetch batch (`[sync] deadline_seconds`).
    pub deadline: Duration,
    /// Messages over this are fetched as headers only (`[sync] max_message_bytes`); lines,
    /// literals and responses from the server are bounded from it (see [`limits`]).
    pub max_message_bytes: u64,
}

impl Endpoint {
    /// The timeout used when the caller has no reason to pick another.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The whole-operation deadline used when the caller has no reason to pick another.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
    /// The message size limit used when the caller has no reason to pick another.
    pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 50 * 1024 * 1024;

    /// An endpoint with the default timeout, deadline and size limit.
    pub fn new(host: &str, port: u16, security: Security) -> Endpoint {
        Endpoint {
            host: host.to_string(),
            port,
            security,
            ca_file: None,
            timeout: Self::DEFAULT_TIMEOUT,
            deadline: Self::DEFAULT_DEADLINE,
            max_message_bytes: Self::DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// Bytes of one line from the server, the greeting included: far above any line the desk
/// asks for (a listing line is some 40 bytes), far below what could hurt.
pub const MAX_LINE: usize = 1024 * 1024;

/// The bounds on what the server may send (see [`imap::Limits`]): a literal holds at most
/// one message (the listing's sizes keep larger ones to headers only, so a larger literal
/// is a server sending more than it announced); a response holds one fetch batch.
pub fn limits(endpoint: &Endpoint) -> imap::Limits {
    let message = usize::try_from(endpoint.max_message_bytes).unwrap_or(usize::MAX);
    let slack = 1024 * 1024;
    imap::Limits {
        line: MAX_LINE,
        literal: message.saturating_add(slack),
        response: message
            .saturating_add(super::fetch::BATCH_BYTES as usize)
            .saturating_add(16 * slack),
    }
}

/// An authenticated IMAP session.
pub type ImapSession = imap::Session<ImapStream>;

/// Connects and secures the stream, leaving the client unauthenticated (RFC 3501 §3.1,
/// "Not Authenticated State") unless the greeting, returned with it, says otherwise (see
/// [`super::login`]); after STARTTLS the greeting is empty (none comes, §6.2.1).
pub fn open(endpoint: &Endpoint) -> Result<(imap::Client<ImapStream>, String), ImapError> {
    // Checked before any packet leaves, so a misconfigured remote host never
    // sees even a plaintext greeting exchange.
    if endpoint.security == Security::Plain && !is_loopback(&endpoint.host) {
        return Err(ImapError::PlainNotLoopback {
            host: endpoint.host.clone(),
        });
    }
    // The TLS configuration is built before connecting, so a bad ca_file is
    // reported without touching the network.
    // The login deadline runs from the first packet to LOGIN's answer.
    let timed = |tcp| {
        let timed = TimedTcp::new(tcp, endpoint.timeout);
        timed.set_deadline(Some(endpoint.deadline));
        timed
    };
    let new_client = |stream| {
        let mut client = imap::Client::new(stream);
        client.set_limits(limits(endpoint));
        client
    };
    match endpoint.security {
        Security::Plain => {
            let tcp = timed(tcp_connect(endpoint)?);
            let mut client = new_client(ImapStream::Plain(tcp));
            let greeting = read_greeting(endpoint, &mut client)?;
            Ok((client, greeting))
        }
        Security::Tls => {
            let config = tls::client_config(endpoint.ca_file.as_deref())?;
            let tcp = timed(tcp_connect(endpoint)?);
            let stream = tls_handshake(endpoint, config, tcp)?;
            let mut client = new_client(ImapStream::Tls(Box::new(stream)));
            let greeting = read_greeting(endpoint, &mut client)?;
            Ok((client, greeting))
        }
        Security::Starttls => {
            let config = tls::client_config(endpoint.ca_file.as_deref())?;
            let tcp = starttls(endpoint, timed(tcp_connect(endpoint)?))?;
            let stream = tls_handshake(endpoint, config, tcp)?;
            // RFC 3501 §6.2.1: the server sends no new greeting after the
            // handshake; the session continues with the next command.
            Ok((new_client(ImapStream::Tls(Box::new(stream))), String::new()))
        }
    }
}

/// Runs one operation on `session` under the endpoint's whole-operation deadline.
pub fn within_deadline<T>(
    endpoint: &Endpoint,
    session: &mut ImapSession,
    op: impl FnOnce(&mut ImapSession) -> T,
) -> T {
    session.stream_mut().set_deadline(Some(endpoint.deadline));
    let out = op(session);
    session.stream_mut().set_deadline(None);
    out
}

/// Says goodbye (RFC 3501 §6.1.3), within one no-progress timeout in all, ignoring the
/// answer: whatever was stored stays stored, and a server that drips its reply is left.
pub fn logout(endpoint: &Endpoint, session: &mut ImapSession) {
    session.stream_mut().set_deadline(Some(endpoint.timeout));
    let _ = session.logout();
}

fn tcp_connect(endpoint: &Endpoint) -> Result<TcpStream, ImapError> {
    let addrs: Vec<SocketAddr> = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .map_err(|error| ImapError::Resolve {
            host: endpoint.host.clone(),
            port: endpoint.port,
            error,
        })?
        .collect();
    if endpoint.security == Security::Plain && !addrs.iter().all(|a| a.ip().is_loopback()) {
        // `localhost` resolving elsewhere would defeat the loopback rule.
        return Err(ImapError::PlainNotLoopback {
            host: endpoint.host.clone(),
        });
    }

    let mut last_err = io::Error::new(io::ErrorKind::NotFound, "no address found");
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, endpoint.timeout) {
            Ok(tcp) => {
                tcp.set_nodelay(true)
                    .map_err(|error| ImapError::Unreachable {
                        host: endpoint.host.clone(),
                        port: endpoint.port,
                        error,
                    })?;
                return Ok(tcp);
            }
            Err(e) => last_err = e,
        }
    }
    Err(ImapError::Unreachable {
        host: endpoint.host.clone(),
        port: endpoint.port,
        error: last_err,
    })
}

fn tls_handshake(
    endpoint: &Endpoint,
    config: Arc<ClientConfig>,
    mut tcp: TimedTcp,
) -> Result<StreamOwned<ClientConnection, TimedTcp>, ImapError> {
    let tls_err = |detail: String| ImapError::Tls {
        host: endpoint.host.clone(),
        port: endpoint.port,
        detail,
    };
    let name = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|e| tls_err(format!("\"{name}\" is not a valid TLS server name ({e})")))?;
    let mut conn =
        ClientConnection::new(config, server_name).map_err(|e| tls_err(e.to_string()))?;

    // Drive the handshake here rather than lazily on first read, so that a
    // certificate problem is reported as such and not as a failed greeting.
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            return Err(classify_io(endpoint, "negotiating TLS", e));
        }
    }
    Ok(StreamOwned::new(conn, tcp))
}

/// Plaintext greeting, CAPABILITY, STARTTLS; returns the bare TCP stream ready
/// for the TLS handshake (RFC 3501 §6.2.1, §6.1.1).
///
/// Spoken by hand because the imap crate offers no public way to send STARTTLS
/// on a client it did not build. No credential is sent in this phase.
fn starttls(endpoint: &Endpoint, tcp: TimedTcp) -> Result<TimedTcp, ImapError> {
    let lost = |e: io::Error| classify_io(endpoint, "starting TLS", e);
    // The reader is dropped with whatever it buffered: bytes the server sent
    // before the handshake must never be read as if TLS protected them.
    let mut reader = BufReader::new(&tcp);

    let greeting = read_line(&mut reader)
        .map_err(|e| silent_greeting(classify_io(endpoint, "starting TLS", e)))?;
    // A PREAUTH here would be a session no TLS can ever protect: the very answer an
    // attacker on the path gives to keep TLS away (RFC 3501 §6.2.1).
    if is_preauth(&greeting) {
        return Err(ImapError::PreauthBeforeStartTls {
            host: endpoint.host.clone(),
            port: endpoint.port,
        });
    }
    if !greeting.starts_with("* OK") {
        return Err(ImapError::Greeting {
            host: endpoint.host.clone(),
            port: endpoint.port,
            detail: server_text(&greeting),
        });
    }

    (&tcp).write_all(b"S1 CAPABILITY\r\n").map_err(lost)?;
    let mut offered = false;
    loop {
        let line = read_line(&mut reader).map_err(lost)?;
        if line.starts_with("* CAPABILITY ") {
            offered |= line
                .split_ascii_whitespace()
                .any(|cap| cap.eq_ignore_ascii_case("STARTTLS"));
        } else if line.starts_with("S1 ") {
            break;
        }
    }
    if !offered {
        return Err(ImapError::StartTlsUnavailable {
            host: endpoint.host.clone(),
            port: endpoint.port,
        });
    }

    (&tcp).write_all(b"S2 STARTTLS\r\n").map_err(lost)?;
    loop {
        let line = read_line(&mut reader).map_err(lost)?;
        if let Some(status) = line.strip_prefix("S2 ") {
            if status.starts_with("OK") {
                break;
            }
            return Err(ImapError::StartTlsRefused {
                host: endpoint.host.clone(),
                port: endpoint.port,
                detail: server_text(status),
            });
        }
    }
    drop(reader);
    Ok(tcp)
}

/// Reads one CRLF-terminated response line, bounded so a hostile server
/// cannot make us buffer without end.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    reader.take(MAX_LINE as u64).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    if !line.ends_with(b"\n") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "response line too long",
        ));
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// A plaintext client met with silence where the greeting should be: the likeliest cause
/// is a port that speaks TLS from the first byte (RFC 8314), which waits for the client's
/// hello and never greets, so the timeout says that, not only "check the network".
fn silent_greeting(e: ImapError) -> ImapError {
    match e {
        ImapError::TimedOut {
            host,
            port,
            seconds,
            ..
        } => ImapError::TimedOut {
            host,
            port,
            seconds,
            during: "waiting for the plaintext greeting (a port that speaks TLS from the first byte never sends one: if this is such a port, set security = \"tls\" in [imap])",
        },
        other => other,
    }
}

/// A greeting of `* PREAUTH` (RFC 3501 §7.1.4; keywords are case-insensitive, §9).
pub fn is_preauth(greeting: &str) -> bool {
    greeting
        .get(..9)
        .is_some_and(|start| start.eq_ignore_ascii_case("* PREAUTH"))
}

/// Reads the greeting and returns it (lossily as text: only its keywords are looked at).
fn read_greeting<S: Read + Write>(
    endpoint: &Endpoint,
    client: &mut imap::Client<S>,
) -> Result<String, ImapError> {
    let line = client.read_greeting().map_err(|e| {
        let e = classify(endpoint, "waiting for the greeting", e);
        match endpoint.security {
            Security::Tls => e,
            _ => silent_greeting(e),
        }
    })?;
    // RFC 3501 §7.1.5: a BYE greeting means the server will not serve us.
    if line.starts_with(b"* BYE") {
        return Err(ImapError::Greeting {
            host: endpoint.host.clone(),
            port: endpoint.port,
            detail: server_text(&String::from_utf8_lossy(&line)),
        });
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Maps an imap crate error to a user-facing error for `endpoint`.
pub(crate) fn classify(endpoint: &Endpoint, during: &'static str, err: imap::Error) -> ImapError {
    match err {
        imap::Error::Io(e) => classify_io(endpoint, during, e),
        imap::Error::ConnectionLost => ImapError::ConnectionLost {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
            detail: "the server closed the connection".to_string(),
        },
        imap::Error::Bye(bye) => ImapError::ConnectionLost {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
            detail: format!("the server said BYE: {}", server_text(&bye.information)),
        },
        imap::Error::Parse(_) => ImapError::NotImap {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
        },
        imap::Error::TagMismatch(_) => ImapError::Desynced {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
            detail: unexpected_answer(&err),
        },
        other => ImapError::Protocol {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
            detail: unexpected_answer(&other),
        },
    }
}

/// Maps a socket or TLS-layer I/O error. rustls reports its failures as
/// `io::Error`s of kind `InvalidData` wrapping a `rustls::Error`.
pub(crate) fn classify_io(endpoint: &Endpoint, during: &'static str, err: io::Error) -> ImapError {
    if let Some(passed) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<DeadlinePassed>())
    {
        return ImapError::Deadline {
            host: endpoint.host.clone(),
            port: endpoint.port,
            seconds: passed.seconds,
            during,
        };
    }
    if let Some(over) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<imap::LimitExceeded>())
    {
        return ImapError::TooLarge {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
            detail: over.to_string(),
        };
    }
    if let Some(tls_err) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        return match tls_err {
            rustls::Error::InvalidCertificate(cert) => ImapError::UntrustedCertificate {
                host: endpoint.host.clone(),
                port: endpoint.port,
                detail: format!("{cert:?}"),
            },
            other => ImapError::Tls {
                host: endpoint.host.clone(),
                port: endpoint.port,
                detail: other.to_string(),
            },
        };
    }
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ImapError::TimedOut {
            host: endpoint.host.clone(),
            port: endpoint.port,
            seconds: endpoint.timeout.as_secs(),
            during,
        },
        // rustls reports a connection closed without close_notify (a cut link, a crashed
        // server) with a long explanation and a URL; the user needs to know it was closed.
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
            ImapError::ConnectionLost {
                host: endpoint.host.clone(),
                port: endpoint.port,
                during,
                detail: "the server closed the connection".to_string(),
            }
        }
        _ => ImapError::ConnectionLost {
            host: endpoint.host.clone(),
            port: endpoint.port,
            during,
            detail: err.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_to_remote_host_is_refused_before_connecting() {
        let endpoint = Endpoint {
            host: "mail.example.org".into(),
            port: 143,
            security: Security::Plain,
            ca_file: None,
            timeout: Duration::from_secs(1),
            deadline: Duration::from_secs(1),
            max_message_bytes: 1024,
        };
        let err = open(&endpoint)
            .err()
            .expect("plain to a remote host must fail");
        assert!(matches!(err, ImapError::PlainNotLoopback { .. }), "{err}");
        assert!(err.to_string().contains("mail.example.org"));
    }
}
