//! Unit tests for the ingest pipeline against a real (temporary) store.

use super::*;

fn incoming(raw: &str) -> RawIncoming {
    RawIncoming::file(raw)
}

fn count(store: &Store, table: &str) -> i64 {
    store
        .conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn replies_join_their_thread_and_duplicates_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let ing = Ingestor::without_classifier();
    let first = "Message-ID: <r1@x>\nSubject: bug\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nA bug\n";
    let reply = "Message-ID: <r2@x>\nIn-Reply-To: <r1@x>\nSubject: Re: bug\n\nmore\n";
    let other = "Message-ID: <o1@x>\nSubject: other\n\nB\n";
    let s = ing
        .ingest_batch(
            &mut store,
            vec![incoming(first), incoming(reply), incoming(other)],
            None,
        )
        .unwrap();
    assert_eq!(
        s,
        IngestSummary {
            new_messages: 3,
            new_reports: 2,
            duplicates: 0
        }
    );
    let again = ing
        .ingest_batch(
            &mut store,
            vec![incoming(first), incoming(&first.replace('\n', "\r\n"))],
            None,
        )
        .unwrap();
    assert_eq!(
        again,
        IngestSummary {
            new_messages: 0,
            new_reports: 0,
            duplicates: 2
        }
    );
    assert_eq!(count(&store, "messages"), 3);
    assert_eq!(count(&store, "reports"), 2);
}

#[test]
fn sent_reply_joins_its_report_and_its_copy_is_not_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let ing = Ingestor::without_classifier();
    let report = "Message-ID: <r1@x>\nSubject: bug\n\nA bug\n";
    ing.ingest_batch(&mut store, vec![incoming(report)], None)
        .unwrap();
    // No threading headers at all: the report id alone places it.
    let sent = "Message-ID: <out1@team>\nFrom: me@team\nSubject: Re: bug\n\nThanks\n";
    let tx = store.conn_mut().transaction().unwrap();
    assert_eq!(
        store_sent(&tx, 1, sent.as_bytes(), Utc::now()).unwrap(),
        Stored::Joined(1)
    );
    tx.commit().unwrap();
    let dir_of: String = store
        .conn()
        .query_row(
            "SELECT direction FROM messages WHERE message_id = 'out1@team'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dir_of, "out");
    // The Cc copy arrives by sync with a Received header added: skipped.
    let copy = format!("Received: from relay\n{sent}");
    let s = ing
        .ingest_batch(&mut store, vec![incoming(&copy)], None)
        .unwrap();
    assert_eq!(s.duplicates, 1);
    assert_eq!(count(&store, "messages"), 2);
    // Someone else reusing our reply's Message-ID is kept, not taken for our copy.
    let squat = "Message-ID: <out1@team>\nFrom: eve@evil.test\nSubject: Re: bug\n\nhi\n";
    let s = ing
        .ingest_batch(&mut store, vec![incoming(squat)], None)
        .unwrap();
    assert_eq!(s.new_messages, 1);
}

#[test]
fn cursor_is_committed_with_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let cursor = MailboxCursor {
        mailbox: "INBOX".into(),
        uidvalidity: 7,
        last_uid: 42,
    };
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![incoming("Subject: a\n\nb\n")],
            Some(&cursor),
        )
        .unwrap();
    let st = store.mailbox_state("INBOX").unwrap().unwrap();
    assert_eq!((st.uidvalidity, st.last_uid), (7, 42));
}

