//! The store file itself, before secdesk trusts it: private (mode 0600, tightened with a
//! notice when it was looser), secdesk's own (`PRAGMA application_id`, so another
//! program's database at the store path is refused, never migrated), and whole
//! (`PRAGMA quick_check`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension};

use super::{Result, StoreError, MIGRATIONS};

/// secdesk's mark in the SQLite header (`PRAGMA application_id`): "secd".
pub const APPLICATION_ID: i32 = 0x7365_6364;

/// Tables every secdesk store has had since the first migration, with a column each that
/// only secdesk's schema has: how a store from before the mark is told from a stranger's.
const SECDESK_TABLES: &[(&str, &[&str])] = &[
    ("mailbox_state", &["mailbox", "uidvalidity", "last_uid"]),
    (
        "reports",
        &["created_at", "state", "class_confirmed", "flagged"],
    ),
    (
        "messages",
        &["report_id", "content_hash", "raw", "direction"],
    ),
    ("notes", &["report_id", "author", "text"]),
    ("events", &["report_id", "actor", "kind"]),
];

/// Whose the database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Empty: a store secdesk is creating.
    New,
    /// Marked as secdesk's.
    Ours,
    /// A secdesk store from before the mark: it has secdesk's schema; marked on open.
    Unmarked,
}

/// Creates the file with mode 0600 before SQLite opens it, so it is never world-readable,
/// not even for a moment. True when it was created.
pub fn create_private(path: &Path) -> Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(StoreError::File {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Makes the store and its `-wal`/`-shm` files 0600 when they are readable or writable by
/// others; returns a notice for each one tightened (or that could not be).
pub fn tighten_modes(path: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut notices = Vec::new();
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue; // -wal and -shm come and go with the connections
        };
        let mode = meta.permissions().mode() & 0o777;
        if !meta.is_file() || mode & 0o077 == 0 {
            continue;
        }
        // Refusing to open would protect nothing (the file is readable already), so a
        // file that cannot be tightened (another user's) is only reported.
        // Only the others' bits go: an owner who made the file read-only (0444) meant it,
        // and 0400 is then refused for writing with its own clear line.
        let private = mode & 0o700;
        notices.push(
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(private)) {
                Ok(()) => format!(
                    "{} was readable by others (mode {mode:04o}); it holds embargoed reports, so it is now {private:04o}",
                    file.display()
                ),
                Err(e) => format!(
                    "{} is readable by others (mode {mode:04o}) and could not be made private ({e}); it holds embargoed reports: have its owner run `chmod 600` on it",
                    file.display()
                ),
            },
        );
    }
    notices
}

/// The database files this process has open with SQLite, by device and inode, with how
/// many connections hold each.
///
/// POSIX record locks belong to a process and an inode, not to a file descriptor: closing
/// *any* descriptor of the file drops every lock the process holds on it (SQLite's "How To
/// Corrupt", §2.2). A desk opens the store on several threads; when one of them read the
/// header with its own `File` while another connection was open, the desk lost its locks,
/// the next process to close the store (a `secdesk list`) took itself for the last one and
/// deleted the `-wal`, and every change the desk made after that went into the deleted file.
/// So a file in this map is never opened outside SQLite.
static HELD_BY_SQLITE: Mutex<BTreeMap<(u64, u64), usize>> = Mutex::new(BTreeMap::new());

/// The device and inode of `path`, when it exists.
fn inode(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// One SQLite connection to a file, as this process counts them: make it before the
/// connection opens and drop it after the connection closed. While one lives,
/// [`read_header`] leaves the file to SQLite.
#[derive(Debug)]
pub struct Held(Option<(u64, u64)>);

impl Held {
    /// Counts a connection to the (existing) file at `path`.
    pub fn new(path: &Path) -> Held {
        let key = inode(path);
        if let Some(key) = key {
            *held_map().entry(key).or_insert(0) += 1;
        }
        Held(key)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(key) = self.0 else { return };
        let mut map = held_map();
        if let Some(n) = map.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&key);
            }
        }
    }
}

