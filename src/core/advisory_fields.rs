//! The advisory fields of a report: their names (a contract: `advisory --set KEY=VALUE`,
//! `--json`, the form and the `advisory:KEY` audit events all use them), how each value is
//! written and checked, and the CVSS score.
//!
//! Formats follow what the exports need: CVE ids as in CVE JSON 5.1 (`CVE-YYYY-NNNN`), GHSA
//! ids and credit types as GitHub's repository-advisory API takes them, packages as an OSV
//! ecosystem and name (`PyPI:pip`), CVSS vectors as FIRST writes them (v4.0 or v3.1).
//!
//! A leaf below `core::advisory` (which re-exports it as `advisory::fields`), so the team
//! log can apply a remote field without importing the advisory's actions.

use std::str::FromStr;

mod record;
pub use record::Advisory;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One advisory field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Component,
    Package,
    Repo,
    Introduced,
    Fixed,
    LastAffected,
    Cvss,
    Cwe,
    Cve,
    Ghsa,
    Summary,
    Details,
    References,
    Credits,
    EmbargoUntil,
    Notified,
}

impl Key {
    pub const ALL: [Key; 16] = [
        Key::Component,
        Key::Package,
        Key::Repo,
        Key::Introduced,
        Key::Fixed,
        Key::LastAffected,
        Key::Cvss,
        Key::Cwe,
        Key::Cve,
        Key::Ghsa,
        Key::Summary,
        Key::Details,
        Key::References,
        Key::Credits,
        Key::EmbargoUntil,
        Key::Notified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Key::Component => "component",
            Key::Package => "package",
            Key::Repo => "repo",
            Key::Introduced => "introduced",
            Key::Fixed => "fixed",
            Key::LastAffected => "last_affected",
            Key::Cvss => "cvss",
            Key::Cwe => "cwe",
            Key::Cve => "cve",
            Key::Ghsa => "ghsa",
            Key::Summary => "summary",
            Key::Details => "details",
            Key::References => "references",
            Key::Credits => "credits",
            Key::EmbargoUntil => "embargo_until",
            Key::Notified => "notified",
        }
    }

    /// List fields: `--set` adds to them.
    pub fn is_list(self) -> bool {
        matches!(self, Key::References | Key::Credits | Key::Notified)
    }

    /// How a value is written, for help and errors.
    pub fn hint(self) -> &'static str {
        match self {
            Key::Component => "CPython, pip, python.org or any name",
            Key::Package => "ECOSYSTEM:NAME, e.g. PyPI:pip",
            Key::Repo => "the repository URL, e.g. https://github.com/python/cpython",
            Key::Introduced => "a version, 0 for \"from the start\", or a full 40-hex commit hash",
            Key::Fixed | Key::LastAffected => "a version or a full 40-hex commit hash",
            Key::Cvss => "a CVSS:4.0/… or CVSS:3.1/… vector",
            Key::Cwe => "CWE-NNN",
            Key::Cve => "CVE-YYYY-NNNN",
            Key::Ghsa => "GHSA-xxxx-xxxx-xxxx",
            Key::Summary => "one line",
            Key::Details => "text",
            Key::References => "an http(s) URL",
            Key::Credits => "NAME:TYPE, e.g. Lukas Brenner:finder",
            Key::EmbargoUntil => "a date YYYY-MM-DD or an RFC 3339 time",
            Key::Notified => "WHO or WHO:DATE (DATE YYYY-MM-DD or RFC 3339; now if left out)",
        }
    }
}

impl FromStr for Key {
    type Err = String;
    fn from_str(s: &str) -> Result<Key, String> {
        let s = s.trim();
        Key::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("no advisory field '{s}': the fields are {}", key_names()))
    }
}

/// The field names, comma-separated.
pub fn key_names() -> String {
    let names: Vec<&str> = Key::ALL.iter().map(|k| k.as_str()).collect();
    names.join(", ")
}