/// One row of `messages`: (report, another_sender, notes, received_at, date, date_header).
pub(super) type Row = (
    i64,
    bool,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

pub(super) fn row(store: &Store, message_id: &str, from: &str) -> Row {
    store
        .conn()
        .query_row(
            "SELECT report_id, another_sender, notes, received_at, date, date_header
             FROM messages WHERE message_id = ?1 AND from_addr = ?2",
            [message_id, from],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap()
}

const RITA: &str = "From: Rita Reporter <rita@reporter.test>\nTo: security@example.org\n\
    Message-ID: <report@reporter.test>\nSubject: heap overflow\n\
    Date: Tue, 24 Nov 2026 10:00:00 +0000\n\nDetails.\n";

#[test]
fn a_follow_up_from_another_address_joins_marked_another_sender() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let reply_to: Vec<String> = (0..30).map(|i| format!("x{i}@evil.test")).collect();
    let hijack = format!(
        "From: Rita Reporter <rita@evil.test>\nReply-To: {}\nMessage-ID: <h@evil.test>\n\
         In-Reply-To: <report@reporter.test>\nSubject: Re: heap overflow\n\nSend it here.\n",
        reply_to.join(", ")
    );
    let own = "From: rita@reporter.test\nMessage-ID: <f@reporter.test>\n\
        In-Reply-To: <report@reporter.test>\nSubject: Re: heap overflow\n\nMore.\n";
    let colleague = "From: ada@example.org\nMessage-ID: <c@example.org>\n\
        In-Reply-To: <report@reporter.test>\nSubject: Re: heap overflow\n\nLooking.\n";
    let s = Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![
                incoming(RITA),
                incoming(&hijack),
                incoming(own),
                incoming(colleague),
            ],
            None,
        )
        .unwrap();
    assert_eq!((s.new_messages, s.new_reports), (4, 1));
    let (report, another, notes, ..) = row(&store, "h@evil.test", "rita@evil.test");
    assert_eq!(report, 1);
    assert!(another, "the hijack is marked");
    let notes = notes.unwrap();
    assert!(
        notes.contains("another sender") && notes.contains("rita@reporter.test"),
        "{notes}"
    );
    assert!(!row(&store, "f@reporter.test", "rita@reporter.test").1);
    // Without the team's addresses a colleague is another sender; with them, not.
    assert!(row(&store, "c@example.org", "ada@example.org").1);

    let dir2 = tempfile::tempdir().unwrap();
    let mut store2 = Store::open(&dir2.path().join("s.db")).unwrap();
    let config = crate::core::config::Config::parse(
        "[identity]\nname = \"Ada\"\nemail = \"ada@example.org\"\n",
        &dir2.path().join("config.toml"),
    )
    .unwrap();
    Ingestor::without_classifier()
        .with_config(&config)
        .ingest_batch(&mut store2, vec![incoming(RITA), incoming(colleague)], None)
        .unwrap();
    assert!(!row(&store2, "c@example.org", "ada@example.org").1);
}

#[test]
fn a_squatted_message_id_never_pulls_the_reporters_mail_into_the_squatters_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let squat = "From: eve@evil.test\nMessage-ID: <same@x.test>\nSubject: hello\n\nfirst\n";
    let report = "From: rita@reporter.test\nMessage-ID: <same@x.test>\nSubject: bug\n\nreal\n";
    let follow = "From: rita@reporter.test\nMessage-ID: <f@reporter.test>\n\
        In-Reply-To: <same@x.test>\nReferences: <same@x.test>\nSubject: Re: bug\n\nmore\n";
    let s = Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![incoming(squat), incoming(report), incoming(follow)],
            None,
        )
        .unwrap();
    assert_eq!((s.new_messages, s.new_reports), (3, 2));
    let (real, _, notes, ..) = row(&store, "same@x.test", "rita@reporter.test");
    assert_eq!(real, 2, "the real report is kept apart from the squatter's");
    let notes = notes.unwrap();
    assert!(
        notes.contains("already used") && notes.contains("eve@evil.test"),
        "{notes}"
    );
    let (joined, another, notes, ..) = row(&store, "f@reporter.test", "rita@reporter.test");
    assert_eq!(joined, 2, "the follow-up joins the reporter's own report");
    assert!(!another);
    assert!(notes.unwrap().contains("#1, #2"));
}

#[test]
fn threading_headers_into_two_reports_join_the_earlier_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let a = "From: a@x.test\nMessage-ID: <a@x.test>\nSubject: a\n\na\n";
    let b = "From: a@x.test\nMessage-ID: <b@x.test>\nSubject: b\n\nb\n";
    let both = "From: a@x.test\nMessage-ID: <c@x.test>\nIn-Reply-To: <b@x.test>\n\
        References: <a@x.test> <b@x.test>\nSubject: Re\n\nc\n";
    Ingestor::without_classifier()
        .ingest_batch(
            &mut store,
            vec![incoming(a), incoming(b), incoming(both)],
            None,
        )
        .unwrap();
    let (report, another, notes, ..) = row(&store, "c@x.test", "a@x.test");
    assert_eq!(report, 1);
    assert!(!another);
    assert!(notes.unwrap().contains("joined the earliest, #1"));
}

