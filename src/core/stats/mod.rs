//! Team statistics over a period: counts by class, state and coordinator, weekly intake,
//! response times, reports over each clock target, and spam and invalid cleared per
//! moderator. `secdesk stats --format json` prints [`Stats`] as is: its names are a contract.
//!
//! The period selects reports by when they arrived (`created_at`); `until` is inclusive.
//! Days, weeks, months, quarters and years are cut at midnight in the period's [`Zone`], UTC
//! ([`TIME_ZONE`]) unless `stats --tz` names another: in UTC a report sent at 23:30 on
//! 31 December in UTC−5 arrived at 04:30 UTC on 1 January and counts in the next year; with
//! `--tz America/New_York` it counts in its own. Every output names the zone (`time_zone` in
//! the JSON, a CSV row, the table's header).
//! Every time figure is derived from the audit log through [`crate::core::clocks`].
//! Percentiles interpolate linearly between the closest ranks (the median of an even count is
//! the mean of the middle two).

pub mod chart;
mod csv;
pub mod period;
pub use crate::core::zone::Zone;
mod period_csv;
mod period_rows;
pub use period_csv::to_csv_rows;

pub use csv::to_csv;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rusqlite::params;
use serde::Serialize;

use crate::core::clocks;
use crate::core::config::ClockConfig;
pub use crate::core::durations::{figures, percentile, TimeFigures};
use crate::core::model::{Class, ReportId, ReportState};
use crate::core::store::{parse_timestamp, Result, Store};

/// Which reports count: those that arrived on or after `since` and on or before `until`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Count historical reports (imported closed, `core::triage::history`) in the response
    /// times and clocks too; by default they are left out of them (still counted by state,
    /// class and week).
    pub with_historical: bool,
    /// The zone every period is cut in: `since`/`until` days, ISO weeks, months, quarters
    /// and years all start at midnight in it (`stats --tz`; UTC by default).
    pub zone: Zone,
}

/// The time zone periods are cut in unless `stats --tz` names another. Printed as the JSON
/// key `time_zone`.
pub const TIME_ZONE: &str = "UTC";

/// The key used for reports without a class or without a coordinator.
pub const UNCLASSIFIED: &str = "unclassified";
pub const UNASSIGNED: &str = "unassigned";

/// Every figure of `secdesk stats`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    /// The period, `YYYY-MM-DD` or null for open-ended.
    pub since: Option<String>,
    pub until: Option<String>,
    /// The time zone days, weeks, months, quarters and years are cut in: [`TIME_ZONE`]
    /// (`"UTC"`) unless `stats --tz` named another, then its IANA name.
    pub time_zone: String,
    /// How many reports arrived in the period.
    pub reports: usize,
    pub by_state: BTreeMap<String, usize>,
    pub by_class: BTreeMap<String, usize>,
    pub by_coordinator: BTreeMap<String, usize>,
    pub weekly: Vec<WeekIntake>,
    pub time_to_first_response: TimeFigures,
    pub time_to_triage: TimeFigures,
    pub time_to_close: TimeFigures,
    pub over_target: OverTarget,
    /// Open reports past a deadline now.
    pub overdue: usize,
    /// Per moderator (the actor of the event that closed them): spam and invalid cleared.
    pub cleared_by: BTreeMap<String, Cleared>,
    /// Historical reports in the period (imported closed); left out of the time figures,
    /// clocks and cleared counts unless asked for.
    pub historical: usize,
}

/// Reports that arrived in one ISO week, by class.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WeekIntake {
    /// `YYYY-Www` (ISO 8601 week date).
    pub week: String,
    pub spam: usize,
    pub invalid: usize,
    pub valid: usize,
    pub unclassified: usize,
}

/// Reports that met a clock late, or are still pending past it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct OverTarget {
    pub acknowledge: usize,
    pub triage: usize,
    pub close: usize,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Cleared {
    pub spam: usize,
    pub invalid: usize,
}

/// Computes the figures for `period`, judging overdue clocks at `now`.
pub fn compute(
    store: &Store,
    period: Period,
    targets: &ClockConfig,
    now: DateTime<Utc>,
) -> Result<Stats> {
    let conn = store.conn();
    let (from, to) = period.bounds();
    let milestones = clocks::milestones(conn, None)?;
    let closers = closers(store)?;
    let mut stats = Stats::empty(&period);
    let mut weeks: BTreeMap<String, WeekIntake> = BTreeMap::new();
    let mut times = Times::default();
    for row in report_rows(store)? {
        let Some(created) = parse_timestamp(&row.created_at) else {
            continue;
        };
        if from.is_some_and(|f| created < f) || to.is_some_and(|t| created >= t) {
            continue;
        }
        stats.count_intake(&mut weeks, &row, period.zone.local(created));
        if row.historical && !period.with_historical {
            continue;
        }
        if let Some(m) = milestones.get(&row.id) {
            times.add(m);
            stats.count_clocks(m, targets, now);
        }
        if let Some((actor, closed_as)) = closers.get(&row.id) {
            let cleared = stats.cleared_by.entry(actor.clone()).or_default();
            match closed_as {
                ReportState::Spam => cleared.spam += 1,
                _ => cleared.invalid += 1,
            }
        }
    }
    stats.weekly = weeks.into_values().collect();
    stats.time_to_first_response = figures(times.responded);
    stats.time_to_triage = figures(times.triaged);
    stats.time_to_close = figures(times.closed);
    Ok(stats)
}

/// A report as the figures read it.
struct ReportRow {
    id: ReportId,
    created_at: String,
    state: String,
    class: Option<String>,
    class_confirmed: bool,
    coordinator: Option<String>,
    /// Closed as historical on import: counted in the intake, in the times only when asked.
    historical: bool,
}

