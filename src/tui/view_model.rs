//! What the store worker loads for the screens to draw: the report view's detail with its
//! thread, and the token that undoes a change. A leaf: the actions carry these, the state
//! keeps them, the views draw them, and none of those import each other for it.

use chrono::{DateTime, Utc};

use crate::core::advisory::embargo;
use crate::core::classify::similar::Similar;
use crate::core::model::ReportId;
use crate::core::outbox::OutboxEntry;
use crate::core::triage::{self, ReportDetail};

/// How to take one change back: handed to the triage core's `revert`.
pub type UndoToken = triage::Undo;

/// A message in the thread, or a team note, in the order they happened.
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadItem {
    Mail(Box<triage::view::MessageView>),
    Note(triage::Note),
}

/// Everything the report view shows: the triage core's detail, with mail and notes merged
/// into one timeline and the next deadline picked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub report: ReportDetail,
    pub thread: Vec<ThreadItem>,
    pub deadline: Option<DateTime<Utc>>,
    /// Our replies to it still in the outbox (queued, being sent, or refused).
    pub outbox: Vec<OutboxEntry>,
    /// The PEP 811 finish mark, once 14 days or fewer are left (issue 15).
    pub finish_mark: Option<String>,
    /// The embargo, when the advisory sets one: the countdown and its warnings.
    pub embargo: Option<embargo::Embargo>,
    /// The classifier's similar earlier reports, best first (issue 12).
    pub similar: Vec<Similar>,
    /// "Ada is replying (4 min)", when a member is answering it (issue 13).
    pub replying: Option<String>,
    /// About how many lines the report view takes, so scrolling stops at the end.
    pub lines: u16,
}

impl Detail {
    pub fn id(&self) -> ReportId {
        self.report.id
    }
}
