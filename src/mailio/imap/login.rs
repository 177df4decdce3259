//! Logging in once the stream is secured (RFC 3501 §6.2, RFC 9051 §6.2), as the greeting
//! allows: LOGIN with the password; none at all when the server greets with `* PREAUTH`
//! (§7.1.4: the connection is authenticated already, by external means, and LOGIN would be
//! refused); and no password sent when the server announces `LOGINDISABLED` (§6.2.3: the
//! client MUST NOT send LOGIN), which is a matter of the config, not of the password.

use super::connect::{self, classify, is_preauth, Endpoint, ImapSession, ImapStream};
use super::error::ImapError;
use crate::core::config::Security;

/// A connection secured as the endpoint demands, with its greeting read.
pub enum Opened {
    /// Greeted with `* PREAUTH`: logged in already.
    Preauth(ImapSession),
    /// Not authenticated yet (RFC 3501 §3.1), with the greeting line (empty after STARTTLS,
    /// which brings no new greeting, §6.2.1).
    Client(imap::Client<ImapStream>, String),
}

/// Connects and secures the stream (see [`connect::open`]); a PREAUTH greeting gives the
/// session at once. Only in plaintext or after TLS from the first byte: a PREAUTH before
/// STARTTLS is refused there.
pub fn open(endpoint: &Endpoint) -> Result<Opened, ImapError> {
    let (client, greeting) = connect::open(endpoint)?;
    if !is_preauth(&greeting) {
        return Ok(Opened::Client(client, greeting));
    }
    let mut session = client.preauthenticated();
    // Authenticated: later operations set deadlines of their own.
    session.stream_mut().set_deadline(None);
    Ok(Opened::Preauth(session))
}

/// Connects, secures the stream as `endpoint.security` demands, and logs in (unless the
/// server greeted with PREAUTH).
///
/// The password is passed straight to LOGIN (RFC 3501 §6.2.3) and never
/// appears in an error.
pub fn connect(endpoint: &Endpoint, user: &str, password: &str) -> Result<ImapSession, ImapError> {
    match open(endpoint)? {
        Opened::Preauth(session) => Ok(session),
        Opened::Client(client, greeting) => login(endpoint, client, &greeting, user, password),
    }
}

/// Authenticates with LOGIN (RFC 3501 §6.2.3), unless `greeting` announced LOGINDISABLED.
pub fn login(
    endpoint: &Endpoint,
    client: imap::Client<ImapStream>,
    greeting: &str,
    user: &str,
    password: &str,
) -> Result<ImapSession, ImapError> {
    let disabled = || ImapError::LoginDisabled {
        host: endpoint.host.clone(),
        port: endpoint.port,
        encrypted: endpoint.security != Security::Plain,
    };
    if announces(greeting, "LOGINDISABLED") {
        return Err(disabled());
    }
    let mut session = client
        .login(user, password)
        .map_err(|(err, mut client)| match err {
            // A server that did not say so in its greeting may refuse LOGIN for being
            // disabled, not for the password: ask (§6.1.1), so the user fixes the right thing.
            imap::Error::No(_) | imap::Error::Bad(_) => {
                let caps = client.capabilities();
                if caps.is_ok_and(|c| c.has_str("LOGINDISABLED")) {
                    return disabled();
                }
                ImapError::LoginRefused {
                    user: user.to_string(),
                    host: endpoint.host.clone(),
                }
            }
            // The crate's validation error quotes the offending character, which
            // may come from the password: never let it through.
            imap::Error::Validate(_) => ImapError::PasswordUnsendable {
                user: user.to_string(),
            },
            other => classify(endpoint, "logging in", other),
        })?;
    // Logged in: later operations set deadlines of their own.
    session.stream_mut().set_deadline(None);
    Ok(session)
}

/// Whether the `[CAPABILITY ...]` response code of `greeting` (RFC 3501 §7.1) names `cap`.
fn announces(greeting: &str, cap: &str) -> bool {
    let upper = greeting.to_ascii_uppercase();
    let Some((_, rest)) = upper.split_once("[CAPABILITY ") else {
        return false;
    };
    let caps = rest.split(']').next().unwrap_or("");
    caps.split_ascii_whitespace().any(|c| c == cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_greeting_is_read_for_preauth_and_logindisabled() {
        assert!(is_preauth("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"));
        assert!(is_preauth("* preauth ok"));
        assert!(!is_preauth("* OK PREAUTH is not this"));
        assert!(!is_preauth(""));
        let ok = "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n";
        assert!(announces(ok, "LOGINDISABLED"));
        assert!(!announces(ok, "IDLE"));
        assert!(!announces(
            "* OK LOGINDISABLED in the text only",
            "LOGINDISABLED"
        ));
    }
}
