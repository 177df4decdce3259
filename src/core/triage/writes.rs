//! The low-level writes every action shares, inside the action's transaction: reading the
//! report as it is now, the stale-view check, field changes each with their audit event, and
//! the version bump.

use rusqlite::{params, Connection, OptionalExtension};

use super::{ClassSnapshot, Request, StateSnapshot, TriageError};
use crate::core::model::{Class, ReportId, ReportState};
use crate::core::store::timestamp;

/// The triage fields of a report, as stored now.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    pub id: ReportId,
    pub state: StateSnapshot,
    pub class: Option<Class>,
    pub class_confirmed: bool,
    pub coordinator: Option<String>,
    pub flagged: bool,
    pub version: i64,
}

impl Current {
    pub fn class_snapshot(&self) -> ClassSnapshot {
        ClassSnapshot {
            class: self.class,
            confirmed: self.class_confirmed,
            state: self.state.clone(),
        }
    }
}

/// Reads the report, or says there is no such report.
pub(crate) fn load(conn: &Connection, id: ReportId) -> Result<Current, TriageError> {
    let row = conn
        .query_row(
            "SELECT state, invalid_reason, duplicate_of, class, class_confirmed, coordinator,
                    flagged, version
             FROM reports WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .optional()?
        .ok_or(TriageError::NoSuchReport(id))?;
    let (state, reason, duplicate_of, class, confirmed, coordinator, flagged, version) = row;
    let bad = |field: &'static str, value: &str| TriageError::BadStoredValue {
        id,
        field,
        value: value.to_string(),
    };
    Ok(Current {
        id,
        state: StateSnapshot {
            state: state.parse().map_err(|_| bad("state", &state))?,
            invalid_reason: match reason {
                Some(r) => Some(r.parse().map_err(|_| bad("invalid reason", &r))?),
                None => None,
            },
            duplicate_of,
        },
        class: match class {
            Some(c) => Some(c.parse().map_err(|_| bad("class", &c))?),
            None => None,
        },
        class_confirmed: confirmed,
        coordinator,
        flagged,
        version,
    })
}

/// Loads the report and refuses the change when the caller's view of it is stale.
pub(crate) fn load_checking_version(
    conn: &Connection,
    id: ReportId,
    req: &Request,
) -> Result<Current, TriageError> {
    let current = load(conn, id)?;
    if let Some(loaded) = req.expected_version {
        if loaded != current.version {
            let (by, at) = last_change(conn, id)?;
            return Err(TriageError::StaleView {
                id,
                by,
                at,
                loaded,
                current: current.version,
            });
        }
    }
    Ok(current)
}

/// Who made the latest recorded change to a report, and when.
fn last_change(conn: &Connection, id: ReportId) -> Result<(String, String), TriageError> {
    Ok(conn
        .query_row(
            "SELECT actor, at FROM events WHERE report_id = ?1 ORDER BY id DESC LIMIT 1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or_else(|| ("someone".into(), "an unknown time".into())))
}

/// Appends one audit event.
pub(crate) fn event(
    conn: &Connection,
    id: ReportId,
    req: &Request,
    kind: &str,
    before: Option<&str>,
    after: Option<&str>,
    detail: Option<&str>,
) -> Result<(), TriageError> {
    event_row(conn, id, req, kind, (before, after), detail).map(|_| ())
}

/// Appends one audit event, as [`event`] does, and returns its row id.
pub(crate) fn event_row(
    conn: &Connection,
    id: ReportId,
    req: &Request,
    kind: &str,
    (before, after): (Option<&str>, Option<&str>),
    detail: Option<&str>,
) -> Result<i64, TriageError> {
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            req.actor,
            timestamp(req.at),
            kind,
            before,
            after,
            detail
        ],
    )?;
    // Taken before the team's own rows are written.
    let row = conn.last_insert_rowid();
    // The same change as a team event for the other desks (core::team).
    crate::core::team::local::on_audit(
        conn,
        id,
        &req.actor,
        &timestamp(req.at),
        kind,
        (before, after),
        detail,
    )?;
    Ok(row)
}

/// Bumps the version once per action; returns the new version.
pub(crate) fn bump(
    conn: &Connection,
    current: &Current,
    req: &Request,
) -> Result<i64, TriageError> {
    conn.execute(
        "UPDATE reports SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        params![current.id, timestamp(req.at)],
    )?;
    Ok(current.version + 1)
}

