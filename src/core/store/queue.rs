//! The desk's queue: one page of reports at a time, counted separately, in the order the
//! triager asked for. Only the rows around the viewport are ever read, so a store of
//! 100,000 reports costs the same to browse as one of 100.
//!
//! Paging is `LIMIT/OFFSET` over the `reports` table alone (an index scan, see migration 2);
//! the first message, the thread size and the sender are looked up only for the page's rows.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, OptionalExtension};

use super::reports::{summary_from_row, Conditions, ReportSummary, SUMMARY_COLUMNS, SUMMARY_FROM};
use super::{parse_timestamp, Result, Store};
use crate::core::clocks;
use crate::core::config::ClockConfig;

/// The order of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueOrder {
    /// Newest first.
    #[default]
    Age,
    /// The soonest running clock first; closed reports (no clock) last. The order reads the
    /// clock from the state (acknowledge while `new`, triage while acknowledged or waiting,
    /// close while triaged or fixing), so SQLite can sort without reading the audit log; the
    /// deadline shown on each row comes from the audit log (`core::clocks`).
    Deadline,
}

/// Which reports a queue shows. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFilter {
    pub states: Vec<String>,
    /// Leave out reports in these states.
    pub exclude_states: Vec<String>,
    pub coordinator: Option<String>,
    pub unassigned: bool,
    /// Full-text search over subject, sender and body (FTS5, user input quoted).
    pub search: Option<String>,
    /// Sort reports whose suggested class is spam after the others.
    pub spam_last: bool,
    /// `Some(true)`: only suspected spam ([`SUSPECTED_SPAM`]); `Some(false)`: none of it.
    pub suspected_spam: Option<bool>,
    pub order: QueueOrder,
}

/// One line of the queue, with what the desk needs beyond the listing: the version the view
/// loaded (a change from a stale view is refused) and the earliest deadline the report has
/// not met yet (`core::clocks`); past it, the report is overdue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub summary: ReportSummary,
    pub version: i64,
    pub deadline: Option<DateTime<Utc>>,
}

/// A window of a queue: `rows` start at position `offset` of `total`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueuePage {
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<QueueRow>,
}

impl Store {
    /// Up to `limit` reports of the queue described by `filter`, from position `offset`, and
    /// how many there are in all.
    pub fn queue_page(
        &self,
        filter: &QueueFilter,
        targets: &ClockConfig,
        offset: usize,
        limit: usize,
    ) -> Result<QueuePage> {
        let (ids, counted) = self.queue_ids(filter, targets, offset, limit, true)?;
        let total = match counted {
            Some(n) => n,
            None => self.queue_count(filter)?,
        };
        Ok(QueuePage {
            total,
            offset,
            rows: self.rows_for(&ids, targets)?,
        })
    }

    /// How many reports the queue described by `filter` holds.
    pub fn queue_count(&self, filter: &QueueFilter) -> Result<usize> {
        let (where_sql, args) = where_clause(filter);
        let total: i64 = self.conn().query_row(
            &format!("SELECT count(*) FROM reports r WHERE {where_sql}"),
            params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        Ok(total.max(0) as usize)
    }

    /// Up to `limit` reports of the queue described by `filter`, from position `offset`.
    pub fn queue_rows(
        &self,
        filter: &QueueFilter,
        targets: &ClockConfig,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<QueueRow>> {
        let (ids, _) = self.queue_ids(filter, targets, offset, limit, false)?;
        self.rows_for(&ids, targets)
    }

    /// The ids of one page, in order. With `count` and a search, the same statement counts
    /// the whole queue (a window over the matches it has to sort anyway), so a search runs
    /// the full-text match once rather than twice.
    fn queue_ids(
        &self,
        filter: &QueueFilter,
        targets: &ClockConfig,
        offset: usize,
        limit: usize,
        count: bool,
    ) -> Result<(Vec<i64>, Option<usize>)> {
        let (where_sql, args) = where_clause(filter);
        let order = order_clause(filter, targets);
        let windowed = count
            && filter
                .search
                .as_deref()
                .is_some_and(|q| !q.trim().is_empty());
        let total = if windowed { "count(*) OVER ()" } else { "NULL" };
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT r.id, {total} FROM reports r WHERE {where_sql} ORDER BY {order} \
             LIMIT {limit} OFFSET {offset}"
        ))?;
        let mut counted = None;
        let mut ids = Vec::with_capacity(limit.min(1024));
        let mut rows = stmt.query(params_from_iter(args.iter()))?;
        while let Some(r) = rows.next()? {
            ids.push(r.get(0)?);
            counted = r.get::<_, Option<i64>>(1)?.map(|n| n.max(0) as usize);
        }
        Ok((ids, counted))
    }

    /// The queue lines of these reports, in this order.
    fn rows_for(&self, ids: &[i64], targets: &ClockConfig) -> Result<Vec<QueueRow>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS}, r.version FROM {SUMMARY_FROM} WHERE r.id = ?1"
        ))?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some((summary, version)) = stmt
                .query_row([id], |r| Ok((summary_from_row(r)?, r.get::<_, i64>(14)?)))
                .optional()?
            else {
                continue;
            };
            let deadline = clocks::milestones(self.conn(), Some(id))?
                .remove(&id)
                .map(|m| m.deadlines(targets))
                .and_then(|d| {
                    [d.acknowledge, d.triage, d.close]
                        .into_iter()
                        .flatten()
                        .filter_map(|t| parse_timestamp(&t))
                        .min()
                });
            out.push(QueueRow {
                summary,
                version,
                deadline,
            });
        }
        Ok(out)
    }
}

