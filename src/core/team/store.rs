//! The merge's state in the SQLite store: the team event log, the register winners, the
//! derived conflicts, and how a winning remote value reaches the local report row and its
//! audit log. Events for a report this desk has not fetched yet wait (`pending`) until the
//! mail arrives ([`materialize_pending`]).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::event::{conflict_text, Event, ReportRef, Stamp};
use super::merge::Replica;
use crate::core::model::{Class, InvalidReason, ReportState};

/// The store as a [`Replica`], inside the caller's transaction.
pub struct SqlReplica<'c> {
    pub conn: &'c Connection,
    /// Write winning values to the report rows (remote events). A local change has already
    /// written its value, so its event only updates the team tables.
    pub materialize: bool,
}

/// The local report an event names, if this desk has its mail.
pub fn resolve(conn: &Connection, r: &ReportRef) -> rusqlite::Result<Option<i64>> {
    let (sql, v) = match r {
        ReportRef::MessageId(m) => (
            "SELECT report_id FROM messages WHERE message_id = ?1 ORDER BY id LIMIT 1",
            m,
        ),
        ReportRef::ContentHash(h) => ("SELECT report_id FROM messages WHERE content_hash = ?1", h),
    };
    conn.query_row(sql, [v], |row| row.get(0)).optional()
}

/// How every desk names a local report: its first incoming message's Message-ID, or that
/// message's content hash when it has none.
pub fn report_ref(conn: &Connection, report_id: i64) -> rusqlite::Result<Option<ReportRef>> {
    let row: Option<(Option<String>, String)> = conn
        .query_row(
            "SELECT message_id, content_hash FROM messages WHERE report_id = ?1
             ORDER BY direction = 'out', id LIMIT 1",
            [report_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(
        row.map(|(mid, hash)| match mid.filter(|m| !m.trim().is_empty()) {
            Some(m) => ReportRef::MessageId(m),
            None => ReportRef::ContentHash(hash),
        }),
    )
}

fn parse(json: &str) -> rusqlite::Result<Event> {
    serde_json::from_str(json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Replica for SqlReplica<'_> {
    type Error = rusqlite::Error;

    fn known(&self, id: &str) -> rusqlite::Result<bool> {
        self.conn
            .query_row("SELECT 1 FROM team_events WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
    }

    fn clock(&self) -> rusqlite::Result<u64> {
        self.conn
            .query_row("SELECT lamport FROM team_clock WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map(|c| c.unwrap_or(0))
    }

    fn set_clock(&mut self, lamport: u64) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO team_clock (id, lamport) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET lamport = max(lamport, excluded.lamport)",
            [lamport],
        )?;
        Ok(())
    }

    fn log(&mut self, ev: &Event, register: Option<&str>) -> rusqlite::Result<()> {
        let json = serde_json::to_string(ev).unwrap_or_default();
        self.conn.execute(
            "INSERT INTO team_events (id, report_key, register, lamport, actor, kind, at, json,
                                      pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)",
            params![
                ev.id,
                ev.report.key(),
                register,
                ev.lamport,
                ev.actor,
                ev.kind,
                ev.at,
                json
            ],
        )?;
        Ok(())
    }

    fn winner(&self, report: &ReportRef, register: &str) -> rusqlite::Result<Option<Stamp>> {
        self.conn
            .query_row(
                "SELECT r.lamport, r.actor, r.event_id FROM team_registers r
                 WHERE r.report_key = ?1 AND r.register = ?2",
                params![report.key(), register],
                |r| {
                    Ok(Stamp {
                        lamport: r.get(0)?,
                        actor: r.get(1)?,
                        id: r.get(2)?,
                    })
                },
            )
            .optional()
    }

    fn set_winner(&mut self, ev: &Event, register: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO team_registers (report_key, register, event_id, lamport, actor)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (report_key, register) DO UPDATE SET
                event_id = excluded.event_id, lamport = excluded.lamport, actor = excluded.actor",
            params![ev.report.key(), register, ev.id, ev.lamport, ev.actor],
        )?;
        if self.materialize {
            materialize(self.conn, ev)?;
        }
        Ok(())
    }

    fn history(&self, report: &ReportRef, register: &str) -> rusqlite::Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT json FROM team_events WHERE report_key = ?1 AND register = ?2",
        )?;
        let rows = stmt.query_map(params![report.key(), register], |r| r.get::<_, String>(0))?;
        rows.map(|j| parse(&j?)).collect()
    }

    fn set_conflicts(
        &mut self,
        report: &ReportRef,
        register: &str,
        conflicts: &[(Event, Event)],
    ) -> rusqlite::Result<()> {
        let key = report.key();
        let existing: Vec<(String, String, Option<i64>)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT loser_id, winner_id, audit_event FROM team_conflicts
                 WHERE report_key = ?1 AND register = ?2",
            )?;
            let rows = stmt.query_map(params![key, register], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let wanted = |l: &str, w: &str| conflicts.iter().any(|(cw, cl)| cl.id == l && cw.id == w);
        for (loser, winner, audit) in &existing {
            if wanted(loser, winner) {
                continue;
            }
            self.conn
                .execute("DELETE FROM team_conflicts WHERE loser_id = ?1", [loser])?;
            if let Some(a) = audit {
                self.conn.execute(
                    "DELETE FROM events WHERE id = ?1 AND kind = 'conflict'",
                    [a],
                )?;
            }
        }
        for (winner, loser) in conflicts {
            if existing
                .iter()
                .any(|(l, w, _)| *l == loser.id && *w == winner.id)
            {
                continue;
            }
            self.conn.execute(
                "INSERT INTO team_conflicts
                    (loser_id, report_key, register, winner_id, text, audit_event)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                params![
                    loser.id,
                    key,
                    register,
                    winner.id,
                    conflict_text(winner, loser)
                ],
            )?;
            audit_conflict(self.conn, report, winner, loser)?;
        }
        Ok(())
    }

    fn add_note(&mut self, ev: &Event) -> rusqlite::Result<()> {
        if self.materialize {
            materialize(self.conn, ev)?;
        }
        Ok(())
    }

    fn add_link(&mut self, ev: &Event) -> rusqlite::Result<()> {
        self.add_note(ev)
    }
}

