//! Validation of a parsed config: the rules a config must meet before anything uses it
//! (a password source per account, plaintext only on loopback, a safe Mailman URL, positive
//! timeouts and clocks), each refusal one line naming the key and what to write instead.

use std::net::IpAddr;

use super::{Config, ImapConfig, MailmanConfig, Security, SmtpConfig};

impl Config {
    pub(super) fn validate(&self) -> Result<(), String> {
        if let Some(pgp) = &self.pgp {
            pgp.validate()?;
        }
        if let Some(imap) = &self.imap {
            validate_imap(imap)?;
        }
        if let Some(smtp) = &self.smtp {
            validate_smtp(smtp)?;
        }
        if let Some(mailman) = &self.mailman {
            check_mailman(mailman)?;
        }
        self.check_numbers()?;
        if !self.identity.email.contains('@') {
            return Err(format!(
                "key `identity.email` = {:?} is not an email address: write your own address, e.g. \"you@example.org\"",
                self.identity.email
            ));
        }
        self.check_addresses()?;
        self.check_authserv_ids()?;
        self.advisory.check_id_prefix()?;
        self.advisory.check_cve_fields()?;
        if self
            .store
            .path
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err("key `store.path` is empty: name the store's file, e.g. \"/srv/secdesk/secdesk.db\", or remove the key for the default".into());
        }
        for (what, days) in [
            ("clocks.acknowledge_days", self.clocks.acknowledge_days),
            ("clocks.triage_days", self.clocks.triage_days),
            ("clocks.close_days", self.clocks.close_days),
        ] {
            if !(days.is_finite() && days > 0.0 && days <= MAX_CLOCK_DAYS) {
                return Err(format!(
                    "key `{what}` = {days} must be a positive number of days, at most {MAX_CLOCK_DAYS} (100 years)"
                ));
            }
        }
        Ok(())
    }

    /// Every count of seconds or bytes within what the code can add to a clock or allocate:
    /// `Instant + Duration` panics past the platform's range, and 0 would mean "no time at
    /// all" where a time is needed. Each refusal names the key, the range and the default.
    fn check_numbers(&self) -> Result<(), String> {
        let sync = &self.sync;
        let seconds = |key: &str, value: Option<u64>, default: &'static str| {
            value.map(|v| (key.to_string(), v, MAX_SECONDS, default))
        };
        let mut checks = vec![
            seconds("sync.timeout_seconds", Some(sync.timeout_seconds), "30"),
            seconds("sync.deadline_seconds", Some(sync.deadline_seconds), "600"),
            seconds("sync.poll_seconds", Some(sync.poll_seconds), "60"),
            Some((
                "sync.max_message_bytes".to_string(),
                sync.max_message_bytes,
                u64::from(u32::MAX),
                "52428800",
            )),
            seconds(
                "pgp.timeout_seconds",
                self.pgp.as_ref().map(|p| p.timeout_seconds),
                "10",
            ),
        ];
        let commands = [
            (
                "imap",
                self.imap.as_ref().map(|i| {
                    (
                        i.password_command_timeout_seconds,
                        i.oauth2_token_timeout_seconds,
                    )
                }),
            ),
            (
                "smtp",
                self.smtp.as_ref().map(|s| {
                    (
                        s.password_command_timeout_seconds,
                        s.oauth2_token_timeout_seconds,
                    )
                }),
            ),
            (
                "mailman",
                self.mailman
                    .as_ref()
                    .map(|m| (m.password_command_timeout_seconds, None)),
            ),
        ];
        for (section, (password, token)) in commands
            .into_iter()
            .filter_map(|(section, t)| Some((section, t?)))
        {
            checks.push(seconds(
                &format!("{section}.password_command_timeout_seconds"),
                password,
                "30",
            ));
            checks.push(seconds(
                &format!("{section}.oauth2_token_timeout_seconds"),
                token,
                "30",
            ));
        }
        for (key, value, max, default) in checks.into_iter().flatten() {
            if !(1..=max).contains(&value) {
                return Err(format!(
                    "key `{key}` = {value} is out of range: give a whole number from 1 to {max} (the default is {default})"
                ));
            }
        }
        Ok(())
    }
}

