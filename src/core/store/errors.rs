//! What went wrong with the store, said once, naming the file and what to do.
//!
//! SQLite reports trouble as result codes (read-only, busy, full, corrupt …) whose text
//! names no file and, through rusqlite's error chain, repeats itself ("attempt to write a
//! readonly database: Error code 8: …"). [`describe_error`] turns any error whose chain holds
//! one into the single line a user needs.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

use super::BUSY_TIMEOUT;

/// What went wrong with the store, and to which file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A backup that could not be written whole: nothing is left at `path`.
    #[error("cannot write the backup {path}: {detail}; nothing was kept there")]
    Backup { path: PathBuf, detail: String },
    #[error("cannot create the store's folder {path}: {source}; create it yourself or set [store] path to a folder you may write")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store {path}: {source}; check the file and its folder's permissions")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", describe_sqlite(.source, .path).unwrap_or_else(|| format!("cannot open the store {}: {}", .path.display(), .source)))]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the file {path} is not a secdesk store ({why}); secdesk leaves it untouched: move it away, or set [store] path to another file")]
    Foreign { path: PathBuf, why: String },
    #[error("the store {path} has schema version {found}, newer than this secdesk knows ({known}): upgrade secdesk")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the store {path} is damaged ({detail}), so nothing was changed and changes are refused: run `secdesk check`; recover what it holds with `secdesk backup NEW_FILE`")]
    Damaged { path: PathBuf, detail: String },
    #[error("there is no store at {path} yet: `secdesk sync` (or `secdesk import`, or the desk) creates it; if it should be there, check [store] path in the config")]
    Missing { path: PathBuf },
    #[error("the store {path} cannot be read at all ({detail}); nothing was changed: `secdesk backup NEW_FILE` salvages what can still be read into a new store (or restore your latest backup)")]
    Unreadable { path: PathBuf, detail: String },
    #[error("nothing in the store {path} can be read ({detail}), not even from a copy made whole with empty pages: restore your latest backup (`secdesk backup` makes one), then `secdesk sync` fetches the mail it lacks")]
    Unsalvageable { path: PathBuf, detail: String },
    #[error("a schema upgrade of the store {path} would break {added} reference(s) between its tables, so it was not applied: keep this secdesk's previous version and report the problem")]
    BrokenReferences { path: PathBuf, added: i64 },
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no report #{0}: `secdesk list` shows the reports there are")]
    NoSuchReport(i64),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The one line for an error whose chain holds a store or SQLite error, naming `path`;
/// `None` when the chain holds neither, or an SQLite error that is not about the file
/// (a constraint, a query bug: those keep their own text).
pub fn describe_error(e: &(dyn StdError + 'static), path: &Path) -> Option<String> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(store) = c.downcast_ref::<StoreError>() {
            return match store {
                StoreError::Sql(sql) => describe_sqlite(sql, path),
                StoreError::NoSuchReport(_) => None,
                other => Some(other.to_string()),
            };
        }
        if let Some(sql) = c.downcast_ref::<rusqlite::Error>() {
            return describe_sqlite(sql, path);
        }
        cause = c.source();
    }
    None
}