/// Every report, oldest first.
fn report_rows(store: &Store) -> Result<Vec<ReportRow>> {
    let mut stmt = store.conn().prepare(&format!(
        "SELECT id, created_at, state, class, class_confirmed, coordinator, {} FROM reports r
         ORDER BY created_at, id",
        crate::core::triage::history::IS_HISTORICAL
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(ReportRow {
            id: r.get(0)?,
            created_at: r.get(1)?,
            state: r.get(2)?,
            class: r.get(3)?,
            class_confirmed: r.get(4)?,
            coordinator: r.get(5)?,
            historical: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Hours from arrival to each milestone, over the reports that reached it.
#[derive(Default)]
struct Times {
    responded: Vec<f64>,
    triaged: Vec<f64>,
    closed: Vec<f64>,
}

impl Times {
    fn add(&mut self, m: &clocks::Milestones) {
        let hours = |t: DateTime<Utc>| (t - m.created).num_seconds() as f64 / 3600.0;
        self.responded.extend(m.responded.map(hours));
        self.triaged.extend(m.triaged.map(hours));
        self.closed.extend(m.closed.map(hours));
    }
}

impl Stats {
    /// No reports yet: every state and class (and `unclassified`) listed at zero.
    fn empty(period: &Period) -> Stats {
        Stats {
            since: period.since.map(|d| d.to_string()),
            until: period.until.map(|d| d.to_string()),
            time_zone: period.zone.name().to_string(),
            reports: 0,
            by_state: ReportState::ALL
                .iter()
                .map(|s| (s.to_string(), 0))
                .collect(),
            // Unclassified too, so that the JSON has the same keys whatever the store holds.
            by_class: Class::ALL
                .iter()
                .map(|c| c.to_string())
                .chain([UNCLASSIFIED.to_string()])
                .map(|c| (c, 0))
                .collect(),
            by_coordinator: BTreeMap::new(),
            weekly: Vec::new(),
            time_to_first_response: TimeFigures::default(),
            time_to_triage: TimeFigures::default(),
            time_to_close: TimeFigures::default(),
            over_target: OverTarget::default(),
            overdue: 0,
            cleared_by: BTreeMap::new(),
            historical: 0,
        }
    }

    /// Counts one report that arrived in the period: by state, class, coordinator and week.
    fn count_intake(
        &mut self,
        weeks: &mut BTreeMap<String, WeekIntake>,
        row: &ReportRow,
        created: chrono::NaiveDateTime,
    ) {
        self.reports += 1;
        *self.by_state.entry(row.state.clone()).or_default() += 1;
        let class = counted_class(row.class.as_deref(), row.class_confirmed, &row.state)
            .unwrap_or(UNCLASSIFIED);
        *self.by_class.entry(class.to_string()).or_default() += 1;
        let coordinator = row.coordinator.as_deref().unwrap_or(UNASSIGNED);
        *self
            .by_coordinator
            .entry(coordinator.to_string())
            .or_default() += 1;
        let iso = created.iso_week();
        let week = format!("{}-W{:02}", iso.year(), iso.week());
        let intake = weeks.entry(week.clone()).or_insert_with(|| WeekIntake {
            week,
            ..WeekIntake::default()
        });
        match class {
            "spam" => intake.spam += 1,
            "invalid" => intake.invalid += 1,
            "valid" => intake.valid += 1,
            _ => intake.unclassified += 1,
        }
        self.historical += usize::from(row.historical);
    }

    /// Counts a report's clocks judged at `now`: over each target, and overdue.
    fn count_clocks(&mut self, m: &clocks::Milestones, targets: &ClockConfig, now: DateTime<Utc>) {
        let c = m.clocks(targets, now);
        self.over_target.acknowledge += usize::from(c.acknowledge.over_target);
        self.over_target.triage += usize::from(c.triage.over_target);
        self.over_target.close += usize::from(c.close.over_target);
        self.overdue += usize::from(m.is_overdue(targets, now));
    }
}

/// The class the figures count a report in. A spam suggestion no person confirmed stands
/// only while the report is new: once someone moved it on to a state other than spam
/// (acknowledged, triaged, ...), the team is treating it as a report, and it counts as
/// unclassified, with its clocks, not as spam left out of them.
fn counted_class<'a>(class: Option<&'a str>, confirmed: bool, state: &str) -> Option<&'a str> {
    let taken_up = state != ReportState::New.as_str() && state != ReportState::Spam.as_str();
    let overruled = class == Some(Class::Spam.as_str()) && !confirmed && taken_up;
    if overruled {
        None
    } else {
        class
    }
}

impl Period {
    /// The period as instants: from the first instant of `since` to the first of the day
    /// after `until` (excluded), in the period's zone.
    pub fn bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let from = self.since.map(|d| self.zone.start_of(d));
        let to = self
            .until
            .map(|d| self.zone.start_of(d + Duration::days(1)));
        (from, to)
    }
}

/// For each report closed now as spam or invalid, who closed it: the actor of its latest
/// state event, which is the one that moved it into that state.
fn closers(store: &Store) -> Result<HashMap<ReportId, (String, ReportState)>> {
    let mut stmt = store.conn().prepare(
        "SELECT r.id, e.actor, r.state FROM reports r
         JOIN events e ON e.id = (SELECT max(id) FROM events x
                                  WHERE x.report_id = r.id AND x.kind = 'state')
         WHERE r.state IN (?1, ?2) AND e.after = r.state",
    )?;
    let rows = stmt.query_map(
        params![ReportState::Spam.as_str(), ReportState::Invalid.as_str()],
        |r| {
            Ok((
                r.get::<_, ReportId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, actor, state) = row?;
        if let Ok(state) = state.parse() {
            out.insert(id, (actor, state));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod period_tests;
#[cfg(test)]
mod tests;
