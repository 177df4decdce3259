//! Reading one report whole: its thread, notes, duplicate links, audit log, clocks and the
//! classifier's suggestion. `secdesk show --json` prints [`ReportDetail`] as is, so its field
//! names are a contract (add fields freely, never rename).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::writes;
use super::{Note, TriageError};
use crate::core::clocks::{self, Clocks, Deadlines};
use crate::core::config::ClockConfig;
use crate::core::model::{Class, InvalidReason, ReportId, ReportState};
use crate::core::parse::{
    parse_header_fields, parse_message, AuthResults, DateNote, ParsedMessage, Standing,
};
use crate::core::store::body;
use crate::core::store::header_columns::Derived;
use crate::core::store::raw::{unpack, unpack_column};
use crate::core::store::Store;

/// One report, everything about it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportDetail {
    pub id: ReportId,
    pub state: ReportState,
    pub invalid_reason: Option<InvalidReason>,
    pub class: Option<Class>,
    /// Whether a person confirmed `class`.
    pub class_confirmed: bool,
    /// The member's email, or null.
    pub coordinator: Option<String>,
    /// The reporter answered while the team waited.
    pub flagged: bool,
    /// A message from an address other than the reporter's joined the thread (see
    /// `messages[].another_sender`); replies still go to the reporter.
    pub another_sender: bool,
    /// Pass this back (`--if-version`) so a change from this view is refused if the report
    /// changed meanwhile.
    pub version: i64,
    pub created_at: String,
    pub subject: String,
    pub from: String,
    pub classifier: ClassifierView,
    pub messages: Vec<MessageView>,
    pub notes: Vec<Note>,
    pub duplicate_of: Option<ReportId>,
    pub duplicates: Vec<ReportId>,
    pub events: Vec<Event>,
    pub deadlines: Deadlines,
    pub clocks: Option<Clocks>,
    pub overdue: bool,
}

/// What the classifier suggested when the report arrived.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassifierView {
    pub class: Option<String>,
    pub outcome: Option<String>,
    pub score: Option<f64>,
    /// The same number as `score`, under the name `list`, `classify` and `eval` give it.
    pub spam_score: Option<f64>,
    pub confidence: Option<f64>,
    pub reasons: Vec<String>,
}

/// One message of the thread. `direction` is `in` (reporter) or `out` (our reply).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MessageView {
    pub message_id: Option<String>,
    pub from: String,
    /// The Date header, else (absent, unreadable, or implausibly far from the arrival) when
    /// it arrived; RFC 3339.
    pub date: String,
    /// The Date header as written, when it was not used for `date` (see `parse_notes`).
    pub date_header: Option<String>,
    /// Sent by someone other than the reporter into the report's thread: never addressed
    /// by a reply unless chosen explicitly.
    pub another_sender: bool,
    /// The From address alone.
    pub from_addr: String,
    /// Came in from one of the team's own addresses, not the reporter's (a member's reply,
    /// whose copy reaches the team mailbox on Cc): neither the reporter's mail nor another
    /// sender's.
    pub from_team: bool,
    pub received_at: String,
    pub subject: String,
    pub body: String,
    pub direction: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub attachments: Vec<AttachmentView>,
    pub auth: AuthView,
    /// What could not be parsed or trusted: an unreadable part, an implausible Date, a
    /// Message-ID or thread collision, another sender.
    pub parse_notes: Vec<String>,
    /// OpenPGP: encrypted or not, the signature's state and signer (issue 16).
    pub pgp: crate::core::pgp::PgpInfo,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttachmentView {
    pub name: Option<String>,
    pub content_type: String,
    pub size: i64,
    /// It holds an OpenPGP public key that `secdesk pgp import-key` can import (issue 16).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub public_key: bool,
}

/// Authentication-Results (RFC 8601) as recorded by our receiving server when `verified`;
/// otherwise what the topmost field claims, which the sender may have written
/// (`core::parse::auth_results`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuthView {
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
    /// The authserv-id the verdicts were read from.
    pub authserv_id: Option<String>,
    /// The authserv-id was one `[sync] authserv_id` named when the message came in: the
    /// verdicts are the receiving server's. False: nothing says they are not the sender's.
    pub verified: bool,
}

