//! Moderating a mailing list's held queue (Mailman 3): held posts as the desk sees them, the
//! classifier's verdict beside each, and the record of what a moderator did to one.
//!
//! The network half (fetching the queue, posting the action) is `mailio::mailman`; this
//! module owns what is kept: each action is a row of the `moderation` table (list + request
//! id + message id, moderator, time, how long the post was held) and, when the post is (or
//! later becomes) a message in the store, a `moderation` event in its report's audit log.
//! Discarding a post as spam and accepting one train the classifier, as a confirmed class
//! does. [`doubt`] says when the text Mailman gives for a post is not the post's own (lost,
//! or another post's under the same Message-ID): such a post is never judged. [`gaps`] says what a listing could not show (entries without a usable request id,
//! a count that disagrees with the entries read). [`stats`] derives the moderation figures of `secdesk stats`; [`reject_reasons`]
//! renders the reject reasons the desk offers.

pub mod cache;
pub mod doubt;
pub mod gaps;
pub mod reject_reasons;
pub mod stats;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::core::classify::model::Label;
use crate::core::classify::storage::{ensure_model_in, train_batch, TrainItem, TrainSummary};
use crate::core::classify::tokenize::tokenize;
use crate::core::classify::{Classifier, ClassifyError, Judged};
use crate::core::model::{Class, Outcome, Verdict};
use crate::core::parse::{content_hash, msg_ids, parse_message, AuthResults};
use crate::core::store::{timestamp, Store, StoreError};

pub use doubt::Doubt;

/// What a moderator does to a held post (Mailman's `action` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Let the post through to the list.
    Accept,
    /// Drop it silently.
    Discard,
    /// Drop it and tell the sender why (the comment).
    Reject,
    /// Leave it held, to decide later.
    Defer,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Accept,
        Action::Discard,
        Action::Reject,
        Action::Defer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Discard => "discard",
            Action::Reject => "reject",
            Action::Defer => "defer",
        }
    }

    /// True when the post leaves the queue (every action but defer).
    pub fn clears(self) -> bool {
        self != Action::Defer
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Action, String> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a moderation action: use accept, discard, reject or defer")
            })
    }
}

/// A post waiting in a list's hold queue. Every text field is untrusted (it comes from the
/// post's sender through Mailman): sanitize before showing it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldPost {
    /// The list as configured (`[mailman] lists`).
    pub list: String,
    pub request_id: u64,
    /// Without angle brackets, as `messages.message_id`.
    pub message_id: Option<String>,
    pub sender: String,
    pub subject: String,
    /// Mailman's hold reason.
    pub reason: String,
    pub hold_date: Option<DateTime<Utc>>,
    /// The held message as Mailman keeps it.
    pub raw: Vec<u8>,
}

impl HeldPost {
    /// Normalises a Message-ID as Mailman gives it (`<id@host>`) to the store's form.
    pub fn normalize_message_id(value: &str) -> Option<String> {
        msg_ids(value).into_iter().next()
    }

    /// Reads Mailman's `hold_date`: ISO 8601 without a zone, in UTC (or with one).
    pub fn parse_hold_date(value: &str) -> Option<DateTime<Utc>> {
        let v = value.trim();
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc())
            })
    }
}

/// What Mailman's REST API gives as `msg` for a held post whose message its message store
/// no longer has (Mailman 3's `rest/post_moderation.py`: the file under `var/messages` is
/// gone): a stand-in, not the post.
const LOST_SUBJECT: &[u8] = b"Subject: Message content lost\n";
const LOST_TEXT: &[u8] = b"This held message has been lost.";

/// The reason a post whose content Mailman lost is listed with.
pub const LOST_REASON: &str = "Mailman lost this post's content: only its sender and subject are left (never swept, nothing learned); ask the sender to send it again";

impl HeldPost {
    /// True when the desk has no message to judge: Mailman's stand-in for content it lost,
    /// or no `msg` at all. Classifying the stand-in would judge every such post alike, and
    /// a discard would teach it as spam, after which every lost post would be swept.
    pub fn content_lost(&self) -> bool {
        let raw = self.raw.as_slice();
        raw.iter().all(u8::is_ascii_whitespace)
            || (raw.len() < 1024
                && raw.starts_with(LOST_SUBJECT)
                && raw.windows(LOST_TEXT.len()).any(|w| w == LOST_TEXT))
    }
}

