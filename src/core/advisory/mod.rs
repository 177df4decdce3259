//! Advisory fields on a report (issue 15): what the team needs to publish an advisory (OSV,
//! CVE JSON 5.1, a GitHub Security Advisory, the security-announce mail) and to run an
//! embargo.
//!
//! The fields live in the `advisories` table as one JSON object per report. Every change is
//! one transaction like the triage actions (stale-view check, change, audit, version bump)
//! and writes one `advisory:KEY` event per field changed, whose `before`/`after` are the
//! field's JSON values: the audit log replays them, and a team sync can apply them per field
//! as last-writer-wins registers.

pub mod embargo;
pub mod export;
pub mod form;
pub mod mail;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

pub use crate::core::advisory_fields as fields;
pub use crate::core::advisory_fields::Advisory;
pub use fields::{Credit, Key, Notified, Severity, Value};

pub use crate::core::config::advisory::AdvisoryConfig;

use crate::core::model::ReportId;
use crate::core::store::{timestamp, Store};
use crate::core::triage::transaction::in_transaction;
use crate::core::triage::writes::{self, event, load_checking_version};
use crate::core::triage::{Request, TriageError};

/// One change asked for: set (add, on a list) or clear a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(Key, Value),
    Unset(Key),
}

/// Parses `KEY=VALUE` into a checked change.
pub fn parse_set(text: &str, now: DateTime<Utc>) -> Result<Change, String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("--set {text:?} has no '=': write KEY=VALUE"))?;
    let key: Key = key.parse()?;
    Ok(Change::Set(key, fields::parse_value(key, value, now)?))
}

/// A report's advisory fields, empty when none were ever set.
pub fn load(conn: &Connection, id: ReportId) -> Result<Advisory, TriageError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT fields FROM advisories WHERE report_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    match text {
        None => Ok(Advisory::default()),
        Some(t) => serde_json::from_str(&t).map_err(|_| TriageError::BadStoredValue {
            id,
            field: "advisory fields",
            value: t,
        }),
    }
}

/// Applies `changes` in order as one action; returns the fields before, after, and the
/// report's version.
pub fn apply(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    changes: &[Change],
) -> Result<crate::core::triage::Applied<Advisory>, TriageError> {
    apply_with(store, req, id, |current| {
        let mut next = current.clone();
        for change in changes {
            match change {
                Change::Set(k, v) => next.set(*k, v.clone()),
                Change::Unset(k) => next.unset(*k),
            }
        }
        next
    })
}

/// Sets one field to a JSON value as an `advisory:KEY` event carries it (`null` clears a
/// single field, `[]` a list):
/// the entry point for a team sync applying a remote last-writer-wins register. The value is
/// checked as `--set` checks it.
pub fn set_field_json(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    key: Key,
    value: &serde_json::Value,
) -> Result<crate::core::triage::Applied<Advisory>, FieldError> {
    let current = load(store.conn(), id)?;
    let mut all = serde_json::to_value(&current).unwrap_or_default();
    if let Some(o) = all.as_object_mut() {
        o.insert(key.as_str().into(), value.clone());
    }
    let next: Advisory = serde_json::from_value(all).map_err(|e| FieldError::Invalid {
        id,
        message: format!("{}: {e}", key.as_str()),
    })?;
    check(&next, key).map_err(|message| FieldError::Invalid { id, message })?;
    Ok(replace(store, req, id, &next)?)
}

/// Re-checks the values of `key` in `a` as `--set` would.
fn check(a: &Advisory, key: Key) -> Result<(), String> {
    let now = Utc::now();
    let texts: Vec<String> = match key {
        Key::References => a.references.clone(),
        Key::Credits => a
            .credits
            .iter()
            .map(|c| format!("{}:{}", c.name, c.kind))
            .collect(),
        Key::Notified => a
            .notified
            .iter()
            .map(|n| format!("{}:{}", n.who, n.at))
            .collect(),
        k => a
            .field_json(k)
            .as_str()
            .map(str::to_string)
            .into_iter()
            .collect(),
    };
    texts
        .iter()
        .try_for_each(|t| fields::parse_value(key, t, now).map(|_| ()))
}

/// Why a field could not be set from JSON.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error("report #{id}: advisory field {message}")]
    Invalid { id: ReportId, message: String },
    #[error(transparent)]
    Triage(#[from] TriageError),
}

