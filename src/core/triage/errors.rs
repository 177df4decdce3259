//! Why a triage action was refused. Every message names the report, says what happened and
//! what to do next; these are the user-facing strings of triage, kept in one place.

use crate::core::lifecycle::TransitionRefused;
use crate::core::model::{InvalidReason, ReportId, ReportState};
use crate::core::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error(
        "the classifier could not learn from this change: {0}; the change was not made, try again"
    )]
    Learning(String),

    #[error("no report #{0}: `secdesk list` shows the reports there are")]
    NoSuchReport(ReportId),

    #[error("report #{id} {refused}")]
    Transition {
        id: ReportId,
        refused: TransitionRefused,
    },

    #[error("report #{id} was changed by {by} at {at} since you loaded it (version {loaded}, now {current}): nothing was changed; look at it as it is now, then act again")]
    StaleView {
        id: ReportId,
        by: String,
        at: String,
        loaded: i64,
        current: i64,
    },

    #[error("report #{id}: invalid needs a reason: one of {}", reasons())]
    ReasonRequired { id: ReportId },

    #[error("report #{id}: a reason only goes with invalid, not {state}: drop the reason or choose invalid")]
    ReasonNotApplicable { id: ReportId, state: ReportState },

    #[error("report #{id}: duplicate needs the original it duplicates: mark it with `dup {id} --of ORIGINAL`")]
    OriginalRequired { id: ReportId },

    #[error("report #{id} cannot be a duplicate of itself: name a different original")]
    SelfDuplicate { id: ReportId },

    #[error("report #{original} is itself a duplicate of #{root}: mark #{id} a duplicate of #{root}, the original, instead")]
    OriginalIsDuplicate {
        id: ReportId,
        original: ReportId,
        root: ReportId,
    },

    #[error("report #{original} is closed as spam: marking #{id} a duplicate of it would hide #{id} behind spam; name a real original, or reopen #{original} first (`mark {original} valid`) if it is one")]
    OriginalIsSpam { id: ReportId, original: ReportId },

    #[error("report #{id} is the original of {duplicates}, closed as its duplicates: closing #{id} as spam would hide them behind spam; link them to another original (`dup N --of ORIGINAL`) or reopen them first")]
    DuplicatesBehindSpam { id: ReportId, duplicates: String },

    #[error("report #{original} is itself a duplicate of #{id} (through {chain}): marking #{id} a duplicate of it would make a loop; reopen #{original} first or mark the other way round")]
    DuplicateCycle {
        id: ReportId,
        original: ReportId,
        chain: String,
    },

    #[error("no team member '{who}': the members are {members}; name one of them or add them under [team] members in the config")]
    UnknownMember { who: String, members: String },

    #[error("'{who}' could be {candidates}: type more of the name, or the email")]
    AmbiguousMember { who: String, candidates: String },

    #[error("report #{id}: the reason \"other\" needs its words: give them as the change's note (`--note TEXT`)")]
    OtherReasonNeedsText { id: ReportId },

    #[error("report #{id}: the note is empty: write the note's text")]
    EmptyNote { id: ReportId },

    #[error("report #{id}: cannot undo: the note it added is already gone")]
    NothingToUndo { id: ReportId },

    #[error("report #{id} holds an unreadable {field} {value:?} in the database: set it again with a triage command")]
    BadStoredValue {
        id: ReportId,
        field: &'static str,
        value: String,
    },

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TriageError {
    fn from(e: rusqlite::Error) -> Self {
        TriageError::Store(StoreError::Sql(e))
    }
}

fn reasons() -> String {
    let names: Vec<&str> = InvalidReason::ALL.iter().map(|r| r.as_str()).collect();
    names.join(", ")
}
