//! The triage actions the front ends call. Each one is a single transaction: stale-view check,
//! lifecycle check, change, audit events, version bump.

use rusqlite::{params, Connection, OptionalExtension};

use super::coordinator::write_coordinator;
use super::notes::insert_note;
use super::transaction::in_transaction;
use super::writes::{self, event, load_checking_version, plain, Current};
use super::{Applied, ClassSnapshot, Request, StateSnapshot, TriageError, Undo};
use crate::core::lifecycle;
use crate::core::model::{Class, InvalidReason, ReportId, ReportState};
use crate::core::store::Store;

fn check_move(current: &Current, to: ReportState) -> Result<(), TriageError> {
    lifecycle::check(current.state.state, to).map_err(|refused| TriageError::Transition {
        id: current.id,
        refused,
    })
}

/// The class a state implies: closing as spam or invalid is a person's verdict on the class.
fn class_for(state: ReportState) -> Option<Class> {
    match state {
        ReportState::Spam => Some(Class::Spam),
        ReportState::Invalid => Some(Class::Invalid),
        _ => None,
    }
}

/// Moves a report to `state`. `invalid` needs a `reason`; `duplicate` goes through
/// [`mark_duplicate`]. A `note`, when given, is added as a team note in the same change.
/// Closing as spam or invalid also confirms that class.
pub fn set_state(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    state: ReportState,
    reason: Option<InvalidReason>,
    note: Option<&str>,
) -> Result<Applied<StateSnapshot>, TriageError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let applied = in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        let target = match (state, reason) {
            (ReportState::Invalid, None) => return Err(TriageError::ReasonRequired { id }),
            (ReportState::Invalid, Some(InvalidReason::Other)) if note.is_none() => {
                return Err(TriageError::OtherReasonNeedsText { id })
            }
            (ReportState::Invalid, Some(r)) => StateSnapshot {
                invalid_reason: Some(r),
                ..plain(state)
            },
            (ReportState::Duplicate, _) => return Err(TriageError::OriginalRequired { id }),
            (other, Some(_)) => return Err(TriageError::ReasonNotApplicable { id, state: other }),
            (other, None) => plain(other),
        };
        // Changing the reason of an invalid report is not a move between states.
        let reasoned_again =
            current.state.state == ReportState::Invalid && state == current.state.state;
        if !reasoned_again {
            check_move(&current, state)?;
        }
        writes::write_state(conn, &current, &target, req, note)?;
        let learned =
            class_for(state).filter(|c| current.class != Some(*c) || !current.class_confirmed);
        if let Some(class) = learned {
            writes::write_class(conn, &current, Some(class), true, req)?;
            learn_confirmed_class(conn, id, class)?;
        }
        if let Some(text) = note {
            insert_note(conn, id, req, text)?;
        }
        let version = writes::bump(conn, &current, req)?;
        Ok(Applied {
            report_id: id,
            before: current.state.clone(),
            after: target,
            version,
            undo: Undo::Class(current.class_snapshot()),
        })
    })?;
    Ok(applied)
}

/// Confirms (or changes) a report's class. Spam and invalid also close the report in that
/// state (invalid with `reason`, by default `not-a-vulnerability`); valid moves a `new`
/// report to `acknowledged` and reopens one closed as spam or invalid, and otherwise leaves
/// the state alone. The confirmed class trains the classifier.
pub fn mark(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    class: Class,
    reason: Option<InvalidReason>,
) -> Result<Applied<ClassSnapshot>, TriageError> {
    mark_noted(store, req, id, class, reason, None)
}

/// [`mark`] with a team note added in the same change; with the reason `other`, the note is
/// that reason's words (as for [`set_state`]).
pub fn mark_noted(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    class: Class,
    reason: Option<InvalidReason>,
    note: Option<&str>,
) -> Result<Applied<ClassSnapshot>, TriageError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let applied = in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        let now = &current.state;
        let target = match class {
            Class::Spam if reason.is_some() => {
                return Err(TriageError::ReasonNotApplicable {
                    id,
                    state: ReportState::Spam,
                })
            }
            Class::Spam => plain(ReportState::Spam),
            Class::Invalid if reason == Some(InvalidReason::Other) && note.is_none() => {
                return Err(TriageError::OtherReasonNeedsText { id })
            }
            Class::Invalid => StateSnapshot {
                invalid_reason: reason
                    .or(now.invalid_reason)
                    .or(Some(InvalidReason::NotAVulnerability)),
                ..plain(ReportState::Invalid)
            },
            Class::Valid if reason.is_some() => {
                return Err(TriageError::ReasonNotApplicable {
                    id,
                    state: now.state,
                })
            }
            Class::Valid => match now.state {
                ReportState::New | ReportState::Spam | ReportState::Invalid => {
                    plain(ReportState::Acknowledged)
                }
                _ => now.clone(),
            },
        };
        if target.state != now.state {
            check_move(&current, target.state)?;
        }
        let before = current.class_snapshot();
        let after = ClassSnapshot {
            class: Some(class),
            confirmed: true,
            state: target.clone(),
        };
        let mut version = current.version;
        if before != after {
            writes::write_class(conn, &current, Some(class), true, req)?;
            writes::write_state(conn, &current, &target, req, note)?;
        }
        if let Some(text) = note {
            insert_note(conn, id, req, text)?;
        }
        if before != after || note.is_some() {
            version = writes::bump(conn, &current, req)?;
        }
        if before.class != Some(class) || !before.confirmed {
            learn_confirmed_class(conn, id, class)?;
        }
        Ok(Applied {
            report_id: id,
            undo: if before == after {
                Undo::Nothing
            } else {
                Undo::Class(before.clone())
            },
            before,
            after,
            version,
        })
    })?;
    Ok(applied)
}

