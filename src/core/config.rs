//! The TOML configuration: its keys (a contract other tools rely on), defaults, default paths
//! and validation. Every key is explained in `config.example.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::core::secret::Secret;

pub mod advisory;
mod paths;
mod validate;

use paths::expand_home;
pub use paths::{default_config_dir, default_config_path, default_data_dir};
use validate::describe_toml_error;
pub use validate::{is_loopback, url_host};

/// Why a configuration could not be used. Each message names the file, the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no config file at {path}: copy config.example.toml there and edit it, pass --config FILE, or try `secdesk demo`")]
    Missing { path: PathBuf },
    #[error("the config {path} is a folder, not a file: pass --config with the file itself, e.g. {}", .path.join("config.toml").display())]
    Folder { path: PathBuf },
    #[error("cannot read config {path}: {source}; check that it is a file you may read")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message} (see config.example.toml for every key)")]
    Invalid { path: PathBuf, message: String },
}

/// How to secure a connection to a mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain TCP upgraded with STARTTLS; never falls back to plaintext.
    Starttls,
    /// No encryption at all: refused unless the host is loopback.
    Plain,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub imap: Option<ImapConfig>,
    #[serde(default)]
    pub store: StoreConfig,
    pub identity: Identity,
    #[serde(default)]
    pub team: TeamConfig,
    #[serde(default)]
    pub clocks: ClockConfig,
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub reply: ReplyConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    pub mailman: Option<MailmanConfig>,
    #[serde(default)]
    pub advisory: advisory::AdvisoryConfig,
    pub pgp: Option<crate::core::pgp::PgpConfig>,
    #[serde(default)]
    pub stats: StatsConfig,
    /// Where the file was read from; used to find overrides (rules, templates) beside it.
    #[serde(skip)]
    pub source: PathBuf,
    /// The built-in config of `secdesk demo`: a reply is written and previewed as anywhere,
    /// and never sent (the demo has no `[smtp]`, and its reporters are made up).
    #[serde(skip)]
    pub demo: bool,
}

/// `[imap]`: the security@ mailbox.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    #[serde(default = "default_imap_port")]
    pub port: u16,
    #[serde(default = "default_security")]
    pub security: Security,
    pub username: String,
    /// The password itself: only accepted when the config file is private (mode 0600).
    pub password: Option<Secret>,
    /// The argv of a command whose first line of output is the password. Never run by a shell.
    pub password_command: Option<Vec<String>>,
    /// The name of an environment variable that holds the password.
    pub password_env: Option<String>,
    /// Seconds `password_command` may run before it is stopped (default 30).
    pub password_command_timeout_seconds: Option<u64>,
    /// `password` (LOGIN / AUTH PLAIN), `xoauth2` or `oauthbearer` (RFC 7628).
    #[serde(default)]
    pub auth: crate::core::oauth::AuthMethod,
    /// For OAuth2: the argv of a command that prints an access token (run without a shell).
    pub oauth2_token_command: Option<Vec<String>>,
    /// Seconds the token command may take before it is stopped (default 30).
    pub oauth2_token_timeout_seconds: Option<u64>,
    /// A PEM file of extra CA certificates to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// The one mailbox to sync (kept for configs written before `mailboxes`).
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Where confirmed spam is moved (docs/team.md); else the SPECIAL-USE `\Junk` folder,
    /// else `Junk`.
    pub junk_mailbox: Option<String>,
    /// Write moderation back to the server: move confirmed spam to Junk with `$Junk`, flag
    /// confirmed non-spam `$NotJunk`, move restored reports back.
    #[serde(default = "default_true")]
    pub junk_moderation: bool,
    /// The mailboxes to sync, each with its own cursor; when set, `mailbox` is not used.
    #[serde(default)]
    pub mailboxes: Vec<String>,
}

impl ImapConfig {
    /// The mailboxes to sync, in order: `mailboxes` when set, else `mailbox`.
    pub fn sync_mailboxes(&self) -> Vec<String> {
        if self.mailboxes.is_empty() {
            vec![self.mailbox.clone()]
        } else {
            self.mailboxes.clone()
        }
    }
}

/// `[mailman]`: the Mailman 3 REST API whose held queue the desk moderates (`secdesk held`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailmanConfig {
    /// The REST root with its API version, e.g. `http://127.0.0.1:8001/3.1`.
    pub rest_url: String,
    pub username: String,
    /// The password itself: only accepted when the config file is private (mode 0600).
    pub password: Option<Secret>,
    pub password_command: Option<Vec<String>>,
    pub password_env: Option<String>,
    /// Seconds `password_command` may run before it is stopped (default 30).
    pub password_command_timeout_seconds: Option<u64>,
    /// List ids (`security.python.org`) or addresses (`security@python.org`).
    pub lists: Vec<String>,
}

