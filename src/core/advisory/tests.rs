//! Advisory fields: checking values, list fields adding, the audit events, the form's errors
//! by line, the embargo warnings and what each export refuses.

use chrono::{TimeZone, Utc};

use super::export::{cve, ghsa, osv, ExportError, Meta};
use super::*;
use crate::core::ingest::{Ingestor, Origin, RawIncoming};

const V4: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let raw = "Message-ID: <r@x>\nFrom: r@reporter.example\nSubject: traversal\n\
               Date: Mon, 2 Mar 2026 10:00:00 +0000\n\nsteps to reproduce\n";
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![RawIncoming {
                raw: raw.as_bytes().to_vec(),
                received_at: None,
                origin: Origin::File,
            }],
            None,
        )
        .unwrap();
    (dir, store)
}

fn set(text: &str) -> Change {
    parse_set(text, now()).unwrap()
}

#[test]
fn values_are_checked_and_normalised() {
    let err = |t: &str| parse_set(t, now()).unwrap_err();
    assert!(err("cve=CVE-26-1").contains("is not a CVE id"));
    assert!(err("ghsa=GHSA-abcd-1234-zzzz").contains("GHSA-xxxx"));
    assert!(err("credits=Lukas").contains("NAME:TYPE"));
    assert!(err("credits=Lukas:hero").contains("remediation_developer"));
    assert!(err("fixed=3f2a9c1").contains("full 40-character hash"));
    assert!(err("cvss=CVSS:3.1/AV:N").contains("lacks the base metrics AC, PR, UI, S, C, I, A"));
    assert!(err("cvss=CVSS:4.0/AV:X").contains("not a valid CVSS vector"));
    assert!(err("cvss=AV:N/AC:L/Au:N/C:P/I:P/A:P").contains("CVSS"));
    assert!(err("colour=red").contains("the fields are component, package"));
    assert!(err("summary").contains("has no '='"));
    assert!(err("package=pyip:pip").contains("unknown ecosystem \"pyip\""));
    assert_eq!(
        set("package=pypi: pip"),
        Change::Set(Key::Package, Value::Text("PyPI:pip".into()))
    );
    assert_eq!(
        set("cve=cve-2026-12345"),
        Change::Set(Key::Cve, Value::Text("CVE-2026-12345".into()))
    );
    assert_eq!(
        set("cwe=22"),
        Change::Set(Key::Cwe, Value::Text("CWE-22".into()))
    );
    // A credit's name may hold colons; the type is after the last one.
    assert_eq!(
        set("credits=Lukas Brenner:finder"),
        Change::Set(
            Key::Credits,
            Value::Credit(Credit {
                name: "Lukas Brenner".into(),
                kind: "finder".into()
            })
        )
    );
    // notified: WHO:DATE, WHO may hold colons; without a date, now.
    assert_eq!(
        set("notified=mailto:distros@vs.openwall.org:2026-10-20"),
        Change::Set(
            Key::Notified,
            Value::Notified(Notified {
                who: "mailto:distros@vs.openwall.org".into(),
                at: "2026-10-20T00:00:00Z".into()
            })
        )
    );
    // A date to come (2062 for 2026) silenced the embargo's 14-day warning.
    assert!(err("notified=linux-distros:2062-12-01").contains("dated in the future"));
    // What the OSV and CVE JSON 5 schemas take, not only what reads as an id or a vector.
    assert_eq!(
        set("cwe=CWE-079"),
        Change::Set(Key::Cwe, Value::Text("CWE-79".into()))
    );
    assert!(err("cwe=0").contains("is not a CWE id"));
    assert!(err("cve=CVE-2024-12345678901234567890").contains("is not a CVE id"));
    assert_eq!(
        set("cve=CVE-2024-1234567890123456789"),
        Change::Set(Key::Cve, Value::Text("CVE-2024-1234567890123456789".into()))
    );
    // A v4.0 vector is kept in the specification's order, which the schemas' patterns want.
    assert_eq!(
        set("cvss=CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        Change::Set(
            Key::Cvss,
            Value::Text("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into())
        )
    );
    // One version each: the exports write the range around it.
    for range in [
        "introduced=>=1.0",
        "fixed=2.0,3.0",
        "fixed=<2.0",
        "fixed=3.12.*",
    ] {
        assert!(err(range).contains("not one version"), "{range}");
    }
    assert_eq!(
        set("notified=oss-security"),
        Change::Set(
            Key::Notified,
            Value::Notified(Notified {
                who: "oss-security".into(),
                at: "2026-11-02T09:00:00Z".into()
            })
        )
    );
}

#[test]
fn cvss_is_scored_by_the_cvss_crate() {
    let v4 = Severity::of(V4).unwrap();
    assert_eq!((v4.version, v4.score, v4.rating), ("4.0", 9.3, "critical"));
    let v3 = Severity::of(V31).unwrap();
    assert_eq!((v3.version, v3.score, v3.rating), ("3.1", 7.5, "high"));
}

#[test]
fn changes_are_audited_per_field_and_lists_add() {
    let (_dir, mut store) = store();
    let req = Request::new("ada@example.org").at(now());
    let a = apply(
        &mut store,
        &req,
        1,
        &[
            set("cve=CVE-2026-1234"),
            set("credits=Lukas Brenner:finder"),
        ],
    )
    .unwrap();
    assert!(a.changed());
    let b = apply(
        &mut store,
        &req,
        1,
        &[set("credits=sethmlarson:coordinator")],
    )
    .unwrap();
    assert_eq!(b.after.credits.len(), 2, "a second --set credits adds");
    assert_eq!(b.version, a.version + 1);
    // Setting what is there changes nothing and bumps nothing.
    let c = apply(&mut store, &req, 1, &[set("cve=CVE-2026-1234")]).unwrap();
    assert!(!c.changed());
    assert_eq!(c.version, b.version);
    apply(&mut store, &req, 1, &[Change::Unset(Key::Cve)]).unwrap();
    assert_eq!(load(store.conn(), 1).unwrap().cve, None);

    let events: Vec<(String, Option<String>, Option<String>, String)> = store
        .conn()
        .prepare("SELECT kind, before, after, actor FROM events WHERE kind LIKE 'advisory:%' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "advisory:cve",
            "advisory:credits",
            "advisory:credits",
            "advisory:cve"
        ]
    );
    assert_eq!(events[0].2.as_deref(), Some("\"CVE-2026-1234\""));
    assert_eq!(events[3].1.as_deref(), Some("\"CVE-2026-1234\""));
    assert_eq!(events[3].2, None);
    assert!(events.iter().all(|e| e.3 == "ada@example.org"));

    // A stale view is refused, naming who changed the report.
    let stale = Request::new("bob@example.org").if_version(Some(a.version));
    let err = apply(&mut store, &stale, 1, &[set("cwe=22")]).unwrap_err();
    assert!(
        err.to_string().contains("was changed by ada@example.org"),
        "{err}"
    );
    assert!(apply(&mut store, &req, 99, &[set("cwe=22")])
        .unwrap_err()
        .to_string()
        .contains("no report #99"));
}

