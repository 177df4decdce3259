//! Desks whose clocks disagree: who is answering a report must show whatever the skew.

use crate::desk::{server, stderr, Desk, MEMBERS, USER};
use crate::support::Smtp;

/// A `reply-started` event exactly as a desk whose clock is `skew` off writes it, APPENDed
/// as that desk's sync would.
fn reply_started_by_ada(report: &str, skew: chrono::Duration) -> Vec<u8> {
    use secdesk::core::team::event::{new_id, Event, ReportRef, FORMAT};
    use secdesk::core::team::message::{build, Context};
    let at = (chrono::Utc::now() + skew).format("%Y-%m-%dT%H:%M:%SZ");
    let ev = Event {
        secdesk: FORMAT,
        id: new_id("ada@example.org", 1),
        actor: "ada@example.org".into(),
        at: at.to_string(),
        lamport: 7,
        report: ReportRef::MessageId(report.into()),
        kind: "reply-started".into(),
        value: serde_json::json!({}),
        base: None,
    };
    build(&ev, &Context::default()).expect("build event")
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