/// `[store]`: where the SQLite database lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub path: Option<PathBuf>,
}

/// A person: `[identity]` (who I am) or a `[team]` member.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub name: String,
    pub email: String,
    /// A short name to type for this member (`secdesk assign 12 ada`); the local part of
    /// the email and the name work too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
}

/// `[team]`: the people who can coordinate reports, and the team's own address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// The team's security@ address; replies are copied to it by default.
    pub address: Option<String>,
    #[serde(default)]
    pub members: Vec<Identity>,
    /// The IMAP folder (on the `[imap]` account) the desks share triage events through
    /// (docs/team.md); created when missing. Empty turns sharing off.
    #[serde(default = "default_events_mailbox")]
    pub events_mailbox: String,
}

/// `[stats]`: how the team's figures are counted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsConfig {
    /// The zone days, weeks, months, quarters and years are cut in, for `secdesk stats` (its
    /// `--tz` overrides it) and the desk's charts: an IANA name, `UTC` (the default) or
    /// `local`. Read once, when the config is read (see [`StatsConfig::set_time_zone`]).
    time_zone: Option<String>,
    /// The zone `time_zone` names: UTC when it is unset.
    #[serde(skip)]
    zone: crate::core::zone::Zone,
}

impl StatsConfig {
    /// Sets `time_zone` to `name` and reads the zone it names, once; the error names the key
    /// and says what is wrong (the config is refused with it, exit 78).
    pub fn set_time_zone(&mut self, name: Option<&str>) -> Result<(), String> {
        self.zone = match name {
            Some(t) => crate::core::zone::Zone::parse(t)
                .map_err(|e| format!("key `stats.time_zone`: {e}"))?,
            None => crate::core::zone::Zone::utc(),
        };
        self.time_zone = name.map(str::to_string);
        Ok(())
    }

    /// The zone's name as the config gave it (`None`: UTC). Set only with
    /// [`StatsConfig::set_time_zone`], so the name and the zone read from it never differ.
    pub fn time_zone(&self) -> Option<&str> {
        self.time_zone.as_deref()
    }
}

impl Config {
    /// The zone `[stats] time_zone` names, UTC when unset, as read with the config.
    pub fn stats_zone(&self) -> crate::core::zone::Zone {
        self.stats.zone.clone()
    }
}

/// `[clocks]`: response targets, in days.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    #[serde(default = "default_ack_days")]
    pub acknowledge_days: f64,
    #[serde(default = "default_triage_days")]
    pub triage_days: f64,
    #[serde(default = "default_close_days")]
    pub close_days: f64,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            acknowledge_days: default_ack_days(),
            triage_days: default_triage_days(),
            close_days: default_close_days(),
        }
    }
}

/// `[smtp]`: the server replies are sent through. Login keys are optional: a local relay
/// may need none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default = "default_security")]
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_command: Option<Vec<String>>,
    pub password_env: Option<String>,
    /// Seconds `password_command` may run before it is stopped (default 30).
    pub password_command_timeout_seconds: Option<u64>,
    /// `password` (LOGIN / AUTH PLAIN), `xoauth2` or `oauthbearer` (RFC 7628).
    #[serde(default)]
    pub auth: crate::core::oauth::AuthMethod,
    /// For OAuth2: the argv of a command that prints an access token (run without a shell).
    pub oauth2_token_command: Option<Vec<String>>,
    /// Seconds the token command may take before it is stopped (default 30).
    pub oauth2_token_timeout_seconds: Option<u64>,
    pub ca_file: Option<PathBuf>,
}

/// `[reply]`: how replies are addressed, filed and signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyConfig {
    /// Copy every reply here; defaults to `[team] address`.
    pub cc: Option<String>,
    /// The IMAP mailbox a copy of each sent reply is appended to; defaults to `Sent`.
    pub sent_mailbox: Option<String>,
    pub signature: Option<String>,
    /// A reply to more addresses than this (To and Cc together) is refused unless the user
    /// confirms it or names the addresses with `secdesk reply --to`.
    #[serde(default = "default_max_recipients")]
    pub max_recipients: usize,
}