#[test]
fn the_form_round_trips_and_names_the_line_of_each_error() {
    let mut a = Advisory::default();
    for c in [
        set("summary=Path traversal in tarfile"),
        set("details=Line one.\n\nLine \"three\"."),
        set("credits=Lukas Brenner:finder"),
        set("references=https://github.com/python/cpython/pull/1"),
        set(&format!("cvss={V4}")),
    ] {
        if let Change::Set(k, v) = c {
            a.set(k, v);
        }
    }
    let text = form::render(3, &a);
    assert_eq!(form::parse(&text, now()).unwrap(), a);

    let edited = text
        .replace(
            "credits = [\n  \"Lukas Brenner:finder\",",
            "credits = [\n  \"Lukas Brenner:finder\",\n  \"Eve:hero\",",
        )
        .replace("cve = \"\"", "cve = \"CVE-1\"")
        .replace("cwe = \"\"", "cwe = 22");
    let errors = form::parse(&edited, now()).unwrap_err();
    let line_of = |needle: &str| edited.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let found: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let mut expected = vec![
        line_of("cwe = 22"),
        line_of("cve = \"CVE-1\""),
        line_of("\"Eve:hero\""),
    ];
    expected.sort();
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), expected);
    assert!(found[0].starts_with(&format!("line {}: cwe is one quoted string", expected[0])));
    assert!(
        found.iter().any(|e| e.contains("is not a CVE id")),
        "{found:?}"
    );
    // Listed at the end, the problems leave every line where it was; a second round
    // replaces the list, and the form still parses (the list is comments).
    let noted = form::with_errors(&edited, &errors);
    assert_eq!(
        noted.lines().take(line_of("cwe = 22")).last(),
        Some("cwe = 22")
    );
    let again = form::with_errors(&noted, &errors[..1]);
    assert_eq!(again.matches(form::ERRORS_MARK).count(), 1);
    assert_eq!(form::parse(&again, now()).unwrap_err().len(), 3);
    let syntax = form::parse("summary = \"x\"\ncve = \"unterminated\n", now()).unwrap_err();
    assert_eq!(syntax[0].line, 2, "{:?}", syntax);
}

