//! The exit status of a failed command, so that a script can tell what to do next without
//! reading the message: fix the config, fix the credentials, or simply run again later.
//! The numbers are the BSD `sysexits.h` ones that mean the same thing.
//!
//! | status | meaning | what a script does |
//! | --- | --- | --- |
//! | 0 | the command did all of its job | nothing |
//! | 1 | any other failure, or work left undone (a gap in a sync, a file not imported) | read stderr |
//! | 2 | the command line itself is wrong (from clap, or a [`Usage`] error: a value a flag does not take) | fix the call |
//! | 75 | temporary: a server unreachable, silent or cut off, the store busy, or an import that found deliveries not finished in a Maildir's `tmp/` | run again later |
//! | 77 | a server refused the login (password or token) | fix the credentials; retrying will not help |
//! | 78 | the config is missing, unreadable or invalid, names a password or token program that does not exist (for SMTP, the reply stays queued), or asks for what the server does not allow (LOGIN where it announces LOGINDISABLED, an SMTP `auth` it does not offer) | fix the config |
//!
//! A command with one outcome per reply (`outbox --retry`) exits with the most urgent of
//! them ([`most_urgent`]): 78, then 77, then 1, then 75, then 0.

use std::error::Error as StdError;
use std::process::ExitCode;

use rusqlite::ErrorCode;

use crate::core::config::ConfigError;
use crate::core::store::StoreError;
use crate::mailio::delivery::DeliveryError;
use crate::mailio::imap::account::LoginError;
use crate::mailio::imap::error::ImapError;
use crate::mailio::imap::sync::SyncError;
use crate::mailio::mailman::held::QueueError;
use crate::mailio::mailman::MailmanError;
use crate::mailio::oauth::TokenError;
use crate::mailio::secret::SecretError;
use crate::mailio::smtp::SmtpSetupError;

/// The command line is wrong (`EX_USAGE` is 64, but clap's own errors exit 2, and one
/// status for one meaning is what a script needs).
pub const USAGE: u8 = 2;
/// Run again later: the network, a server or another writer was in the way (`EX_TEMPFAIL`).
pub const TEMPORARY: u8 = 75;
/// A server refused the credentials (`EX_NOPERM`).
pub const LOGIN_REFUSED: u8 = 77;
/// The config needs fixing (`EX_CONFIG`).
pub const CONFIG: u8 = 78;

