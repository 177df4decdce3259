//! The yearly figures and their charts, on reports synced "over IMAP" and one imported from an
//! archive, moved through triage at fixed times.

use chrono::{DateTime, TimeZone, Utc};

use super::chart;
use super::period::{compute, By, YearFigures};
use super::Period;
use crate::core::config::{ClockConfig, Identity};
use crate::core::ingest::{Ingestor, Origin, RawIncoming};
use crate::core::model::{InvalidReason, ReportState};
use crate::core::store::Store;
use crate::core::triage::history::{self, Historical};
use crate::core::triage::{self, Request};

fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0).unwrap()
}

fn incoming(i: u32, date: DateTime<Utc>, imap: bool) -> RawIncoming {
    RawIncoming {
        raw: format!(
            "Message-ID: <y{i}@x>\nFrom: r{i}@reporter.example\nSubject: report {i}\nDate: {}\n\nbody\n",
            date.to_rfc2822()
        )
        .into_bytes(),
        received_at: Some(date),
        origin: if imap {
            Origin::Imap {
                mailbox: "INBOX".into(),
                uidvalidity: 1,
                uid: i,
            }
        } else {
            Origin::File
        },
    }
}

/// A store in a temporary folder holding `batch`.
fn store_with(batch: Vec<RawIncoming>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    (dir, store)
}

/// The figures by month, in UTC, with the default targets and no members, judged at `now`.
fn monthly(store: &Store, now: DateTime<Utc>) -> YearFigures {
    compute(
        store,
        Period::default(),
        By::Month,
        &ClockConfig::default(),
        &[],
        now,
    )
    .unwrap()
}

/// #1 March, handled well and disclosed; #2 April spam; #3 April acknowledged late, invalid;
/// #4 March, imported from an archive as history (closed on import).
fn year() -> (tempfile::TempDir, YearFigures) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let batch = vec![
        incoming(1, at(3, 2, 10), true),
        incoming(2, at(4, 10, 10), true),
        incoming(3, at(4, 12, 10), true),
        incoming(4, at(3, 5, 10), false),
    ];
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    // #4 came from the archive with `secdesk import --historical`: closed, clocks stopped.
    let closed = history::close_historical(&mut store, Historical::After(3)).unwrap();
    assert_eq!(closed, 1);
    let ada = |t: DateTime<Utc>| Request::new("ada@example.org").at(t);
    let state = |store: &mut Store, id, s, t, reason| {
        triage::set_state(store, &ada(t), id, s, reason, None).unwrap();
    };
    use ReportState::*;
    // A first response is an answer to the reporter (issue 14): here, by phone.
    let answer = |store: &mut Store, id, t| {
        triage::responded(store, &ada(t), id, triage::Via::Phone).unwrap();
    };
    answer(&mut store, 1, at(3, 2, 11));
    state(&mut store, 1, Acknowledged, at(3, 2, 11), None);
    triage::take(&mut store, &ada(at(3, 3, 10)), 1).unwrap();
    state(&mut store, 1, Triaged, at(3, 7, 10), None);
    state(&mut store, 1, Fixing, at(3, 8, 10), None);
    state(&mut store, 1, Disclosed, at(4, 1, 10), None);
    state(&mut store, 2, Spam, at(4, 10, 12), None);
    answer(&mut store, 3, at(4, 15, 10));
    state(&mut store, 3, Acknowledged, at(4, 15, 10), None);
    let reason = Some(InvalidReason::ThirdParty);
    state(&mut store, 3, Invalid, at(4, 16, 10), reason);
    triage::add_note(&mut store, &ada(at(4, 16, 11)), 3, "upstream's bug").unwrap();

    let members = [
        Identity {
            name: "Ada".into(),
            email: "ada@example.org".into(),
            handle: None,
        },
        Identity {
            name: "Bob".into(),
            email: "bob@example.org".into(),
            handle: None,
        },
    ];
    let refs: Vec<&Identity> = members.iter().collect();
    let f = compute(
        &store,
        Period::default(),
        By::Month,
        &ClockConfig::default(),
        &refs,
        at(12, 1, 0),
    )
    .unwrap();
    (dir, f)
}

