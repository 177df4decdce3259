//! How a winning remote event reaches this desk's own rows: the report's fields, notes,
//! advisory fields and the classifier, each with the audit entry a local change would write,
//! under the remote actor and time. An event whose report's mail is not here yet is marked
//! pending (`store::materialize_pending` applies it later).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::event::{Event, ReportRef};
use super::report_ref::resolve;
use crate::core::model::{Class, InvalidReason, ReportState};

/// Writes a remote event's effect into the local report and its audit log, or marks it
/// pending when the report's mail is not here yet.
pub(super) fn materialize(conn: &Connection, ev: &Event) -> rusqlite::Result<()> {
    let Some(id) = resolve(conn, &ev.report)? else {
        conn.execute("UPDATE team_events SET pending = 1 WHERE id = ?1", [&ev.id])?;
        return Ok(());
    };
    conn.execute("UPDATE team_events SET pending = 0 WHERE id = ?1", [&ev.id])?;
    let s = |k: &str| ev.value.get(k).and_then(Value::as_str).map(str::to_string);
    let audit =
        |kind: &str, before: Option<String>, after: Option<String>, detail: Option<String>| {
            conn.execute(
                "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, ev.actor, ev.at, kind, before, after, detail],
            )
        };
    let changed = match ev.kind.as_str() {
        "state" => {
            let (Some(state), reason) = (s("state"), s("invalid_reason")) else {
                return Ok(());
            };
            if state.parse::<ReportState>().is_err()
                || reason
                    .as_deref()
                    .is_some_and(|r| r.parse::<InvalidReason>().is_err())
            {
                return Ok(()); // A value this secdesk cannot hold: logged, not applied.
            }
            let original = match ev.value.get("duplicate_of") {
                Some(v) if !v.is_null() => match serde_json::from_value::<ReportRef>(v.clone()) {
                    Ok(r) => resolve(conn, &r)?,
                    Err(_) => None,
                },
                _ => None,
            };
            let before: (String, Option<String>, Option<i64>) = conn.query_row(
                "SELECT state, invalid_reason, duplicate_of FROM reports WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            if before == (state.clone(), reason.clone(), original) {
                return Ok(());
            }
            conn.execute(
                "UPDATE reports SET state = ?2, invalid_reason = ?3, duplicate_of = ?4 WHERE id = ?1",
                params![id, state, reason, original],
            )?;
            audit("state", Some(before.0), Some(state), reason)?;
            true
        }
        "class" => {
            let class = s("class").filter(|c| c.parse::<Class>().is_ok());
            let confirmed = ev
                .value
                .get("confirmed")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let before: (Option<String>, bool) = conn.query_row(
                "SELECT class, class_confirmed FROM reports WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if before == (class.clone(), confirmed) {
                return Ok(());
            }
            conn.execute(
                "UPDATE reports SET class = ?2, class_confirmed = ?3 WHERE id = ?1",
                params![id, class, confirmed],
            )?;
            let how = if confirmed { "confirmed" } else { "suggested" };
            audit("class", before.0, class.clone(), Some(how.into()))?;
            teach(conn, id, class.as_deref().filter(|_| confirmed))?;
            true
        }
        "coordinator" => {
            let to = s("coordinator");
            let before: Option<String> =
                conn.query_row("SELECT coordinator FROM reports WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            if before == to {
                return Ok(());
            }
            conn.execute(
                "UPDATE reports SET coordinator = ?2 WHERE id = ?1",
                params![id, to],
            )?;
            audit("coordinator", before, to, None)?;
            true
        }
        "note" => {
            let text = s("text").unwrap_or_default();
            conn.execute(
                "INSERT INTO notes (report_id, author, at, text) VALUES (?1, ?2, ?3, ?4)",
                params![id, ev.actor, ev.at, text],
            )?;
            let note_id = conn.last_insert_rowid().to_string();
            audit("note", None, Some(text), Some(note_id))?;
            true
        }
        "advisory" => return materialize_advisory(conn, id, ev),
        "duplicate" => {
            let original = match ev.value.get("original") {
                Some(v) => match serde_json::from_value::<ReportRef>(v.clone()) {
                    Ok(r) => resolve(conn, &r)?,
                    Err(_) => None,
                },
                None => None,
            };
            audit(
                "duplicate",
                None,
                original.map(|o| o.to_string()),
                Some("team".into()),
            )?;
            false
        }
        _ => false,
    };
    if changed {
        conn.execute(
            "UPDATE reports SET version = version + 1,
                updated_at = max(updated_at, ?2) WHERE id = ?1",
            params![id, ev.at],
        )?;
    }
    Ok(())
}

/// A remote advisory field (core::advisory), set as `set_field_json` sets it, with its
/// `advisory:KEY` audit entry. A value the advisory cannot hold is logged, not applied.
fn materialize_advisory(conn: &Connection, id: i64, ev: &Event) -> rusqlite::Result<()> {
    use crate::core::advisory_fields::{Advisory, Key};
    let Some(key) = ev
        .value
        .get("field")
        .and_then(Value::as_str)
        .and_then(|f| f.parse::<Key>().ok())
    else {
        return Ok(());
    };
    let value = ev.value.get("value").cloned().unwrap_or(Value::Null);
    let stored: Option<String> = conn
        .query_row(
            "SELECT fields FROM advisories WHERE report_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let current: Advisory = stored
        .and_then(|f| serde_json::from_str(&f).ok())
        .unwrap_or_default();
    let before = current.field_json(key);
    if before == value {
        return Ok(());
    }
    let mut all = serde_json::to_value(&current).unwrap_or_default();
    if let Some(o) = all.as_object_mut() {
        o.insert(key.as_str().into(), value);
    }
    let Ok(next) = serde_json::from_value::<Advisory>(all) else {
        return Ok(());
    };
    let after = next.field_json(key);
    conn.execute(
        "INSERT INTO advisories (report_id, fields, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(report_id) DO UPDATE SET fields = excluded.fields,
                                              updated_at = excluded.updated_at",
        params![id, serde_json::to_string(&next).unwrap_or_default(), ev.at],
    )?;
    let text = |v: &Value| (!v.is_null()).then(|| v.to_string());
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
        params![
            id,
            ev.actor,
            ev.at,
            format!("advisory:{}", key.as_str()),
            text(&before),
            text(&after)
        ],
    )?;
    conn.execute(
        "UPDATE reports SET version = version + 1, updated_at = max(updated_at, ?2) WHERE id = ?1",
        params![id, ev.at],
    )?;
    Ok(())
}

/// The classifier learns a class another member confirmed, as it does from a local one (and
/// forgets it when the winning class is only a suggestion), in the same transaction.
fn teach(conn: &Connection, id: i64, confirmed: Option<&str>) -> rusqlite::Result<()> {
    let as_sql = |e: crate::core::classify::ClassifyError| {
        rusqlite::Error::ToSqlConversionFailure(Box::new(e))
    };
    match confirmed.and_then(|c| c.parse::<Class>().ok()) {
        Some(class) => crate::core::classify::learn_in(conn, id, class)
            .map(|_| ())
            .map_err(as_sql),
        None => crate::core::classify::forget_in(conn, id)
            .map(|_| ())
            .map_err(as_sql),
    }
}
