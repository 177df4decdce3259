//! A real report is never closed where nobody looks again, even when two members' changes
//! meet (docs/team.md, "A report never hidden by two desks"). Locally, triage refuses each
//! half (`core::triage::writes::write_state`); between desks neither member saw the other's
//! half: Bo marks N a duplicate of M while Ada closes M as spam, or marks M a duplicate of N.
//! Both events stay in the log and win their registers, and each desk derives the same rows
//! from those winners:
//!
//! - while N's winning state is "duplicate of M" and M is closed as spam here, or following
//!   the winning duplicate links from M comes back to N, N is *held open* in
//!   [`HELD_STATE`], with a `conflict` entry naming both members;
//! - when that stops (M reopened, or someone sets N's or M's state again), the hold ends: N
//!   takes its winner's value again (the duplicate link) unless a later change set it, and
//!   the entry is withdrawn.
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
pub const HELD_MARK: &str = "held open";

/// The `team_conflicts.register` of a hold.
const HELD: &str = "held-open";

/// After report `id`'s state changed, here or from another desk: `id` and the reports the
/// team marked duplicates of it (and of those, in turn) are held open, or let go, as their
/// winners and their originals' states now say. Changes no team register and makes no
/// event. Returns whether report `id`'s own state changed.
pub(crate) fn settle(conn: &Connection, id: i64, at: &str) -> rusqlite::Result<bool> {
    let changed = settle_one(conn, id, at)?;
    let mut seen = vec![id];
    let mut next = dependents(conn, id)?;
    while let Some(dependent) = next.pop() {
        if seen.contains(&dependent) {
            continue;
        }
        seen.push(dependent);
        settle_one(conn, dependent, at)?;
        next.extend(dependents(conn, dependent)?);
    }
    Ok(changed)
}

/// Why a report whose winning state is "duplicate of `original`" is held open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Its original is closed as spam here.
    Spam,
    /// Following the team's duplicate links from its original comes back to it: every
    /// report of the loop would be closed as a duplicate, none open.
    Loop,
}

/// Whether report `id`, in `state` duplicating `original`, would be held open, and why.
fn why_held(
    conn: &Connection,
    id: i64,
    state: &str,
    original: Option<i64>,
) -> rusqlite::Result<Option<Why>> {
    if state != ReportState::Duplicate.as_str() {
        return Ok(None);
    }
    let Some(original) = original else {
        return Ok(None);
    };
    let of: Option<String> = conn
        .query_row("SELECT state FROM reports WHERE id = ?1", [original], |r| {
            r.get(0)
        })
        .optional()?;
    if of.as_deref() == Some(ReportState::Spam.as_str()) {
        return Ok(Some(Why::Spam));
    }
    // The links as the team's winners set them (rows of held reports show no link).
    let mut at = original;
    let mut seen = Vec::new();
    while at != id {
        if seen.contains(&at) {
            return Ok(None); // A loop further on, not through this report: held there.
        }
        seen.push(at);
        let Some(next) = winning_original(conn, at)? else {
            return Ok(None);
        };
        at = next;
    }
    Ok(Some(Why::Loop))
}

/// Whether a report in `state` duplicating `original` would be held open (see [`settle`]).
pub(crate) fn would_hold(
    conn: &Connection,
    id: i64,
    state: &str,
    original: Option<i64>,
) -> rusqlite::Result<bool> {
    Ok(why_held(conn, id, state, original)?.is_some())
}

