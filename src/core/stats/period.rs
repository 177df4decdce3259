//! The year in numbers (issue 15): intake and clocks per week, month, quarter or year, the
//! share of reports that met each target (response efficiency, as HackerOne shows it), time
//! to fix and to disclose, invalid reasons, moderation apart, and per-member activity for
//! PEP 811's yearly check of inactive members. Key names are a contract
//! (`secdesk stats --format json`), added beside the older [`super::Stats`] keys.
//!
//! Response and close times leave out spam (its "close" is moderation, reported apart; a spam
//! suggestion on a report a person took up is not spam, see `counted_class`) and
//! historical reports (`core::triage::history`: imported with `--historical` or arrived before
//! `[sync] historical_before`), whose clocks measure when someone got to the archive, not how
//! the team responded; `--historical` counts them in.
//! A clock whose target is longer than 2 days is given in days, others in hours.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;

use super::period_rows::{rows, History, Row};
use super::{percentile, Cleared, Period};
use crate::core::clocks::Milestones;
use crate::core::config::{ClockConfig, Identity};
use crate::core::model::ReportState;
use crate::core::moderation::stats::ModerationStats;
use crate::core::pep811::Coordination;
use crate::core::store::{parse_timestamp, timestamp, Result, Store};

/// How reports are grouped over time (`stats --by`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    #[default]
    Week,
    Month,
    Quarter,
    Year,
}

impl By {
    /// The bucket a wall-clock time (in the period's zone) falls in: `2026-W10`, `2026-03`,
    /// `2026-Q1`, `2026`.
    pub fn key(self, t: chrono::NaiveDateTime) -> String {
        match self {
            By::Week => {
                let w = t.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            By::Month => t.format("%Y-%m").to_string(),
            By::Quarter => format!("{}-Q{}", t.year(), (t.month() - 1) / 3 + 1),
            By::Year => t.year().to_string(),
        }
    }
}

impl std::str::FromStr for By {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<By, String> {
        match s.trim() {
            "week" => Ok(By::Week),
            "month" => Ok(By::Month),
            "quarter" => Ok(By::Quarter),
            "year" => Ok(By::Year),
            _ => Err(format!("--by {s:?}: choose week, month, quarter or year")),
        }
    }
}

/// Members with no activity for this long are reported `inactive` (PEP 811's yearly check).
pub const INACTIVE_AFTER_DAYS: i64 = 365;

/// The figures `stats` adds for a yearly report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct YearFigures {
    pub by: By,
    /// The zone the periods are cut in, for the table, charts and page (the JSON prints it
    /// once, as the older keys' `time_zone`).
    #[serde(skip)]
    pub time_zone: String,
    /// One entry per week, month, quarter or year with reports, oldest first.
    pub by_period: Vec<PeriodFigures>,
    pub response_efficiency: Efficiency,
    pub response_times: ResponseTimes,
    pub time_to_fix: Span,
    pub time_to_disclose: Span,
    pub invalid_reasons: BTreeMap<String, usize>,
    /// Reports left out of response times and efficiency.
    pub excluded: Excluded,
    pub moderation: Moderation,
    pub members: Vec<Member>,
}

/// One bucket of time: intake by class, and how its reports fared against the targets.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PeriodFigures {
    pub period: String,
    pub spam: usize,
    pub invalid: usize,
    pub valid: usize,
    pub unclassified: usize,
    /// Shares (0..1) of this bucket's reports that met each target; null when none decided.
    pub acknowledge_efficiency: Option<f64>,
    pub triage_efficiency: Option<f64>,
    pub close_efficiency: Option<f64>,
    pub first_response_median_hours: Option<f64>,
}

/// Per clock, how many reports met the target and how many missed it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Efficiency {
    pub acknowledge: Share,
    pub triage: Share,
    pub close: Share,
    pub coordinator: Share,
    pub finish: Share,
}

/// Met and missed; `share` = met / (met + missed), null when neither. A clock still running
/// inside its target is neither.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Share {
    pub met: usize,
    pub missed: usize,
    pub share: Option<f64>,
}

