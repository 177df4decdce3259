//! Attacks on team sync from outside the team (mail that reuses a real report's Message-ID,
//! events that did not come from a desk, oversized mail in the events folder), races that
//! decide where a report's mail lies on the server, and accidents to the events folder.

use crate::desk::{server, Desk, USER};
use crate::support::Dovecot;

/// `From` and `Message-ID` of every message in a server folder, as an IMAP client sees them.
fn senders(server: &Dovecot, mailbox: &str) -> Vec<String> {
    let mut s = server.session(USER);
    let exists = s.examine(mailbox).map(|m| m.exists).unwrap_or(0);
    let mut out = Vec::new();
    if exists > 0 {
        let fetched = s
            .uid_fetch("1:*", "BODY.PEEK[HEADER.FIELDS (FROM MESSAGE-ID)]")
            .expect("fetch headers");
        for f in fetched.iter() {
            let header = String::from_utf8_lossy(f.header().unwrap_or_default()).into_owned();
            let mut lines: Vec<&str> = header.lines().filter(|l| !l.is_empty()).collect();
            lines.sort_unstable();
            out.push(lines.join(" "));
        }
    }
    s.logout().ok();
    out.sort();
    out
}

/// A stranger's message reusing the Message-ID of the real report `r1@reporter.example`,
/// as anyone can once the report was copied to a public list.
fn squatter() -> Vec<u8> {
    b"From: Eve <eve@evil.example>\r\n\
      To: security@example.org\r\n\
      Subject: cheap pills\r\n\
      Date: Tue, 24 Nov 2026 10:05:00 +0000\r\n\
      Message-ID: <r1@reporter.example>\r\n\
      \r\n\
      buy now\r\n"
        .to_vec()
}

#[test]
fn spam_reusing_a_real_reports_message_id_never_takes_the_real_report_with_it() {
    let server = server(1);
    server.append(USER, "INBOX", &squatter());
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    ada.sync();
    bo.sync();
    // Both desks keep the squatter apart: #1 is the real report, #2 the spam.
    for d in [&ada, &bo] {
        let from = d.show(2)["messages"][0]["from"].to_string();
        assert!(from.contains("eve@evil.example"), "{from}");
    }

    ada.ok(&["mark", "2", "spam"]);
    ada.ok(&["take", "1"]);
    ada.sync();
    bo.sync();

    // On the server only the spam went to Junk; the real report is still in INBOX.
    let junk = senders(&server, "Junk");
    assert_eq!(junk.len(), 1, "{junk:?}");
    assert!(junk[0].contains("eve@evil.example"), "{junk:?}");
    let inbox = senders(&server, "INBOX");
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(inbox[0].contains("reporter@example.net"), "{inbox:?}");
    // Bo's desk applied each change to the report Ada made it on.
    let real = bo.show(1);
    assert_eq!(real["class_confirmed"], false, "{real}");
    assert_eq!(real["coordinator"], "ada@example.org", "{real}");
    let spam = bo.show(2);
    assert_eq!(spam["class"], "spam", "{spam}");
    assert_eq!(spam["class_confirmed"], true, "{spam}");
    assert_eq!(spam["coordinator"], serde_json::Value::Null, "{spam}");
}

/// An event as a stranger would write it, naming a member as the actor and a clock far
/// ahead of the team's, in the exact shape a desk writes.
fn forged(kind: &str, value: serde_json::Value, n: u64) -> Vec<u8> {
    crate::desk::ada_event(
        "r1@reporter.example",
        kind,
        value,
        1_000_000 + n,
        "2026-12-01T10:00:00Z",
    )
}

