//! Raw messages through the store: byte-exact in, byte-exact out.

use super::*;
use crate::core::ingest::{Ingestor, RawIncoming};
use crate::core::store::Store;

/// Awkward but real messages: CRLF, bare LF, 8-bit, NUL bytes, a 5 MB attachment, and
/// one whose first bytes are the zstd magic.
fn messages() -> Vec<Vec<u8>> {
    let mut big = b"Message-ID: <big@x>\r\nSubject: big\r\n\r\n".to_vec();
    big.extend((0..5 * 1024 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let mut magic = MAGIC.to_vec();
    magic.extend_from_slice(b"Subject: magic\n\nnot a frame\n");
    vec![
        b"Message-ID: <crlf@x>\r\nSubject: crlf\r\n\r\nline one\r\nline two\r\n".to_vec(),
        b"Message-ID: <lf@x>\nSubject: lf\n\nno final newline".to_vec(),
        b"Message-ID: <8bit@x>\nSubject: caf\xe9\nContent-Transfer-Encoding: 8bit\n\n\xff\xfe\x80 gr\xc3\xbc\xc3\x9fe\n".to_vec(),
        b"Message-ID: <nul@x>\nSubject: nul\n\nbefore\0after\0\0\n".to_vec(),
        big,
        magic,
    ]
}

#[test]
fn pack_then_unpack_is_byte_exact() {
    for m in messages() {
        let packed = pack(&m);
        assert!(packed.starts_with(&MAGIC));
        assert_eq!(unpack(packed).unwrap(), m);
    }
}

#[test]
fn mail_is_stored_smaller_than_it_arrived() {
    let m = "Received: from mx.example.org by mail.example.org\n".repeat(40);
    let packed = pack(m.as_bytes());
    assert!(
        packed.len() * 4 < m.len(),
        "{} of {}",
        packed.len(),
        m.len()
    );
}

#[test]
fn a_damaged_frame_is_an_error_not_wrong_bytes() {
    let mut packed = pack(&messages()[0]);
    let n = packed.len();
    packed.truncate(n - 3);
    let err = unpack(packed).unwrap_err().to_string();
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn a_frame_says_the_size_of_the_message_it_holds_without_unpacking() {
    for m in messages() {
        assert_eq!(unpacked_len(&pack(&m)), Some(m.len() as i64));
    }
    // A value stored before compression is its own size.
    let old = b"Subject: stored before compression\n\nbody\n";
    assert_eq!(unpacked_len(old), Some(old.len() as i64));
    // A frame cut inside its header says nothing rather than a wrong size.
    assert_eq!(unpacked_len(&pack(&messages()[0])[..5]), None);
}

#[test]
fn ingested_messages_read_back_byte_exact_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let all = messages();
    let batch = all.iter().map(|m| RawIncoming::file(m.clone())).collect();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    let stored: Vec<(Vec<u8>, i64)> = store
        .conn()
        .prepare("SELECT raw, length(raw) FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, RawMessage>(0)?.0, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(stored.len(), all.len());
    for ((back, on_disk), m) in stored.iter().zip(&all) {
        assert_eq!(back, m);
        assert!(*on_disk as usize <= m.len() + 16);
    }
}

#[test]
fn the_migration_packs_an_old_store_and_keeps_every_message_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let all = messages();
    {
        // A store as the version before this migration left it: raw bytes as they arrived.
        let store = Store::open(&path).unwrap();
        let conn = store.conn();
        conn.execute(
            "INSERT INTO reports (id, created_at, updated_at) VALUES (1, 't', 't')",
            [],
        )
        .unwrap();
        for (i, m) in all.iter().enumerate() {
            conn.execute(
                "INSERT INTO messages (report_id, content_hash, received_at, raw) VALUES (1, ?1, 't', ?2)",
                rusqlite::params![format!("h{i}"), m],
            )
            .unwrap();
        }
        crate::core::store::rewind_to(conn, super::super::migrations::raw_packed_from() - 1);
    }
    let store = Store::open(&path).unwrap();
    let conn = store.conn();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, super::super::MIGRATIONS.len() as i64);
    let rows: Vec<(Vec<u8>, Vec<u8>)> = conn
        .prepare("SELECT raw, raw FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, RawMessage>(1)?.0)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows.len(), all.len());
    let (mut before, mut after) = (0, 0);
    for ((stored, back), m) in rows.iter().zip(&all) {
        assert!(stored.starts_with(&MAGIC));
        // Including the message that began with the magic itself.
        assert_eq!(back, m);
        before += m.len();
        after += stored.len();
    }
    assert!(after < before, "{after} of {before}");
}

#[test]
fn the_migration_keeps_reasons_once_on_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let store = Store::open(&path).unwrap();
        let c = store.conn();
        c.execute_batch(
            r#"INSERT INTO reports (id, created_at, updated_at, reasons) VALUES (1, 't', 't', '["a"]');
               INSERT INTO messages (report_id, content_hash, received_at, raw, reasons)
                   VALUES (1, 'h1', 't', x'41', '["a"]'), (1, 'h2', 't', x'42', '["b"]');"#,
        )
        .unwrap();
        crate::core::store::rewind_to(c, super::super::migrations::raw_packed_from());
    }
    let store = Store::open(&path).unwrap();
    let c = store.conn();
    let reasons: Vec<Option<String>> = c
        .prepare("SELECT reasons FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // The opening message's copy is gone (migration 16), and so, since nothing reads it, is
    // a later message's own (migration 23); the report keeps its reasons.
    assert_eq!(reasons, [None, None]);
    let report: String = c
        .query_row("SELECT reasons FROM reports WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(crate::core::store::reasons::decode(&report), ["a"]);
}

#[test]
fn the_migration_drops_bodies_the_raw_message_gives_back_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mail = |text: &str| {
        format!("From: r@example.net\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\n{text}\r\n")
            .into_bytes()
    };
    let (plain, older, signed) = (mail("plain text"), mail("parsed again"), mail("signed"));
    let unopened = mail("signed, read without a keyring");
    let decoded = crate::core::store::body::decode(&plain);
    let as_received = crate::core::store::body::decode(&unopened);
    {
        // As the version before this migration stored them: every body decoded and kept.
        let store = Store::open(&path).unwrap();
        let c = store.conn();
        c.execute(
            "INSERT INTO reports (id, created_at, updated_at) VALUES (1, 't', 't')",
            [],
        )
        .unwrap();
        for (i, (raw, body, pgp)) in [
            (&plain, decoded.as_str(), None),
            // An older parser's text, different from today's: kept, it is what was indexed.
            (&older, "what an older parser made of it", None),
            (&signed, "the verified text", Some("{}")),
            // OpenPGP mail whose text is the raw message's (migration 26).
            (
                &unopened,
                as_received.as_str(),
                Some(r#"{"encrypted":false,"signature":"none","signer":null}"#),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            c.execute(
                "INSERT INTO messages (report_id, content_hash, received_at, raw, body, pgp)
                 VALUES (1, ?1, 't', ?2, ?3, ?4)",
                rusqlite::params![format!("h{i}"), super::pack(raw), body, pgp],
            )
            .unwrap();
        }
        // Before the migration that drops derivable bodies.
        let before = crate::core::store::MIGRATIONS
            .iter()
            .position(|m| m.contains("SET body = ''"))
            .unwrap();
        crate::core::store::rewind_to(c, before as i64);
        // Made before stores gave freed pages back.
        c.execute_batch("PRAGMA auto_vacuum = NONE; VACUUM")
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let c = store.conn();
    // Its compaction after the migrations makes it one that does.
    let auto_vacuum: i64 = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(auto_vacuum, 2, "incremental");
    let rows: Vec<(String, String)> = c
        .prepare("SELECT body, secdesk_body(body, pgp, raw) FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows[0], (String::new(), decoded.clone()));
    assert!(decoded.contains("plain text"), "{decoded:?}");
    let kept = "what an older parser made of it".to_string();
    assert_eq!(rows[1], (kept.clone(), kept));
    let verified = "the verified text".to_string();
    assert_eq!(rows[2], (verified.clone(), verified));
    assert_eq!(rows[3], (String::new(), as_received));
    let pgp: String = c
        .query_row("SELECT pgp FROM messages WHERE id = 4", [], |r| r.get(0))
        .unwrap();
    let info: crate::core::pgp::PgpInfo = serde_json::from_str(&pgp).unwrap();
    assert_eq!(info, crate::core::pgp::PgpInfo::default(), "{pgp}");
}

#[test]
fn a_kept_openpgp_body_whose_raw_frame_is_damaged_stays_and_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mail = b"From: r@example.net\r\nSubject: s\r\n\r\nsigned text\r\n";
    let text = crate::core::store::body::decode(mail);
    {
        let store = Store::open(&path).unwrap();
        let c = store.conn();
        c.execute(
            "INSERT INTO reports (id, created_at, updated_at) VALUES (1, 't', 't')",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO messages (report_id, content_hash, received_at, raw, body, pgp)
             VALUES (1, 'h', 't', ?1, ?2, '{\"encrypted\":false}')",
            rusqlite::params![&super::pack(mail)[..12], text],
        )
        .unwrap();
        // Before the migration that drops OpenPGP bodies the raw message gives back.
        let before = crate::core::store::MIGRATIONS
            .iter()
            .position(|m| m.contains("text_as_received"))
            .unwrap();
        crate::core::store::rewind_to(c, before as i64);
    }
    let store = Store::open(&path).unwrap();
    let (body, shown): (String, String) = store
        .conn()
        .query_row(
            "SELECT body, secdesk_body(body, pgp, raw) FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (body.as_str(), shown.as_str()),
        (text.as_str(), text.as_str())
    );
}

/// A store holding `mail`, whose message `<a@x>` then had its raw frame cut short, as a bad
/// disk or an outside write would leave it (the store itself stays sound).
fn store_with_a_cut_frame(mail: Vec<RawIncoming>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    Ingestor::without_classifier()
        .ingest_batch(&mut store, mail, None)
        .unwrap();
    store
        .conn()
        .execute(
            "UPDATE messages SET raw = substr(raw, 1, 12) WHERE message_id = 'a@x'",
            [],
        )
        .unwrap();
    (dir, store)
}

#[test]
fn a_damaged_raw_frame_is_shown_as_damaged_and_leaves_every_report_readable() {
    let mail = |id: &str, text: &str| {
        RawIncoming::file(format!(
            "From: r{id}@example.net\nTo: security@example.org\nMessage-ID: <{id}@x>\n\
             Subject: tarfile {id}\n\n{text}\n"
        ))
    };
    let (_dir, store) = store_with_a_cut_frame(vec![
        mail(
            "a",
            "tarfile extractall follows symlinks outside the target",
        ),
        mail("b", "tarfile extractall writes through a symlink member"),
    ]);
    let detail = |id| {
        crate::core::triage::report_detail(
            &store,
            id,
            &crate::core::config::ClockConfig::default(),
            chrono::Utc::now(),
        )
    };
    let damaged = detail(1).expect("a report with a damaged message still opens");
    let m = &damaged.messages[0];
    assert_eq!((m.subject.as_str(), m.body.as_str()), ("tarfile a", ""));
    assert!(
        m.parse_notes
            .iter()
            .any(|n| n.contains("damaged") && n.contains("secdesk check")),
        "{:?}",
        m.parse_notes
    );
    // The other report, and its list of similar earlier reports (which reads every
    // earlier report's text), are not held hostage by the damaged one.
    let other = detail(2).unwrap();
    assert_eq!(other.messages[0].to, ["security@example.org"]);
    assert!(other.messages[0].body.contains("symlink member"));
    crate::core::classify::similar::similar_reports(store.conn(), 2)
        .expect("similar reports skip a message whose text cannot be read");
}

#[test]
fn a_report_with_a_damaged_message_can_still_be_marked_and_learns_from_the_rest() {
    let mail = |id: &str, extra: &str| {
        RawIncoming::file(format!(
            "From: seller@spam.example\nMessage-ID: <{id}@x>\n{extra}Subject: cheap pills\n\n\
             buy cheap pills now\n"
        ))
    };
    // The thread's first message is the one cut short.
    let (_dir, mut store) =
        store_with_a_cut_frame(vec![mail("a", ""), mail("b", "In-Reply-To: <a@x>\n")]);
    let req = crate::core::triage::Request::new("moderator@example.org");
    crate::core::triage::mark(&mut store, &req, 1, crate::core::model::Class::Spam, None)
        .expect("a person's class change is made though one message cannot be read");
    let (state, trained): (String, i64) = store
        .conn()
        .query_row(
            "SELECT (SELECT state FROM reports WHERE id = 1),
                    (SELECT count(*) FROM classify_trained WHERE label = 'spam')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // Closed as spam; the readable message was learned from, the damaged one skipped.
    assert_eq!((state.as_str(), trained), ("spam", 1));
}