/// Writes a new state (with its reason and duplicate link) and its events. Does not consult
/// the lifecycle table: callers check the move first (or are undoing one). Every state
/// change made here passes through it, so it alone keeps a real report from being hidden
/// behind spam ([`refuse_behind_spam`]); a teammate's change that would do it holds the
/// report open instead (`core::team::hold`), and this change lets such holds go when it
/// reopens their original.
pub(crate) fn write_state(
    conn: &Connection,
    current: &Current,
    to: &StateSnapshot,
    req: &Request,
    detail: Option<&str>,
) -> Result<(), TriageError> {
    let from = &current.state;
    if from == to {
        return Ok(());
    }
    refuse_behind_spam(conn, current.id, to)?;
    conn.execute(
        "UPDATE reports SET state = ?2, invalid_reason = ?3, duplicate_of = ?4 WHERE id = ?1",
        params![
            current.id,
            to.state.as_str(),
            to.invalid_reason.map(|r| r.as_str()),
            to.duplicate_of
        ],
    )?;
    if from.duplicate_of != to.duplicate_of {
        let id_text = |d: Option<ReportId>| d.map(|d| d.to_string());
        event(
            conn,
            current.id,
            req,
            "duplicate",
            id_text(from.duplicate_of).as_deref(),
            id_text(to.duplicate_of).as_deref(),
            None,
        )?;
    }
    if from.state != to.state || from.invalid_reason != to.invalid_reason {
        let reason = to.invalid_reason.map(|r| r.as_str());
        event(
            conn,
            current.id,
            req,
            "state",
            Some(from.state.as_str()),
            Some(to.state.as_str()),
            reason.or(detail),
        )?;
    } else if from.duplicate_of != to.duplicate_of {
        // Linked to another original: the audit log has its `duplicate` entry, and the
        // team's state register takes the new original, or other desks would keep the
        // old link (and could close the report behind it).
        crate::core::team::local::on_audit(
            conn,
            current.id,
            &req.actor,
            &timestamp(req.at),
            "state",
            (None, Some(to.state.as_str())),
            None,
        )?;
    }
    crate::core::team::hold::settle(conn, current.id, &timestamp(req.at))?;
    Ok(())
}

/// A real report is never closed behind spam, out of every open queue with no one looking
/// at it again: not linked as a duplicate of a report closed as spam, and no report closed
/// as spam while reports are closed as its duplicates. The duplicate finder and the desk's
/// `d` offer earlier reports, and a spammer who copied a real report's words earlier would
/// otherwise take its place. Nor is a report closed in a loop of duplicates. Checked for
/// every change, undo included.
fn refuse_behind_spam(
    conn: &Connection,
    id: ReportId,
    to: &StateSnapshot,
) -> Result<(), TriageError> {
    if let (ReportState::Duplicate, Some(original)) = (to.state, to.duplicate_of) {
        refuse_cycle(conn, id, original)?;
        if load(conn, original)?.state.state == ReportState::Spam {
            return Err(TriageError::OriginalIsSpam { id, original });
        }
        // A loop the rows cannot show: held open reports keep no link, but the team's
        // winning links from the original lead back here, and the change would only be held
        // open again (docs/team.md).
        if crate::core::team::hold::would_hold(
            conn,
            id,
            ReportState::Duplicate.as_str(),
            Some(original),
        )? {
            return Err(TriageError::DuplicateCycle {
                id,
                original,
                chain: format!("#{original} → … → #{id}, as the team's desks linked them"),
            });
        }
    }
    if to.state != ReportState::Spam {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM reports WHERE duplicate_of = ?1 AND state = 'duplicate' ORDER BY id",
    )?;
    let behind = stmt
        .query_map([id], |r| r.get::<_, ReportId>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if behind.is_empty() {
        return Ok(());
    }
    let duplicates = behind
        .iter()
        .map(|d| format!("#{d}"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(TriageError::DuplicatesBehindSpam { id, duplicates })
}

/// Follows `original`'s own duplicate links; reaching `id` would make a loop.
pub(crate) fn refuse_cycle(
    conn: &Connection,
    id: ReportId,
    original: ReportId,
) -> Result<(), TriageError> {
    let mut chain = vec![original];
    let mut at = load(conn, original)?.state.duplicate_of;
    while let Some(next) = at {
        if next == id {
            let links: Vec<String> = chain.iter().map(|c| format!("#{c}")).collect();
            return Err(TriageError::DuplicateCycle {
                id,
                original,
                chain: format!("{} → #{id}", links.join(" → ")),
            });
        }
        if chain.contains(&next) {
            break; // An existing loop elsewhere: not ours to report, and we must not spin.
        }
        chain.push(next);
        at = conn
            .query_row(
                "SELECT duplicate_of FROM reports WHERE id = ?1",
                [next],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
    }
    Ok(())
}

/// Writes a class (and whether a person confirmed it) and its event.
pub(crate) fn write_class(
    conn: &Connection,
    current: &Current,
    class: Option<Class>,
    confirmed: bool,
    req: &Request,
) -> Result<(), TriageError> {
    if current.class == class && current.class_confirmed == confirmed {
        return Ok(());
    }
    conn.execute(
        "UPDATE reports SET class = ?2, class_confirmed = ?3 WHERE id = ?1",
        params![current.id, class.map(Class::as_str), confirmed],
    )?;
    event(
        conn,
        current.id,
        req,
        "class",
        current.class.map(Class::as_str),
        class.map(Class::as_str),
        Some(if confirmed { "confirmed" } else { "suggested" }),
    )
}

/// The snapshot for moving to a plain state (no reason, no duplicate link).
pub(crate) fn plain(state: ReportState) -> StateSnapshot {
    StateSnapshot {
        state,
        invalid_reason: None,
        duplicate_of: None,
    }
}
