//! Team notes: internal remarks on a report, never sent to the reporter.

use rusqlite::{params, Connection};

use super::transaction::in_transaction;
use super::writes::{self, event, load_checking_version};
use super::{Applied, Note, Request, TriageError, Undo};
use crate::core::model::ReportId;
use crate::core::store::{timestamp, Store};

/// Adds a team note. Notes are never sent to the reporter.
pub fn add_note(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    text: &str,
) -> Result<Applied<Option<Note>>, TriageError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(TriageError::EmptyNote { id });
    }
    in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        let note = insert_note(conn, id, req, text)?;
        let version = writes::bump(conn, &current, req)?;
        Ok(Applied {
            report_id: id,
            before: None,
            undo: Undo::Note(note.id),
            after: Some(note),
            version,
        })
    })
}

pub(super) fn insert_note(
    conn: &Connection,
    id: ReportId,
    req: &Request,
    text: &str,
) -> Result<Note, TriageError> {
    let at = timestamp(req.at);
    conn.execute(
        "INSERT INTO notes (report_id, author, at, text) VALUES (?1, ?2, ?3, ?4)",
        params![id, req.actor, at, text],
    )?;
    let note_id = conn.last_insert_rowid();
    event(
        conn,
        id,
        req,
        "note",
        None,
        Some(text),
        Some(&note_id.to_string()),
    )?;
    Ok(Note {
        id: note_id,
        author: req.actor.clone(),
        at,
        text: text.to_string(),
    })
}
