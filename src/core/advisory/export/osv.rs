//! An OSV record (OSV schema 1.7, <https://ossf.github.io/osv-schema/>): `id` in the team's
//! `PREFIX-YYYY-N` series, aliases for the CVE and GHSA ids, the affected range as `GIT`
//! commits of `repo` or `ECOSYSTEM` versions of `package`, `CVSS_V4`/`CVSS_V3` severity.

use serde_json::{json, Map, Value};

use super::{
    missing_with_range, package, range, reference_type, refuse_missing, ExportError, Format, Meta,
};
use crate::core::advisory::Advisory;

/// The OSV schema version the records follow.
pub const SCHEMA_VERSION: &str = "1.7.0";

/// The OSV record, or the list of fields it still needs.
pub fn record(a: &Advisory, meta: &Meta<'_>) -> Result<Value, ExportError> {
    let range = range(a);
    let git = range.as_ref().is_ok_and(|r| r.git);
    let missing = missing_with_range(
        a,
        &[
            ("summary", a.summary.is_some()),
            ("details", a.details.is_some()),
            ("cvss", a.cvss.is_some()),
            (
                "package (or repo with commit hashes)",
                git || a.package.is_some(),
            ),
        ],
    );
    refuse_missing(meta.id, Format::Osv, missing)?;
    super::refuse_two_ends(meta.id, Format::Osv, a)?;
    let (Ok(range), Some(severity)) = (range, a.severity()) else {
        // Both were checked just above.
        return Err(ExportError::Unfit {
            id: meta.id,
            format: "osv",
            problem: "the range or the CVSS vector could not be read".into(),
        });
    };

    let mut events = vec![json!({ "introduced": range.introduced })];
    if let Some(f) = &range.fixed {
        events.push(json!({ "fixed": f }));
    }
    if let Some(l) = &range.last_affected {
        events.push(json!({ "last_affected": l }));
    }
    let osv_range = if range.git {
        json!({ "type": "GIT", "repo": a.repo, "events": events })
    } else {
        json!({ "type": "ECOSYSTEM", "events": events })
    };
    let mut affected = Map::new();
    if let Some((ecosystem, name)) = package(a) {
        affected.insert(
            "package".into(),
            json!({ "ecosystem": ecosystem, "name": name }),
        );
    }
    affected.insert("ranges".into(), json!([osv_range]));

    let aliases: Vec<&String> = [&a.cve, &a.ghsa].into_iter().flatten().collect();
    let mut references: Vec<Value> = a
        .references
        .iter()
        .map(|u| json!({ "type": reference_type(u), "url": u }))
        .collect();
    if range.git {
        if let Some(repo) = &a.repo {
            references.push(json!({ "type": "PACKAGE", "url": repo }));
        }
    }
    let credits: Vec<Value> = a
        .credits
        .iter()
        .map(|c| json!({ "name": c.name, "type": c.kind.to_ascii_uppercase() }))
        .collect();
    let kind = if severity.version == "4.0" {
        "CVSS_V4"
    } else {
        "CVSS_V3"
    };
    let record = json!({
        "schema_version": SCHEMA_VERSION,
        "id": meta.osv_id,
        "modified": meta.modified,
        "published": meta.published,
        "aliases": aliases,
        "summary": a.summary,
        "details": a.details,
        "affected": [Value::Object(affected)],
        "severity": [{ "type": kind, "score": severity.vector }],
        "references": references,
        "credits": credits,
    });
    Ok(withdrawn(record, meta))
}

/// The record marked `withdrawn` when the team rejected the report after publishing it;
/// withdrawing is a change, so `modified` is never before it.
fn withdrawn(mut record: Value, meta: &Meta<'_>) -> Value {
    if let (Some(withdrawn), Some(o)) = (&meta.withdrawn, record.as_object_mut()) {
        o.insert("withdrawn".into(), json!(withdrawn));
        if *withdrawn > meta.modified {
            o.insert("modified".into(), json!(withdrawn));
        }
    }
    record
}