impl Default for ReplyConfig {
    fn default() -> Self {
        ReplyConfig {
            cc: None,
            sent_mailbox: None,
            signature: None,
            max_recipients: default_max_recipients(),
        }
    }
}

fn default_max_recipients() -> usize {
    5
}

/// `[sync]`: background sync in the desk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Seconds between polls when the server has no IDLE.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Seconds before a stalled connection is given up.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// A message larger than this is stored as its headers and a note; the whole message
    /// stays on the server.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: u64,
    /// The most one whole operation may take: a login, one fetch batch, one SMTP send.
    #[serde(default = "default_deadline_seconds")]
    pub deadline_seconds: u64,
    /// Mail that arrived before this date (YYYY-MM-DD) comes in closed, as history: resolved
    /// or spam, its clocks stopped, its class kept, left out of `stats` response times.
    #[serde(default, deserialize_with = "date")]
    pub historical_before: Option<chrono::NaiveDate>,
    /// The authserv-id(s) of the receiving server (RFC 8601 §2.2), one string or a list:
    /// only `Authentication-Results` fields from one of them are believed. Empty (unset):
    /// the topmost field is read and marked unverified (`core::parse::auth_results`).
    #[serde(default, deserialize_with = "one_or_many")]
    pub authserv_id: Vec<String>,
}

impl SyncConfig {
    /// The authserv-ids `authserv_id` names, trimmed and lowercase (RFC 8601 compares
    /// them without case); empty when unset.
    pub fn trusted_authserv_ids(&self) -> Vec<String> {
        self.authserv_id
            .iter()
            .map(|id| id.trim().to_ascii_lowercase())
            .collect()
    }
}

/// A TOML string or list of strings, as a list.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    OneOrMany::deserialize(d)
        .map(|v| match v {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        })
        .map_err(|_| {
            serde::de::Error::custom(
                "write the receiving server's authserv-id as a string, e.g. \"mx.example.org\", or a list of them, e.g. [\"mx1.example.org\", \"mx2.example.org\"]",
            )
        })
}

/// A TOML date, bare (`2026-01-01`) or quoted.
fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<chrono::NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateIn {
        Bare(toml::value::Datetime),
        Quoted(String),
    }
    let text = match DateIn::deserialize(d)? {
        DateIn::Bare(t) => t.to_string(),
        DateIn::Quoted(s) => s,
    };
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "{text:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-01"
            ))
        })
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            poll_seconds: default_poll_seconds(),
            timeout_seconds: default_timeout_seconds(),
            max_message_bytes: default_max_message_bytes(),
            deadline_seconds: default_deadline_seconds(),
            historical_before: None,
            authserv_id: Vec::new(),
        }
    }
}

fn default_imap_port() -> u16 {
    993
}
fn default_smtp_port() -> u16 {
    465
}
fn default_security() -> Security {
    Security::Tls
}
fn default_events_mailbox() -> String {
    "secdesk".to_string()
}
fn default_true() -> bool {
    true
}
fn default_mailbox() -> String {
    "INBOX".to_string()
}
fn default_ack_days() -> f64 {
    2.0
}
fn default_triage_days() -> f64 {
    10.0
}
fn default_close_days() -> f64 {
    90.0
}
fn default_deadline_seconds() -> u64 {
    600
}
fn default_max_message_bytes() -> u64 {
    50 * 1024 * 1024
}
fn default_poll_seconds() -> u64 {
    60
}
fn default_timeout_seconds() -> u64 {
    30
}

/// How long `password_command` may run when `password_command_timeout_seconds` is not set.
pub const DEFAULT_PASSWORD_COMMAND_TIMEOUT_SECONDS: u64 = 30;

