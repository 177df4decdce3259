//! The advisory's mails, from templates in `assets/templates/` (overridable by a file of the
//! same name in the config directory's `templates/`): the security-announce mail
//! (`export --format announce`) and the embargoed notification to distributors
//! (`notice --template embargo`). Both then go through the reply's preview, outbox and send.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::export::{is_rejected, missing_of, missing_with_range, range};
use super::Advisory;
use crate::core::model::{ReportId, ReportState};

const SHIPPED: &[(&str, &str)] = &[
    (
        "announce",
        include_str!("../../../assets/templates/announce.txt"),
    ),
    (
        "embargo",
        include_str!("../../../assets/templates/embargo.txt"),
    ),
];

/// Why an advisory mail could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no advisory template '{0}': choose announce or embargo")]
    NoTemplate(String),
    #[error("cannot read the template {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("template {path}: unknown placeholder {{{name}}}: the placeholders are {known}")]
    Placeholder {
        path: String,
        name: String,
        known: String,
    },
    #[error("report #{id} has no {what} yet: missing {}; set them with `secdesk advisory {id} --set KEY=VALUE`", missing.join(", "))]
    Missing {
        id: ReportId,
        what: &'static str,
        missing: Vec<String>,
    },
    #[error("report #{id}: no {what} for it: the report is closed as {state}, so the team rejected it and it has no advisory to tell anyone of; reopen it with `secdesk state {id} triaged` if it is a vulnerability after all")]
    Rejected {
        id: ReportId,
        what: &'static str,
        state: ReportState,
    },
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
}

/// A mail's subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    pub subject: String,
    pub body: String,
}

/// What the report's history says: its timeline and the reporter's first mail.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub reported: String,
    pub fixed_at: Option<String>,
    pub disclosed_at: Option<String>,
    pub first_mail: String,
}

/// Reads the timeline from the audit log and the first incoming message.
pub fn facts(conn: &Connection, id: ReportId) -> Result<Facts, MailError> {
    let first_into = |states: &str| -> Result<Option<String>, rusqlite::Error> {
        conn.query_row(
            &format!(
                "SELECT min(at) FROM events WHERE report_id = ?1 AND kind = 'state'
                 AND after IN ({states})"
            ),
            [id],
            |r| r.get(0),
        )
    };
    Ok(Facts {
        reported: conn
            .query_row("SELECT created_at FROM reports WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or_default(),
        fixed_at: first_into("'resolved', 'disclosed'")?,
        disclosed_at: first_into("'disclosed'")?,
        first_mail: conn
            .query_row(
                "SELECT secdesk_body(body, pgp, raw) FROM messages WHERE report_id = ?1 AND direction = 'in'
                 ORDER BY received_at, id LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default(),
    })
}

/// The security-announce mail. Needs a summary, details and the fixed range.
pub fn announce(
    id: ReportId,
    a: &Advisory,
    my_name: &str,
    config_dir: &Path,
) -> Result<MailText, MailError> {
    let missing = missing_with_range(
        a,
        &[
            ("summary", a.summary.is_some()),
            ("details", a.details.is_some()),
            ("cvss", a.cvss.is_some()),
        ],
    );
    refuse(id, "announcement", missing)?;
    let values = values(a, &Facts::default(), my_name);
    let body = render("announce", config_dir, &values)?;
    Ok(MailText {
        subject: subject(a, "Security advisory"),
        body,
    })
}

/// Refuses the embargoed notification for a report in `state` that the team rejected (spam,
/// invalid, duplicate), as `export` refuses its records (`export::refuse_unpublishable`):
/// telling distributors of a vulnerability the team found none in misleads them.
pub fn refuse_rejected_notice(id: ReportId, state: ReportState) -> Result<(), MailError> {
    if is_rejected(state) {
        return Err(MailError::Rejected {
            id,
            what: "embargo notice",
            state,
        });
    }
    Ok(())
}

/// The embargoed notification to distributors. Needs a summary and the embargo's end.
pub fn embargo_notice(
    id: ReportId,
    a: &Advisory,
    facts: &Facts,
    my_name: &str,
    config_dir: &Path,
) -> Result<MailText, MailError> {
    let missing = missing_of(&[
        ("summary", a.summary.is_some()),
        ("embargo_until", a.embargo_until.is_some()),
    ]);
    refuse(id, "embargo notice", missing)?;
    let values = values(a, facts, my_name);
    let body = render("embargo", config_dir, &values)?;
    Ok(MailText {
        subject: subject(
            a,
            &format!(
                "[EMBARGOED until {}]",
                a.embargo_until.as_deref().unwrap_or_default()
            ),
        ),
        body,
    })
}

fn refuse(id: ReportId, what: &'static str, missing: Vec<String>) -> Result<(), MailError> {
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MailError::Missing { id, what, missing })
    }
}

fn subject(a: &Advisory, lead: &str) -> String {
    let summary = crate::core::reply::flatten(a.summary.as_deref().unwrap_or_default());
    match &a.cve {
        Some(cve) => format!("{lead} {cve}: {summary}"),
        None => format!("{lead}: {summary}"),
    }
}

fn or<'a>(v: &'a Option<String>, default: &'a str) -> &'a str {
    v.as_deref().unwrap_or(default)
}