impl Config {
    /// `[sync] authserv_id`: each one word, as it stands first in the receiving server's
    /// `Authentication-Results` fields.
    fn check_authserv_ids(&self) -> Result<(), String> {
        match self
            .sync
            .authserv_id
            .iter()
            .find(|id| !crate::core::parse::is_authserv_id(id))
        {
            Some(bad) => Err(format!(
                "key `sync.authserv_id` = {bad:?} is not an authserv-id: write the name your receiving server puts first in its Authentication-Results fields (before the first ';'), e.g. \"mx.example.org\", or remove the key"
            )),
            None => Ok(()),
        }
    }

    /// Addresses every reply goes to (the team's copy) or that name a member: a typo here
    /// would otherwise surface only when a reply is refused by the SMTP server.
    fn check_addresses(&self) -> Result<(), String> {
        let mut addresses: Vec<(String, &str)> = Vec::new();
        if let Some(a) = &self.team.address {
            addresses.push(("team.address".into(), a));
        }
        if let Some(a) = &self.reply.cc {
            addresses.push(("reply.cc".into(), a));
        }
        for (i, m) in self.team.members.iter().enumerate() {
            addresses.push((format!("team.members[{}].email", i + 1), &m.email));
        }
        // An empty `reply.cc` turns the team's copy off.
        for (key, address) in addresses.into_iter().filter(|(_, a)| !a.is_empty()) {
            let a = address.trim();
            let (local, domain) = a.rsplit_once('@').unwrap_or(("", ""));
            if local.is_empty() || domain.is_empty() || a.contains(char::is_whitespace) {
                return Err(format!(
                    "key `{key}` = {address:?} is not an email address: write one such as \"security@example.org\""
                ));
            }
        }
        Ok(())
    }
}

/// The longest any configured wait may be, in seconds (one day): a longer one is a typo,
/// and `Instant::now() + Duration` panics when the sum leaves the clock's range.
const MAX_SECONDS: u64 = 86_400;

/// The longest response target, in days: chrono's durations end near 292 billion years,
/// but a target past a century is a typo.
const MAX_CLOCK_DAYS: f64 = 36_500.0;

fn check_security(section: &str, host: &str, security: Security) -> Result<(), String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host.trim().is_empty() {
        return Err(format!(
            "key `{section}.host` is empty: name the server, e.g. \"mail.example.org\""
        ));
    }
    if bare.parse::<IpAddr>().is_err()
        && (host.contains([':', '/']) || host.contains(char::is_whitespace))
    {
        return Err(format!(
            "key `{section}.host` = {host:?} is not a host name: write the name alone (e.g. \"mail.example.org\"), the port in `{section}.port`, and no scheme or path"
        ));
    }
    if security == Security::Plain && !is_loopback(host) {
        return Err(format!(
            "key `{section}.security` = \"plain\" is refused for host {host:?}: plaintext is only allowed on loopback; use \"tls\" or \"starttls\""
        ));
    }
    Ok(())
}

/// Port 993 (IMAPS) and 465 (SMTPS, RFC 8314) speak TLS from the first byte: a client that
/// waits there for a plaintext greeting waits in silence until its timeout, which reads
/// like a network fault. Refused here instead, naming both keys.
fn check_tls_port(section: &str, port: u16, security: Security) -> Result<(), String> {
    let tls_port = match section {
        "imap" => 993,
        _ => 465,
    };
    if port == tls_port && security != Security::Tls {
        let name = match security {
            Security::Starttls => "starttls",
            _ => "plain",
        };
        return Err(format!(
            "key `{section}.security` = \"{name}\" does not fit `{section}.port` = {port}, which speaks TLS from the first byte (the server would never answer): use security = \"tls\", or the server's {} port",
            if section == "imap" { "STARTTLS (143)" } else { "submission (587)" }
        ));
    }
    Ok(())
}

