//! Sending mail over SMTP (RFC 5321) with lettre: implicit TLS (RFC 8314, port 465),
//! STARTTLS (RFC 3207, never falling back to plaintext) or plaintext to a loopback relay.
//!
//! Certificates are always verified, against the system roots plus the optional `ca_file`;
//! there is no switch to turn verification off. Every network step has a timeout.
//!
//! A failed send is classified for the outbox: a 5xx reply is permanent (the message as it
//! is will never be accepted); a connection lost or timed out after the whole message was
//! handed over (after the final `.` of DATA, RFC 5321 §4.1.1.4) is uncertain — the server
//! may have accepted it and only its answer was lost — so the outbox checks the mailbox
//! before sending it again; everything else — refused connection, timeout, TLS trouble,
//! a 4xx reply, a rejected login — is transient: the reply stays queued with the error.
//! An address with a non-ASCII local part, for a server without SMTPUTF8 (RFC 6531), is
//! permanent too: it has no ASCII form; a non-ASCII domain goes as its A-label instead.
//!
//! The session is driven step by step with lettre's `SmtpConnection` rather than
//! `SmtpTransport::send_raw`, because only then is it known whether a failure came before
//! or after the message was handed over.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{
    Certificate, CertificateStore, SmtpConnection, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::Address;

use crate::core::config::{is_loopback, Config, Security, SmtpConfig};
use crate::core::oauth::AuthMethod;
use crate::mailio::oauth::{SmtpOauth, TokenSource};
use crate::mailio::secret::{self, SecretError};
use crate::mailio::tls::{self, TlsConfigError};

/// Why no SMTP connection could even be set up (before any network traffic).
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("config {path} has no [smtp] section: add host, port and security to send replies (see config.example.toml)")]
    NotConfigured { path: PathBuf },
    #[error("refusing plaintext SMTP to {host}: security = \"plain\" is only allowed for a loopback host; use \"tls\" or \"starttls\"")]
    PlainNotLoopback { host: String },
    #[error(transparent)]
    Roots(#[from] TlsConfigError),
    #[error("TLS for SMTP server {host} could not be set up: {detail}")]
    Tls { host: String, detail: String },
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl SmtpSetupError {
    /// Whether the config is what must change: `[smtp]` missing, or refused as it is set.
    /// A reply held for it waits for the user, not for the server (exit status 78).
    pub fn is_config(&self) -> bool {
        match self {
            SmtpSetupError::NotConfigured { .. } | SmtpSetupError::PlainNotLoopback { .. } => true,
            SmtpSetupError::Secret(e) => e.is_config(),
            _ => false,
        }
    }
}

/// Whether retrying the same message can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Retry later: the server was unreachable, slow, or asked us to come back (4xx).
    Transient,
    /// The server refused this message (5xx): it must be changed, not retried.
    Permanent,
    /// The connection was lost after the whole message was handed over: the server may
    /// have accepted it. Resending blindly could deliver it twice.
    Uncertain,
    /// Nothing was sent, and nothing will be until the config changes: the
    /// `oauth2_token_command` program does not exist or may not be run, or the server does
    /// not offer the configured `auth`. Kept queued, like [`FailureKind::Transient`].
    Config,
}

/// A failed send, with what the server or the network said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("SMTP server {server}: {detail}")]
pub struct SendError {
    pub kind: FailureKind,
    /// `host:port`.
    pub server: String,
    pub detail: String,
    /// No session was had: the server could not be reached, did not greet, failed TLS or
    /// refused the login. Nothing about this message was said, and the next reply would
    /// meet the same (each after a whole timeout), so a delivery run stops there.
    pub unreached: bool,
}

/// How the connection is secured.
#[derive(Clone)]
enum Transport {
    Plain,
    /// TLS from the first byte (RFC 8314).
    Wrapper(TlsParameters),
    /// STARTTLS, required (RFC 3207).
    Starttls(TlsParameters),
}

