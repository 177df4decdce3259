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
    let target = Target { conn, id, ev };
    let changed = match ev.kind.as_str() {
        // Whatever the state event did, the holds of this report and of its duplicates
        // follow the winners now (super::hold); they bump the versions they change.
        // The class follows a winning spam or invalid state (`implied_class`).
        "state" => {
            target.apply_state()?
                | super::hold::settle(conn, id, &ev.at)?
                | target.follow_class()?
        }
        "class" => target.apply_class()?,
        "coordinator" => target.apply_coordinator()?,
        "note" => target.apply_note()?,
        "responded" => target.apply_response()?,
        "advisory" => return materialize_advisory(conn, id, ev),
        "duplicate" => target.record_duplicate()?,
        _ => false,
    };
    if changed {
        conn.execute(
            "UPDATE reports SET version = version + 1,
                updated_at = max(updated_at, ?2) WHERE id = ?1",
            params![id, ev.at],
        )?;
        if matches!(ev.kind.as_str(), "state" | "class") {
            super::moderation::on_remote_change(conn, id, &ev.at)?;
        }
    }
    Ok(())
}

/// A remote event and the local report it applies to. Each `apply_*` writes one kind of
/// event and says whether the report changed (so its version moves).
struct Target<'a> {
    conn: &'a Connection,
    /// The local report's row id.
    id: i64,
    ev: &'a Event,
}

