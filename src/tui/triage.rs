//! The desk's triage writes: each [`TriageOp`] is one call into the triage core, made with
//! the version the view loaded, so a change from a stale view is refused with the core's
//! message. Each change comes back with its undo, which `u` hands to the core's `revert`.

use chrono::{DateTime, Utc};

use crate::core::config::Config;
use crate::core::model::{InvalidReason, ReportState};
use crate::core::store::Store;
use crate::core::triage::{self, Request, TriageError, Undo};

use super::action::{Applied, Batch, Change, TriageOp, UndoEntry};

/// Applies every op of the batch, each in its own transaction: one refused report does not
/// hold back the others.
pub fn apply(store: &mut Store, config: &Config, now: DateTime<Utc>, batch: Batch) -> Applied {
    let mut out = Applied {
        label: batch.label,
        undo: false,
        changed: Vec::new(),
        unchanged: Vec::new(),
        refused: Vec::new(),
        restored: Vec::new(),
        near_copies: 0,
    };
    for op in batch.ops {
        let req = Request::new(config.identity.email.clone())
            .at(now)
            .if_version(Some(op.version));
        match one(store, config, &req, &op) {
            Ok((_, Undo::Nothing)) => out.unchanged.push(op.id),
            Ok((version, undo)) => {
                if matches!(op.change, Change::Mark(..) | Change::State(..)) {
                    let copies = crate::core::classify::near_copies_of(store.conn(), op.id);
                    out.near_copies += usize::from(copies.is_ok_and(|n| n > 0));
                }
                out.changed.push((op.id, version, undo));
            }
            Err(e) => out.refused.push((op.id, refusal(&e, store.path()))),
        }
    }
    out
}

/// Why a change was refused, in the desk's words: the CLI's hint to run `secdesk list`
/// means nothing here, where the queue is on screen.
fn refusal(e: &TriageError, path: &std::path::Path) -> String {
    super::text::triage_error(e, path)
}

fn one(
    store: &mut Store,
    config: &Config,
    req: &Request,
    op: &TriageOp,
) -> Result<(i64, Undo), TriageError> {
    let id = op.id;
    Ok(match &op.change {
        Change::Mark(class, reason) => {
            let a = triage::mark(store, req, id, *class, *reason)?;
            (a.version, a.undo)
        }
        Change::State(state, reason) => {
            let a = triage::set_state(store, req, id, *state, *reason, None)?;
            (a.version, a.undo)
        }
        Change::Assign(who) => {
            let a = triage::assign(store, req, config, id, who)?;
            (a.version, a.undo)
        }
        Change::Take => {
            let a = triage::take(store, req, id)?;
            (a.version, a.undo)
        }
        Change::Note(text) => {
            let a = triage::add_note(store, req, id, text)?;
            (a.version, a.undo)
        }
        Change::InvalidBecause(why) => {
            let other = Some(InvalidReason::Other);
            let a = triage::set_state(store, req, id, ReportState::Invalid, other, Some(why))?;
            (a.version, a.undo)
        }
        Change::Responded(via) => {
            let a = triage::responded(store, req, id, *via)?;
            (a.version, a.undo)
        }
        Change::DuplicateOf(original) => {
            let a = triage::mark_duplicate(store, req, id, *original)?;
            (a.version, a.undo)
        }
    })
}

/// Takes a batch back, report by report, each guarded by the version the change left.
pub fn undo(store: &mut Store, config: &Config, now: DateTime<Utc>, entry: UndoEntry) -> Applied {
    let mut out = Applied {
        label: entry.label,
        undo: true,
        changed: Vec::new(),
        unchanged: Vec::new(),
        refused: Vec::new(),
        restored: Vec::new(),
        near_copies: 0,
    };
    for (id, version, token) in entry.items {
        let req = Request::new(config.identity.email.clone())
            .at(now)
            .if_version(Some(version));
        match triage::revert(store, &req, id, &token) {
            Ok(v) => {
                out.changed.push((id, v, Undo::Nothing));
                // Every action bumps the version exactly once (`writes::bump`), so the
                // change taken back started from `version - 1`.
                out.restored.push((id, version - 1, v));
            }
            // "Reload and retry" is no advice for an undo: it cannot be retried.
            Err(TriageError::StaleView { by, at, .. }) => {
                out.refused
                    .push((id, super::text::undo_stale(id, &by, &at)));
            }
            Err(e) => out.refused.push((id, refusal(&e, store.path()))),
        }
    }
    out
}
