//! What the yearly figures (`stats::period`) read from the store: each report's row, and what
//! its history holds (milestones, coordination, first fix and disclosure, who cleared it).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::core::clocks::{self, Milestones};
use crate::core::model::{ReportId, ReportState};
use crate::core::pep811::{self, Coordination};
use crate::core::store::{parse_timestamp, Result, Store};
use crate::core::triage::SYSTEM_ACTOR;

/// One report as the figures need it.
pub(super) struct Row {
    pub(super) id: ReportId,
    pub(super) created: DateTime<Utc>,
    pub(super) state: String,
    pub(super) class: Option<String>,
    /// A person confirmed the class (or closed the report in it); else it is the
    /// classifier's suggestion.
    pub(super) class_confirmed: bool,
    pub(super) invalid_reason: Option<String>,
    pub(super) coordinator: Option<String>,
    pub(super) historical: bool,
}

impl Row {
    /// The class the figures count the report in ([`super::counted_class`]).
    pub(super) fn class(&self) -> Option<&str> {
        super::counted_class(self.class.as_deref(), self.class_confirmed, &self.state)
    }
}

/// Every report's history as the figures judge it, read once for all reports.
pub(super) struct History {
    pub(super) milestones: HashMap<ReportId, Milestones>,
    pub(super) coordination: HashMap<ReportId, Coordination>,
    /// When a person first moved it to resolved or disclosed (a move undone does not count).
    pub(super) fixed: HashMap<ReportId, DateTime<Utc>>,
    /// When a person first moved it to disclosed (a move undone does not count).
    pub(super) disclosed: HashMap<ReportId, DateTime<Utc>>,
    /// Who closed it as spam or invalid, and as which.
    pub(super) closers: HashMap<ReportId, (String, ReportState)>,
}

impl History {
    /// Reads every report's history from the store.
    pub(super) fn read(store: &Store) -> Result<History> {
        let conn = store.conn();
        Ok(History {
            milestones: clocks::milestones(conn, None)?,
            coordination: pep811::coordination(conn, None)?,
            fixed: first_into(store, &["resolved", "disclosed"])?,
            disclosed: first_into(store, &["disclosed"])?,
            closers: super::closers(store)?,
        })
    }
}

/// Every report, oldest first (a report whose creation time does not parse is left out).
pub(super) fn rows(store: &Store) -> Result<Vec<Row>> {
    let mut stmt = store.conn().prepare(&format!(
        "SELECT r.id, r.created_at, r.state, r.class, r.class_confirmed, r.invalid_reason,
                r.coordinator, {}
             FROM reports r ORDER BY r.created_at, r.id",
        crate::core::triage::history::IS_HISTORICAL
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, ReportId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, bool>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, created, state, class, class_confirmed, invalid_reason, coordinator, historical) =
            row?;
        if let Some(created) = parse_timestamp(&created) {
            out.push(Row {
                id,
                created,
                state,
                class,
                class_confirmed,
                invalid_reason,
                coordinator,
                historical,
            });
        }
    }
    Ok(out)
}

/// Per report, the first time a person moved it into one of `states`, as the clocks read
/// the log: a move taken back by undo never happened.
fn first_into(store: &Store, states: &[&str]) -> Result<HashMap<ReportId, DateTime<Utc>>> {
    let list: Vec<String> = states.iter().map(|s| format!("'{s}'")).collect();
    let mut stmt = store.conn().prepare(&format!(
        "SELECT e.report_id, min(e.at) FROM events e WHERE e.kind = 'state' AND e.actor <> ?1
         AND e.after IN ({}) AND {} GROUP BY e.report_id",
        list.join(", "),
        crate::core::clocks::NOT_UNDONE
    ))?;
    let rows = stmt.query_map([SYSTEM_ACTOR], |r| {
        Ok((r.get::<_, ReportId>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, at) = row?;
        out.extend(parse_timestamp(&at).map(|t| (id, t)));
    }
    Ok(out)
}
