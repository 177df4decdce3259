//! The store file before it is trusted: modes, identity, old stores, damage, salvage.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rusqlite::Connection;

use super::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A secdesk store as the release before this one left it: schema 6, no application id.
fn store_at_version_6(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    for (i, sql) in MIGRATIONS.iter().take(6).enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
    }
    conn
}

#[test]
fn a_loose_store_is_tightened_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(store.notices().len(), 1, "{:?}", store.notices());
    assert!(
        store.notices()[0].contains("mode 0644"),
        "{:?}",
        store.notices()
    );
    drop(store);
    assert!(Store::open(&path).unwrap().notices().is_empty());
}

#[test]
fn a_foreign_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat');")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().unwrap().to_string();
    assert!(err.contains("is not a secdesk store"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file was changed"
    );

    // Another program's marked database, even one with our table names.
    let marked = dir.path().join("marked.db");
    let conn = store_at_version_6(&marked);
    conn.pragma_update(None, "application_id", 0x1234_5678)
        .unwrap();
    drop(conn);
    let err = Store::open(&marked).err().unwrap().to_string();
    assert!(err.contains("another application's"), "{err}");

    // Not SQLite at all.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a database at all\n").unwrap();
    let err = Store::open(&text).err().unwrap().to_string();
    assert!(err.contains("not an SQLite database"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "hello, this is not a database at all\n"
    );
}

#[test]
fn an_old_store_is_marked_and_migrated_keeping_keys_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let conn = store_at_version_6(&path);
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO reports (id, created_at, updated_at) VALUES (1, 't', 't'), (2, 't', 't'), (3, 't', 't');
         INSERT INTO messages (report_id, content_hash, received_at, raw) VALUES (1, 'h1', 't', x'00'), (2, 'h2', 't', x'00');
         INSERT INTO notes (report_id, author, at, text) VALUES (2, 'me', 't', 'kept');
         INSERT INTO outbox (report_id, message_id, actor, created_at, subject, envelope_from,
             recipients, draft, raw, next_attempt_at)
         VALUES (3, 'm@x', 'me', 't', 's', 'me@x', '[]', '{}', x'00', 't');
         DELETE FROM reports WHERE id = 3;",
    )
    .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    let c = store.conn();
    let app: i32 = c
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app, file::APPLICATION_ID);
    let sql: String = c
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'reports'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("AUTOINCREMENT"), "{sql}");
    let indexes: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reports' AND sql IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Migration 7's eight, less the two single-column ones migration 18 drops.
    assert_eq!(indexes, 6);
    // Rows and references survived; foreign keys are enforced again.
    let notes: i64 = c
        .query_row(
            "SELECT count(*) FROM notes n JOIN reports r ON r.id = n.report_id",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notes, 1);
    assert!(c
        .execute(
            "INSERT INTO notes (report_id, author, at, text) VALUES (99, 'me', 't', 'x')",
            []
        )
        .is_err());
    // Report 3 is gone but its outbox row remembers it: the next report is #4, not #3.
    c.execute(
        "INSERT INTO reports (created_at, updated_at) VALUES ('t', 't')",
        [],
    )
    .unwrap();
    assert_eq!(c.last_insert_rowid(), 4);
}

/// Overwrites a page in the middle of the file with garbage (not the header, not page 1).
fn damage_page(path: &Path, page_from_end: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let len = std::fs::metadata(path).unwrap().len();
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(len - page_from_end * 16384))
        .unwrap();
    f.write_all(&[0xa5; 16384]).unwrap();
}

/// A store with `n` reports of one message each, checkpointed into the main file.
fn store_with_reports(path: &Path, n: i64) {
    let store = Store::open(path).unwrap();
    let tx = store.conn();
    for i in 1..=n {
        tx.execute(
            "INSERT INTO reports (created_at, updated_at) VALUES ('t', 't')",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO messages (report_id, content_hash, received_at, subject, body, raw)
             VALUES (?1, ?2, 't', 'subject ' || ?1, ?3, zeroblob(3000))",
            rusqlite::params![i, format!("h{i}"), "body ".repeat(200)],
        )
        .unwrap();
    }
    tx.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

#[test]
fn a_damaged_store_opens_read_only_and_is_salvaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    store_with_reports(&path, 300);
    damage_page(&path, 40);

    let err = Store::open(&path).err().unwrap().to_string();
    assert!(err.contains("is damaged"), "{err}");
    assert!(err.contains("secdesk backup"), "{err}");
    let store = Store::open_for_reading(&path).unwrap();
    assert!(store.damage().is_some());
    assert!(store
        .conn()
        .execute(
            "INSERT INTO reports (created_at, updated_at) VALUES ('t', 't')",
            []
        )
        .is_err());

    let copy = dir.path().join("copy.db");
    let report = salvage::salvage(&store, &copy).unwrap();
    let messages = report
        .tables
        .iter()
        .find(|t| t.table == "messages")
        .unwrap();
    assert!(messages.lost > 0 && messages.lost < 50, "{report:?}");
    assert_eq!(messages.copied + messages.lost, 300, "{report:?}");
    let saved = Store::open(&copy).unwrap();
    assert!(saved.damage().is_none());
    assert_eq!(mode(&copy), 0o600);
    let n: i64 = saved
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as u64, messages.copied);
    // The search index was rebuilt from what was saved.
    let hits: i64 = saved
        .conn()
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'subject'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, n);
    // Messages were lost, so the next sync fetches the mailbox again.
    let cursors: i64 = saved
        .conn()
        .query_row("SELECT count(*) FROM mailbox_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursors, 0);
}

