//! Applying a template's state change once its reply has been sent, through the triage
//! actions (so the lifecycle table, the audit log and the stale-view guard all apply).
//!
//! Sending a reply to a `new` report is itself an acknowledgement: when the template's
//! state cannot follow `new` directly (`needs-info`, for instance), the report moves
//! through `acknowledged` first.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::StateChange;
use crate::core::lifecycle;
use crate::core::model::{ReportId, ReportState};
use crate::core::store::{Store, StoreError};
use crate::core::triage::{self, Request, TriageError};

/// Moves report `id` as `change` says, recorded as done by `actor` at `at`. Returns the
/// states it went through (empty when it was already there).
pub fn apply(
    store: &mut Store,
    id: ReportId,
    change: StateChange,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Vec<ReportState>, TriageError> {
    let current: Option<(String, Option<String>)> = store
        .conn()
        .query_row(
            "SELECT state, invalid_reason FROM reports WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::from)?;
    let Some((state, reason)) = current else {
        return Err(TriageError::NoSuchReport(id));
    };
    let current: Option<ReportState> = state.parse().ok();
    let same_reason = reason.as_deref() == change.reason.map(|r| r.as_str());
    if current == Some(change.state) && same_reason {
        return Ok(Vec::new());
    }
    let req = Request::new(actor).at(at);
    let mut path = Vec::new();
    if current == Some(ReportState::New)
        && !lifecycle::is_allowed(ReportState::New, change.state)
        && lifecycle::is_allowed(ReportState::Acknowledged, change.state)
    {
        triage::set_state(store, &req, id, ReportState::Acknowledged, None, None)?;
        path.push(ReportState::Acknowledged);
    }
    triage::set_state(store, &req, id, change.state, change.reason, None)?;
    path.push(change.state);
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ingest::{Ingestor, RawIncoming};
    use crate::core::model::InvalidReason;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        Ingestor::without_classifier()
            .ingest_batch(
                &mut store,
                vec![RawIncoming::file(b"Message-ID: <a@x>\nSubject: s\n\nb\n")],
                None,
            )
            .unwrap();
        (dir, store)
    }

    fn state(store: &Store) -> String {
        store
            .conn()
            .query_row("SELECT state FROM reports WHERE id = 1", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn needs_info_from_new_goes_through_acknowledged() {
        let (_d, mut store) = store();
        let change = StateChange {
            state: ReportState::NeedsInfo,
            reason: None,
        };
        let path = apply(&mut store, 1, change, "me@x", Utc::now()).unwrap();
        assert_eq!(
            path,
            vec![ReportState::Acknowledged, ReportState::NeedsInfo]
        );
        assert_eq!(state(&store), "needs-info");
        // Already there: nothing to do.
        assert!(apply(&mut store, 1, change, "me@x", Utc::now())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn invalid_with_reason_and_refused_moves_are_reported() {
        let (_d, mut store) = store();
        let invalid = StateChange {
            state: ReportState::Invalid,
            reason: Some(InvalidReason::ThirdParty),
        };
        apply(&mut store, 1, invalid, "me@x", Utc::now()).unwrap();
        assert_eq!(state(&store), "invalid");
        let disclosed = StateChange {
            state: ReportState::Disclosed,
            reason: None,
        };
        let e = apply(&mut store, 1, disclosed, "me@x", Utc::now())
            .unwrap_err()
            .to_string();
        assert!(e.contains("#1") && e.contains("disclosed"), "{e}");
    }
}