impl Target<'_> {
    /// A string field of the event's value.
    fn text(&self, key: &str) -> Option<String> {
        self.ev
            .value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The local report a [`ReportRef`] in the event's value names, if it is here.
    fn referenced_report(&self, key: &str) -> rusqlite::Result<Option<i64>> {
        match self.ev.value.get(key) {
            Some(v) if !v.is_null() => match serde_json::from_value::<ReportRef>(v.clone()) {
                Ok(r) => resolve(self.conn, &r),
                Err(_) => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// The audit entry a local change of `kind` would write, under the remote actor and time.
    fn audit(
        &self,
        kind: &str,
        before: Option<String>,
        after: Option<String>,
        detail: Option<String>,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                self.id,
                self.ev.actor,
                self.ev.at,
                kind,
                before,
                after,
                detail
            ],
        )?;
        Ok(())
    }

    /// A `state` event: the state, its invalid reason and the original of a duplicate.
    fn apply_state(&self) -> rusqlite::Result<bool> {
        let (Some(state), reason) = (self.text("state"), self.text("invalid_reason")) else {
            return Ok(false);
        };
        if state.parse::<ReportState>().is_err()
            || reason
                .as_deref()
                .is_some_and(|r| r.parse::<InvalidReason>().is_err())
        {
            return Ok(false); // A value this secdesk cannot hold: logged, not applied.
        }
        let original = self.referenced_report("duplicate_of")?;
        let before: (String, Option<String>, Option<i64>) = self.conn.query_row(
            "SELECT state, invalid_reason, duplicate_of FROM reports WHERE id = ?1",
            [self.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if before == (state.clone(), reason.clone(), original) {
            return Ok(false);
        }
        // A duplicate of a report closed as spam here is not closed: `hold::settle` holds
        // it open instead, in the same fold.
        if super::hold::would_hold(self.conn, self.id, &state, original)? {
            return Ok(false);
        }
        self.conn.execute(
            "UPDATE reports SET state = ?2, invalid_reason = ?3, duplicate_of = ?4 WHERE id = ?1",
            params![self.id, state, reason, original],
        )?;
        // As the local undo writes it, so the clocks here see the state taken back too.
        let undo = self.ev.value.get("undo").and_then(Value::as_bool) == Some(true);
        let detail = reason.or_else(|| undo.then(|| "undo".to_string()));
        self.audit("state", Some(before.0), Some(state), detail)?;
        Ok(true)
    }

    /// A `responded` event: the reporter answered by another member, by a reply sent from
    /// secdesk (`via` `reply`: a `reply` entry, as the sending desk wrote) or elsewhere
    /// (`phone`, `other`: a `responded` entry); or such a response taken back (`undo_by`,
    /// `undo_at`: the entry written for it here gets its undo). Either way the first-response
    /// clock here counts as it does on the desk that made it (core::clocks).
    fn apply_response(&self) -> rusqlite::Result<bool> {
        if let (Some(by), Some(given_at)) = (self.text("undo_by"), self.text("undo_at")) {
            let given: Option<i64> = self
                .conn
                .query_row(
                    "SELECT e.id FROM events e WHERE e.report_id = ?1 AND e.kind = 'responded'
                     AND e.actor = ?2 AND e.at = ?3 AND e.detail IS NOT 'undo'
                     AND NOT EXISTS (SELECT 1 FROM events u WHERE u.report_id = e.report_id
                         AND u.kind = 'responded' AND u.detail = 'undo'
                         AND u.before = CAST(e.id AS TEXT))
                     ORDER BY e.id LIMIT 1",
                    params![self.id, by, given_at],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(given) = given else {
                return Ok(false);
            };
            self.audit(
                "responded",
                Some(given.to_string()),
                None,
                Some("undo".into()),
            )?;
            return Ok(true);
        }
        match self.text("via").as_deref() {
            Some("reply") => {
                self.audit("reply", None, self.text("message_id"), Some("team".into()))?
            }
            Some(via @ ("phone" | "other")) => {
                self.audit("responded", None, Some(via.to_string()), None)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A `class` event: the class and whether it is confirmed, which the classifier learns.
    /// While the winning state closes the report as spam or invalid, the class is the one that
    /// state implies instead.
    fn apply_class(&self) -> rusqlite::Result<bool> {
        let (class, confirmed) = match implied_class(self.conn, &self.ev.report)? {
            Some(implied) => (Some(implied), true),
            None => class_value(self.ev),
        };
        self.write_class(class, confirmed)
    }

    /// After a `state` event: the class the winners call for, when the report shows another.
    /// Once the team has set a class (the class register has a winner), a winning spam or
    /// invalid state implies its class, confirmed, whatever that winner says (the pair a
    /// race of `state N invalid` against `mark N spam` leaves would otherwise be one no desk
    /// made); any other state leaves the class register's winner. A class no member set
    /// stays this desk's own, so the result depends on the winners only, not on which
    /// events won for a while.
    fn follow_class(&self) -> rusqlite::Result<bool> {
        let Some(class_winner) = winning_event(self.conn, &self.ev.report, "class")? else {
            return Ok(false);
        };
        let (class, confirmed) = match implied_class(self.conn, &self.ev.report)? {
            Some(implied) => (Some(implied), true),
            None => class_value(&class_winner),
        };
        self.write_class(class, confirmed)
    }

    /// Sets the report's class, with its audit entry under the event's actor and time, and
    /// teaches the classifier; `false` when the report already shows it.
    fn write_class(&self, class: Option<String>, confirmed: bool) -> rusqlite::Result<bool> {
        let before: (Option<String>, bool) = self.conn.query_row(
            "SELECT class, class_confirmed FROM reports WHERE id = ?1",
            [self.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if before == (class.clone(), confirmed) {
            return Ok(false);
        }
        self.conn.execute(
            "UPDATE reports SET class = ?2, class_confirmed = ?3 WHERE id = ?1",
            params![self.id, class, confirmed],
        )?;
        let how = if confirmed { "confirmed" } else { "suggested" };
        self.audit("class", before.0, class.clone(), Some(how.into()))?;
        teach(self.conn, self.id, class.as_deref().filter(|_| confirmed))?;
        Ok(true)
    }

    /// A `coordinator` event: who coordinates the report, or nobody.
    fn apply_coordinator(&self) -> rusqlite::Result<bool> {
        let to = self.text("coordinator");
        let before: Option<String> = self.conn.query_row(
            "SELECT coordinator FROM reports WHERE id = ?1",
            [self.id],
            |r| r.get(0),
        )?;
        if before == to {
            return Ok(false);
        }
        self.conn.execute(
            "UPDATE reports SET coordinator = ?2 WHERE id = ?1",
            params![self.id, to],
        )?;
        self.audit("coordinator", before, to, None)?;
        Ok(true)
    }

    /// A `note` event: a new note under the remote author and time.
    fn apply_note(&self) -> rusqlite::Result<bool> {
        let text = self.text("text").unwrap_or_default();
        self.conn.execute(
            "INSERT INTO notes (report_id, author, at, text) VALUES (?1, ?2, ?3, ?4)",
            params![self.id, self.ev.actor, self.ev.at, text],
        )?;
        let note_id = self.conn.last_insert_rowid().to_string();
        self.audit("note", None, Some(text), Some(note_id))?;
        Ok(true)
    }

    /// A `duplicate` event: only its audit entry, naming the original if it is here; the
    /// report itself does not change.
    fn record_duplicate(&self) -> rusqlite::Result<bool> {
        let original = self.referenced_report("original")?;
        self.audit(
            "duplicate",
            None,
            original.map(|o| o.to_string()),
            Some("team".into()),
        )?;
        Ok(false)
    }
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

/// A `class` event's value: a class this secdesk knows (or none) and whether it is confirmed.
fn class_value(ev: &Event) -> (Option<String>, bool) {
    let class = ev
        .value
        .get("class")
        .and_then(Value::as_str)
        .filter(|c| c.parse::<Class>().is_ok())
        .map(str::to_string);
    let confirmed = ev
        .value
        .get("confirmed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (class, confirmed)
}

/// The event that holds a register of `report` here, if any.
fn winning_event(
    conn: &Connection,
    report: &ReportRef,
    register: &str,
) -> rusqlite::Result<Option<Event>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT e.json FROM team_registers r JOIN team_events e ON e.id = r.event_id
             WHERE r.report_key = ?1 AND r.register = ?2",
            params![report.key(), register],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The class the winning state of `report` implies: closing as spam or invalid is a
/// person's verdict on the class (`core::triage::actions`), so on every desk the class
/// follows it, whichever class event won its own register.
fn implied_class(conn: &Connection, report: &ReportRef) -> rusqlite::Result<Option<String>> {
    let Some(state) = winning_event(conn, report, "state")? else {
        return Ok(None);
    };
    Ok(match state.value.get("state").and_then(Value::as_str) {
        Some("spam") => Some(Class::Spam),
        Some("invalid") => Some(Class::Invalid),
        _ => None,
    }
    .map(|c| c.to_string()))
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