fn check_password_source(
    section: &str,
    inline: bool,
    command: Option<&[String]>,
    env: Option<&str>,
    required: bool,
) -> Result<(), String> {
    let sources = inline as u8 + command.is_some() as u8 + env.is_some() as u8;
    if inline && sources > 1 {
        return Err(format!(
            "key `{section}.password` is set together with `{section}.password_command` or `{section}.password_env`: keep one"
        ));
    }
    if inline {
        return Ok(());
    }
    match (command, env) {
        (Some(_), Some(_)) => Err(format!(
            "keys `{section}.password_command` and `{section}.password_env` are both set: keep one"
        )),
        (Some([]), None) => Err(format!(
            "key `{section}.password_command` is empty: give the argv of a command that prints the password, e.g. [\"pass\", \"show\", \"mail/security\"]"
        )),
        (None, None) if required => Err(format!(
            "key `{section}.password_command` (or `{section}.password_env`) is missing: say how to get the password, e.g. password_command = [\"pass\", \"show\", \"mail/security\"]"
        )),
        _ => Ok(()),
    }
}

fn check_mailman(m: &MailmanConfig) -> Result<(), String> {
    let url = m.rest_url.trim();
    let Some((scheme, _)) = url.split_once("://") else {
        return Err(format!(
            "key `mailman.rest_url` = {url:?} is not a URL: write the REST root with its version, e.g. \"http://127.0.0.1:8001/3.1\""
        ));
    };
    let host = url_host(url).unwrap_or("");
    if host.is_empty() {
        return Err(format!(
            "key `mailman.rest_url` = {url:?} names no host: write e.g. \"http://127.0.0.1:8001/3.1\""
        ));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "key `mailman.rest_url` = {url:?} is plain http to {host:?}: the password would cross the network in the clear; use https, or an SSH tunnel to a loopback port"
            ))
        }
        _ => {
            return Err(format!(
                "key `mailman.rest_url` = {url:?} is not http or https: write e.g. \"http://127.0.0.1:8001/3.1\""
            ))
        }
    }
    if m.username.trim().is_empty() {
        return Err("key `mailman.username` is empty: name the REST API user (Mailman's [webservice] admin_user)".into());
    }
    check_password_source(
        "mailman",
        m.password.is_some(),
        m.password_command.as_deref(),
        m.password_env.as_deref(),
        true,
    )?;
    if m.lists.is_empty() {
        return Err("key `mailman.lists` is empty: name the lists to moderate, e.g. lists = [\"security@python.org\"]".into());
    }
    if let Some(bad) = m.lists.iter().find(|l| {
        let l = l.trim();
        l.is_empty() || l.contains(['/', '?', '#']) || l.contains(char::is_whitespace)
    }) {
        return Err(format!(
            "key `mailman.lists` has {bad:?}, which is not a list id or address: write e.g. \"security@python.org\" or \"security.python.org\""
        ));
    }
    check_positive("mailman", m.password_command_timeout_seconds)
}

fn check_positive(section: &str, timeout: Option<u64>) -> Result<(), String> {
    if timeout == Some(0) {
        return Err(format!(
            "key `{section}.password_command_timeout_seconds` = 0: give the number of seconds the command may run, e.g. 30"
        ));
    }
    Ok(())
}

/// The host of an `http(s)://[user@]host[:port]/…` URL, without brackets around IPv6.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next(),
        None => host_port.split(':').next(),
    }
}