/// Teaches the classifier a class a person confirmed, in the same transaction as the change
/// and its audit entry, so the model and the log never disagree.
fn learn_confirmed_class(
    conn: &rusqlite::Connection,
    id: ReportId,
    class: Class,
) -> Result<(), TriageError> {
    crate::core::classify::learn_in(conn, id, class)
        .map(|_| ())
        .map_err(|e| TriageError::Learning(e.to_string()))
}

/// Marks report `id` a duplicate of `original` (closing it in `duplicate`). The original then
/// lists it among its duplicates. Self-links and loops are refused.
pub fn mark_duplicate(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    original: ReportId,
) -> Result<Applied<StateSnapshot>, TriageError> {
    if id == original {
        return Err(TriageError::SelfDuplicate { id });
    }
    in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        writes::refuse_cycle(conn, id, original)?;
        // A duplicate of a duplicate would hide the original: name the original instead.
        let of = writes::load(conn, original)?.state;
        if let (ReportState::Duplicate, Some(root)) = (of.state, of.duplicate_of) {
            return Err(TriageError::OriginalIsDuplicate { id, original, root });
        }
        // Nor may a report be closed behind spam: `writes::write_state` refuses it.
        if current.state.state != ReportState::Duplicate {
            check_move(&current, ReportState::Duplicate)?;
        }
        let target = StateSnapshot {
            duplicate_of: Some(original),
            ..plain(ReportState::Duplicate)
        };
        let mut version = current.version;
        if current.state != target {
            writes::write_state(conn, &current, &target, req, None)?;
            version = writes::bump(conn, &current, req)?;
        }
        Ok(Applied {
            report_id: id,
            undo: if current.state == target {
                Undo::Nothing
            } else {
                Undo::State(current.state.clone())
            },
            before: current.state,
            after: target,
            version,
        })
    })
}

/// Clears the "reporter answered" flag once someone has looked.
pub fn clear_flag(
    store: &mut Store,
    req: &Request,
    id: ReportId,
) -> Result<Applied<bool>, TriageError> {
    in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        let mut version = current.version;
        if current.flagged {
            write_flag(conn, &current, false, req)?;
            version = writes::bump(conn, &current, req)?;
        }
        Ok(Applied {
            report_id: id,
            before: current.flagged,
            after: false,
            version,
            undo: if current.flagged {
                Undo::Flag(true)
            } else {
                Undo::Nothing
            },
        })
    })
}

pub(crate) fn write_flag(
    conn: &Connection,
    current: &Current,
    flagged: bool,
    req: &Request,
) -> Result<(), TriageError> {
    conn.execute(
        "UPDATE reports SET flagged = ?2 WHERE id = ?1",
        params![current.id, flagged],
    )?;
    let text = |b: bool| if b { "flagged" } else { "cleared" };
    event(
        conn,
        current.id,
        req,
        "flag",
        Some(text(current.flagged)),
        Some(text(flagged)),
        None,
    )
}

/// Takes an action back. Pass the version the action returned as `req.expected_version`, so
/// an undo never overwrites someone else's later change. Restores exactly the earlier value,
/// so it is not checked against the lifecycle table; it is audited like any change.
pub fn revert(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    undo: &Undo,
) -> Result<i64, TriageError> {
    in_transaction(store, |conn| {
        let current = load_checking_version(conn, id, req)?;
        match undo {
            Undo::Nothing => return Ok(current.version),
            Undo::State(s) => writes::write_state(conn, &current, s, req, Some("undo"))?,
            Undo::Class(c) => {
                // An undo that would close a report behind spam is refused by write_state.
                writes::write_class(conn, &current, c.class, c.confirmed, req)?;
                writes::write_state(conn, &current, &c.state, req, Some("undo"))?;
                // The model follows the class: back to the earlier confirmed label, or
                // untrained when the class was only a suggestion.
                match (c.class, c.confirmed) {
                    (Some(class), true) => learn_confirmed_class(conn, id, class)?,
                    _ => {
                        crate::core::classify::forget_in(conn, id)
                            .map_err(|e| TriageError::Learning(e.to_string()))?;
                    }
                }
            }
            Undo::Coordinator(c) => {
                if current.coordinator != *c {
                    write_coordinator(conn, &current, c.as_deref(), req)?;
                }
            }
            Undo::Flag(f) => {
                if current.flagged != *f {
                    write_flag(conn, &current, *f, req)?;
                }
            }
            Undo::Responded(event_id) => super::responded::take_back(conn, id, req, *event_id)?,
            Undo::Note(note_id) => {
                let text: String = conn
                    .query_row(
                        "SELECT text FROM notes WHERE id = ?1 AND report_id = ?2",
                        params![note_id, id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or(TriageError::NothingToUndo { id })?;
                conn.execute("DELETE FROM notes WHERE id = ?1", [note_id])?;
                event(conn, id, req, "note", Some(&text), None, Some("undo"))?;
            }
        }
        writes::bump(conn, &current, req)
    })
}
