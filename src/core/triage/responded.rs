//! First responses given outside secdesk: `secdesk responded ID --via phone|other` records
//! that the reporter was answered elsewhere, so the acknowledge clock stops as it does for
//! a reply sent from secdesk. Confirming a class or moving a state is not a response.

use super::transaction::in_transaction;
use super::writes::{self, event, event_row, load_checking_version};
use super::{Applied, Request, TriageError, Undo};
use crate::core::model::ReportId;
use crate::core::store::Store;

/// The audit event kind of a response given outside secdesk.
pub const RESPONDED: &str = "responded";

/// How the reporter was answered, when not by a reply sent from secdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Phone,
    Other,
}

impl std::str::FromStr for Via {
    type Err = String;

    fn from_str(s: &str) -> Result<Via, String> {
        match s.to_ascii_lowercase().as_str() {
            "phone" => Ok(Via::Phone),
            "other" => Ok(Via::Other),
            _ => Err(format!(
                "--via {s:?}: say how the reporter was answered: phone or other (a reply sent with `secdesk reply` counts by itself)"
            )),
        }
    }
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Phone => "phone",
            Via::Other => "other",
        }
    }
}

/// Records that the reporter of `id` was answered `via` a way outside secdesk. The event
/// is undoable: [`super::revert`] with the returned undo marks it taken back, and the
/// clocks then ignore it.
pub fn responded(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    via: Via,
) -> Result<Applied<Option<String>>, TriageError> {
    in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        let event_id = event_row(conn, id, req, RESPONDED, (None, Some(via.as_str())), None)?;
        let version = writes::bump(conn, &current, req)?;
        Ok(Applied {
            report_id: id,
            before: None,
            after: Some(via.as_str().to_string()),
            version,
            undo: Undo::Responded(event_id),
        })
    })
}

/// Takes a recorded response back: a `responded` event with detail `undo` naming it.
pub(super) fn take_back(
    conn: &rusqlite::Connection,
    id: ReportId,
    req: &Request,
    event_id: i64,
) -> Result<(), TriageError> {
    let recorded: i64 = conn.query_row(
        "SELECT count(*) FROM events WHERE id = ?1 AND report_id = ?2 AND kind = ?3",
        rusqlite::params![event_id, id, RESPONDED],
        |r| r.get(0),
    )?;
    if recorded == 0 {
        return Err(TriageError::NothingToUndo { id });
    }
    event(
        conn,
        id,
        req,
        RESPONDED,
        Some(&event_id.to_string()),
        None,
        Some("undo"),
    )
}
