//! The whole shared SpamAssassin corpus (real-world breakage: bad charsets, broken MIME,
//! odd headers) parses and stores without a panic. The corpora are not shipped with secdesk,
//! so these tests are `#[ignore]`d: `scripts/test` runs them with `--ignored` when
//! `$SECDESK_CORPORA` (or `../shared/corpora`) is there and prints a plain skip line when not.

use std::path::{Path, PathBuf};

use secdesk::core::ingest::{Ingestor, Origin, RawIncoming};
use secdesk::core::parse::parse_message;
use secdesk::core::store::Store;

/// `$SECDESK_CORPORA/SUB`, or `../shared/corpora/SUB`; absent, the test fails (it is only
/// run when the corpora are there).
fn corpus(sub: &str) -> PathBuf {
    let dir = std::env::var_os("SECDESK_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"))
        .join(sub);
    assert!(
        dir.is_dir(),
        "the shared corpus is not at {}: set SECDESK_CORPORA to the folder holding it",
        dir.display()
    );
    dir
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.extension().is_some_and(|e| e == "eml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn spamassassin_corpus_parses_and_stores_every_message() {
    let dir = corpus("spamassassin");
    let all = files(&dir);
    assert!(
        all.len() > 3000,
        "expected the whole corpus, found {}",
        all.len()
    );
    let mut with_subject = 0;
    let mut batch = Vec::new();
    for f in &all {
        let raw = std::fs::read(f).unwrap();
        let m = parse_message(&raw);
        if !m.subject.is_empty() {
            with_subject += 1;
        }
        batch.push(RawIncoming {
            raw,
            received_at: None,
            origin: Origin::File,
        });
    }
    // Nearly every real message has a subject; a parser that silently failed would not.
    assert!(
        with_subject * 100 / all.len() >= 95,
        "{with_subject} of {} had a subject",
        all.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("s.db")).unwrap();
    let summary = Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    let stored: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored as usize, summary.new_messages);
    assert_eq!(summary.new_messages + summary.duplicates, all.len());
}

#[test]
#[ignore = "needs the shared corpora (SECDESK_CORPORA or ../shared/corpora); scripts/test runs it when they are there"]
fn triage_corpus_reads_sender_subject_and_body() {
    let dir = corpus("triage");
    for f in files(&dir) {
        let m = parse_message(&std::fs::read(&f).unwrap());
        assert!(m.from.is_some(), "{}: no From", f.display());
        assert!(!m.subject.is_empty(), "{}: no Subject", f.display());
        assert!(m.body_text.trim().len() > 20, "{}: empty body", f.display());
        assert!(m.message_id.is_some(), "{}: no Message-ID", f.display());
    }
}