#[test]
fn embargo_warns_past_fourteen_days_and_on_a_weekend() {
    let mut a = Advisory::default();
    a.set(Key::EmbargoUntil, Value::Text("2026-11-28".into())); // a Saturday
    a.set(
        Key::Notified,
        Value::Notified(Notified {
            who: "linux-distros".into(),
            at: "2026-11-02T09:00:00Z".into(),
        }),
    );
    let e = embargo::embargo(&a, now()).unwrap();
    assert_eq!(e.days_left, 25);
    assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
    assert!(e.warnings[0].contains("26 days from the first notification"));
    assert!(e.warnings[1].contains("Saturday"));
    a.set(Key::EmbargoUntil, Value::Text("2026-11-12".into())); // a Thursday, 10 days
    assert!(embargo::embargo(&a, now()).unwrap().warnings.is_empty());
}

#[test]
fn the_queue_marks_fourteen_and_seven_days_left_to_finish() {
    let due = |days: i64| crate::core::store::timestamp(now() + chrono::Duration::days(days));
    let mark = |days: i64| embargo::finish_mark(Some(&due(days)), now());
    assert_eq!(mark(30), None);
    assert_eq!(mark(14).as_deref(), Some("finish in 14d"));
    assert_eq!(mark(7).as_deref(), Some("finish in 7d!"));
    assert_eq!(mark(-1).as_deref(), Some("finish OVERDUE"));
    assert_eq!(embargo::finish_mark(None, now()), None);
}

fn full() -> Advisory {
    let mut a = Advisory::default();
    for t in [
        "component=pip",
        "package=PyPI:pip",
        "introduced=0",
        "fixed=25.0",
        "cwe=CWE-22",
        "cve=CVE-2026-1234",
        "summary=Path traversal in wheel install",
        "details=pip wrote outside the target directory.",
        "references=https://github.com/pypa/pip/pull/13000",
        "credits=Lukas Brenner:finder",
    ] {
        if let Change::Set(k, v) = set(t) {
            a.set(k, v);
        }
    }
    a.cvss = Some(V4.into());
    a
}

fn meta(config: &AdvisoryConfig) -> Meta<'_> {
    Meta {
        id: 1,
        config,
        osv_id: "PSF-2026-1".into(),
        published: "2026-11-02T09:00:00Z".into(),
        modified: "2026-11-02T09:00:00Z".into(),
        withdrawn: None,
    }
}

#[test]
fn exports_refuse_with_the_list_of_missing_fields() {
    let config = AdvisoryConfig::default();
    let empty = Advisory::default();
    let missing = |e: ExportError| match e {
        ExportError::Missing { missing, .. } => missing,
        other => panic!("{other}"),
    };
    assert_eq!(
        missing(osv::record(&empty, &meta(&config)).unwrap_err()),
        [
            "summary",
            "details",
            "cvss",
            "package (or repo with commit hashes)",
            "fixed (or last_affected)"
        ]
    );
    let cve_missing = missing(cve::record(&full(), &meta(&config)).unwrap_err());
    assert_eq!(cve_missing, ["[advisory] cna_org_id in the config"]);
    let mut git = full();
    git.fixed = Some("a".repeat(40));
    let m = missing(osv::record(&git, &meta(&config)).unwrap_err());
    assert!(m.iter().any(|f| f.starts_with("repo")), "{m:?}");
    let e = ghsa::body(&full(), &meta(&config)).unwrap();
    assert_eq!(e.0["vulnerabilities"][0]["package"]["ecosystem"], "pip");
    assert_eq!(
        e.0["vulnerabilities"][0]["vulnerable_version_range"],
        "< 25.0"
    );
    assert_eq!(
        e.1.len(),
        1,
        "a credit with a space is not a login: {:?}",
        e.1
    );
}

