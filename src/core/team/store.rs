//! The merge's state in the SQLite store: the team event log, the register winners and the
//! derived conflicts (with their audit entries). A winning remote value reaches the report's
//! own rows through `super::apply`; events for a report whose mail is not here yet wait
//! (`pending`) until it arrives ([`materialize_pending`]).

use rusqlite::{params, Connection, OptionalExtension};

use super::apply::materialize;
use super::event::{conflict_text, Event, ReportRef, Stamp};
use super::merge::Replica;
pub use super::report_ref::{report_ref, resolve};

/// The store as a [`Replica`], inside the caller's transaction.
pub struct SqlReplica<'c> {
    pub conn: &'c Connection,
    /// Write winning values to the report rows (remote events). A local change has already
    /// written its value, so its event only updates the team tables.
    pub materialize: bool,
}

fn parse(json: &str) -> rusqlite::Result<Event> {
    serde_json::from_str(json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Replica for SqlReplica<'_> {
    type Error = rusqlite::Error;

    fn known(&self, id: &str) -> rusqlite::Result<bool> {
        self.conn
            .query_row("SELECT 1 FROM team_events WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
    }

    fn clock(&self) -> rusqlite::Result<u64> {
        self.conn
            .query_row("SELECT lamport FROM team_clock WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map(|c| c.unwrap_or(0))
    }

    fn set_clock(&mut self, lamport: u64) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO team_clock (id, lamport) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET lamport = max(lamport, excluded.lamport)",
            [lamport],
        )?;
        Ok(())
    }

    fn log(&mut self, ev: &Event, register: Option<&str>) -> rusqlite::Result<()> {
        let json = serde_json::to_string(ev).unwrap_or_default();
        self.conn.execute(
            "INSERT INTO team_events (id, report_key, register, lamport, actor, kind, at, json,
                                      pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)",
            params![
                ev.id,
                ev.report.key(),
                register,
                ev.lamport,
                ev.actor,
                ev.kind,
                ev.at,
                json
            ],
        )?;
        super::milestones::on_logged(self.conn, ev)?;
        Ok(())
    }

    fn winner(&self, report: &ReportRef, register: &str) -> rusqlite::Result<Option<Stamp>> {
        self.conn
            .query_row(
                "SELECT r.lamport, r.actor, r.event_id FROM team_registers r
                 WHERE r.report_key = ?1 AND r.register = ?2",
                params![report.key(), register],
                |r| {
                    Ok(Stamp {
                        lamport: r.get(0)?,
                        actor: r.get(1)?,
                        id: r.get(2)?,
                    })
                },
            )
            .optional()
    }

    fn set_winner(&mut self, ev: &Event, register: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO team_registers (report_key, register, event_id, lamport, actor)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (report_key, register) DO UPDATE SET
                event_id = excluded.event_id, lamport = excluded.lamport, actor = excluded.actor",
            params![ev.report.key(), register, ev.id, ev.lamport, ev.actor],
        )?;
        if self.materialize {
            materialize(self.conn, ev)?;
        }
        Ok(())
    }

    fn history(&self, report: &ReportRef, register: &str) -> rusqlite::Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT json FROM team_events WHERE report_key = ?1 AND register = ?2",
        )?;
        let rows = stmt.query_map(params![report.key(), register], |r| r.get::<_, String>(0))?;
        rows.map(|j| parse(&j?)).collect()
    }

    fn set_conflicts(
        &mut self,
        report: &ReportRef,
        register: &str,
        conflicts: &[(Event, Event)],
    ) -> rusqlite::Result<()> {
        let key = report.key();
        let existing: Vec<(String, String, Option<i64>)> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT loser_id, winner_id, audit_event FROM team_conflicts
                 WHERE report_key = ?1 AND register = ?2",
            )?;
            let rows = stmt.query_map(params![key, register], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let wanted = |l: &str, w: &str| conflicts.iter().any(|(cw, cl)| cl.id == l && cw.id == w);
        for (loser, winner, audit) in &existing {
            if wanted(loser, winner) {
                continue;
            }
            self.conn
                .execute("DELETE FROM team_conflicts WHERE loser_id = ?1", [loser])?;
            if let Some(a) = audit {
                self.conn.execute(
                    "DELETE FROM events WHERE id = ?1 AND kind = 'conflict'",
                    [a],
                )?;
            }
        }
        for (winner, loser) in conflicts {
            if existing
                .iter()
                .any(|(l, w, _)| *l == loser.id && *w == winner.id)
            {
                continue;
            }
            self.conn.execute(
                "INSERT INTO team_conflicts
                    (loser_id, report_key, register, winner_id, text, audit_event)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                params![
                    loser.id,
                    key,
                    register,
                    winner.id,
                    conflict_text(winner, loser)
                ],
            )?;
            audit_conflict(self.conn, report, winner, loser)?;
        }
        Ok(())
    }

    fn add_note(&mut self, ev: &Event) -> rusqlite::Result<()> {
        if self.materialize {
            materialize(self.conn, ev)?;
        }
        Ok(())
    }

    fn add_link(&mut self, ev: &Event) -> rusqlite::Result<()> {
        self.add_note(ev)
    }
}