/// GHSA credit types (GitHub's repository-advisory API), as OSV also has them in upper case.
pub const CREDIT_TYPES: [&str; 10] = [
    "analyst",
    "finder",
    "reporter",
    "coordinator",
    "remediation_developer",
    "remediation_reviewer",
    "remediation_verifier",
    "tool",
    "sponsor",
    "other",
];

/// The OSV ecosystems (OSV schema 1.7 `ecosystemName`), as OSV spells them.
pub const ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpaquita",
    "Alpine",
    "Android",
    "Azure Linux",
    "BellSoft Hardened Containers",
    "Bioconductor",
    "Bitnami",
    "Chainguard",
    "CleanStart",
    "ConanCenter",
    "CRAN",
    "crates.io",
    "Debian",
    "Docker Hardened Images",
    "Echo",
    "FreeBSD",
    "GHC",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Julia",
    "Kubernetes",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "npm",
    "NuGet",
    "opam",
    "openEuler",
    "openSUSE",
    "OSS-Fuzz",
    "Packagist",
    "Photon OS",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "Root",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "TuxCare",
    "Ubuntu",
    "VSCode",
    "Wolfi",
];

/// A credit: who, and for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Who was told about the issue under embargo, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notified {
    pub who: String,
    /// RFC 3339.
    pub at: String,
}

/// A checked single value, or one entry of a list field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Credit(Credit),
    Notified(Notified),
}

/// Checks and normalises a value typed for `key`; `now` stamps a `notified` without a date.
/// The error says what is wrong and how the value is written.
pub fn parse_value(key: Key, raw: &str, now: DateTime<Utc>) -> Result<Value, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(format!(
            "{} is empty: write {} (or use --unset {0})",
            key.as_str(),
            key.hint()
        ));
    }
    if key != Key::Details && v.contains(['\n', '\r']) {
        return Err(format!("{} must be one line", key.as_str()));
    }
    if let Some(c) = v.chars().find(|&c| !is_publishable(c)) {
        return Err(format!(
            "{} holds U+{:04X}, a control character or an invisible one (a bidi override, a \
             zero-width character …) that would act on a terminal or hide text from readers of \
             the advisory: remove it",
            key.as_str(),
            c as u32
        ));
    }
    let bad = |why: &str| Err(rejected(key, v, why));
    let text = |s: String| Ok(Value::Text(s));
    match key {
        Key::Component | Key::Summary | Key::Details => text(v.to_string()),
        Key::Package => normalize_package(v).map(Value::Text),
        Key::Repo | Key::References => {
            if is_url(v) {
                text(v.to_string())
            } else {
                bad("is not an http(s) URL")
            }
        }
        Key::Introduced | Key::Fixed | Key::LastAffected => {
            version(v).map_err(|why| rejected(key, v, why))
        }
        Key::Cvss => Severity::of(v).map(|s| Value::Text(s.vector)),
        Key::Cwe => match cwe_id(v) {
            Some(id) => text(id),
            None => bad("is not a CWE id"),
        },
        Key::Cve => {
            let up = v.to_ascii_uppercase();
            if is_cve_id(&up) {
                text(up)
            } else {
                bad("is not a CVE id")
            }
        }
        Key::Ghsa => {
            if is_ghsa_id(v) {
                text(v.to_string())
            } else {
                bad("is not a GHSA id")
            }
        }
        Key::Credits => parse_credit(v).map(Value::Credit),
        Key::EmbargoUntil => match parse_when(v) {
            Some(_) => text(v.to_string()),
            None => bad("is not a date"),
        },
        Key::Notified => match parse_notified(v, now) {
            // A notification is recorded once it was sent: a date to come (2062 for 2026)
            // would silence the embargo's 14-day warning, which counts from it.
            Some(n)
                if crate::core::store::parse_timestamp(&n.at)
                    .is_some_and(|at| at > now + chrono::Duration::days(1)) =>
            {
                bad("is dated in the future: record a notification once it was sent")
            }
            Some(n) => Ok(Value::Notified(n)),
            None => bad("names nobody"),
        },
    }
}