#[test]
fn a_backup_is_a_whole_private_copy_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    store_with_reports(&path, 20);
    let store = Store::open(&path).unwrap();
    let copy = dir.path().join("b.db");
    assert!(store.backup_to(&copy).unwrap() > 0);
    assert_eq!(mode(&copy), 0o600);
    let n: i64 = Store::open(&copy)
        .unwrap()
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 20);
    assert!(store.backup_to(&copy).is_err());
}

#[test]
fn a_damaged_store_from_before_packing_is_salvaged_byte_exact() {
    use super::raw::RawMessage;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let original = |i: i64| {
        // Every 7th one starts with the zstd magic, as a hostile message could.
        let mut m = if i % 7 == 0 {
            vec![0x28, 0xb5, 0x2f, 0xfd]
        } else {
            Vec::new()
        };
        m.extend(
            format!(
                "Subject: report {i}\r\n\r\n\0\u{e9}{}\r\n",
                "x".repeat(3000 + i as usize)
            )
            .bytes(),
        );
        m
    };
    {
        let store = Store::open(&path).unwrap();
        let c = store.conn();
        for i in 1..=300 {
            c.execute(
                "INSERT INTO reports (created_at, updated_at) VALUES ('t', 't')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO messages (report_id, content_hash, received_at, subject, raw) VALUES (?1, ?2, 't', 'subject', ?3)",
                rusqlite::params![i, format!("{i:064x}"), original(i)],
            )
            .unwrap();
        }
        crate::core::store::rewind_to(c, migrations::raw_packed_from() - 1);
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    damage_page(&path, 40);
    let store = Store::open_for_reading(&path).unwrap();
    assert!(store.damage().is_some());
    let copy = dir.path().join("copy.db");
    salvage::salvage(&store, &copy).unwrap();
    let saved = Store::open(&copy).unwrap();
    let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = saved
        .conn()
        .prepare("SELECT report_id, raw, content_hash FROM messages")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get::<_, RawMessage>(1)?.0, r.get(2)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(rows.len() > 250, "{}", rows.len());
    for (i, raw, hash) in rows {
        assert_eq!(raw, original(i), "message {i}");
        // The hex hash of the old store, kept as the bytes this schema holds.
        let mut bytes = [0u8; 32];
        bytes[24..].copy_from_slice(&(i as u64).to_be_bytes());
        assert_eq!(hash, bytes, "message {i}");
    }
}

#[test]
fn a_cleanly_closed_store_is_trusted_until_something_else_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    store_with_reports(&path, 300);
    // Closed by secdesk after its last write: reopening skips the full check.
    assert!(stamp::unchanged_since_clean_close(&path));
    let store = Store::open(&path).unwrap();
    assert!(store.damage().is_none());
    // The open did not run `PRAGMA quick_check` (which reads every page).
    assert!(!file::checked_before(&path));
    drop(store);
    assert!(stamp::unchanged_since_clean_close(&path));

    // Another program writes the file: the stamp no longer matches, the check runs and
    // finds the damage.
    damage_page(&path, 40);
    assert!(!stamp::unchanged_since_clean_close(&path));
    let err = Store::open(&path).err().unwrap().to_string();
    assert!(err.contains("is damaged"), "{err}");
    // A damaged store is never stamped, so every later open checks it again.
    drop(Store::open_for_reading(&path).unwrap());
    assert!(!stamp::unchanged_since_clean_close(&path));
    assert!(Store::open(&path).is_err());
}

#[test]
fn a_store_left_without_a_clean_close_or_replaced_is_checked_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    store_with_reports(&path, 20);
    assert!(stamp::unchanged_since_clean_close(&path));

    // A process killed while it held the store: its write is in the WAL, never closed.
    let store = Store::open(&path).unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO reports (created_at, updated_at) VALUES ('t', 't')",
            [],
        )
        .unwrap();
    std::mem::forget(store);
    assert!(!stamp::unchanged_since_clean_close(&path));

    // A copy put in its place (another inode), even one of the same bytes.
    let other = dir.path().join("t.db");
    store_with_reports(&other, 20);
    let copy = dir.path().join("copy.db");
    std::fs::copy(&other, &copy).unwrap();
    std::fs::rename(&copy, &other).unwrap();
    assert!(!stamp::unchanged_since_clean_close(&other));
    drop(Store::open(&other).unwrap());
    assert!(stamp::unchanged_since_clean_close(&other));
}

#[test]
fn a_store_reported_corrupt_is_checked_in_full_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    store_with_reports(&path, 20);
    assert!(stamp::unchanged_since_clean_close(&path));
    // SQLite said "corrupt" while the store was in use (a page read went wrong).
    let corrupt = StoreError::Sql(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
        None,
    ));
    let line = describe_error(&corrupt, &path).unwrap();
    assert!(line.contains("is damaged"), "{line}");
    assert!(!stamp::unchanged_since_clean_close(&path));
    // Closing it again in this process does not make it trusted again.
    drop(Store::open(&path).unwrap());
    assert!(!stamp::unchanged_since_clean_close(&path));
}