/// The value of each template placeholder.
fn values(a: &Advisory, f: &Facts, my_name: &str) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    v.insert("summary", or(&a.summary, "").to_string());
    v.insert("details", or(&a.details, "").trim_end().to_string());
    v.insert("cve", or(&a.cve, "not yet assigned").to_string());
    v.insert(
        "cve_line",
        a.cve
            .as_ref()
            .map(|c| format!("CVE: {c}"))
            .unwrap_or_default(),
    );
    v.insert("affected", affected(a));
    v.insert("fixed", or(&a.fixed, "not yet fixed").to_string());
    v.insert("severity", severity(a));
    v.insert("credits", credits(a));
    v.insert("references", lines(a.references.iter().map(|s| s.as_str())));
    v.insert("remediation", remediation(a));
    v.insert("embargo_until", or(&a.embargo_until, "").to_string());
    v.insert("reproducer", reproducer(&f.first_mail));
    v.insert("reported", f.reported.clone());
    v.insert("fixed_at", or(&f.fixed_at, "not yet").to_string());
    v.insert("disclosed", disclosed(a, f));
    v.insert("my_name", my_name.to_string());
    v
}

/// `{affected}`: what is affected and which versions, or "not yet known".
fn affected(a: &Advisory) -> String {
    let Ok(r) = range(a) else {
        return "not yet known".into();
    };
    let what = a
        .package
        .clone()
        .or_else(|| a.component.clone())
        .or_else(|| a.repo.clone())
        .unwrap_or_default();
    let from = if r.introduced == "0" {
        "all versions".to_string()
    } else {
        format!("from {}", r.introduced)
    };
    match (&r.fixed, &r.last_affected) {
        (Some(fx), _) => format!("{what}: {from} before {fx}"),
        (None, Some(l)) => format!("{what}: {from} up to and including {l}"),
        (None, None) => format!("{what}: {from}"),
    }
}

/// `{severity}`: score, rating and vector, or "not yet scored".
fn severity(a: &Advisory) -> String {
    match a.severity() {
        Some(s) => format!(
            "{} ({}), CVSS {} {}",
            s.score, s.rating, s.version, s.vector
        ),
        None => "not yet scored".into(),
    }
}

/// `{credits}`: one `NAME (type)` a line, or `-`.
fn credits(a: &Advisory) -> String {
    let credits: Vec<String> = a
        .credits
        .iter()
        .map(|c| format!("{} ({})", c.name, c.kind.replace('_', " ")))
        .collect();
    if credits.is_empty() {
        "-".into()
    } else {
        credits.join("\n")
    }
}

/// `{remediation}`: the version to upgrade to and the fix's references, as far as known.
fn remediation(a: &Advisory) -> String {
    let fixes: Vec<&String> = a
        .references
        .iter()
        .filter(|u| super::export::reference_type(u) == "FIX")
        .collect();
    match (&a.fixed, fixes.is_empty()) {
        (Some(fx), true) => format!("Upgrade to {fx} or later."),
        (Some(fx), false) => format!(
            "Upgrade to {fx} or later. The fix:\n{}",
            lines(fixes.iter().map(|s| s.as_str()))
        ),
        (None, false) => format!("The fix:\n{}", lines(fixes.iter().map(|s| s.as_str()))),
        (None, true) => "No fix is available yet.".into(),
    }
}

/// `{reproducer}`: the reporter's first mail quoted, to trim before sending. It is mail
/// text going out to other people, so it is quoted as a reply quotes
/// ([`quoted_text`](crate::core::sanitize::quoted_text)): no control character (an escape
/// sequence keeps its words, loses its ESC), hidden and bidi characters as `<U+XXXX>`.
fn reproducer(first_mail: &str) -> String {
    let quoted: String = crate::core::sanitize::quoted_text(first_mail)
        .trim()
        .lines()
        .map(|l| format!("> {l}\n"))
        .collect();
    if quoted.is_empty() {
        "(none attached)".into()
    } else {
        format!(
            "From the report (trim before sending):\n{}",
            quoted.trim_end()
        )
    }
}

/// `{disclosed}`: when it was disclosed, or when that is planned.
fn disclosed(a: &Advisory, f: &Facts) -> String {
    match (&f.disclosed_at, &a.embargo_until) {
        (Some(at), _) => at.clone(),
        (None, Some(until)) => format!("planned for {until}"),
        (None, None) => "not yet".into(),
    }
}

fn lines<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = items.collect();
    if all.is_empty() {
        "-".into()
    } else {
        all.join("\n")
    }
}

/// Fills `{placeholder}`s; an unknown one is an error naming the template.
fn render(
    name: &str,
    config_dir: &Path,
    values: &BTreeMap<&'static str, String>,
) -> Result<String, MailError> {
    let path = config_dir.join("templates").join(format!("{name}.txt"));
    let (text, origin) = match std::fs::read_to_string(&path) {
        Ok(t) => (t, path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let shipped = SHIPPED
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| MailError::NoTemplate(name.to_string()))?;
            (shipped.1.to_string(), format!("{name} (shipped)"))
        }
        Err(source) => {
            return Err(MailError::Unreadable {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        out += &rest[..open];
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out += &rest[open..];
            rest = "";
            break;
        };
        let key = &after[..close];
        let value = values.get(key).ok_or_else(|| MailError::Placeholder {
            path: origin.clone(),
            name: key.to_string(),
            known: values.keys().copied().collect::<Vec<_>>().join(", "),
        })?;
        out += value;
        rest = &after[close + 1..];
    }
    out += rest;
    Ok(out)
}
