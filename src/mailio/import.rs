//! Importing archives: an mbox file, a Maildir, a folder of `.eml` files or one `.eml` file.
//! Messages go through the same pipeline as sync, so importing twice adds nothing.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::core::ingest::{IngestSummary, Ingestor, RawIncoming};
use crate::core::parse::mbox_from_date;
use crate::core::store::{Store, StoreError};

/// Messages stored per transaction.
const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a path turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Mbox,
    Maildir,
    EmlFolder,
    Eml,
}

/// Decides what `path` holds: a folder with `cur`/`new` is a Maildir, another folder holds
/// `.eml` files, and a file that starts with an mbox `From ` line is an mbox.
pub fn detect(path: &Path) -> Result<ArchiveKind, ImportError> {
    let read_err = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(read_err)?;
    if meta.is_dir() {
        if path.join("cur").is_dir() || path.join("new").is_dir() {
            return Ok(ArchiveKind::Maildir);
        }
        return Ok(ArchiveKind::EmlFolder);
    }
    let mut head = [0u8; 5];
    let n = {
        use std::io::Read;
        let mut f = fs::File::open(path).map_err(read_err)?;
        f.read(&mut head).map_err(read_err)?
    };
    Ok(if &head[..n] == b"From " {
        ArchiveKind::Mbox
    } else {
        ArchiveKind::Eml
    })
}

/// Imports every message under `path`, calling `progress` with the running total.
pub fn import_path(
    store: &mut Store,
    ingestor: &Ingestor,
    path: &Path,
    progress: &mut dyn FnMut(usize),
) -> Result<IngestSummary, ImportError> {
    let read = |p: &Path| {
        fs::read(p).map_err(|source| ImportError::Read {
            path: p.to_path_buf(),
            source,
        })
    };
    // Each message with when it arrived, as the archive recorded it: an mbox `From ` line,
    // else the file's mtime (Maildir delivery sets it), else now. The Date header is
    // checked against it (core::parse::dates).
    let read_file = move |p: &Path| -> Result<RawIncoming, ImportError> {
        let raw = read(p)?;
        Ok(RawIncoming::imported(raw, modified(p)))
    };
    let messages: Box<dyn Iterator<Item = Result<RawIncoming, ImportError>>> = match detect(path)? {
        ArchiveKind::Mbox => {
            let file_time = modified(path);
            Box::new(split_mbox(&read(path)?).into_iter().map(move |raw| {
                let arrival = mbox_from_date(&raw).unwrap_or(file_time);
                Ok(RawIncoming::imported(raw, arrival))
            }))
        }
        ArchiveKind::Eml => Box::new(std::iter::once(read_file(path))),
        ArchiveKind::Maildir => {
            let mut files = Vec::new();
            for sub in ["cur", "new"] {
                files.extend(list_files(&path.join(sub), |_| true)?);
            }
            Box::new(files.into_iter().map(move |f| read_file(&f)))
        }
        ArchiveKind::EmlFolder => {
            let files = list_files(path, |p| {
                p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"))
            })?;
            Box::new(files.into_iter().map(move |f| read_file(&f)))
        }
    };
    let mut summary = IngestSummary::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut seen = 0;
    for raw in messages {
        batch.push(raw?);
        if batch.len() == BATCH {
            seen += batch.len();
            summary += ingestor.ingest_batch(store, std::mem::take(&mut batch), None)?;
            progress(seen);
        }
    }
    if !batch.is_empty() {
        seen += batch.len();
        summary += ingestor.ingest_batch(store, batch, None)?;
        progress(seen);
    }
    Ok(summary)
}

/// When `path` was last written, or now when that cannot be read.
fn modified(path: &Path) -> DateTime<Utc> {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now())
}

/// Regular files under `dir` (recursively), sorted, that `keep` accepts. Hidden files are
/// skipped (Maildir uses them for temporary state).
fn list_files(
    dir: &Path,
    keep: impl Fn(&Path) -> bool + Copy,
) -> Result<Vec<PathBuf>, ImportError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(source) => {
            return Err(ImportError::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| ImportError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let ft = entry.file_type().map_err(|source| ImportError::Read {
            path: p.clone(),
            source,
        })?;
        if ft.is_dir() {
            out.extend(list_files(&p, keep)?);
        } else if ft.is_file() && keep(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Splits an mbox (mboxrd/mboxo) into messages: each starts at a line beginning `From `
/// after a blank line or at the start of the file. Quoted `>From ` lines are unquoted one
/// level, as mboxrd writers escape them.
pub fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut prev_blank = true;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") && prev_blank {
            if let Some(m) = current.take() {
                messages.push(finish(m));
            }
            current = Some(Vec::new());
            prev_blank = false;
            continue;
        }
        prev_blank = line == b"\n" || line == b"\r\n";
        let body = current.get_or_insert_with(Vec::new);
        let unquoted = line
            .iter()
            .position(|&b| b != b'>')
            .filter(|&n| n > 0 && line[n..].starts_with(b"From "))
            .map(|_| &line[1..]);
        body.extend_from_slice(unquoted.unwrap_or(line));
    }
    if let Some(m) = current {
        messages.push(finish(m));
    }
    messages.retain(|m| !m.iter().all(|b| b.is_ascii_whitespace()));
    messages
}

/// The blank line before the next `From ` belongs to the mbox format, not the message.
fn finish(mut m: Vec<u8>) -> Vec<u8> {
    if m.ends_with(b"\n\n") {
        m.pop();
    } else if m.ends_with(b"\r\n\r\n") {
        m.truncate(m.len() - 2);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_splits_and_unquotes() {
        let mbox = b"From a@x Mon Nov  2 10:00:00 2026\nSubject: one\n\nhi\n>From the start\n\nFrom b@x Mon Nov  2 11:00:00 2026\nSubject: two\n\nFrom here on not a separator\n";
        let msgs = split_mbox(mbox);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nhi\nFrom the start\n");
        assert!(msgs[1].starts_with(b"Subject: two"));
    }

    #[test]
    fn kinds_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let mbox = dir.path().join("archive.mbox");
        fs::write(&mbox, "From x Mon Nov  2 10:00:00 2026\nSubject: a\n\nb\n").unwrap();
        let eml = dir.path().join("one.eml");
        fs::write(&eml, "Subject: a\n\nb\n").unwrap();
        let md = dir.path().join("md");
        fs::create_dir_all(md.join("cur")).unwrap();
        assert_eq!(detect(&mbox).unwrap(), ArchiveKind::Mbox);
        assert_eq!(detect(&eml).unwrap(), ArchiveKind::Eml);
        assert_eq!(detect(&md).unwrap(), ArchiveKind::Maildir);
        assert_eq!(detect(dir.path()).unwrap(), ArchiveKind::EmlFolder);
        assert!(detect(&dir.path().join("missing")).is_err());
    }
}
