//! Salvaging a damaged store: every row that can still be read goes into a fresh store.
//!
//! A page copy (the online backup API) would copy the damage too. Instead each table is
//! read by rowid ranges; a range that hits a damaged page is halved until the unreadable
//! rows are isolated and counted, so one bad page costs only the rows on it. The new store
//! gets the full current schema and fresh indexes (a damaged index costs nothing), and its
//! full-text index is rebuilt from the salvaged messages. When messages were lost, the
//! IMAP sync cursors are left out, so the next `secdesk sync` fetches the mailbox again and
//! stores exactly the messages the copy lacks (messages are deduplicated by content).

use std::path::Path;

use rusqlite::Connection;

use super::{Result, Store, StoreError};

/// Tables copied, parents before children.
const TABLES: &[&str] = &[
    "reports",
    // Before the messages whose frames name them (core::store::dictionary).
    "raw_dictionaries",
    "messages",
    "attachments",
    "notes",
    "events",
    "outbox",
    "mailbox_state",
    "classify_model",
    "classify_tokens",
    "classify_trained",
    "classify_bands",
    "classify_copies",
];

/// What a salvage copied.
#[derive(Debug, Clone, Default)]
pub struct SalvageReport {
    pub copied: u64,
    pub tables: Vec<TableReport>,
}

#[derive(Debug, Clone, Default)]
pub struct TableReport {
    pub table: String,
    pub copied: u64,
    /// Row ids that could not be read: at most this many rows were lost (ids may have gaps).
    pub lost: u64,
    /// Not even the table's extent could be read.
    pub unreadable: bool,
}

/// Copies every readable row of `store` into a new store at `dest` (which must not exist).
pub fn salvage(store: &Store, dest: &Path) -> Result<SalvageReport> {
    if dest.exists() {
        return Err(StoreError::File {
            path: dest.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it already exists"),
        });
    }
    let fresh = Store::open(dest)?;
    let conn = fresh.conn();
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let uri = format!(
        "file:{}?mode=ro",
        store
            .path()
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23")
    );
    conn.execute("ATTACH DATABASE ?1 AS damaged", [uri])?;
    let mut report = SalvageReport::default();
    for table in TABLES {
        let t = copy_table(conn, table)?;
        report.copied += t.copied;
        report.tables.push(t);
    }
    // A store from before raw messages were packed holds them as they arrived; the copy
    // holds them as this schema does (core::store::raw).
    let version: i64 = conn.query_row("PRAGMA damaged.user_version", [], |r| r.get(0))?;
    if version < super::migrations::raw_packed_from() {
        conn.execute("UPDATE messages SET raw = secdesk_pack_raw(raw)", [])?;
    }
    // So is a store from before content hashes were kept as bytes: a hex hash would never
    // match the same mail synced again.
    conn.execute_batch(super::migrations::HASH_AS_BYTES)?;
    let messages_lost = report
        .tables
        .iter()
        .any(|t| (t.table == "messages" || t.table == "reports") && (t.lost > 0 || t.unreadable));
    if messages_lost {
        conn.execute("DELETE FROM mailbox_state", [])?;
    }
    // The full-text rebuild is migration 25's (a migration stays a literal, so it is
    // repeated): each body as readers see it (core::store::body), as its terms
    // (core::store::search_terms).
    conn.execute_batch(
        "DELETE FROM messages_fts;
         INSERT INTO messages_fts (rowid, subject, sender, body)
             SELECT id, secdesk_search_terms(subject),
                    secdesk_search_terms(CASE WHEN from_name IS NOT NULL AND from_name != ''
                         THEN from_name || ' <' || coalesce(from_addr, '') || '>'
                         ELSE coalesce(from_addr, '') END),
                    secdesk_search_body(body, pgp, raw)
             FROM messages;
         DELETE FROM sqlite_sequence WHERE name = 'reports';
         INSERT INTO sqlite_sequence (name, seq) SELECT 'reports', max(
             coalesce((SELECT max(id) FROM reports), 0),
             coalesce((SELECT max(report_id) FROM messages), 0),
             coalesce((SELECT max(report_id) FROM outbox), 0));",
    )?;
    conn.execute("DETACH DATABASE damaged", [])?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(report)
}

