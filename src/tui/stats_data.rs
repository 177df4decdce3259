//! The stats screen's figures (`T`): the triage core's stats for all time, the monthly
//! view and response efficiency of `secdesk stats --by month` (issue 15), and the overdue
//! list. Read by the store worker.

use chrono::{DateTime, Utc};

use crate::core::config::ClockConfig;
use crate::core::model::{ReportId, ReportState};
use crate::core::stats::period::Efficiency;
use crate::core::stats::{self, Period, Stats};
use crate::core::store::queue::{QueueFilter, QueueOrder};
use crate::core::store::Store;
use crate::core::triage::TriageError;

/// What the stats screen shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsData {
    /// The zone the weeks and months are cut in (`[stats] time_zone`), as the titles name it.
    pub zone: String,
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
    zone: stats::Zone,
    now: DateTime<Utc>,
) -> Result<StatsData, TriageError> {
    let period = Period {
        zone,
        ..Period::default()
    };
    let s = stats::compute(store, period.clone(), clocks, now)?;
    let year = stats::period::compute(
        store,
        period.clone(),
        stats::period::By::Month,
        clocks,
        members,
        now,
    )?;
    let monthly = year
        .by_period
        .iter()
        .map(|p| (p.period.clone(), by_class(p.spam, p.invalid, p.valid)))
        .collect();
    let weekly = s
        .weekly
        .iter()
        .map(|w| (w.week.clone(), by_class(w.spam, w.invalid, w.valid)))
        .collect();
    let by_state = s
        .by_state
        .iter()
        .map(|(k, v)| (k.clone(), *v as u64))
        .collect();
    let efficiency = efficiency(&year.response_efficiency);
    let response = response_times(&s, clocks);
    let overdue = most_overdue(store, clocks, now)?;
    Ok(StatsData {
        zone: period.zone.name().to_string(),
        weekly,
        monthly,
        efficiency,
        by_state,
        response,
        overdue_count: s.overdue,
        overdue,
    })
}

/// One period's intake per class, in the order the screen stacks them.
fn by_class(spam: usize, invalid: usize, valid: usize) -> Vec<(String, u64)> {
    vec![
        ("spam".to_string(), spam as u64),
        ("invalid".to_string(), invalid as u64),
        ("valid".to_string(), valid as u64),
    ]
}

/// Per clock, how many reports met its target, how many missed it, and the share met.
fn efficiency(e: &Efficiency) -> Vec<(String, usize, usize, Option<f64>)> {
    [
        ("first response", &e.acknowledge),
        ("triage", &e.triage),
        ("close", &e.close),
        ("coordinator", &e.coordinator),
        ("finish", &e.finish),
    ]
    .into_iter()
    .map(|(clock, s)| (clock.to_string(), s.met, s.missed, s.share))
    .collect()
}

/// Per response clock, the median hours it took, its target in hours, and how many
/// reports were measured.
fn response_times(s: &Stats, clocks: &ClockConfig) -> Vec<(String, Option<f64>, f64, u64)> {
    vec![
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
    ]
}

/// The open reports past their deadline among the first [`OVERDUE_SHOWN`] of the queue
/// sorted by deadline, most overdue first.
fn most_overdue(
    store: &Store,
    clocks: &ClockConfig,
    now: DateTime<Utc>,
) -> Result<Vec<(ReportId, String, DateTime<Utc>)>, TriageError> {
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
    Ok(page
        .rows
        .into_iter()
        .filter_map(|r| {
            r.deadline
                .filter(|d| *d < now)
                .map(|d| (r.summary.id, r.summary.subject, d))
        })
        .collect())
}
