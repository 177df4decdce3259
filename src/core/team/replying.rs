//! Who is answering a report: `reply-started` and its end (`reply-sent`, `reply-abandoned`)
//! are a last-writer-wins register per member; a start counts for 30 minutes at most, so a
//! crashed editor does not block a report forever.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::json;

use super::event::Event;
use super::local::emit;
use super::store::report_ref;
use super::TeamError;
use crate::core::store::{parse_timestamp, timestamp, Store};

/// How long a reply start counts without its end.
pub const REPLY_WINDOW: Duration = Duration::minutes(30);

/// A member answering a report now (`show --json`'s `replying`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replying {
    pub by: String,
    /// RFC 3339 UTC.
    pub since: String,
}

impl Replying {
    /// Whole minutes since the reply started, for "Ada is replying (4 min)".
    pub fn minutes(&self, now: DateTime<Utc>) -> i64 {
        parse_timestamp(&self.since)
            .map(|s| (now - s).num_minutes().max(0))
            .unwrap_or(0)
    }
}

/// When a reply start counts from on this desk, and the start to show. Another desk's clock
/// may be hours ahead or behind, so the window runs from when the event arrived here (on this
/// desk's clock); the writer's `at` is shown when it is plausible (not after the arrival, and
/// within the window before it). Own starts (no arrival) count from their `at`.
fn start_times(
    at: DateTime<Utc>,
    arrived: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    match arrived {
        None => (at, at),
        Some(arrived) if at <= arrived && arrived - at < REPLY_WINDOW => (arrived, at),
        Some(arrived) => (arrived, arrived),
    }
}

/// Everyone answering report `id` at `now`, earliest start first.
pub fn replying_all(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Replying>, TeamError> {
    let Some(report) = report_ref(conn, id)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT e.json, a.arrived_at FROM team_registers r
         JOIN team_events e ON e.id = r.event_id
         LEFT JOIN team_arrivals a ON a.event_id = e.id
         WHERE r.report_key = ?1 AND r.register LIKE 'reply:%' AND e.kind = 'reply-started'",
    )?;
    let rows = stmt.query_map(params![report.key()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (json, arrived) = row?;
        let Ok(ev) = serde_json::from_str::<Event>(&json) else {
            continue;
        };
        let Some(at) = parse_timestamp(&ev.at) else {
            continue;
        };
        let (counts_from, since) = start_times(at, arrived.as_deref().and_then(parse_timestamp));
        if now - counts_from < REPLY_WINDOW && counts_from <= now + Duration::minutes(5) {
            out.push(Replying {
                by: ev.actor,
                since: timestamp(since),
            });
        }
    }
    out.sort_by(|a, b| a.since.cmp(&b.since).then(a.by.cmp(&b.by)));
    Ok(out)
}

/// The member answering report `id` now, if any (the one who started first).
pub fn replying(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Replying>, TeamError> {
    Ok(replying_all(conn, id, now)?.into_iter().next())
}

/// Someone other than `me` answering report `id` now: check it before [`start`], to warn.
pub fn other_replying(
    store: &Store,
    me: &str,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Replying>, TeamError> {
    Ok(replying_all(store.conn(), id, now)?
        .into_iter()
        .find(|r| !r.by.eq_ignore_ascii_case(me)))
}

/// How a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyEnd {
    /// Queued in the outbox to be sent.
    Sent,
    /// Discarded or cancelled.
    Abandoned,
}

/// Records that `actor` started replying to report `id` (`secdesk reply`, the desk's `r`).
pub fn start(store: &mut Store, actor: &str, id: i64, now: DateTime<Utc>) -> Result<(), TeamError> {
    record(store, actor, id, now, "reply-started")
}

/// Records the end of `actor`'s reply to report `id`.
pub fn end(
    store: &mut Store,
    actor: &str,
    id: i64,
    now: DateTime<Utc>,
    how: ReplyEnd,
) -> Result<(), TeamError> {
    let kind = match how {
        ReplyEnd::Sent => "reply-sent",
        ReplyEnd::Abandoned => "reply-abandoned",
    };
    record(store, actor, id, now, kind)
}

fn record(
    store: &mut Store,
    actor: &str,
    id: i64,
    now: DateTime<Utc>,
    kind: &str,
) -> Result<(), TeamError> {
    let tx = store.write_transaction()?;
    emit(&tx, id, actor, &timestamp(now), kind, json!({}))?;
    tx.commit()?;
    Ok(())
}