impl Config {
    /// Reads and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::Missing {
                    path: path.to_path_buf(),
                })
            }
            Err(_) if path.is_dir() => {
                return Err(ConfigError::Folder {
                    path: path.to_path_buf(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: "it is not UTF-8 text: save it as UTF-8".to_string(),
                })
            }
            Err(source) => {
                return Err(ConfigError::Unreadable {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let config = Config::parse(&text, path)?;
        config.check_private(path)?;
        Ok(config)
    }

    /// A config that holds a password must not be readable by group or others.
    fn check_private(&self, path: &Path) -> Result<(), ConfigError> {
        use std::os::unix::fs::PermissionsExt;
        let holds_password = self.imap.as_ref().is_some_and(|i| i.password.is_some())
            || self.smtp.as_ref().is_some_and(|s| s.password.is_some())
            || self.mailman.as_ref().is_some_and(|m| m.password.is_some());
        if !holds_password {
            return Ok(());
        }
        let mode = std::fs::metadata(path)
            .map_err(|source| ConfigError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: format!(
                    "it holds a password but is readable by group or others (mode {:o}): run `chmod 600 {}`, or use password_command instead",
                    mode & 0o777,
                    path.display()
                ),
            });
        }
        Ok(())
    }

    /// Parses config text; `path` only names the file in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut config: Config =
            toml::from_str(text).map_err(|e| invalid(describe_toml_error(&e, text)))?;
        config.source = path.to_path_buf();
        config.default_ports(text);
        config.validate().map_err(invalid)?;
        let zone = config.stats.time_zone.clone();
        config
            .stats
            .set_time_zone(zone.as_deref())
            .map_err(invalid)?;
        config.anchor_paths();
        Ok(config)
    }

    /// `[pgp] gnupg_home` with `~` expanded and, when relative, taken from the config file's
    /// folder (as `ca_file` is), not from wherever secdesk runs.
    fn anchor_paths(&mut self) {
        let dir = self.dir();
        let anchor = |p: &Path| dir.join(expand_home(p));
        if let Some(pgp) = self.pgp.as_mut() {
            pgp.gnupg_home = anchor(&pgp.gnupg_home);
        }
        if let Some(imap) = self.imap.as_mut() {
            imap.ca_file = imap.ca_file.as_deref().map(anchor);
        }
        if let Some(smtp) = self.smtp.as_mut() {
            smtp.ca_file = smtp.ca_file.as_deref().map(anchor);
        }
    }

    /// A section without a `port` gets the standard one for its `security`: 993 (IMAPS) or
    /// 143 for IMAP, 465 (SMTPS), 587 (submission) or 25 for SMTP. The serde default alone
    /// is the TLS port, which would leave `security = "starttls"` waiting on 993 for a
    /// greeting that never comes.
    fn default_ports(&mut self, text: &str) {
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            return;
        };
        let given = |section: &str| {
            table
                .get(section)
                .and_then(toml::Value::as_table)
                .is_some_and(|t| t.contains_key("port"))
        };
        if let Some(imap) = self.imap.as_mut().filter(|_| !given("imap")) {
            imap.port = match imap.security {
                Security::Tls => 993,
                Security::Starttls | Security::Plain => 143,
            };
        }
        if let Some(smtp) = self.smtp.as_mut().filter(|_| !given("smtp")) {
            smtp.port = match smtp.security {
                Security::Tls => 465,
                Security::Starttls => 587,
                Security::Plain => 25,
            };
        }
    }

    /// The folder the config file sits in: overrides (rules, templates) are looked up here.
    pub fn dir(&self) -> PathBuf {
        self.source
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The database path: `[store] path`, else `$XDG_DATA_HOME/secdesk/secdesk.db`.
    pub fn store_path(&self) -> PathBuf {
        match &self.store.path {
            Some(p) => expand_home(p),
            None => default_data_dir().join("secdesk.db"),
        }
    }

    /// The team's address replies are copied to.
    pub fn team_address(&self) -> Option<&str> {
        self.reply.cc.as_deref().or(self.team.address.as_deref())
    }

    /// Finds a team member by email or by name (case-insensitive).
    pub fn member(&self, who: &str) -> Option<&Identity> {
        let who = who.trim();
        self.members()
            .into_iter()
            .find(|m| m.email.eq_ignore_ascii_case(who) || m.name.eq_ignore_ascii_case(who))
    }

    /// Whether triage events are shared through `[team] events_mailbox`: there is a
    /// `[team] members` list, an `[imap]` account and a folder name.
    pub fn team_sharing(&self) -> bool {
        !self.team.members.is_empty()
            && self.imap.is_some()
            && !self.team.events_mailbox.trim().is_empty()
    }

    /// My email as the team list spells it (the `[team]` entry matching `[identity]`,
    /// ignoring case), so `--mine` finds the reports assigned to me by name.
    pub fn my_email(&self) -> String {
        self.members()
            .into_iter()
            .find(|m| m.email.eq_ignore_ascii_case(&self.identity.email))
            .map_or_else(|| self.identity.email.clone(), |m| m.email.clone())
    }

    /// The team members, with `[identity]` included even when not listed.
    pub fn members(&self) -> Vec<&Identity> {
        let mut all: Vec<&Identity> = self.team.members.iter().collect();
        if !all
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(&self.identity.email))
        {
            all.push(&self.identity);
        }
        all
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod example_tests;
