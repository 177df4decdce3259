//! The messages of the desk's Elm loop: [`Action`]s flow into `update`, [`Request`]s flow
//! out of it to the store worker (and, for the editor and SMTP, to the UI loop and the
//! delivery worker), whose answers come back as actions.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::core::model::{Class, InvalidReason, ReportId, ReportState};
use crate::core::reply::Draft;
use crate::core::store::queue::{QueueFilter, QueuePage};
use crate::mailio::delivery::Delivery;

use super::stats_data::StatsData;
use super::view_model::{Detail, UndoToken};
use crate::core::classify::similar::Similar;
use crate::core::moderation::reject_reasons::Reason;
use crate::core::moderation::ClassifiedPost;
use crate::core::triage::Candidate;

/// Everything that can happen to the desk.
#[derive(Debug, Clone)]
pub enum Action {
    /// A key press; the keymap decides what it means where.
    Key(KeyEvent),
    /// The terminal's size, in cells.
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved on (ages and overdue marks follow it).
    Tick(DateTime<Utc>),
    /// A page of the queue, for the queue generation it was asked for.
    QueueLoaded {
        generation: u64,
        page: QueuePage,
        /// The PEP 811 finish mark and embargo countdown of the page's reports that have one.
        marks: std::collections::HashMap<ReportId, String>,
    },
    ReportLoaded(Box<Detail>),
    StatsLoaded(Box<StatsData>),
    /// The answer to [`Request::Candidates`]: the reports, and the classifier's similar
    /// earlier ones (best first), which the picker offers first.
    CandidatesLoaded(ReportId, Vec<Candidate>, Vec<Similar>),
    /// What a batch of triage changes (or an undo) did.
    Applied(Applied),
    /// Another connection committed to the database (`PRAGMA data_version` moved).
    StoreChanged,
    /// The background sync finished a round: a summary line or what went wrong.
    Sync(Result<String, String>),
    /// The background sync started a round on these mailboxes (`Some`), or a round ended
    /// without an outcome (`None`: it panicked, and [`Action::Failed`] says so).
    Syncing(Option<String>),
    /// A read failed, or a worker panicked; the message says what and is shown in the
    /// status line.
    Failed(String),
    /// The draft for `r`, composed by the store worker, or why it could not be.
    /// With it, when another member is already replying, the line that says so.
    ReplyComposed(Result<Box<Draft>, String>, Option<String>),
    /// The editor closed: the saved text, or why the editor could not be used.
    ReplyEdited(Result<String, String>),
    /// The answer to [`Request::ReplyAbandoned`]: nothing to show.
    ReplyAbandoned,
    /// The answer to [`Request::ReplyStarted`]: nothing to show.
    ReplyStarted,
    /// The answer to [`Request::CheckReply`], for that draft.
    ReplyChecked(Box<Draft>, ReplyCheck),
    /// The reply is safe in the outbox and about to be sent.
    ReplyQueued {
        outbox_id: i64,
        report_id: ReportId,
    },
    /// `y` on a reply's preview in `secdesk demo`: nothing was queued or sent; `to` is who
    /// it would have gone to.
    ReplyNotSentInDemo {
        report_id: ReportId,
        to: String,
    },
    /// What the delivery worker's attempt did.
    ReplyDelivered(Result<Box<Delivery>, String>),
    /// Replies in the outbox that are not yet sent (or not yet filed in Sent).
    OutboxCount(usize),
    /// The answer to [`Request::TabCounts`], in its order.
    TabCounts(Vec<usize>),
    /// The advisory form for `A`, rendered by the store worker, or why it could not be.
    AdvisoryForm(Result<AdvisoryForm, String>),
    /// The editor closed on the advisory form: the saved text, or why the editor failed.
    AdvisoryEdited(AdvisoryForm, Result<String, String>),
    /// The form was saved (what changed), or refused (why; the form is kept for `A`).
    AdvisorySaved(AdvisoryForm, Result<String, String>),
    /// The mailing list's held posts, classified, or why they could not be fetched; and
    /// what the listing could not show (held entries without a usable request id, a count
    /// that disagrees), which the held screen says above the posts.
    HeldLoaded(
        Result<Vec<ClassifiedPost>, String>,
        Vec<crate::core::moderation::gaps::ListingGap>,
    ),
    /// What a moderation (or a sweep) did, as one line, or why it failed.
    Moderated(Result<String, String>),
    /// The reject reasons for the held post `r` was pressed on, each rendered for it.
    RejectReasons(Box<ClassifiedPost>, Vec<Reason>),
    /// The editor closed on a reject reason: the saved text, or why the editor failed.
    RejectReasonEdited(Result<String, String>),
    /// A sweep's progress: this many of the spam posts done.
    SweepProgress {
        done: usize,
        total: usize,
    },
    /// The key blocks attached to a report, or why they could not be looked for.
    KeysOffered(
        ReportId,
        Result<Vec<crate::mailio::pgp_keys::Offer>, String>,
    ),
    /// What an import did (one line), or why it failed.
    KeyImported(Result<String, String>),
}

