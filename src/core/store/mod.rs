//! The SQLite store: one file holding raw mail, reports, triage records and the model.
//!
//! The file is private (0600; a looser one is tightened with a notice), marked as secdesk's
//! (`PRAGMA application_id`; another program's database is refused, never migrated) and
//! checked (`PRAGMA quick_check`) on open unless it is exactly as secdesk last closed it
//! cleanly (`stamp`): a damaged store is only opened read-only, for the read commands and
//! `secdesk backup`. WAL mode and a busy timeout let several
//! desks share one database. `errors` turns SQLite's result codes into one line each.

pub mod body;
pub mod dictionary;
mod errors;
pub mod file;
pub mod header_columns;
pub mod inspect;
mod migrations;
pub mod missing;
pub mod queue;
pub mod raw;
pub mod reasons;
pub mod repack;
pub mod reports;
pub mod salvage;
mod search_index;
pub mod search_terms;
pub mod space;
pub mod stamp;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use crate::core::time::{parse_timestamp, timestamp};
pub use errors::{describe_error, describe_error_no_rerun, describe_sqlite, Result, StoreError};
#[cfg(test)]
pub(crate) use migrations::rewind_to;
pub use migrations::MIGRATIONS;

use file::Identity;

/// SQLite's page cache for a bulk write such as a sync (its default is 2 MB). The random
/// keys of the `content_hash` and `message_id` indexes put each new message on a
/// different index page; once those indexes outgrow the cache, every batch reads and
/// rewrites pages it had just evicted, and the cost per message grows with the store
/// (2.2× from 18,750 to 93,750 messages). The cache is a bound, not an allocation: it costs
/// memory only as pages are read.
pub const BULK_PAGE_CACHE_BYTES: i64 = 64 << 20;

/// SQLite's default page cache (`PRAGMA cache_size = -2000`: 2,000 KiB).
pub const DEFAULT_PAGE_CACHE_BYTES: i64 = 2000 << 10;

/// How long a write waits for another writer before giving up with "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open database.
pub struct Store {
    /// First, so that it is closed (and SQLite checkpointed the WAL) before `_stamp_on_close` runs.
    conn: Connection,
    /// Counts `conn` as holding the file, so that nothing in this process opens it any
    /// other way while it is open (`file::Held`); after `conn`, so dropped after it closed.
    _held: file::Held,
    /// Stamps the file as cleanly closed when the store is dropped; `None` when damaged.
    _stamp_on_close: Option<stamp::CleanClose>,
    path: PathBuf,
    /// Why the store is open read-only (what `PRAGMA quick_check` found), if it is.
    damage: Option<String>,
    /// Things done to the file on opening that the user should hear about.
    notices: Vec<String>,
}

/// Where an IMAP mailbox's sync got to (RFC 3501 §2.3.1.1: UIDs are only meaningful within
/// one UIDVALIDITY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// The size in bytes of the store at `path` when opening it will first upgrade it to this
/// version's schema, which for a large store can take a while (rebuilding the search index
/// decodes every message): a front end says so before it opens the store. None for a store
/// that is current, new, missing or unreadable (opening reports those). Read from the
/// file's header (its `user_version`), without SQLite: opening a connection would create
/// the `-wal` and `-shm` files before the store is opened and their modes checked.
pub fn upgrade_pending(path: &Path) -> Option<u64> {
    let header = file::read_header::<64>(path).ok()??;
    if header.len() < 64 || &header[..16] != b"SQLite format 3\0" {
        return None;
    }
    let version = i64::from(u32::from_be_bytes(header[60..64].try_into().ok()?));
    if version == 0 || version >= MIGRATIONS.len() as i64 {
        return None;
    }
    Some(std::fs::metadata(path).ok()?.len())
}

impl Store {
    /// Opens (creating with mode 0600 if needed), checks and migrates the database at `path`,
    /// to read and write. A damaged store is refused ([`StoreError::Damaged`]): nothing is
    /// written to it.
    pub fn open(path: &Path) -> Result<Store> {
        let store = Store::open_for_reading(path)?;
        match store.damage {
            Some(detail) => Err(StoreError::Damaged {
                path: store.path,
                detail,
            }),
            None => Ok(store),
        }
    }

