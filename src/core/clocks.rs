//! Response clocks: when each report must be acknowledged, triaged and closed, and whether it
//! is overdue.
//!
//! The milestones are read from the audit log, never from mutable fields, so reopening or
//! editing a report cannot rewrite history:
//! Only people's events count towards response and triage: secdesk's own (a report coming back
//! from `needs-info` when the reporter answers) are not a response from the team.
//!
//! - **first response**: the first `reply` event, or the first move into `acknowledged` (or a
//!   later stage of the open track: `triaged`, `fixing`, `disclosed`, `needs-info`);
//! - **triage**: the first decision on the report: a move into `triaged`, `fixing`,
//!   `disclosed` (accepted) or `invalid`, `duplicate`, `resolved` (rejected or done). Closing
//!   as spam is not triage;
//! - **close**: the latest move into a closed state (`disclosed` counts: "close or disclose"),
//!   for a report that is closed now.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Serialize;

use crate::core::config::ClockConfig;
use crate::core::model::{ReportId, ReportState};
use crate::core::store::{parse_timestamp, timestamp};
use crate::core::triage::SYSTEM_ACTOR;

/// States whose first entry counts as the first response.
pub const RESPONSE_STATES: &[ReportState] = &[
    ReportState::Acknowledged,
    ReportState::Triaged,
    ReportState::Fixing,
    ReportState::Disclosed,
    ReportState::NeedsInfo,
];

/// States whose first entry counts as the triage decision.
pub const TRIAGE_STATES: &[ReportState] = &[
    ReportState::Triaged,
    ReportState::Fixing,
    ReportState::Disclosed,
    ReportState::Invalid,
    ReportState::Duplicate,
    ReportState::Resolved,
];

/// When a report reached each milestone, from its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestones {
    pub created: DateTime<Utc>,
    pub state: ReportState,
    pub responded: Option<DateTime<Utc>>,
    pub triaged: Option<DateTime<Utc>>,
    /// Set only while the report is closed.
    pub closed: Option<DateTime<Utc>>,
}

/// One clock of one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockState {
    /// RFC 3339.
    pub due: String,
    /// When the milestone was reached, RFC 3339.
    pub met_at: Option<String>,
    /// Reached after the target, or still pending past it.
    pub over_target: bool,
    /// Still pending, on an open report, past the target.
    pub overdue: bool,
}

/// A report's three clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clocks {
    pub acknowledge: ClockState,
    pub triage: ClockState,
    pub close: ClockState,
}

/// The deadlines still ahead of an open report: each is null once met, and all are null for a
/// closed report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    pub acknowledge: Option<String>,
    pub triage: Option<String>,
    pub close: Option<String>,
    /// PEP 811: a coordinator set within 3 days of receipt ([`crate::core::pep811`]).
    pub coordinator: Option<String>,
    /// PEP 811: finished within 90 days of the coordinator being set.
    pub finish: Option<String>,
}

fn days(d: f64) -> Duration {
    Duration::seconds((d * 86_400.0).round() as i64)
}

impl Milestones {
    /// Every clock of the report, judged at `now`.
    pub fn clocks(&self, targets: &ClockConfig, now: DateTime<Utc>) -> Clocks {
        let open = !self.state.is_closed();
        let clock = |target_days: f64, met: Option<DateTime<Utc>>| {
            let due = self.created + days(target_days);
            let overdue = open && met.is_none() && now > due;
            ClockState {
                due: timestamp(due),
                met_at: met.map(timestamp),
                over_target: overdue || met.is_some_and(|m| m > due),
                overdue,
            }
        };
        Clocks {
            acknowledge: clock(targets.acknowledge_days, self.responded),
            triage: clock(targets.triage_days, self.triaged),
            close: clock(targets.close_days, self.closed),
        }
    }

    /// The deadlines still ahead (see [`Deadlines`]).
    pub fn deadlines(&self, targets: &ClockConfig) -> Deadlines {
        if self.state.is_closed() {
            return Deadlines::default();
        }
        let pending = |target_days: f64, met: Option<DateTime<Utc>>| {
            met.is_none()
                .then(|| timestamp(self.created + days(target_days)))
        };
        Deadlines {
            acknowledge: pending(targets.acknowledge_days, self.responded),
            triage: pending(targets.triage_days, self.triaged),
            close: pending(targets.close_days, self.closed),
            ..Deadlines::default()
        }
    }