/// One end of the affected range: a version or a full commit hash (lower-cased, as OSV's GIT
/// ranges want them), or why not.
fn version(v: &str) -> Result<Value, &'static str> {
    if v.contains(char::is_whitespace) {
        Err("has spaces")
    } else if v.contains(['<', '>', '=', '!', '~', ',', '*', '^']) {
        // One version each: the exports write the range around it (GHSA's `>= 1.0, < 2.0`),
        // so `>=1.0` became `>= >=1.0`.
        Err("is a range or a pattern, not one version: give the version alone (introduced, fixed, last_affected are the range's ends)")
    } else if looks_like_short_hash(v) {
        Err("looks like a shortened commit hash; give the full 40-character hash")
    } else if is_commit_hash(v) {
        Ok(Value::Text(v.to_ascii_lowercase()))
    } else {
        Ok(Value::Text(v.to_string()))
    }
}

/// True for a character an advisory may carry: it goes out in exports, mails and records
/// that others print, so nothing that acts on a terminal (C0 and C1 controls, DEL) or
/// hides text ([`is_hidden`](crate::core::sanitize::is_hidden)); only line breaks and tabs
/// (in `details`) among the controls.
fn is_publishable(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\t') || !(c.is_control() || crate::core::sanitize::is_hidden(c))
}

/// The error for a value `key` cannot hold: the value, what is wrong, and how it is written.
fn rejected(key: Key, v: &str, why: &str) -> String {
    format!("{} {v:?} {why}: write {}", key.as_str(), key.hint())
}

/// A `package` value, `ECOSYSTEM:NAME`, with the ecosystem spelled as OSV spells it.
fn normalize_package(v: &str) -> Result<String, String> {
    match v.split_once(':') {
        Some((eco, name)) if !name.trim().is_empty() => {
            let eco = eco.trim();
            match ECOSYSTEMS.iter().find(|e| e.eq_ignore_ascii_case(eco)) {
                Some(known) => Ok(format!("{known}:{}", name.trim())),
                None => Err(format!(
                    "package {v:?}: unknown ecosystem {eco:?}: use an OSV ecosystem such as PyPI, npm, crates.io, Go, Maven (or set component for what is not a package)"
                )),
            }
        }
        _ => Err(rejected(Key::Package, v, "is not ECOSYSTEM:NAME")),
    }
}

/// A CWE id as `CWE-NNN`, from `CWE-NNN`, `cwe-NNN` or the bare number.
fn cwe_id(v: &str) -> Option<String> {
    let digits = v
        .strip_prefix("CWE-")
        .or_else(|| v.strip_prefix("cwe-"))
        .unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // CVE JSON 5 takes `CWE-[1-9][0-9]*`: `CWE-079` is CWE-79, and there is no CWE-0.
    let digits = digits.trim_start_matches('0');
    (!digits.is_empty()).then(|| format!("CWE-{digits}"))
}

/// A `credits` value, `NAME:TYPE`, with TYPE one of [`CREDIT_TYPES`].
fn parse_credit(v: &str) -> Result<Credit, String> {
    let Some((name, kind)) = v.rsplit_once(':') else {
        return Err(format!(
            "credits {v:?} has no type: write NAME:TYPE, TYPE one of {}",
            CREDIT_TYPES.join(", ")
        ));
    };
    let kind = kind.trim().to_ascii_lowercase();
    if !CREDIT_TYPES.contains(&kind.as_str()) || name.trim().is_empty() {
        return Err(format!(
            "credits {v:?}: write NAME:TYPE, TYPE one of {}",
            CREDIT_TYPES.join(", ")
        ));
    }
    Ok(Credit {
        name: name.trim().to_string(),
        kind,
    })
}