fn held_map() -> std::sync::MutexGuard<'static, BTreeMap<(u64, u64), usize>> {
    HELD_BY_SQLITE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether this process has the file at `path` open with SQLite (and so must not open it
/// any other way).
fn held_by_sqlite(path: &Path) -> bool {
    inode(path).is_some_and(|key| held_map().contains_key(&key))
}

/// The first `N` bytes of the file at `path`, read without SQLite; `None` when this process
/// has the file open with SQLite, whose locks a read of our own would drop (POSIX record
/// locks belong to the process): it was checked when it was first opened.
pub fn read_header<const N: usize>(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    if held_by_sqlite(path) {
        return Ok(None);
    }
    let mut head = Vec::with_capacity(N);
    std::fs::File::open(path)?
        .take(N as u64)
        .read_to_end(&mut head)?;
    Ok(Some(head))
}

/// What an SQLite file's first 100 bytes say about it (the database header, sqlite.org
/// "Database File Format" §1.3), read without SQLite: what `secdesk check` can still tell
/// of a file SQLite cannot read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub page_size: u64,
    /// The size in pages the header claims, when it vouches for it (its "version-valid-for"
    /// matches its change counter; an SQLite before 3.7.0 did not keep it).
    pub page_count: Option<u64>,
    pub user_version: i64,
    pub application_id: i32,
}

impl Header {
    /// Parses an SQLite header; `None` when `bytes` is not one.
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
            return None;
        }
        let be32 = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
            1 => 65536,
            n => u64::from(n),
        };
        let count = u64::from(be32(28));
        Some(Header {
            page_size,
            page_count: (be32(92) == be32(24) && count > 0).then_some(count),
            user_version: i64::from(be32(60)),
            application_id: be32(68) as i32,
        })
    }

    /// The file's length in bytes by the header's claim.
    pub fn claimed_bytes(&self) -> Option<u64> {
        self.page_count.map(|n| n * self.page_size)
    }
}

/// Why SQLite could not read the file at `path` at all, in the words `check` and the error
/// use: a file shorter than its header says (cut short by a full disk, a copy stopped
/// half-way, a crashed file system) is named as such.
/// `header` is the file's, read before SQLite opened it.
pub fn unreadable_detail(path: &Path, header: Option<Header>) -> String {
    let len = std::fs::metadata(path).map(|m| m.len()).ok();
    match (header.and_then(|h| h.claimed_bytes().map(|b| (h, b))), len) {
        (Some((h, claimed)), Some(len)) if len < claimed => format!(
            "the file is cut short: {len} bytes where its header says {claimed} ({} pages of {} bytes)",
            h.page_count.unwrap_or(0),
            h.page_size
        ),
        _ => "SQLite cannot read even its list of tables".to_string(),
    }
}

/// `e`, or [`StoreError::Unreadable`] when it is SQLite finding the file at `path` too damaged
/// to read at all (opening it reads its list of tables first). No stamp then vouches for
/// the file. `header` is the file's, read before SQLite opened it ([`check_header`]).
pub fn unreadable_if_corrupt(e: StoreError, path: &Path, header: Option<Header>) -> StoreError {
    let corrupt = match &e {
        StoreError::Open { source, .. } | StoreError::Sql(source) => {
            source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt)
        }
        _ => false,
    };
    if !corrupt {
        return e;
    }
    super::stamp::suspect(path);
    StoreError::Unreadable {
        path: path.to_path_buf(),
        detail: unreadable_detail(path, header),
    }
}

/// Refuses a file that is not an SQLite database at all, before SQLite touches it, and
/// returns its header: `None` for an empty file (a store being created), and for a file
/// this process already has open with SQLite (see [`read_header`]).
pub fn check_header(path: &Path) -> Result<Option<Header>> {
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let Some(head) = read_header::<100>(path).map_err(|source| StoreError::File {
        path: path.to_path_buf(),
        source,
    })?
    else {
        return Ok(None);
    };
    if head.is_empty() || head.get(..16) == Some(MAGIC.as_slice()) {
        Ok(Header::parse(&head))
    } else {
        Err(StoreError::Foreign {
            path: path.to_path_buf(),
            why: "it is not an SQLite database".into(),
        })
    }
}

