//! The body of GitHub's "create a repository security advisory" request
//! (`POST /repos/{owner}/{repo}/security-advisories`, REST API 2022-11-28).
//!
//! GitHub credits name GitHub logins: a credit whose name is not a login (it has spaces) is
//! left out and reported, so it can be added by hand.

use serde_json::{json, Map, Value};

use super::{
    missing_with_range, package, range, refuse_missing, refuse_too_long, ExportError, Format,
    Limit, Meta,
};
use crate::core::advisory::Advisory;

/// The request body, and notes on what was left out.
pub fn body(a: &Advisory, meta: &Meta<'_>) -> Result<(Value, Vec<String>), ExportError> {
    let missing = missing_with_range(
        a,
        &[
            ("summary", a.summary.is_some()),
            ("details", a.details.is_some()),
            ("package", a.package.is_some()),
            ("cvss", a.cvss.is_some()),
        ],
    );
    let range = range(a);
    refuse_missing(meta.id, Format::Ghsa, missing)?;
    super::refuse_two_ends(meta.id, Format::Ghsa, a)?;
    refuse_too_long(meta.id, Format::Ghsa, &limits(a))?;
    let (Ok(range), Some((ecosystem, name)), Some(severity)) = (range, package(a), a.severity())
    else {
        // All were checked just above.
        return Err(ExportError::Unfit {
            id: meta.id,
            format: "ghsa",
            problem: "the fields could not be read".into(),
        });
    };
    if range.git {
        return Err(ExportError::Unfit {
            id: meta.id,
            format: "ghsa",
            problem: "GitHub advisories take versions, not commits: set introduced/fixed/last_affected as versions".into(),
        });
    }

    let mut vulnerability = Map::new();
    vulnerability.insert(
        "package".into(),
        json!({ "ecosystem": ghsa_ecosystem(ecosystem), "name": name }),
    );
    let lower = if range.introduced == "0" {
        String::new()
    } else {
        format!(">= {}, ", range.introduced)
    };
    let vulnerable = match (&range.fixed, &range.last_affected) {
        (Some(f), _) => format!("{lower}< {f}"),
        (None, Some(l)) => format!("{lower}<= {l}"),
        (None, None) => String::new(),
    };
    vulnerability.insert("vulnerable_version_range".into(), json!(vulnerable));
    vulnerability.insert("patched_versions".into(), json!(range.fixed));
    vulnerability.insert("vulnerable_functions".into(), json!([]));

    let mut notes = Vec::new();
    let mut credits = Vec::new();
    for c in &a.credits {
        let login = c.name.trim_start_matches('@');
        if is_login(login) {
            credits.push(json!({ "login": login, "type": c.kind }));
        } else {
            notes.push(format!(
                "credit {:?} ({}) is not a GitHub login: add it on the advisory page by hand",
                c.name, c.kind
            ));
        }
    }
    let mut body = Map::new();
    body.insert("summary".into(), json!(a.summary));
    body.insert("description".into(), json!(a.details));
    body.insert(
        "vulnerabilities".into(),
        json!([Value::Object(vulnerability)]),
    );
    body.insert("cve_id".into(), json!(a.cve));
    body.insert("cwe_ids".into(), json!(a.cwe.iter().collect::<Vec<_>>()));
    body.insert("credits".into(), json!(credits));
    body.insert("cvss_vector_string".into(), json!(severity.vector));
    Ok((Value::Object(body), notes))
}

/// A GitHub login: letters, digits and single inner hyphens, at most 39 characters.
fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// GitHub's name for an OSV ecosystem.
fn ghsa_ecosystem(osv: &str) -> &'static str {
    match osv {
        "PyPI" => "pip",
        "npm" => "npm",
        "crates.io" => "rust",
        "Go" => "go",
        "Maven" => "maven",
        "NuGet" => "nuget",
        "Packagist" => "composer",
        "RubyGems" => "rubygems",
        "Hex" => "erlang",
        "Pub" => "pub",
        "SwiftURL" => "swift",
        "GitHub Actions" => "actions",
        _ => "other",
    }
}

/// The `maxLength` of GitHub's REST description for the fields this body carries as text.
fn limits(a: &Advisory) -> [Limit<'_>; 2] {
    [
        Limit {
            field: "summary",
            value: a.summary.as_deref(),
            holds: "a GitHub advisory's summary",
            max: 1024,
        },
        Limit {
            field: "details",
            value: a.details.as_deref(),
            holds: "a GitHub advisory's description",
            max: 65_535,
        },
    ]
}
