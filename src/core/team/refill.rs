//! Putting back events the events folder lost (docs/team.md, "When the folder loses
//! events"). The folder is the only way members learn each other's changes: when it is
//! deleted and created again, renumbered, or holds fewer events than this desk knows of,
//! events some member has not read yet may be gone from the server. Every desk keeps every
//! event it applied, so each desk queues again those of its events the folder no longer
//! holds; event ids make any copy harmless to the desks that have it already.

use std::collections::HashSet;

use rusqlite::params;

use super::TeamError;
use crate::core::store::Store;

/// Why this desk reads the whole folder again and puts back what it misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderLoss {
    /// The folder did not exist: it was deleted (or renamed) since this desk last read it.
    Recreated,
    /// Its UIDVALIDITY changed (RFC 3501 §2.3.1.1): it was re-created or renumbered.
    Renumbered,
    /// It holds fewer messages than this desk knows events from it: some were expunged.
    Fewer { messages: u32, known: u64 },
    /// This desk never read it (`[team] events_mailbox` changed): it gets what the desk holds.
    Unread,
}

impl FolderLoss {
    /// `was deleted and created again`, for the line that says what was put back.
    pub fn describe(&self) -> String {
        match self {
            FolderLoss::Recreated => "was deleted and created again".into(),
            FolderLoss::Renumbered => "was re-created or renumbered (new UIDVALIDITY)".into(),
            FolderLoss::Fewer { messages, known } => format!(
                "holds {messages} messages, fewer than the {known} events this desk read or wrote there"
            ),
            FolderLoss::Unread => "is new to this desk (was [team] events_mailbox changed?)".into(),
        }
    }
}

/// How many events this desk holds that were already in the events folder: every event it
/// applied from a member (its own pushed ones included), less those still queued. Events
/// withheld from non-members are not counted: they are not the team's.
pub fn known_in_folder(store: &Store) -> Result<u64, TeamError> {
    Ok(store.conn().query_row(
        "SELECT count(*) FROM team_events
         WHERE id NOT IN (SELECT event_id FROM team_outbox)",
        [],
        |r| r.get(0),
    )?)
}

/// Queues again, oldest first, every event this desk holds whose id is not in `present`
/// (the ids of the events the folder holds now, read in full). Returns how many. One
/// transaction; the events go out with the next push, one APPEND each.
pub fn requeue_absent(store: &mut Store, present: &HashSet<String>) -> Result<usize, TeamError> {
    let tx = store.write_transaction()?;
    let held: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, json FROM team_events
             WHERE id NOT IN (SELECT event_id FROM team_outbox)
             ORDER BY lamport, actor, id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut queued = 0;
    for (id, json) in held.iter().filter(|(id, _)| !present.contains(id)) {
        queued += tx.execute(
            "INSERT OR IGNORE INTO team_outbox (event_id, json) VALUES (?1, ?2)",
            params![id, json],
        )?;
    }
    tx.commit()?;
    Ok(queued)
}
