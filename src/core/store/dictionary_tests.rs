//! The dictionary path: trained once the store has enough mail, named by every frame packed
//! with it, and every message still byte-exact, before, during and after re-packing.

use super::*;
use crate::core::ingest::{Ingestor, RawIncoming};
use crate::core::store::raw::{pack, RawMessage};
use crate::core::store::raw::{pack_with, unpack, unpacked_len};
use crate::core::store::{Store, MIGRATIONS};

/// `n` distinct messages that share what real mail shares (headers, a list footer) and
/// differ in their ids, dates, senders and words.
fn mail(n: usize, salt: u32) -> Vec<Vec<u8>> {
    const WORDS: &[&str] = &[
        "overflow",
        "request",
        "header",
        "parser",
        "crash",
        "token",
        "session",
        "upload",
        "path",
        "traversal",
        "login",
        "admin",
        "cookie",
        "redirect",
        "version",
        "patch",
    ];
    let mut state = 2_463_534_242_u32 ^ salt;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    (0..n)
        .map(|i| {
            let mut body = String::new();
            for _ in 0..(40 + next() % 60) {
                body.push_str(WORDS[(next() % WORDS.len() as u32) as usize]);
                body.push(if next() % 9 == 0 { '\n' } else { ' ' });
            }
            format!(
                "Received: from mx{a}.example.net (mx{a}.example.net [192.0.2.{b}])\r\n\
                 \tby mail.example.org (Postfix) with ESMTPS id {c:08X}\r\n\
                 \tfor <security@example.org>; Tue, 1 Dec 2026 10:{m:02}:00 +0000\r\n\
                 Message-ID: <{salt}.{i}.{c}@example.net>\r\n\
                 From: Reporter {a} <r{a}@example.net>\r\n\
                 To: security@example.org\r\nSubject: report {i}: {w}\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 {body}\r\n-- \r\nsent from the example.net mail service\r\n",
                a = next() % 50,
                b = next() % 250,
                c = next(),
                m = i % 60,
                w = WORDS[i % WORDS.len()],
            )
            .into_bytes()
        })
        .collect()
}

fn ingest(store: &mut Store, messages: &[Vec<u8>]) {
    let batch = messages
        .iter()
        .map(|m| RawIncoming::file(m.clone()))
        .collect();
    Ingestor::without_classifier()
        .ingest_batch(store, batch, None)
        .unwrap();
}

