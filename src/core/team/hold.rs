//! A real report is never hidden behind spam, even when two members' changes meet
//! (docs/team.md, "A duplicate of spam"). Locally, triage refuses both halves
//! (`core::triage::writes::write_state`); between desks neither member saw the other's half:
//! Bo marks N a duplicate of M while Ada closes M as spam. Both events stay in the log and
//! win their registers, and each desk derives the same rows from those winners:
//!
//! - while N's winning state is "duplicate of M" and M is closed as spam here, N is *held
//!   open* in [`HELD_STATE`], with a `conflict` entry naming both members;
//! - when either changes (M reopened, or someone sets N's state again), the hold ends: N
//!   takes its winner's value again (the duplicate link, when M is no longer spam) and the
//!   entry is withdrawn.
//!
//! The hold is a function of the current winners only, so every desk ends the same whatever
//! order the events came in. Holds are kept in `team_conflicts` under the register
//! [`HELD`], keyed by the held duplicate event, with the audit row that shows them.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::event::{short_actor, Event, ReportRef};
use super::report_ref::{report_ref, resolve};
use crate::core::model::{ReportState, SYSTEM_ACTOR};

/// The state a report is held open in: someone read it and judged it a real report (a
/// duplicate of one), so it is acknowledged and waits for triage.
pub const HELD_STATE: ReportState = ReportState::Acknowledged;

/// The `before` of a hold's `conflict` audit entry, which `show` prints as a warning.
pub const HELD_MARK: &str = "duplicate of spam";

/// The `team_conflicts.register` of a hold.
const HELD: &str = "held-open";

/// After report `id`'s state changed, here or from another desk: `id` and the reports the
/// team marked duplicates of it are held open, or let go, as their winners and their
/// originals' states now say. Changes no team register and makes no event. Returns whether
/// report `id`'s own state changed.
pub(crate) fn settle(conn: &Connection, id: i64, at: &str) -> rusqlite::Result<bool> {
    let changed = settle_one(conn, id, at)?;
    for dependent in dependents(conn, id)? {
        if dependent != id {
            settle_one(conn, dependent, at)?;
        }
    }
    Ok(changed)
}

