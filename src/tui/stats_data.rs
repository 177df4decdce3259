//! The stats screen's figures (`T`): the triage core's stats for all time, the monthly
//! view and response efficiency of `secdesk stats --by month` (issue 15), and the overdue
//! list. Read by the store worker.

use chrono::{DateTime, Utc};

use crate::core::config::ClockConfig;
use crate::core::model::{ReportId, ReportState};
use crate::core::stats::{self, Period};
use crate::core::store::queue::{QueueFilter, QueueOrder};
use crate::core::store::Store;
use crate::core::triage::TriageError;

/// What the stats screen shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsData {
    /// ISO week (`YYYY-Www`) and the intake per class in it, oldest first.
    pub weekly: Vec<(String, Vec<(String, u64)>)>,
    /// Month (`YYYY-MM`) and the intake per class in it, oldest first: `stats --by month`'s
    /// `by_period` (issue 15).
    pub monthly: Vec<(String, Vec<(String, u64)>)>,
    /// Per clock, the share of reports that met its target (`response_efficiency`): clock
    /// name, met, missed, share.
    pub efficiency: Vec<(String, usize, usize, Option<f64>)>,
    pub by_state: Vec<(String, u64)>,
    /// Clock name, median hours (if any report has one), target hours, how many measured.
    pub response: Vec<(String, Option<f64>, f64, u64)>,
    /// How many open reports are overdue, and the most overdue of them: id, subject, deadline.
    pub overdue_count: usize,
    pub overdue: Vec<(ReportId, String, DateTime<Utc>)>,
}

/// How many overdue reports the stats screen lists.
const OVERDUE_SHOWN: usize = 50;

/// The stats screen's figures: the triage core's stats for all time, and the overdue list
/// from the queue sorted by deadline (most overdue first).
pub fn load_stats(
    store: &Store,
    clocks: &ClockConfig,
    members: &[&crate::core::config::Identity],
    now: DateTime<Utc>,
) -> Result<StatsData, TriageError> {
    let s = stats::compute(store, Period::default(), clocks, now)?;
    let year = stats::period::compute(
        store,
        Period::default(),
        stats::period::By::Month,
        clocks,
        members,
        now,
    )?;
    let monthly = year
        .by_period
        .iter()
        .map(|p| {
            (
                p.period.clone(),
                vec![
                    ("spam".to_string(), p.spam as u64),
                    ("invalid".to_string(), p.invalid as u64),
                    ("valid".to_string(), p.valid as u64),
                ],
            )
        })
        .collect();
    let e = &year.response_efficiency;
    let efficiency = [
        ("first response", &e.acknowledge),
        ("triage", &e.triage),
        ("close", &e.close),
        ("coordinator", &e.coordinator),
        ("finish", &e.finish),
    ]
    .into_iter()
    .map(|(clock, s)| (clock.to_string(), s.met, s.missed, s.share))
    .collect();
    let weekly = s
        .weekly
        .iter()
        .map(|w| {
            (
                w.week.clone(),
                vec![
                    ("spam".to_string(), w.spam as u64),
                    ("invalid".to_string(), w.invalid as u64),
                    ("valid".to_string(), w.valid as u64),
                ],
            )
        })
        .collect();
    let by_state = s
        .by_state
        .iter()
        .map(|(k, v)| (k.clone(), *v as u64))
        .collect();
    let response = vec![
        (
            "first response".to_string(),
            s.time_to_first_response.median_hours,
            clocks.acknowledge_days * 24.0,
            s.time_to_first_response.count as u64,
        ),
        (
            "triage".to_string(),
            s.time_to_triage.median_hours,
            clocks.triage_days * 24.0,
            s.time_to_triage.count as u64,
        ),
        (
            "close".to_string(),
            s.time_to_close.median_hours,
            clocks.close_days * 24.0,
            s.time_to_close.count as u64,
        ),
    ];
    let open = QueueFilter {
        exclude_states: ReportState::ALL
            .iter()
            .filter(|s| s.is_closed())
            .map(|s| s.to_string())
            .collect(),
        order: QueueOrder::Deadline,
        ..Default::default()
    };
    let page = store.queue_page(&open, clocks, 0, OVERDUE_SHOWN)?;
    let overdue = page
        .rows
        .into_iter()
        .filter_map(|r| {
            r.deadline
                .filter(|d| *d < now)
                .map(|d| (r.summary.id, r.summary.subject, d))
        })
        .collect();
    Ok(StatsData {
        weekly,
        monthly,
        efficiency,
        by_state,
        response,
        overdue_count: s.overdue,
        overdue,
    })
}
