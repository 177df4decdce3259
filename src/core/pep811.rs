//! The PEP 811 clocks (issue 15): every report gets a coordinator within 3 days of receipt,
//! and the coordinator brings it to a finished state (resolved, disclosed, or a rejecting
//! close) within 90 days of taking it on.
//!
//! Like the response clocks ([`crate::core::clocks`]) they are read from the audit log: the
//! coordinator is "set" at the first `coordinator` event naming someone; on a team, the first
//! coordinator event of any member, read from the team's events (`core::team::milestones`),
//! so every desk has the same finish deadline whatever order the events arrived in. They fill the
//! `coordinator` and `finish` entries of [`Deadlines`]: null once met, null on a closed
//! report, and `finish` is null until a coordinator is set (its clock has not started).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

use crate::core::clocks::Deadlines;
use crate::core::model::{ReportId, ReportState};
use crate::core::store::{parse_timestamp, timestamp};

/// Days from receipt to a coordinator being set.
pub const COORDINATOR_DAYS: i64 = 3;
/// Days from the coordinator being set to a finished report.
pub const FINISH_DAYS: i64 = 90;

/// What the PEP 811 clocks need of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordination {
    pub created: DateTime<Utc>,
    pub closed: bool,
    /// The first time a coordinator was set.
    pub coordinator_set: Option<DateTime<Utc>>,
}

impl Coordination {
    /// When a coordinator is due (receipt + 3 days).
    pub fn coordinator_due(&self) -> DateTime<Utc> {
        self.created + Duration::days(COORDINATOR_DAYS)
    }

    /// When the report must be finished (coordinator set + 90 days), once a coordinator is.
    pub fn finish_due(&self) -> Option<DateTime<Utc>> {
        self.coordinator_set
            .map(|at| at + Duration::days(FINISH_DAYS))
    }

    /// Writes the `coordinator` and `finish` deadlines still ahead.
    pub fn fill(&self, d: &mut Deadlines) {
        if self.closed {
            d.coordinator = None;
            d.finish = None;
            return;
        }
        d.coordinator = self
            .coordinator_set
            .is_none()
            .then(|| timestamp(self.coordinator_due()));
        d.finish = self.finish_due().map(timestamp);
    }
}

/// The PEP 811 milestones of every report, or of one when `only` is given.
pub fn coordination(
    conn: &Connection,
    only: Option<ReportId>,
) -> rusqlite::Result<HashMap<ReportId, Coordination>> {
    // The audit log counts only before the report's team log began; from then on the first
    // coordinator is the team's (core::team::milestones), the same on every desk whatever
    // order the events arrived in.
    let before_team = "SELECT min(at) FROM events e WHERE e.report_id = r.id
        AND e.kind = 'coordinator' AND e.after IS NOT NULL
        AND (tm.first_at IS NULL OR e.at < tm.first_at)";
    // One statement per case, so one report is found by its key, not by a scan.
    let sql = format!(
        "SELECT r.id, r.created_at, r.state,
            ({before_team}), tm.coordinator_at
         FROM reports r LEFT JOIN team_milestones tm ON tm.report_id = r.id WHERE {}",
        if only.is_some() {
            "r.id = ?1"
        } else {
            "?1 IS NULL"
        }
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([only], |r| {
        Ok((
            r.get::<_, ReportId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, created, state, audited, team) = row?;
        // The earlier of the audit log's (before the team log) and the team's.
        let set = [audited, team]
            .iter()
            .filter_map(|t| t.as_deref().and_then(parse_timestamp))
            .min();
        // A report whose stored time or state cannot be read has no clocks (as in clocks.rs).
        let (Some(created), Ok(state)) = (parse_timestamp(&created), state.parse::<ReportState>())
        else {
            continue;
        };
        out.insert(
            id,
            Coordination {
                created,
                closed: state.is_closed(),
                coordinator_set: set,
            },
        );
    }
    Ok(out)
}

/// `deadlines` with the PEP 811 entries of report `id` filled in.
pub fn with_pep811(
    conn: &Connection,
    id: ReportId,
    mut deadlines: Deadlines,
) -> rusqlite::Result<Deadlines> {
    if let Some(c) = coordination(conn, Some(id))?.get(&id) {
        c.fill(&mut deadlines);
    }
    Ok(deadlines)
}

/// The earliest deadline still ahead (or passed and unmet) of any clock.
pub fn next_due(d: &Deadlines) -> Option<DateTime<Utc>> {
    [
        &d.acknowledge,
        &d.triage,
        &d.close,
        &d.coordinator,
        &d.finish,
    ]
    .into_iter()
    .filter_map(|t| t.as_deref().and_then(parse_timestamp))
    .min()
}

/// The longest span [`parse_span`] takes: a century, far beyond any clock, and far from
/// the ends of the calendar that adding it to now must stay inside.
const MAX_SPAN_DAYS: i64 = 36_525;

/// Parses a span such as `14d`, `2w` or `36h`, from none up to a century.
pub fn parse_span(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("--due {s:?} is not a span: write a number and d, w or h, e.g. 14d");
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let span = match unit {
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        "h" => Duration::try_hours(n),
        _ => return Err(bad()),
    };
    span.filter(|d| *d >= Duration::zero() && d.num_days() <= MAX_SPAN_DAYS)
        .ok_or_else(|| {
            format!("--due {s:?} is out of range: a span from 0 up to {MAX_SPAN_DAYS}d (a century)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap()
    }

    #[test]
    fn coordinator_is_due_in_three_days_and_finish_ninety_after_it() {
        let mut c = Coordination {
            created: t(1),
            closed: false,
            coordinator_set: None,
        };
        let mut d = Deadlines::default();
        c.fill(&mut d);
        assert_eq!(d.coordinator.as_deref(), Some("2026-03-04T00:00:00Z"));
        assert_eq!(d.finish, None, "the 90 days start with a coordinator");
        c.coordinator_set = Some(t(5));
        c.fill(&mut d);
        assert_eq!(d.coordinator, None, "met");
        assert_eq!(d.finish.as_deref(), Some("2026-06-03T00:00:00Z"));
        assert_eq!(next_due(&d), Some(t(5) + Duration::days(90)));
        c.closed = true;
        c.fill(&mut d);
        assert_eq!((d.coordinator, d.finish), (None, None));
    }

    #[test]
    fn spans() {
        assert_eq!(parse_span("14d"), Ok(Duration::days(14)));
        assert_eq!(parse_span("2w"), Ok(Duration::days(14)));
        assert!(parse_span("14").unwrap_err().contains("e.g. 14d"));
        assert!(parse_span("").is_err());
        // Spans that would overflow the calendar, or run backwards, are refused, not a panic.
        for huge in [
            "99999999d",
            "999999999999999d",
            "9223372036854775807h",
            "36526d",
            "-1d",
        ] {
            assert!(
                parse_span(huge).unwrap_err().contains("out of range"),
                "{huge}"
            );
        }
        assert_eq!(parse_span("36525d"), Ok(Duration::days(36_525)));
    }
}