/// True for `localhost`, 127.0.0.0/8 and ::1.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// Turns a toml error into one line: the key, the line number and what is expected.
pub(super) fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = plain_types(&e.message().trim().replace('\n', " "));
    let Some(span) = e.span() else {
        return message;
    };
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("").trim();
    // The section the line is in: the nearest `[name]` header at or above it.
    let section = text
        .lines()
        .take(line)
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .filter(|_| !l.starts_with("[["))
        })
        .last()
        .map(|s| s.trim().trim_matches('"').to_string());
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
    let full = |k: &str| match &section {
        Some(s) => format!("{s}.{k}"),
        None => k.to_string(),
    };
    if let Some(missing) = between(&message, "missing field `", "`") {
        // The span is the table that lacks it: a `[section]` header, an entry of a list
        // (`{ name = "Bob" }`), or the whole file when a section is missing.
        // An empty span at the start is the file's: a top-level section is missing, even when
        // the file's first byte opens a section (a section's own span is its header).
        let whole_file = span.is_empty() && start == 0;
        return match (&section, line_text.starts_with('[')) {
            _ if whole_file => format!("section [{missing}] is missing: add it"),
            (Some(s), true) => {
                format!("line {line}: key `{s}.{missing}` is missing: add it to [{s}]")
            }
            _ if start == 0 => format!("section [{missing}] is missing: add it"),
            _ => format!(
                "line {line}: key `{missing}` is missing in this entry{}: add it",
                key.map(|k| format!(" of `{}`", full(k)))
                    .unwrap_or_default()
            ),
        };
    }
    if let Some(unknown) = between(&message, "unknown field `", "`") {
        let expected: Vec<&str> = message
            .split("expected ")
            .nth(1)
            .unwrap_or("")
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        let hint = nearest(unknown, &expected)
            .map(|k| format!(": did you mean `{k}`?"))
            .unwrap_or_default();
        if line_text.starts_with('[') && section.as_deref() == Some(unknown) {
            let sections = expected.join("], [");
            return format!(
                "line {line}: unknown section [{unknown}]{hint} (the sections are [{sections}])"
            );
        }
        return format!(
            "line {line}: unknown key `{}`{hint} ({message})",
            full(unknown)
        );
    }
    if message.starts_with("duplicate key") {
        if let Some(said) = describe_twice(text, line, line_text, section.as_deref(), key) {
            return said;
        }
    }
    match key {
        Some(k) => format!("line {line}: key `{}`: {message}", full(k)),
        None => format!("line {line}: {message}"),
    }
}

/// A `[section]` header given twice, or a key given twice in one section: TOML keeps
/// neither, so say which and where the first one is.
fn describe_twice(
    text: &str,
    line: usize,
    line_text: &str,
    section: Option<&str>,
    key: Option<&str>,
) -> Option<String> {
    let first_said = |first: Option<usize>| {
        first
            .filter(|f| *f < line)
            .map(|f| format!(" (first on line {f})"))
            .unwrap_or_default()
    };
    if let (true, Some(s)) = (line_text.starts_with('['), section) {
        let first = first_line_of(text, |l| {
            l.strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .map(|n| n.trim().trim_matches('"'))
                == Some(s)
        });
        return Some(format!(
            "line {line}: section [{s}] is given twice{}: put its keys under one [{s}]",
            first_said(first)
        ));
    }
    let k = key?;
    let starts = |l: &str| {
        l.split_once('=')
            .map(|(name, _)| name.trim().trim_matches('"'))
            == Some(k)
    };
    let first = first_line_after_section(text, section, starts);
    let full = section.map_or_else(|| k.to_string(), |s| format!("{s}.{k}"));
    Some(format!(
        "line {line}: key `{full}` is given twice{}: keep one",
        first_said(first)
    ))
}

/// The number (from 1) of the first line, trimmed, that `is` accepts.
fn first_line_of(text: &str, is: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines().position(|l| is(l.trim())).map(|i| i + 1)
}

/// The number of the first line `is` accepts within the last `[section]` of that name
/// (or before any section when `section` is `None`).
fn first_line_after_section(
    text: &str,
    section: Option<&str>,
    is: impl Fn(&str) -> bool,
) -> Option<usize> {
    let mut current: Option<String> = None;
    let mut found = None;
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if let Some(name) = l.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = Some(name.trim().trim_matches('"').to_string());
            continue;
        }
        if current.as_deref() == section && is(l) && found.is_none() {
            found = Some(i + 1);
        }
    }
    found
}

/// The text between `open` and the next `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let rest = &text[text.find(open)? + open.len()..];
    Some(&rest[..rest.find(close)?])
}

