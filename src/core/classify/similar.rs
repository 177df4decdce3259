//! The duplicate finder: for a report, the earlier reports most likely to describe the same
//! vulnerability.
//!
//! Two signals, combined into one score from 0 to 1:
//!
//! - **Words**: TF-IDF cosine over normalised words (lower case, stop words out, a plural
//!   `s` dropped) of the subject and the first incoming message's body. IDF is computed over
//!   the reports compared, smoothed, so words every report uses weigh little.
//! - **Identifiers**: the overlap (Jaccard) of what names the bug precisely: standard-library
//!   modules, `module.function` and `function(` names, CPython source paths, URLs, CVE, CWE
//!   and GHSA ids, and issue numbers. Two reports about the same module but different bugs
//!   share the module and little else.
//!
//! score = [`WORD_WEIGHT`] · cosine + (1 − [`WORD_WEIGHT`]) · Jaccard. Only scores from
//! [`THRESHOLD`] up are suggested, at most [`MAX_SIMILAR`], best first.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use rusqlite::Connection;
use serde::Serialize;

use super::tokenize::prefix_at_char_boundary;
use super::ClassifyError;
use crate::core::model::ReportId;

/// Share of the score that comes from word similarity.
pub const WORD_WEIGHT: f64 = 0.6;
/// Suggestions start at this score (tuned on `tests/fixtures/duplicates`).
pub const THRESHOLD: f64 = 0.2;
/// At most this many suggestions.
pub const MAX_SIMILAR: usize = 5;
/// Text read per report.
const MAX_TEXT: usize = 16 * 1024;
/// At most this many earlier reports are compared, the newest first. Each costs decoding its
/// first message, and the report view waits for the list: all 13,270 earlier reports of an
/// 18,750-message store took 3 s, and a store five times that size would have taken 15.
/// 2,000 reports that are not spam are years of a security team's mail.
pub const MAX_COMPARED: usize = 2000;

/// One suggested earlier report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Similar {
    pub id: ReportId,
    pub score: f64,
}

/// What a report is compared on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signature {
    /// Normalised word → count.
    words: HashMap<String, u32>,
    ids: HashSet<String>,
}

const STOP: &[&str] = &[
    "the",
    "and",
    "for",
    "that",
    "this",
    "with",
    "are",
    "was",
    "but",
    "not",
    "you",
    "your",
    "have",
    "has",
    "from",
    "can",
    "will",
    "when",
    "which",
    "would",
    "there",
    "their",
    "been",
    "into",
    "its",
    "also",
    "our",
    "they",
    "them",
    "than",
    "then",
    "some",
    "any",
    "all",
    "one",
    "out",
    "use",
    "used",
    "using",
    "how",
    "what",
    "who",
    "why",
    "where",
    "about",
    "report",
    "hello",
    "thank",
    "thanks",
    "regard",
    "best",
    "python",
    "cpython",
    "bug",
    "issue",
    "security",
    "vulnerability",
    "found",
    "like",
    "does",
    "doe",
    "should",
    "could",
    "only",
    "other",
    "same",
    "more",
    "most",
    "very",
    "just",
    "get",
    "got",
    "make",
    "made",
    "these",
    "those",
    "each",
    "because",
    "while",
    "after",
    "before",
    "here",
    "please",
    "team",
    "psrt",
];

static WORD: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: compiling it cannot fail.
    Regex::new(r"(?-u)[A-Za-z_][A-Za-z0-9_]{2,30}").expect("valid word regex")
});
static IDENT: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: compiling it cannot fail.
    Regex::new(concat!(
        r"(?i-u)\bCVE-\d{4}-\d{4,}\b|\bCWE-\d{1,4}\b|\bGHSA(-[a-z0-9]{4}){3}\b",
        r"|\b(gh|bpo)-\d{3,}\b|https?://[!#-&*-;=?-~]{4,200}",
        r"|\b(Lib|Modules|Objects|Python|Parser|Include)/[A-Za-z0-9_/]+\.(py|c|h)\b",
        r"|\b[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\b|\b[A-Za-z_][A-Za-z0-9_]{2,}\(",
    ))
    .expect("valid identifier regex")
});

