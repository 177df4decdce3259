//! Exports of a report's advisory: an OSV record, a CVE JSON 5.1 record, the body of
//! GitHub's create-repository-advisory request, and the security-announce mail.
//!
//! Each format first checks that the fields it needs are there; a report missing some is
//! refused with the whole list, so one `advisory --set` round fixes it.

pub mod cve;
pub mod ghsa;
pub mod osv;

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::fields::{is_commit_hash, parse_when};
use super::{Advisory, AdvisoryConfig};
use crate::core::model::{ReportId, ReportState};

/// The export formats (`export --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Osv,
    Cve,
    Ghsa,
    Announce,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Osv => "osv",
            Format::Cve => "cve",
            Format::Ghsa => "ghsa",
            Format::Announce => "announce",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        [Format::Osv, Format::Cve, Format::Ghsa, Format::Announce]
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| format!("no export format '{s}': choose osv, cve, ghsa or announce"))
    }
}

/// What to do about `missing`: advisory fields are set with `secdesk advisory`, config keys
/// (named `[section] key in the config`) in the config file.
fn how_to_set(id: ReportId, missing: &[String]) -> String {
    let in_config = |m: &&String| m.starts_with('[');
    let fields = missing.iter().filter(|m| !in_config(m)).count();
    let keys = missing.len() - fields;
    match (fields, keys) {
        (_, 0) => format!("set them with `secdesk advisory {id} --set KEY=VALUE`"),
        (0, _) => "add it to the config file (see config.example.toml)".into(),
        _ => format!(
            "set the fields with `secdesk advisory {id} --set KEY=VALUE` and the config key in the config file"
        ),
    }
}

/// Why an export was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("report #{id} cannot be exported as {format}: missing {}; {}", missing.join(", "), how_to_set(*id, missing))]
    Missing {
        id: ReportId,
        format: &'static str,
        missing: Vec<String>,
    },
    #[error("report #{id} cannot be exported as {format}: {problem}")]
    Unfit {
        id: ReportId,
        format: &'static str,
        problem: String,
    },
}

/// What an export needs besides the fields.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    pub id: ReportId,
    pub config: &'a AdvisoryConfig,
    /// `PREFIX-YYYY-N`.
    pub osv_id: String,
    /// RFC 3339.
    pub published: String,
    /// RFC 3339: when the fields last changed (never before `published`).
    pub modified: String,
    /// RFC 3339: when the team rejected the report after its OSV record was published
    /// (OSV `withdrawn`).
    pub withdrawn: Option<String>,
}

/// The affected range: versions of a package, or commits of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Commits (OSV `GIT`) rather than versions.
    pub git: bool,
    /// `0` when not set: affected from the start.
    pub introduced: String,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
}

