//! Clocks: desks whose wall clocks disagree (who is answering a report must show whatever the
//! skew), and an event whose Lamport clock no store can hold.

use crate::desk::{server, stderr, Desk, MEMBERS, USER};
use crate::support::Smtp;

/// A `reply-started` event exactly as a desk whose clock is `skew` off writes it, APPENDed
/// as that desk's sync would.
fn reply_started_by_ada(report: &str, skew: chrono::Duration) -> Vec<u8> {
    let at = (chrono::Utc::now() + skew).format("%Y-%m-%dT%H:%M:%SZ");
    crate::desk::ada_event(
        report,
        "reply-started",
        serde_json::json!({}),
        7,
        &at.to_string(),
    )
}

#[test]
fn a_reply_started_on_a_desk_whose_clock_is_off_still_shows_and_warns() {
    let server = server(2);
    let sink = tempfile::tempdir().expect("temp dir");
    let smtp = Smtp::start(&sink.path().join("Maildir"));
    let smtp_conf = crate::desk::smtp_section(&smtp);
    let bo = Desk::with_members(&server, "Bo", "bo@example.org", MEMBERS, &smtp_conf);
    bo.sync();
    // Ada's desk runs three hours ahead while she answers #1, forty minutes behind for #2.
    server.append(
        USER,
        "secdesk",
        &reply_started_by_ada("r1@reporter.example", chrono::Duration::hours(3)),
    );
    server.append(
        USER,
        "secdesk",
        &reply_started_by_ada("r2@reporter.example", -chrono::Duration::minutes(40)),
    );
    bo.sync();
    for id in [1, 2] {
        let replying = bo.show(id)["replying"].clone();
        assert_eq!(replying["by"], "ada@example.org", "#{id}: {replying}");
        let text = bo.ok(&["show", &id.to_string()]);
        assert!(text.contains("Ada is replying (0 min)"), "#{id}: {text}");
        let second = bo.run(&["reply", &id.to_string(), "--yes"]);
        assert!(
            stderr(&second).contains(&format!("Ada is replying (0 min) to report #{id}")),
            "#{id}: {}",
            stderr(&second)
        );
    }
}

#[test]
fn an_event_with_an_impossible_clock_is_skipped_and_never_jams_the_team() {
    let server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    ada.sync();
    bo.sync();
    // A tool (or a member's mistake) APPENDs an event whose clock no store can hold.
    let raw = crate::desk::ada_event(
        "r1@reporter.example",
        "state",
        serde_json::json!({"state": "resolved", "invalid_reason": null, "duplicate_of": null}),
        i64::MAX as u64,
        "2026-12-01T10:00:00Z",
    );
    server.append(USER, "secdesk", &raw);
    // Ada's next change travels after it.
    ada.ok(&["take", "1"]);
    ada.sync();
    let out = bo.sync();
    let report = bo.show(1);
    assert_eq!(report["coordinator"], "ada@example.org", "{report}");
    assert_eq!(report["state"], "new", "{report}");
    // Bo's own changes still travel.
    bo.ok(&["note", "1", "still working"]);
    bo.sync();
    ada.sync();
    assert_eq!(ada.show(1)["notes"].as_array().map(Vec::len), Some(1));
    assert!(
        stderr(&out).contains("skipped 1 message in secdesk that is not secdesk team events"),
        "{}",
        stderr(&out)
    );
}
