//! The outbox: every reply is written here before any SMTP attempt, so it is never lost,
//! and moves through `queued` → `sending` → `sent` (or `failed-permanent`, kept for
//! editing). No network here: `mailio::delivery` drives the states. A reply whose report
//! is gone (deleted from the store) moves to `failed` and is never sent.
//!
//! Never sent twice: a row is claimed (`queued` → `sending`) by a compare-and-set right
//! before SMTP, so two desks sharing the database cannot both send it. An attempt that ends
//! without knowing whether the server took the reply (a connection lost after DATA, a send
//! given up at its deadline while the message was going out, a `sending` row left by a
//! crash) makes the row `uncertain`: it is resent only when the team's copy of it, which
//! the server delivers to the team mailbox, is still missing [`MISSING_AFTER`] after the
//! attempt ([`verdict`]); with no copy to look for it stays `uncertain` until a person
//! resends it ([`resend_by_hand`]) or discards it.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::core::config::Config;
use crate::core::ingest;
use crate::core::model::ReportId;
use crate::core::reply::message::{self, BuiltMessage};
use crate::core::reply::{Draft, ReplyError};
use crate::core::store::{parse_timestamp, timestamp, Store, StoreError};

pub mod changed;
pub mod state;
pub use state::OutboxState;

/// Why a reply was sent again after an uncertain attempt (its team copy never arrived, so
/// [`verdict`] took it as not delivered): the one wording `secdesk reply`, `outbox --retry`,
/// `sync` and the desk's status line all use, so none says less than the others.
pub const RESENT_WHY: &str = "an earlier attempt may have reached the server, but its team copy never arrived, so it was taken as not delivered; the reporter may get it twice";

/// What can go wrong with the outbox itself.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no reply #{0} in the outbox: `secdesk outbox` lists them")]
    NotFound(i64),
    #[error("outbox reply #{id} is {state}, not {expected}: `secdesk outbox` shows where it is")]
    WrongState {
        id: i64,
        state: OutboxState,
        expected: &'static str,
    },
    /// `what`: what happened to the row meanwhile, and what to do ([`changed::while_editing`]).
    #[error("your edit of outbox reply #{id} (report #{report_id}) was not applied, and none of it was sent: {what}")]
    ChangedWhileEditing {
        id: i64,
        report_id: ReportId,
        state: OutboxState,
        what: String,
    },
    #[error("outbox reply #{id} has an unreadable draft ({detail}): discard it and write the reply again")]
    BadDraft { id: i64, detail: String },
    #[error(transparent)]
    Reply(#[from] ReplyError),
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        OutboxError::Store(StoreError::Sql(e))
    }
}

pub type Result<T, E = OutboxError> = std::result::Result<T, E>;

/// One reply in the outbox, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub report_id: ReportId,
    pub message_id: String,
    pub actor: String,
    pub created_at: String,
    pub subject: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
    /// After sending: `pending` until the copy is in the Sent mailbox, then `filed`.
    pub sent_copy: Option<String>,
    pub sent_copy_error: Option<String>,
}

const COLUMNS: &str = "id, report_id, message_id, actor, created_at, subject, envelope_from,
    recipients, state, attempts, last_error, last_attempt_at, next_attempt_at, sent_at,
    sent_copy, sent_copy_error";

fn entry(r: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let recipients: String = r.get(7)?;
    Ok(OutboxEntry {
        id: r.get(0)?,
        report_id: r.get(1)?,
        message_id: r.get(2)?,
        actor: r.get(3)?,
        created_at: r.get(4)?,
        subject: r.get(5)?,
        envelope_from: r.get(6)?,
        recipients: serde_json::from_str(&recipients).unwrap_or_default(),
        state: r.get(8)?,
        attempts: r.get(9)?,
        last_error: r.get(10)?,
        last_attempt_at: r.get(11)?,
        next_attempt_at: r.get(12)?,
        sent_at: r.get(13)?,
        sent_copy: r.get(14)?,
        sent_copy_error: r.get(15)?,
    })
}

/// How long after an uncertain attempt its team copy may still be on its way (in an MTA
/// queue) before a search that does not find it counts as "not delivered".
pub const MISSING_AFTER: Duration = Duration::minutes(30);