/// Whether a report in `state` duplicating `original` would be held open: its original is
/// closed as spam here.
pub(crate) fn would_hold(
    conn: &Connection,
    state: &str,
    original: Option<i64>,
) -> rusqlite::Result<bool> {
    if state != ReportState::Duplicate.as_str() {
        return Ok(false);
    }
    let Some(original) = original else {
        return Ok(false);
    };
    let of: Option<String> = conn
        .query_row("SELECT state FROM reports WHERE id = ?1", [original], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(of.as_deref() == Some(ReportState::Spam.as_str()))
}

/// The winning `state` event of a report, if the team log has one.
fn state_winner(conn: &Connection, report: &ReportRef) -> rusqlite::Result<Option<Event>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT e.json FROM team_registers r JOIN team_events e ON e.id = r.event_id
             WHERE r.report_key = ?1 AND r.register = 'state'",
            [report.key()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The local original a `state` event links its report to, if it is here.
fn original_of(conn: &Connection, ev: &Event) -> rusqlite::Result<Option<i64>> {
    match ev.value.get("duplicate_of") {
        Some(v) if !v.is_null() => match serde_json::from_value::<ReportRef>(v.clone()) {
            Ok(r) => resolve(conn, &r),
            Err(_) => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The reports whose winning state names `id` as their original, and those held for it.
fn dependents(conn: &Connection, id: i64) -> rusqlite::Result<Vec<i64>> {
    let winners: Vec<String> = {
        let mut stmt = conn.prepare_cached(
            "SELECT e.json FROM team_registers r JOIN team_events e ON e.id = r.event_id
             WHERE r.register = 'state' AND e.kind = 'state'
               AND json_extract(e.json, '$.value.state') = 'duplicate'",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for json in winners {
        let Ok(ev) = serde_json::from_str::<Event>(&json) else {
            continue;
        };
        if original_of(conn, &ev)? == Some(id) {
            if let Some(report) = resolve(conn, &ev.report)? {
                out.push(report);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The hold report `id` has now: the held event's id and the audit row showing it.
fn current_hold(conn: &Connection, key: &str) -> rusqlite::Result<Option<(String, Option<i64>)>> {
    conn.query_row(
        "SELECT loser_id, audit_event FROM team_conflicts WHERE report_key = ?1 AND register = ?2",
        params![key, HELD],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Holds or lets go one report; returns whether its state changed.
fn settle_one(conn: &Connection, id: i64, at: &str) -> rusqlite::Result<bool> {
    let Some(report) = report_ref(conn, id)? else {
        return Ok(false);
    };
    let key = report.key();
    let winner = state_winner(conn, &report)?;
    let mut wanted = None;
    if let Some(w) = &winner {
        let state = w.value.get("state").and_then(Value::as_str).unwrap_or("");
        let original = original_of(conn, w)?;
        if would_hold(conn, state, original)? {
            wanted = original.map(|o| (w, o));
        }
    }
    let held = current_hold(conn, &key)?;
    match (wanted, held) {
        (Some((w, _)), Some((held_id, _))) if held_id == w.id => Ok(false),
        (Some((w, original)), held) => {
            if let Some(h) = held {
                withdraw(conn, &h)?;
            }
            hold(conn, id, &key, w, original, at)
        }
        (None, Some(h)) => {
            withdraw(conn, &h)?;
            // Still the same winner: its original is no longer spam, so the link stands again.
            match winner.filter(|w| w.id == h.0) {
                Some(w) => release(conn, id, &w, at).map(|_| true),
                None => Ok(false), // A later change has already set the report's state.
            }
        }
        (None, None) => Ok(false),
    }
}

/// Drops a hold's bookkeeping and its audit row.
fn withdraw(conn: &Connection, (held_id, audit): &(String, Option<i64>)) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM team_conflicts WHERE loser_id = ?1 AND register = ?2",
        params![held_id, HELD],
    )?;
    if let Some(a) = audit {
        conn.execute(
            "DELETE FROM events WHERE id = ?1 AND kind = 'conflict'",
            [a],
        )?;
    }
    Ok(())
}

/// Holds report `id` open: its state, the audit entries, the bookkeeping.
fn hold(
    conn: &Connection,
    id: i64,
    key: &str,
    dup: &Event,
    original: i64,
    at: &str,
) -> rusqlite::Result<bool> {
    let spam = match report_ref(conn, original)? {
        Some(r) => state_winner(conn, &r)?,
        None => None,
    }
    .filter(|s| s.value.get("state").and_then(Value::as_str) == Some("spam"));
    let closer = spam.as_ref().map_or(SYSTEM_ACTOR, |s| s.actor.as_str());
    let subject: String = conn
        .query_row(
            "SELECT subject FROM messages WHERE report_id = ?1 ORDER BY id LIMIT 1",
            [original],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    let text = format!(
        "{} marked this a duplicate of '{}', which {} closed as spam: kept open as {}, not hidden behind spam; link it to a real original or triage it",
        short_actor(&dup.actor),
        super::message::clip(&subject, 60),
        short_actor(closer),
        HELD_STATE.as_str(),
    );
    // The later of the two changes, by the merge's order: the same on every desk.
    let last = match &spam {
        Some(s) if s.stamp() > dup.stamp() => s,
        _ => dup,
    };
    let before: (String, Option<String>, Option<i64>) = conn.query_row(
        "SELECT state, invalid_reason, duplicate_of FROM reports WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let changed = before != (HELD_STATE.as_str().to_string(), None, None);
    if changed {
        conn.execute(
            "UPDATE reports SET state = ?2, invalid_reason = NULL, duplicate_of = NULL
             WHERE id = ?1",
            params![id, HELD_STATE.as_str()],
        )?;
        audit_state(conn, id, at, &before.0, HELD_STATE.as_str(), "held open")?;
        bump(conn, id, at)?;
    }
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, 'conflict', ?4, ?5, ?6)",
        params![
            id,
            last.actor,
            last.at,
            HELD_MARK,
            HELD_STATE.as_str(),
            text
        ],
    )?;
    let audit = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO team_conflicts (loser_id, report_key, register, winner_id, text, audit_event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            dup.id,
            key,
            HELD,
            spam.as_ref().map_or("", |s| s.id.as_str()),
            text,
            audit
        ],
    )?;
    Ok(changed)
}

/// Lets a held report go: it takes its winning duplicate link again.
fn release(conn: &Connection, id: i64, dup: &Event, at: &str) -> rusqlite::Result<()> {
    let original = original_of(conn, dup)?;
    let before: String = conn.query_row("SELECT state FROM reports WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    conn.execute(
        "UPDATE reports SET state = 'duplicate', invalid_reason = NULL, duplicate_of = ?2
         WHERE id = ?1",
        params![id, original],
    )?;
    audit_state(conn, id, at, &before, "duplicate", "no longer held open")?;
    bump(conn, id, at)
}

/// A state change secdesk made itself, every desk alike: no team event.
fn audit_state(
    conn: &Connection,
    id: i64,
    at: &str,
    before: &str,
    after: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, 'state', ?4, ?5, ?6)",
        params![id, SYSTEM_ACTOR, at, before, after, detail],
    )?;
    Ok(())
}

fn bump(conn: &Connection, id: i64, at: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE reports SET version = version + 1, updated_at = max(updated_at, ?2) WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}
