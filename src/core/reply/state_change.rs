//! Applying a template's state change once its reply has been sent, through the triage
//! actions (so the lifecycle table, the audit log and the stale-view check all apply).
//!
//! Sending a reply to a `new` report is itself an acknowledgement: when the template's
//! state cannot follow `new` directly (`needs-info`, for instance), the report moves
//! through `acknowledged` first. A report already past the template's state on the open
//! track (an "acknowledge" template on a triaged report) stays where it is. [`plan`] says
//! which of these will happen, so a preview can say it before anything is sent.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::StateChange;
use crate::core::lifecycle;
use crate::core::model::{InvalidReason, ReportId, ReportState};
use crate::core::store::{Store, StoreError};
use crate::core::triage::{self, Request, TriageError};

/// What sending the reply will do to the report's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Already there: nothing changes.
    Stays(ReportState),
    /// Already further along the open track than the template's state: nothing changes.
    AlreadyPast {
        current: ReportState,
        template: ReportState,
    },
    /// These moves, in order.
    Moves(Vec<ReportState>),
    /// The lifecycle does not allow it: the report stays, and the reply is still sent.
    Refused(lifecycle::TransitionRefused),
}

/// The open track, in order: a template's state earlier on it than the report's is passed.
const OPEN_TRACK: [ReportState; 4] = [
    ReportState::Acknowledged,
    ReportState::Triaged,
    ReportState::Fixing,
    ReportState::Disclosed,
];

/// What sending a reply with `change` does to a report in `current` (with `reason`).
pub fn plan(current: ReportState, reason: Option<InvalidReason>, change: StateChange) -> Plan {
    if current == change.state && reason == change.reason {
        return Plan::Stays(current);
    }
    if lifecycle::is_allowed(current, change.state) || current == change.state {
        return Plan::Moves(vec![change.state]);
    }
    if current == ReportState::New && lifecycle::is_allowed(ReportState::Acknowledged, change.state)
    {
        return Plan::Moves(vec![ReportState::Acknowledged, change.state]);
    }
    let rank = |s| OPEN_TRACK.iter().position(|t| *t == s);
    let past = matches!((rank(current), rank(change.state)), (Some(c), Some(t)) if c > t)
        || (current == ReportState::NeedsInfo && change.state == ReportState::Acknowledged);
    if past {
        return Plan::AlreadyPast {
            current,
            template: change.state,
        };
    }
    match lifecycle::check(current, change.state) {
        Err(refused) => Plan::Refused(refused),
        Ok(()) => Plan::Moves(vec![change.state]),
    }
}

impl Plan {
    /// What the preview says will happen after sending, e.g. "#4 becomes acknowledged",
    /// "#4 stays triaged (already past acknowledged)".
    pub fn describe(&self, id: ReportId) -> String {
        match self {
            Plan::Stays(s) => format!("#{id} stays {s}"),
            Plan::AlreadyPast { current, template } => {
                format!("#{id} stays {current} (already past {template})")
            }
            Plan::Moves(path) => {
                let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                format!("#{id} becomes {}", path.join(", then "))
            }
            Plan::Refused(r) => format!(
                "#{id} stays {} (the template's {} is not allowed from there)",
                r.from, r.to
            ),
        }
    }
}

/// [`plan`] for report `id` as it is stored now.
pub fn plan_for(store: &Store, id: ReportId, change: StateChange) -> Result<Plan, TriageError> {
    let (current, reason) = current(store, id)?;
    Ok(plan(current, reason, change))
}

/// The report's state and invalid reason as stored now.
pub fn current(
    store: &Store,
    id: ReportId,
) -> Result<(ReportState, Option<InvalidReason>), TriageError> {
    let row: Option<(String, Option<String>)> = store
        .conn()
        .query_row(
            "SELECT state, invalid_reason FROM reports WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::from)?;
    let Some((state, reason)) = row else {
        return Err(TriageError::NoSuchReport(id));
    };
    let Ok(current) = state.parse::<ReportState>() else {
        return Err(TriageError::BadStoredValue {
            id,
            field: "state",
            value: state,
        });
    };
    Ok((current, reason.and_then(|r| r.parse().ok())))
}

/// Moves report `id` as `change` says, recorded as done by `actor` at `at`. Returns the
/// states it went through (empty when it stays where it is, see [`plan`]).
pub fn apply(
    store: &mut Store,
    id: ReportId,
    change: StateChange,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Vec<ReportState>, TriageError> {
    let req = Request::new(actor).at(at);
    match plan_for(store, id, change)? {
        Plan::Stays(_) | Plan::AlreadyPast { .. } => Ok(Vec::new()),
        Plan::Refused(refused) => Err(TriageError::Transition { id, refused }),
        Plan::Moves(path) => {
            for (i, s) in path.iter().enumerate() {
                let last = i + 1 == path.len();
                let reason = if last { change.reason } else { None };
                triage::set_state(store, &req, id, *s, reason, None)?;
            }
            Ok(path)
        }
    }
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
    fn the_plan_says_what_sending_will_really_do() {
        let ack = StateChange {
            state: ReportState::Acknowledged,
            reason: None,
        };
        let p = plan(ReportState::Triaged, None, ack);
        assert_eq!(
            p.describe(1),
            "#1 stays triaged (already past acknowledged)"
        );
        assert_eq!(
            plan(ReportState::New, None, ack).describe(1),
            "#1 becomes acknowledged"
        );
        let info = StateChange {
            state: ReportState::NeedsInfo,
            reason: None,
        };
        assert_eq!(
            plan(ReportState::New, None, info).describe(2),
            "#2 becomes acknowledged, then needs-info"
        );
        assert_eq!(
            plan(ReportState::Acknowledged, None, ack).describe(3),
            "#3 stays acknowledged"
        );
        assert!(matches!(
            plan(ReportState::Spam, None, info),
            Plan::Refused(_)
        ));
    }

    #[test]
    fn an_acknowledge_template_leaves_a_triaged_report_alone() {
        let (_d, mut store) = store();
        let req = Request::new("me@x");
        triage::set_state(&mut store, &req, 1, ReportState::Triaged, None, None).unwrap();
        let ack = StateChange {
            state: ReportState::Acknowledged,
            reason: None,
        };
        assert!(apply(&mut store, 1, ack, "me@x", Utc::now())
            .unwrap()
            .is_empty());
        assert_eq!(state(&store), "triaged");
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