/// Mirrors a conflict into the report's audit log (kind `conflict`), when the report is here.
fn audit_conflict(
    conn: &Connection,
    report: &ReportRef,
    winner: &Event,
    loser: &Event,
) -> rusqlite::Result<()> {
    let Some(id) = resolve(conn, report)? else {
        return Ok(()); // Added by materialize_pending once the mail arrives.
    };
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, 'conflict', ?4, ?5, ?6)",
        params![
            id,
            winner.actor,
            winner.at,
            loser.value_text(),
            winner.value_text(),
            conflict_text(winner, loser)
        ],
    )?;
    conn.execute(
        "UPDATE team_conflicts SET audit_event = ?2 WHERE loser_id = ?1",
        params![loser.id, conn.last_insert_rowid()],
    )?;
    Ok(())
}

/// Writes a remote event's effect into the local report and its audit log, or marks it
/// pending when the report's mail is not here yet.
fn materialize(conn: &Connection, ev: &Event) -> rusqlite::Result<()> {
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
    use crate::core::advisory::{Advisory, Key};
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

/// Applies the events that waited for their report's mail, now that a sync may have brought
/// it: register winners, notes, links and conflicts. Returns how many were applied.
pub fn materialize_pending(conn: &Connection) -> rusqlite::Result<usize> {
    let pending: Vec<(String, Option<String>, String)> = {
        let mut stmt = conn.prepare(
            "SELECT e.json, e.register, e.id FROM team_events e WHERE e.pending = 1
             ORDER BY e.lamport, e.actor, e.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut applied = 0;
    for (json, register, id) in pending {
        let ev = parse(&json)?;
        if resolve(conn, &ev.report)?.is_none() {
            continue;
        }
        let is_winner = match &register {
            Some(reg) => {
                let r = SqlReplica {
                    conn,
                    materialize: true,
                };
                r.winner(&ev.report, reg)?.is_some_and(|w| w.id == id)
            }
            None => true,
        };
        if is_winner {
            materialize(conn, &ev)?;
            applied += 1;
        } else {
            conn.execute("UPDATE team_events SET pending = 0 WHERE id = ?1", [&id])?;
        }
    }
    let orphans: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT c.report_key, w.json, l.json FROM team_conflicts c
             JOIN team_events w ON w.id = c.winner_id JOIN team_events l ON l.id = c.loser_id
             WHERE c.audit_event IS NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (key, winner, loser) in orphans {
        if let Some(report) = ReportRef::from_key(&key) {
            audit_conflict(conn, &report, &parse(&winner)?, &parse(&loser)?)?;
        }
    }
    Ok(applied)
}
