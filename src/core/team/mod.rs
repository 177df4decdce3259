//! One team, many desks: triage state shared through an IMAP folder (docs/team.md).
//!
//! - [`event`]: the event format (unique id, actor, wall time, Lamport clock, the report by
//!   root Message-ID or content hash).
//! - [`merge`]: the merge rules, pure and written once over [`merge::Replica`]:
//!   last-writer-wins registers ordered by (Lamport, actor), add-only notes and links,
//!   derived conflicts, idempotent application.
//! - [`store`]: the merge's state in SQLite; `apply`: how remote winners reach report rows.
//! - [`local`]: local changes become queued events; fetched events are folded in.
//! - [`refill`]: events the folder lost, put back by the desks that hold them.
//! - [`replying`]: who is answering a report.
//! - [`message`]: an event as a mail message (text for people, JSON for desks).
//! - `milestones`: clock milestones from the events, the same on every desk.
//! - `withheld`: events from non-members, kept until they are members.
//! - `hold`: a report the team marked a duplicate of spam is held open.
//! - [`moderation`]: spam confirmations to write back to the server (Junk, `$NotJunk`).
//!
//! No network here: `mailio::team` moves the messages.

mod apply;
pub mod event;
pub(crate) mod hold;
pub mod local;
pub mod merge;
pub mod message;
mod milestones;
pub mod moderation;
pub mod refill;
pub mod replying;
pub mod report_ref;
pub mod store;
mod withheld;

pub use event::{Event, ReportRef};
pub use local::{Fetched, FoldSummary};
pub use replying::Replying;

/// What went wrong with the team log.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error(transparent)]
    Store(#[from] crate::core::store::StoreError),
    #[error(
        "team event {seq} in the outbound queue is unreadable ({error}); report this as a bug"
    )]
    BadQueued { seq: i64, error: String },
}

impl From<rusqlite::Error> for TeamError {
    fn from(e: rusqlite::Error) -> Self {
        TeamError::Store(crate::core::store::StoreError::Sql(e))
    }
}

#[cfg(test)]
mod milestones_tests;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;