/// A configured SMTP connection, ready to send.
#[derive(Clone)]
pub struct SmtpSender {
    host: String,
    port: u16,
    transport: Transport,
    timeout: Duration,
    /// The most one whole send may take, from connect to the answer to the message
    /// (`[sync] deadline_seconds`): a server answering one byte a second still ends.
    deadline: Duration,
    credentials: Option<Credentials>,
    /// `auth = "xoauth2"` or `"oauthbearer"`: the token is fetched at login, not here.
    oauth: Option<SmtpOauth>,
    hello: ClientId,
    server: String,
}

/// Where a send is, shared by its thread and the caller waiting on it ([`SmtpSender::send`]).
const RUNNING: u8 = 0;
/// Past the gate before DATA: the message may reach the server.
const HANDING_OVER: u8 = 1;
/// Given up at the deadline before the gate: the thread must not send DATA.
const ABANDONED: u8 = 2;

/// SMTP reply codes about authentication (RFC 4954 §6): a config problem, not the message's.
const AUTH_CODES: &[&str] = &["530", "534", "535", "538"];

/// Said in a send error (and so in the outbox's `last_error`) when the server refused the
/// login, by password or OAuth2 token: `secdesk reply` and `outbox --retry` then exit 77,
/// not 75, as retrying the same credentials cannot help.
pub const LOGIN_REFUSED: &str = "the login was refused";

impl SmtpSender {
    /// Builds the sender from `[smtp]`: resolves the password (if a login is configured)
    /// and the TLS trust store. No network traffic yet.
    pub fn from_config(config: &Config) -> Result<SmtpSender, SmtpSetupError> {
        let smtp = config
            .smtp
            .as_ref()
            .ok_or_else(|| SmtpSetupError::NotConfigured {
                path: config.source.clone(),
            })?;
        let ca_file = smtp.ca_file.clone();
        let timeout = Duration::from_secs(config.sync.timeout_seconds.max(1));
        let deadline = Duration::from_secs(config.sync.deadline_seconds.max(1));
        Ok(SmtpSender::new(smtp, ca_file.as_deref(), timeout)?.with_deadline(deadline))
    }

    /// Sets the whole-send deadline (600 s unless set).
    pub fn with_deadline(mut self, deadline: Duration) -> SmtpSender {
        self.deadline = deadline;
        self
    }

