//! OAuth2 logins (issue 16): the access token comes from `oauth2_token_command` (an argv,
//! never a shell, bounded in time like any helper, its stderr kept to one line), is cached
//! in memory until a server refuses it, and is then fetched once more. A second refusal is
//! one line. A token never appears in output, errors or logs: it is a [`Secret`], and the
//! SASL exchange (RFC 7628; XOAUTH2) is built in `core::oauth`.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;

use crate::core::oauth::{error_reply, initial_response, AuthMethod};
use crate::core::secret::Secret;
use crate::mailio::process;

/// How long a token command may take unless `oauth2_token_timeout_seconds` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// A token is a line; anything longer than this is not one.
const MAX_TOKEN_OUTPUT: usize = 64 * 1024;

/// Why no token could be had. None of these carries the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{section}.oauth2_token_command {program:?} could not be started: {source}; check the program name in the config")]
    Spawn {
        section: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{section}.oauth2_token_command {program:?} failed ({status}){stderr}; run it by hand to see why")]
    Failed {
        section: String,
        program: String,
        status: String,
        stderr: String,
    },
    #[error("{section}.oauth2_token_command {program:?} did not finish within {seconds} s and was stopped; check that it runs without a prompt, or raise {section}.oauth2_token_timeout_seconds")]
    TimedOut {
        section: String,
        program: String,
        seconds: u64,
    },
    #[error("{section}.oauth2_token_command {program:?} printed no token: it must print the access token on stdout, alone on one line; run it by hand to see what it does")]
    Empty { section: String, program: String },
    #[error("{section}.oauth2_token_command {program:?} printed {what}, not an access token (nothing was sent to the server): it must print the token alone on one line; run it by hand to see what it prints")]
    NotAToken {
        section: String,
        program: String,
        /// What it printed, in words that hold none of it (`3 lines`).
        what: String,
    },
}

impl TokenError {
    /// Whether the config is what must change (exit status 78): an `oauth2_token_command`
    /// program that does not exist or may not be run.
    pub fn is_config(&self) -> bool {
        match self {
            TokenError::Spawn { source, .. } => crate::mailio::secret::spawn_is_config(source),
            _ => false,
        }
    }
}

/// Where a section gets its token.
#[derive(Debug, Clone)]
pub struct TokenSource {
    pub section: &'static str,
    pub argv: Vec<String>,
    pub timeout: Duration,
}

impl TokenSource {
    pub fn new(section: &'static str, argv: &[String], timeout_seconds: Option<u64>) -> Self {
        TokenSource {
            section,
            argv: argv.to_vec(),
            timeout: timeout_seconds.map_or(DEFAULT_TIMEOUT, |s| Duration::from_secs(s.max(1))),
        }
    }

    /// The cached token, or a freshly fetched one (then cached).
    pub fn token(&self) -> Result<Secret, TokenError> {
        if let Some(t) = lock().get(&self.argv) {
            return Ok(t.clone());
        }
        self.fresh()
    }

    /// Forgets the cached token and fetches a new one: after a server refused the old one.
    pub fn fresh(&self) -> Result<Secret, TokenError> {
        lock().remove(&self.argv);
        let token = self.fetch()?;
        lock().insert(self.argv.clone(), token.clone());
        Ok(token)
    }

    /// Forgets the cached token (refused, and no retry is possible).
    pub fn forget(&self) {
        lock().remove(&self.argv);
    }

    fn fetch(&self) -> Result<Secret, TokenError> {
        let section = self.section.to_string();
        let Some((program, args)) = self.argv.split_first() else {
            return Err(TokenError::Empty {
                section,
                program: String::new(),
            });
        };
        let mut cmd = Command::new(program);
        cmd.args(args);
        let run = process::run(&mut cmd, b"", self.timeout, MAX_TOKEN_OUTPUT, 64 * 1024).map_err(
            |source| TokenError::Spawn {
                section: section.clone(),
                program: program.clone(),
                source,
            },
        )?;
        if run.timed_out {
            return Err(TokenError::TimedOut {
                section,
                program: program.clone(),
                seconds: self.timeout.as_secs(),
            });
        }
        match run.status {
            Some(s) if s.success() => {}
            other => {
                // One bounded, sanitized line, credentials redacted: it reaches the desk's
                // log and, for [smtp], the outbox's error column.
                let line = crate::mailio::secret::one_line(&run.stderr, &run.stdout);
                return Err(TokenError::Failed {
                    section,
                    program: program.clone(),
                    status: other
                        .map_or("stopped: its output was too long".into(), |s| s.to_string()),
                    stderr: if line.is_empty() {
                        String::new()
                    } else {
                        format!(": {line}")
                    },
                });
            }
        }
        let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&run.stdout).into_owned());
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        // A prompt, a warning or a JSON answer is not a token: sending its first line to
        // the server would only be refused, twice, as if the token were wrong.
        let not_a_token = |what: String| TokenError::NotAToken {
            section: section.clone(),
            program: program.clone(),
            what,
        };
        match lines[..] {
            [] => Err(TokenError::Empty {
                section: section.clone(),
                program: program.clone(),
            }),
            [token] if token.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(
                not_a_token("a line with spaces or control characters in it".into()),
            ),
            [token] => Ok(Secret::new(token.to_string())),
            ref more => Err(not_a_token(format!("{} lines", more.len()))),
        }
    }
}