#[test]
fn a_year_by_month_without_spam_and_historical_reports() {
    let (_dir, f) = year();
    let months: Vec<(&str, usize, usize, usize)> = f
        .by_period
        .iter()
        .map(|p| (p.period.as_str(), p.spam, p.invalid, p.unclassified))
        .collect();
    assert_eq!(months, [("2026-03", 0, 0, 2), ("2026-04", 1, 1, 0)]);
    assert_eq!((f.excluded.spam, f.excluded.historical), (1, 1));

    let e = &f.response_efficiency;
    assert_eq!((e.acknowledge.met, e.acknowledge.missed), (1, 1));
    assert_eq!(e.acknowledge.share, Some(0.5));
    assert_eq!((e.triage.met, e.triage.missed), (2, 0));
    assert_eq!((e.coordinator.met, e.coordinator.missed), (1, 0));
    assert_eq!((e.finish.met, e.finish.missed), (1, 0));
    assert_eq!(f.by_period[1].acknowledge_efficiency, Some(0.0));

    // 2-day acknowledge target: hours; the longer clocks in days.
    let t = &f.response_times;
    assert_eq!(
        (t.first_response.unit, t.first_response.median),
        ("hours", Some(36.5))
    );
    assert_eq!(t.first_response.target, Some(48.0));
    assert_eq!((t.triage.unit, t.triage.median), ("days", Some(4.5)));
    assert_eq!((t.close.unit, t.close.count), ("days", 2));
    assert_eq!(t.close.target, Some(90.0));
    assert_eq!(f.time_to_fix.median, Some(30.0));
    assert_eq!(f.time_to_disclose.count, 1);
    assert_eq!(f.invalid_reasons.get("third-party"), Some(&1));
    assert_eq!(
        f.moderation.time_to_clear.count, 2,
        "spam and invalid cleared"
    );

    let ada = &f.members[0];
    assert_eq!((ada.coordinated, ada.notes, ada.replies), (1, 1, 0));
    assert_eq!(ada.last_activity.as_deref(), Some("2026-04-16T11:00:00Z"));
    assert!(!ada.inactive);
    assert!(
        !f.members[1].inactive,
        "Bob did nothing, but the store's record covers 9 months, not 12"
    );
}

#[test]
fn a_member_with_no_activity_is_inactive_once_the_record_covers_a_year() {
    let (dir, _) = year();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let members = [Identity {
        name: "Bob".into(),
        email: "bob@example.org".into(),
        handle: None,
    }];
    let refs: Vec<&Identity> = members.iter().collect();
    let when = |now| {
        compute(
            &store,
            Period::default(),
            By::Month,
            &ClockConfig::default(),
            &refs,
            now,
        )
        .unwrap()
        .members[0]
            .inactive
    };
    // The record starts in March 2026.
    assert!(!when(at(12, 1, 0)));
    assert!(when(Utc.with_ymd_and_hms(2027, 4, 1, 0, 0, 0).unwrap()));
}

