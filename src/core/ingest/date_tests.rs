//! Dates a message's sender wrote: replaced by the arrival when implausible, kept as written,
//! and why, kept as a code and shown as a sentence.

use super::tests::row;
use super::*;

/// The notes `show` and the desk print for the first message of `report`.
fn shown_message(store: &Store, report: i64) -> crate::core::triage::MessageView {
    let detail = crate::core::triage::report_detail(
        store,
        report,
        &crate::core::config::ClockConfig::default(),
        Utc::now(),
    )
    .unwrap();
    detail.messages[0].clone()
}

fn shown_notes(store: &Store, report: i64) -> Vec<String> {
    shown_message(store, report).parse_notes
}

#[test]
fn forged_dates_are_replaced_by_the_arrival_and_kept_as_written() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let arrival = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
    let msg = |id: &str, date: &str| {
        RawIncoming::imported(
            format!("From: a@x.test\nMessage-ID: <{id}>\nDate: {date}\nSubject: s\n\nb\n"),
            arrival,
        )
    };
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![
                msg("future@x", "Fri, 31 Dec 9999 23:59:59 +0000"),
                msg("past@x", "Thu, 01 Jan 1970 00:00:00 +0000"),
                msg("fine@x", "Sun, 29 Nov 2026 22:00:00 +0000"),
            ],
            None,
        )
        .unwrap();
    for (id, written) in [
        ("future@x", "Fri, 31 Dec 9999 23:59:59 +0000"),
        ("past@x", "Thu, 01 Jan 1970 00:00:00 +0000"),
    ] {
        let (report, _, notes, received, date, header) = row(&store, id, "a@x.test");
        assert_eq!(received, "2026-11-30T08:00:00Z", "{id}");
        // The date is the arrival, read from `received_at` rather than stored twice.
        assert_eq!(date, None, "{id}");
        assert_eq!(shown_message(&store, report).date, "2026-11-30T08:00:00Z");
        // The header as written is shown from the raw message, not stored twice.
        assert_eq!(header, None, "{id}");
        assert_eq!(
            shown_message(&store, report).date_header.as_deref(),
            Some(written)
        );
        // The store keeps why as a code, not a sentence; the report shows the sentence.
        assert_eq!(notes, None, "{id}");
        let shown = shown_notes(&store, report);
        let why = if id == "future@x" {
            "is more than a day after it arrived 2026-11-30 08:00 UTC"
        } else {
            "is more than 7 days before it arrived 2026-11-30 08:00 UTC"
        };
        assert_eq!(
            shown,
            [format!(
                "the Date header ({written}) {why}: ordered and timed by its arrival instead"
            )]
        );
    }
    // A plausible Date (10 hours before the arrival) is the message's shown date; the
    // arrival still orders it and starts the clocks, as for synced mail.
    let (report, _, notes, received, date, header) = row(&store, "fine@x", "a@x.test");
    assert_eq!(received, "2026-11-30T08:00:00Z");
    assert_eq!(date.as_deref(), Some("2026-11-29T22:00:00Z"));
    assert_eq!((notes, header), (None, None));
    assert_eq!(shown_message(&store, report).date, "2026-11-29T22:00:00Z");
    assert_eq!(shown_message(&store, report).date_header, None);
    // The queue's clocks start at the arrival, not in 9999 or 1970.
    let created: Vec<String> = store
        .conn()
        .prepare("SELECT created_at FROM reports ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(created, ["2026-11-30T08:00:00Z"; 3]);
}

/// An arrival in the future (an archive file whose mtime says 2099, an IMAP server whose clock
/// runs ahead) is not believed: the report arrived when the desk stored it, so its clocks run
/// now and `stats` counts it in the present, whatever the sender's Date header says.
#[test]
fn an_arrival_in_the_future_is_taken_as_the_time_the_desk_saw_it() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let future = Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap();
    let raw = |id: &str| {
        format!("From: a@x.test\nMessage-ID: <{id}>\nDate: Thu, 01 Jan 2099 00:00:00 +0000\nSubject: {id}\n\nb\n")
    };
    let imap = RawIncoming {
        raw: raw("imap@x").into_bytes(),
        received_at: Some(future),
        origin: Origin::Imap {
            mailbox: "INBOX".into(),
            uidvalidity: 1,
            uid: 1,
        },
    };
    let before = Utc::now();
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![RawIncoming::imported(raw("file@x"), future), imap],
            None,
        )
        .unwrap();
    let after = Utc::now();
    let reports: Vec<i64> = ["file@x", "imap@x"]
        .iter()
        .map(|id| row(&store, id, "a@x.test").0)
        .collect();
    assert_ne!(reports[0], reports[1], "two reports");
    for (id, report) in ["file@x", "imap@x"].into_iter().zip(reports) {
        let created: String = store
            .conn()
            .query_row(
                "SELECT created_at FROM reports WHERE id = ?1",
                [report],
                |r| r.get(0),
            )
            .unwrap();
        let created = crate::core::store::parse_timestamp(&created).unwrap();
        assert!(
            created >= before - chrono::Duration::seconds(1) && created <= after,
            "{id}: received {created}, stored between {before} and {after}"
        );
    }
}

#[test]
fn date_notes_stored_as_sentences_become_codes_and_read_the_same() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let arrival = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
    let written = "Thu, 01 Jan 1970 00:00:00 +0000";
    let old = format!(
        "the Date header ({written}) is more than 7 days before it arrived 2026-11-30 08:00 \
         UTC: ordered and timed by its arrival instead"
    );
    {
        let mut store = Store::open(&path).unwrap();
        let msg = |id: &str| {
            RawIncoming::imported(
                format!("From: a@x.test\nMessage-ID: <{id}>\nDate: {written}\nSubject: s\n\nb\n"),
                arrival,
            )
        };
        Ingestor::without_classifier()
            .ingest_batch(&mut store, vec![msg("a@x"), msg("b@x")], None)
            .unwrap();
        // As the release before this one left them: the sentence among the notes, beside
        // a note of another kind; on the second message in a wording this version does not
        // write, which must stay as it is.
        let c = store.conn();
        c.execute(
            "UPDATE messages SET notes = json_array(?1, 'joined the earliest, #1'),
                date_header = ?2, date = received_at
             WHERE message_id = 'a@x'",
            [&old, written],
        )
        .unwrap();
        c.execute(
            "UPDATE messages SET notes = json_array('the Date header (x) was odd')
             WHERE message_id = 'b@x'",
            [],
        )
        .unwrap();
        let date_note = crate::core::store::MIGRATIONS
            .iter()
            .position(|m| m.contains("ADD COLUMN date_note"))
            .unwrap();
        crate::core::store::rewind_to(c, date_note as i64);
    }
    let store = Store::open(&path).unwrap();
    let (report, _, notes, _, date, header) = row(&store, "a@x", "a@x.test");
    assert_eq!(notes.as_deref(), Some(r#"["joined the earliest, #1"]"#));
    // Migrations 27 and 28: the header as written is read from the raw message, and the
    // date that is the arrival from `received_at`.
    assert_eq!((date, header), (None, None));
    assert_eq!(shown_message(&store, report).date, "2026-11-30T08:00:00Z");
    assert_eq!(
        shown_notes(&store, report),
        [old.clone(), "joined the earliest, #1".to_string()]
    );
    let (report, _, notes, ..) = row(&store, "b@x", "a@x.test");
    assert_eq!(notes.as_deref(), Some(r#"["the Date header (x) was odd"]"#));
    assert_eq!(shown_notes(&store, report), ["the Date header (x) was odd"]);
}
