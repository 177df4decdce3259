//! The whole shared SpamAssassin corpus (real-world breakage: bad charsets, broken MIME,
//! odd headers) parses and stores without a panic. Skipped, saying so, when
//! `../shared/corpora` is absent (it is not shipped with secdesk).

use std::io::Write;
use std::path::{Path, PathBuf};

use secdesk::core::ingest::{Ingestor, Origin, RawIncoming};
use secdesk::core::parse::parse_message;
use secdesk::core::store::Store;

fn corpus(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        // Written straight to stderr: the test harness would swallow `println!` of a passing test,
        // and the skip must show in the test output.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: ../shared/corpora not found ({})",
            module_path!()
        );
        None
    }
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
fn spamassassin_corpus_parses_and_stores_every_message() {
    let Some(dir) = corpus("spamassassin") else {
        return;
    };
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
fn triage_corpus_reads_sender_subject_and_body() {
    let Some(dir) = corpus("triage") else { return };
    for f in files(&dir) {
        let m = parse_message(&std::fs::read(&f).unwrap());
        assert!(m.from.is_some(), "{}: no From", f.display());
        assert!(!m.subject.is_empty(), "{}: no Subject", f.display());
        assert!(m.body_text.trim().len() > 20, "{}: empty body", f.display());
        assert!(m.message_id.is_some(), "{}: no Message-ID", f.display());
    }
}
