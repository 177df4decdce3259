//! `secdesk list`'s reports together with their response clocks, so a front end can show
//! and filter what is overdue. (The desk's paged queue is `core::store::queue`.)

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::clocks::{self, Deadlines};
use crate::core::config::ClockConfig;
use crate::core::store::reports::{ListFilter, ReportSummary};
use crate::core::store::{Result, Store};

/// One listed report (`secdesk list --json` prints these).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ListEntry {
    #[serde(flatten)]
    pub report: ReportSummary,
    /// An open report past a deadline it has not met.
    pub overdue: bool,
    pub deadlines: Deadlines,
}

/// Reports matching `filter`, newest first, with their clocks judged at `now`; only the
/// overdue ones when `overdue_only`.
pub fn with_clocks(
    store: &Store,
    filter: &ListFilter,
    overdue_only: bool,
    targets: &ClockConfig,
    now: DateTime<Utc>,
) -> Result<Vec<ListEntry>> {
    let reports = store.list_reports(filter)?;
    let milestones = clocks::milestones(store.conn(), None)?;
    let coordination = crate::core::pep811::coordination(store.conn(), None)?;
    Ok(reports
        .into_iter()
        .map(|report| {
            let m = milestones.get(&report.id);
            let mut deadlines = m.map(|m| m.deadlines(targets)).unwrap_or_default();
            if let Some(c) = coordination.get(&report.id) {
                c.fill(&mut deadlines);
            }
            ListEntry {
                overdue: m.is_some_and(|m| m.is_overdue(targets, now)),
                deadlines,
                report,
            }
        })
        .filter(|e| !overdue_only || e.overdue)
        .collect())
}