/// What the store worker found out about a reply before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyCheck {
    /// How many addresses the SMTP envelope has.
    pub recipients: usize,
    /// `mailio::gpg::sealing(..).line()`: encrypted or not, and why; `None` without `[pgp]`.
    pub sealing: Option<String>,
    /// Why the reply would go out readable though its report came encrypted
    /// (`Sealing::readable_because`): sending then needs a yes that says so.
    pub readable: Option<String>,
    /// `core::reply::check_recipient_limit`'s refusal: sending then needs a confirmation
    /// naming the count.
    pub over_limit: Option<String>,
}

/// The advisory form of one report, and the report version it was made from: saved only
/// onto that version, so a teammate's change meanwhile is not overwritten.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryForm {
    pub id: ReportId,
    pub version: i64,
    pub text: String,
}

/// Work for the store worker. Reads are answered with the matching `…Loaded` action, writes
/// with [`Action::Applied`].
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Queue {
        generation: u64,
        filter: QueueFilter,
        offset: usize,
        limit: usize,
    },
    Report(ReportId),
    Stats,
    /// The reports `d` can name as the original of this one.
    Candidates(ReportId),
    Triage(Batch),
    Undo(UndoEntry),
    /// Compose a reply to a report, from a template or blank.
    ComposeReply {
        report_id: ReportId,
        template: Option<String>,
    },
    /// Open the editor on this text. The UI loop runs it (the terminal is the editor's
    /// meanwhile), never the store worker.
    EditReply(String),
    /// What the preview needs that the UI thread must not work out itself: whether the reply
    /// will be encrypted (gpg looks up each recipient's key) and whether it is over
    /// `[reply] max_recipients`.
    CheckReply(Box<Draft>),
    /// The reply to this report was cancelled: "replying" ends for the team.
    ReplyAbandoned(ReportId),
    /// The user chose to write a reply although another member is answering the report:
    /// "replying" starts for the team.
    ReplyStarted(ReportId),
    /// Write the confirmed reply to the outbox.
    QueueReply(Box<Draft>),
    /// Attempt delivery of an outbox row: the delivery worker runs it, off the UI thread.
    Deliver(i64),
    OutboxCount,
    /// How many reports each of these queues holds (the counted tabs' filters).
    TabCounts(Vec<QueueFilter>),
    /// Render the advisory form of a report (`A`).
    AdvisoryForm(ReportId),
    /// Open the editor on the advisory form: the UI loop runs it, as for replies.
    EditAdvisory(AdvisoryForm),
    /// Check the edited form (`core::advisory::form::parse`) and save it onto its version.
    SaveAdvisory(AdvisoryForm),
    /// Fetch the held posts from Mailman: the held worker runs it, off the UI thread.
    HeldFetch,
    /// Moderate the held post the moderator saw, with a reject's reason (Mailman's
    /// `comment`, mailed to the sender): the held worker runs it.
    Moderate(
        Box<ClassifiedPost>,
        crate::core::moderation::Action,
        Option<String>,
    ),
    /// The reject reasons (templates) rendered for this post: the held worker reads them.
    RejectReasons(Box<ClassifiedPost>),
    /// Open the editor on a reject reason: the UI loop runs it, as for replies.
    EditRejectReason(String),
    /// Discard these posts, all classified spam, as a sweep: the held worker runs it and
    /// reports its progress.
    HeldSweep(Vec<ClassifiedPost>),
    /// Find the public keys attached to a report and show them with gpg (`K`).
    FindKeys(ReportId),
    /// Import this confirmed key block into the team keyring.
    ImportKey(Box<crate::mailio::pgp_keys::Offer>),
}

/// One key's worth of triage: the same change to one or more reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// What the status line says was done, e.g. "marked spam".
    pub label: String,
    pub ops: Vec<TriageOp>,
}

/// One change to one report, made from the view that loaded `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageOp {
    pub id: ReportId,
    pub version: i64,
    pub change: Change,
}

/// The changes the desk's keys make; each is one triage core call.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Mark(Class, Option<InvalidReason>),
    State(ReportState, Option<InvalidReason>),
    Assign(String),
    Take,
    Note(String),
    DuplicateOf(ReportId),
    /// Invalid for a reason in the triager's own words.
    InvalidBecause(String),
    /// The reporter was answered outside secdesk: a first response.
    Responded(crate::core::triage::Via),
}

/// What the worker did with a batch: the reports changed (with how to take each back) and
/// the ones refused, each with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub label: String,
    pub undo: bool,
    pub changed: Vec<(ReportId, i64, UndoToken)>,
    pub unchanged: Vec<ReportId>,
    pub refused: Vec<(ReportId, String)>,
    /// An undo's reports, each `(id, before, now)`: as it was at version `before` again,
    /// numbered `now`, so an earlier change that left it at `before` can still be undone.
    pub restored: Vec<(ReportId, i64, i64)>,
    /// Of the reports whose class was set, how many were learned as near-copies of mail
    /// already learned under that class, so counted once (core::classify::campaign).
    pub near_copies: usize,
}

/// A batch that can be taken back: each report with the version after the change.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoEntry {
    pub label: String,
    pub items: Vec<(ReportId, i64, UndoToken)>,
}