/// Salvages a store SQLite cannot open at all ([`StoreError::Unreadable`]) into a new store
/// at `dest`: the file (and its `-wal`) is copied beside `dest`, the copy made as long as its
/// header says with empty pages (a file cut short has lost its last pages, and SQLite
/// refuses the whole file for them), and every row still readable in the copy is
/// salvaged. The store itself is only read; the copy is removed.
pub fn salvage_unreadable(path: &Path, dest: &Path) -> Result<SalvageReport> {
    let io = |at: &Path| {
        let at = at.to_path_buf();
        move |source| StoreError::File { path: at, source }
    };
    let mut copy = dest.as_os_str().to_owned();
    copy.push(".salvaging");
    let copy = std::path::PathBuf::from(copy);
    let wal = |p: &Path| {
        let mut w = p.as_os_str().to_owned();
        w.push("-wal");
        std::path::PathBuf::from(w)
    };
    let header = super::file::read_header::<100>(path)
        .map_err(io(path))?
        .and_then(|h| super::file::Header::parse(&h));
    let cleanup = |copy: &Path| {
        for f in [
            copy.to_path_buf(),
            wal(copy),
            super::stamp::stamp_path(copy),
        ] {
            let _ = std::fs::remove_file(f);
        }
        let mut shm = copy.as_os_str().to_owned();
        shm.push("-shm");
        let _ = std::fs::remove_file(std::path::PathBuf::from(shm));
    };
    let copied = (|| {
        copy_private(path, &copy)?;
        if wal(path).exists() {
            copy_private(&wal(path), &wal(&copy))?;
        }
        if let Some(claimed) = header.and_then(|h| h.claimed_bytes()) {
            let file = std::fs::OpenOptions::new().write(true).open(&copy)?;
            if file.metadata()?.len() < claimed {
                file.set_len(claimed)?;
            }
        }
        Ok(())
    })();
    if let Err(source) = copied {
        cleanup(&copy);
        return Err(io(&copy)(source));
    }
    // Not even the whole-length copy opens (damage beyond a cut-short end): say so of the
    // store, not of the copy, which is gone, and not "salvage it", which was just tried.
    let salvaged = match Store::open_for_reading(&copy) {
        Ok(store) => salvage(&store, dest),
        Err(StoreError::Unreadable { detail, .. }) => Err(StoreError::Unsalvageable {
            path: path.to_path_buf(),
            detail,
        }),
        Err(e) => Err(e),
    };
    cleanup(&copy);
    salvaged
}

/// Copies `from` to a new file `to` with mode 0600: the store holds embargoed reports.
fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    std::io::copy(&mut std::fs::File::open(from)?, &mut out)?;
    out.sync_all()
}

/// Copies the readable rows of one table (the columns both schemas have).
fn copy_table(conn: &Connection, table: &str) -> Result<TableReport> {
    let mut report = TableReport {
        table: table.to_string(),
        ..TableReport::default()
    };
    let columns = shared_columns(conn, table)?;
    if columns.is_empty() {
        return Ok(report); // the damaged store predates this table
    }
    let list = columns.join(", ");
    let insert = format!(
        "INSERT OR IGNORE INTO main.{table} ({list}) SELECT {list} FROM damaged.{table} \
         WHERE rowid BETWEEN ?1 AND ?2"
    );
    let without_rowid = conn.query_row(
        "SELECT sql LIKE '%WITHOUT ROWID%' FROM damaged.sqlite_master WHERE name = ?1",
        [table],
        |r| r.get::<_, bool>(0),
    );
    if without_rowid.unwrap_or(false) {
        // No rowid ranges to split: all or nothing.
        match conn.execute(
            &format!(
                "INSERT OR IGNORE INTO main.{table} ({list}) SELECT {list} FROM damaged.{table}"
            ),
            [],
        ) {
            Ok(n) => report.copied = n as u64,
            Err(_) => report.unreadable = true,
        }
        return Ok(report);
    }
    let bounds = conn.query_row(
        &format!("SELECT min(rowid), max(rowid) FROM damaged.{table}"),
        [],
        |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?)),
    );
    let (lo, hi) = match bounds {
        Ok((Some(lo), Some(hi))) => (lo, hi),
        Ok(_) => return Ok(report), // empty
        Err(_) => {
            // Not even the ends of the table can be found: its root is gone.
            report.unreadable = true;
            return Ok(report);
        }
    };
    let mut stack = vec![(lo, hi)];
    while let Some((a, b)) = stack.pop() {
        match conn.execute(&insert, [a, b]) {
            Ok(n) => report.copied += n as u64,
            Err(_) if a == b => report.lost += 1,
            Err(_) => {
                let mid = a + (b - a) / 2;
                stack.push((mid + 1, b));
                stack.push((a, mid));
            }
        }
    }
    Ok(report)
}

/// Columns of `table` in both the new store and the damaged one, quoted.
fn shared_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let names = |schema: &str| -> rusqlite::Result<Vec<String>> {
        conn.prepare(&format!("SELECT name FROM {schema}.pragma_table_info(?1)"))?
            .query_map([table], |r| r.get(0))?
            .collect()
    };
    let ours = names("main")?;
    let theirs = names("damaged").unwrap_or_default();
    Ok(ours
        .into_iter()
        .filter(|c| theirs.contains(c))
        .map(|c| format!("\"{c}\""))
        .collect())
}
