//! Reading reports back: the queue listing.

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use serde::Serialize;

use super::search_terms::fts_query;
use super::{Result, Store};

/// One line of the queue: a report with its opening message.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportSummary {
    pub id: i64,
    /// The Message-ID of the report's first message.
    pub message_id: Option<String>,
    /// When the first message arrived, RFC 3339.
    pub received_at: String,
    /// The first message's sender, `Name <addr>`.
    pub from: String,
    pub subject: String,
    /// How many messages the thread holds.
    pub messages: i64,
    pub state: String,
    pub class: Option<String>,
    pub class_confirmed: bool,
    pub outcome: Option<String>,
    pub confidence: Option<f64>,
    /// The coordinator's email, if any.
    pub coordinator: Option<String>,
    pub flagged: bool,
}

/// Which reports to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub states: Vec<String>,
    pub classes: Vec<String>,
    pub coordinator: Option<String>,
    pub unassigned: bool,
    /// Full-text search over subject, sender and body (SQLite FTS5 query syntax is escaped).
    pub search: Option<String>,
    pub limit: Option<usize>,
}

impl Store {
    /// Reports matching `filter`, newest first.
    pub fn list_reports(&self, filter: &ListFilter) -> Result<Vec<ReportSummary>> {
        let mut sql =
            format!("SELECT {SUMMARY_COLUMNS} FROM {SUMMARY_FROM} WHERE m.id IS NOT NULL");
        let (conditions, args) = Conditions {
            states: &filter.states,
            exclude_states: &[],
            classes: &filter.classes,
            coordinator: filter.coordinator.as_deref(),
            unassigned: filter.unassigned,
            search: filter.search.as_deref(),
        }
        .sql();
        sql += &format!(" AND {conditions}");
        sql += " ORDER BY r.created_at DESC, r.id DESC";
        if let Some(n) = filter.limit {
            sql += &format!(" LIMIT {n}");
        }
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// The filters a listing of reports can apply, shared by `secdesk list` and the desk's queue,
/// so both read "state", "coordinator" and "search" the same way.
pub(super) struct Conditions<'a> {
    pub states: &'a [String],
    pub exclude_states: &'a [String],
    pub classes: &'a [String],
    pub coordinator: Option<&'a str>,
    pub unassigned: bool,
    pub search: Option<&'a str>,
}

impl Conditions<'_> {
    /// A WHERE condition over `reports r` and its bound values. Search input is quoted for
    /// FTS5 ([`fts_query`]), so user input never becomes query syntax; a search with no
    /// letter or digit in it matches nothing.
    pub fn sql(&self) -> (String, Vec<Value>) {
        let mut sql = String::from("1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut within = |column: &str, negate: bool, values: &[String]| {
            if !values.is_empty() {
                let not = if negate { "NOT " } else { "" };
                sql += &format!(" AND {column} {not}IN ({})", placeholders(values.len()));
                args.extend(values.iter().cloned().map(Value::Text));
            }
        };
        within("r.state", false, self.states);
        within("r.state", true, self.exclude_states);
        within("r.class", false, self.classes);
        if let Some(c) = self.coordinator {
            sql += " AND r.coordinator = ?";
            args.push(Value::Text(c.to_string()));
        }
        if self.unassigned {
            sql += " AND r.coordinator IS NULL";
        }
        if let Some(q) = self.search.map(str::trim).filter(|q| !q.is_empty()) {
            match fts_query(q) {
                Some(query) => {
                    sql += " AND r.id IN (SELECT report_id FROM messages WHERE id IN
                               (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?))";
                    args.push(Value::Text(query));
                }
                None => sql += " AND 0",
            }
        }
        (sql, args)
    }
}

/// The columns [`summary_from_row`] reads, in its order; more may follow them.
pub(super) const SUMMARY_COLUMNS: &str =
    "r.id, m.message_id, r.created_at, m.from_name, m.from_addr, m.subject,
     (SELECT count(*) FROM messages c WHERE c.report_id = r.id),
     r.state, r.class, r.class_confirmed, r.outcome, r.confidence, r.coordinator, r.flagged";

/// Each report with its opening message (`m`, NULL for a report with no message).
pub(super) const SUMMARY_FROM: &str = "reports r
     LEFT JOIN messages m ON m.id = (SELECT min(id) FROM messages f WHERE f.report_id = r.id)";

/// A message's sender as listed and shown from its `from_name` and `from_addr` columns:
/// `Name <addr>`, the address or the name alone, or nothing.
pub fn sender(name: Option<String>, addr: Option<String>) -> String {
    match (name, addr) {
        (Some(n), Some(a)) => crate::core::address::display_mailbox(Some(&n), &a),
        (None, Some(a)) => a,
        (Some(n), None) => n,
        (None, None) => String::new(),
    }
}

