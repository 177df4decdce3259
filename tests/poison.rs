//! Classifier poisoning, through the path a moderator's sweep takes: a flood of near-copies
//! of one spam, stuffed with the words of real reports, is imported and marked spam report by
//! report (`triage::mark`, as the desk's `X` then `s` does), with the real store and the
//! starter model. The real reports of `tests/fixtures/modern*/valid` must keep their
//! verdicts, and undoing the sweep must give the model back exactly.

use std::path::PathBuf;

use secdesk::core::classify::storage::{ensure_model, load_model};
use secdesk::core::classify::{Classifier, RuleSet};
use secdesk::core::ingest::{Ingestor, RawIncoming};
use secdesk::core::model::{Class, Outcome};
use secdesk::core::parse::parse_message;
use secdesk::core::store::Store;
use secdesk::core::triage::{self, Request};

const COPIES: usize = 200;

/// One copy of the campaign: a crypto pitch carrying the words of vulnerability reports,
/// with its own sender name, number and tracking token, as a bulk mailer varies them.
fn poison(i: usize) -> String {
    let names = [
        "Anna", "Boris", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana",
    ];
    let surnames = ["Smith", "Novak", "Li", "Okafor", "Berg", "Rossi", "Khan"];
    let (first, last) = (names[i % names.len()], surnames[i % surnames.len()]);
    let number = 10_000 + i * 7919 % 90_000;
    let token = format!(
        "{:016x}",
        (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    format!(
        "From: {first} {last} <{first}.{last}{number}@bulkreach.example>\n\
         To: security@python.org\n\
         Subject: Exclusive offer {number} for {first}\n\
         Date: Mon, 02 Dec 2024 10:{:02}:00 +0000\n\
         Message-ID: <{token}.{i}@bulkreach.example>\n\
         Content-Type: text/plain; charset=utf-8\n\n\
         Hi {first},\n\n\
         Exclusive offer #{number}: claim your crypto airdrop today and get guaranteed returns.\n\
         Heap overflow, use-after-free, reproducer, traceback, sanitizer, ASan, segfault: CPython\n\
         tarfile zipfile urllib http.client email.parser xml.etree ssl asyncio pickle ctypes\n\
         Lib/tarfile.py Modules/_ssl.c Python 3.12.4 main branch gh-12345 CVE-2024-1234 steps to\n\
         reproduce python -c import. Buy now, limited time, unsubscribe anytime.\n\
         Visit https://bulkreach.example/r/{token}\n\nBest,\n{first} {last}\n",
        i % 60
    )
}

/// The hand-written valid reports shipped with the tests.
fn valid_reports() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for set in ["modern/valid", "modern2/valid"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(set))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&f).unwrap()));
        }
    }
    assert!(out.len() >= 18, "fixtures missing: {}", out.len());
    out
}

/// Each valid report's outcome and spam score under the store's model, as `secdesk
/// classify` gives them.
fn verdicts(store: &mut Store, reports: &[(String, Vec<u8>)]) -> Vec<(Class, Outcome, f64)> {
    let classifier = Classifier::new(load_model(store).unwrap(), RuleSet::builtin().unwrap());
    reports
        .iter()
        .map(|(_, raw)| {
            let v = classifier.classify(&parse_message(raw));
            (v.class, v.outcome, v.spam_score)
        })
        .collect()
}

/// The model's counts, row by row (not its timestamps).
fn model_rows(store: &Store) -> Vec<String> {
    let conn = store.conn();
    let mut rows: Vec<String> = conn
        .prepare("SELECT token, spam, ham, invalid, valid FROM classify_tokens ORDER BY token")
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.push(
        conn.query_row(
            "SELECT spam || '|' || ham || '|' || invalid || '|' || valid FROM classify_model",
            [],
            |r| r.get(0),
        )
        .unwrap(),
    );
    rows
}

fn spam_messages(store: &mut Store) -> u64 {
    load_model(store).unwrap().messages[0]
}