/// A value the user typed that the command does not take, or flags that contradict each
/// other: found after clap, so raised as this to exit [`USAGE`] as clap's errors do. The
/// message is one line that names what is accepted.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// A [`Usage`] error with `message`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// Of two statuses, the one that tells a script more urgently what to do, for a command
/// with several outcomes (`outbox --retry`: one per reply), whatever their order: the config
/// (78: nothing goes until it is fixed) over a refused login (77: nor until that is) over a
/// failure a person must look at (1: e.g. a reply refused for good) over temporary (75: run
/// again later) over success. Any other status ranks as 1.
pub fn most_urgent(a: u8, b: u8) -> u8 {
    const LEAST_FIRST: [u8; 5] = [0, TEMPORARY, 1, LOGIN_REFUSED, CONFIG];
    let rank = |c: u8| LEAST_FIRST.iter().position(|&o| o == c).unwrap_or(2);
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// The status for a command that failed with `e`.
pub fn status(e: &anyhow::Error) -> ExitCode {
    ExitCode::from(code(e))
}

fn code(e: &anyhow::Error) -> u8 {
    e.chain().find_map(classify).unwrap_or(1)
}

/// The status one link of an error chain stands for, if it is one of the kinds above.
/// `#[error(transparent)]` wrappers hide their inner error from the chain, so each wrapper
/// that can carry an IMAP error is opened here.
fn classify(cause: &(dyn StdError + 'static)) -> Option<u8> {
    if cause.downcast_ref::<Usage>().is_some() {
        return Some(USAGE);
    }
    if cause.downcast_ref::<ConfigError>().is_some() {
        return Some(CONFIG);
    }
    if let Some(e) = cause.downcast_ref::<SecretError>() {
        return e.is_config().then_some(CONFIG);
    }
    if let Some(e) = cause.downcast_ref::<TokenError>() {
        return e.is_config().then_some(CONFIG);
    }
    if let Some(e) = cause.downcast_ref::<ImapError>() {
        return imap(e);
    }
    if let Some(e) = cause.downcast_ref::<LoginError>() {
        return match e {
            LoginError::Imap(e) => imap(e),
            LoginError::TokenRefused { .. } => Some(LOGIN_REFUSED),
            LoginError::Secret(e) => e.is_config().then_some(CONFIG),
            LoginError::Token(e) => e.is_config().then_some(CONFIG),
        };
    }
    if let Some(e) = cause.downcast_ref::<SyncError>() {
        return sync(e);
    }
    if let Some(e) = cause.downcast_ref::<StoreError>() {
        return store(e);
    }
    // A section the command needs is missing, or refused as configured.
    let smtp_config = |e: &SmtpSetupError| e.is_config().then_some(CONFIG);
    if let Some(e) = cause.downcast_ref::<SmtpSetupError>() {
        return smtp_config(e);
    }
    if let Some(DeliveryError::Smtp(e)) = cause.downcast_ref::<DeliveryError>() {
        return smtp_config(e);
    }
    match cause.downcast_ref::<QueueError>() {
        Some(QueueError::NotConfigured { .. }) => return Some(CONFIG),
        Some(QueueError::Mailman(e)) => return mailman(e),
        _ => {}
    }
    if let Some(e) = cause.downcast_ref::<MailmanError>() {
        return mailman(e);
    }
    cause.downcast_ref::<rusqlite::Error>().and_then(sqlite)
}

fn sync(e: &SyncError) -> Option<u8> {
    match e {
        SyncError::Imap(e) => imap(e),
        SyncError::Store(e) => store(e),
        SyncError::InMailbox { error, .. } | SyncError::NotResumed { error, .. } => sync(error),
        _ => None,
    }
}

/// Mailman's REST API: unreachable or silent is temporary, a refused login is not.
fn mailman(e: &MailmanError) -> Option<u8> {
    match e {
        MailmanError::Unreachable { .. } | MailmanError::Timeout { .. } => Some(TEMPORARY),
        MailmanError::Login { .. } => Some(LOGIN_REFUSED),
        MailmanError::Secret(e) => e.is_config().then_some(CONFIG),
        _ => None,
    }
}

fn imap(e: &ImapError) -> Option<u8> {
    match e {
        ImapError::Resolve { .. }
        | ImapError::Unreachable { .. }
        | ImapError::TimedOut { .. }
        | ImapError::Deadline { .. }
        | ImapError::ConnectionLost { .. } => Some(TEMPORARY),
        ImapError::LoginRefused { .. } => Some(LOGIN_REFUSED),
        // The server takes no password on this connection: the config must change.
        ImapError::LoginDisabled { .. } => Some(CONFIG),
        _ => None,
    }
}

fn store(e: &StoreError) -> Option<u8> {
    match e {
        StoreError::Open { source, .. } | StoreError::Sql(source) => sqlite(source),
        _ => None,
    }
}

fn sqlite(e: &rusqlite::Error) -> Option<u8> {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Some(TEMPORARY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_own_status() {
        let config: anyhow::Error = ConfigError::Missing {
            path: "/x/config.toml".into(),
        }
        .into();
        assert_eq!(code(&config), CONFIG);
        let refused: anyhow::Error = LoginError::Imap(ImapError::LoginRefused {
            user: "u".into(),
            host: "h".into(),
        })
        .into();
        assert_eq!(code(&refused), LOGIN_REFUSED);
        let unreachable = ImapError::Unreachable {
            host: "h".into(),
            port: 993,
            error: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        let nested: anyhow::Error = SyncError::InMailbox {
            mailbox: "INBOX".into(),
            error: Box::new(SyncError::Imap(unreachable)),
            also: String::new(),
            synced: Vec::new(),
        }
        .into();
        assert_eq!(code(&nested), TEMPORARY);
        let no_smtp: anyhow::Error = DeliveryError::Smtp(SmtpSetupError::NotConfigured {
            path: "/x/config.toml".into(),
        })
        .into();
        assert_eq!(code(&no_smtp), CONFIG);
        let other = anyhow::anyhow!("something else");
        assert_eq!(code(&other), 1);
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let busy: anyhow::Error = StoreError::Sql(busy).into();
        assert_eq!(code(&busy.context("while noting")), TEMPORARY);
    }

    #[test]
    fn the_most_urgent_status_wins_in_either_order() {
        let ordered = [0, TEMPORARY, 1, LOGIN_REFUSED, CONFIG];
        for (i, &low) in ordered.iter().enumerate() {
            for &high in &ordered[i..] {
                assert_eq!(most_urgent(low, high), high, "{low} then {high}");
                assert_eq!(most_urgent(high, low), high, "{high} then {low}");
            }
        }
    }
}