/// Reads the first 14 columns of a row selected with [`SUMMARY_COLUMNS`].
pub(super) fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportSummary> {
    let name: Option<String> = r.get(3)?;
    let addr: Option<String> = r.get(4)?;
    Ok(ReportSummary {
        id: r.get(0)?,
        message_id: r.get(1)?,
        received_at: r.get(2)?,
        from: sender(name, addr),
        subject: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        messages: r.get(6)?,
        state: r.get(7)?,
        class: r.get(8)?,
        class_confirmed: r.get(9)?,
        outcome: r.get(10)?,
        confidence: r.get(11)?,
        coordinator: r.get(12)?,
        flagged: r.get(13)?,
    })
}

pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A fresh store holding `msgs`, stored without a classifier, for the store's tests.
#[cfg(test)]
pub(super) fn store_with(msgs: &[&str]) -> (tempfile::TempDir, Store) {
    use crate::core::ingest::{Ingestor, RawIncoming};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let batch = msgs.iter().map(|m| RawIncoming::file(*m)).collect();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    (dir, store)
}

/// The subjects of the reports a search finds, sorted, for the store's tests.
#[cfg(test)]
pub(super) fn subjects_found(store: &Store, search: &str) -> Vec<String> {
    let filter = ListFilter {
        search: Some(search.into()),
        ..Default::default()
    };
    let mut subjects: Vec<String> = store
        .list_reports(&filter)
        .unwrap()
        .into_iter()
        .map(|r| r.subject)
        .collect();
    subjects.sort();
    subjects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_with_thread_counts() {
        let (_d, store) = store_with(&[
            "Message-ID: <a@x>\nFrom: Old <old@x>\nSubject: old\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nx\n",
            "Message-ID: <b@x>\nFrom: new@x\nSubject: new\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n\ny\n",
            "Message-ID: <c@x>\nIn-Reply-To: <a@x>\nSubject: Re: old\nDate: Wed, 4 Nov 2026 10:00:00 +0000\n\nz\n",
        ]);
        let list = store.list_reports(&ListFilter::default()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].subject, "new");
        assert_eq!(list[0].from, "new@x");
        assert_eq!(list[1].subject, "old");
        assert_eq!(list[1].from, "Old <old@x>");
        assert_eq!(list[1].messages, 2);
        assert_eq!(list[1].received_at, "2026-11-02T10:00:00Z");
        assert_eq!(list[1].message_id.as_deref(), Some("a@x"));
    }

    #[test]
    fn search_is_full_text_and_safe() {
        let (_d, store) = store_with(&[
            "Subject: tarfile traversal\n\nextractall writes outside\n",
            "Subject: hello\n\nbuy now\n",
        ]);
        let hits = |q: &str| {
            store
                .list_reports(&ListFilter {
                    search: Some(q.into()),
                    ..Default::default()
                })
                .unwrap()
                .into_iter()
                .map(|r| r.subject)
                .collect::<Vec<_>>()
        };
        assert_eq!(hits("extract"), vec!["tarfile traversal"]);
        assert_eq!(hits("TARFILE"), vec!["tarfile traversal"]);
        assert!(hits("\"unbalanced AND (").is_empty());
    }

    #[test]
    fn words_joined_by_punctuation_are_found_as_typed() {
        let (_d, store) = store_with(&[
            "From: Ana <ana@evil.example>\nSubject: http.server traversal\n\n\
             GET /../../etc/passwd via CVE-2024-31337, see https://www.evil.example/poc\n",
            "From: bob@good.example\nSubject: Café menu\n\nhttp server etc passwd \
             2024 31337 www evil example\n",
        ]);
        let hits = |q: &str| subjects_found(&store, q);
        let first = vec!["http.server traversal".to_string()];
        for q in [
            "http.server",
            "HTTP.SERV",
            "../etc/passwd",
            "cve-2024-31337",
            "cve-2024-313",
            "ana@evil.example",
            "www.evil.example/poc",
            "https://www",
        ] {
            assert_eq!(hits(q), first, "{q}");
        }
        // The words apart are in both; other punctuation between them finds the same.
        assert_eq!(hits("http server").len(), 2);
        assert_eq!(hits("etc\\passwd"), first);
        assert_eq!(hits("cve/2024/31337"), first);
        assert_eq!(hits("evil").len(), 2);
        // Case and diacritics fold.
        assert_eq!(hits("CAFE"), vec!["Café menu"]);
        // Input with no word, or characters FTS5 treats specially, is no error.
        for q in [
            "--",
            "\u{200b}",
            "a\u{200b}b",
            "🙂",
            "\"",
            "x NEAR/2 y",
            "*",
            "a:b",
        ] {
            assert!(hits(q).is_empty(), "{q:?}");
        }
    }
}