/// The affected range, or the fields to set to have one.
pub fn range(a: &Advisory) -> Result<Range, Vec<String>> {
    let mut missing = Vec::new();
    if a.fixed.is_none() && a.last_affected.is_none() {
        missing.push("fixed (or last_affected)".to_string());
    }
    let values = [&a.introduced, &a.fixed, &a.last_affected];
    let set: Vec<&String> = values.iter().filter_map(|v| v.as_ref()).collect();
    let hashes = set.iter().filter(|v| is_commit_hash(v)).count();
    let introduced_zero = a.introduced.as_deref() == Some("0");
    let git = hashes > 0;
    if git && hashes + usize::from(introduced_zero) != set.len() {
        missing.push("introduced/fixed/last_affected all as commit hashes or all as versions (they are mixed)".to_string());
    }
    if git && a.repo.is_none() {
        missing.push("repo (the range is in commits)".to_string());
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    // OSV's GIT ranges take lower-case hashes only; git itself reads either.
    let end = |v: &Option<String>| {
        v.as_ref().map(|v| {
            if is_commit_hash(v) {
                v.to_ascii_lowercase()
            } else {
                v.clone()
            }
        })
    };
    Ok(Range {
        git,
        introduced: end(&a.introduced).unwrap_or_else(|| "0".into()),
        fixed: end(&a.fixed),
        last_affected: end(&a.last_affected),
    })
}

/// Refuses an affected range that ends twice: with `fixed` and `last_affected` both set, OSV
/// rejects the range, and the CVE and GitHub forms would quietly drop one of the two.
pub fn refuse_two_ends(id: ReportId, format: Format, a: &Advisory) -> Result<(), ExportError> {
    if a.fixed.is_some() && a.last_affected.is_some() {
        return Err(ExportError::Unfit {
            id,
            format: format.as_str(),
            problem: format!(
                "fixed and last_affected are both set, and an affected range ends at one of \
                 them: keep the true one with `secdesk advisory {id} --unset last_affected` \
                 (or `--unset fixed`)"
            ),
        });
    }
    Ok(())
}

/// Whether a report in `state` was rejected by the team (spam, invalid, duplicate).
pub fn is_rejected(state: ReportState) -> bool {
    matches!(
        state,
        ReportState::Spam | ReportState::Invalid | ReportState::Duplicate
    )
}

/// Refuses to publish what must not be published yet, or at all: an advisory for a report
/// the team rejected (spam, invalid, duplicate), and, while its embargo runs, the records
/// that announce it (`announce` goes to a public list; `osv` and `cve` are published records
/// whose `published` time would be the embargo's). The GHSA body makes a private draft, so
/// it is allowed under embargo, and so is any `draft`: a document made for the team's review,
/// that fixes nothing (no OSV id or published time) and is not sent (`announce` goes to a
/// file). A rejected report whose OSV record was already published (`osv_published`) is
/// exported as OSV once more, withdrawn.
pub fn refuse_unpublishable(
    id: ReportId,
    format: Format,
    state: ReportState,
    osv_published: bool,
    draft: bool,
    a: &Advisory,
    now: DateTime<Utc>,
) -> Result<(), ExportError> {
    let unfit = |problem: String| ExportError::Unfit {
        id,
        format: format.as_str(),
        problem,
    };
    if is_rejected(state) {
        if format == Format::Osv && osv_published {
            return Ok(());
        }
        let withdraw = match format {
            Format::Cve => "; a CVE record already published is rejected through CVE Services (cvelib's `cve reject`)",
            _ => "",
        };
        return Err(unfit(format!(
            "the report is closed as {state}: the team rejected it, so it has no advisory to \
             publish; reopen it with `secdesk state {id} triaged` if it is a vulnerability \
             after all{withdraw}"
        )));
    }
    if let (Some(until), false) = (embargo_ahead(a, now), format == Format::Ghsa || draft) {
        return Err(unfit(format!(
            "it is under embargo until {}, and this would publish it; export it once the \
             embargo ends, make a draft for the team's review with --draft (nothing is fixed \
             or sent), or lift the embargo with `secdesk advisory {id} --unset embargo_until` \
             (the GHSA body, a private draft, can be made now)",
            until.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    Ok(())
}

/// The end of the advisory's embargo, while it lies ahead of `now`.
pub fn embargo_ahead(a: &Advisory, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    a.embargo_until
        .as_deref()
        .and_then(parse_when)
        .filter(|until| *until > now)
}

/// `(ecosystem, name)` of the package field.
pub fn package(a: &Advisory) -> Option<(&str, &str)> {
    a.package.as_deref().and_then(|p| p.split_once(':'))
}

/// The names of unset fields among `wanted`, then what the affected range lacks.
pub fn missing_with_range(a: &Advisory, wanted: &[(&str, bool)]) -> Vec<String> {
    let mut missing = missing_of(wanted);
    if let Err(m) = range(a) {
        missing.extend(m);
    }
    missing
}

/// Collects the names of unset fields among `wanted`.
pub fn missing_of(wanted: &[(&str, bool)]) -> Vec<String> {
    wanted
        .iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Turns a list of missing fields into the refusal, or nothing when the list is empty.
pub fn refuse_missing(
    id: ReportId,
    format: Format,
    missing: Vec<String>,
) -> Result<(), ExportError> {
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ExportError::Missing {
            id,
            format: format.as_str(),
            missing,
        })
    }
}

/// A text field and the most characters a format's schema lets it hold (JSON Schema's
/// `maxLength` counts characters, not bytes).
pub struct Limit<'a> {
    /// The advisory field, as `secdesk advisory --set` names it.
    pub field: &'a str,
    pub value: Option<&'a str>,
    /// What the format calls it, e.g. "a CVE record's title".
    pub holds: &'a str,
    pub max: usize,
}

/// Refuses text longer than the format holds, naming each field, its length and the limit:
/// a record over a limit is rejected by the service it is sent to (CVE Services, GitHub).
pub fn refuse_too_long(
    id: ReportId,
    format: Format,
    limits: &[Limit<'_>],
) -> Result<(), ExportError> {
    refuse_over(id, format, too_long(limits))
}

/// Each field of `limits` over its limit, named with its length and the limit.
pub fn too_long(limits: &[Limit<'_>]) -> Vec<String> {
    limits
        .iter()
        .filter_map(|l| {
            let n = l.value?.chars().count();
            (n > l.max).then(|| {
                format!(
                    "{} is {n} characters and {} holds at most {}",
                    l.field, l.holds, l.max
                )
            })
        })
        .collect()
}

/// Refuses a record with anything more than its format holds (`over`: what, each said as
/// [`too_long`] says it), or nothing when `over` is empty.
pub fn refuse_over(id: ReportId, format: Format, over: Vec<String>) -> Result<(), ExportError> {
    if over.is_empty() {
        return Ok(());
    }
    Err(ExportError::Unfit {
        id,
        format: format.as_str(),
        problem: format!(
            "{}; shorten it with `secdesk advisory {id} --set KEY=VALUE` or `--edit`",
            over.join(", ")
        ),
    })
}

/// The kind of an OSV reference, guessed from its URL.
pub fn reference_type(url: &str) -> &'static str {
    if url.contains("/security/advisories/") || url.contains("/advisories/GHSA-") {
        "ADVISORY"
    } else if url.contains("/commit/") || url.contains("/pull/") {
        "FIX"
    } else if url.contains("/issues/") {
        "REPORT"
    } else {
        "WEB"
    }
}

#[cfg(test)]
mod missing_tests {
    use super::*;

    #[test]
    fn a_missing_config_key_points_at_the_config_file_not_at_advisory_set() {
        let err = |missing: &[&str]| {
            ExportError::Missing {
                id: 7,
                format: "cve",
                missing: missing.iter().map(|m| m.to_string()).collect(),
            }
            .to_string()
        };
        let only_key = err(&["[advisory] cna_org_id in the config"]);
        assert!(only_key.contains("add it to the config file"), "{only_key}");
        assert!(!only_key.contains("--set"), "{only_key}");
        let fields = err(&["details", "references"]);
        assert!(
            fields.ends_with("set them with `secdesk advisory 7 --set KEY=VALUE`"),
            "{fields}"
        );
        let both = err(&["details", "[advisory] cna_org_id in the config"]);
        assert!(
            both.contains("--set KEY=VALUE") && both.contains("config file"),
            "{both}"
        );
    }
}
