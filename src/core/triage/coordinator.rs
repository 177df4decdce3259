//! Coordinators: at most one team member per report, assigned, taken or unassigned.

use rusqlite::{params, Connection};

use super::actions::in_transaction;
use super::record::{self, event, guard, Current};
use super::{Applied, Request, TriageError, Undo};
use crate::core::config::{Config, Identity};
use crate::core::model::ReportId;
use crate::core::store::Store;

/// Finds a team member by email or name, or says who the members are.
pub fn resolve_member(config: &Config, who: &str) -> Result<Identity, TriageError> {
    config
        .member(who)
        .cloned()
        .ok_or_else(|| TriageError::UnknownMember {
            who: who.to_string(),
            members: config
                .members()
                .iter()
                .map(|m| format!("{} <{}>", m.name, m.email))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Makes `who` (a team member's email or name) the report's coordinator.
pub fn assign(
    store: &mut Store,
    req: &Request,
    config: &Config,
    id: ReportId,
    who: &str,
) -> Result<Applied<Option<String>>, TriageError> {
    let member = resolve_member(config, who)?;
    set_coordinator(store, req, id, Some(member.email))
}

/// Makes the requester the report's coordinator.
pub fn take(
    store: &mut Store,
    req: &Request,
    id: ReportId,
) -> Result<Applied<Option<String>>, TriageError> {
    set_coordinator(store, req, id, Some(req.actor.clone()))
}

/// Leaves the report without a coordinator.
pub fn unassign(
    store: &mut Store,
    req: &Request,
    id: ReportId,
) -> Result<Applied<Option<String>>, TriageError> {
    set_coordinator(store, req, id, None)
}

fn set_coordinator(
    store: &mut Store,
    req: &Request,
    id: ReportId,
    to: Option<String>,
) -> Result<Applied<Option<String>>, TriageError> {
    in_transaction(store, |conn| {
        let current = guard(conn, id, req)?;
        let mut version = current.version;
        if current.coordinator != to {
            write_coordinator(conn, &current, to.as_deref(), req)?;
            version = record::bump(conn, &current, req)?;
        }
        Ok(Applied {
            report_id: id,
            undo: if current.coordinator == to {
                Undo::Nothing
            } else {
                Undo::Coordinator(current.coordinator.clone())
            },
            before: current.coordinator,
            after: to,
            version,
        })
    })
}

pub(super) fn write_coordinator(
    conn: &Connection,
    current: &Current,
    to: Option<&str>,
    req: &Request,
) -> Result<(), TriageError> {
    conn.execute(
        "UPDATE reports SET coordinator = ?2 WHERE id = ?1",
        params![current.id, to],
    )?;
    event(
        conn,
        current.id,
        req,
        "coordinator",
        current.coordinator.as_deref(),
        to,
        None,
    )
}