    /// Like [`Store::open`], but a damaged store is opened read-only instead of refused
    /// (see [`Store::damage`]): the read commands still show what it holds.
    pub fn open_for_reading(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                create_private_dir(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let notices = if file::create_private(path)? {
            Vec::new()
        } else {
            file::tighten_modes(path)
        };
        let header = file::check_header(path)?;
        // Before SQLite opens it (opening creates the `-wal` the stamp describes).
        let as_closed = stamp::unchanged_since_clean_close(path);
        let opened = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let held = file::Held::new(path);
        let conn = Connection::open(path).map_err(opened)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(opened)?;
        let identity = file::identify(&conn, path)
            .map_err(|e| file::unreadable_if_corrupt(e, path, header))?;
        if identity != Identity::New && !file::checked_before(path) && !as_closed {
            if let Some(detail) = file::damage(&conn, path)? {
                drop(conn);
                // No stamp, old or new, vouches for a damaged file.
                stamp::suspect(path);
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(opened)?;
                conn.busy_timeout(BUSY_TIMEOUT).map_err(opened)?;
                register_functions(&conn).map_err(opened)?;
                return Ok(Store {
                    conn,
                    _held: held,
                    _stamp_on_close: None,
                    path: path.to_path_buf(),
                    damage: Some(detail),
                    notices,
                });
            }
        }
        let mut store = Store {
            conn,
            _held: held,
            _stamp_on_close: Some(stamp::CleanClose {
                path: path.to_path_buf(),
            }),
            path: path.to_path_buf(),
            damage: None,
            notices,
        };
        store
            .configure(identity == Identity::New)
            .map_err(|e| store.name_file(e))?;
        if identity != Identity::Ours {
            store
                .conn
                .pragma_update(None, "application_id", file::APPLICATION_ID)
                .map_err(opened)?;
        }
        store.migrate()?;
        store.pack_with_dictionary()?;
        Ok(store)
    }

    /// An open-time SQLite error, as [`StoreError::Open`] naming the file.
    fn name_file(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Sql(source) => StoreError::Open {
                path: self.path.clone(),
                source,
            },
            other => other,
        }
    }

