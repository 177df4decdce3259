//! The configured `[imap]` account: where the server is and how to log in to it. Shared by
//! `secdesk sync`, the desk's sync worker and reply delivery, so all three connect the same
//! way (a relative `ca_file` is read beside the config file, wherever secdesk runs from).

use std::time::Duration;

use crate::core::config::{Config, ImapConfig};
use crate::mailio::secret::{self, SecretError};

use super::connect::{connect, Endpoint, ImapSession};
use super::error::ImapError;

/// Why the account could not be logged in to.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Imap(#[from] ImapError),
}

/// Where `imap` (a section of `config`) is, with `[sync] timeout_seconds`.
pub fn endpoint(config: &Config, imap: &ImapConfig) -> Endpoint {
    Endpoint {
        host: imap.host.clone(),
        port: imap.port,
        security: imap.security,
        ca_file: imap.ca_file.as_ref().map(|p| config.dir().join(p)),
        timeout: Duration::from_secs(config.sync.timeout_seconds.max(1)),
        deadline: Duration::from_secs(config.sync.deadline_seconds.max(1)),
        max_message_bytes: config.sync.max_message_bytes,
    }
}

/// Resolves the password and logs in to `imap`. The password is dropped as soon as LOGIN
/// has been sent.
pub fn login(config: &Config, imap: &ImapConfig) -> Result<(Endpoint, ImapSession), LoginError> {
    let endpoint = endpoint(config, imap);
    let password = secret::imap_password(imap)?;
    let session = connect(&endpoint, &imap.username, password.expose())?;
    drop(password);
    Ok((endpoint, session))
}
