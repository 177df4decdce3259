//! Triage actions: changing a report's state, class, coordinator, notes and duplicate link.
//!
//! Every action runs in one `BEGIN IMMEDIATE` transaction that
//! 1. refuses the change if the caller's view is stale (the report's `version` moved on since
//!    the caller loaded it: someone else changed it),
//! 2. checks the move against the lifecycle table ([`crate::core::lifecycle`]),
//! 3. writes the change, an audit event (actor, time, kind, before, after) per field changed,
//!    and bumps `reports.version`.
//!
//! Each action returns the previous value and an [`Undo`], so a front end can offer undo.
//! The CLI and the TUI call these same functions.

pub(crate) mod actions;
mod coordinator;
mod errors;
pub mod history;
mod notes;
pub mod reporter;
mod responded;
pub(crate) mod transaction;
pub mod view;
pub(crate) mod writes;

pub use actions::{clear_flag, mark, mark_duplicate, mark_noted, revert, set_state};
pub use coordinator::{assign, find_member, resolve_member, take, unassign};
pub use errors::TriageError;
pub use notes::add_note;
pub use responded::{responded, Via, RESPONDED};
pub use view::{candidates, events, report_detail, Candidate, Event, MessageView, ReportDetail};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::model::{Class, InvalidReason, ReportId, ReportState};

/// Who asks for a change, when, and from which view of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The actor recorded in the audit log: the `[identity]` email.
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The `version` the caller saw when it loaded the report. When set, the change is refused
    /// if the report changed since. `None` applies the change to whatever is there now.
    pub expected_version: Option<i64>,
}

impl Request {
    /// A change by `actor`, now, without a stale-view check.
    pub fn new(actor: impl Into<String>) -> Request {
        Request {
            actor: actor.into(),
            at: Utc::now(),
            expected_version: None,
        }
    }

    /// The same request made at `at` (tests and imports use fixed times).
    pub fn at(mut self, at: DateTime<Utc>) -> Request {
        self.at = at;
        self
    }

    /// The same request, refused if the report's version is no longer `version`.
    pub fn if_version(mut self, version: Option<i64>) -> Request {
        self.expected_version = version;
        self
    }
}

/// A report's place in the lifecycle, with what a state carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateSnapshot {
    pub state: ReportState,
    /// Set only in `invalid`.
    pub invalid_reason: Option<InvalidReason>,
    /// Set only in `duplicate`.
    pub duplicate_of: Option<ReportId>,
}

/// A report's class and the state that goes with it (marking spam closes the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassSnapshot {
    pub class: Option<Class>,
    /// Whether a person confirmed the class (otherwise it is the classifier's suggestion).
    pub confirmed: bool,
    pub state: StateSnapshot,
}

/// A team note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: i64,
    pub author: String,
    /// RFC 3339.
    pub at: String,
    pub text: String,
}

/// How to take an action back: hand it to [`revert`] with the version the action returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    State(StateSnapshot),
    Class(ClassSnapshot),
    Coordinator(Option<String>),
    /// Removes the note with this id.
    Note(i64),
    Flag(bool),
    /// Takes back the `responded` event with this id.
    Responded(i64),
    /// The action changed nothing.
    Nothing,
}

/// What an action did: the value before and after, the report's new version (pass it as the
/// expected version of the next change from the same view) and how to undo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied<T> {
    pub report_id: ReportId,
    pub before: T,
    pub after: T,
    /// The report's version after the change; unchanged when nothing changed.
    pub version: i64,
    pub undo: Undo,
}

impl<T: PartialEq> Applied<T> {
    /// True when the action found the report already as asked.
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

pub use crate::core::model::SYSTEM_ACTOR;

#[cfg(test)]
mod tests;
