//! What `secdesk check` reports about a store file, read without changing it: nothing is
//! tightened, marked or migrated, and the file is opened read-only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::file::{self, Identity};
use super::missing::{missing_on, MissingUid};
use super::{Result, StoreError, BUSY_TIMEOUT, MIGRATIONS};

/// A store file as found.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub path: PathBuf,
    /// Permission bits, e.g. 0o600.
    pub mode: u32,
    pub identity: Identity,
    pub schema_version: i64,
    /// The schema version this secdesk writes.
    pub known_version: i64,
    pub bytes: i64,
    pub pages: i64,
    /// `PRAGMA integrity_check`, one line each; empty when whole.
    pub damage: Vec<String>,
    /// Rows referring to rows that are gone (`PRAGMA foreign_key_check`).
    pub broken_references: Vec<String>,
    /// How many raw messages were read back, and how many of them could not be unpacked
    /// (a damaged frame: SQLite's checks pass, the mail's bytes do not; their reports open
    /// with a note, and their text is lost from the store).
    pub raw_checked: usize,
    pub raw_damaged: usize,
    /// The first `limit` damaged ones: which message, which report, why.
    pub raw_damage: Vec<String>,
    /// Why the raw messages could not be read back at all, when they could not.
    pub raw_unreadable: Option<String>,
    /// Mail a sync saw listed on the server and could not store (recorded by the sync, asked
    /// for again by the next one): the first `limit`, and how many in all.
    pub unstored: Vec<MissingUid>,
    pub unstored_count: usize,
}

impl Inspection {
    pub fn is_private(&self) -> bool {
        self.mode & 0o077 == 0
    }
}

/// Inspects the store at `path`, listing at most `limit` problems of each kind. A file
/// that is not a secdesk store is [`StoreError::Foreign`].
pub fn inspect(path: &Path, limit: usize) -> Result<Inspection> {
    let io = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    let header = file::check_header(path)?;
    let opened = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let _held = file::Held::new(path);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(opened)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(opened)?;
    let identity = match file::identify(&conn, path) {
        Ok(identity) => identity,
        Err(e) => {
            return match file::unreadable_if_corrupt(e, path, header) {
                StoreError::Unreadable { detail, .. } => {
                    Ok(from_header(path, mode, header, detail))
                }
                other => Err(other),
            }
        }
    };
    let pragma = |name: &str| conn.pragma_query_value(None, name, |r| r.get::<_, i64>(0));
    let schema_version = pragma("user_version").map_err(opened)?;
    let pages = pragma("page_count").map_err(opened)?;
    let bytes = pages * pragma("page_size").map_err(opened)?;
    let damage = file::integrity_problems(&conn, limit).unwrap_or_else(|e| vec![e.to_string()]);
    if !damage.is_empty() {
        // Whatever the stamp says, the next open checks the whole file.
        super::stamp::suspect(path);
    }
    let broken_references = file::broken_references(&conn, limit).unwrap_or_default();
    // With unreadable pages the salvage reads what it can, and frames are checked on the
    // copy; an empty file has no messages yet.
    let raws = if damage.is_empty() && identity != Identity::New {
        raw_frames(&conn, limit).unwrap_or_else(|e| RawFrames {
            unreadable: Some(e.to_string()),
            ..RawFrames::default()
        })
    } else {
        RawFrames::default()
    };
    // A store from before the table has none recorded.
    let (unstored, unstored_count) = match identity {
        Identity::New => (Vec::new(), 0),
        _ => missing_on(&conn, limit).unwrap_or_default(),
    };
    Ok(Inspection {
        path: path.to_path_buf(),
        mode,
        identity,
        schema_version,
        known_version: MIGRATIONS.len() as i64,
        bytes,
        pages,
        damage,
        broken_references,
        raw_checked: raws.checked,
        raw_damaged: raws.damaged,
        raw_damage: raws.listed,
        raw_unreadable: raws.unreadable,
        unstored,
        unstored_count,
    })
}

/// What the file's header still tells of a store SQLite cannot read at all: `detail` says why.
fn from_header(path: &Path, mode: u32, header: Option<file::Header>, detail: String) -> Inspection {
    let pages = header.and_then(|h| h.page_count).unwrap_or(0);
    Inspection {
        path: path.to_path_buf(),
        mode,
        identity: match header {
            Some(h) if h.application_id == file::APPLICATION_ID => Identity::Ours,
            _ => Identity::Unmarked,
        },
        schema_version: header.map_or(0, |h| h.user_version),
        known_version: MIGRATIONS.len() as i64,
        bytes: std::fs::metadata(path).map_or(0, |m| m.len() as i64),
        pages: pages as i64,
        damage: vec![format!(
            "{detail}; SQLite cannot open it, so `secdesk backup NEW_FILE` salvages from a copy made whole with empty pages"
        )],
        broken_references: Vec::new(),
        raw_checked: 0,
        raw_damaged: 0,
        raw_damage: Vec::new(),
        raw_unreadable: None,
        unstored: Vec::new(),
        unstored_count: 0,
    }
}

/// What reading back every raw message found.
#[derive(Default)]
struct RawFrames {
    checked: usize,
    damaged: usize,
    listed: Vec<String>,
    unreadable: Option<String>,
}

/// Unpacks every stored raw message (with the store's dictionaries), as the desk does to
/// show one, and lists at most `limit` that cannot be.
fn raw_frames(conn: &Connection, limit: usize) -> rusqlite::Result<RawFrames> {
    super::dictionary::load(conn)?;
    let mut stmt = conn
        .prepare("SELECT id, report_id, coalesce(message_id, ''), raw FROM messages ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut out = RawFrames::default();
    while let Some(row) = rows.next()? {
        out.checked += 1;
        if let Err(e) = super::raw::unpack_column(row.get_ref(3)?) {
            out.damaged += 1;
            if out.listed.len() < limit {
                let id: i64 = row.get(0)?;
                let report: i64 = row.get(1)?;
                let message_id: String = row.get(2)?;
                let named = if message_id.is_empty() {
                    String::new()
                } else {
                    format!(" <{}>", crate::core::parse::flat(&message_id))
                };
                out.listed.push(format!(
                    "message {id} of report #{report}{named}: {}",
                    e.detail()
                ));
            }
        }
    }
    Ok(out)
}
