//! The figures against a hand-computed fixture: seven reports whose events have fixed times.
//!
//! Six reports arrive Monday 2026-03-02 10:00 (ISO week 2026-W10), one a week later (W11).
//! Hours after arrival:
//!
//! | report | first response | triage decision | closed              |
//! |--------|----------------|-----------------|---------------------|
//! | 1      | 3 (by phone)   | 24              | 100 (disclosed)     |
//! | 2      | 4              | 48              |                     |
//! | 3      | 6              | 300 (late)      |                     |
//! | 4      | 10             | 20 (invalid)    | 20 (by bob)         |
//! | 5      | 50 (late)      | pending, late   |                     |
//! | 6      |                |                 | 1 (spam, by bob)    |
//! | 7      |                |                 | 1 (spam, by ada)    |
//!
//! Confirming a class or moving a state is not a response: report 1 is marked valid at 2h
//! and answered by phone at 3h; reports 2 to 5 move to `acknowledged` when answered.
//!
//! First response [3, 4, 6, 10, 50]: median 6, p90 = 10 + 0.6 × 40 = 34.
//! Triage [20, 24, 48, 300]: median 36, p90 = 48 + 0.7 × 252 = 224.4.
//! Close [1, 1, 20, 100]: median 10.5, p90 = 20 + 0.7 × 80 = 76.

use super::*;
use crate::core::config::Config;
use crate::core::ingest::{Ingestor, Origin, RawIncoming};
use crate::core::model::{Class, InvalidReason, ReportState};
use crate::core::triage::{self, Request};
use chrono::TimeZone;

const ADA: &str = "ada@example.org";
const BOB: &str = "bob@example.org";

fn arrived(id: i64) -> DateTime<Utc> {
    let day = if id == 7 { 9 } else { 2 };
    Utc.with_ymd_and_hms(2026, 3, day, 10, 0, 0).unwrap()
}

fn by(actor: &str, id: i64, hours: i64) -> Request {
    Request::new(actor).at(arrived(id) + Duration::hours(hours))
}

fn fixture() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    let batch = (1..=7)
        .map(|id| RawIncoming {
            raw: format!(
                "Message-ID: <r{id}@x>\nFrom: r{id}@x\nSubject: report {id}\nDate: {}\n\nb\n",
                arrived(id).to_rfc2822()
            )
            .into_bytes(),
            received_at: None,
            origin: Origin::File,
        })
        .collect();
    Ingestor::without_classifier()
        .ingest_batch(&mut s, batch, None)
        .unwrap();
    let config = Config::parse(
        "[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n\
         [team]\nmembers = [{ name = \"Bob\", email = \"bob@example.org\" }]\n",
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    use ReportState::*;
    let state = |s: &mut Store, r: Request, id, to| {
        triage::set_state(s, &r, id, to, None, None).unwrap();
    };
    let answered = |s: &mut Store, r: Request, id| {
        triage::responded(s, &r, id, triage::Via::Phone).unwrap();
    };
    triage::mark(&mut s, &by(ADA, 1, 2), 1, Class::Valid, None).unwrap();
    answered(&mut s, by(ADA, 1, 3), 1);
    for (id, hours) in [(2, 4), (3, 6), (4, 10), (5, 50)] {
        answered(&mut s, by(ADA, id, hours), id);
    }
    triage::take(&mut s, &by(ADA, 1, 3), 1).unwrap();
    state(&mut s, by(ADA, 1, 24), 1, Triaged);
    state(&mut s, by(ADA, 1, 30), 1, Fixing);
    state(&mut s, by(ADA, 1, 100), 1, Disclosed);
    state(&mut s, by(ADA, 2, 4), 2, Acknowledged);
    triage::assign(&mut s, &by(ADA, 2, 5), &config, 2, "bob").unwrap();
    state(&mut s, by(ADA, 2, 48), 2, Triaged);
    state(&mut s, by(ADA, 3, 6), 3, Acknowledged);
    state(&mut s, by(ADA, 3, 300), 3, Triaged);
    state(&mut s, by(ADA, 4, 10), 4, Acknowledged);
    triage::set_state(
        &mut s,
        &by(BOB, 4, 20),
        4,
        Invalid,
        Some(InvalidReason::ThirdParty),
        None,
    )
    .unwrap();
    state(&mut s, by(ADA, 5, 50), 5, Acknowledged);
    triage::mark(&mut s, &by(BOB, 6, 1), 6, Class::Spam, None).unwrap();
    triage::mark(&mut s, &by(ADA, 7, 1), 7, Class::Spam, None).unwrap();
    (dir, s)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap()
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn figures_match_the_hand_computed_fixture() {
    let (_d, s) = fixture();
    let st = compute(&s, Period::default(), &ClockConfig::default(), now()).unwrap();
    assert_eq!(st.reports, 7);
    let f = |m, p, c| TimeFigures {
        median_hours: Some(m),
        p90_hours: Some(p),
        count: c,
    };
    assert_eq!(st.time_to_first_response, f(6.0, 34.0, 5));
    assert_eq!(st.time_to_triage, f(36.0, 224.4, 4));
    assert_eq!(st.time_to_close, f(10.5, 76.0, 4));
    assert_eq!(
        st.over_target,
        OverTarget {
            acknowledge: 1,
            triage: 2,
            close: 0
        }
    );
    assert_eq!(st.overdue, 1);
    let states = st.by_state.iter().filter(|(_, n)| **n > 0);
    assert_eq!(
        states.map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
        [
            ("acknowledged", 1),
            ("disclosed", 1),
            ("invalid", 1),
            ("spam", 2),
            ("triaged", 2)
        ]
    );
    assert_eq!(
        st.by_class,
        counts(&[
            ("invalid", 1),
            ("spam", 2),
            ("unclassified", 3),
            ("valid", 1)
        ])
    );
    assert_eq!(
        st.by_coordinator,
        counts(&[(ADA, 1), (BOB, 1), ("unassigned", 5)])
    );
    assert_eq!(
        st.weekly,
        [
            WeekIntake {
                week: "2026-W10".into(),
                spam: 1,
                invalid: 1,
                valid: 1,
                unclassified: 3
            },
            WeekIntake {
                week: "2026-W11".into(),
                spam: 1,
                ..Default::default()
            }
        ]
    );
    assert_eq!(
        st.cleared_by[BOB],
        Cleared {
            spam: 1,
            invalid: 1
        }
    );
    assert_eq!(
        st.cleared_by[ADA],
        Cleared {
            spam: 1,
            invalid: 0
        }
    );
}

#[test]
fn the_period_selects_reports_by_arrival_with_until_inclusive() {
    let (_d, s) = fixture();
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d);
    let later = Period {
        since: day(9),
        ..Period::default()
    };
    let st = compute(&s, later, &ClockConfig::default(), now()).unwrap();
    assert_eq!(st.reports, 1);
    assert_eq!(st.time_to_close.median_hours, Some(1.0));
    let first_week = Period {
        until: day(8),
        ..Period::default()
    };
    let st = compute(&s, first_week.clone(), &ClockConfig::default(), now()).unwrap();
    assert_eq!(st.reports, 6);
    let st = compute(
        &s,
        Period {
            until: day(9),
            ..first_week
        },
        &ClockConfig::default(),
        now(),
    )
    .unwrap();
    assert_eq!(st.reports, 7, "until includes its whole day");
}