impl Share {
    fn add(&mut self, outcome: Option<bool>) {
        match outcome {
            Some(true) => self.met += 1,
            Some(false) => self.missed += 1,
            None => {}
        }
        let decided = self.met + self.missed;
        self.share =
            (decided > 0).then(|| (self.met as f64 / decided as f64 * 1000.0).round() / 1000.0);
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ResponseTimes {
    pub first_response: Span,
    pub triage: Span,
    pub close: Span,
}

/// A distribution of durations, in `unit` (hours, or days for clocks longer than 2 days).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Span {
    pub unit: &'static str,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub count: usize,
    /// The clock's target in the same unit, when it has one.
    pub target: Option<f64>,
}

impl Span {
    fn of(mut hours: Vec<f64>, target_days: Option<f64>, days: bool) -> Span {
        let div = if days { 24.0 } else { 1.0 };
        let mut values: Vec<f64> = hours.drain(..).map(|h| h / div).collect();
        values.sort_by(f64::total_cmp);
        Span {
            unit: if days { "days" } else { "hours" },
            median: percentile(&values, 0.5),
            p90: percentile(&values, 0.9),
            count: values.len(),
            target: target_days.map(|d| d * 24.0 / div),
        }
    }

    /// In days when the clock's target is longer than 2 days.
    fn for_clock(hours: Vec<f64>, target_days: f64) -> Span {
        Span::of(hours, Some(target_days), target_days > 2.0)
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Excluded {
    pub spam: usize,
    pub historical: usize,
}

/// Spam and invalid cleared, per moderator, and how long clearing took.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Moderation {
    pub cleared_by: BTreeMap<String, Cleared>,
    pub time_to_clear: Span,
    /// The mailing list's hold queue (`secdesk held`): actions taken in the period, posts
    /// cleared per moderator, time held (`core::moderation::stats`).
    pub held: crate::core::moderation::stats::ModerationStats,
}

/// One team member's activity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Member {
    pub name: String,
    pub email: String,
    /// Reports of the period they coordinate.
    pub coordinated: usize,
    /// Notes and replies they wrote in the period.
    pub notes: usize,
    pub replies: usize,
    /// RFC 3339, their latest event of any kind, ever.
    pub last_activity: Option<String>,
    /// No activity in the last 12 months: their latest event is older, or they have none
    /// and the store's record (its first event) goes back further.
    pub inactive: bool,
}

/// Computes the yearly figures for `period`, grouped `by`, judged at `now`.
pub fn compute(
    store: &Store,
    period: Period,
    by: By,
    targets: &ClockConfig,
    members: &[&Identity],
    now: DateTime<Utc>,
) -> Result<YearFigures> {
    let (from, to) = period.bounds();
    let in_period = |t: DateTime<Utc>| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e);
    let rows = rows(store)?;
    let rows: Vec<Row> = rows.into_iter().filter(|r| in_period(r.created)).collect();
    let history = History::read(store)?;
    let held = crate::core::moderation::stats::compute(store, from, to)?;
    let method = Method {
        by,
        targets,
        now,
        with_historical: period.with_historical,
        zone: &period.zone,
    };
    let mut tally = Tally::default();
    for r in &rows {
        tally.add(r, &history, &method);
    }
    // Every period of the span is shown, quiet ones as zeros: a year's chart that skipped
    // them put July next to November.
    let first = from.or_else(|| rows.iter().map(|r| r.created).min());
    let last = to
        .map(|t| t - chrono::Duration::seconds(1))
        .or_else(|| rows.iter().map(|r| r.created).max());
    if let (Some(first), Some(last)) = (first, last) {
        tally.fill(&method, first, last);
    }
    let mut f = tally.into_figures(&method, held);
    f.members = member_figures(store, &rows, members, from, to, now)?;
    Ok(f)
}

/// How the figures are made: grouped `by`, judged against `targets` at `now`, historical
/// reports counted in or not.
struct Method<'a> {
    by: By,
    targets: &'a ClockConfig,
    now: DateTime<Utc>,
    with_historical: bool,
    zone: &'a super::Zone,
}

/// One bucket of time while reports are counted: its intake, its acknowledge, triage and
/// close shares, and its first-response times in hours.
#[derive(Default)]
struct Bucket {
    figures: PeriodFigures,
    shares: [Share; 3],
    first_responses: Vec<f64>,
}