/// The Rust type names serde writes, in the words a config's reader uses.
fn plain_types(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, plain) in [
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        (
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        (
            "expected usize",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        (
            "expected a sequence",
            "expected a list, like [\"a\", \"b\"]",
        ),
        ("expected a boolean", "expected true or false"),
    ] {
        if let Some(at) = out.find(rust) {
            // Only the whole word: `expected u16` but not `expected u16x`.
            let end = at + rust.len();
            if !out[end..].starts_with(|c: char| c.is_alphanumeric()) {
                out.replace_range(at..end, plain);
            }
        }
    }
    out
}

/// The name in `names` nearest to `typed`, when it is near enough to be a misspelling.
fn nearest<'a>(typed: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (edit_distance(typed, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// An OAuth2 login uses the token command alone: a password key beside it would be ignored
/// without a word, so it is refused, naming both ways out.
fn check_no_password_with_oauth(
    section: &str,
    auth: crate::core::oauth::AuthMethod,
    keys: [(&str, bool); 3],
) -> Result<(), String> {
    if auth == crate::core::oauth::AuthMethod::Password {
        return Ok(());
    }
    match keys.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(format!(
            "key `{section}.{key}` is set, but `{section}.auth` = \"{}\" logs in with the token from `{section}.oauth2_token_command` and would not use it: remove `{key}`, or set auth = \"password\"",
            auth.mechanism().unwrap_or_default().to_ascii_lowercase()
        )),
        None => Ok(()),
    }
}

/// The `[imap]` section's keys, each refusal naming its key.
fn validate_imap(imap: &ImapConfig) -> Result<(), String> {
    check_security("imap", &imap.host, imap.security)?;
    check_tls_port("imap", imap.port, imap.security)?;
    crate::core::oauth::check_config("imap", imap.auth, imap.oauth2_token_command.as_deref())?;
    check_no_password_with_oauth(
        "imap",
        imap.auth,
        [
            ("password", imap.password.is_some()),
            ("password_command", imap.password_command.is_some()),
            ("password_env", imap.password_env.is_some()),
        ],
    )?;
    check_password_source(
        "imap",
        imap.password.is_some(),
        imap.password_command.as_deref(),
        imap.password_env.as_deref(),
        imap.auth == crate::core::oauth::AuthMethod::Password,
    )?;
    check_positive("imap", imap.password_command_timeout_seconds)?;
    if imap.mailbox.trim().is_empty() {
        return Err("key `imap.mailbox` is empty: name a mailbox such as \"INBOX\"".into());
    }
    let mut seen = std::collections::HashSet::new();
    for name in &imap.mailboxes {
        if name.trim().is_empty() {
            return Err("key `imap.mailboxes` holds an empty name: list mailboxes such as [\"INBOX\", \"Moderation\"]".into());
        }
        if !seen.insert(name) {
            return Err(format!(
                "key `imap.mailboxes` lists {name:?} twice: list each mailbox once"
            ));
        }
    }
    Ok(())
}

/// The `[smtp]` section's keys, each refusal naming its key.
fn validate_smtp(smtp: &SmtpConfig) -> Result<(), String> {
    check_security("smtp", &smtp.host, smtp.security)?;
    check_tls_port("smtp", smtp.port, smtp.security)?;
    crate::core::oauth::check_config("smtp", smtp.auth, smtp.oauth2_token_command.as_deref())?;
    check_no_password_with_oauth(
        "smtp",
        smtp.auth,
        [
            ("password", smtp.password.is_some()),
            ("password_command", smtp.password_command.is_some()),
            ("password_env", smtp.password_env.is_some()),
        ],
    )?;
    if smtp.auth != crate::core::oauth::AuthMethod::Password && smtp.username.is_none() {
        return Err(
            "key `smtp.username` is missing: an OAuth2 login names the user the token is for"
                .into(),
        );
    }
    check_password_source(
        "smtp",
        smtp.password.is_some(),
        smtp.password_command.as_deref(),
        smtp.password_env.as_deref(),
        false,
    )?;
    check_positive("smtp", smtp.password_command_timeout_seconds)?;
    let has_password =
        smtp.password.is_some() || smtp.password_command.is_some() || smtp.password_env.is_some();
    if has_password && smtp.username.is_none() {
        return Err("key `smtp.username` is missing: a password is configured, so name the user to log in as".into());
    }
    Ok(())
}
