//! The desk's door to the core: what the store worker runs for each [`Request`]. Reads build
//! the view models the screens draw; writes call the triage core functions with the version
//! the view loaded, so a change from a stale view is refused, not applied.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use crate::core::config::{ClockConfig, Config};
use crate::core::model::ReportId;
use crate::core::store::queue::next_deadline;
use crate::core::store::{parse_timestamp, Store, StoreError};

use super::action::{Action, Request};

/// How to take one change back. Until the triage core lands this is only a description.
pub type UndoToken = String;

/// A message in the thread, or a team note, in the order they happened.
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadItem {
    Mail(Mail),
    Note {
        author: String,
        at: String,
        text: String,
    },
}

/// One message of a report's thread, as stored (raw: not yet terminal-safe).
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Sent by the team (a reply) rather than received.
    pub ours: bool,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub date: String,
    pub subject: String,
    pub body: String,
    pub message_id: Option<String>,
    /// SPF, DKIM and DMARC results as the receiving server recorded them.
    pub auth: Vec<(String, String)>,
    /// Name (if any), content type and size in bytes.
    pub attachments: Vec<(Option<String>, String, i64)>,
    /// What could not be parsed.
    pub notes: Vec<String>,
}

/// One audit-log line.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLine {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Everything the report view shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub id: ReportId,
    pub version: i64,
    pub state: String,
    pub invalid_reason: Option<String>,
    pub class: Option<String>,
    pub class_confirmed: bool,
    pub outcome: Option<String>,
    pub confidence: Option<f64>,
    pub spam_score: Option<f64>,
    pub reasons: Vec<String>,
    pub coordinator: Option<String>,
    pub flagged: bool,
    pub duplicate_of: Option<ReportId>,
    pub duplicates: Vec<ReportId>,
    pub created_at: String,
    pub deadline: Option<DateTime<Utc>>,
    pub thread: Vec<ThreadItem>,
    pub events: Vec<EventLine>,
}

/// What the stats screen shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsData {
    /// ISO week (`YYYY-Www`) and the intake per class in it, oldest first.
    pub weekly: Vec<(String, Vec<(String, u64)>)>,
    pub by_state: Vec<(String, u64)>,
    /// Clock name, median hours (if any report has one), target hours, how many measured.
    pub response: Vec<(String, Option<f64>, f64, u64)>,
    /// Overdue open reports: id, subject, deadline.
    pub overdue: Vec<(ReportId, String, DateTime<Utc>)>,
}

/// Runs one request against `store` and says what happened, as the action to feed back.
pub fn handle(store: &mut Store, config: &Config, request: Request) -> Action {
    let clocks = &config.clocks;
    let result = match request {
        Request::Queue {
            generation,
            filter,
            offset,
            limit,
        } => store
            .queue_page(&filter, clocks, offset, limit)
            .map(|page| Action::QueueLoaded { generation, page }),
        Request::Report(id) => {
            load_detail(store, clocks, id).map(|d| Action::ReportLoaded(Box::new(d)))
        }
        Request::Stats => load_stats(store, clocks).map(|s| Action::StatsLoaded(Box::new(s))),
        Request::Triage(batch) => Ok(Action::Applied(super::triage::apply(store, config, batch))),
        Request::Undo(entry) => Ok(Action::Applied(super::triage::undo(store, config, entry))),
    };
    result.unwrap_or_else(|e| Action::Failed(super::text::store_error(&e.to_string())))
}

