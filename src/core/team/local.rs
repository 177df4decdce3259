//! This desk's side of the team log: turning local triage changes into events (one hook
//! where the audit log is written), the outbound queue that survives restarts and SIGKILL,
//! the events-folder cursor, and folding fetched events in.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};

use super::event::{Event, ReportRef};
use super::merge::{apply, make, Applied, Draft, Replica};
use super::store::{materialize_pending, report_ref, SqlReplica};
use super::TeamError;
use crate::core::store::{MailboxState, Store};

/// The actor secdesk records for its own changes; they are not team events (every desk
/// makes them itself from the same mail).
const SYSTEM_ACTOR: &str = crate::core::triage::SYSTEM_ACTOR;

/// Called where a triage audit event is written, in the same transaction: makes the team
/// event for it (state, class, coordinator, note, duplicate link, advisory field, a response
/// to the reporter and its undo, a reply sent to the reporter) and queues it for the events
/// folder. Other kinds, undone notes and secdesk's own changes make none. `(before, after)`
/// are the audit entry's.
pub fn on_audit(
    conn: &Connection,
    report_id: i64,
    actor: &str,
    at: &str,
    kind: &str,
    (before, after): (Option<&str>, Option<&str>),
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    if actor == SYSTEM_ACTOR {
        return Ok(());
    }
    if matches!(kind, "state" | "class") {
        super::moderation::on_change(conn, report_id, at)?;
    }
    let value = match kind {
        "state" => {
            let (state, reason, dup): (String, Option<String>, Option<i64>) = conn.query_row(
                "SELECT state, invalid_reason, duplicate_of FROM reports WHERE id = ?1",
                [report_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let dup = match dup {
                Some(d) => report_ref(conn, d)?,
                None => None,
            };
            // An undo is marked, so other desks' clocks see the state taken back too.
            let mut value = json!({"state": state, "invalid_reason": reason, "duplicate_of": dup});
            if detail == Some("undo") {
                value["undo"] = Value::Bool(true);
            }
            value
        }
        "class" => {
            let (class, confirmed): (Option<String>, bool) = conn.query_row(
                "SELECT class, class_confirmed FROM reports WHERE id = ?1",
                [report_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            json!({"class": class, "confirmed": confirmed})
        }
        "coordinator" => {
            let c: Option<String> = conn.query_row(
                "SELECT coordinator FROM reports WHERE id = ?1",
                [report_id],
                |r| r.get(0),
            )?;
            json!({ "coordinator": c })
        }
        "note" => {
            let Some(note_id) = detail.and_then(|d| d.parse::<i64>().ok()) else {
                return Ok(()); // An undone note: the set is add-only.
            };
            let text: Option<String> = conn
                .query_row("SELECT text FROM notes WHERE id = ?1", [note_id], |r| {
                    r.get(0)
                })
                .optional()?;
            json!({ "text": text })
        }
        "duplicate" => {
            let dup: Option<i64> = conn.query_row(
                "SELECT duplicate_of FROM reports WHERE id = ?1",
                [report_id],
                |r| r.get(0),
            )?;
            match dup {
                Some(d) => json!({ "original": report_ref(conn, d)? }),
                None => return Ok(()), // A link removed: the set is add-only.
            }
        }
        // The first response stops the acknowledge clock on every desk (core::clocks).
        "responded" => match response(conn, before, after, detail)? {
            Some(value) => value,
            None => return Ok(()),
        },
        // A reply delivered (`core::outbox::record_sent`): a response when it reached the
        // reporter, as the clock counts it here.
        "reply" if reached_reporter(conn, report_id, after)? => {
            let value = json!({"via": "reply", "message_id": after});
            return emit(conn, report_id, actor, at, "responded", value).map(|_| ());
        }
        k if k.starts_with("advisory:") => {
            let field = &k["advisory:".len()..];
            let value = after
                .and_then(|a| serde_json::from_str::<Value>(a).ok())
                .unwrap_or(Value::Null);
            let ev = json!({ "field": field, "value": value });
            return emit(conn, report_id, actor, at, "advisory", ev).map(|_| ());
        }
        _ => return Ok(()),
    };
    emit(conn, report_id, actor, at, kind, value).map(|_| ())
}

/// The value of the `responded` event for a `responded` audit entry: how the reporter was
/// answered, or, for its undo (`before` the entry taken back), whose response of when is
/// taken back: the same on every desk, where it was written under the event's actor and
/// time. `None` when an undo names no response.
fn response(
    conn: &Connection,
    before: Option<&str>,
    after: Option<&str>,
    detail: Option<&str>,
) -> rusqlite::Result<Option<Value>> {
    if detail != Some("undo") {
        return Ok(Some(json!({ "via": after })));
    }
    let Some(row) = before.and_then(|b| b.parse::<i64>().ok()) else {
        return Ok(None);
    };
    let given: Option<(String, String)> = conn
        .query_row(
            "SELECT actor, at FROM events WHERE id = ?1 AND kind = 'responded'",
            [row],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(given.map(|(by, at)| json!({"undo_by": by, "undo_at": at})))
}

/// Whether the reply with Message-ID `message_id` was addressed to the reporter of
/// `report_id`, as the first-response clock counts it (`core::clocks`).
fn reached_reporter(
    conn: &Connection,
    report_id: i64,
    message_id: Option<&str>,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT coalesce((SELECT secdesk_lists_address(o.recipients, m.from_addr)
             FROM outbox o, messages m
             WHERE o.message_id = ?2 AND m.id = (SELECT min(f.id) FROM messages f
                 WHERE f.report_id = ?1 AND f.direction = 'in')), 1)",
        params![report_id, message_id],
        |r| r.get(0),
    )
}

/// Makes a local team event about `report_id` and queues it for the events folder.
/// `None` when the report has no mail to name it by.
pub fn emit(
    conn: &Connection,
    report_id: i64,
    actor: &str,
    at: &str,
    kind: &str,
    value: Value,
) -> rusqlite::Result<Option<Event>> {
    let Some(report) = report_ref(conn, report_id)? else {
        return Ok(None);
    };
    let mut replica = SqlReplica {
        conn,
        materialize: false,
    };
    let draft = Draft {
        actor: actor.to_string(),
        at: at.to_string(),
        report,
        kind: kind.to_string(),
        value,
    };
    let ev = make(&mut replica, draft)?;
    conn.execute(
        "INSERT INTO team_outbox (event_id, json) VALUES (?1, ?2)",
        params![ev.id, serde_json::to_string(&ev).unwrap_or_default()],
    )?;
    Ok(Some(ev))
}

/// Events made here and not yet on the server, oldest first, with their queue position.
pub fn queued(store: &Store) -> Result<Vec<(i64, Event)>, TeamError> {
    let mut stmt = store
        .conn()
        .prepare("SELECT seq, json FROM team_outbox ORDER BY seq")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, json) = row?;
        let ev = serde_json::from_str(&json).map_err(|e| TeamError::BadQueued {
            seq,
            error: e.to_string(),
        })?;
        out.push((seq, ev));
    }
    Ok(out)
}

/// Drops an event from the queue once the server has it.
pub fn mark_pushed(store: &Store, seq: i64) -> Result<(), TeamError> {
    store
        .conn()
        .execute("DELETE FROM team_outbox WHERE seq = ?1", [seq])?;
    Ok(())
}

/// Where reading the events folder got to.
pub fn cursor(store: &Store, mailbox: &str) -> Result<Option<MailboxState>, TeamError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT uidvalidity, last_uid FROM team_cursor WHERE mailbox = ?1",
            [mailbox],
            |r| {
                Ok(MailboxState {
                    uidvalidity: r.get(0)?,
                    last_uid: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// One message read from the events folder.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub uid: u32,
    /// The event, or why the message is not one.
    pub event: Result<Event, String>,
    /// It came as mail, not by a desk's APPEND ([`super::message::came_by_mail`]): never
    /// applied, whatever it says.
    pub by_mail: bool,
}

/// What a fold did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldSummary {
    pub applied: usize,
    pub already_known: usize,
    pub lost: usize,
    /// Events from actors not in `[team] members`, per actor: kept, not applied, until the
    /// actor is a member.
    pub non_members: BTreeMap<String, usize>,
    /// Messages in the folder that are not readable events.
    pub unreadable: usize,
    /// Messages that came by mail (delivered, not APPENDed by a desk): ignored.
    pub by_mail: usize,
    /// Events that waited for their report's mail and were applied now.
    pub caught_up: usize,
    /// Changes that won over a concurrent change of another member (whose desk had not seen
    /// it), which this desk held until now: who lost a claim or a state is told.
    pub overwritten: Vec<Overwritten>,
}

impl Overwritten {
    /// `report #5: bo's change of its coordinator, made at the same time as yours, won on
    /// every desk; yours is in its log as a conflict (secdesk log 5)`, told to the loser.
    pub fn line(&self) -> String {
        let what = match self.register.as_str() {
            "coordinator" => "coordinator (who takes it)".to_string(),
            r => r.strip_prefix("advisory:").unwrap_or(r).to_string(),
        };
        let winner = super::event::short_actor(&self.winner);
        match self.report {
            Some(id) => format!(
                "report #{id}: {winner}'s change of its {what}, made at the same time as yours, won on every desk; yours is in its log as a conflict (secdesk log {id})"
            ),
            None => format!(
                "{winner}'s change of a report's {what}, made at the same time as yours, won on every desk"
            ),
        }
    }
}

impl FoldSummary {
    /// The changes of `member` that other members' concurrent changes replaced.
    pub fn lost_by<'a>(&'a self, member: &'a str) -> impl Iterator<Item = &'a Overwritten> {
        self.overwritten
            .iter()
            .filter(move |o| o.loser.eq_ignore_ascii_case(member))
    }
}

/// A member's change that a concurrent one of another member replaced on this desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overwritten {
    /// The local report, when its mail is here.
    pub report: Option<i64>,
    /// What was changed: `state`, `class`, `coordinator`, `advisory:NAME`.
    pub register: String,
    /// Who made the change that won.
    pub winner: String,
    /// Who made the change that lost.
    pub loser: String,
}

/// Folds fetched events into the store in one transaction together with the cursor they
/// reach, so a kill at any moment resumes exactly after the last commit. `cursor` is the
/// folder's UIDVALIDITY and the highest UID of this batch.
pub fn fold(
    store: &mut Store,
    mailbox: &str,
    fetched: &[Fetched],
    cursor: MailboxState,
    members: &[String],
) -> Result<FoldSummary, TeamError> {
    fold_arriving(store, mailbox, fetched, cursor, members, chrono::Utc::now())
}

/// [`fold`], with the time on this desk's clock at which the events arrived (recorded for
/// reply starts: [`super::replying`]).
pub fn fold_arriving(
    store: &mut Store,
    mailbox: &str,
    fetched: &[Fetched],
    cursor: MailboxState,
    members: &[String],
    arrived: chrono::DateTime<chrono::Utc>,
) -> Result<FoldSummary, TeamError> {
    let arrived = crate::core::store::timestamp(arrived);
    let tx = store
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut summary = FoldSummary::default();
    {
        let mut replica = SqlReplica {
            conn: &tx,
            materialize: true,
        };
        // Kept from people who are members now: applied like any late event.
        for (ev, kept_arrival) in super::withheld::admit(&tx, members)? {
            fold_event(&mut replica, &ev, &kept_arrival, &mut summary)?;
        }
        for f in fetched {
            if f.by_mail {
                summary.by_mail += 1;
                continue;
            }
            let ev = match &f.event {
                Ok(ev) if ev.validate().is_ok() => ev,
                _ => {
                    summary.unreadable += 1;
                    continue;
                }
            };
            if !members.iter().any(|m| m.eq_ignore_ascii_case(&ev.actor)) {
                // Kept, never applied while the actor is not a member (`withheld`).
                *summary.non_members.entry(ev.actor.clone()).or_default() += 1;
                super::withheld::keep(&tx, ev, &arrived)?;
                continue;
            }
            fold_event(&mut replica, ev, &arrived, &mut summary)?;
        }
    }
    summary.caught_up = materialize_pending(&tx)?;
    tx.execute(
        "INSERT INTO team_cursor (mailbox, uidvalidity, last_uid) VALUES (?1, ?2, ?3)
         ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
            last_uid = excluded.last_uid",
        params![mailbox, cursor.uidvalidity, cursor.last_uid],
    )?;
    tx.commit()?;
    Ok(summary)
}

/// Applies one member's event that arrived here at `arrived`, counting what it did and
/// noting a concurrent change of another member it replaced.
fn fold_event(
    replica: &mut SqlReplica<'_>,
    ev: &Event,
    arrived: &str,
    summary: &mut FoldSummary,
) -> Result<(), TeamError> {
    let conn = replica.conn;
    if ev.kind == "reply-started" {
        conn.execute(
            "INSERT OR IGNORE INTO team_arrivals (event_id, arrived_at) VALUES (?1, ?2)",
            params![ev.id, arrived],
        )?;
    }
    // The change it may replace here, made without knowledge of it.
    let raced = match ev.register() {
        Some(name) if super::event::audited_register(&name) => replica
            .winner(&ev.report, &name)?
            .filter(|w| w.actor != ev.actor && ev.base.as_ref() != Some(&w.id))
            .map(|w| (name, w.actor)),
        _ => None,
    };
    match apply(replica, ev)? {
        Applied::Duplicate => summary.already_known += 1,
        Applied::Lost => summary.lost += 1,
        Applied::Changed | Applied::Ignored => {
            summary.applied += 1;
            if let Some((register, loser)) = raced {
                summary.overwritten.push(Overwritten {
                    report: super::report_ref::resolve(conn, &ev.report)?,
                    register,
                    winner: ev.actor.clone(),
                    loser,
                });
            }
        }
    }
    Ok(())
}

/// Applies events that waited for mail a sync has just stored, and those kept from people
/// who are now `members`. Returns how many were applied.
pub fn catch_up(store: &mut Store, members: &[String]) -> Result<usize, TeamError> {
    let tx = store.write_transaction()?;
    let mut summary = FoldSummary::default();
    let admitted = super::withheld::admit(&tx, members)?;
    if !admitted.is_empty() {
        let mut replica = SqlReplica {
            conn: &tx,
            materialize: true,
        };
        for (ev, arrived) in &admitted {
            fold_event(&mut replica, ev, arrived, &mut summary)?;
        }
    }
    let n = materialize_pending(&tx)?;
    tx.commit()?;
    Ok(n + summary.applied)
}

/// The team event log of one report, oldest first by (Lamport, actor): for `show` and tests.
pub fn report_events(store: &Store, report: &ReportRef) -> Result<Vec<Event>, TeamError> {
    let mut stmt = store.conn().prepare(
        "SELECT json FROM team_events WHERE report_key = ?1 ORDER BY lamport, actor, id",
    )?;
    let rows = stmt.query_map([report.key()], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for json in rows {
        out.push(
            serde_json::from_str(&json?).map_err(|e| TeamError::BadQueued {
                seq: 0,
                error: e.to_string(),
            })?,
        );
    }
    Ok(out)
}