/// Tells secdesk's stores (marked, or from before the mark) from anything else, reading
/// only: a foreign database is left exactly as it was.
pub fn identify(conn: &Connection, path: &Path) -> Result<Identity> {
    let open = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(open)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(open)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(open)?;
    let foreign = |why: String| {
        Err(StoreError::Foreign {
            path: path.to_path_buf(),
            why,
        })
    };
    if app_id == APPLICATION_ID {
        return Ok(Identity::Ours);
    }
    if app_id != 0 {
        return foreign(format!(
            "it is another application's SQLite database (application id {app_id:#010x})"
        ));
    }
    if version == 0 && objects == 0 {
        return Ok(Identity::New);
    }
    if version < 1 || version > MIGRATIONS.len() as i64 {
        return foreign(format!(
            "it is an SQLite database without secdesk's schema (schema version {version})"
        ));
    }
    for (table, columns) in SECDESK_TABLES {
        let found: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .and_then(|mut stmt| {
                stmt.query_map([table], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(open)?;
        if let Some(missing) = columns.iter().find(|c| !found.iter().any(|f| f == *c)) {
            return foreign(format!(
                "it is an SQLite database without secdesk's schema: table {table} has no column {missing}"
            ));
        }
    }
    Ok(Identity::Unmarked)
}

/// Stores that passed [`damage`] in this process. The check reads the whole file (about
/// 0.1 s for 35 MB on a loaded machine), and the desk opens one connection per worker: the
/// first open pays for it. Damage that appears later still surfaces, as SQLite's "corrupt"
/// result code, which `errors` turns into the same advice.
static CHECKED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

fn checked_key(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether the store at `path` already passed [`damage`] in this process.
pub fn checked_before(path: &Path) -> bool {
    let key = checked_key(path);
    CHECKED.lock().map(|c| c.contains(&key)).unwrap_or(false)
}

/// `PRAGMA quick_check`: `None` when the file is whole, else what SQLite found first.
pub fn damage(conn: &Connection, path: &Path) -> Result<Option<String>> {
    let first: rusqlite::Result<Option<String>> = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .optional();
    match first {
        Ok(Some(ok)) if ok == "ok" => {
            if let Ok(mut checked) = CHECKED.lock() {
                checked.push(checked_key(path));
            }
            Ok(None)
        }
        Ok(Some(problem)) => Ok(Some(short(&problem))),
        Ok(None) => Ok(Some("the check gave no answer".into())),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            Ok(Some(short(&e.to_string())))
        }
        Err(source) => Err(StoreError::Open {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// What a check said, kept to one short line (without SQLite's `*** in database main ***`
/// banner).
fn short(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("*** in database"))
        .unwrap_or("");
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(120).collect::<String>())
    } else {
        line.to_string()
    }
}

/// `PRAGMA integrity_check` for `secdesk check` (unlike quick_check it also compares every
/// index with its table): each problem one short line, at most `limit`.
pub fn integrity_problems(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<String>> {
    let problems = conn
        .prepare(&format!("PRAGMA integrity_check({limit})"))?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(problems
        .iter()
        .filter(|p| *p != "ok")
        .flat_map(|p| p.lines())
        .map(short)
        .filter(|p| !p.is_empty())
        .collect())
}

/// `PRAGMA foreign_key_check`: rows that refer to a row that is gone (an outbox reply whose
/// report was deleted …), one line each, at most `limit`.
pub fn broken_references(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| {
        Ok(format!(
            "{} row {} refers to a missing row of {}",
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?
                .map(|id| id.to_string())
                .unwrap_or_else(|| "?".into()),
            r.get::<_, String>(2)?
        ))
    })?;
    rows.take(limit).collect()
}