    /// True when an open report is past a deadline it has not met.
    pub fn is_overdue(&self, targets: &ClockConfig, now: DateTime<Utc>) -> bool {
        let c = self.clocks(targets, now);
        c.acknowledge.overdue || c.triage.overdue || c.close.overdue
    }
}

fn in_list(states: &[ReportState]) -> String {
    states
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The milestones of every report (or of one, when `only` is given), keyed by report id.
pub fn milestones(
    conn: &Connection,
    only: Option<ReportId>,
) -> rusqlite::Result<HashMap<ReportId, Milestones>> {
    let closed: Vec<ReportState> = ReportState::ALL
        .iter()
        .copied()
        .filter(|s| s.is_closed())
        .collect();
    // Timestamps are RFC 3339 UTC to the second, so text order is time order.
    let sql = format!(
        "SELECT r.id, r.created_at, r.state,
            (SELECT min(at) FROM events e WHERE e.report_id = r.id AND e.actor <> ?2 AND
                (e.kind = 'reply' OR (e.kind = 'state' AND e.after IN ({response})))),
            (SELECT min(at) FROM events e WHERE e.report_id = r.id AND e.actor <> ?2 AND
                e.kind = 'state' AND e.after IN ({triage})),
            (SELECT max(at) FROM events e WHERE e.report_id = r.id AND
                e.kind = 'state' AND e.after IN ({closed}))
         FROM reports r WHERE {only}",
        response = in_list(RESPONSE_STATES),
        triage = in_list(TRIAGE_STATES),
        closed = in_list(&closed),
        // Two statements rather than `?1 IS NULL OR r.id = ?1`, which SQLite cannot answer
        // from the primary key: one report would cost a scan of every report.
        only = if only.is_some() {
            "r.id = ?1"
        } else {
            "?1 IS NULL"
        },
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params![only, SYSTEM_ACTOR], |r| {
        let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
            Ok(r.get::<_, Option<String>>(i)?
                .as_deref()
                .and_then(parse_timestamp))
        };
        let state: String = r.get(2)?;
        Ok((
            r.get::<_, ReportId>(0)?,
            time(1)?,
            state.parse::<ReportState>().ok(),
            time(3)?,
            time(4)?,
            time(5)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, created, state, responded, triaged, closed) = row?;
        // A report whose stored creation time or state cannot be read has no clocks; it is
        // still listed, just never overdue.
        let (Some(created), Some(state)) = (created, state) else {
            continue;
        };
        out.insert(
            id,
            Milestones {
                created,
                state,
                responded,
                triaged,
                closed: closed.filter(|_| state.is_closed()),
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn fresh(state: ReportState) -> Milestones {
        Milestones {
            created: t(1, 0),
            state,
            responded: None,
            triaged: None,
            closed: None,
        }
    }

    #[test]
    fn deadlines_follow_the_targets() {
        let d = fresh(ReportState::New).deadlines(&ClockConfig::default());
        assert_eq!(d.acknowledge.as_deref(), Some("2026-03-03T00:00:00Z"));
        assert_eq!(d.triage.as_deref(), Some("2026-03-11T00:00:00Z"));
        assert_eq!(d.close.as_deref(), Some("2026-05-30T00:00:00Z"));
    }

    #[test]
    fn unacknowledged_report_is_overdue_after_two_days() {
        let m = fresh(ReportState::New);
        let targets = ClockConfig::default();
        assert!(!m.is_overdue(&targets, t(2, 23)));
        assert!(m.is_overdue(&targets, t(3, 1)));
        let c = m.clocks(&targets, t(3, 1));
        assert!(c.acknowledge.overdue && !c.triage.overdue);
    }

    #[test]
    fn met_milestones_stop_their_clock_and_late_ones_count_over_target() {
        let m = Milestones {
            responded: Some(t(4, 0)),
            ..fresh(ReportState::Acknowledged)
        };
        let targets = ClockConfig::default();
        let c = m.clocks(&targets, t(5, 0));
        assert!(!c.acknowledge.overdue);
        assert!(c.acknowledge.over_target, "acknowledged a day late");
        assert_eq!(m.deadlines(&targets).acknowledge, None);
        assert!(!m.is_overdue(&targets, t(5, 0)));
    }

    #[test]
    fn closed_reports_have_no_deadlines_and_are_never_overdue() {
        let m = fresh(ReportState::Spam);
        let targets = ClockConfig::default();
        assert_eq!(m.deadlines(&targets), Deadlines::default());
        assert!(!m.is_overdue(&targets, t(30, 0)));
    }
}