/// Replaces the fields with `to` (the form's save), as one action.
pub fn replace(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    to: &Advisory,
) -> Result<crate::core::triage::Applied<Advisory>, TriageError> {
    apply_with(store, req, id, |_| to.clone())
}

fn apply_with(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    change: impl FnOnce(&Advisory) -> Advisory,
) -> Result<crate::core::triage::Applied<Advisory>, TriageError> {
    in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        let before = load(conn, id)?;
        let after = change(&before);
        let mut version = current.version;
        if after != before {
            write(conn, id, req, &before, &after)?;
            version = writes::bump(conn, &current, req)?;
        }
        Ok(crate::core::triage::Applied {
            report_id: id,
            before,
            after,
            version,
            undo: crate::core::triage::Undo::Nothing,
        })
    })
}

fn write(
    conn: &Connection,
    id: ReportId,
    req: &Request,
    before: &Advisory,
    after: &Advisory,
) -> Result<(), TriageError> {
    let json = serde_json::to_string(after).unwrap_or_else(|_| "{}".into());
    conn.execute(
        "INSERT INTO advisories (report_id, fields, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(report_id) DO UPDATE SET fields = excluded.fields,
                                              updated_at = excluded.updated_at",
        params![id, json, timestamp(req.at)],
    )?;
    for key in Key::ALL {
        let (b, a) = (before.field_json(key), after.field_json(key));
        if a != b {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::Null => None,
                v => Some(v.to_string()),
            };
            event(
                conn,
                id,
                req,
                &format!("advisory:{}", key.as_str()),
                text(&b).as_deref(),
                text(&a).as_deref(),
                None,
            )?;
        }
    }
    Ok(())
}

/// The OSV id of a report's advisory, giving it the next `PREFIX-YYYY-N` (and its published
/// time) on first use. The year is the year it is given.
pub fn osv_id(
    store: &mut Store,
    id: ReportId,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), TriageError> {
    in_transaction(store, |conn| {
        let (osv, published, given) = osv_id_in(conn, id, prefix, now)?;
        if given {
            return Ok((osv, published));
        }
        conn.execute(
            "INSERT INTO advisories (report_id, osv_id, published, updated_at)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(report_id) DO UPDATE SET osv_id = excluded.osv_id,
                                                  published = excluded.published",
            params![id, osv, published],
        )?;
        Ok((osv, published))
    })
}

/// The OSV id and published time [`osv_id`] would give, without giving them: a draft's.
pub fn osv_id_draft(
    conn: &Connection,
    id: ReportId,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), TriageError> {
    let (osv, published, _) = osv_id_in(conn, id, prefix, now)?;
    Ok((osv, published))
}

/// The report's OSV id and published time, and whether they were given before; otherwise
/// the next free `PREFIX-YYYY-N` and `now`.
fn osv_id_in(
    conn: &Connection,
    id: ReportId,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<(String, String, bool), TriageError> {
    let found: Option<(Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT osv_id, published FROM advisories WHERE report_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((Some(osv), Some(published))) = found {
        return Ok((osv, published, true));
    }
    let stem = format!("{prefix}-{}-", now.format("%Y"));
    let taken: Vec<String> = conn
        .prepare("SELECT osv_id FROM advisories WHERE osv_id LIKE ?1 || '%'")?
        .query_map([&stem], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let n = taken
        .iter()
        .filter_map(|t| t.strip_prefix(&stem)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    Ok((format!("{stem}{n}"), timestamp(now), false))
}

/// Whether the report's OSV record was published: an OSV export gave it its id.
pub fn osv_published(conn: &Connection, id: ReportId) -> Result<bool, TriageError> {
    Ok(conn
        .query_row(
            "SELECT osv_id IS NOT NULL AND published IS NOT NULL FROM advisories
             WHERE report_id = ?1",
            [id],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// When the report last moved into `state` (for OSV `withdrawn`: when it was rejected).
pub fn moved_into(
    conn: &Connection,
    id: ReportId,
    state: crate::core::model::ReportState,
) -> Result<Option<String>, TriageError> {
    Ok(conn
        .query_row(
            "SELECT max(at) FROM events WHERE report_id = ?1 AND kind = 'state' AND after = ?2",
            params![id, state.as_str()],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// When the advisory fields last changed (for OSV `modified`).
pub fn modified(conn: &Connection, id: ReportId) -> Result<Option<String>, TriageError> {
    Ok(conn
        .query_row(
            "SELECT max(at) FROM events WHERE report_id = ?1 AND kind LIKE 'advisory:%'",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

#[cfg(test)]
mod tests;