/// A held post with the classifier's verdict on its message, and the sender
/// authentication that verdict weighed (whose it is: `AuthResults::standing`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifiedPost {
    pub post: HeldPost,
    pub verdict: Verdict,
    /// Why the text Mailman gives is not judged as the post's (lost, or another post's):
    /// then `verdict` is a placeholder, unsure, with the doubt as its reason.
    pub doubt: Option<Doubt>,
    /// SPF, DKIM and DMARC as read under `[sync] authserv_id` (`core::parse::parse_received`).
    pub auth: AuthResults,
}

/// Classifies held posts with the same classifier as ingest, over the machine's cores,
/// reading their sender authentication as ingest does: `trusted` is `[sync] authserv_id`
/// (`Config::sync.trusted_authserv_ids`), so a pass the sender wrote is not weighed.
pub fn classify(
    classifier: &Classifier,
    trusted: &[String],
    posts: Vec<HeldPost>,
) -> Vec<ClassifiedPost> {
    let raws: Vec<&[u8]> = posts.iter().map(|p| p.raw.as_slice()).collect();
    let judged = classifier.judge_received_many(&raws, trusted);
    let doubts = doubt::doubts(&posts);
    posts
        .into_iter()
        .zip(judged)
        .zip(doubts)
        .map(|((post, judged), doubt)| settle(post, judged, doubt))
        .collect()
}

/// A post with the classifier's judgment of its message; a post whose text is in doubt
/// (`doubt::doubts`: Mailman lost it, or gives another post's) is left unsure, for a
/// person, whatever that text scored.
fn settle(post: HeldPost, judged: Judged, doubt: Option<Doubt>) -> ClassifiedPost {
    if let Some(doubt) = doubt {
        return ClassifiedPost {
            post,
            verdict: Verdict {
                class: Class::Valid,
                outcome: Outcome::Unsure,
                spam_score: 0.5,
                confidence: 0.0,
                reasons: vec![doubt.reason()],
            },
            auth: AuthResults::default(),
            doubt: Some(doubt),
        };
    }
    let Judged { verdict, auth } = judged;
    ClassifiedPost {
        post,
        verdict,
        auth,
        doubt: None,
    }
}

/// True for a post a spam sweep may discard: classified spam with a spam outcome, its text
/// its own. A post classified valid, invalid or unsure, or one in doubt, never is.
pub fn is_sweepable_spam(p: &ClassifiedPost) -> bool {
    p.doubt.is_none() && p.verdict.class == Class::Spam && p.verdict.outcome == Outcome::Spam
}

/// The posts a spam sweep discards, in queue order.
pub fn spam_sweep(posts: &[ClassifiedPost]) -> Vec<&ClassifiedPost> {
    posts.iter().filter(|p| is_sweepable_spam(p)).collect()
}

/// One moderation action, as it is recorded.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub post: &'a HeldPost,
    pub action: Action,
    /// The moderator: the `[identity]` email.
    pub moderator: &'a str,
    pub at: DateTime<Utc>,
    /// A reject's reason, as sent to the sender.
    pub comment: Option<&'a str>,
    /// The classifier's verdict when the action was taken.
    pub verdict: Option<&'a Verdict>,
    /// The sender authentication the listing read (under `[sync] authserv_id`): what
    /// training learns, so that what is learned is what was classified. `None` learns no
    /// verdict at all.
    pub auth: Option<&'a AuthResults>,
    /// Train the classifier on the post: a discard as spam, an accept as not spam.
    pub train: bool,
}

/// What recording an action did besides the record itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The report the post's message is already in, whose log now shows the action.
    pub report: Option<i64>,
    /// The label the classifier was trained with, if any.
    pub trained: Option<&'static str>,
}

/// Why an action could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Classify(#[from] ClassifyError),
}

impl From<rusqlite::Error> for ModerationError {
    fn from(e: rusqlite::Error) -> Self {
        ModerationError::Store(StoreError::Sql(e))
    }
}