/// Every stored frame with the dictionary id it names (0 for none), and the message read
/// back through the store's reader.
fn frames(store: &Store) -> Vec<(u32, Vec<u8>)> {
    store
        .conn()
        .prepare("SELECT raw, raw FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            let stored: Vec<u8> = r.get(0)?;
            let id = zstd::zstd_safe::get_dict_id_from_frame(&stored).map_or(0, |id| id.get());
            Ok((id, r.get::<_, RawMessage>(1)?.0))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn dictionary_ids(store: &Store) -> Vec<u32> {
    store
        .conn()
        .prepare("SELECT id FROM raw_dictionaries ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn stored_bytes(store: &Store) -> i64 {
    store
        .conn()
        .query_row("SELECT sum(length(raw)) FROM messages", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_batch_that_reaches_enough_mail_trains_and_every_message_stays_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let first = mail(TRAIN_AFTER as usize - 1, 1);
    ingest(&mut store, &first);
    assert!(dictionary_ids(&store).is_empty(), "trained too early");
    let before = stored_bytes(&store);
    assert!(frames(&store).iter().all(|(id, _)| *id == 0));

    // The batch that brings the store to TRAIN_AFTER, then one after training.
    let second = mail(1, 2);
    ingest(&mut store, &second);
    let ids = dictionary_ids(&store);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0] >= FIRST_PRIVATE_ID, "{}", ids[0]);
    let third = mail(50, 3);
    ingest(&mut store, &third);

    let all: Vec<Vec<u8>> = first.iter().chain(&second).chain(&third).cloned().collect();
    let back = frames(&store);
    assert_eq!(back.len(), all.len());
    for ((id, m), want) in back.iter().zip(&all) {
        assert_eq!(*id, ids[0], "a frame packed without the dictionary");
        assert_eq!(m, want);
    }
    let first_after: i64 = store
        .conn()
        .query_row(
            "SELECT sum(length(raw)) FROM (SELECT raw FROM messages ORDER BY id LIMIT ?1)",
            [first.len() as i64],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        first_after * 10 < before * 8,
        "re-packing saved too little: {before} -> {first_after} bytes"
    );

    // Another connection (a second desk, or the store opened again) reads them too.
    drop(store);
    let again = Store::open(&dir.path().join("s.db")).unwrap();
    assert_eq!(frames(&again).len(), all.len());
}

#[test]
fn an_old_store_is_repacked_on_open_and_a_frame_without_a_dictionary_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let all = mail(TRAIN_AFTER as usize + 20, 4);
    {
        // As the version before migration 20 left a store: every frame without a dictionary.
        let store = Store::open(&path).unwrap();
        let c = store.conn();
        c.execute(
            "INSERT INTO reports (id, created_at, updated_at) VALUES (1, 't', 't')",
            [],
        )
        .unwrap();
        for (i, m) in all.iter().enumerate() {
            c.execute(
                "INSERT INTO messages (report_id, content_hash, received_at, raw)
                 VALUES (1, ?1, 't', ?2)",
                rusqlite::params![format!("h{i}"), pack(m)],
            )
            .unwrap();
        }
        // One frame that is damaged: left as it is, not a store that no longer opens.
        c.execute(
            "INSERT INTO messages (report_id, content_hash, received_at, raw)
             VALUES (1, 'damaged', 't', ?1)",
            [&pack(&all[0])[..12]],
        )
        .unwrap();
        c.execute_batch("DROP TABLE raw_dictionaries").unwrap();
        let before = MIGRATIONS
            .iter()
            .position(|m| m.contains("CREATE TABLE IF NOT EXISTS raw_dictionaries"))
            .unwrap();
        crate::core::store::rewind_to(c, before as i64);
    }
    let store = Store::open(&path).unwrap();
    let ids = dictionary_ids(&store);
    assert_eq!(ids.len(), 1);
    let back: Vec<(u32, Vec<u8>)> = store
        .conn()
        .prepare("SELECT raw FROM messages WHERE content_hash != 'damaged' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|stored| {
            let stored = stored.unwrap();
            let id = zstd::zstd_safe::get_dict_id_from_frame(&stored).map_or(0, |id| id.get());
            (id, unpack(stored).unwrap())
        })
        .collect();
    assert_eq!(back.len(), all.len());
    for ((id, m), want) in back.iter().zip(&all) {
        assert_eq!(*id, ids[0]);
        assert_eq!(m, want);
    }
    let damaged: Vec<u8> = store
        .conn()
        .query_row(
            "SELECT raw FROM messages WHERE content_hash = 'damaged'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(damaged, pack(&all[0])[..12]);

    // A frame packed without a dictionary (before training) reads beside the others.
    let plain = pack(&all[1]);
    assert_eq!(zstd::zstd_safe::get_dict_id_from_frame(&plain), None);
    assert_eq!(unpack(plain).unwrap(), all[1]);
}

#[test]
fn a_frame_whose_dictionary_is_unknown_is_an_error_naming_it_never_wrong_bytes() {
    let samples = mail(300, 5);
    let mut bytes = train(&samples).expect("enough to train on");
    // A dictionary this process never registered: an id no store has.
    let id: u32 = 0x7fff_0001;
    bytes[4..8].copy_from_slice(&id.to_le_bytes());
    let unknown = Dictionary::new(id, &bytes);
    let frame = pack_with(&samples[0], Some(&unknown));
    let err = unpack(frame.clone()).unwrap_err().to_string();
    assert!(
        err.contains("dictionary 2147418113") && err.contains("secdesk check"),
        "{err}"
    );
    // Once it is known, the same frame reads byte-exact.
    register(&bytes).unwrap();
    assert_eq!(unpack(frame).unwrap(), samples[0]);
}

#[test]
fn training_is_deterministic_and_names_the_dictionary_by_its_content() {
    let samples = mail(300, 6);
    let a = train(&samples).unwrap();
    let b = train(&samples).unwrap();
    assert_eq!(a, b);
    let other = train(&mail(300, 7)).unwrap();
    let id = |d: &[u8]| zstd::zstd_safe::get_dict_id_from_dict(d).unwrap().get();
    assert_ne!(id(&a), id(&other));
    assert!(train(&mail(2, 8)).is_none(), "two messages are too few");
}

#[test]
fn training_stopped_half_way_leaves_the_store_as_it_was_and_the_next_try_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let all = mail(TRAIN_AFTER as usize, 9);
    // Re-packing stops at the 500th message, as a kill would: its transaction rolls back.
    store
        .conn()
        .execute_batch(
            "CREATE TRIGGER stop BEFORE UPDATE OF raw ON messages WHEN NEW.id = 500
             BEGIN SELECT RAISE(ABORT, 'stopped half way'); END;",
        )
        .unwrap();
    let batch = all.iter().map(|m| RawIncoming::file(m.clone())).collect();
    // The batch is stored and the ingest succeeds: training only saves space.
    let summary = Ingestor::without_classifier()
        .ingest_batch(&mut store, batch, None)
        .unwrap();
    assert_eq!(summary.new_messages, all.len());
    // The training left nothing behind.
    assert!(dictionary_ids(&store).is_empty());
    let back = frames(&store);
    assert_eq!(back.len(), all.len());
    for ((id, m), want) in back.iter().zip(&all) {
        assert_eq!(*id, 0);
        assert_eq!(m, want);
    }

    // Opening it while re-packing still fails says so and opens all the same.
    drop(store);
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    assert!(dictionary_ids(&store).is_empty());
    assert!(
        store.notices().iter().any(|n| n.contains("not re-packed")
            && n.contains("stopped half way")
            && n.contains("nothing is lost")),
        "{:?}",
        store.notices()
    );
    store.conn().execute_batch("DROP TRIGGER stop").unwrap();
    drop(store);
    // The next open trains and re-packs.
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let ids = dictionary_ids(&store);
    assert_eq!(ids.len(), 1);
    for ((id, m), want) in frames(&store).iter().zip(&all) {
        assert_eq!(*id, ids[0]);
        assert_eq!(m, want);
    }
}

#[test]
fn one_thread_packing_with_two_dictionaries_and_none_in_turn_names_each_right() {
    // The packing context is kept from one message to the next: switching between two
    // stores' dictionaries (tests, salvage) and no dictionary must never pack a frame with
    // the wrong one.
    let samples = mail(300, 9);
    let a = register(&train(&samples).unwrap()).unwrap();
    let b = register(&train(&mail(300, 10)).unwrap()).unwrap();
    assert_ne!(a.id, b.id);
    for (i, raw) in samples.iter().take(12).enumerate() {
        let dict = [Some(&a), Some(&b), None][i % 3];
        let frame = pack_with(raw, dict.map(|d| d.as_ref()));
        let named = zstd::zstd_safe::get_dict_id_from_frame(&frame).map(|id| id.get());
        assert_eq!(named, dict.map(|d| d.id), "message {i}");
        // `store --stats` reads the mail's size from the frame, dictionary or not.
        assert_eq!(unpacked_len(&frame), Some(raw.len() as i64), "message {i}");
        assert_eq!(&unpack(frame).unwrap(), raw, "message {i}");
    }
}