impl AuthView {
    /// The view of sender authentication read from a message now (a held post, a file
    /// given to `secdesk classify`): verified only when `[sync] authserv_id` named the
    /// server (`Standing::Configured`), as ingest stores it.
    pub fn of(auth: &AuthResults) -> AuthView {
        AuthView {
            spf: auth.spf.clone(),
            dkim: auth.dkim.clone(),
            dmarc: auth.dmarc.clone(),
            authserv_id: auth.authserv_id.clone(),
            verified: auth.standing == Standing::Configured,
        }
    }

    /// The line a triager reads: the verdicts and whose they are. `None` without any.
    pub fn line(&self) -> Option<String> {
        let verdicts: Vec<String> = [
            ("SPF", &self.spf),
            ("DKIM", &self.dkim),
            ("DMARC", &self.dmarc),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| format!("{k} {v}")))
        .collect();
        if verdicts.is_empty() {
            return None;
        }
        let verdicts = verdicts.join(", ");
        Some(match (self.verified, self.authserv_id.as_deref()) {
            (true, id) => format!(
                "Auth: {verdicts} (recorded by {})",
                id.unwrap_or("the configured server")
            ),
            // Short: it may stand on every message of a desk without the setting (80 columns).
            (false, Some(id)) if !id.is_empty() => {
                format!("Auth UNVERIFIED: {verdicts} (claimed as {id}'s; set [sync] authserv_id)")
            }
            (false, Some(_)) => {
                format!("Auth UNVERIFIED: {verdicts} (no server named; set [sync] authserv_id)")
            }
            // Stored by a version that did not record whose field it read.
            (false, None) => {
                format!("Auth UNVERIFIED: {verdicts} (stored before the authserv-id check)")
            }
        })
    }
}

/// One audit-log entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub actor: String,
    /// RFC 3339.
    pub at: String,
    /// `created`, `state`, `class`, `coordinator`, `note`, `duplicate`, `flag`, `reply`, …
    pub kind: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Why: the invalid reason, the note given with a change, `undo`.
    pub detail: Option<String>,
}

