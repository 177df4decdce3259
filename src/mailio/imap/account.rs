//! The configured `[imap]` account: where the server is and how to log in to it. Shared by
//! `secdesk sync`, the desk's sync worker and reply delivery, so all three connect the same
//! way (a relative `ca_file` is read beside the config file, wherever secdesk runs from).

use std::time::Duration;

use crate::core::config::{Config, ImapConfig};
use crate::core::secret::Secret;
use crate::mailio::oauth::{SaslOauth, TokenError, TokenSource};
use crate::mailio::secret::{self, SecretError};

use super::connect::{classify, Endpoint, ImapSession, ImapStream};
use super::error::ImapError;
use super::login::{connect, open, Opened};

/// Why the account could not be logged in to.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the IMAP server {host} refused the OAuth2 token for {user}, and then a fresh one from imap.oauth2_token_command: check that the command prints a current access token for this account")]
    TokenRefused { host: String, user: String },
}

/// Where `imap` (a section of `config`) is, with `[sync] timeout_seconds`.
pub fn endpoint(config: &Config, imap: &ImapConfig) -> Endpoint {
    Endpoint {
        host: imap.host.clone(),
        port: imap.port,
        security: imap.security,
        ca_file: imap.ca_file.clone(),
        timeout: Duration::from_secs(config.sync.timeout_seconds.max(1)),
        deadline: Duration::from_secs(config.sync.deadline_seconds.max(1)),
        max_message_bytes: config.sync.max_message_bytes,
    }
}

/// Logs in to `imap`: with the password (LOGIN), or with an OAuth2 token (`auth`). The
/// password is dropped as soon as LOGIN has been sent.
pub fn login(config: &Config, imap: &ImapConfig) -> Result<(Endpoint, ImapSession), LoginError> {
    let endpoint = endpoint(config, imap);
    if let (Some(_), Some(argv)) = (imap.auth.mechanism(), &imap.oauth2_token_command) {
        let source = TokenSource::new("imap", argv, imap.oauth2_token_timeout_seconds);
        let session = oauth_login(&endpoint, imap, &source)?;
        return Ok((endpoint, session));
    }
    let password = secret::imap_password(imap)?;
    let session = connect(&endpoint, &imap.username, password.expose())?;
    drop(password);
    Ok((endpoint, session))
}

/// A new session logged in to `imap` as [`login`] does, for a sync that lost its session past
/// a message whose FETCH breaks it (`sync::Remote::relogin`); the error as its line.
pub fn relogin<'a>(
    config: &'a Config,
    imap: &'a ImapConfig,
) -> impl FnMut() -> Result<ImapSession, String> + 'a {
    move || {
        login(config, imap)
            .map(|(_, session)| session)
            .map_err(|e| e.to_string())
    }
}

/// AUTHENTICATE with the cached token; when the server refuses it, once more on the same
/// connection with a fresh one.
fn oauth_login(
    endpoint: &Endpoint,
    imap: &ImapConfig,
    source: &TokenSource,
) -> Result<ImapSession, LoginError> {
    let client = match open(endpoint)? {
        Opened::Preauth(session) => return Ok(session),
        Opened::Client(client, _) => client,
    };
    let client = match authenticate(endpoint, client, imap, &source.token()?)? {
        Ok(session) => return Ok(session),
        Err(client) => client,
    };
    match authenticate(endpoint, client, imap, &source.fresh()?)? {
        Ok(session) => Ok(session),
        Err(_) => {
            source.forget();
            Err(LoginError::TokenRefused {
                host: endpoint.host.clone(),
                user: imap.username.clone(),
            })
        }
    }
}

/// One AUTHENTICATE (RFC 3501 §6.2.2) with `token`: the session, or the client back when
/// the server said NO (the token was refused).
fn authenticate(
    endpoint: &Endpoint,
    client: imap::Client<ImapStream>,
    imap: &ImapConfig,
    token: &Secret,
) -> Result<Result<ImapSession, imap::Client<ImapStream>>, ImapError> {
    let mechanism = imap.auth.mechanism().unwrap_or("XOAUTH2");
    let sasl = SaslOauth::new(
        imap.auth,
        &imap.username,
        &endpoint.host,
        endpoint.port,
        token,
    );
    match client.authenticate(mechanism, &sasl) {
        Ok(mut session) => {
            // Logged in: later operations set deadlines of their own.
            session.stream_mut().set_deadline(None);
            Ok(Ok(session))
        }
        Err((imap::Error::No(_) | imap::Error::Bad(_), client)) => Ok(Err(client)),
        Err((e, _)) => Err(classify(endpoint, "logging in", e)),
    }
}