    /// Builds the sender for `smtp`, trusting `ca_file` besides the system roots.
    pub fn new(
        smtp: &SmtpConfig,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<SmtpSender, SmtpSetupError> {
        let transport = match smtp.security {
            Security::Plain => {
                if !is_loopback(&smtp.host) {
                    return Err(SmtpSetupError::PlainNotLoopback {
                        host: smtp.host.clone(),
                    });
                }
                Transport::Plain
            }
            Security::Tls => Transport::Wrapper(tls_parameters(&smtp.host, ca_file)?),
            Security::Starttls => Transport::Starttls(tls_parameters(&smtp.host, ca_file)?),
        };
        let oauth = match (&smtp.username, &smtp.oauth2_token_command) {
            (Some(user), Some(argv)) if smtp.auth != AuthMethod::Password => Some(SmtpOauth {
                user: user.clone(),
                method: smtp.auth,
                host: smtp.host.clone(),
                port: smtp.port,
                source: TokenSource::new("smtp", argv, smtp.oauth2_token_timeout_seconds),
            }),
            _ => None,
        };
        let password = match oauth {
            Some(_) => None,
            None => secret::smtp_password(smtp)?,
        };
        let credentials = match (&smtp.username, password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            )),
            _ => None,
        };
        Ok(SmtpSender {
            host: smtp.host.clone(),
            port: smtp.port,
            transport,
            // Applies to the TCP connect and to every read and write on the socket.
            timeout,
            deadline: Duration::from_secs(600),
            credentials,
            oauth,
            hello: ClientId::default(),
            server: format!("{}:{}", smtp.host, smtp.port),
        })
    }

    /// `host:port`, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends `raw` as is (it already carries its headers) to `recipients`, within the
    /// whole-send deadline. The session runs on a thread of its own. If the deadline passes
    /// before the message started to go out (before DATA), the send is given up as
    /// transient, and the thread is stopped before DATA, so it can never deliver the reply
    /// behind the outbox's back. If the message was going out, the server's answer is
    /// awaited one more read timeout (it decides); without it the send is uncertain.
    /// The longest a call takes is [`SmtpSender::longest_send`].
    pub fn send(&self, from: &str, recipients: &[String], raw: &[u8]) -> Result<(), SendError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let phase = Arc::new(AtomicU8::new(RUNNING));
        let me = self.clone();
        let (f, to, message) = (from.to_string(), recipients.to_vec(), raw.to_vec());
        let worker_phase = Arc::clone(&phase);
        let spawned = std::thread::Builder::new()
            .name("smtp-send".into())
            .spawn(move || {
                let _ = tx.send(me.send_now(&f, &to, &message, &worker_phase));
            });
        if spawned.is_err() {
            // No thread to spare: send on this one, with the per-read timeout only.
            return self.send_now(from, recipients, raw, &phase);
        }
        if let Ok(result) = rx.recv_timeout(self.deadline) {
            return result;
        }
        let given_up = phase
            .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if !given_up {
            // The message is going out: only the server's answer says whether it was taken.
            if let Ok(result) = rx.recv_timeout(self.timeout) {
                return result;
            }
        }
        Err(SendError {
            kind: if given_up { FailureKind::Transient } else { FailureKind::Uncertain },
            server: self.server.clone(),
            unreached: false,
            detail: format!(
                "still not done after {} s (the server answers too slowly){}; raise deadline_seconds in [sync] if the link is that slow",
                self.deadline.as_secs(),
                if given_up {
                    ", so the send was stopped before the message went out"
                } else {
                    ", while the message was going out, so it may have been accepted"
                }
            ),
        })
    }

    /// The longest [`SmtpSender::send`] can take: the deadline, then one read timeout for
    /// the server's answer to a message that was going out.
    pub fn longest_send(config: &Config) -> Duration {
        Duration::from_secs(
            config.sync.deadline_seconds.max(1) + config.sync.timeout_seconds.max(1),
        )
    }

    fn send_now(
        &self,
        from: &str,
        recipients: &[String],
        raw: &[u8],
        phase: &AtomicU8,
    ) -> Result<(), SendError> {
        let permanent = |detail: String| SendError {
            kind: FailureKind::Permanent,
            server: self.server.clone(),
            unreached: false,
            detail,
        };
        let from: Address = from
            .parse()
            .map_err(|e| permanent(format!("the sender address {from:?} is invalid ({e})")))?;
        let to = recipients
            .iter()
            .map(|r| {
                r.parse::<Address>()
                    .map_err(|e| permanent(format!("the recipient {r:?} is invalid ({e})")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(from), to)
            .map_err(|e| permanent(format!("the envelope is invalid ({e})")))?;
        if let Some((line, len)) = overlong_line(raw) {
            // Servers refuse it for good ("500 Line too long"); say so before connecting.
            return Err(permanent(format!(
                "line {line} of the message is {len} characters, over the 998 SMTP allows (RFC 5321 §4.5.3.1.6); edit the reply so it is built again with folded headers"
            )));
        }

        let mut conn = self.connect_and_login().map_err(|e| SendError {
            unreached: true,
            ..e
        })?;
        // Everything up to the end of DATA: a failure here means the message was not taken.
        let handed_over = self.hand_over(&mut conn, &envelope, raw, phase);
        match handed_over {
            Ok(()) => {
                // The message is accepted; a failed goodbye changes nothing.
                let _ = conn.quit();
                Ok(())
            }
            Err(e) => {
                conn.abort();
                Err(e)
            }
        }
    }

    /// Connects (TLS or STARTTLS as configured) and, for OAuth2, logs in: with the cached
    /// token, and when the server refuses it, on a new connection with a fresh one.
    fn connect_and_login(&self) -> Result<SmtpConnection, SendError> {
        let connect = || -> Result<SmtpConnection, SendError> {
            let wrapper = match &self.transport {
                Transport::Wrapper(p) => Some(p),
                _ => None,
            };
            let addr = (self.host.as_str(), self.port);
            let mut conn =
                SmtpConnection::connect(addr, Some(self.timeout), &self.hello, wrapper, None)
                    .map_err(|e| self.classify(&e))?;
            if let Transport::Starttls(p) = &self.transport {
                conn.starttls(p, &self.hello)
                    .map_err(|e| self.classify(&e))?;
            }
            Ok(conn)
        };
        let Some(o) = &self.oauth else {
            return connect();
        };
        let failed = |kind: FailureKind, detail: String| SendError {
            kind,
            server: self.server.clone(),
            unreached: false,
            detail,
        };
        let transient = |detail: String| failed(FailureKind::Transient, detail);
        // A token program that is not there is the config's to fix, not a server's.
        let no_token = |e: crate::mailio::oauth::TokenError| match e.is_config() {
            true => failed(FailureKind::Config, e.to_string()),
            false => transient(e.to_string()),
        };
        // 504: the server does not know the mechanism (RFC 4954 §6) — a config matter, not
        // the token's, and not the message's.
        let login_failed = |e: lettre::transport::smtp::Error| {
            match e.status() {
            Some(code) if code.to_string() == "504" => failed(FailureKind::Config, format!(
                "the server does not offer AUTH {}: set smtp.auth to a mechanism it lists in its EHLO answer",
                o.method.mechanism().unwrap_or("?")
            )),
            _ => self.classify(&e),
        }
        };
        let token = o.source.token().map_err(no_token)?;
        let mut conn = connect()?;
        if o.auth(&mut conn, &token).map_err(login_failed)? {
            return Ok(conn);
        }
        conn.abort();
        let token = o.source.fresh().map_err(no_token)?;
        let mut conn = connect()?;
        if o.auth(&mut conn, &token).map_err(login_failed)? {
            return Ok(conn);
        }
        conn.abort();
        o.source.forget();
        Err(transient(format!(
            "{LOGIN_REFUSED}: the server refused the OAuth2 token for {}, and then a fresh one from smtp.oauth2_token_command: check that the command prints a current access token for this account",
            o.user
        )))
    }

    /// Login, MAIL, RCPT, DATA (RFC 5321 §3.3), then the message itself.
    fn hand_over(
        &self,
        conn: &mut SmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
        phase: &AtomicU8,
    ) -> Result<(), SendError> {
        let before = |e: lettre::transport::smtp::Error| self.classify(&e);
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .map_err(|e| SendError {
                    unreached: true,
                    ..self.classify(&e)
                })?;
        }
        // As lettre's own `send` does: declare 8-bit content (RFC 6152) and UTF-8
        // addresses (RFC 6531) when the server offers them.
        let mut options = Vec::new();
        let info = conn.server_info();
        let smtputf8 = info.supports_feature(Extension::SmtpUtfEight);
        let envelope = &self.envelope_for(envelope, smtputf8)?;
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a: &Address| !AsRef::<str>::as_ref(a).is_ascii());
        let unsupported = |what: &str| SendError {
            kind: FailureKind::Transient,
            server: self.server.clone(),
            unreached: false,
            detail: format!("the server does not support {what}"),
        };
        if non_ascii {
            // Only with SMTPUTF8: without it `envelope_for` gave every address its ASCII form.
            options.push(MailParameter::SmtpUtfEight);
        }
        if !raw.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err(unsupported("8BITMIME, needed for 8-bit message text"));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        conn.command(Mail::new(envelope.from().cloned(), options))
            .map_err(before)?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), vec![])).map_err(|e| {
                // Which recipient was refused: the reporter, or the team's copy.
                let mut refused = self.classify(&e);
                refused.detail = format!("recipient <{to}> refused: {}", refused.detail);
                refused
            })?;
        }
        // The one gate to delivery: past it only if the send was not given up meanwhile.
        if phase
            .compare_exchange(RUNNING, HANDING_OVER, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(SendError {
                kind: FailureKind::Transient,
                server: self.server.clone(),
                unreached: false,
                detail: "the send was given up at its deadline before the message went out".into(),
            });
        }
        conn.command(Data).map_err(before)?;
        conn.message(raw).map(|_| ()).map_err(|e| {
            if e.status().is_some() {
                // The server answered the message with a code: it said what happened.
                self.classify(&e)
            } else {
                SendError {
                    kind: FailureKind::Uncertain,
                    server: self.server.clone(),
                    unreached: false,
                    detail: format!(
                        "the connection was lost after the message was handed over ({}), so the server may have accepted it",
                        describe(&e)
                    ),
                }
            }
        })
    }

    /// The envelope as this server takes it. With SMTPUTF8 (RFC 6531) every address goes
    /// as it is written. Without it, a non-ASCII domain goes as its A-label (RFC 5891: the
    /// same domain in DNS), and an address with a non-ASCII local part, which has no ASCII
    /// form, cannot be sent at all: a permanent failure that says so, never a retry that
    /// would meet the same server the same way every time.
    fn envelope_for(&self, envelope: &Envelope, smtputf8: bool) -> Result<Envelope, SendError> {
        if smtputf8 {
            return Ok(envelope.clone());
        }
        let ascii = |role: &str, a: &Address| -> Result<Address, SendError> {
            let written = a.to_string();
            let refused = |why: String| SendError {
                kind: FailureKind::Permanent,
                server: self.server.clone(),
                unreached: false,
                detail: no_smtputf8(role, &written, &why),
            };
            let form =
                crate::core::address::ascii_form(&written).map_err(|e| refused(e.to_string()))?;
            form.parse()
                .map_err(|e| refused(format!("its ASCII form {form:?} is invalid ({e})")))
        };
        let from = envelope.from().map(|f| ascii("sender", f)).transpose()?;
        let to = envelope
            .to()
            .iter()
            .map(|t| ascii("recipient", t))
            .collect::<Result<Vec<_>, _>>()?;
        Envelope::new(from, to).map_err(|e| SendError {
            kind: FailureKind::Permanent,
            server: self.server.clone(),
            unreached: false,
            detail: format!("the envelope is invalid ({e})"),
        })
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> SendError {
        let detail = describe(e);
        let code = e.status().map(|c| c.to_string());
        let auth = code.as_deref().is_some_and(|c| AUTH_CODES.contains(&c));
        let kind = if e.is_permanent() && !auth {
            FailureKind::Permanent
        } else {
            FailureKind::Transient
        };
        let detail = if auth {
            format!("{detail} ({LOGIN_REFUSED}: check smtp.username and the password)")
        } else if timed_out(e) {
            format!(
                "no answer within {} s; check the network and the server, then retry",
                self.timeout.as_secs()
            )
        } else {
            detail
        };
        SendError {
            kind,
            server: self.server.clone(),
            unreached: false,
            detail,
        }
    }
}