/// The signature of a report's subject and body.
pub fn signature(subject: &str, body: &str) -> Signature {
    let body = prefix_at_char_boundary(body, MAX_TEXT);
    let mut sig = Signature::default();
    for text in [subject, body] {
        for w in WORD.find_iter(text) {
            let mut w = w.as_str().to_ascii_lowercase();
            if w.len() > 4 && w.ends_with('s') && !w.ends_with("ss") {
                w.pop();
            }
            if !STOP.contains(&w.as_str()) {
                *sig.words.entry(w).or_default() += 1;
            }
        }
        for m in IDENT.find_iter(text).take(500) {
            let id = m
                .as_str()
                .trim_end_matches(['.', ',', ')'])
                .to_ascii_lowercase();
            // A dotted name that is a host (`evil.example`, `python.org`) says little.
            if !id.starts_with("http") && id.contains('.') && is_host_like(&id) && !id.contains('/')
            {
                continue;
            }
            let id = id.trim_end_matches('(');
            // `t.extractall` and `tarfile.TarFile.extractall` name the same function.
            if let Some((_, last)) = id.rsplit_once('.').filter(|_| !id.starts_with("http")) {
                if last.len() >= 5 && !last.ends_with("py") {
                    sig.ids.insert(format!("{last}()"));
                }
            }
            if !id.contains('.') && !id.contains('/') && !id.contains('-') {
                sig.ids.insert(format!("{id}()"));
            } else if id.split('.').next().is_some_and(|f| f.len() > 1) || id.contains('/') {
                sig.ids.insert(id.to_string());
            }
        }
    }
    sig
}

fn is_host_like(id: &str) -> bool {
    let last = id.rsplit('.').next().unwrap_or("");
    matches!(
        last,
        "com" | "org" | "net" | "io" | "example" | "test" | "tar" | "zip" | "txt" | "py" | "eml"
    )
}

/// Ranks `earlier` against `query`: the best first, at most [`MAX_SIMILAR`], from
/// [`THRESHOLD`] up. IDF comes from `earlier` and the query together.
pub fn rank(query: &Signature, earlier: &[(ReportId, Signature)]) -> Vec<Similar> {
    let mut all = scores(query, earlier);
    all.retain(|s| s.score >= THRESHOLD);
    all.truncate(MAX_SIMILAR);
    all
}