/// What to do with an `uncertain` reply, given what the server search said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Its copy is on the server: it was delivered; record it, never send it again.
    Delivered,
    /// Its copy should have arrived by now and has not: it was not delivered; send it.
    Resend,
    /// Its copy may still be on its way: look again from this time.
    WaitUntil(DateTime<Utc>),
    /// Nothing can show whether it was delivered (no team copy among its recipients): only a
    /// person may resend it.
    AskPerson,
}

/// Decides an `uncertain` reply's fate. `found`: its Message-ID was found on the server;
/// `copy_expected`: one of its recipients delivers into a mailbox that was searched.
pub fn verdict(row: &OutboxEntry, found: bool, copy_expected: bool, now: DateTime<Utc>) -> Verdict {
    if found {
        return Verdict::Delivered;
    }
    if !copy_expected {
        return Verdict::AskPerson;
    }
    // No attempt time (a row from an older version): count from now, never resend at once.
    let began = row
        .last_attempt_at
        .as_deref()
        .and_then(parse_timestamp)
        .unwrap_or(now);
    let missing_from = began + MISSING_AFTER;
    if now < missing_from {
        Verdict::WaitUntil(missing_from)
    } else {
        Verdict::Resend
    }
}

/// The wait before attempt `attempts + 1` after a transient failure: 1, 2, 4 … minutes,
/// at most 6 hours.
pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 10) - 1;
    Duration::minutes(1i64 << exp).min(Duration::hours(6))
}

/// Writes a built reply to the outbox as `queued`, due now. Returns its outbox id.
pub fn queue(
    store: &Store,
    draft: &Draft,
    built: &BuiltMessage,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let draft_json = serde_json::to_string(draft).map_err(|e| OutboxError::BadDraft {
        id: 0,
        detail: e.to_string(),
    })?;
    let now = timestamp(now);
    store.conn().execute(
        "INSERT INTO outbox (report_id, message_id, actor, created_at, subject, envelope_from,
            recipients, draft, raw, state, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?4)",
        params![
            draft.report_id,
            built.message_id,
            actor,
            now,
            draft.subject,
            built.envelope_from,
            serde_json::to_string(&built.recipients).unwrap_or_default(),
            draft_json,
            built.raw,
        ],
    )?;
    Ok(store.conn().last_insert_rowid())
}

/// Builds `draft` as `config`'s identity would send it now (new Message-ID on the
/// identity's domain, Date now) and queues it. The one call a front end needs after the
/// user confirmed; returns the outbox id and what will be sent.
pub fn queue_draft(config: &Config, store: &Store, draft: &Draft) -> Result<(i64, BuiltMessage)> {
    let now = Utc::now();
    let id = message::new_message_id(message::domain_of(&config.identity.email));
    let built = message::build(draft, &id, now)?;
    let outbox_id = queue(store, draft, &built, &config.identity.email, now)?;
    Ok((outbox_id, built))
}

/// One row, without its bytes.
pub fn get(store: &Store, id: i64) -> Result<OutboxEntry> {
    store
        .conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            entry,
        )
        .optional()?
        .ok_or(OutboxError::NotFound(id))
}