/// Records one action in one transaction: the `moderation` row, the report event when the
/// post is already a message in the store, and the training.
pub fn record(store: &mut Store, d: &Decision<'_>) -> Result<Recorded, ModerationError> {
    let tx = store.write_transaction()?;
    let p = d.post;
    tx.execute(
        "INSERT INTO moderation (list, request_id, message_id, action, moderator, at, held_at,
            sender, subject, comment, class, outcome, spam_score)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            p.list,
            p.request_id as i64,
            p.message_id,
            d.action.as_str(),
            d.moderator,
            timestamp(d.at),
            p.hold_date.map(timestamp),
            p.sender,
            p.subject,
            d.comment,
            d.verdict.map(|v| v.class.as_str()),
            d.verdict.map(|v| v.outcome.as_str()),
            d.verdict.map(|v| v.spam_score),
        ],
    )?;
    let row = tx.last_insert_rowid();
    let report = attach_now(&tx, row, d)?;
    let trained = if d.train {
        train(&tx, p, d.auth, d.action)?.map(|(label, _)| label.as_str())
    } else {
        None
    };
    tx.commit()?;
    Ok(Recorded { report, trained })
}

/// When the post's message is already in the store (it reached the mailbox another way),
/// the action goes into its report's log now; otherwise the `moderation_attach` trigger
/// adds it when the message arrives.
fn attach_now(
    conn: &Connection,
    row: i64,
    d: &Decision<'_>,
) -> Result<Option<i64>, ModerationError> {
    let Some(message_id) = d.post.message_id.as_deref() else {
        return Ok(None);
    };
    let report: Option<i64> = conn
        .query_row(
            "SELECT report_id FROM messages WHERE message_id = ?1 AND direction = 'in'
             ORDER BY id LIMIT 1",
            [message_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(report) = report else {
        return Ok(None);
    };
    // The same detail text as the `moderation_attach` trigger (migrations.rs, "mailman") writes.
    let mut detail = format!("list {}, request {}", d.post.list, d.post.request_id);
    if let Some(c) = d.comment {
        detail.push_str(": ");
        detail.push_str(c);
    }
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, 'moderation', 'held', ?4, ?5)",
        params![
            report,
            d.moderator,
            timestamp(d.at),
            d.action.as_str(),
            detail
        ],
    )?;
    conn.execute(
        "UPDATE moderation SET report_id = ?2 WHERE id = ?1",
        params![row, report],
    )?;
    Ok(Some(report))
}

/// Trains the post's message: discarded as spam, accepted as ham (not spam; whether it is a
/// valid report is for triage to say). Reject and defer teach nothing. The sender
/// authentication learned is the listing's (`auth`), never the parser's own reading: a
/// forged pass taught as ham would make the next forged pass look like a report.
fn train(
    conn: &Connection,
    post: &HeldPost,
    auth: Option<&AuthResults>,
    action: Action,
) -> Result<Option<(Label, TrainSummary)>, ModerationError> {
    let label = match action {
        Action::Discard => Label::Spam,
        Action::Accept => Label::Ham,
        Action::Reject | Action::Defer => return Ok(None),
    };
    // Mailman's stand-in for a lost post, or another post's text, says nothing about it.
    if doubt::own(post).is_some() {
        return Ok(None);
    }
    ensure_model_in(conn)?;
    let mut parsed = parse_message(&post.raw);
    parsed.auth = auth.cloned().unwrap_or_default();
    let item = TrainItem {
        content_hash: content_hash(&post.raw),
        label,
        tokens: tokenize(&parsed),
    };
    Ok(Some((label, train_batch(conn, &[item])?)))
}

/// One recorded action, for a report's moderation history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModerationEntry {
    pub list: String,
    pub request_id: u64,
    pub action: String,
    pub moderator: String,
    pub at: String,
    pub held_at: Option<String>,
    pub comment: Option<String>,
}

/// The actions recorded on the post with this Message-ID, oldest first.
pub fn history(conn: &Connection, message_id: &str) -> Result<Vec<ModerationEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT list, request_id, action, moderator, at, held_at, comment FROM moderation
         WHERE message_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([message_id], |r| {
        Ok(ModerationEntry {
            list: r.get(0)?,
            request_id: r.get::<_, i64>(1)?.max(0) as u64,
            action: r.get(2)?,
            moderator: r.get(3)?,
            at: r.get(4)?,
            held_at: r.get(5)?,
            comment: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests;