/// Every earlier report's score, best first (ties: newest first).
pub fn scores(query: &Signature, earlier: &[(ReportId, Signature)]) -> Vec<Similar> {
    let n = earlier.len() as f64 + 1.0;
    let mut df: HashMap<&str, u32> = HashMap::new();
    for sig in earlier.iter().map(|(_, s)| s).chain(std::iter::once(query)) {
        for w in sig.words.keys() {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let idf = |w: &str| ((n + 1.0) / (f64::from(*df.get(w).unwrap_or(&0)) + 1.0)).ln() + 1.0;
    let q = tf_idf(query, &idf);
    let qn = norm(&q);
    let mut out: Vec<Similar> = earlier
        .iter()
        .map(|(id, sig)| {
            let v = tf_idf(sig, &idf);
            let dot: f64 = q.iter().filter_map(|(w, x)| v.get(w).map(|y| x * y)).sum();
            let cos = if qn == 0.0 {
                0.0
            } else {
                dot / (qn * norm(&v)).max(1e-12)
            };
            let shared = query.ids.intersection(&sig.ids).count() as f64;
            let union = query.ids.union(&sig.ids).count() as f64;
            let jaccard = if union == 0.0 { 0.0 } else { shared / union };
            let score = WORD_WEIGHT * cos + (1.0 - WORD_WEIGHT) * jaccard;
            Similar {
                id: *id,
                score: (score * 1e4).round() / 1e4,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.id.cmp(&a.id)));
    out
}

/// Log-scaled term frequency times IDF, per word.
fn tf_idf<'a>(s: &'a Signature, idf: &dyn Fn(&str) -> f64) -> HashMap<&'a str, f64> {
    s.words
        .iter()
        .map(|(w, &c)| (w.as_str(), (1.0 + f64::from(c).ln()) * idf(w)))
        .collect()
}

fn norm(v: &HashMap<&str, f64>) -> f64 {
    v.values().map(|x| x * x).sum::<f64>().sqrt()
}

/// The earlier reports (lower ids) most likely the same vulnerability as `report_id`,
/// compared on each report's first incoming message: the newest [`MAX_COMPARED`] of them
/// that are not spam (confirmed, or suggested with confidence; an unsure one is compared).
/// None for a report confirmed as spam.
pub fn similar_reports(
    conn: &Connection,
    report_id: ReportId,
) -> Result<Vec<Similar>, ClassifyError> {
    // A message whose raw frame is damaged has no text to compare (NULL): it is left out
    // instead of failing every report's list.
    const SELECT: &str = "SELECT r.id, m.subject, secdesk_body_or_null(m.body, m.pgp, m.raw)
         FROM reports r
         JOIN messages m ON m.id = (SELECT min(id) FROM messages
                                    WHERE report_id = r.id AND direction = 'in')";
    let signatures =
        |sql: &str, params: &[i64]| -> Result<Vec<(ReportId, Signature)>, ClassifyError> {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                Ok((
                    r.get::<_, ReportId>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                if let (id, subject, Some(body)) = row? {
                    out.push((id, signature(&subject, &body)));
                }
            }
            Ok(out)
        };
    // A report confirmed as spam has no duplicates to offer, as before the bound.
    let query_sql =
        format!("{SELECT} WHERE r.id = ?1 AND NOT (r.class IS 'spam' AND r.class_confirmed = 1)");
    let Some((_, query)) = signatures(&query_sql, &[report_id])?.pop() else {
        return Ok(Vec::new());
    };
    let earlier = signatures(
        &format!(
            "{SELECT} WHERE r.id < ?1
               AND NOT (r.class IS 'spam' AND (r.class_confirmed = 1 OR r.outcome IS NOT 'unsure'))
             ORDER BY r.id DESC LIMIT ?2"
        ),
        &[report_id, MAX_COMPARED as i64],
    )?;
    Ok(rank(&query, &earlier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bug_in_other_words_ranks_above_a_near_miss() {
        let a = signature(
            "tarfile extractall follows symlinks",
            "tarfile.open('x').extractall() writes through a symlink outside the target; Lib/tarfile.py",
        );
        let near = signature(
            "tarfile infinite loop",
            "tarfile.open() loops forever on a pax header with length 0; Lib/tarfile.py _proc_pax",
        );
        let other = signature("cookie", "http.cookies accepts a newline in a value");
        let q = signature(
            "symlink escape when extracting with tarfile",
            "extractall follows a symlink member and writes outside the folder: tarfile.open(p).extractall()",
        );
        let r = scores(&q, &[(1, a), (2, near), (3, other)]);
        assert_eq!(r[0].id, 1, "{r:?}");
        assert!(r[0].score > r[1].score + 0.1, "{r:?}");
        assert_eq!(r[2].id, 3, "{r:?}");
    }

    /// A store of `filler` unrelated reports between report 1 (a tarfile symlink escape,
    /// `class` as given) and the last one (the same bug in other words).
    fn store_with_filler(
        filler: usize,
        class: &str,
        outcome: &str,
    ) -> (tempfile::TempDir, i64, crate::core::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::core::store::Store::open(&dir.path().join("s.db")).unwrap();
        let c = store.conn();
        let report = |id: i64, subject: &str, body: &str, class: &str, outcome: &str| {
            c.execute(
                "INSERT INTO reports (id, created_at, updated_at, class, outcome) VALUES (?1, 't', 't', ?2, ?3)",
                rusqlite::params![id, class, outcome],
            )
            .unwrap();
            c.execute(
                "INSERT INTO messages (report_id, content_hash, received_at, raw, subject, body)
                 VALUES (?1, randomblob(32), 't', x'00', ?2, ?3)",
                rusqlite::params![id, subject, body],
            )
            .unwrap();
        };
        report(
            1,
            "tarfile extractall follows symlinks",
            "tarfile.open('x').extractall() writes through a symlink outside the target; Lib/tarfile.py",
            class,
            outcome,
        );
        for i in 0..filler {
            let id = i as i64 + 2;
            report(
                id,
                &format!("newsletter {i}"),
                &format!("weekly deals number{i} and coupons"),
                "invalid",
                "ham",
            );
        }
        let last = filler as i64 + 2;
        report(
            last,
            "symlink escape when extracting with tarfile",
            "extractall follows a symlink member and writes outside the folder: tarfile.open(p).extractall()",
            "valid",
            "ham",
        );
        (dir, last, store)
    }

    #[test]
    fn the_newest_reports_are_compared_and_confident_spam_is_not() {
        let found = |filler: usize, class: &str, outcome: &str| {
            let (_dir, last, store) = store_with_filler(filler, class, outcome);
            similar_reports(store.conn(), last)
                .unwrap()
                .iter()
                .any(|s| s.id == 1)
        };
        // Within the newest MAX_COMPARED earlier reports: offered.
        assert!(found(MAX_COMPARED - 1, "valid", "ham"));
        // One report further back: the report view no longer waits for it.
        assert!(!found(MAX_COMPARED, "valid", "ham"));
        // Spam the classifier was sure of is not a duplicate to offer; an unsure one is.
        assert!(!found(10, "spam", "spam"));
        assert!(found(10, "spam", "unsure"));
        // A report confirmed as spam is offered no duplicates.
        let (_dir, last, store) = store_with_filler(10, "valid", "ham");
        store
            .conn()
            .execute(
                "UPDATE reports SET class = 'spam', class_confirmed = 1 WHERE id = ?1",
                [last],
            )
            .unwrap();
        assert!(similar_reports(store.conn(), last).unwrap().is_empty());
    }

    #[test]
    fn host_names_are_not_identifiers() {
        let s = signature(
            "x",
            "mail bob@python.org about tarfile.open( and see www.example.com",
        );
        assert!(s.ids.contains("tarfile.open"), "{:?}", s.ids);
        assert!(
            !s.ids.iter().any(|i| i.contains("python.org")),
            "{:?}",
            s.ids
        );
    }
}
