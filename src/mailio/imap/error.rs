//! The errors an IMAP connection or sync can end with, each rendered as one
//! line that says what failed, against which server or mailbox, and what to do.
//!
//! Causes are part of each message rather than chained `source`s, so printing
//! the error with its chain (`{:#}`) does not repeat them.
//!
//! No variant carries a password: login failures name the user and host only,
//! and the imap crate's input-validation error (which would quote a character
//! of the password) is replaced by [`ImapError::PasswordUnsendable`].

use std::io;

use imap_proto::Response;

use crate::core::sanitize::terminal_line_cut;
use crate::mailio::tls::TlsConfigError;

/// Characters of server text kept in a message: enough for a reason ("Mailbox doesn't
/// exist: Junk"), not a page of it.
const SERVER_TEXT_CHARS: usize = 160;

/// A failure talking to the IMAP server.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot resolve IMAP server {host}:{port}: {error}; check host in [imap]")]
    Resolve {
        host: String,
        port: u16,
        error: io::Error,
    },
    #[error("cannot reach IMAP server {host}:{port}: {error}; check host and port in [imap] and that the server is running")]
    Unreachable {
        host: String,
        port: u16,
        error: io::Error,
    },
    #[error("IMAP server {host}:{port} did not answer within {seconds} s while {during}; check the network and try again")]
    TimedOut {
        host: String,
        port: u16,
        seconds: u64,
        during: &'static str,
    },
    #[error("IMAP server {host}:{port} was still answering after {seconds} s while {during}, too slowly to finish; check the network or the server, or raise deadline_seconds in [sync]")]
    Deadline {
        host: String,
        port: u16,
        seconds: u64,
        during: &'static str,
    },
    #[error("IMAP server {host}:{port} sent {detail} while {during}; refused, as a broken or hostile server would send it (a message over max_message_bytes in [sync] is kept to its headers, not refused)")]
    TooLarge {
        host: String,
        port: u16,
        during: &'static str,
        detail: String,
    },
    #[error("TLS with {host}:{port} failed: the server certificate is not trusted ({detail}); if the server uses a private CA, set ca_file in [imap] to that CA's PEM certificate")]
    UntrustedCertificate {
        host: String,
        port: u16,
        detail: String,
    },
    #[error("TLS with {host}:{port} failed: {detail}; check security in [imap] (\"tls\" for port 993, \"starttls\" for port 143)")]
    Tls {
        host: String,
        port: u16,
        detail: String,
    },
    #[error("IMAP server {host}:{port} does not offer STARTTLS; refusing to continue in plaintext (use security = \"tls\" with the server's IMAPS port)")]
    StartTlsUnavailable { host: String, port: u16 },
    #[error("IMAP server {host}:{port} refused STARTTLS ({detail}); refusing to continue in plaintext (use security = \"tls\" with the server's IMAPS port)")]
    StartTlsRefused {
        host: String,
        port: u16,
        detail: String,
    },
    #[error("refusing plaintext IMAP to {host}: security = \"plain\" is only allowed for a loopback host; use \"tls\" or \"starttls\"")]
    PlainNotLoopback { host: String },
    #[error("IMAP server {host}:{port} does not allow LOGIN on this connection (it announces LOGINDISABLED, RFC 3501 §6.2.3): {}", if *.encrypted {
        "it takes no password even over TLS: set auth = \"xoauth2\" or \"oauthbearer\" with oauth2_token_command in [imap] if the server takes OAuth2 tokens, or ask its administrator how it lets clients log in"
    } else {
        "set security = \"tls\" (with the server's IMAPS port, usually 993) or \"starttls\" in [imap], or auth = \"xoauth2\" or \"oauthbearer\" with oauth2_token_command if the server takes OAuth2 tokens"
    })]
    LoginDisabled {
        host: String,
        port: u16,
        /// The connection was encrypted (TLS or STARTTLS) when LOGIN was refused.
        encrypted: bool,
    },
    #[error("IMAP server {host}:{port} greeted with PREAUTH (logged in already) before STARTTLS, so the connection could never be encrypted; refused, as this is what an attacker between secdesk and the server would send to keep TLS away (RFC 3501 §6.2.1): use security = \"tls\" with the server's IMAPS port")]
    PreauthBeforeStartTls { host: String, port: u16 },
    #[error("login refused for user {user} at {host}: check password_command/password_env")]
    LoginRefused { user: String, host: String },
    #[error("the password for user {user} contains a line break, which IMAP LOGIN cannot send; check password_command/password_env")]
    PasswordUnsendable { user: String },
    #[error("IMAP server {host}:{port} rejected the greeting or closed the connection: {detail}")]
    Greeting {
        host: String,
        port: u16,
        detail: String,
    },
    #[error("mailbox \"{mailbox}\" cannot be opened at {host}: {detail}; check mailbox in [imap]")]
    BadMailbox {
        mailbox: String,
        host: String,
        detail: String,
    },
    #[error("mailbox \"{mailbox}\" at {host} reports no UIDVALIDITY, so secdesk cannot sync it incrementally")]
    NoUidValidity { mailbox: String, host: String },
    #[error("connection to IMAP server {host}:{port} lost while {during}: {detail}; try again")]
    ConnectionLost {
        host: String,
        port: u16,
        during: &'static str,
        detail: String,
    },
    #[error("IMAP server {host}:{port} sent an answer that is not valid IMAP while {during} (such as a literal longer or shorter than it announced); what was not stored is recorded missing and asked for again")]
    NotImap {
        host: String,
        port: u16,
        during: &'static str,
    },
    #[error("IMAP server {host}:{port} answered unexpectedly while {during}: {detail}")]
    Protocol {
        host: String,
        port: u16,
        during: &'static str,
        detail: String,
    },
    /// An answer with another command's tag: which answer belongs to which command is lost,
    /// so unlike [`ImapError::Protocol`] the session cannot go on (a sync logs in again).
    #[error("IMAP server {host}:{port} answered unexpectedly while {during}: {detail}; the session is not used further")]
    Desynced {
        host: String,
        port: u16,
        during: &'static str,
        detail: String,
    },
    #[error(transparent)]
    TlsConfig(#[from] TlsConfigError),
}