/// A `notified` value, `WHO[:DATE]`, stamped `now` without a date; `None` when it names nobody.
fn parse_notified(v: &str, now: DateTime<Utc>) -> Option<Notified> {
    // WHO:DATE, where WHO may itself hold colons (a list's address, `mailto:`).
    let mut found = None;
    for (i, _) in v.match_indices(':') {
        if let Some(at) = parse_when(&v[i + 1..]) {
            found = Some((v[..i].trim(), at));
            break;
        }
    }
    let (who, at) = found.unwrap_or((v, now));
    if who.is_empty() {
        return None;
    }
    Some(Notified {
        who: who.to_string(),
        at: crate::core::store::timestamp(at),
    })
}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
pub fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    crate::core::store::parse_timestamp(s)
}

fn is_url(v: &str) -> bool {
    (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() > "https://".len()
        && !v.contains(char::is_whitespace)
}

/// A full git commit hash (SHA-1 or SHA-256).
pub fn is_commit_hash(v: &str) -> bool {
    (v.len() == 40 || v.len() == 64) && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn looks_like_short_hash(v: &str) -> bool {
    (7..40).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_hexdigit())
        && v.bytes().any(|b| b.is_ascii_alphabetic())
}

fn is_cve_id(v: &str) -> bool {
    let mut parts = v.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(y), Some(n), None)
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())
                && (4..=19).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
    )
}

fn is_ghsa_id(v: &str) -> bool {
    const ALPHABET: &[u8] = b"23456789cfghjmpqrvwx";
    let mut parts = v.split('-');
    parts.next() == Some("GHSA")
        && (0..3).all(|_| {
            parts
                .next()
                .is_some_and(|p| p.len() == 4 && p.bytes().all(|b| ALPHABET.contains(&b)))
        })
        && parts.next().is_none()
}

/// A CVSS vector's version, score and rating, computed by RustSec's `cvss` crate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Severity {
    /// "4.0" or "3.1".
    pub version: &'static str,
    pub vector: String,
    pub score: f64,
    /// none, low, medium, high or critical.
    pub rating: &'static str,
}

impl Severity {
    /// Scores a vector; only CVSS v4.0 and v3.1 are taken.
    pub fn of(vector: &str) -> Result<Severity, String> {
        let parsed = cvss::Cvss::from_str(vector.trim()).map_err(|e| {
            format!("cvss {vector:?} is not a valid CVSS vector ({e}): write a CVSS:4.0/… or CVSS:3.1/… vector")
        })?;
        let version = match parsed {
            cvss::Cvss::CvssV40(_) => "4.0",
            cvss::Cvss::CvssV31(_) => "3.1",
            _ => {
                return Err(format!(
                "cvss {vector:?} is an older CVSS version: write a CVSS:4.0/… or CVSS:3.1/… vector"
            ))
            }
        };
        // The crate scores a vector missing base metrics; a published score needs them all.
        let base: &[&str] = if version == "4.0" {
            &[
                "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
            ]
        } else {
            &["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
        };
        let present: Vec<&str> = vector
            .trim()
            .split('/')
            .filter_map(|m| m.split_once(':').map(|(k, _)| k))
            .collect();
        let absent: Vec<&str> = base
            .iter()
            .copied()
            .filter(|m| !present.contains(m))
            .collect();
        if !absent.is_empty() {
            return Err(format!(
                "cvss {vector:?} lacks the base metric{} {}: write the whole base vector",
                if absent.len() == 1 { "" } else { "s" },
                absent.join(", ")
            ));
        }
        // OSV's and CVE JSON 5's schemas take a v4.0 vector only with its metrics in the
        // specification's order, which the crate writes whatever order it read.
        let vector = match parsed {
            cvss::Cvss::CvssV40(_) => parsed.to_string(),
            _ => vector.trim().to_string(),
        };
        Ok(Severity {
            version,
            vector,
            score: (parsed.score() * 10.0).round() / 10.0,
            rating: parsed.severity().as_str(),
        })
    }
}
