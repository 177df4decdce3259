//! Historical mail: an archive imported with `secdesk import --historical`, or mail that
//! arrived before `[sync] historical_before`, comes in closed rather than as a first day's
//! red screen of overdue reports. Each such report, still `new` and untouched by anyone, is
//! closed as `spam` (when the classifier says spam) or `resolved`; its class stays as the
//! classifier suggested it; its state event is dated when the mail arrived, by secdesk,
//! marked `imported`, so its clocks are stopped and `stats` can leave it out.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{TriageError, SYSTEM_ACTOR};
use crate::core::model::ReportId;
use crate::core::store::{timestamp, Store};

/// The detail of the audit events that close historical reports.
pub const IMPORTED: &str = "imported";

/// Which reports count as historical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Historical {
    /// Created after report `id` (the ones an import just created).
    After(ReportId),
    /// Arrived before this time.
    ArrivedBefore(DateTime<Utc>),
}

/// The reports that arrived before `[sync] historical_before`, if it is set, closed as
/// historical; 0 without the setting.
pub fn close_before(
    store: &mut Store,
    before: Option<chrono::NaiveDate>,
) -> Result<usize, TriageError> {
    match before.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        Some(t) => close_historical(store, Historical::ArrivedBefore(t.and_utc())),
        None => Ok(0),
    }
}

/// The highest report id now (0 for an empty store): what an import's new reports follow.
pub fn last_report(store: &Store) -> Result<ReportId, TriageError> {
    Ok(store
        .conn()
        .query_row("SELECT coalesce(max(id), 0) FROM reports", [], |r| r.get(0))?)
}

/// After an import: with `--historical`, every report it created is history; and with
/// `[sync] historical_before`, so is whatever arrived before that date.
pub fn after_import(
    store: &mut Store,
    config: &crate::core::config::Config,
    historical: bool,
    last_before: ReportId,
) -> Result<usize, TriageError> {
    let mut closed = close_before(store, config.sync.historical_before)?;
    if historical {
        closed += close_historical(store, Historical::After(last_before))?;
    }
    Ok(closed)
}

/// ", 11 closed as history" after an import or sync line; empty when none were.
pub fn closed_note(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(", {n} closed as history (resolved or spam, clocks stopped)"),
    }
}

/// Closes the historical reports `which` selects; returns how many.
pub fn close_historical(store: &mut Store, which: Historical) -> Result<usize, TriageError> {
    let (condition, value) = match which {
        Historical::After(id) => ("r.id > ?1", rusqlite::types::Value::Integer(id)),
        Historical::ArrivedBefore(t) => (
            "r.created_at < ?1",
            rusqlite::types::Value::Text(timestamp(t)),
        ),
    };
    let tx = store.write_transaction()?;
    let candidates: Vec<(ReportId, String, Option<String>)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT r.id, r.created_at, r.class FROM reports r
             WHERE {condition} AND r.state = 'new' AND NOT EXISTS
                (SELECT 1 FROM events e WHERE e.report_id = r.id AND e.actor <> ?2)"
        ))?;
        let rows = stmt.query_map(params![value, SYSTEM_ACTOR], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, created_at, class) in &candidates {
        let to = if class.as_deref() == Some("spam") {
            "spam"
        } else {
            "resolved"
        };
        tx.execute(
            "UPDATE reports SET state = ?2, version = version + 1 WHERE id = ?1",
            params![id, to],
        )?;
        // Dated when the mail arrived: the close clock stops there, not on import day.
        tx.execute(
            "INSERT INTO events (report_id, actor, at, kind, before, after, detail)
             VALUES (?1, ?2, ?3, 'state', 'new', ?4, ?5)",
            params![id, SYSTEM_ACTOR, created_at, to, IMPORTED],
        )?;
    }
    tx.commit()?;
    Ok(candidates.len())
}

/// The SQL condition true for a historical report `r`.
pub const IS_HISTORICAL: &str = "EXISTS (SELECT 1 FROM events h WHERE h.report_id = r.id
     AND h.kind = 'state' AND h.detail = 'imported')";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ingest::{Ingestor, RawIncoming};

    #[test]
    fn old_mail_comes_in_closed_with_its_class_and_clocks_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let mail = |n: u32, day: u32| {
            RawIncoming::file(
                format!(
                    "Message-ID: <{n}@x>\nFrom: r@x\nSubject: s{n}\nDate: {day} Mar 2026 10:00:00 +0000\n\nb\n"
                )
                .as_bytes(),
            )
        };
        Ingestor::without_classifier()
            .ingest_batch(&mut store, vec![mail(1, 1), mail(2, 2), mail(3, 20)], None)
            .unwrap();
        store
            .conn()
            .execute("UPDATE reports SET class = 'spam' WHERE id = 2", [])
            .unwrap();
        let cutoff = DateTime::parse_from_rfc3339("2026-03-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let n = close_historical(&mut store, Historical::ArrivedBefore(cutoff)).unwrap();
        assert_eq!(n, 2);
        let state = |id: i64| -> (String, Option<String>) {
            store
                .conn()
                .query_row(
                    "SELECT state, class FROM reports WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        };
        assert_eq!(state(1).0, "resolved");
        assert_eq!(state(2), ("spam".to_string(), Some("spam".to_string())));
        assert_eq!(state(3).0, "new", "recent mail stays new");
        let m = crate::core::clocks::milestones(store.conn(), Some(1)).unwrap();
        let now = Utc::now();
        assert!(
            !m[&1].is_overdue(&Default::default(), now),
            "clocks stopped"
        );
        let detail: String = store
            .conn()
            .query_row(
                "SELECT detail FROM events WHERE report_id = 1 AND kind = 'state'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(detail, IMPORTED);
        // Again: nothing more to close.
        assert_eq!(
            close_historical(&mut store, Historical::ArrivedBefore(cutoff)).unwrap(),
            0
        );
    }
}
