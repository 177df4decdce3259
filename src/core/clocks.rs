//! Response clocks: when each report must be acknowledged, triaged and closed, and whether it
//! is overdue.
//!
//! The milestones are read from the audit log, never from mutable fields, so reopening or
//! editing a report cannot rewrite history:
//! Only people's events count towards response and triage: secdesk's own (a report coming back
//! from `needs-info` when the reporter answers) are not a response from the team.
//!
//! - **first response**: the first reply sent to the reporter (a `reply` event, written when
//!   the outbox delivers it, whose recipients include the reporter), or the first `responded` event (`secdesk responded ID --via
//!   phone|other`: an answer given elsewhere). Confirming a class or moving the state is not
//!   a response;
//! - **triage**: the first decision on the report: a move into `triaged`, `fixing`,
//!   `disclosed` (accepted) or `invalid`, `duplicate`, `resolved` (rejected or done). Closing
//!   as spam is not triage;
//! - **close**: the latest move into a closed state (`disclosed` counts: "close or disclose"),
//!   for a report that is closed now.
//!
//! On a team (docs/team.md), the triage milestone from the moment a report's team log begins
//! is the team's (`core::team::milestones`): a desk's audit log holds entries for changes
//! that won only for a while, depending on the order events arrived in, while the events are
//! the same on every desk.
//!
//! Undo takes a milestone back: a state move whose next state event is an undo (detail
//! `undo`) never happened as far as the clocks are concerned, and neither did a
//! `responded` event that a later `responded` undo names.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Serialize;

use crate::core::config::ClockConfig;
use crate::core::model::{ReportId, ReportState};
use crate::core::time::{parse_timestamp, timestamp};
use crate::core::triage::SYSTEM_ACTOR;

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

/// True for a `reply` event `e` whose message went to the reporter: the outbox row it was
/// sent from lists the address of the report's first incoming message among its
/// recipients, in any spelling of it (`core::address::lists`: case, an IDN domain's two
/// forms). A reply with no outbox row (recorded before the outbox kept recipients) or a
/// report with no known reporter address counts as it always did.
const TO_REPORTER: &str = "coalesce((SELECT secdesk_lists_address(o.recipients, m.from_addr)
     FROM outbox o, messages m
     WHERE o.message_id = e.after AND m.id = (SELECT min(f.id) FROM messages f
         WHERE f.report_id = e.report_id AND f.direction = 'in')), 1)";

