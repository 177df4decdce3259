//! Events from people outside `[team] members`, kept without being applied (docs/team.md).
//! A member added later (often after the warning said to) may have written them; once the
//! actor is a member, the next fold applies them, through the same merge as any late event,
//! so the result is the one every desk reaches. They are never applied while the actor is
//! not a member.

use rusqlite::{params, Connection};

use super::event::Event;

/// Keeps an event from a non-member, with when it arrived here (for a reply start's time,
/// [`super::replying`]). Kept once per id.
pub(super) fn keep(conn: &Connection, ev: &Event, arrived: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO team_withheld (id, actor, lamport, json, arrived_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            ev.id,
            ev.actor,
            ev.lamport,
            serde_json::to_string(ev).unwrap_or_default(),
            arrived
        ],
    )?;
    Ok(())
}

/// Takes out of keeping, in the merge's order `(lamport, actor, id)`, the events whose actor
/// is now one of `members`, each with when it arrived. The caller applies them in the same
/// transaction. An event stored unreadable (no secdesk writes one) is dropped.
pub(super) fn admit(
    conn: &Connection,
    members: &[String],
) -> rusqlite::Result<Vec<(Event, String)>> {
    let kept: Vec<(String, String, String, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, actor, json, arrived_at FROM team_withheld ORDER BY lamport, actor, id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for (id, actor, json, arrived) in kept {
        if !members.iter().any(|m| m.eq_ignore_ascii_case(&actor)) {
            continue;
        }
        conn.execute("DELETE FROM team_withheld WHERE id = ?1", [&id])?;
        if let Ok(ev) = serde_json::from_str::<Event>(&json) {
            out.push((ev, arrived));
        }
    }
    Ok(out)
}
