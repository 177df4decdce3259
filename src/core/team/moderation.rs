//! Moderation written back to the server (docs/team.md): which server-side change a local
//! triage change calls for, queued in the store for the next sync to carry out
//! (`mailio::moderation`). A report confirmed spam goes to Junk flagged `$Junk`; a report
//! confirmed valid or invalid gets `$NotJunk`; a report restored from spam moves back.

use rusqlite::{params, Connection, OptionalExtension};

use crate::core::store::Store;

use super::TeamError;

/// What to do on the server with a report's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Move to Junk, flag `$Junk`.
    Junk,
    /// Flag `$NotJunk` where they are.
    NotJunk,
    /// Move back from Junk to the synced mailbox, `$Junk` off, `$NotJunk` on.
    Restore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Junk => "junk",
            Action::NotJunk => "notjunk",
            Action::Restore => "restore",
        }
    }

    fn parse(s: &str) -> Option<Action> {
        match s {
            "junk" => Some(Action::Junk),
            "notjunk" => Some(Action::NotJunk),
            "restore" => Some(Action::Restore),
            _ => None,
        }
    }
}

/// Called with each local state or class change (from the audit hook): queues the
/// server-side change it calls for, unless the last one queued for the report already is.
pub(crate) fn on_change(conn: &Connection, report_id: i64, at: &str) -> rusqlite::Result<()> {
    let (state, class, confirmed): (String, Option<String>, bool) = conn.query_row(
        "SELECT state, class, class_confirmed FROM reports WHERE id = ?1",
        [report_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let last: Option<String> = conn
        .query_row(
            "SELECT action FROM moderation_queue WHERE report_id = ?1 ORDER BY seq DESC LIMIT 1",
            [report_id],
            |r| r.get(0),
        )
        .optional()?;
    let last = last.as_deref().and_then(Action::parse);
    let action = if state == "spam" {
        Action::Junk
    } else if last == Some(Action::Junk) {
        Action::Restore
    } else if confirmed && matches!(class.as_deref(), Some("valid" | "invalid")) {
        Action::NotJunk
    } else {
        return Ok(());
    };
    let repeat =
        last == Some(action) || (action == Action::NotJunk && last == Some(Action::Restore));
    if !repeat {
        conn.execute(
            "INSERT INTO moderation_queue (report_id, action, queued_at) VALUES (?1, ?2, ?3)",
            params![report_id, action.as_str(), at],
        )?;
    }
    Ok(())
}

/// Called when another member's state or class change wins here: moderation is written by
/// the desk that decided, but a report this desk moved to Junk that the team has since settled
/// as not spam must come back, or a real report stays where nobody reads it. A Junk not yet
/// carried out is dropped; one carried out is undone by a Restore.
pub(crate) fn on_remote_change(
    conn: &Connection,
    report_id: i64,
    at: &str,
) -> rusqlite::Result<()> {
    let state: String = conn.query_row(
        "SELECT state FROM reports WHERE id = ?1",
        [report_id],
        |r| r.get(0),
    )?;
    if state == "spam" {
        return Ok(());
    }
    let last = |conn: &Connection| {
        conn.query_row(
            "SELECT seq, action, done_at IS NOT NULL FROM moderation_queue
             WHERE report_id = ?1 ORDER BY seq DESC LIMIT 1",
            [report_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            },
        )
        .optional()
    };
    if let Some((seq, action, false)) = last(conn)? {
        if Action::parse(&action) == Some(Action::Junk) {
            conn.execute("DELETE FROM moderation_queue WHERE seq = ?1", [seq])?;
        }
    }
    if let Some((_, action, true)) = last(conn)? {
        if Action::parse(&action) == Some(Action::Junk) {
            conn.execute(
                "INSERT INTO moderation_queue (report_id, action, queued_at) VALUES (?1, ?2, ?3)",
                params![report_id, Action::Restore.as_str(), at],
            )?;
        }
    }
    Ok(())
}

/// A queued server-side change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub seq: i64,
    pub report_id: i64,
    pub action: Action,
    /// The report's incoming messages, to find them on the server.
    pub messages: Vec<ServerMessage>,
}

/// One of a report's messages as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMessage {
    /// Its Message-ID, to search for.
    pub message_id: String,
    /// The mailbox it was synced from (`None` for imported mail).
    pub mailbox: Option<String>,
    /// Its content digest (`core::parse::content_digest`): anyone can reuse a Message-ID,
    /// so a message found by it is this one only when its content is.
    pub digest: Vec<u8>,
}

/// The changes not yet made on the server, oldest first.
pub fn pending(store: &Store) -> Result<Vec<Pending>, TeamError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT seq, report_id, action FROM moderation_queue WHERE done_at IS NULL ORDER BY seq",
    )?;
    let rows: Vec<(i64, i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut ids = conn.prepare_cached(
        "SELECT message_id, mailbox, CAST(content_hash AS BLOB) FROM messages
         WHERE report_id = ?1 AND direction = 'in' AND message_id IS NOT NULL ORDER BY id",
    )?;
    let mut out = Vec::new();
    for (seq, report_id, action) in rows {
        let Some(action) = Action::parse(&action) else {
            continue;
        };
        let messages = ids
            .query_map([report_id], |r| {
                Ok(ServerMessage {
                    message_id: r.get(0)?,
                    mailbox: r.get(1)?,
                    digest: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push(Pending {
            seq,
            report_id,
            action,
            messages,
        });
    }
    Ok(out)
}

/// Records that a queued change was made (or why it could not be, which ends it too: the
/// next change of the report queues a new one).
pub fn finish(store: &Store, seq: i64, at: &str, error: Option<&str>) -> Result<(), TeamError> {
    store.conn().execute(
        "UPDATE moderation_queue SET done_at = ?2, error = ?3 WHERE seq = ?1",
        params![seq, at, error],
    )?;
    Ok(())
}