/// Mirrors a conflict into the report's audit log (kind `conflict`), when the report is here.
fn audit_conflict(
    conn: &Connection,
    report: &ReportRef,
    winner: &Event,
    loser: &Event,
) -> rusqlite::Result<()> {
    let Some(id) = resolve(conn, report)? else {
        return Ok(()); // Added by materialize_pending once the mail arrives.
    };
    conn.execute(
        "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
         VALUES (?1, ?2, ?3, 'conflict', ?4, ?5, ?6)",
        params![
            id,
            winner.actor,
            winner.at,
            loser.value_text(),
            winner.value_text(),
            conflict_text(winner, loser)
        ],
    )?;
    conn.execute(
        "UPDATE team_conflicts SET audit_event = ?2 WHERE loser_id = ?1",
        params![loser.id, conn.last_insert_rowid()],
    )?;
    Ok(())
}

/// Duplicates whose winning state names an original whose mail was not here when it was
/// applied (closed as duplicates of nothing): their state is applied again, so they name the
/// original now that a sync may have brought it, as on the other desks. Returns how many
/// were linked.
fn link_waiting_duplicates(conn: &Connection) -> rusqlite::Result<usize> {
    let unlinked: Vec<i64> = {
        let mut stmt = conn
            .prepare("SELECT id FROM reports WHERE state = 'duplicate' AND duplicate_of IS NULL")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut linked = 0;
    for id in unlinked {
        let Some(report) = report_ref(conn, id)? else {
            continue;
        };
        let replica = SqlReplica {
            conn,
            materialize: true,
        };
        let Some(stamp) = replica.winner(&report, "state")? else {
            continue;
        };
        let json: Option<String> = conn
            .query_row(
                "SELECT json FROM team_events WHERE id = ?1",
                [&stamp.id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(ev) = json.map(|j| parse(&j)).transpose()? else {
            continue;
        };
        let names_one_here = match ev.value.get("duplicate_of") {
            Some(v) if !v.is_null() => serde_json::from_value::<ReportRef>(v.clone())
                .ok()
                .map(|r| resolve(conn, &r))
                .transpose()?
                .flatten()
                .is_some(),
            _ => false,
        };
        if names_one_here {
            materialize(conn, &ev)?;
            linked += usize::from(conn.query_row(
                "SELECT duplicate_of IS NOT NULL FROM reports WHERE id = ?1",
                [id],
                |r| r.get::<_, bool>(0),
            )?);
        }
    }
    Ok(linked)
}

/// Applies the events that waited for their report's mail, now that a sync may have brought
/// it: register winners, notes, links and conflicts. Returns how many were applied.
pub fn materialize_pending(conn: &Connection) -> rusqlite::Result<usize> {
    let pending: Vec<(String, Option<String>, String)> = {
        let mut stmt = conn.prepare(
            "SELECT e.json, e.register, e.id FROM team_events e WHERE e.pending = 1
             ORDER BY e.lamport, e.actor, e.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut applied = 0;
    for (json, register, id) in pending {
        let ev = parse(&json)?;
        if resolve(conn, &ev.report)?.is_none() {
            continue;
        }
        // Its mail is here now: the report's milestones count its events.
        super::milestones::refresh(conn, &ev.report)?;
        let is_winner = match &register {
            Some(reg) => {
                let r = SqlReplica {
                    conn,
                    materialize: true,
                };
                r.winner(&ev.report, reg)?.is_some_and(|w| w.id == id)
            }
            None => true,
        };
        if is_winner {
            materialize(conn, &ev)?;
            applied += 1;
        } else {
            conn.execute("UPDATE team_events SET pending = 0 WHERE id = ?1", [&id])?;
        }
    }
    applied += link_waiting_duplicates(conn)?;
    let orphans: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT c.report_key, w.json, l.json FROM team_conflicts c
             JOIN team_events w ON w.id = c.winner_id JOIN team_events l ON l.id = c.loser_id
             WHERE c.audit_event IS NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (key, winner, loser) in orphans {
        if let Some(report) = ReportRef::from_key(&key) {
            audit_conflict(conn, &report, &parse(&winner)?, &parse(&loser)?)?;
        }
    }
    Ok(applied)
}