/// [`describe_error`] for a step whose caller says itself what to do next (a reply's
/// delivery, where running `secdesk reply` again would write a second reply): the full
/// disk's line without "then run the command again".
pub fn describe_error_no_rerun(e: &(dyn StdError + 'static), path: &Path) -> Option<String> {
    describe_error(e, path).map(|line| line.replace(RUN_AGAIN, ""))
}

/// How [`full`]'s line ends: the advice a caller that says its own may leave out.
const RUN_AGAIN: &str = ", then run the command again";

/// The line for an SQLite result code that is about the file at `path`.
pub fn describe_sqlite(e: &rusqlite::Error, path: &Path) -> Option<String> {
    let p = path.display();
    let line = match e.sqlite_error_code()? {
        ErrorCode::ReadOnly => read_only(path),
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => format!(
            "the store {p} is busy: another secdesk is writing; retried for {} s; try again when it is done",
            BUSY_TIMEOUT.as_secs()
        ),
        ErrorCode::DiskFull => full(path),
        ErrorCode::DatabaseCorrupt => {
            // The next open checks the whole file instead of trusting the clean-close stamp.
            super::stamp::suspect(path);
            format!(
                "the store {p} is damaged: run `secdesk check`; recover what it holds with `secdesk backup FILE`"
            )
        }
        ErrorCode::NotADatabase => format!(
            "the file {p} is not a secdesk store (it is not an SQLite database); secdesk leaves it untouched: move it away, or set [store] path to another file"
        ),
        ErrorCode::CannotOpen | ErrorCode::SystemIoFailure if disk_is_full(path) => full(path),
        ErrorCode::CannotOpen if !writable(path) => read_only(path),
        ErrorCode::CannotOpen => format!(
            "cannot open the store {p}: check that its folder exists and that you may write there"
        ),
        ErrorCode::SystemIoFailure => format!(
            "reading or writing the store {p} failed (disk I/O error): check the disk, then run `secdesk check`"
        ),
        ErrorCode::PermissionDenied => {
            format!("the store {p} cannot be opened: permission denied; check its owner and mode")
        }
        ErrorCode::OutOfMemory => format!("out of memory while using the store {p}"),
        _ => return None,
    };
    Some(line)
}

fn read_only(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let may_write = |p: &Path| rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok();
    // SQLite gives the `-wal` and `-shm` files the store's mode when it creates them: a
    // store opened while it was read-only leaves a read-only `-shm` behind, which keeps
    // every write refused after the store and its folder are fixed.
    if may_write(folder(path)) && may_write(path) {
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = Path::new(&side);
            let Ok(meta) = std::fs::metadata(side) else {
                continue;
            };
            if !may_write(side) {
                use std::os::unix::fs::MetadataExt;
                // Another user's file (a sync once run as root) is not ours to chmod.
                let fix = if meta.uid() == rustix::process::geteuid().as_raw() {
                    "`chmod 600` it".to_string()
                } else {
                    format!(
                        "it belongs to another user (uid {}): have them remove it while no secdesk runs, or `chown` it to you",
                        meta.uid()
                    )
                };
                return format!(
                    "the store {}: its {} is read-only (mode {:04o}): {fix}",
                    path.display(),
                    side.display(),
                    meta.permissions().mode() & 0o7777
                );
            }
        }
    }
    format!(
        "the store {} is read-only: check its permissions, its folder's, and that its disk is not mounted read-only",
        path.display()
    )
}

/// Whether this process may write the store and create its `-wal`/`-shm` files beside it
/// (a read-only mount, or a file or folder without write permission, says no).
fn writable(path: &Path) -> bool {
    let dir = folder(path);
    let ok = |p: &Path| rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok();
    ok(dir) && (!path.exists() || ok(path))
}

/// The folder holding `path`.
fn folder(path: &Path) -> &Path {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    }
}

fn full(path: &Path) -> String {
    format!(
        "the disk holding {} is full: nothing more was written; free some space{RUN_AGAIN}",
        path.display()
    )
}

/// Whether the file system holding `path` has (almost) no space left for an ordinary user.
fn disk_is_full(path: &Path) -> bool {
    rustix::fs::statvfs(folder(path))
        .is_ok_and(|stat| u128::from(stat.f_bavail) * u128::from(stat.f_frsize) < 64 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("raw text".into()))
    }

    #[test]
    fn each_file_problem_is_one_line_naming_the_file() {
        let path = Path::new("/srv/desk/secdesk.db");
        for (code, words) in [
            (
                rusqlite::ffi::SQLITE_READONLY,
                "is read-only: check its permissions",
            ),
            (
                rusqlite::ffi::SQLITE_BUSY,
                "is busy: another secdesk is writing; retried for 10 s",
            ),
            (
                rusqlite::ffi::SQLITE_FULL,
                "the disk holding /srv/desk/secdesk.db is full",
            ),
            (
                rusqlite::ffi::SQLITE_CORRUPT,
                "is damaged: run `secdesk check`",
            ),
        ] {
            let err = anyhow::Error::from(StoreError::Sql(sqlite(code)));
            let line = describe_error(err.as_ref(), path).unwrap();
            assert!(line.contains(words), "{line}");
            assert!(line.contains("/srv/desk/secdesk.db"), "{line}");
            assert!(
                !line.contains("raw text") && !line.contains("Error code"),
                "{line}"
            );
            assert!(!line.contains('\n'));
        }
        // A constraint is a bug, not a file problem: it keeps its own text.
        let constraint = StoreError::Sql(sqlite(rusqlite::ffi::SQLITE_CONSTRAINT));
        assert!(describe_error(&constraint, path).is_none());
    }
}