#[test]
fn osv_ids_count_up_per_year_and_stay() {
    let (_dir, mut store) = store();
    let (id1, p1) = osv_id(&mut store, 1, "PSF", now()).unwrap();
    assert_eq!(id1, "PSF-2026-1");
    let (again, p2) = osv_id(&mut store, 1, "PSF", now() + chrono::Duration::days(1)).unwrap();
    assert_eq!((again, p2), (id1, p1));
}

#[test]
fn a_field_set_from_its_event_json_is_checked_and_audited() {
    let (_dir, mut store) = store();
    let req = Request::new("bob@example.org").at(now());
    let v = serde_json::json!([{ "name": "Lukas Brenner", "type": "finder" }]);
    let a = set_field_json(&mut store, &req, 1, Key::Credits, &v).unwrap();
    assert_eq!(a.after.credits[0].kind, "finder");
    let bad = serde_json::json!("CVE-12");
    let err = set_field_json(&mut store, &req, 1, Key::Cve, &bad).unwrap_err();
    assert!(err.to_string().contains("is not a CVE id"), "{err}");
    let cleared = set_field_json(&mut store, &req, 1, Key::Credits, &serde_json::Value::Null);
    assert!(cleared.is_err(), "a list is cleared with [], not null");
    set_field_json(&mut store, &req, 1, Key::Credits, &serde_json::json!([])).unwrap();
    assert!(load(store.conn(), 1).unwrap().credits.is_empty());
}

/// The embargo notice quotes the reporter's first mail to distributors: an escape sequence
/// or a bidi override in it must not travel on to their terminals, nor hide text from them.
#[test]
fn the_notice_quotes_the_report_without_controls_or_hidden_characters() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let raw = "Message-ID: <h@x>\nFrom: r@reporter.example\nSubject: traversal\n\
               Content-Type: text/plain; charset=utf-8\n\n\
               run \x1b]52;c;ZXZpbA==\x07poc.py\x1b[2J\r\nthen \u{202e}txt.exe\u{200b} \u{9b}31m\n";
    Ingestor::without_classifier()
        .ingest_batch(&mut store, vec![RawIncoming::file(raw)], None)
        .unwrap();
    let facts = mail::facts(store.conn(), 1).unwrap();
    let mut a = full();
    a.embargo_until = Some("2099-01-05".into());
    let notice = mail::embargo_notice(1, &a, &facts, "Tess", dir.path()).unwrap();
    assert!(
        notice
            .body
            .contains("> run ]52;c;ZXZpbA==poc.py[2J\n> then <U+202E>txt.exe<U+200B> 31m"),
        "{}",
        notice.body
    );
    assert!(
        !notice
            .body
            .chars()
            .any(|c| (c.is_control() && c != '\n') || crate::core::sanitize::is_hidden(c)),
        "{:?}",
        notice.body
    );
}

/// An advisory is published: a value with an escape sequence, a C1 control or a bidi
/// override is refused, whichever way it comes (`--set`, the form, a team sync).
#[test]
fn a_value_with_a_control_or_hidden_character_is_refused() {
    for (text, code) in [
        ("summary=evil \x1b]52;c;ZXZpbA==\x07", "U+001B"),
        ("details=line one\nline \u{9b}31m two", "U+009B"),
        ("credits=Eve \u{202e}reversed:finder", "U+202E"),
        ("component=pip\u{200b}", "U+200B"),
        ("references=https://example.org/\u{7f}", "U+007F"),
    ] {
        let err = parse_set(text, now()).unwrap_err();
        assert!(
            err.contains(code) && err.contains("remove it"),
            "{text:?}: {err}"
        );
    }
    assert!(parse_set("details=line one\n\tline two", now()).is_ok());
    assert!(parse_set("credits=אבי כהן:finder", now()).is_ok());
    let (_dir, mut store) = store();
    let req = Request::new("tess@example.org").at(now());
    let remote = serde_json::json!("hidden \u{2066}text");
    let err = set_field_json(&mut store, &req, 1, Key::Summary, &remote).unwrap_err();
    assert!(err.to_string().contains("U+2066"), "{err}");
}