fn json_list(s: Option<String>) -> Vec<String> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// Reads one report with its whole thread, notes and audit log.
pub fn load_detail(
    store: &Store,
    clocks: &ClockConfig,
    id: ReportId,
) -> Result<Detail, StoreError> {
    let conn = store.conn();
    let detail = conn
        .query_row(
            "SELECT version, state, invalid_reason, class, class_confirmed, outcome, confidence,
                spam_score, reasons, coordinator, flagged, duplicate_of, created_at
             FROM reports WHERE id = ?1",
            [id],
            |r| {
                Ok(Detail {
                    id,
                    version: r.get(0)?,
                    state: r.get(1)?,
                    invalid_reason: r.get(2)?,
                    class: r.get(3)?,
                    class_confirmed: r.get(4)?,
                    outcome: r.get(5)?,
                    confidence: r.get(6)?,
                    spam_score: r.get(7)?,
                    reasons: json_list(r.get(8)?),
                    coordinator: r.get(9)?,
                    flagged: r.get(10)?,
                    duplicate_of: r.get(11)?,
                    duplicates: Vec::new(),
                    created_at: r.get(12)?,
                    deadline: None,
                    thread: Vec::new(),
                    events: Vec::new(),
                })
            },
        )
        .optional()?;
    let mut d = detail.ok_or(StoreError::NoSuchReport(id))?;
    d.deadline = parse_timestamp(&d.created_at).and_then(|c| next_deadline(&d.state, c, clocks));
    let mut dups = conn.prepare_cached("SELECT id FROM reports WHERE duplicate_of = ?1")?;
    d.duplicates = dups
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut timeline: Vec<(String, ThreadItem)> = Vec::new();
    let mut msgs = conn.prepare_cached(
        "SELECT id, direction, received_at, date, from_name, from_addr, to_addrs, cc_addrs,
            subject, body, message_id, spf, dkim, dmarc, notes
         FROM messages WHERE report_id = ?1 ORDER BY received_at, id",
    )?;
    let mut atts = conn
        .prepare_cached("SELECT name, content_type, size FROM attachments WHERE message_id = ?1")?;
    let rows = msgs.query_map([id], |r| {
        let name: Option<String> = r.get(4)?;
        let addr: Option<String> = r.get(5)?;
        let received: String = r.get(2)?;
        let auth = [
            ("SPF", r.get(11)?),
            ("DKIM", r.get(12)?),
            ("DMARC", r.get(13)?),
        ]
        .into_iter()
        .filter_map(|(k, v): (&str, Option<String>)| v.map(|v| (k.to_string(), v)))
        .collect();
        Ok((
            r.get::<_, i64>(0)?,
            received.clone(),
            Mail {
                ours: r.get::<_, String>(1)? == "out",
                from: match (name, addr) {
                    (Some(n), Some(a)) => format!("{n} <{a}>"),
                    (n, a) => a.or(n).unwrap_or_default(),
                },
                to: json_list(r.get(6)?),
                cc: json_list(r.get(7)?),
                date: r.get::<_, Option<String>>(3)?.unwrap_or(received),
                subject: r.get(8)?,
                body: r.get(9)?,
                message_id: r.get(10)?,
                auth,
                attachments: Vec::new(),
                notes: json_list(r.get(14)?),
            },
        ))
    })?;
    for row in rows {
        let (msg_row, at, mut mail) = row?;
        mail.attachments = atts
            .query_map([msg_row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        timeline.push((at, ThreadItem::Mail(mail)));
    }
    let mut notes =
        conn.prepare_cached("SELECT author, at, text FROM notes WHERE report_id = ?1 ORDER BY id")?;
    for row in notes.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        let (author, at, text): (String, String, String) = row?;
        timeline.push((at.clone(), ThreadItem::Note { author, at, text }));
    }
    // Stable: mail and notes at the same second keep mail first.
    timeline.sort_by(|a, b| a.0.cmp(&b.0));
    d.thread = timeline.into_iter().map(|(_, item)| item).collect();
    let mut events = conn.prepare_cached(
        "SELECT at, actor, kind, before, after FROM events WHERE report_id = ?1 ORDER BY at, id",
    )?;
    d.events = events
        .query_map([id], |r| {
            Ok(EventLine {
                at: r.get(0)?,
                actor: r.get(1)?,
                kind: r.get(2)?,
                before: r.get(3)?,
                after: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(d)
}

/// The stats screen's figures. Replaced by the triage branch's stats module once merged.
pub fn load_stats(store: &Store, clocks: &ClockConfig) -> Result<StatsData, StoreError> {
    let _ = (store, clocks);
    Ok(StatsData::default())
}

/// The states a report in `from` may move to. Replaced by the triage branch's lifecycle
/// table once merged.
pub fn allowed_states(
    from: crate::core::model::ReportState,
) -> Vec<crate::core::model::ReportState> {
    crate::core::model::ReportState::ALL
        .iter()
        .copied()
        .filter(|s| *s != from)
        .collect()
}