#[test]
fn percentiles_interpolate_and_empty_is_none() {
    assert_eq!(percentile(&[], 0.5), None);
    assert_eq!(percentile(&[3.0], 0.9), Some(3.0));
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
}

#[test]
fn csv_guards_formulas_in_names() {
    let (_d, s) = fixture();
    let mut st = compute(&s, Period::default(), &ClockConfig::default(), now()).unwrap();
    st.by_coordinator
        .insert("=HYPERLINK(\"http://x\")".into(), 1);
    let csv = to_csv(&st);
    assert!(csv.starts_with("section,key,field,value\r\n"));
    assert!(
        csv.contains("by_coordinator,\"'=HYPERLINK(\"\"http://x\"\")\",count,1\r\n"),
        "{csv}"
    );
    assert!(csv.contains("time_to_triage,,p90_hours,224.4\r\n"), "{csv}");
    assert!(!csv.contains(",=") && !csv.lines().any(|l| l.starts_with('=')));
}

#[test]
fn historical_reports_stay_out_of_response_times_unless_asked() {
    let (_d, mut s) = fixture();
    // An archive of old mail: two more reports, imported closed.
    let last = triage::history::last_report(&s).unwrap();
    let old = (1..=2)
        .map(|n| {
            RawIncoming::file(format!(
                "Message-ID: <old{n}@x>\nFrom: o@x\nSubject: old {n}\nDate: Mon, 5 Jan 2026 10:00:00 +0000\n\nb\n"
            ))
        })
        .collect();
    Ingestor::without_classifier()
        .ingest_batch(&mut s, old, None)
        .unwrap();
    let closed =
        triage::history::close_historical(&mut s, triage::history::Historical::After(last))
            .unwrap();
    assert_eq!(closed, 2);
    let st = compute(&s, Period::default(), &ClockConfig::default(), now()).unwrap();
    assert_eq!((st.reports, st.historical), (9, 2));
    assert_eq!(
        st.time_to_close.count, 4,
        "the fixture's four, not the archive"
    );
    assert_eq!(st.by_state["resolved"], 2, "still counted by state");
    let with = Period {
        with_historical: true,
        ..Period::default()
    };
    let st = compute(&s, with, &ClockConfig::default(), now()).unwrap();
    assert_eq!(st.time_to_close.count, 6);
}

#[test]
fn every_class_key_is_there_at_zero_in_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let st = compute(&store, Period::default(), &ClockConfig::default(), now()).unwrap();
    assert_eq!(
        st.by_class,
        counts(&[
            ("invalid", 0),
            ("spam", 0),
            ("unclassified", 0),
            ("valid", 0)
        ]),
        "a script reading by_class.unclassified finds 0, not a missing key"
    );
    assert_eq!(st.reports, 0);
}