/// Loads report `id` whole, with its clocks judged at `now`.
pub fn report_detail(
    store: &Store,
    id: ReportId,
    targets: &ClockConfig,
    now: DateTime<Utc>,
) -> Result<ReportDetail, TriageError> {
    let conn = store.conn();
    let current = writes::load(conn, id)?;
    let (created_at, outcome, score, confidence, reasons): (
        String,
        Option<String>,
        Option<f64>,
        Option<f64>,
        Option<String>,
    ) = conn.query_row(
        "SELECT created_at, outcome, spam_score, confidence, reasons FROM reports WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let messages = messages(conn, id)?;
    let suggested: Option<String> = conn.query_row(
        "SELECT class FROM messages WHERE report_id = ?1 ORDER BY id LIMIT 1",
        [id],
        |r| r.get(0),
    )?;
    let milestones = clocks::milestones(conn, Some(id))?.remove(&id);
    let duplicates = conn
        .prepare_cached("SELECT id FROM reports WHERE duplicate_of = ?1 ORDER BY id")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<ReportId>>>()?;
    let (subject, from) = messages
        .first()
        .map(|m| (m.subject.clone(), m.from.clone()))
        .unwrap_or_default();
    let another_sender = messages.iter().any(|m| m.another_sender);
    Ok(ReportDetail {
        id,
        state: current.state.state,
        invalid_reason: current.state.invalid_reason,
        class: current.class,
        class_confirmed: current.class_confirmed,
        coordinator: current.coordinator,
        flagged: current.flagged,
        another_sender,
        version: current.version,
        created_at,
        subject,
        from,
        classifier: ClassifierView {
            class: suggested,
            outcome,
            score,
            spam_score: score,
            confidence,
            reasons: reasons
                .map(|r| crate::core::store::reasons::decode(&r))
                .unwrap_or_default(),
        },
        messages,
        notes: notes(conn, id)?,
        duplicate_of: current.state.duplicate_of,
        duplicates,
        events: events_of(conn, id)?,
        deadlines: crate::core::pep811::with_pep811(
            conn,
            id,
            milestones
                .as_ref()
                .map(|m| m.deadlines(targets))
                .unwrap_or_default(),
        )?,
        clocks: milestones.as_ref().map(|m| m.clocks(targets, now)),
        overdue: milestones.is_some_and(|m| m.is_overdue(targets, now)),
    })
}

/// The audit log of report `id`, oldest first.
pub fn events(store: &Store, id: ReportId) -> Result<Vec<Event>, TriageError> {
    writes::load(store.conn(), id)?;
    events_of(store.conn(), id)
}

fn events_of(conn: &Connection, id: ReportId) -> Result<Vec<Event>, TriageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, actor, at, kind, before, after, detail FROM events
         WHERE report_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Event {
            id: r.get(0)?,
            actor: r.get(1)?,
            at: r.get(2)?,
            kind: r.get(3)?,
            before: r.get(4)?,
            after: r.get(5)?,
            detail: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn notes(conn: &Connection, id: ReportId) -> Result<Vec<Note>, TriageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, author, at, text FROM notes WHERE report_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Note {
            id: r.get(0)?,
            author: r.get(1)?,
            at: r.get(2)?,
            text: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A message's notes as stored, with why its Date header was not used written out from
/// the stored code (`messages.date_note`), the header as written and the arrival.
fn parse_notes(
    mut notes: Vec<String>,
    date_note: Option<i64>,
    date_header: Option<&str>,
    received_at: &str,
) -> Vec<String> {
    let note = date_note.and_then(DateNote::from_code);
    let arrival = crate::core::time::parse_timestamp(received_at);
    if let (Some(note), Some(header), Some(arrival)) = (note, date_header, arrival) {
        notes.insert(0, note.describe(header, arrival));
    } else if date_note.is_some() {
        // A code from a newer version, or a row that lost its header: say what is known.
        notes.insert(0, DATE_NOT_USED.to_string());
    }
    notes
}

/// The note for a Date header not used, when its reason cannot be written out.
const DATE_NOT_USED: &str =
    "the Date header was not used: ordered and timed by its arrival instead";

fn messages(conn: &Connection, id: ReportId) -> Result<Vec<MessageView>, TriageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, message_id, from_name, from_addr, date, received_at, subject,
                body, direction, to_addrs, cc_addrs, spf, dkim, dmarc, notes, date_header,
                another_sender, pgp, date_note, raw, authserv_id, auth_trusted
         FROM messages WHERE report_id = ?1 ORDER BY received_at, id",
    )?;
    let rows = stmt.query_map([id], message_from_row)?;
    let mut out = Vec::new();
    let mut attachments = conn.prepare_cached(
        "SELECT name, content_type, size FROM attachments WHERE message_id = ?1 ORDER BY rowid",
    )?;
    for row in rows {
        let (row_id, mut message) = row?;
        message.attachments = attachments
            .query_map(params![row_id], |r| {
                Ok(AttachmentView {
                    name: r.get(0)?,
                    content_type: r.get(1)?,
                    size: r.get(2)?,
                    public_key: false,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        mark_public_keys(conn, row_id, &mut message.attachments)?;
        out.push(message);
    }
    // Ingest marks mail from neither the reporter nor the team as another sender
    // (core::ingest::evidence): what else comes in from another address is the team's.
    let reporter = out
        .iter()
        .find(|m| m.direction == "in")
        .map(|m| crate::core::address::key(&m.from_addr));
    for m in &mut out {
        m.from_team = m.direction == "in"
            && !m.another_sender
            && !m.from_addr.is_empty()
            && reporter
                .as_ref()
                .is_some_and(|r| *r != crate::core::address::key(&m.from_addr));
    }
    Ok(out)
}

/// One message selected by [`messages`], with its row id.
fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, MessageView)> {
    let name: Option<String> = r.get(2)?;
    let addr: Option<String> = r.get(3)?;
    let received_at: String = r.get(5)?;
    let pgp: Option<String> = r.get(17)?;
    let date_note: Option<i64> = r.get(18)?;
    // The text and the header columns not stored come from the raw message, parsed
    // once: whole when the text is not kept (core::store::body), else its headers.
    let kept: String = r.get(7)?;
    // A damaged frame (`secdesk check` reports it) shows what the row still holds, the
    // kept text and the header columns stored with it, and says so, instead of keeping
    // the whole report from being read.
    let mut damaged = None;
    let (body, parsed) = match (
        body::is_kept(&kept, pgp.as_deref()),
        unpack_column(r.get_ref(19)?),
    ) {
        (true, Ok(raw)) => (kept, parse_header_fields(&raw)),
        (false, Ok(raw)) => {
            let parsed = parse_message(&raw);
            (parsed.body_text.clone(), parsed)
        }
        (is_kept, Err(e)) => {
            damaged = Some(e.to_string());
            (
                if is_kept { kept } else { String::new() },
                ParsedMessage::default(),
            )
        }
    };
    let derived = Derived {
        to_addrs: r.get(9)?,
        cc_addrs: r.get(10)?,
        date_header: r.get(15)?,
        headers: &parsed,
    };
    let date_header = derived.date_header(date_note.is_some());
    let mut parse_notes = parse_notes(
        json_list(r.get(14)?),
        date_note,
        date_header.as_deref(),
        &received_at,
    );
    parse_notes.extend(damaged);
    Ok((
        r.get::<_, i64>(0)?,
        MessageView {
            message_id: r.get(1)?,
            from: crate::core::store::reports::sender(name, addr.clone()),
            date: r
                .get::<_, Option<String>>(4)?
                .unwrap_or(received_at.clone()),
            date_header,
            another_sender: r.get(16)?,
            from_addr: addr.unwrap_or_default(),
            from_team: false,
            received_at,
            subject: r.get(6)?,
            body,
            direction: r.get(8)?,
            to: derived.to(),
            cc: derived.cc(),
            attachments: Vec::new(),
            auth: AuthView {
                spf: r.get(11)?,
                dkim: r.get(12)?,
                dmarc: r.get(13)?,
                authserv_id: r.get(20)?,
                verified: r.get(21)?,
            },
            parse_notes,
            pgp: pgp
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default(),
        },
    ))
}

/// Marks the attachments that hold a public key. Only a message with an attachment that
/// looks like one (`keys::looks_like_key`) is read again; an `application/pgp-keys`
/// attachment inside an encrypted part (not readable here) is marked by its type.
fn mark_public_keys(
    conn: &Connection,
    row_id: i64,
    attachments: &mut [AttachmentView],
) -> Result<(), TriageError> {
    use crate::core::pgp::keys;
    let size = |a: &AttachmentView| usize::try_from(a.size).unwrap_or(usize::MAX);
    if !attachments
        .iter()
        .any(|a| keys::looks_like_key(&a.content_type, a.name.as_deref(), size(a)))
    {
        return Ok(());
    }
    let stored: Vec<u8> =
        conn.query_row("SELECT raw FROM messages WHERE id = ?1", [row_id], |r| {
            r.get(0)
        })?;
    // A damaged frame (noted on the message) has no key to find.
    let Ok(raw) = unpack(stored) else {
        return Ok(());
    };
    let found = keys::find(&crate::core::parse::attachments_with_bodies(&raw));
    for a in attachments.iter_mut() {
        let name = crate::core::sanitize::terminal_line(a.name.as_deref().unwrap_or(""));
        let outer = found
            .iter()
            .any(|f| matches!(f, keys::Found::Block { source, .. } if *source == name));
        let typed = a.content_type.eq_ignore_ascii_case("application/pgp-keys")
            && !found
                .iter()
                .any(|f| matches!(f, keys::Found::Skipped { source, .. } if *source == name));
        a.public_key = outer || typed;
    }
    Ok(())
}

/// A stored JSON array of strings; anything unreadable reads as empty.
fn json_list(text: Option<String>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}
/// A report as a picker of reports lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: ReportId,
    /// The first message's subject, as received (not yet made terminal-safe).
    pub subject: String,
    pub state: String,
    /// The original, when the report is itself a duplicate.
    pub duplicate_of: Option<ReportId>,
}

/// The newest `limit` reports that can be an original, for a picker of reports (the desk's
/// `d`): a report closed as spam cannot (`mark_duplicate` refuses it).
pub fn candidates(store: &Store, limit: usize) -> Result<Vec<Candidate>, TriageError> {
    let mut stmt = store.conn().prepare_cached(
        "SELECT r.id, coalesce((SELECT m.subject FROM messages m WHERE m.report_id = r.id
             ORDER BY m.id LIMIT 1), ''), r.state, r.duplicate_of
         FROM reports r WHERE r.state <> 'spam' ORDER BY r.created_at DESC, r.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(Candidate {
            id: r.get(0)?,
            subject: r.get(1)?,
            state: r.get(2)?,
            duplicate_of: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
