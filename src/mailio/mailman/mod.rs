//! A client for the GNU Mailman 3 core REST API (API 3.1): a list's held queue and the
//! moderation actions on it. Blocking HTTP/1.1 (RFC 9112) over ureq, TLS on rustls trusting
//! the roots IMAP and SMTP trust (`mailio::tls`, no bundled root store), HTTP
//! Basic authentication (RFC 7617), one deadline per request (`[sync] timeout_seconds`) and a
//! bounded response size.
//!
//! Held entries are untrusted and their key set is open: only the documented fields are read
//! (`request_id`, `message_id`, `sender`, `subject`, `original_subject`, `reason`,
//! `hold_date`, `msg`); `entries` is absent when nothing is held. An entry without a usable
//! `request_id` and a count that disagrees with the entries read are not dropped but given
//! as the listing's gaps (`core::moderation::gaps`). The password never appears
//! in an error, a `Debug` or a log line. [`held`] is what the CLI and the desk call.

pub mod held;
mod listing;

pub use listing::HeldQueue;
use listing::{held_post, MAX_HELD_BYTES, MAX_HELD_ENTRIES};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::ring;
use serde_json::Value;
use ureq::http::StatusCode;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

use crate::core::config::{is_loopback, url_host, MailmanConfig};
use crate::core::moderation::{Action, HeldPost};
use crate::core::sanitize::terminal_line;
use crate::mailio::secret::{self, SecretError};
use crate::mailio::tls::{self, TlsConfigError};

/// The most a single response may hold: a page of held posts, each with its whole message.
/// Mailman holds a post over the list's `max_message_size` (40 kB by default), so big posts
/// gather in the held queue: a page over this is split, not refused.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// What went wrong talking to Mailman. None of these carries the password.
#[derive(Debug, thiserror::Error)]
pub enum MailmanError {
    #[error("cannot reach Mailman at {url}: {detail}; is Mailman running, and is [mailman] rest_url right?")]
    Unreachable { url: String, detail: String },
    #[error("Mailman at {url} did not answer within {seconds} s; try again later, or raise [sync] timeout_seconds")]
    Timeout { url: String, seconds: u64 },
    #[error("Mailman at {url} refused the login of user {user:?} (HTTP {status}): check [mailman] username and the password its password_command or password_env gives")]
    Login {
        url: String,
        user: String,
        status: u16,
    },
    #[error("Mailman has no list {list:?}: check --list, or [mailman] lists in the config (a list id such as \"security.python.org\" or an address)")]
    NoSuchList { list: String },
    #[error("Mailman answered {what} with HTTP {status}: {detail}")]
    Status {
        what: String,
        status: u16,
        detail: String,
    },
    #[error("Mailman's answer to {what} is not what the REST API documents: {detail}")]
    BadResponse { what: String, detail: String },
    #[error("Mailman's answer to {what} is over {}", size(*limit))]
    TooLarge { what: String, limit: u64 },
    #[error("post {position} held in {list} is over {} with its attachments, too big to list: moderate it in Mailman's web interface (Postorius), then list again", size(*limit))]
    PostTooLarge {
        list: String,
        position: usize,
        limit: u64,
    },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}

/// What Mailman did with a moderation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderated {
    Done,
    /// The request is no longer held: another moderator (or desk) handled it first.
    AlreadyHandled,
}

/// A logged-in view of one Mailman's REST API.
pub struct Client {
    agent: Agent,
    /// The REST root, without a trailing slash, e.g. `http://127.0.0.1:8001/3.1`.
    base: String,
    user: String,
    /// `Basic …`: holds the password, so it is never printed (see the `Debug` impl).
    authorization: String,
    timeout: Duration,
    /// The most one answer may hold, [`MAX_RESPONSE_BYTES`] unless a test lowers it.
    response_limit: u64,
    /// The most held entries a listing reads from one list, [`MAX_HELD_ENTRIES`] unless a
    /// test lowers it.
    entry_limit: usize,
    /// The most bytes of held mail a listing keeps from one list, [`MAX_HELD_BYTES`] unless
    /// a test lowers it.
    byte_limit: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("user", &self.user)
            .field("authorization", &"***")
            .finish()
    }
}

impl Client {
    /// A client for `[mailman]`, its password resolved as for IMAP, each request bounded by
    /// `timeout`. Nothing is sent until the first request.
    pub fn new(config: &MailmanConfig, timeout: Duration) -> Result<Client, MailmanError> {
        let password = secret::mailman_password(config)?;
        Client::with_password(
            &config.rest_url,
            &config.username,
            password.expose(),
            timeout,
        )
    }