/// The local original report `id`'s winning state links it to, if it is a duplicate.
fn winning_original(conn: &Connection, id: i64) -> rusqlite::Result<Option<i64>> {
    let Some(report) = report_ref(conn, id)? else {
        return Ok(None);
    };
    match state_winner(conn, &report)? {
        Some(w) if w.value.get("state").and_then(Value::as_str) == Some("duplicate") => {
            original_of(conn, &w)
        }
        _ => Ok(None),
    }
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

/// The reports whose winning state names `id` as their original: those whose row links to
/// it (a report not held shows its winner's link; an index lookup), and those held for it
/// (few). Run for every state change, so it never scans the team log.
fn dependents(conn: &Connection, id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut out: Vec<i64> = {
        let mut stmt = conn.prepare_cached("SELECT id FROM reports WHERE duplicate_of = ?1")?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let held: Vec<String> = {
        let mut stmt =
            conn.prepare_cached("SELECT report_key FROM team_conflicts WHERE register = ?1")?;
        let rows = stmt.query_map([HELD], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for key in held {
        let Some(report) = ReportRef::from_key(&key) else {
            continue;
        };
        if let Some(local) = resolve(conn, &report)? {
            if winning_original(conn, local)? == Some(id) {
                out.push(local);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A hold as kept in `team_conflicts`: the held duplicate event, the original's winning
/// state event it meets (or `""`), the text, and the audit row showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hold {
    event_id: String,
    against: String,
    text: String,
    audit: Option<i64>,
}

/// The hold report `key` has now, if any.
fn current_hold(conn: &Connection, key: &str) -> rusqlite::Result<Option<Hold>> {
    conn.query_row(
        "SELECT loser_id, winner_id, text, audit_event FROM team_conflicts
         WHERE report_key = ?1 AND register = ?2",
        params![key, HELD],
        |r| {
            Ok(Hold {
                event_id: r.get(0)?,
                against: r.get(1)?,
                text: r.get(2)?,
                audit: r.get(3)?,
            })
        },
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
        if let (Some(why), Some(o)) = (why_held(conn, id, state, original)?, original) {
            wanted = Some(describe(conn, w, o, why)?);
        }
    }
    let held = current_hold(conn, &key)?;
    match (wanted, held) {
        (Some((want, _)), Some(h))
            if (&want.event_id, &want.against, &want.text)
                == (&h.event_id, &h.against, &h.text) =>
        {
            Ok(false)
        }
        (Some((want, last)), held) => {
            if let Some(h) = held {
                withdraw(conn, &h)?;
            }
            hold(conn, id, &key, want, &last, at)
        }
        (None, Some(h)) => {
            withdraw(conn, &h)?;
            // Still the same winner: the reason is gone, so the link stands again.
            match winner.filter(|w| w.id == h.event_id) {
                Some(w) => release(conn, id, &w, at).map(|_| true),
                None => Ok(false), // A later change has already set the report's state.
            }
        }
        (None, None) => Ok(false),
    }
}

/// The hold of a report whose winning `dup` event links it to `original`, with the later
/// of the two changes that meet (by the merge's order, so the same on every desk).
fn describe(
    conn: &Connection,
    dup: &Event,
    original: i64,
    why: Why,
) -> rusqlite::Result<(Hold, Event)> {
    let other = match report_ref(conn, original)? {
        Some(r) => state_winner(conn, &r)?,
        None => None,
    };
    let by = other.as_ref().map_or(SYSTEM_ACTOR, |o| o.actor.as_str());
    let subject: String = conn
        .query_row(
            "SELECT subject FROM messages WHERE report_id = ?1 ORDER BY id LIMIT 1",
            [original],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    let (what, instead) = match why {
        Why::Spam => ("closed as spam", "hidden behind spam"),
        Why::Loop => (
            "marked a duplicate in turn, back to this one",
            "closed in a loop of duplicates",
        ),
    };
    let text = format!(
        "{} marked this a duplicate of '{}', which {} {what}: kept open as {}, not {instead}; link it to a real original or triage it",
        short_actor(&dup.actor),
        super::message::clip(&subject, 60),
        short_actor(by),
        HELD_STATE.as_str(),
    );
    let last = match other {
        Some(o) if o.stamp() > dup.stamp() => o,
        _ => dup.clone(),
    };
    let hold = Hold {
        event_id: dup.id.clone(),
        against: if last.id == dup.id {
            String::new()
        } else {
            last.id.clone()
        },
        text,
        audit: None,
    };
    Ok((hold, last))
}

/// Drops a hold's bookkeeping and its audit row.
fn withdraw(conn: &Connection, h: &Hold) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM team_conflicts WHERE loser_id = ?1 AND register = ?2",
        params![h.event_id, HELD],
    )?;
    if let Some(a) = h.audit {
        conn.execute(
            "DELETE FROM events WHERE id = ?1 AND kind = 'conflict'",
            [a],
        )?;
    }
    Ok(())
}

/// Holds report `id` open: its state, the audit entries, the bookkeeping. `last` is the later
/// of the two changes that meet; the audit entry is under its actor and time.
fn hold(
    conn: &Connection,
    id: i64,
    key: &str,
    h: Hold,
    last: &Event,
    at: &str,
) -> rusqlite::Result<bool> {
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
            h.text
        ],
    )?;
    let audit = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO team_conflicts (loser_id, report_key, register, winner_id, text, audit_event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![h.event_id, key, HELD, h.against, h.text, audit],
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