/// Tokens by command argv, for the life of the process.
fn lock() -> std::sync::MutexGuard<'static, HashMap<Vec<String>, Secret>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<String>, Secret>>> = OnceLock::new();
    // A poisoned lock only means another thread panicked mid-insert: the map is still valid.
    CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The SASL exchange for the imap crate's AUTHENTICATE: the initial response to the first
/// (empty) challenge, then the mechanism's answer to an error challenge.
pub struct SaslOauth {
    pub method: AuthMethod,
    pub initial: Secret,
}

impl SaslOauth {
    pub fn new(method: AuthMethod, user: &str, host: &str, port: u16, token: &Secret) -> Self {
        SaslOauth {
            method,
            initial: initial_response(method, user, host, port, token)
                .unwrap_or_else(|| Secret::new(String::new())),
        }
    }
}

impl imap::Authenticator for SaslOauth {
    type Response = Vec<u8>;
    fn process(&self, challenge: &[u8]) -> Self::Response {
        if challenge.is_empty() {
            self.initial.expose().as_bytes().to_vec()
        } else {
            error_reply(self.method).to_vec()
        }
    }
}

/// The `[smtp]` OAuth2 login: AUTH XOAUTH2 or AUTH OAUTHBEARER (RFC 7628 §3.1, with the
/// SMTP profile of RFC 4954), sent as a raw command on lettre's connection after EHLO (and
/// STARTTLS). lettre has no OAUTHBEARER, and its XOAUTH2 leaves the server's error challenge
/// unanswered (it gives up with a client error, and its QUIT then reaches the server as the
/// SASL answer), so both go the same way here.
#[derive(Debug, Clone)]
pub struct SmtpOauth {
    pub user: String,
    pub method: AuthMethod,
    /// The server's name and port, sent in OAUTHBEARER's `host` and `port` keys.
    pub host: String,
    pub port: u16,
    pub source: TokenSource,
}

impl SmtpOauth {
    /// Logs in with `token`: `Ok(true)` when accepted, `Ok(false)` when the server refused
    /// it (535, or an error challenge answered as the mechanism asks, then 535).
    pub fn auth(
        &self,
        conn: &mut lettre::transport::smtp::client::SmtpConnection,
        token: &Secret,
    ) -> Result<bool, lettre::transport::smtp::Error> {
        // 504 (mechanism unknown) is not a refusal of the token: the caller says so.
        let refused = |e: &lettre::transport::smtp::Error| {
            (e.is_permanent() || e.is_client())
                && e.status().map(|c| c.to_string()).as_deref() != Some("504")
        };
        let (Some(mechanism), Some(initial)) = (
            self.method.mechanism(),
            initial_response(self.method, &self.user, &self.host, self.port, token),
        ) else {
            return Ok(false);
        };
        // RFC 4954 §4: the initial response goes on the AUTH line, base64-encoded.
        let line = AuthLine(Secret::new(format!(
            "AUTH {mechanism} {}\r\n",
            base64::engine::general_purpose::STANDARD.encode(initial.expose())
        )));
        match conn.command(&line) {
            // 235: accepted. 334 is the error challenge (a JSON status: RFC 7628 §3.2.2 for
            // OAUTHBEARER, Google's XOAUTH2 protocol likewise): the client answers with a
            // single ^A (OAUTHBEARER) or an empty line (XOAUTH2), and the server then says 535.
            Ok(r) if r.has_code(334) => {
                let answer =
                    base64::engine::general_purpose::STANDARD.encode(error_reply(self.method));
                match conn.command(format!("{answer}\r\n")) {
                    Ok(_) => Ok(false),
                    Err(e) if refused(&e) => Ok(false),
                    Err(e) => Err(e),
                }
            }
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// One SMTP command line holding a token: displayed only to the socket, never in `Debug`.
struct AuthLine(Secret);

impl std::fmt::Display for AuthLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.expose())
    }
}