/// Suspected spam: a `new` report the classifier called spam (not unsure), which no person
/// has confirmed yet. The desk's "Suspected spam" queue holds exactly these.
pub const SUSPECTED_SPAM: &str = "(r.state = 'new' AND r.class IS 'spam' AND \
     NOT r.class_confirmed AND r.outcome IS NOT 'unsure')";

fn where_clause(filter: &QueueFilter) -> (String, Vec<Value>) {
    let (mut sql, args) = Conditions {
        states: &filter.states,
        exclude_states: &filter.exclude_states,
        classes: &[],
        coordinator: filter.coordinator.as_deref(),
        unassigned: filter.unassigned,
        search: filter.search.as_deref(),
    }
    .sql();
    match filter.suspected_spam {
        Some(true) => sql += &format!(" AND {SUSPECTED_SPAM}"),
        Some(false) => sql += &format!(" AND NOT {SUSPECTED_SPAM}"),
        None => {}
    }
    (sql, args)
}

/// The ORDER BY for a queue. The age orders match the indexes of migration 2, so SQLite
/// walks an index instead of sorting.
fn order_clause(filter: &QueueFilter, clocks: &ClockConfig) -> String {
    let spam = if filter.spam_last {
        "(r.class IS 'spam'), "
    } else {
        ""
    };
    match filter.order {
        QueueOrder::Age => format!("{spam}r.created_at DESC, r.id DESC"),
        // One state runs one clock, so soonest deadline is simply oldest first (and SQLite
        // walks an index again).
        QueueOrder::Deadline if filter.states.len() == 1 => {
            format!("{spam}r.created_at, r.id")
        }
        QueueOrder::Deadline => {
            // julianday() of the creation plus the state's clock, in days; NULL (closed) last.
            let case = format!(
                "CASE r.state WHEN 'new' THEN {a} WHEN 'acknowledged' THEN {t} \
                 WHEN 'needs-info' THEN {t} WHEN 'triaged' THEN {c} WHEN 'fixing' THEN {c} END",
                a = clocks.acknowledge_days,
                t = clocks.triage_days,
                c = clocks.close_days,
            );
            format!(
                "{spam}(julianday(r.created_at) + {case}) IS NULL, \
                 julianday(r.created_at) + {case}, r.id"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::reports::store_with;

    fn three() -> (tempfile::TempDir, Store) {
        store_with(&[
            "Message-ID: <a@x>\nFrom: a@x\nSubject: first\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nalpha\n",
            "Message-ID: <b@x>\nFrom: b@x\nSubject: second\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n\nbeta\n",
            "Message-ID: <c@x>\nFrom: c@x\nSubject: third\nDate: Wed, 4 Nov 2026 10:00:00 +0000\n\ngamma\n",
        ])
    }

    fn subjects(p: &QueuePage) -> Vec<&str> {
        p.rows.iter().map(|r| r.summary.subject.as_str()).collect()
    }

    #[test]
    fn pages_count_the_whole_queue() {
        let (_d, store) = three();
        let clocks = ClockConfig::default();
        let page = store
            .queue_page(&QueueFilter::default(), &clocks, 1, 1)
            .unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(subjects(&page), vec!["second"]);
        assert_eq!(
            page.rows[0]
                .deadline
                .map(super::super::timestamp)
                .as_deref(),
            Some("2026-11-05T10:00:00Z")
        );
    }

    #[test]
    fn spam_sorts_last_and_deadline_order_is_soonest_first() {
        let (_d, store) = three();
        store
            .conn()
            .execute("UPDATE reports SET class = 'spam' WHERE id = 3", [])
            .unwrap();
        store
            .conn()
            .execute("UPDATE reports SET state = 'acknowledged' WHERE id = 1", [])
            .unwrap();
        let clocks = ClockConfig::default();
        let mut filter = QueueFilter {
            spam_last: true,
            ..Default::default()
        };
        let page = store.queue_page(&filter, &clocks, 0, 10).unwrap();
        assert_eq!(subjects(&page), vec!["second", "first", "third"]);
        filter.spam_last = false;
        filter.order = QueueOrder::Deadline;
        let page = store.queue_page(&filter, &clocks, 0, 10).unwrap();
        // new reports are due in 2 days, the acknowledged one in 10.
        assert_eq!(subjects(&page), vec!["second", "third", "first"]);
    }

    #[test]
    fn search_and_filters_narrow_the_count() {
        let (_d, store) = three();
        let clocks = ClockConfig::default();
        let filter = QueueFilter {
            search: Some("gam".into()),
            ..Default::default()
        };
        let page = store.queue_page(&filter, &clocks, 0, 10).unwrap();
        assert_eq!((page.total, subjects(&page)), (1, vec!["third"]));
        let filter = QueueFilter {
            exclude_states: vec!["new".into()],
            ..Default::default()
        };
        assert_eq!(store.queue_page(&filter, &clocks, 0, 10).unwrap().total, 0);
    }
}