#[test]
fn events_mailed_into_the_events_folder_are_not_the_teams_triage() {
    let server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    ada.sync(); // creates the events folder
    bo.sync();

    // Eve mails events "from Ada" to security+secdesk@, which delivery files into the
    // events folder: the report closed as spam, taken by Eve, a note with escapes.
    let forgeries = [
        forged(
            "state",
            serde_json::json!({"state": "spam", "invalid_reason": null, "duplicate_of": null}),
            1,
        ),
        forged(
            "class",
            serde_json::json!({"class": "spam", "confirmed": true}),
            2,
        ),
        forged(
            "coordinator",
            serde_json::json!({"coordinator": "eve@evil.example"}),
            3,
        ),
        forged(
            "note",
            serde_json::json!({"text": "\u{1b}]2;pwned\u{7}ignore this one"}),
            4,
        ),
    ];
    for raw in &forgeries {
        server.deliver("eve@evil.example", "security+secdesk", raw);
    }
    assert_eq!(
        crate::desk::folder(&server, "secdesk").len(),
        4,
        "delivery filed the mail into the events folder"
    );

    let out = bo.sync();
    let report = bo.show(1);
    assert_eq!(report["state"], "new", "{report}");
    assert_eq!(report["class_confirmed"], false, "{report}");
    assert_eq!(report["coordinator"], serde_json::Value::Null, "{report}");
    assert_eq!(
        report["notes"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    let err = crate::desk::stderr(&out);
    assert!(
        err.contains("ignored 4 messages in secdesk that came by mail, not from a desk"),
        "{err}"
    );
    // The real report stays in INBOX: nothing moved it to Junk.
    bo.sync();
    assert_eq!(senders(&server, "INBOX").len(), 1);
    assert!(senders(&server, "Junk").is_empty());
    // Ada's own events still travel.
    ada.ok(&["take", "1"]);
    ada.sync();
    bo.sync();
    assert_eq!(bo.show(1)["coordinator"], "ada@example.org");
}

#[test]
fn a_report_the_team_settles_as_valid_never_stays_in_junk() {
    let server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    ada.sync();
    bo.sync();
    // At the same time, between syncs: Ada calls it spam, Bo confirms it valid. Bo's change
    // wins the race (the same clock, the greater actor) on every desk.
    ada.ok(&["mark", "1", "spam"]);
    bo.ok(&["mark", "1", "valid"]);
    bo.sync();
    ada.sync(); // moves it to Junk as Ada decided, then learns Bo's change
                // The report the team settled as valid is back where mail is read, after that one sync.
    let junk = senders(&server, "Junk");
    assert!(junk.is_empty(), "{junk:?}");
    assert_eq!(senders(&server, "INBOX").len(), 1);
    bo.sync();
    ada.sync();
    for d in [&ada, &bo] {
        let report = d.show(1);
        assert_eq!(report["class"], "valid", "{}: {report}", d.email);
        assert_eq!(report["state"], "acknowledged", "{}: {report}", d.email);
    }
    // Later syncs leave it there.
    assert!(senders(&server, "Junk").is_empty());
    assert_eq!(senders(&server, "INBOX").len(), 1);
}

#[test]
fn an_oversized_message_in_the_events_folder_never_stops_the_team() {
    let server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    // In Bo's [sync]: messages over 100 KB are kept to their headers.
    let limit = "max_message_bytes = 100000\n";
    let bo = Desk::with_members(&server, "Bo", "bo@example.org", crate::desk::MEMBERS, limit);
    ada.sync();
    bo.sync();
    // Anyone mails 1.5 MB to security+secdesk@, far over Bo's message size limit.
    let line = "x".repeat(76);
    let body = vec![line.as_str(); 20_000].join("\r\n");
    let big = format!(
        "From: eve@evil.example\r\nTo: security+secdesk@example.org\r\nSubject: big\r\n\r\n{body}\r\n"
    );
    server.deliver("eve@evil.example", "security+secdesk", big.as_bytes());
    ada.ok(&["take", "1"]);
    ada.sync();
    // Bo's sync passes it (it cannot be an event) and goes on with Ada's.
    let out = bo.sync();
    assert!(
        crate::desk::stderr(&out)
            .contains("skipped 1 message in secdesk that is not secdesk team events"),
        "{}",
        crate::desk::stderr(&out)
    );
    assert_eq!(bo.show(1)["coordinator"], "ada@example.org");
    bo.sync();
}

#[test]
fn an_events_folder_deleted_or_renumbered_loses_nothing_and_applies_nothing_twice() {
    let mut server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    ada.sync();
    bo.sync();
    ada.ok(&["take", "1"]);
    ada.ok(&["note", "1", "first"]);
    ada.sync();
    bo.sync();
    // The folder is renumbered (new UIDVALIDITY): Bo reads it all again.
    let before = server.uidvalidity(USER, "secdesk");
    assert_ne!(server.reset_uidvalidity(USER, "secdesk"), before);
    ada.ok(&["note", "1", "second"]);
    ada.sync();
    bo.sync();
    let notes = bo.show(1)["notes"].as_array().cloned().unwrap_or_default();
    assert_eq!(notes.len(), 2, "{notes:?}");
    // Someone deletes the folder: the next syncs create it again and go on.
    let mut s = server.session(USER);
    s.delete("secdesk").expect("DELETE secdesk");
    s.logout().ok();
    bo.ok(&["state", "1", "triaged"]);
    bo.sync();
    ada.sync();
    assert_eq!(ada.show(1)["state"], "triaged");
    assert_eq!(ada.show(1)["notes"].as_array().map(Vec::len), Some(2));
    assert_eq!(bo.shared_state(), ada.shared_state());
}

#[test]
fn an_events_folder_deleted_before_everyone_read_it_is_refilled_by_the_desks_that_hold_the_events()
{
    let server = server(1);
    let ada = Desk::new(&server, "Ada", "ada@example.org");
    let bo = Desk::new(&server, "Bo", "bo@example.org");
    let cy = Desk::new(&server, "Cy", "cy@example.org");
    for d in [&ada, &bo, &cy] {
        d.sync();
    }
    ada.ok(&["take", "1"]);
    ada.ok(&["note", "1", "reproduced on 3.12"]);
    ada.sync();
    // Before Bo or Cy read Ada's events, someone deletes the events folder.
    let mut s = server.session(USER);
    s.delete("secdesk").expect("DELETE secdesk");
    s.logout().ok();
    cy.ok(&["state", "1", "triaged"]);
    cy.sync(); // creates the folder again, with Cy's event only
    let out = ada.sync();
    let err = crate::desk::stderr(&out);
    assert!(
        err.contains("the team events folder secdesk was re-created or renumbered")
            && err.contains("this desk put back 2 team events"),
        "{err}"
    );
    bo.sync();
    cy.sync();
    // A desk set up only now reads the whole story too.
    let dee = Desk::new(&server, "Dee", "dee@example.org");
    dee.sync();
    for d in [&bo, &cy, &dee] {
        let report = d.show(1);
        assert_eq!(
            report["coordinator"], "ada@example.org",
            "{}: {report}",
            d.email
        );
        assert_eq!(report["state"], "triaged", "{}: {report}", d.email);
        let notes = report["notes"].as_array().map(Vec::len);
        assert_eq!(notes, Some(1), "{}: {report}", d.email);
    }
    for d in [&bo, &cy, &dee] {
        assert_eq!(d.shared_state(), ada.shared_state(), "{}", d.email);
    }
    // Put back once: the next syncs find nothing missing and say nothing.
    let again = ada.sync();
    assert!(!crate::desk::stderr(&again).contains("put back"));
    assert_eq!(crate::desk::folder(&server, "secdesk").len(), 3);

    // One event message expunged (Cy's state): a desk that holds it puts it back.
    let mut s = server.session(USER);
    s.select("secdesk").expect("SELECT secdesk");
    s.uid_store("1", "+FLAGS (\\Deleted)").expect("flag");
    s.expunge().expect("EXPUNGE");
    s.logout().ok();
    let err = crate::desk::stderr(&bo.sync());
    assert!(
        err.contains("holds 2 messages, fewer than the 3 events")
            && err.contains("put back 1 team event "),
        "{err}"
    );
    let fay = Desk::new(&server, "Fay", "fay@example.org");
    fay.sync();
    assert_eq!(fay.shared_state(), ada.shared_state());

    // The team moves to another events folder: the first desk there fills it.
    let moved = format!("{}\nevents_mailbox = \"secdesk2\"", crate::desk::MEMBERS);
    ada.configure(server.imap_port, "Ada", &moved, "");
    let err = crate::desk::stderr(&ada.sync());
    assert!(
        err.contains("the team events folder secdesk2 is new to this desk")
            && err.contains("put back 3 team events"),
        "{err}"
    );
    let gus = Desk::with_members(&server, "Gus", "gus@example.org", &moved, "");
    gus.sync();
    assert_eq!(gus.shared_state(), ada.shared_state());
}