/// The exact bytes of a reply.
pub fn raw(store: &Store, id: i64) -> Result<Vec<u8>> {
    store
        .conn()
        .query_row("SELECT raw FROM outbox WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or(OutboxError::NotFound(id))
}

/// The draft a reply was built from, to edit it again.
pub fn draft(store: &Store, id: i64) -> Result<Draft> {
    let text: String = store
        .conn()
        .query_row("SELECT draft FROM outbox WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or(OutboxError::NotFound(id))?;
    serde_json::from_str(&text).map_err(|e| OutboxError::BadDraft {
        id,
        detail: e.to_string(),
    })
}

/// Replies that need attention: not yet sent, or sent without a Sent copy. Oldest first.
pub fn pending(store: &Store) -> Result<Vec<OutboxEntry>> {
    select(
        store,
        "state IN ('queued', 'sending', 'uncertain', 'failed-permanent', 'failed')
         OR (state = 'sent' AND sent_copy = 'pending')",
        params![],
    )
}

/// Moves replies whose report is gone to `failed`, with why, so they are never sent (the
/// thread they would join, and the people they were meant for, are unknown now). Only row
/// `only` when given, else every such row not yet sent. Returns the rows moved.
pub fn fail_orphans(store: &Store, only: Option<i64>) -> Result<Vec<(i64, String)>> {
    let mut stmt = store.conn().prepare(
        "UPDATE outbox SET state = 'failed',
             last_error = 'report #' || report_id || ' no longer exists, so this reply is never sent: '
                 || 'discard it with `secdesk outbox --discard ' || id || '`'
         WHERE state IN ('queued', 'sending', 'uncertain', 'failed-permanent')
           AND (?1 IS NULL OR id = ?1)
           AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = outbox.report_id)
         RETURNING id, last_error",
    )?;
    let rows = stmt.query_map(params![only], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Every row of report `report_id`, oldest first (the TUI shows them in the thread).
pub fn for_report(store: &Store, report_id: ReportId) -> Result<Vec<OutboxEntry>> {
    select(store, "report_id = ?1", params![report_id])
}

/// Rows to attempt now: `queued` ones due by `now` (all of them when `ignore_backoff`),
/// `uncertain` ones due for a look on the server (likewise), and `sending` ones whose
/// attempt began before `stale_before` (a crash: they become `uncertain`).
pub fn due(
    store: &Store,
    now: DateTime<Utc>,
    ignore_backoff: bool,
    stale_before: DateTime<Utc>,
) -> Result<Vec<OutboxEntry>> {
    fail_orphans(store, None)?;
    select(
        store,
        "(state IN ('queued', 'uncertain') AND (?1 OR next_attempt_at <= ?2))
         OR (state = 'sending' AND coalesce(last_attempt_at, '') < ?3)",
        params![ignore_backoff, timestamp(now), timestamp(stale_before)],
    )
}

/// Sent replies whose copy is not yet in the Sent mailbox.
pub fn sent_copies_pending(store: &Store) -> Result<Vec<OutboxEntry>> {
    select(store, "state = 'sent' AND sent_copy = 'pending'", params![])
}

fn select(store: &Store, filter: &str, args: impl rusqlite::Params) -> Result<Vec<OutboxEntry>> {
    let mut stmt = store.conn().prepare(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE {filter} ORDER BY id"
    ))?;
    let rows = stmt.query_map(args, entry)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Whether `row`, in `sending`, was begun before `stale_before`: a crashed attempt, as
/// [`due`] picks them. `stale_before` must lie further back than any live attempt can last
/// (see `mailio::delivery::DeliverOptions`). A fresh one is another delivery still at work (this desk's sync,
/// or another desk), and sending it again could deliver it twice.
pub fn attempt_is_stale(row: &OutboxEntry, stale_before: DateTime<Utc>) -> bool {
    row.last_attempt_at
        .as_deref()
        .and_then(parse_timestamp)
        .is_none_or(|began| began < stale_before)
}

/// Claims a row for an attempt: `queued` or `uncertain` (as last seen) → `sending`, with
/// the previous attempt's error cleared. False when another desk claimed it first, when
/// it was edited since it was read (a new Message-ID: the bytes read with it are not the
/// reply any more, see [`requeue_edited`]), or when its report is gone (see [`fail_orphans`]).
pub fn claim(store: &Store, row: &OutboxEntry, now: DateTime<Utc>) -> Result<bool> {
    let changed = store.conn().execute(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, last_attempt_at = ?2,
             last_error = NULL
         WHERE id = ?1 AND state = ?3 AND coalesce(last_attempt_at, '') = coalesce(?4, '')
           AND message_id = ?5
           AND EXISTS (SELECT 1 FROM reports r WHERE r.id = outbox.report_id)",
        params![
            row.id,
            timestamp(now),
            row.state,
            row.last_attempt_at,
            row.message_id
        ],
    )?;
    Ok(changed == 1)
}

/// A transient failure (server unreachable, timeout, 4xx), or a reply that could not be
/// made ready to send: `queued` with the error, due again after [`backoff`].
pub fn mark_transient(store: &Store, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
    let (attempts, state): (i64, OutboxState) = store
        .conn()
        .query_row(
            "SELECT attempts, state FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(OutboxError::NotFound(id))?;
    // A reply that could not be made ready was never claimed: it counts as an attempt all
    // the same, so the wait grows as it does after a failed send.
    let unclaimed = i64::from(state != OutboxState::Sending);
    store.conn().execute(
        "UPDATE outbox SET state = 'queued', last_error = ?2, next_attempt_at = ?3,
             attempts = attempts + ?4
         WHERE id = ?1 AND state = ?5",
        params![
            id,
            error,
            timestamp(now + backoff(attempts + unclaimed)),
            unclaimed,
            state
        ],
    )?;
    Ok(())
}

/// A permanent refusal (5xx): kept as `failed-permanent` for the user to edit or discard.
pub fn mark_permanent(store: &Store, id: i64, error: &str) -> Result<()> {
    store.conn().execute(
        "UPDATE outbox SET state = 'failed-permanent', last_error = ?2
         WHERE id = ?1 AND state = 'sending'",
        params![id, error],
    )?;
    Ok(())
}

/// An attempt that ended without knowing whether the server took the reply: `sending` →
/// `uncertain`, with why; looked for on the server from `check_from`. The attempt time is
/// kept: [`verdict`] counts from it.
pub fn mark_uncertain(
    store: &Store,
    id: i64,
    error: &str,
    check_from: DateTime<Utc>,
) -> Result<()> {
    store.conn().execute(
        "UPDATE outbox SET state = 'uncertain', last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND state = 'sending'",
        params![id, error, timestamp(check_from)],
    )?;
    Ok(())
}

/// A `sending` row found stale (its attempt crashed, as last seen): → `uncertain`, by a
/// compare-and-set on its attempt time. False when another desk moved it first.
pub fn mark_interrupted(store: &Store, row: &OutboxEntry, error: &str) -> Result<bool> {
    let changed = store.conn().execute(
        "UPDATE outbox SET state = 'uncertain', last_error = ?2
         WHERE id = ?1 AND state = 'sending' AND coalesce(last_attempt_at, '') = coalesce(?3, '')",
        params![row.id, error, row.last_attempt_at],
    )?;
    Ok(changed == 1)
}

/// An `uncertain` row that stays so: why, and when to look for it on the server again.
pub fn still_uncertain(
    store: &Store,
    id: i64,
    error: &str,
    check_from: DateTime<Utc>,
) -> Result<()> {
    store.conn().execute(
        "UPDATE outbox SET last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND state = 'uncertain'",
        params![id, error, timestamp(check_from)],
    )?;
    Ok(())
}

/// A person decided an `uncertain` reply was not delivered: `queued` again, due now, for
/// the next attempt to send it.
pub fn resend_by_hand(store: &Store, id: i64, now: DateTime<Utc>) -> Result<()> {
    let changed = store.conn().execute(
        "UPDATE outbox SET state = 'queued', last_error = NULL, next_attempt_at = ?2
         WHERE id = ?1 AND state = 'uncertain'",
        params![id, timestamp(now)],
    )?;
    if changed == 0 {
        let row = get(store, id)?;
        return Err(OutboxError::WrongState {
            id,
            state: row.state,
            expected: OutboxState::Uncertain.as_str(),
        });
    }
    Ok(())
}

/// The rows of report `report_id` queued to go, being sent or ended unconfirmed: a new
/// reply now could reach the reporter next to one of these (a queued one goes at the next
/// delivery), oldest first.
pub fn unsettled_for_report(store: &Store, report_id: ReportId) -> Result<Vec<OutboxEntry>> {
    select(
        store,
        "report_id = ?1 AND state IN ('queued', 'sending', 'uncertain')",
        params![report_id],
    )
}

/// Records a delivered reply, in one transaction: the row becomes `sent` (Sent copy
/// pending), the message joins the report's thread with direction `out`, and a `reply`
/// event goes into the audit log (the first one is the report's first response).
pub fn record_sent(store: &mut Store, id: i64, now: DateTime<Utc>) -> Result<OutboxEntry> {
    let row = get(store, id)?;
    if row.state != OutboxState::Sending {
        return Err(OutboxError::WrongState {
            id,
            state: row.state,
            expected: OutboxState::Sending.as_str(),
        });
    }
    let raw = raw(store, id)?;
    let draft = draft(store, id)?;
    let at = timestamp(now);
    let tx = store.write_transaction().map_err(StoreError::from)?;
    tx.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?2, sent_copy = 'pending', last_error = NULL
         WHERE id = ?1",
        params![id, at],
    )?;
    ingest::store_sent(&tx, row.report_id, &raw, now)?;
    tx.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, 'reply', NULL, ?4, ?5)",
        params![row.report_id, row.actor, at, row.message_id, draft.template],
    )?;
    // The other desks' clocks count it too (core::team).
    crate::core::team::local::on_audit(
        &tx,
        row.report_id,
        &row.actor,
        &at,
        "reply",
        (None, Some(&row.message_id)),
        draft.template.as_deref(),
    )?;
    tx.execute(
        "UPDATE reports SET updated_at = ?2 WHERE id = ?1",
        params![row.report_id, at],
    )?;
    tx.commit().map_err(StoreError::from)?;
    get(store, id)
}

/// Records whether the copy reached the Sent mailbox.
pub fn mark_sent_copy(store: &Store, id: i64, error: Option<&str>) -> Result<()> {
    store.conn().execute(
        "UPDATE outbox SET sent_copy = CASE WHEN ?2 IS NULL THEN 'filed' ELSE 'pending' END,
            sent_copy_error = ?2
         WHERE id = ?1 AND state = 'sent'",
        params![id, error],
    )?;
    Ok(())
}

/// The states a reply can be edited in: never delivered, and no attempt running.
pub const EDITABLE: [OutboxState; 2] = [OutboxState::Queued, OutboxState::FailedPermanent];

/// Replaces a `queued` or `failed-permanent` reply with its edited version (new Message-ID
/// and bytes) and queues it again, due now. `before` is the row as read when editing began:
/// the replacement is one compare-and-set on it, so a reply a delivery claimed, sent or
/// tried meanwhile (or a person discarded) is left as it is
/// ([`OutboxError::ChangedWhileEditing`]), and a delivery that read the row before the edit
/// cannot claim it after (its Message-ID changed, see [`claim`]): never sent twice, never
/// half old and half new.
pub fn requeue_edited(
    store: &Store,
    before: &OutboxEntry,
    draft: &Draft,
    built: &BuiltMessage,
    now: DateTime<Utc>,
) -> Result<()> {
    let id = before.id;
    if !EDITABLE.contains(&before.state) {
        return Err(OutboxError::WrongState {
            id,
            state: before.state,
            expected: "queued or failed-permanent",
        });
    }
    let draft_json = serde_json::to_string(draft).map_err(|e| OutboxError::BadDraft {
        id,
        detail: e.to_string(),
    })?;
    let changed = store.conn().execute(
        "UPDATE outbox SET message_id = ?2, subject = ?3, envelope_from = ?4, recipients = ?5,
            draft = ?6, raw = ?7, state = 'queued', attempts = 0, last_error = NULL,
            last_attempt_at = NULL, next_attempt_at = ?8
         WHERE id = ?1 AND state = ?9 AND message_id = ?10
           AND coalesce(last_attempt_at, '') = coalesce(?11, '')",
        params![
            id,
            built.message_id,
            draft.subject,
            built.envelope_from,
            serde_json::to_string(&built.recipients).unwrap_or_default(),
            draft_json,
            built.raw,
            timestamp(now),
            before.state,
            before.message_id,
            before.last_attempt_at,
        ],
    )?;
    if changed == 0 {
        let now = get(store, id)?;
        return Err(OutboxError::ChangedWhileEditing {
            id,
            report_id: before.report_id,
            state: now.state,
            what: changed::while_editing(before, &now),
        });
    }
    Ok(())
}

/// Gives up on a reply that was not sent; the row is kept as `discarded`.
pub fn discard(store: &Store, id: i64) -> Result<()> {
    // A reply whose report is gone may still read `sending` (its attempt was cut short).
    fail_orphans(store, Some(id))?;
    let row = get(store, id)?;
    if ![
        OutboxState::FailedPermanent,
        OutboxState::Failed,
        OutboxState::Queued,
        OutboxState::Uncertain,
    ]
    .contains(&row.state)
    {
        return Err(OutboxError::WrongState {
            id,
            state: row.state,
            expected: "queued, uncertain, failed or failed-permanent",
        });
    }
    store.conn().execute(
        "UPDATE outbox SET state = 'discarded' WHERE id = ?1 AND state = ?2",
        params![id, row.state],
    )?;
    Ok(())
}

/// When a row is next due, for display.
pub fn next_attempt(row: &OutboxEntry) -> Option<DateTime<Utc>> {
    parse_timestamp(&row.next_attempt_at)
}

#[cfg(test)]
mod tests;
