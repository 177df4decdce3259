//! A client for the GNU Mailman 3 core REST API (API 3.1): a list's held queue and the
//! moderation actions on it. Blocking HTTP/1.1 (RFC 9112) over ureq, TLS on rustls trusting
//! the roots IMAP and SMTP trust (`mailio::tls`, no bundled root store), HTTP
//! Basic authentication (RFC 7617), one deadline per request (`[sync] timeout_seconds`) and a
//! bounded response size.
//!
//! Held entries are untrusted and their key set is open: only the documented fields are read
//! (`request_id`, `message_id`, `sender`, `subject`, `original_subject`, `reason`,
//! `hold_date`, `msg`); `entries` is absent when nothing is held. The password never appears
//! in an error, a `Debug` or a log line. [`held`] is what the CLI and the desk call.

pub mod held;

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

/// Requests in flight at once while listing. Mailman builds every entry in Python (about
/// 5 ms of CPU each: the request's pended data from SQL, the message unpickled and flattened
/// again, the JSON hashed for its etag; docs/benchmarks.md), and a sync REST worker (two by
/// default) serves one request at a time. So the queue is asked for in equal slices, all at
/// once, which keeps every worker busy until the end.
const PARALLEL_PAGES: usize = 4;
/// The slice size bounds (`?count=`): small queues in one request, big ones in slices whose
/// responses stay a few MB. Slice sizes are powers of two, so that a slice whose answer is
/// over [`MAX_RESPONSE_BYTES`] is asked for again as its two halves (pages `2p-1` and `2p` of
/// half the size cover page `p` exactly).
const MIN_PAGE: usize = 64;
const MAX_PAGE: usize = 512;
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
    #[error("Mailman has no list {list:?}: check [mailman] lists (a list id such as \"security.python.org\" or an address)")]
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

    /// The REST root this client talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every post held for `list`, in Mailman's order. `held/count` (cheap: no entry is
    /// built) sizes the slices; then `PARALLEL_PAGES` slices are fetched at a time, until
    /// a slice comes back short or they cover Mailman's `total_size` (posts held meanwhile
    /// are fetched too).
    pub fn held(&self, list: &str) -> Result<Vec<HeldPost>, MailmanError> {
        let held = self.held_count(list)?;
        let size = match held {
            Some(0) => return Ok(Vec::new()),
            Some(n) => n
                .div_ceil(PARALLEL_PAGES)
                .next_power_of_two()
                .clamp(MIN_PAGE, MAX_PAGE),
            // A Mailman without `held/count`, or no such list: the first page says which.
            None => MAX_PAGE,
        };
        let mut posts: Vec<HeldPost> = Vec::new();
        let mut next = 1;
        loop {
            let pages = std::thread::scope(|s| {
                let handles: Vec<_> = (next..next + PARALLEL_PAGES)
                    .map(|page| s.spawn(move || self.held_slice(list, size, page, held)))
                    .collect();
                handles
                    .into_iter()
                    // A page fetch only panics on a bug; surface it, do not hide it.
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect::<Vec<_>>()
            });
            let mut full = true;
            let mut total = 0;
            let before = posts.len();
            for page in pages {
                let (page_posts, page_total, page_full) = page?;
                full = page_full;
                total = total.max(page_total.unwrap_or(u64::MAX) as usize);
                for p in page_posts {
                    // A post moderated meanwhile shifts the pages: never list one twice.
                    if !posts.iter().any(|q| q.request_id == p.request_id) {
                        posts.push(p);
                    }
                }
                if !full {
                    break;
                }
            }
            // Full pages that bring no post not listed yet: the answer repeats itself (a
            // proxy or cache that ignores `page`, a `total_size` that is missing or lies).
            // Asking on would never end.
            if full && posts.len() == before {
                return Err(MailmanError::BadResponse {
                    what: format!("the held queue of {}", terminal_line(list)),
                    detail: format!(
                        "pages {next} to {} of {size} posts repeat posts already listed ({} so far) instead of going on; check that nothing between secdesk and Mailman caches or rewrites its answers, then list again",
                        next + PARALLEL_PAGES - 1,
                        posts.len()
                    ),
                });
            }
            next += PARALLEL_PAGES;
            // Done when a page came back short, or the pages asked for cover `total_size`.
            if !full || (next - 1) * size >= total {
                return Ok(posts);
            }
        }
    }

    /// How many posts `list` holds, from `held/count`; `None` when Mailman does not answer
    /// it (no such list, or a Mailman older than 3.3).
    fn held_count(&self, list: &str) -> Result<Option<usize>, MailmanError> {
        let url = format!("{}/lists/{list}/held/count", self.base);
        let (status, body) = self.send(&url, None)?;
        if status != StatusCode::OK {
            return Ok(None);
        }
        let json = parse_json(&format!("the held count of {list}"), &body)?;
        Ok(json
            .get("count")
            .and_then(Value::as_u64)
            .map(|n| n as usize))
    }

    /// Page `page` of `size` held posts, as [`Client::held_page`] gives it. A page whose answer
    /// is over [`MAX_RESPONSE_BYTES`] is asked for again in smaller pages (a power of two below
    /// the posts it holds, by `held/count`'s `held` when known), down to single posts.
    fn held_slice(
        &self,
        list: &str,
        size: usize,
        page: usize,
        held: Option<usize>,
    ) -> Result<(Vec<HeldPost>, Option<u64>, bool), MailmanError> {
        let answer = self.held_page(list, size, page);
        let Err(MailmanError::TooLarge { .. }) = answer else {
            return answer;
        };
        let first = (page - 1) * size;
        let in_page = held.map_or(size, |n| n.saturating_sub(first).min(size));
        if in_page <= 1 {
            return Err(MailmanError::PostTooLarge {
                list: terminal_line(list),
                position: first + 1,
                limit: self.response_limit,
            });
        }
        // The largest power of two below the posts in the page: it divides `size` (itself a
        // power of two, see MIN_PAGE), so the smaller pages cover this one exactly.
        let smaller = 1 << (usize::BITS - 1 - (in_page - 1).leading_zeros());
        let mut posts = Vec::new();
        let mut total = None;
        for sub in first / smaller + 1..=(first + size) / smaller {
            let (sub_posts, sub_total, full) = self.held_slice(list, smaller, sub, held)?;
            posts.extend(sub_posts);
            total = sub_total.or(total);
            if !full {
                return Ok((posts, total, false));
            }
        }
        Ok((posts, total, true))
    }

    /// One page of `size` held posts: its posts, `total_size`, and whether it was full.
    fn held_page(
        &self,
        list: &str,
        size: usize,
        page: usize,
    ) -> Result<(Vec<HeldPost>, Option<u64>, bool), MailmanError> {
        let url = format!("{}/lists/{list}/held?count={size}&page={page}", self.base);
        let what = format!("the held queue of {list}");
        let (status, body) = self.send(&url, None)?;
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(MailmanError::NoSuchList {
                    list: list.to_string(),
                })
            }
            _ => return Err(self.unexpected(&what, status, &body)),
        }
        let json = parse_json(&what, &body)?;
        // `entries` is left out when nothing (more) is held.
        let entries = match json.get("entries") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => {
                return Err(MailmanError::BadResponse {
                    what,
                    detail: "`entries` is not an array".into(),
                })
            }
        };
        let total = json.get("total_size").and_then(Value::as_u64);
        let posts = entries.iter().filter_map(|e| held_post(list, e)).collect();
        Ok((posts, total, entries.len() >= size))
    }

    /// One held post, or `None` when it is no longer held.
    pub fn held_post(&self, list: &str, request_id: u64) -> Result<Option<HeldPost>, MailmanError> {
        let url = format!("{}/lists/{list}/held/{request_id}", self.base);
        let what = format!("held request {request_id} of {list}");
        let (status, body) = self.send(&url, None)?;
        match status {
            StatusCode::OK => {
                let json = parse_json(&what, &body)?;
                Ok(held_post(list, &json))
            }
            // Also what an unknown list gives; the listing names that case.
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.unexpected(&what, status, &body)),
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

/// Reads the documented fields of one held entry; `None` without a usable request id.
fn held_post(list: &str, e: &Value) -> Option<HeldPost> {
    let text = |key: &str| e.get(key).and_then(Value::as_str).map(str::to_string);
    let request_id = e.get("request_id").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    })?;
    let raw = text("msg").unwrap_or_default().into_bytes();
    Some(HeldPost {
        list: list.to_string(),
        request_id,
        message_id: text("message_id")
            .as_deref()
            .and_then(HeldPost::normalize_message_id),
        sender: text("sender").unwrap_or_default(),
        subject: text("subject")
            .or_else(|| text("original_subject"))
            .unwrap_or_default(),
        reason: text("reason").unwrap_or_default(),
        hold_date: text("hold_date")
            .as_deref()
            .and_then(HeldPost::parse_hold_date),
        raw,
    })
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