#[test]
fn a_batch_is_searchable_and_written_to_the_index_as_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let ing = Ingestor::without_classifier();
    let batch: Vec<_> = (0..40)
        .map(|i| {
            incoming(&format!(
                "Message-ID: <m{i}@x>\nFrom: r{i}@example.org\nSubject: crash number{i}\n\nheap overflow in parser{i}\n"
            ))
        })
        .collect();
    ing.ingest_batch(&mut store, batch, None).unwrap();
    // Every message of the batch is found by its subject, sender and body words.
    for i in [0, 17, 39] {
        for term in [
            format!("number{i}"),
            crate::core::store::search_terms::fts_query(&format!("r{i}@example.org")).unwrap(),
            format!("parser{i}"),
        ] {
            let found: Vec<i64> = store
                .conn()
                .prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1")
                .unwrap()
                .query_map([&term], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let expected: i64 = store
                .conn()
                .query_row(
                    "SELECT id FROM messages WHERE message_id = ?1",
                    [format!("m{i}@x")],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(found, vec![expected], "{term}");
        }
    }
    // Indexed one message at a time between the messages' inserts, the batch made one
    // segment per message (each insert's savepoint flushes FTS5), which the index then
    // merged again at a third of storing's cost.
    let segments: i64 = store
        .conn()
        .query_row(
            "SELECT count(DISTINCT segid) FROM messages_fts_idx",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(segments, 1, "a 40-message batch left {segments} segments");
}

#[test]
fn a_store_from_before_the_binary_hash_keeps_recognising_its_mail() {
    use crate::core::parse::content_hash;
    use crate::core::store::MIGRATIONS;
    use crate::core::team::event::ReportRef;
    use crate::core::team::report_ref::{report_ref, resolve};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    // No Message-ID: the team names this report by its content hash.
    let mail = "From: r@example.org\nSubject: no id\n\nheap overflow\n";
    let ing = Ingestor::without_classifier();
    // Found by what it does, not by its number (the list is renumbered at merges).
    let migration = MIGRATIONS
        .iter()
        .position(|m| m.contains("SET content_hash = unhex(content_hash)"))
        .unwrap();
    {
        let mut store = Store::open(&path).unwrap();
        ing.ingest_batch(&mut store, vec![incoming(mail)], None)
            .unwrap();
        // As the store was before: 64 hex characters, before that migration.
        let c = store.conn();
        c.execute_batch("UPDATE messages SET content_hash = lower(hex(content_hash))")
            .unwrap();
        crate::core::store::rewind_to(c, migration as i64);
    }
    let mut store = Store::open(&path).unwrap();
    let stored = |store: &Store| -> (String, Vec<u8>) {
        store
            .conn()
            .query_row(
                "SELECT typeof(content_hash), content_hash FROM messages",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    let digest = crate::core::parse::content_digest(mail.as_bytes()).to_vec();
    assert_eq!(stored(&store), ("blob".to_string(), digest.clone()));
    // Run again, the migration changes nothing.
    store.conn().execute_batch(MIGRATIONS[migration]).unwrap();
    assert_eq!(stored(&store), ("blob".to_string(), digest));

    // The same mail synced again (with CRLF line endings) is still a duplicate.
    let again = ing
        .ingest_batch(
            &mut store,
            vec![incoming(&mail.replace('\n', "\r\n"))],
            None,
        )
        .unwrap();
    assert_eq!(again.duplicates, 1);
    assert_eq!(count(&store, "messages"), 1);

    // Other desks still name and find the report by the hash in hex.
    let hex = content_hash(mail.as_bytes());
    assert_eq!(
        report_ref(store.conn(), 1).unwrap(),
        Some(ReportRef::ContentHash(hex.clone()))
    );
    assert_eq!(
        resolve(store.conn(), &ReportRef::ContentHash(hex)).unwrap(),
        Some(1)
    );
}

#[test]
fn the_report_keeps_its_reasons_and_its_later_mail_stores_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let ing = Ingestor::from_store(&mut store, None).unwrap();
    let first = "Message-ID: <a1@x>\nFrom: r@example.org\nSubject: XSS in login form\n\nThe login page reflects the next parameter: <script>alert(1)</script>. Steps to reproduce attached.\n";
    let reply = "Message-ID: <a2@x>\nIn-Reply-To: <a1@x>\nFrom: r@example.org\nSubject: Re: XSS in login form\n\nAny update? The payload still works on the latest version.\n";
    ing.ingest_batch(&mut store, vec![incoming(first), incoming(reply)], None)
        .unwrap();
    let c = store.conn();
    let report: String = c
        .query_row("SELECT reasons FROM reports", [], |r| r.get(0))
        .unwrap();
    assert!(!crate::core::store::reasons::decode(&report).is_empty());
    let kept: i64 = c
        .query_row(
            "SELECT count(*) FROM messages WHERE reasons IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((count(&store, "messages"), kept), (2, 0));
}

#[test]
fn signed_mail_read_without_a_keyring_is_not_stored_twice_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let signed = "Message-ID: <s1@x>\nFrom: r@example.org\nSubject: signed report\n\n\
                  -----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n\
                  The tarfile filter lets a symlink escape.\n\
                  -----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAdFiEEAAAA\n=abcd\n\
                  -----END PGP SIGNATURE-----\n";
    Ingestor::without_classifier()
        .ingest_batch(&mut store, vec![incoming(signed)], None)
        .unwrap();
    let (body, pgp, report): (String, String, i64) = store
        .conn()
        .query_row("SELECT body, pgp, report_id FROM messages", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    // No [pgp] section: the text is the raw message's, so only `raw` keeps it.
    assert_eq!(body, "");
    assert!(pgp.contains(r#""text_as_received":true"#), "{pgp}");
    let detail = crate::core::triage::report_detail(
        &store,
        report,
        &crate::core::config::ClockConfig::default(),
        chrono::Utc::now(),
    )
    .unwrap();
    let shown = &detail.messages[0];
    assert!(
        shown
            .body
            .contains("The tarfile filter lets a symlink escape."),
        "{}",
        shown.body
    );
    assert_eq!(
        shown.body,
        crate::core::store::body::decode(signed.as_bytes())
    );
    // The OpenPGP state reads as before: the key is not part of it.
    assert_eq!(shown.pgp, crate::core::pgp::PgpInfo::default());
    assert!(shown
        .parse_notes
        .iter()
        .any(|n| n.starts_with("signed, signature not checked")));
}

/// A store from before whose `Authentication-Results` was checked keeps its verdicts, and
/// shows them as unverified, saying why; mail that comes in afterwards says whose it is.
#[test]
fn verdicts_stored_before_the_authserv_check_are_shown_unverified() {
    use crate::core::config::ClockConfig;
    use crate::core::store::MIGRATIONS;
    use crate::core::triage::view::report_detail;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mail = |id: &str| {
        format!("Authentication-Results: mx.example.org; dmarc=pass\nFrom: r@example.org\nMessage-ID: <{id}>\nSubject: s\n\nheap overflow\n")
    };
    let migration = MIGRATIONS
        .iter()
        .position(|m| m.contains("ADD COLUMN auth_trusted"))
        .unwrap();
    {
        let mut store = Store::open(&path).unwrap();
        Ingestor::without_classifier()
            .ingest_batch(&mut store, vec![incoming(&mail("old@x"))], None)
            .unwrap();
        crate::core::store::rewind_to(store.conn(), migration as i64);
    }
    let mut store = Store::open(&path).unwrap();
    let config = crate::core::config::Config::parse(
        "[identity]\nname = \"A\"\nemail = \"a@example.org\"\n[sync]\nauthserv_id = \"mx.example.org\"\n",
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    Ingestor::without_classifier()
        .with_config(&config)
        .ingest_batch(&mut store, vec![incoming(&mail("new@x"))], None)
        .unwrap();
    let line = |report| {
        let d = report_detail(&store, report, &ClockConfig::default(), Utc::now()).unwrap();
        (d.messages[0].auth.dmarc.clone(), d.messages[0].auth.line())
    };
    let (dmarc, old) = line(1);
    assert_eq!(dmarc.as_deref(), Some("pass"));
    assert_eq!(
        old.as_deref(),
        Some("Auth UNVERIFIED: DMARC pass (stored before the authserv-id check)")
    );
    assert_eq!(
        line(2).1.as_deref(),
        Some("Auth: DMARC pass (recorded by mx.example.org)")
    );
}
