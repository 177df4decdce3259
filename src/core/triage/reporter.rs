//! What a reporter's reply does to a report: one waiting in `needs-info` goes back to the state
//! it was in before the team asked, and is flagged so the team notices. Called by ingest, in
//! the ingest transaction, when an incoming message joins an existing report.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::SYSTEM_ACTOR;
use crate::core::lifecycle;
use crate::core::model::{ReportId, ReportState};
use crate::core::store::{timestamp, Result};

/// Why the state changed, in the audit log.
const REPLY_DETAIL: &str = "the reporter replied";

/// Handles a reporter's reply joining report `id`; the change is logged at `at`, the time
/// secdesk makes it (not the message's date: an archive imported late must not rewrite when
/// the team's clock stopped). Returns the state the report went back to, or `None` when it
/// was not waiting on the reporter.
pub fn reply_arrived(
    conn: &Connection,
    id: ReportId,
    at: DateTime<Utc>,
) -> Result<Option<ReportState>> {
    let row: Option<(String, bool)> = conn
        .query_row(
            "SELECT state, flagged FROM reports WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((state, flagged)) = row else {
        return Ok(None);
    };
    if state != ReportState::NeedsInfo.as_str() {
        return Ok(None);
    }
    // The state before needs-info comes from the audit log, not from a stored field.
    let before: Option<String> = conn
        .query_row(
            "SELECT before FROM events WHERE report_id = ?1 AND kind = 'state' AND after = ?2
             ORDER BY id DESC LIMIT 1",
            params![id, ReportState::NeedsInfo.as_str()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let back = before
        .and_then(|s| s.parse::<ReportState>().ok())
        .filter(|s| lifecycle::is_allowed(ReportState::NeedsInfo, *s))
        .unwrap_or(ReportState::Acknowledged);
    let at = timestamp(at);
    conn.execute(
        "UPDATE reports SET state = ?2, flagged = 1, version = version + 1, updated_at = ?3
         WHERE id = ?1",
        params![id, back.as_str(), at],
    )?;
    let mut event = conn.prepare_cached(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    event.execute(params![
        id,
        SYSTEM_ACTOR,
        at,
        "state",
        ReportState::NeedsInfo.as_str(),
        back.as_str(),
        REPLY_DETAIL
    ])?;
    if !flagged {
        event.execute(params![
            id,
            SYSTEM_ACTOR,
            at,
            "flag",
            "cleared",
            "flagged",
            REPLY_DETAIL
        ])?;
    }
    Ok(Some(back))
}