/// True for a state event `e` that was not taken back: the next state event of the same
/// report is not an undo.
pub(crate) const NOT_UNDONE: &str =
    "coalesce((SELECT n.detail FROM events n WHERE n.report_id = e.report_id
     AND n.kind = 'state' AND n.id > e.id ORDER BY n.id LIMIT 1), '') <> 'undo'";

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
                ((e.kind = 'reply' AND {to_reporter}) OR (e.kind = 'responded' AND e.detail IS NOT 'undo' AND
                 NOT EXISTS (SELECT 1 FROM events u WHERE u.report_id = e.report_id AND
                     u.kind = 'responded' AND u.detail = 'undo' AND u.before = CAST(e.id AS TEXT))))),
            (SELECT min(at) FROM events e WHERE e.report_id = r.id AND e.actor <> ?2 AND
                e.kind = 'state' AND e.after IN ({triage}) AND {not_undone}
                AND (tm.first_at IS NULL OR e.at < tm.first_at)),
            tm.triaged_at,
            (SELECT max(at) FROM events e WHERE e.report_id = r.id AND
                e.kind = 'state' AND e.after IN ({closed}))
         FROM reports r LEFT JOIN team_milestones tm ON tm.report_id = r.id WHERE {only}",
        // The triage from the audit log counts only before the report's team log began;
        // from then on it is the team's (core::team::milestones), the same on every desk.
        triage = in_list(TRIAGE_STATES),
        not_undone = NOT_UNDONE,
        to_reporter = TO_REPORTER,
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
            // The earlier of the audit log's triage (before the team log) and the team's.
            time(4)?.into_iter().chain(time(5)?).min(),
            time(6)?,
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

    mod from_the_audit_log {
        use super::*;
        use crate::core::ingest::{Ingestor, RawIncoming};
        use crate::core::model::{Class, InvalidReason};
        use crate::core::store::Store;
        use crate::core::triage::{self, Request, Via};

        fn one_report() -> (tempfile::TempDir, Store) {
            report_from("r@x")
        }

        /// A store holding report #1, from `from`.
        fn report_from(from: &str) -> (tempfile::TempDir, Store) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(&dir.path().join("s.db")).unwrap();
            let raw = format!(
                "Message-ID: <a@x>\nFrom: {from}\nSubject: s\nDate: Sun, 1 Mar 2026 00:00:00 +0000\n\nb\n"
            );
            Ingestor::without_classifier()
                .ingest_batch(&mut store, vec![RawIncoming::file(raw)], None)
                .unwrap();
            (dir, store)
        }

        /// A reply to report #1 recorded as sent at hour `hour` of 1 March, with outbox
        /// recipients `to` (a JSON list).
        fn sent_reply(store: &Store, id: &str, to: &str, hour: u32) {
            store
                .conn()
                .execute(
                    "INSERT INTO outbox (report_id, message_id, actor, created_at, subject,
                        envelope_from, recipients, draft, raw, next_attempt_at, state)
                     VALUES (1, ?1, 'ada@x', '2026-03-01T00:00:00Z', 's', 'sec@x', ?2, '{}',
                        x'00', '2026-03-01T00:00:00Z', 'sent')",
                    rusqlite::params![id, to],
                )
                .unwrap();
            store
                .conn()
                .execute(
                    "INSERT INTO events (report_id, actor, at, kind, after)
                     VALUES (1, 'ada@x', ?1, 'reply', ?2)",
                    rusqlite::params![timestamp(t(1, hour)), id],
                )
                .unwrap();
        }

        fn ada(hour: u32) -> Request {
            Request::new("ada@x").at(t(1, hour))
        }

        fn of(store: &Store) -> Milestones {
            milestones(store.conn(), Some(1))
                .unwrap()
                .remove(&1)
                .unwrap()
        }

        #[test]
        fn confirming_a_class_or_moving_the_state_is_not_a_response() {
            let (_d, mut store) = one_report();
            triage::mark(&mut store, &ada(1), 1, Class::Valid, None).unwrap();
            assert_eq!(of(&store).state, ReportState::Acknowledged);
            assert_eq!(of(&store).responded, None, "v is not a response");
            triage::set_state(&mut store, &ada(2), 1, ReportState::NeedsInfo, None, None).unwrap();
            assert_eq!(of(&store).responded, None, "a state move is not a response");
            let targets = ClockConfig::default();
            assert!(of(&store).clocks(&targets, t(4, 0)).acknowledge.overdue);
        }

        #[test]
        fn a_reply_sent_or_an_answer_given_elsewhere_is_a_response() {
            let (_d, mut store) = one_report();
            triage::responded(&mut store, &ada(5), 1, Via::Phone).unwrap();
            assert_eq!(of(&store).responded, Some(t(1, 5)));
            let (_d2, store2) = one_report();
            store2
                .conn()
                .execute(
                    "INSERT INTO events (report_id, actor, at, kind, after)
                     VALUES (1, 'ada@x', '2026-03-01T07:00:00Z', 'reply', '<m@x>')",
                    [],
                )
                .unwrap();
            assert_eq!(of(&store2).responded, Some(t(1, 7)));
        }

        #[test]
        fn a_reply_that_did_not_go_to_the_reporter_is_no_response() {
            let (_d, store) = one_report();
            let sent = |id: &str, to: &str, hour: u32| sent_reply(&store, id, to, hour);
            sent("up@x", r#"["upstream@vendor.example"]"#, 3);
            assert_eq!(
                of(&store).responded,
                None,
                "a reply upstream is not a response"
            );
            sent("rep@x", r#"["R@X", "sec@x"]"#, 4);
            assert_eq!(of(&store).responded, Some(t(1, 4)));
        }

        /// SQLite's `lower()` folds ASCII only: a reply to `bob@xn--bcher-kva.example`, or
        /// to `BOB@BÜCHER.example`, for a report from `bob@bücher.example` was no response.
        #[test]
        fn a_reply_to_another_spelling_of_the_reporters_address_is_a_response() {
            let (_d, store) = report_from("bob@bücher.example");
            for (hour, to) in [(3, "BOB@BÜCHER.example"), (4, "bob@xn--bcher-kva.example")] {
                let to = serde_json::json!([to]).to_string();
                sent_reply(&store, &format!("r{hour}@x"), &to, hour);
            }
            assert_eq!(of(&store).responded, Some(t(1, 3)));
        }

        #[test]
        fn undo_takes_a_clocks_effect_back() {
            let (_d, mut store) = one_report();
            let a = triage::responded(&mut store, &ada(5), 1, Via::Other).unwrap();
            let req = ada(6).if_version(Some(a.version));
            triage::revert(&mut store, &req, 1, &a.undo).unwrap();
            assert_eq!(
                of(&store).responded,
                None,
                "an undone response is no response"
            );

            let a = triage::set_state(
                &mut store,
                &ada(7),
                1,
                ReportState::Invalid,
                Some(InvalidReason::ThirdParty),
                None,
            )
            .unwrap();
            assert_eq!(of(&store).triaged, Some(t(1, 7)));
            let req = ada(8).if_version(Some(a.version));
            triage::revert(&mut store, &req, 1, &a.undo).unwrap();
            let m = of(&store);
            assert_eq!((m.state, m.triaged), (ReportState::New, None));
            // Decided again later: that decision counts.
            triage::set_state(&mut store, &ada(10), 1, ReportState::Triaged, None, None).unwrap();
            assert_eq!(of(&store).triaged, Some(t(1, 10)));
        }
    }
}
