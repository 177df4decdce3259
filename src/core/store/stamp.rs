//! How the store file looked when secdesk last closed it cleanly, so that opening it again
//! need not read every page to know it is whole.
//!
//! `PRAGMA quick_check` reads the whole file: 0.15 s for an 18,750-message store, most of a
//! sync with nothing new. A store that secdesk closed cleanly and that nothing has written
//! since is the store that passed a check or was written by SQLite alone, so the check is
//! only run when that cannot be shown: the file's identity (device, inode), size, change
//! and modification times, and those of its `-wal`, are written beside it (`STORE-clean`)
//! after the last connection of a clean close, and compared on open. Anything else (a crash
//! or a kill before the close, a write by another program, a copy put in its place, an
//! older secdesk without the stamp, another desk still holding the store) means a full check
//! on open. Damage that appears while the store is in use surfaces as SQLite's "corrupt"
//! result code; [`suspect`] then removes the stamp, so the next open checks the whole file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Stores this process saw reported corrupt: their stamp is not written again.
static SUSPECT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// One name per store file, however the path to it was spelled.
fn key(store: &Path) -> PathBuf {
    std::fs::canonicalize(store).unwrap_or_else(|_| store.to_path_buf())
}

/// The stamp file beside the store.
pub(super) fn stamp_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-clean");
    name.into()
}

fn wal_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// One file's identity, size and times, as one line of text; "none" when it is absent.
fn describe(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) => format!(
            "{} {} {} {}.{:09} {}.{:09}",
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ),
        Err(_) => "none".into(),
    }
}

/// The store and its write-ahead log as they are now.
fn current(store: &Path) -> String {
    format!(
        "secdesk clean close v1\nstore {}\nwal {}\n",
        describe(store),
        describe(&wal_path(store))
    )
}

/// Whether the store is exactly as secdesk left it at its last clean close, so the full
/// check on open can be skipped.
pub fn unchanged_since_clean_close(store: &Path) -> bool {
    let Ok(recorded) = std::fs::read_to_string(stamp_path(store)) else {
        return false;
    };
    recorded == current(store)
}

/// Records the store as it is now; called after its connection closed cleanly (dropped
/// without a panic, the file not reported corrupt). Failing to write it only costs the
/// next open a full check.
pub fn record_clean_close(store: &Path) {
    let stamp = stamp_path(store);
    let key = key(store);
    let suspect = SUSPECT.lock().map(|s| s.contains(&key)).unwrap_or(true);
    if suspect || std::thread::panicking() || !store.exists() {
        let _ = std::fs::remove_file(&stamp);
        return;
    }
    let _ = write_private(&stamp, current(store).as_bytes());
}

/// Forgets that the store was clean: SQLite reported it corrupt, so the next open runs the
/// full check, and this process does not write the stamp again.
pub fn suspect(store: &Path) {
    let key = key(store);
    if let Ok(mut s) = SUSPECT.lock() {
        if !s.contains(&key) {
            s.push(key);
        }
    }
    let _ = std::fs::remove_file(stamp_path(store));
}

/// Writes `bytes` to `path` through a temporary file and a rename (a torn stamp would
/// only cost a full check, but a whole one is as cheap), mode 0600 like the store.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        // A full disk must not leave an empty `STORE-clean.PID` beside the store.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Held by an open [`super::Store`] after its connection, so that it is dropped after the
/// connection closed (and SQLite checkpointed and removed the `-wal`): then it stamps the
/// file.
#[derive(Debug)]
pub struct CleanClose {
    pub path: PathBuf,
}

impl Drop for CleanClose {
    fn drop(&mut self) {
        record_clean_close(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_that_cannot_be_written_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The stamp's place is taken by a folder that is not empty, so the rename fails
        // after the temporary file was written, as a full disk fails the write.
        let path = dir.path().join("s.db-clean");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("x"), b"x").unwrap();
        assert!(write_private(&path, b"stamp").is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("s.db-clean")],
            "{left:?}"
        );
    }
}
