//! Coordinators: at most one team member per report, assigned, taken or unassigned.

use rusqlite::{params, Connection};

use super::transaction::in_transaction;
use super::writes::{self, event, load_checking_version, Current};
use super::{Applied, Request, TriageError, Undo};
use crate::core::config::{Config, Identity};
use crate::core::model::ReportId;
use crate::core::store::Store;

/// Finds a team member by any of their names, ignoring case, trying in turn: the email,
/// the configured handle, the email's local part, the full name, the first name. The first
/// of these that points at exactly one member decides; one that points at several is an
/// error listing them.
pub fn resolve_member(config: &Config, who: &str) -> Result<Identity, TriageError> {
    find_member(&config.members(), who)
}

/// [`resolve_member`] over a list of members.
pub fn find_member(members: &[&Identity], who: &str) -> Result<Identity, TriageError> {
    let who = who.trim().trim_start_matches('@');
    let names: [fn(&Identity) -> Option<&str>; 5] = [
        |m| Some(m.email.as_str()),
        |m| m.handle.as_deref(),
        |m| m.email.split('@').next(),
        |m| Some(m.name.as_str()),
        |m| m.name.split_whitespace().next(),
    ];
    let list = |ms: &[&Identity]| {
        ms.iter()
            .map(|m| format!("{} <{}>", m.name, m.email))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for name in names {
        let found: Vec<&Identity> = members
            .iter()
            .copied()
            .filter(|m| name(m).is_some_and(|n| n.eq_ignore_ascii_case(who)))
            .collect();
        match found.as_slice() {
            [] => continue,
            [one] => return Ok((*one).clone()),
            many => {
                return Err(TriageError::AmbiguousMember {
                    who: who.to_string(),
                    candidates: list(many),
                })
            }
        }
    }
    Err(TriageError::UnknownMember {
        who: who.to_string(),
        members: list(members),
    })
}

/// Makes `who` (a team member, by any name: see [`resolve_member`]) the coordinator.
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
        let current = load_checking_version(conn, id, req)?;
        let mut version = current.version;
        if current.coordinator != to {
            write_coordinator(conn, &current, to.as_deref(), req)?;
            version = writes::bump(conn, &current, req)?;
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
