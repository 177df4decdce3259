//! The stats screen's figures (`T`): the triage core's stats for all time, the monthly
//! view and response efficiency of `secdesk stats --by month` (issue 15), and the overdue
//! list. Read by the store worker.

use chrono::{DateTime, Utc};

use crate::core::config::ClockConfig;
use crate::core::model::{ReportId, ReportState};
use crate::core::stats::period::{Efficiency, YearFigures};
use crate::core::stats::{self, Period};
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
    /// Clock name, median hours (if any report has one), target hours, and how many
    /// reports were measured against the target (met or missed), spam and historical
    /// reports left out.
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
    let response = response_times(&year);
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

/// Per response clock, the median hours it took and its target in hours, without spam and
/// historical reports (`stats --by`'s `response_times`, as the share met beside it is
/// counted), and how many reports were measured against the target (met or missed), so
/// the row's count and its share speak of the same reports.
fn response_times(year: &YearFigures) -> Vec<(String, Option<f64>, f64, u64)> {
    let t = &year.response_times;
    let e = &year.response_efficiency;
    [
        ("first response", &t.first_response, &e.acknowledge),
        ("triage", &t.triage, &e.triage),
        ("close", &t.close, &e.close),
    ]
    .into_iter()
    .map(|(clock, span, share)| {
        let hours = if span.unit == "days" { 24.0 } else { 1.0 };
        (
            clock.to_string(),
            span.median.map(|m| m * hours),
            span.target.unwrap_or(0.0) * hours,
            (share.met + share.missed) as u64,
        )
    })
    .collect()
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::core::ingest::{Ingestor, Origin, RawIncoming};
    use crate::core::triage::{self, Request, Via};

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn incoming(uid: u32, date: DateTime<Utc>) -> RawIncoming {
        RawIncoming {
            raw: format!(
                "Message-ID: <s{uid}@x>\nFrom: r{uid}@reporter.example\nSubject: report {uid}\nDate: {}\n\nbody\n",
                date.to_rfc2822()
            )
            .into_bytes(),
            received_at: Some(date),
            origin: Origin::Imap {
                mailbox: "INBOX".into(),
                uidvalidity: 1,
                uid,
            },
        }
    }

    /// A spam closed within the hour must not make the close clock's median: the share met
    /// beside it leaves spam out, and so do the medians. A report closed in four days reads
    /// as such, in the clock's days, and each row counts the reports its share is over.
    #[test]
    fn the_response_rows_leave_spam_out_like_the_share_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let batch = vec![incoming(1, at(2, 10)), incoming(2, at(3, 10))];
        Ingestor::without_classifier()
            .ingest_batch(&mut store, batch, None)
            .unwrap();
        let ada = |t| Request::new("ada@example.org").at(t);
        triage::responded(&mut store, &ada(at(2, 15)), 1, Via::Phone).unwrap();
        triage::set_state(
            &mut store,
            &ada(at(6, 10)),
            1,
            ReportState::Resolved,
            None,
            None,
        )
        .unwrap();
        triage::set_state(
            &mut store,
            &ada(at(3, 10)),
            2,
            ReportState::Spam,
            None,
            None,
        )
        .unwrap();

        let data = load_stats(
            &store,
            &ClockConfig::default(),
            &[],
            stats::Zone::default(),
            at(20, 0),
        )
        .unwrap();
        let rows: Vec<(&str, Option<f64>, u64)> = data
            .response
            .iter()
            .map(|(clock, median, _, n)| (clock.as_str(), *median, *n))
            .collect();
        assert_eq!(rows[0], ("first response", Some(5.0), 1));
        assert_eq!(rows[2], ("close", Some(96.0), 1));
        let close = &data.efficiency[2];
        assert_eq!((close.1, close.2), (1, 0));
    }
}
