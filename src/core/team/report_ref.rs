//! How desks name a report to each other ([`ReportRef`]: the first incoming message's
//! Message-ID, or its content hash) and find it again in their own store. A leaf, so the
//! merge's store and the code that applies winning values share it without importing each
//! other.

use rusqlite::{Connection, OptionalExtension};

use super::event::ReportRef;

/// The local report an event names, if this desk has its mail.
pub fn resolve(conn: &Connection, r: &ReportRef) -> rusqlite::Result<Option<i64>> {
    let (sql, v) = match r {
        ReportRef::MessageId(m) => (
            "SELECT report_id FROM messages WHERE message_id = ?1 ORDER BY id LIMIT 1",
            m,
        ),
        // Events name it in hex; the store keeps its 32 bytes (`core::parse::content_digest`).
        ReportRef::ContentHash(h) => (
            "SELECT report_id FROM messages WHERE content_hash = unhex(?1)",
            h,
        ),
    };
    conn.query_row(sql, [v], |row| row.get(0)).optional()
}

/// How every desk names a local report: its first incoming message's Message-ID, or that
/// message's content hash when it has none, or when an earlier message of another report
/// holds the same Message-ID (a squatted id, `core::ingest::evidence`): [`resolve`] finds the
/// earliest holder of an id, so naming this report by it would change another one.
pub fn report_ref(conn: &Connection, report_id: i64) -> rusqlite::Result<Option<ReportRef>> {
    let row: Option<(Option<String>, String)> = conn
        .query_row(
            "SELECT message_id, lower(hex(content_hash)) FROM messages WHERE report_id = ?1
             ORDER BY direction = 'out', id LIMIT 1",
            [report_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((mid, hash)) = row else {
        return Ok(None);
    };
    if let Some(m) = mid.filter(|m| !m.trim().is_empty()) {
        let by_id = ReportRef::MessageId(m);
        if resolve(conn, &by_id)? == Some(report_id) {
            return Ok(Some(by_id));
        }
    }
    Ok(Some(ReportRef::ContentHash(hash)))
}