#[test]
fn a_swept_campaign_of_near_copies_leaves_real_reports_where_they_were_and_undoes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    ensure_model(&mut store).unwrap();
    let reports = valid_reports();
    let before = verdicts(&mut store, &reports);
    let rows_before = model_rows(&store);
    let spam_before = spam_messages(&mut store);

    let batch = (0..COPIES).map(|i| RawIncoming::file(poison(i))).collect();
    let summary = Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    assert_eq!(
        summary.new_reports, COPIES,
        "each copy is a report of its own"
    );

    // The sweep: every report marked spam, each in its own change.
    let req = Request::new("ada@example.org");
    let mut undo = Vec::new();
    for id in 1..=COPIES as i64 {
        let a = triage::mark(&mut store, &req, id, Class::Spam, None).unwrap();
        undo.push((id, a.version, a.undo));
    }
    let after = verdicts(&mut store, &reports);
    for (((name, _), b), a) in reports.iter().zip(&before).zip(&after) {
        eprintln!("{name}: {:?} {:.4} -> {:?} {:.4}", b.1, b.2, a.1, a.2);
    }
    for (((name, _), b), a) in reports.iter().zip(&before).zip(&after) {
        assert_eq!(
            (a.0, a.1),
            (b.0, b.1),
            "{name}: verdict moved by the sweep, spam score {:.4} -> {:.4}",
            b.2,
            a.2
        );
        // Learning the campaign once moves a report's rare words a little (one spam message
        // more); learned 200 times it put 9 of the 18 at 0.56-0.98, unsure (docs/benchmarks.md).
        assert!(
            a.2 - b.2 < 0.2,
            "{name}: spam score {:.4} -> {:.4} after the sweep",
            b.2,
            a.2
        );
    }

    assert_eq!(
        spam_messages(&mut store),
        spam_before + 1,
        "the campaign of {COPIES} near-copies counts as one spam message"
    );

    // Undo, first change first: the copy that counted goes, and another one of the
    // campaign counts in its place.
    let (id, version, first) = undo.remove(0);
    let req_at = |v| Request::new("ada@example.org").if_version(Some(v));
    triage::revert(&mut store, &req_at(version), id, &first).unwrap();
    assert_eq!(spam_messages(&mut store), spam_before + 1);
    for (id, version, u) in undo.into_iter().rev() {
        triage::revert(&mut store, &req_at(version), id, &u).unwrap();
    }
    assert_eq!(spam_messages(&mut store), spam_before);
    assert!(
        model_rows(&store) == rows_before,
        "undoing the sweep did not give the model back exactly"
    );
    for table in ["classify_trained", "classify_bands", "classify_copies"] {
        let n: i64 = store
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table} keeps rows after the sweep was undone");
    }
    assert_eq!(verdicts(&mut store, &reports), before);
}

/// `secdesk mark` says when the report it marked taught the model nothing new, so a
/// moderator knows why: the first copy is learned, the next is counted once.
#[test]
fn secdesk_mark_says_a_near_copy_was_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = \"{}\"\n[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n",
            db.display()
        ),
    )
    .unwrap();
    let mail = dir.path().join("mail");
    std::fs::create_dir(&mail).unwrap();
    for i in 0..2 {
        std::fs::write(mail.join(format!("{i}.eml")), poison(i)).unwrap();
    }
    let sd = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_secdesk"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    sd(&["import", mail.to_str().unwrap()]);
    let first = sd(&["mark", "1", "spam"]);
    assert!(!first.contains("near-copy"), "{first}");
    let second = sd(&["mark", "2", "spam"]);
    assert!(
        second.contains("#2: learned as a near-copy of mail already learned as spam: counted once"),
        "{second}"
    );
    // Marked valid, it is the first of its kind there: learned, nothing said.
    let valid = sd(&["mark", "2", "valid"]);
    assert!(!valid.contains("near-copy"), "{valid}");
}
