//! What every command that changes a report shares: the `--if-version` check against stale
//! views, the request stamped with my identity, and the one-line confirmation.

use std::str::FromStr;

use crate::core::config::Config;
use crate::core::model::ReportId;
use crate::core::sanitize::terminal_line;
use crate::core::triage::Request;

/// The stale-view check, flattened into every changing command.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct VersionCheck {
    /// Refuse the change if the report changed since you saw this version (`show` prints
    /// it); without it the change applies to the report as it is now.
    #[arg(long, value_name = "VERSION")]
    pub if_version: Option<i64>,
}

/// A change by `[identity] email`, now, checked against the version as asked.
pub fn request(config: &Config, check: &VersionCheck) -> Request {
    Request::new(config.identity.email.clone()).if_version(check.if_version)
}

/// Parses a word the user typed (a state, class or reason) into one line of error that lists
/// the accepted words; a word it does not know is a wrong command line (exit status 2).
pub fn parse<T: FromStr<Err = String>>(text: &str) -> anyhow::Result<T> {
    text.trim().parse().map_err(super::exit::usage)
}

/// Confirms a change on stdout: `report #3: new → acknowledged (version 2)`.
pub fn confirm(id: ReportId, what: &str, version: i64) {
    println!("report #{id}: {} (version {version})", terminal_line(what));
}

/// Says a change found the report already as asked.
pub fn unchanged(id: ReportId, what: &str, version: i64) {
    println!(
        "report #{id}: already {}, nothing changed (version {version})",
        terminal_line(what)
    );
}

/// `a` or `-` for an optional value.
pub fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}