/// Text the server sent (a NO's reason, a BYE's, a greeting), fit for one line of an error:
/// made terminal-safe as all hostile text is (an escape loses its ESC, a bidi or hidden
/// character shows as its code, `<U+202E>`, so the trick stays visible; a line break cannot
/// split the line), runs of spaces made one, and at most `SERVER_TEXT_CHARS` characters.
pub fn server_text(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    terminal_line_cut(&words.join(" "), SERVER_TEXT_CHARS)
}

/// What an answer the imap crate could not tie to the command was, in words, for
/// [`ImapError::Protocol`]: the crate's own text is its Debug output (`Mismatched Tag:
/// TagMismatch { expect: 4, actual: Err([120, 45]) }`, `Unexpected Response:
/// MailboxData(Search([1, 2]))`), with the server's bytes in it.
pub fn unexpected_answer(err: &imap::Error) -> String {
    match err {
        imap::Error::TagMismatch(_) => "its answer ended with the tag of another command, so which answer belongs to which command is lost (a broken server, or something between)".to_string(),
        imap::Error::Unexpected(response) => format!(
            "it sent {} where the command's answer was due",
            response_kind(response)
        ),
        imap::Error::No(no) => format!("it refused the command: {}", server_text(&no.information)),
        imap::Error::Bad(bad) => format!(
            "it called the command invalid: {}",
            server_text(&bad.information)
        ),
        imap::Error::MissingStatusResponse => "its answer to STATUS held no STATUS line".to_string(),
        imap::Error::Validate(_) => {
            "a name to send holds a character IMAP cannot carry (a line break)".to_string()
        }
        other => server_text(&other.to_string()),
    }
}

/// A response named by its kind (RFC 3501 §7), without its content.
fn response_kind(response: &Response<'_>) -> &'static str {
    match response {
        Response::Capabilities(_) => "a CAPABILITY list",
        Response::Continue { .. } => "a continuation request (\"+\")",
        Response::Done { .. } => "a tagged status",
        Response::Data { .. } => "an untagged status",
        Response::Expunge(_) | Response::Vanished { .. } => "news of an expunge",
        Response::Fetch(..) => "a FETCH",
        Response::MailboxData(_) => "mailbox data (LIST, SEARCH, STATUS, FLAGS or counts)",
        _ => "an extension's answer (QUOTA, ACL, ID, METADATA or another)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_one_short_line_with_controls_shown_inert() {
        let hostile = "No\x1b]52;c;cHduZWQ=\x07 such\r\n\tmailbox\u{202e}gnp.exe";
        assert_eq!(
            server_text(hostile),
            "No␛]52;c;cHduZWQ=␇ such mailbox<U+202E>gnp.exe"
        );
        let long = "x".repeat(1000);
        let cut = server_text(&long);
        assert_eq!(cut.chars().count(), SERVER_TEXT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    /// LOGINDISABLED on a connection already encrypted is no matter of `security`: telling a
    /// user on `tls` to set `tls` sends them round in a circle.
    #[test]
    fn logindisabled_advice_fits_the_connection() {
        let said = |encrypted| {
            ImapError::LoginDisabled {
                host: "h".into(),
                port: 993,
                encrypted,
            }
            .to_string()
        };
        assert!(
            said(false).contains("set security = \"tls\""),
            "{}",
            said(false)
        );
        assert!(
            !said(true).contains("security =") && said(true).contains("no password even over TLS"),
            "{}",
            said(true)
        );
    }
}