#[test]
fn the_chart_draws_each_series() {
    let (_dir, f) = year();
    let series = chart::series(&f);
    let intake: Vec<&str> = series
        .iter()
        .filter(|s| s.0 == "intake")
        .map(|s| s.1)
        .collect();
    assert_eq!(intake, ["spam", "invalid", "valid", "unclassified"]);
    assert_eq!(series[0].2, [Some(0.0), Some(1.0)], "spam per month");
    assert_eq!(
        series[5].2,
        [Some(1.0), Some(0.0)],
        "acknowledge met per month"
    );

    let svg = chart::svg(&f, 48.0).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    // The data lines, in drawing order (series order): 2 px wide, starting at the plot's
    // left edge (legend samples are short lines at the right).
    let lines: Vec<Vec<f64>> = svg
        .split("<polyline")
        .skip(1)
        .filter(|l| l.contains("stroke-width=\"2\""))
        .filter_map(|l| l.split("points=\"").nth(1)?.split('"').next())
        .filter(|p| p.starts_with("60,"))
        .map(|p| {
            p.split_whitespace()
                .map(|xy| xy.split(',').nth(1).unwrap().parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(lines.len(), series.len(), "one line per series");
    for ((panel, name, values), ys) in series.iter().zip(&lines) {
        assert_eq!(ys.len(), values.len(), "{panel} {name}");
        // Higher values are drawn higher up (smaller y) within a panel.
        let (a, b) = (values[0].unwrap(), values[1].unwrap());
        assert_eq!(
            a.total_cmp(&b),
            ys[1].total_cmp(&ys[0]),
            "{panel} {name}: {ys:?}"
        );
    }
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>')?.1.split("</text>").next())
        .map(str::trim)
        .collect();
    for label in [
        "spam",
        "unclassified",
        "acknowledge",
        "target",
        "2026-03",
        "2026-04",
    ] {
        assert!(texts.contains(&label), "no label {label}: {texts:?}");
    }
    let page = chart::html(&f, &svg, "Year");
    assert!(page.contains("<svg") && page.contains("<td>2026-04</td>"));
    assert!(
        !page.contains("<script") && !page.contains("src="),
        "self-contained"
    );
}

#[test]
fn a_report_suggested_spam_that_a_person_took_up_counts_with_the_reports() {
    let (_dir, mut store) = store_with(vec![
        incoming(1, at(5, 4, 10), true),
        incoming(2, at(5, 5, 10), true),
    ]);
    // The classifier suggested spam for both (not confirmed by anyone).
    store
        .conn()
        .execute("UPDATE reports SET class = 'spam', class_confirmed = 0", [])
        .unwrap();
    // #1 was a real report: answered the next hour, acknowledged and triaged by a person.
    let ada = |t: DateTime<Utc>| Request::new("ada@example.org").at(t);
    triage::responded(&mut store, &ada(at(5, 4, 11)), 1, triage::Via::Phone).unwrap();
    for (state, t) in [
        (ReportState::Acknowledged, at(5, 4, 11)),
        (ReportState::Triaged, at(5, 6, 10)),
    ] {
        triage::set_state(&mut store, &ada(t), 1, state, None, None).unwrap();
    }
    // #2 is still new: the suggestion stands.
    let f = monthly(&store, at(5, 20, 0));
    assert_eq!(f.excluded.spam, 1, "only the report no one took up");
    assert_eq!(
        (f.by_period[0].spam, f.by_period[0].unclassified),
        (1, 1),
        "#1 is not spam: the team answered and triaged it"
    );
    let t = &f.response_times.first_response;
    assert_eq!((t.count, t.median), (1, Some(1.0)));
    let e = &f.response_efficiency;
    assert_eq!((e.acknowledge.met, e.triage.met), (1, 1));
    // The counts by class in the same output agree.
    let s = super::compute(
        &store,
        Period::default(),
        &ClockConfig::default(),
        at(5, 20, 0),
    )
    .unwrap();
    assert_eq!(
        (s.by_class.get("spam"), s.by_class.get("unclassified")),
        (Some(&1), Some(&1))
    );
    assert_eq!((s.weekly[0].spam, s.weekly[0].unclassified), (1, 1));
}

/// A report sent at 23:30 on 31 December in UTC−5 arrived at 04:30 UTC on 1 January: it counts
/// in the next year, and every output says the periods are UTC so that nobody is surprised.
/// (In 2025: an arrival after the time of the test would be taken as that time.) In New York's
/// zone (`stats --tz`) it counts in its own year, and every output names that zone.
#[test]
fn periods_are_cut_in_utc_and_every_output_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let new_years_eve_in_new_york = chrono::FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .with_ymd_and_hms(2025, 12, 31, 23, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![incoming(1, new_years_eve_in_new_york, true)],
            None,
        )
        .unwrap();
    let clocks = ClockConfig::default();
    let by_year = |period: &Period| {
        let f = compute(&store, period.clone(), By::Year, &clocks, &[], at(6, 1, 0)).unwrap();
        let years: Vec<String> = f.by_period.iter().map(|p| p.period.clone()).collect();
        (f, years)
    };
    let (f, years) = by_year(&Period::default());
    assert_eq!(years, ["2026"]);
    let s = super::compute(&store, Period::default(), &clocks, at(6, 1, 0)).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["time_zone"], "UTC");
    assert!(
        super::to_csv(&s).contains("period,time_zone,name,UTC\r\n"),
        "{}",
        super::to_csv(&s)
    );
    let page = chart::html(&f, "<svg/>", "t");
    assert!(page.contains("cut at midnight UTC"), "{page}");
    assert!(page.contains("Per Year (UTC)"), "{page}");
    let drawing = chart::svg(&f, 48.0).unwrap();
    assert!(
        drawing.contains("per year (UTC)"),
        "the intake chart's title"
    );

    let new_york = Period {
        zone: super::Zone::parse("America/New_York").unwrap(),
        ..Period::default()
    };
    let (f, years) = by_year(&new_york);
    assert_eq!(years, ["2025"]);
    let s = super::compute(&store, new_york, &clocks, at(6, 1, 0)).unwrap();
    assert_eq!(
        serde_json::to_value(&s).unwrap()["time_zone"],
        "America/New_York"
    );
    assert_eq!(
        s.weekly[0].week, "2026-W01",
        "Wednesday 31 December 2025 is in ISO week 1"
    );
    let page = chart::html(&f, "<svg/>", "t");
    assert!(
        page.contains("cut at midnight in America/New_York")
            && page.contains("Per Year (America/New_York)"),
        "{page}"
    );
    assert!(chart::svg(&f, 48.0)
        .unwrap()
        .contains("per year (America/New_York)"));
}

/// Time to fix reads the log as the clocks do: a move into resolved taken back by undo never
/// happened, and a report reopened since it was resolved (its fix fell short) is not fixed.
#[test]
fn time_to_fix_leaves_out_undone_moves_and_reopened_reports() {
    let (_dir, mut store) = store_with(vec![
        incoming(1, at(3, 2, 0), true),
        incoming(2, at(3, 2, 0), true),
    ]);
    let ada = |t: DateTime<Utc>| Request::new("ada@example.org").at(t);
    let state =
        |store: &mut Store, id, s, t| triage::set_state(store, &ada(t), id, s, None, None).unwrap();
    use ReportState::*;
    // #1: resolved by mistake a day in, undone, really resolved on day 10.
    state(&mut store, 1, Triaged, at(3, 2, 12));
    let mistake = state(&mut store, 1, Resolved, at(3, 3, 0));
    triage::revert(
        &mut store,
        &ada(at(3, 3, 1)).if_version(Some(mistake.version)),
        1,
        &mistake.undo,
    )
    .unwrap();
    state(&mut store, 1, Resolved, at(3, 12, 0));
    // #2: resolved on day 2, then reopened: still open.
    state(&mut store, 2, Triaged, at(3, 2, 12));
    state(&mut store, 2, Resolved, at(3, 4, 0));
    state(&mut store, 2, Triaged, at(3, 5, 0));

    let f = monthly(&store, at(6, 1, 0));
    assert_eq!(f.time_to_fix.count, 1, "{:?}", f.time_to_fix);
    assert_eq!(f.time_to_fix.median, Some(10.0), "{:?}", f.time_to_fix);
}

/// A month (or week, quarter) with no report was left out of `by_period`, the CSV and the
/// charts, so a year's chart put July next to November. Every period of the span is listed
/// now, quiet ones as zeros: within `--since`/`--until`, else from the first report to the
/// last.
#[test]
fn quiet_periods_are_listed_as_zeros() {
    let (_dir, store) = store_with(vec![
        incoming(1, at(1, 10, 9), false),
        incoming(2, at(3, 5, 9), false),
    ]);
    let period = Period {
        since: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
        until: chrono::NaiveDate::from_ymd_opt(2026, 4, 30),
        ..Period::default()
    };
    let f = compute(
        &store,
        period,
        By::Month,
        &ClockConfig::default(),
        &[],
        at(5, 1, 0),
    )
    .unwrap();
    let months: Vec<(&str, usize)> = f
        .by_period
        .iter()
        .map(|p| (p.period.as_str(), p.unclassified))
        .collect();
    assert_eq!(
        months,
        [
            ("2026-01", 1),
            ("2026-02", 0),
            ("2026-03", 1),
            ("2026-04", 0)
        ]
    );
    // Without bounds: from the first report to the last.
    let f = monthly(&store, at(5, 1, 0));
    let months: Vec<&str> = f.by_period.iter().map(|p| p.period.as_str()).collect();
    assert_eq!(months, ["2026-01", "2026-02", "2026-03"]);
    // A quiet period's figures say nothing happened, not that a clock failed.
    assert_eq!(f.by_period[1].acknowledge_efficiency, None);
}