/// Why `role` (sender or recipient) `addr` cannot go to a server without SMTPUTF8, and
/// what to do.
fn no_smtputf8(role: &str, addr: &str, why: &str) -> String {
    format!(
        "the server does not accept non-ASCII addresses (no SMTPUTF8); the {role} <{addr}> cannot be sent to it: {why}. Send it through a server that offers SMTPUTF8 ([smtp]), or to an ASCII address of theirs"
    )
}

/// The first line (1-based) longer than RFC 5321's 998 characters before CRLF, and its
/// length.
fn overlong_line(raw: &[u8]) -> Option<(usize, usize)> {
    raw.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).len())
        .enumerate()
        .find(|&(_, len)| len > 998)
        .map(|(i, len)| (i + 1, len))
}

/// Whether a socket timeout ended the session. lettre only recognises `TimedOut`, but a
/// read timeout on Linux is `WouldBlock` (EAGAIN), which it would report as "Resource
/// temporarily unavailable".
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                return true;
            }
        }
        source = s.source();
    }
    e.is_timeout()
}

/// The error and its causes on one line (lettre puts the server's words in the causes).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// TLS parameters trusting the system roots plus `ca_file`: the roots of
/// [`tls::trusted_roots`], the loader IMAP uses, so a file one side refuses the other does too.
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters, SmtpSetupError> {
    let tls_err = |detail: String| SmtpSetupError::Tls {
        host: host.to_string(),
        detail,
    };
    // `None`: lettre adds no roots of its own (it is built without webpki-roots anyway).
    let mut builder =
        TlsParameters::builder(host.to_string()).certificate_store(CertificateStore::None);
    for der in tls::trusted_roots(ca_file)? {
        let cert = Certificate::from_der(der.to_vec()).map_err(|e| tls_err(describe(&e)))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| tls_err(describe(&e)))
}

#[cfg(test)]
#[path = "smtp_tests.rs"]
mod tests;
