//! The clock milestones every desk derives from the team's events rather than from its own
//! audit log (docs/team.md, "Clocks agree"). A desk's audit log holds an entry for each
//! change that won here, if only for a while: which changes those were depends on the order
//! events arrived in, so the first triage or the first coordinator read from it differed
//! between desks. The event set is the same on every desk, so these are too:
//!
//! - `triaged_at`: the earliest `at` of a state event into a triage state
//!   (`core::clocks::TRIAGE_STATES`), losers included, unless a later state event taken back
//!   with `undo` names it as its `base` (the undo's own rule in `core::clocks`);
//! - `coordinator_at`: the earliest `at` of a coordinator event naming someone (PEP 811);
//! - `first_at`: the earliest `at` of any event of the report. Audit entries before it are
//!   the desk's history from before the team log and still count (`core::clocks`).

use rusqlite::{params, Connection};
use serde_json::Value;

use super::event::{Event, ReportRef};
use super::report_ref::resolve;
use crate::core::clocks::TRIAGE_STATES;

/// Counts a newly logged event: a state or coordinator event derives the report's
/// milestones again ([`refresh`]); any other only moves `first_at`, cheaply, since a report
/// may gather thousands of notes.
pub(super) fn on_logged(conn: &Connection, ev: &Event) -> rusqlite::Result<()> {
    if matches!(ev.kind.as_str(), "state" | "coordinator") {
        return refresh(conn, &ev.report);
    }
    let Some(id) = resolve(conn, &ev.report)? else {
        return Ok(());
    };
    conn.execute(
        "INSERT INTO team_milestones (report_id, first_at) VALUES (?1, ?2)
         ON CONFLICT (report_id) DO UPDATE SET first_at = min(first_at, excluded.first_at)",
        params![id, ev.at],
    )?;
    Ok(())
}

/// Derives the report's milestones from its events again; nothing when its mail is not here
/// (`store::materialize_pending` calls this again once it is).
pub(super) fn refresh(conn: &Connection, report: &ReportRef) -> rusqlite::Result<()> {
    let Some(id) = resolve(conn, report)? else {
        return Ok(());
    };
    let first_at: Option<String> = conn.query_row(
        "SELECT min(at) FROM team_events WHERE report_key = ?1",
        [report.key()],
        |r| r.get(0),
    )?;
    let Some(first_at) = first_at else {
        return Ok(());
    };
    let events: Vec<Event> = {
        let mut stmt = conn.prepare_cached(
            "SELECT json FROM team_events WHERE report_key = ?1
             AND register IN ('state', 'coordinator')",
        )?;
        let rows = stmt.query_map([report.key()], |r| r.get::<_, String>(0))?;
        rows.filter_map(|j| j.ok().and_then(|j| serde_json::from_str(&j).ok()))
            .collect()
    };
    let undone = |e: &Event| {
        events.iter().any(|u| {
            u.kind == "state"
                && u.value.get("undo").and_then(Value::as_bool) == Some(true)
                && u.base.as_deref() == Some(e.id.as_str())
        })
    };
    let triaged_at = events
        .iter()
        .filter(|e| e.kind == "state")
        .filter(|e| {
            e.value
                .get("state")
                .and_then(Value::as_str)
                .is_some_and(|s| TRIAGE_STATES.iter().any(|t| t.as_str() == s))
        })
        .filter(|e| !undone(e))
        .map(|e| e.at.as_str())
        .min();
    let coordinator_at = events
        .iter()
        .filter(|e| e.kind == "coordinator")
        .filter(|e| e.value.get("coordinator").is_some_and(|c| !c.is_null()))
        .map(|e| e.at.as_str())
        .min();
    conn.execute(
        "INSERT INTO team_milestones (report_id, first_at, triaged_at, coordinator_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (report_id) DO UPDATE SET first_at = excluded.first_at,
            triaged_at = excluded.triaged_at, coordinator_at = excluded.coordinator_at",
        params![id, first_at, triaged_at, coordinator_at],
    )?;
    Ok(())
}