    fn configure(&self, new: bool) -> Result<()> {
        register_functions(&self.conn)?;
        // 16 KB pages for a new database (an existing one keeps its size; the pragma is then a
        // no-op). A typical message with its raw bytes fits one page instead of an overflow
        // chain of 4 KB pages: a full sync spent about 15 % less time storing.
        self.conn.pragma_update(None, "page_size", 16384)?;
        // A new database can give freed pages back to the file system without a VACUUM that
        // rewrites it whole (`PRAGMA incremental_vacuum`, after merging the full-text index,
        // core::store::search_index). Only then: on an existing one the pragma takes the write
        // lock (and changes nothing until a VACUUM), which a read-only store or another
        // desk's write would refuse.
        if new {
            self.conn
                .pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    /// Applies the migrations this file has not had, each in its own transaction (a new
    /// store's all in one, [`Store::create_schema`]).
    ///
    /// Foreign keys are off while they run (SQLite cannot switch them inside a transaction,
    /// and rebuilding a table, as for AUTOINCREMENT, needs them off); instead each migration
    /// is checked with `PRAGMA foreign_key_check` before it commits and rolled back if it
    /// broke a reference that was whole before.
    fn migrate(&mut self) -> Result<()> {
        let known = MIGRATIONS.len() as i64;
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.name_file(e.into()))?;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        if found == known {
            return Ok(());
        }
        self.conn
            .pragma_update(None, "foreign_keys", "OFF")
            .map_err(|e| self.name_file(e.into()))?;
        let result = self.apply_migrations(found as usize);
        let restored = self.conn.pragma_update(None, "foreign_keys", "ON");
        result?;
        restored.map_err(|e| self.name_file(e.into()))?;
        if found > 0 && found < migrations::space_freed_by() {
            self.compact_after_packing();
        }
        Ok(())
    }

    /// A new store's schema: every migration in one transaction, so each page is written to
    /// the WAL once (about 1 MB) rather than once per migration (3 MB), which a nearly full
    /// disk may not have room for. False when another desk created it meanwhile (the
    /// version is read again under the write lock, as for each migration).
    fn create_schema(&mut self) -> Result<bool> {
        let path = self.path.clone();
        let named = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let (tx, now) = locked_version(&mut self.conn).map_err(named)?;
        if now > 0 {
            return Ok(false);
        }
        for sql in MIGRATIONS {
            tx.execute_batch(sql).map_err(named)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(named)?;
        tx.commit().map_err(named)?;
        Ok(true)
    }

    /// Trains the store's first dictionary if it is due (core::store::repack; the
    /// dictionaries it has were registered with the store's functions): the re-packing
    /// migration of a store of 1,000 messages or more. The space re-packing frees is given
    /// back (`VACUUM`).
    fn pack_with_dictionary(&mut self) -> Result<()> {
        // Packing with a dictionary only saves space: a failure (a full disk, another desk
        // holding the write lock) must not keep the store from opening. The next open tries
        // again.
        match repack::train_if_due(&mut self.conn) {
            Ok(0) => {}
            Ok(_) => self.compact_after_packing(),
            Err(e) => self.notices.push(format!(
                "the raw messages were not re-packed with a compression dictionary ({e}); nothing is lost, and the next open tries again"
            )),
        }
        Ok(())
    }

    /// Gives the space that packing the raw messages or dropping derivable bodies freed back
    /// to the file system (`VACUUM`, once, after those migrations), with the full-text index
    /// merged into one segment first (core::store::search_index). It needs the store to
    /// itself: when another desk holds it, the free pages stay and later syncs reuse them.
    fn compact_after_packing(&mut self) {
        let compacted = self
            .conn
            .execute_batch(search_index::MERGE)
            .and_then(|()| vacuum(&self.conn));
        if let Err(e) = compacted {
            self.notices.push(format!(
                "the store is now compact, but the file could not be shrunk now ({e}); the freed space is reused by later syncs"
            ));
        }
    }

    fn apply_migrations(&mut self, from: usize) -> Result<()> {
        if from == 0 && self.create_schema()? {
            return Ok(());
        }
        let path = self.path.clone();
        let broken = |tx: &rusqlite::Transaction<'_>| -> rusqlite::Result<i64> {
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
        };
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            let named = |source| StoreError::Open {
                path: path.clone(),
                source,
            };
            // Running a migration another desk ran meanwhile would fail (a column added
            // again) or redo work (the search index rebuilt again).
            let (tx, now) = locked_version(&mut self.conn).map_err(named)?;
            if now > i as i64 {
                continue;
            }
            let before = broken(&tx).map_err(named)?;
            tx.execute_batch(sql).map_err(named)?;
            let after = broken(&tx).map_err(named)?;
            if after > before {
                return Err(StoreError::BrokenReferences {
                    path,
                    added: after - before,
                });
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(named)?;
            tx.commit().map_err(named)?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `PRAGMA quick_check` found when the store was opened read-only because of it.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// What was done to the file on opening that the user should hear about (a mode
    /// tightened to 0600).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Copies the store, as one consistent snapshot, into a new file `dest` (mode 0600)
    /// with SQLite's online backup API: other desks may keep working meanwhile. Returns the
    /// number of pages copied.
    pub fn backup_to(&self, dest: &Path) -> Result<i64> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .map_err(|source| StoreError::File {
                path: dest.to_path_buf(),
                source,
            })?;
        // A backup cut short (a full disk, a busy store) is not left behind as a file that
        // looks like one, and would keep the same name from being used again.
        self.copy_into(dest).inspect_err(|_| {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut name = dest.as_os_str().to_owned();
                name.push(suffix);
                let _ = std::fs::remove_file(std::path::PathBuf::from(name));
            }
        })
    }

    /// [`Store::backup_to`]'s copy into the new file `dest`; errors name `dest`.
    fn copy_into(&self, dest: &Path) -> Result<i64> {
        let named = |e: rusqlite::Error| StoreError::Backup {
            path: dest.to_path_buf(),
            detail: e.to_string(),
        };
        let mut target = Connection::open(dest).map_err(named)?;
        let copied = {
            use rusqlite::backup::StepResult;
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut target).map_err(named)?;
            // All pages in one step: one read transaction, so one consistent snapshot, which
            // in WAL mode never blocks the desks writing meanwhile.
            let started = std::time::Instant::now();
            loop {
                match backup.step(-1).map_err(named)? {
                    StepResult::Done => break,
                    StepResult::Busy | StepResult::Locked if started.elapsed() > BUSY_TIMEOUT => {
                        return Err(StoreError::Sql(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            None,
                        )));
                    }
                    // More (not with -1), Busy, Locked: step again.
                    _ => std::thread::sleep(Duration::from_millis(50)),
                }
            }
            backup.progress().pagecount
        };
        // A backup is one file: no WAL beside it to lose when it is copied elsewhere.
        target
            .pragma_update(None, "journal_mode", "DELETE")
            .map_err(named)?;
        Ok(i64::from(copied))
    }

    /// Bounds this connection's page cache at `bytes` ([`BULK_PAGE_CACHE_BYTES`] for a
    /// sync, [`DEFAULT_PAGE_CACHE_BYTES`] after it).
    pub fn set_page_cache(&self, bytes: i64) -> Result<()> {
        self.conn
            .pragma_update(None, "cache_size", -(bytes / 1024))?;
        Ok(())
    }

    /// Rewrites the file without its free pages (`VACUUM`), as a store that gives freed
    /// pages back later (`auto_vacuum`). Needs the store to itself.
    pub fn vacuum(&self) -> Result<()> {
        Ok(vacuum(&self.conn)?)
    }

    /// The underlying connection, for the core modules that own their queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// A transaction that takes the write lock when it begins (`BEGIN IMMEDIATE`), so it
    /// waits for another writer as long as the busy timeout allows. One begun as a read
    /// (SQLite's default) fails at once when it must become a write while another connection
    /// writes: SQLite does not wait there. Every transaction that writes begins so.
    pub fn write_transaction(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// Where the sync of `mailbox` got to, if it was ever synced.
    pub fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>> {
        Ok(self
            .conn
            .query_row(
                "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?1",
                [mailbox],
                |r| {
                    Ok(MailboxState {
                        uidvalidity: r.get(0)?,
                        last_uid: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Registers compression dictionaries another process trained since this store was
    /// opened, so its raw messages, re-packed with them, still read. Cheap when there is
    /// none new (one query of ids).
    pub fn refresh_dictionaries(&self) -> Result<()> {
        Ok(dictionary::load(&self.conn)?)
    }

    /// A number that changes whenever another connection commits to the file
    /// (`PRAGMA data_version`); the desk polls it to pick up other desks' changes.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }
}

/// A transaction holding the write lock, with the store's version read under it: another
/// desk opening the same store at the same moment may have created or migrated it since the
/// version was first read.
fn locked_version(conn: &mut Connection) -> rusqlite::Result<(rusqlite::Transaction<'_>, i64)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok((tx, version))
}

/// `VACUUM`, switching a store made before `auto_vacuum` to it on the way (the pragma
/// takes effect at a VACUUM), so the full-text index's merges give their freed pages back
/// from then on (core::store::search_index).
fn vacuum(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
}

/// Makes the store's SQL functions ([`raw::SQL_PACK`], [`body::SQL_BODY`],
/// [`search_terms::SQL_SEARCH_TERMS`], ...) available on `conn`, and registers the store's
/// compression dictionaries so they can unpack its raw messages; every connection to a
/// store that reads bodies or writes raw messages needs them.
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    raw::register(conn)?;
    crate::core::address::register(conn)?;
    repack::register_sql(conn)?;
    reasons::register(conn)?;
    body::register(conn)?;
    header_columns::register(conn)?;
    search_terms::register(conn)?;
    dictionary::load(conn)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod file_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_migration_another_desk_ran_meanwhile_is_not_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        // As a desk that read the old version just before another desk migrated the store:
        // from the migration that adds a column, which cannot run twice.
        let adds_column = MIGRATIONS
            .iter()
            .position(|m| m.contains("ADD COLUMN date_note"))
            .unwrap();
        store.apply_migrations(adds_column).unwrap();
        // And as a desk that found the file empty just before another desk created it.
        store.apply_migrations(0).unwrap();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn an_upgrade_is_announced_with_the_size_of_the_store_and_nothing_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        assert_eq!(upgrade_pending(&path), None, "no store yet");
        assert!(!path.exists(), "asking creates nothing");
        let (_d, store) = reports::store_with(&["Subject: a\n\nx\n", "Subject: b\n\ny\n"]);
        let old = store.path().to_path_buf();
        assert_eq!(upgrade_pending(&old), None, "a current store");
        rewind_to(store.conn(), MIGRATIONS.len() as i64 - 1);
        drop(store);
        let size = std::fs::metadata(&old).unwrap().len();
        assert_eq!(upgrade_pending(&old), Some(size));
        let files = |p: &Path| std::fs::read_dir(p.parent().unwrap()).unwrap().count();
        let before = files(&old);
        upgrade_pending(&old);
        assert_eq!(files(&old), before, "asking leaves no -wal or -shm behind");
        drop(Store::open(&old).unwrap());
        assert_eq!(upgrade_pending(&old), None, "upgraded once");
    }

    #[test]
    fn new_database_is_private_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secdesk.db");
        let store = Store::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        drop(store);
        // Reopening does not re-run migrations.
        Store::open(&path).unwrap();
    }

    #[test]
    fn lookups_by_state_or_coordinator_alone_still_use_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        for (sql, search) in [
            ("SELECT id FROM reports WHERE state = 'new'", "(state=?)"),
            (
                "SELECT id FROM reports WHERE coordinator = 'a@example.org'",
                "(coordinator=?)",
            ),
            // The indexes by coordinator and by original hold only the reports that have
            // one (migration 28); a lookup that names one still uses them.
            (
                "SELECT id FROM reports WHERE duplicate_of = 7",
                "(duplicate_of=?)",
            ),
        ] {
            let plan: Vec<String> = store
                .conn()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            // A search through an index, not a scan of the table.
            assert!(
                plan.iter()
                    .any(|p| p.starts_with("SEARCH") && p.contains("INDEX") && p.ends_with(search)),
                "{sql}: {plan:?}"
            );
        }
    }

    #[test]
    fn newer_schema_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open(&path).unwrap();
        store
            .conn()
            .pragma_update(None, "user_version", 999)
            .unwrap();
        drop(store);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("upgrade secdesk"), "{err}");
    }
}