impl Bucket {
    /// The bucket's figures, with its shares and median first response filled in.
    fn into_figures(self) -> PeriodFigures {
        let Bucket {
            mut figures,
            shares,
            mut first_responses,
        } = self;
        figures.acknowledge_efficiency = shares[0].share;
        figures.triage_efficiency = shares[1].share;
        figures.close_efficiency = shares[2].share;
        first_responses.sort_by(f64::total_cmp);
        figures.first_response_median_hours = percentile(&first_responses, 0.5);
        figures
    }
}

/// The figures while reports are counted one by one; durations in hours.
#[derive(Default)]
struct Tally {
    buckets: BTreeMap<String, Bucket>,
    efficiency: Efficiency,
    invalid_reasons: BTreeMap<String, usize>,
    excluded: Excluded,
    cleared_by: BTreeMap<String, Cleared>,
    responded: Vec<f64>,
    triaged: Vec<f64>,
    closed: Vec<f64>,
    to_fix: Vec<f64>,
    to_disclose: Vec<f64>,
    to_clear: Vec<f64>,
}

impl Tally {
    /// The longest span whose periods are filled in: past it (an all-time view of decades)
    /// only the periods with reports are listed.
    const MAX_FILLED_DAYS: i64 = 20 * 366;

    /// Adds an empty bucket for each period from `first` to `last` that has no report.
    fn fill(&mut self, method: &Method, first: DateTime<Utc>, last: DateTime<Utc>) {
        let (start, end) = (
            method.zone.local(first).date(),
            method.zone.local(last).date(),
        );
        if end < start || (end - start).num_days() > Self::MAX_FILLED_DAYS {
            return;
        }
        let mut day = start;
        while day <= end {
            let key = method.by.key(day.and_hms_opt(12, 0, 0).unwrap_or_default());
            self.buckets.entry(key.clone()).or_insert_with(|| Bucket {
                figures: PeriodFigures {
                    period: key,
                    ..PeriodFigures::default()
                },
                ..Bucket::default()
            });
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
    }

    /// Counts one report: its bucket's intake, its invalid reason, who cleared it, and
    /// unless it is spam or historical, its clocks against the targets.
    fn add(&mut self, r: &Row, history: &History, method: &Method) {
        let hours = |t: DateTime<Utc>| (t - r.created).num_seconds() as f64 / 3600.0;
        let key = method.by.key(method.zone.local(r.created));
        let bucket = self.buckets.entry(key.clone()).or_insert_with(|| Bucket {
            figures: PeriodFigures {
                period: key,
                ..PeriodFigures::default()
            },
            ..Bucket::default()
        });
        match r.class() {
            Some("spam") => bucket.figures.spam += 1,
            Some("invalid") => bucket.figures.invalid += 1,
            Some("valid") => bucket.figures.valid += 1,
            _ => bucket.figures.unclassified += 1,
        }
        if let Some(reason) = &r.invalid_reason {
            *self.invalid_reasons.entry(reason.clone()).or_default() += 1;
        }
        let m = history.milestones.get(&r.id);
        if let Some((actor, closed_as)) = history.closers.get(&r.id) {
            let cleared = self.cleared_by.entry(actor.clone()).or_default();
            match closed_as {
                ReportState::Spam => cleared.spam += 1,
                _ => cleared.invalid += 1,
            }
            self.to_clear.extend(m.and_then(|m| m.closed).map(hours));
        }
        let spam = r.class() == Some("spam") || r.state == "spam";
        let historical = r.historical && !method.with_historical;
        if spam || historical {
            self.excluded.spam += usize::from(spam);
            self.excluded.historical += usize::from(!spam && historical);
            return;
        }
        // Fixed is a state a report is in: one reopened since (its fix fell short) has no
        // time to fix until it is resolved or disclosed again.
        let fixed_now =
            r.state == ReportState::Resolved.as_str() || r.state == ReportState::Disclosed.as_str();
        self.to_fix.extend(
            history
                .fixed
                .get(&r.id)
                .filter(|_| fixed_now)
                .map(|t| hours(*t)),
        );
        self.to_disclose
            .extend(history.disclosed.get(&r.id).map(|t| hours(*t)));
        let Some(m) = m else { return };
        self.responded.extend(m.responded.map(hours));
        bucket.first_responses.extend(m.responded.map(hours));
        self.triaged.extend(m.triaged.map(hours));
        self.closed.extend(m.closed.map(hours));
        let outcomes = outcomes(
            m,
            history.coordination.get(&r.id),
            method.targets,
            method.now,
        );
        let e = &mut self.efficiency;
        for (share, outcome) in [
            &mut e.acknowledge,
            &mut e.triage,
            &mut e.close,
            &mut e.coordinator,
            &mut e.finish,
        ]
        .into_iter()
        .zip(outcomes)
        {
            share.add(outcome);
        }
        for (share, outcome) in bucket.shares.iter_mut().zip(outcomes) {
            share.add(outcome);
        }
    }

    /// The yearly figures from the counts, with the hold queue's `held`; members are added
    /// apart.
    fn into_figures(self, method: &Method, held: ModerationStats) -> YearFigures {
        let targets = method.targets;
        YearFigures {
            by: method.by,
            time_zone: method.zone.name().to_string(),
            by_period: self
                .buckets
                .into_values()
                .map(Bucket::into_figures)
                .collect(),
            response_efficiency: self.efficiency,
            response_times: ResponseTimes {
                first_response: Span::for_clock(self.responded, targets.acknowledge_days),
                triage: Span::for_clock(self.triaged, targets.triage_days),
                close: Span::for_clock(self.closed, targets.close_days),
            },
            time_to_fix: Span::of(self.to_fix, None, true),
            time_to_disclose: Span::of(self.to_disclose, None, true),
            invalid_reasons: self.invalid_reasons,
            excluded: self.excluded,
            moderation: Moderation {
                cleared_by: self.cleared_by,
                time_to_clear: Span::of(self.to_clear, None, false),
                held,
            },
            members: Vec::new(),
        }
    }
}

/// Per clock (acknowledge, triage, close, coordinator, finish): met in time, missed (met late
/// or pending past due on an open report), or undecided.
fn outcomes(
    m: &Milestones,
    c: Option<&Coordination>,
    targets: &ClockConfig,
    now: DateTime<Utc>,
) -> [Option<bool>; 5] {
    let open = !m.state.is_closed();
    let judge = |due: DateTime<Utc>, met: Option<DateTime<Utc>>| match met {
        Some(at) => Some(at <= due),
        None if open && now > due => Some(false),
        None => None,
    };
    let day = |d: f64| Duration::seconds((d * 86_400.0).round() as i64);
    let finished = m.closed;
    [
        judge(m.created + day(targets.acknowledge_days), m.responded),
        judge(m.created + day(targets.triage_days), m.triaged),
        judge(m.created + day(targets.close_days), m.closed),
        c.and_then(|c| judge(c.coordinator_due(), c.coordinator_set)),
        c.and_then(|c| c.finish_due().and_then(|due| judge(due, finished))),
    ]
}

fn member_figures(
    store: &Store,
    rows: &[Row],
    members: &[&Identity],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<Member>> {
    let from = from.map(timestamp).unwrap_or_default();
    let to = to.map(timestamp).unwrap_or_else(|| "9999".into());
    let mut stmt = store.conn().prepare(
        "SELECT
            (SELECT count(*) FROM events WHERE actor = ?1 COLLATE NOCASE AND kind = 'note'
                AND at >= ?2 AND at < ?3),
            (SELECT count(*) FROM events WHERE actor = ?1 COLLATE NOCASE AND kind = 'reply'
                AND at >= ?2 AND at < ?3),
            (SELECT max(at) FROM events WHERE actor = ?1 COLLATE NOCASE)",
    )?;
    // A member with no activity at all is inactive only once the store's record covers
    // the whole 12 months: a store started last month cannot say who was idle all year.
    let record_starts: Option<String> =
        store
            .conn()
            .query_row("SELECT min(at) FROM events", [], |r| r.get(0))?;
    let mut out = Vec::new();
    for m in members {
        let (notes, replies, last): (usize, usize, Option<String>) = stmt
            .query_row(rusqlite::params![m.email, from, to], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let coordinated = rows
            .iter()
            .filter(|r| {
                r.coordinator
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(&m.email))
            })
            .count();
        let inactive = last
            .as_deref()
            .or(record_starts.as_deref())
            .and_then(parse_timestamp)
            .is_some_and(|t| now - t > Duration::days(INACTIVE_AFTER_DAYS));
        out.push(Member {
            name: m.name.clone(),
            email: m.email.clone(),
            coordinated,
            notes,
            replies,
            last_activity: last,
            inactive,
        });
    }
    Ok(out)
}