    /// A client with the password given (tests and benchmarks). Fails only when the REST
    /// root is not plain `http://` and no root certificate can be trusted.
    pub fn with_password(
        rest_url: &str,
        user: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<Client, MailmanError> {
        let base = rest_url.trim().trim_end_matches('/').to_string();
        let loopback = url_host(&base).is_some_and(is_loopback);
        let config = Agent::config_builder()
            .tls_config(tls_config(&base)?)
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // Credentials go to the configured host only: never follow a redirect.
            .max_redirects(0)
            // A loopback Mailman is reached directly, whatever proxy the environment names.
            .proxy(if loopback {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .user_agent(concat!("secdesk/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            agent: config.into(),
            authorization: format!("Basic {}", base64(&format!("{user}:{password}"))),
            base,
            user: user.to_string(),
            timeout,
            response_limit: MAX_RESPONSE_BYTES,
            entry_limit: MAX_HELD_ENTRIES,
            byte_limit: MAX_HELD_BYTES,
        })
    }

    /// The same client with a lower bound on one answer's size than the 64 MiB it has
    /// (tests, to see pages split without holding 64 MiB of posts).
    pub fn with_response_limit(self, bytes: u64) -> Client {
        Client {
            response_limit: bytes,
            ..self
        }
    }

    /// The same client reading at most about `entries` held entries of a list (tests, to see
    /// the bound without holding 10,000 posts).
    pub fn with_entry_limit(self, entries: usize) -> Client {
        Client {
            entry_limit: entries,
            ..self
        }
    }

    /// The same client keeping at most about `bytes` of held mail from a list (tests, to see
    /// the bound without holding 256 MiB of posts).
    pub fn with_byte_limit(self, bytes: usize) -> Client {
        Client {
            byte_limit: bytes,
            ..self
        }
    }

    /// The REST root this client talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// One held post, or `None` when it is no longer held.
    pub fn held_post(&self, list: &str, request_id: u64) -> Result<Option<HeldPost>, MailmanError> {
        let url = format!("{}/lists/{list}/held/{request_id}", self.base);
        let what = format!("held request {request_id} of {list}");
        let (status, body) = self.send(&url, None)?;
        match status {
            StatusCode::OK => {
                let json = parse_json(&what, &body)?;
                // Never "no longer held" for an entry that is there but cannot be read.
                held_post(list, &json)
                    .map(Some)
                    .map_err(|why| MailmanError::BadResponse {
                        what,
                        detail: format!("{why}; moderate it in Mailman's web UI (Postorius)"),
                    })
            }
            // Also what an unknown list gives; the listing names that case.
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.unexpected(&what, status, &body)),
        }
    }

    /// Whether Mailman has `list` (`GET …/lists/<list>`). Mailman answers a held request of
    /// an unknown list with the same 404 as one no longer held, so "already handled" is
    /// only said of a list that exists.
    pub fn has_list(&self, list: &str) -> Result<bool, MailmanError> {
        let url = format!("{}/lists/{list}", self.base);
        let (status, body) = self.send(&url, None)?;
        match status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.unexpected(&format!("the list {list}"), status, &body)),
        }
    }

    /// Accepts, discards, rejects (with `comment` sent to the sender) or defers a held post.
    /// Mailman answers 404 for a request that is no longer held: [`Moderated::AlreadyHandled`].
    pub fn moderate(
        &self,
        list: &str,
        request_id: u64,
        action: Action,
        comment: Option<&str>,
    ) -> Result<Moderated, MailmanError> {
        let url = format!("{}/lists/{list}/held/{request_id}", self.base);
        let mut form = vec![("action", action.as_str())];
        if let Some(c) = comment {
            form.push(("comment", c));
        }
        let what = format!("{action} of held request {request_id} of {list}");
        let (status, body) = self.send(&url, Some(&form))?;
        match status {
            s if s.is_success() => Ok(Moderated::Done),
            StatusCode::NOT_FOUND => Ok(Moderated::AlreadyHandled),
            _ => Err(self.unexpected(&what, status, &body)),
        }
    }

    /// One request: a GET, or a POST of `form` (application/x-www-form-urlencoded). Returns
    /// the status and the body read up to the size bound; a refused login is an error here.
    fn send(
        &self,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Result<(StatusCode, String), MailmanError> {
        let result = match form {
            None => self
                .agent
                .get(url)
                .header("Authorization", &self.authorization)
                .header("Accept", "application/json")
                .call(),
            Some(form) => self
                .agent
                .post(url)
                .header("Authorization", &self.authorization)
                .header("Accept", "application/json")
                .send_form(form.iter().copied()),
        };
        let mut response = result.map_err(|e| self.transport(e))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(MailmanError::Login {
                url: self.base.clone(),
                user: terminal_line(&self.user),
                status: status.as_u16(),
            });
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(self.response_limit)
            .read_to_string()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => MailmanError::TooLarge {
                    what: url_path(url).to_string(),
                    limit: self.response_limit,
                },
                e => self.transport(e),
            })?;
        Ok((status, body))
    }

    fn transport(&self, e: ureq::Error) -> MailmanError {
        match e {
            ureq::Error::Timeout(_) => MailmanError::Timeout {
                url: self.base.clone(),
                seconds: self.timeout.as_secs().max(1),
            },
            e => MailmanError::Unreachable {
                url: self.base.clone(),
                detail: terminal_line(&e.to_string()),
            },
        }
    }

    fn unexpected(&self, what: &str, status: StatusCode, body: &str) -> MailmanError {
        // Mailman explains errors in `description` (or `title`); never echo a whole page.
        let detail = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("description")
                    .or_else(|| v.get("title"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| body.chars().take(200).collect());
        MailmanError::Status {
            what: what.to_string(),
            status: status.as_u16(),
            detail: terminal_line(detail.trim()),
        }
    }
}

/// TLS for the REST root: rustls with ring, trusting [`tls::trusted_roots`] (the system
/// roots IMAP and SMTP trust; ureq's bundled webpki roots are not built in). A plain
/// `http://` root (a loopback Mailman) loads none, since redirects are never followed.
fn tls_config(base: &str) -> Result<TlsConfig, TlsConfigError> {
    let plain = base
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
    let roots: Vec<Certificate<'static>> = if plain {
        Vec::new()
    } else {
        tls::trusted_roots(None)?
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    };
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(ring::default_provider()))
        .root_certs(RootCerts::new_with_certs(&roots))
        .build())
}

fn parse_json(what: &str, body: &str) -> Result<Value, MailmanError> {
    serde_json::from_str(body).map_err(|e| MailmanError::BadResponse {
        what: what.to_string(),
        detail: format!("not JSON ({e})"),
    })
}

fn url_path(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

/// A size bound as the errors give it: `64 MiB`, or `150 kB` below a MiB.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} kB", bytes / 1000)
    }
}

/// Standard base64 with padding (RFC 4648 §4), for the Basic credentials.
fn base64(s: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
