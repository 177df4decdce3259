//! Importing archives: an mbox file, a Maildir, a folder of `.eml` files or one `.eml` file.
//! Messages go through the same pipeline as sync, so importing twice adds nothing.
//!
//! Bounded in memory: an mbox is read as a stream ([`mbox`]), messages are stored in batches
//! of at most `BATCH` messages or `BATCH_BYTES` bytes, and no message over the limit
//! (`[sync] max_message_bytes`, as for sync) is read whole: it is stored as its headers and a
//! note, as sync does, and the summary names it. Only regular files are opened, non-blocking and checked
//! after opening, so a FIFO, a device such as `/dev/zero` or a socket is refused at once
//! instead of hanging or filling memory. Symbolic links inside a Maildir or folder are not
//! followed. Whatever is not imported is reported as a [`Skipped`] entry with its reason.

pub mod maildir;
pub mod mbox;
mod open;

use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::core::ingest::{IngestSummary, Ingestor, RawIncoming};
use crate::core::store::{Store, StoreError};

use mbox::{MboxItem, MboxReader};
use open::{odd_kind, open_regular, OpenError};

/// Messages stored per transaction, at most.
const BATCH: usize = 500;
/// Bytes of messages held before a batch is stored, at most.
const BATCH_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", show(path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is {kind}, not a regular file or a folder: import reads an mbox file, a Maildir, a folder of .eml files or one .eml file; save the mail to a file first", show(path))]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A path for a message: hostile file names cannot reach the terminal raw.
fn show(path: &Path) -> String {
    crate::core::sanitize::terminal_line(&path.display().to_string())
}

/// What a path turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Mbox,
    Maildir,
    EmlFolder,
    Eml,
}

/// Something under the imported path that was not imported, and why.
#[derive(Debug)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: SkipReason,
}

#[derive(Debug)]
pub enum SkipReason {
    /// A symbolic link: not followed, it could point anywhere (a device, another archive).
    Symlink,
    /// A FIFO, socket or device: reading it could block or never end.
    NotRegular(&'static str),
    Unreadable(std::io::Error),
    Empty,
    /// Its first line is not a header field (RFC 5322 §2.2: `Name: value`): not a mail.
    NotMail,
    /// In a folder of `.eml` files, a file that starts as a mail does but is not named
    /// `.eml` (an MH folder's `1`, `2`, ..., a `.msg` or `.txt` file): not imported, as only
    /// `.eml` files are, but named, so no mail is passed over unsaid.
    NotEml,
    /// In a folder of `.eml` files, an mbox (a file that starts `From `): imported only by
    /// its own path.
    MboxInFolder,
    /// Message N (from 1) of an mbox does not start with a header field: not a mail.
    NotMailInMbox(usize),
    /// A compressed file (its format, the command that unpacks it): not a mail as it is.
    Compressed(&'static str, &'static str),
    /// A path given on the command line that import cannot read as mail (a FIFO, a device):
    /// why, in full.
    NotImportable(String),
}

impl ImportError {
    /// The entry an import of several paths lists for this path and goes on past, when the
    /// error is the path's own (unreadable, not a file); `Err` with the error when it is the
    /// store's, which ends the import.
    pub fn into_skipped(self) -> Result<Skipped, StoreError> {
        match self {
            ImportError::Read { path, source } => Ok(Skipped {
                path,
                reason: SkipReason::Unreadable(source),
            }),
            ImportError::NotAFile { path, kind } => {
                let why = ImportError::NotAFile {
                    path: path.clone(),
                    kind,
                }
                .to_string();
                Ok(Skipped {
                    path,
                    reason: SkipReason::NotImportable(why),
                })
            }
            ImportError::Store(e) => Err(e),
        }
    }
}

/// `path` as one word of a POSIX shell command: shown safely (`show`), and quoted when it
/// holds anything beyond letters, digits and `/._-+,:@%=`.
pub(crate) fn shell_word(path: &Path) -> String {
    let shown = show(path);
    let plain = shown
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c));
    if plain {
        shown
    } else {
        format!("'{}'", shown.replace('\'', r"'\''"))
    }
}

/// The compression format whose magic number `head` starts with, and the command that
/// unpacks it keeping the original: an archive is often kept as `mbox.gz`.
fn compression(head: &[u8]) -> Option<(&'static str, &'static str)> {
    const KNOWN: [(&[u8], &str, &str); 4] = [
        (b"\x1f\x8b", "gzip", "gunzip -k"),
        (b"BZh", "bzip2", "bunzip2 -k"),
        (b"\xfd7zXZ\x00", "xz", "unxz -k"),
        (b"\x28\xb5\x2f\xfd", "zstd", "unzstd"),
    ];
    KNOWN
        .iter()
        .find(|(magic, _, _)| head.starts_with(magic))
        .map(|&(_, name, command)| (name, command))
}

/// A message over the limit, stored as its headers and a note: message `index` of the mbox
/// at `path`, or the whole file when `None`.
#[derive(Debug)]
pub struct Oversized {
    pub path: PathBuf,
    pub index: Option<usize>,
    pub bytes: u64,
}

impl std::fmt::Display for Oversized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = show(&self.path);
        match self.index {
            Some(i) => write!(f, "{path}: message {i}, {} bytes", self.bytes),
            None => write!(f, "{path}: {} bytes", self.bytes),
        }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = show(&self.path);
        match &self.reason {
            SkipReason::Symlink => write!(
                f,
                "{path}: a symbolic link, not followed; copy the file itself in to import it"
            ),
            SkipReason::NotRegular(kind) => write!(
                f,
                "{path}: {kind}, not a regular file: not read; save the mail it would give into \
                 a file to import it"
            ),
            SkipReason::Unreadable(e) => write!(f, "{path}: cannot be read: {e}"),
            SkipReason::NotImportable(why) => write!(f, "{why}"),
            SkipReason::Empty => write!(f, "{path}: an empty file"),
            SkipReason::NotMail => write!(
                f,
                "{path}: not a mail: its first line is not a header field (`Name: value`)"
            ),
            SkipReason::NotMailInMbox(index) => write!(
                f,
                "{path}: message {index}: not a mail: its first line is not a header field \
                 (`Name: value`)"
            ),
            SkipReason::Compressed(format, command) => write!(
                f,
                "{path}: {format}-compressed, not a mail as it is: unpack it first \
                 (`{command} {}`), then import what it holds",
                shell_word(&self.path)
            ),
            SkipReason::NotEml => write!(
                f,
                "{path}: starts as a mail does, but only .eml files of a folder are imported; \
                 import it by its own path (`secdesk import FILE`) or rename it to .eml"
            ),
            SkipReason::MboxInFolder => write!(
                f,
                "{path}: an mbox, and only .eml files of a folder are imported; import it by \
                 its own path (`secdesk import {}`)",
                shell_word(&self.path)
            ),
        }
    }
}

/// The last message of the mbox at `path`, message `index`, ends mid-line where the file
/// ends: the file looks cut short, and what it holds of the message is stored.
#[derive(Debug)]
pub struct CutShort {
    pub path: PathBuf,
    pub index: usize,
}

impl std::fmt::Display for CutShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: message {} ends mid-line where the file ends: the file looks cut short",
            show(&self.path),
            self.index
        )
    }
}

/// What one import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub summary: IngestSummary,
    pub skipped: Vec<Skipped>,
    /// Messages stored as headers and a note (counted in `summary` too).
    pub oversized: Vec<Oversized>,
    /// An mbox whose last message the file's end cut short (stored as it is).
    pub cut_short: Vec<CutShort>,
    /// Maildir++ subfolders of an imported Maildir: mailboxes of their own, not imported.
    pub subfolders: Vec<PathBuf>,
    /// Files left in an imported Maildir's `tmp/`: not imported.
    pub unfinished: Vec<maildir::Unfinished>,
}

/// [`open_regular`] for the path the user named: anything else is an [`ImportError`].
fn open_named(path: &Path) -> Result<(File, u64), ImportError> {
    open_regular(path, true).map_err(|e| match e {
        OpenError::Odd(kind) => ImportError::NotAFile {
            path: path.to_path_buf(),
            kind,
        },
        OpenError::Io(source) => ImportError::Read {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Decides what `path` holds: a folder with `cur`/`new` is a Maildir, another folder holds
/// `.eml` files, and a file that starts with an mbox `From ` line is an mbox. A path that is
/// neither a regular file nor a folder is refused.
pub fn detect(path: &Path) -> Result<ArchiveKind, ImportError> {
    let meta = fs::metadata(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some(kind) = odd_kind(&meta) {
        return Err(ImportError::NotAFile {
            path: path.to_path_buf(),
            kind,
        });
    }
    if meta.is_dir() {
        if path.join("cur").is_dir() || path.join("new").is_dir() {
            return Ok(ArchiveKind::Maildir);
        }
        return Ok(ArchiveKind::EmlFolder);
    }
    let (file, _) = open_named(path)?;
    let mut head = Vec::with_capacity(5);
    file.take(5)
        .read_to_end(&mut head)
        .map_err(|source| ImportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(if head == b"From " {
        ArchiveKind::Mbox
    } else {
        ArchiveKind::Eml
    })
}

/// Messages waiting to be stored in one transaction.
struct Batcher<'a> {
    store: &'a mut Store,
    ingestor: &'a Ingestor,
    progress: &'a mut dyn FnMut(usize),
    batch: Vec<RawIncoming>,
    bytes: usize,
    seen: usize,
    summary: IngestSummary,
    /// The largest message stored whole.
    limit: u64,
    oversized: Vec<Oversized>,
}

impl Batcher<'_> {
    /// Queues a message that arrived at `arrival` (its mbox `From ` line, else the file's
    /// mtime, else now); the Date header is checked against it (core::parse::dates).
    fn push(&mut self, raw: Vec<u8>, arrival: DateTime<Utc>) -> Result<(), ImportError> {
        self.bytes += raw.len();
        self.batch.push(RawIncoming::imported(raw, arrival));
        if self.batch.len() >= BATCH || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Stores a message over the limit as its `headers` and a note saying where it is.
    fn push_oversized(
        &mut self,
        what: Oversized,
        headers: &[u8],
        arrival: DateTime<Utc>,
    ) -> Result<(), ImportError> {
        let place = match what.index {
            Some(i) => format!("message {i} of the mbox it was imported from"),
            None => "the file it was imported from".to_string(),
        };
        let note = format!(
            "[secdesk] too large, {} bytes, kept in {place}: only its headers are stored here, \
             as it is over [sync] max_message_bytes ({}).",
            what.bytes, self.limit
        );
        self.push(headers_and_note(headers, &note), arrival)?;
        self.oversized.push(what);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.seen += self.batch.len();
        self.bytes = 0;
        let batch = std::mem::take(&mut self.batch);
        self.summary += self.ingestor.ingest_batch(self.store, batch, None)?;
        (self.progress)(self.seen);
        Ok(())
    }
}

/// Imports every message under `path`, calling `progress` with the running total. A message
/// over `max_message_bytes` is stored as its headers and a note.
pub fn import_path(
    store: &mut Store,
    ingestor: &Ingestor,
    path: &Path,
    max_message_bytes: u64,
    progress: &mut dyn FnMut(usize),
) -> Result<ImportReport, ImportError> {
    let kind = detect(path)?;
    let mut out = Batcher {
        store,
        ingestor,
        progress,
        batch: Vec::new(),
        bytes: 0,
        seen: 0,
        summary: IngestSummary::default(),
        limit: max_message_bytes.max(1),
        oversized: Vec::new(),
    };
    let mut skipped = Vec::new();
    let mut cut_short = Vec::new();
    let mut subfolders = Vec::new();
    let mut unfinished = Vec::new();
    match kind {
        ArchiveKind::Mbox => {
            let cut = import_mbox(path, &mut out, &mut skipped)?;
            cut_short.extend(cut.map(|index| CutShort {
                path: path.to_path_buf(),
                index,
            }));
        }
        ArchiveKind::Eml => {
            let (file, len) = open_named(path)?;
            let reason = if len == 0 {
                Some(SkipReason::Empty)
            } else {
                import_file(file, len, path, &mut out)?
            };
            skipped.extend(reason.map(|reason| Skipped {
                path: path.to_path_buf(),
                reason,
            }));
        }
        ArchiveKind::Maildir => {
            for sub in ["cur", "new"] {
                import_files(&path.join(sub), &|_| true, &mut out, &mut skipped)?;
            }
            subfolders = maildir::subfolders(path);
            unfinished.extend(maildir::unfinished(path, std::time::SystemTime::now()));
        }
        ArchiveKind::EmlFolder => {
            let is_eml = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
            import_files(path, &is_eml, &mut out, &mut skipped)?;
        }
    }
    out.flush()?;
    // A large archive leaves the full-text index in many segments: merged into one
    // (core::store::search_index). Only space and search speed are at stake, so a failure
    // (a full disk, another desk writing) does not fail an import that stored everything.
    let _ = out.store.merge_search_index(out.summary.new_messages);
    Ok(ImportReport {
        summary: out.summary,
        skipped,
        oversized: out.oversized,
        cut_short,
        subfolders,
        unfinished,
    })
}

/// Stores the messages of the mbox at `path`. An entry that does not start with a header
/// field (text before the first separator in a file that only begins `From `, a letter
/// cut at a blank line) is not a mail: it is named in `skipped` with its number, as a
/// `.eml` that is no mail is, instead of becoming a report with no sender. Returns the
/// number of the last message when the file ends mid-line (see [`CutShort`]).
fn import_mbox(
    path: &Path,
    out: &mut Batcher,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<usize>, ImportError> {
    let (file, _) = open_named(path)?;
    let file_time = modified(path);
    let limit = usize::try_from(out.limit).unwrap_or(usize::MAX);
    let mut reader = MboxReader::new(BufReader::with_capacity(256 * 1024, file), limit);
    for item in reader.by_ref() {
        match item.map_err(|source| ImportError::Read {
            path: path.to_path_buf(),
            source,
        })? {
            MboxItem::Message(raw, _, index) if !crate::core::parse::looks_like_mail(&raw) => {
                skipped.push(Skipped {
                    path: path.to_path_buf(),
                    reason: SkipReason::NotMailInMbox(index),
                })
            }
            MboxItem::Message(raw, arrival, _) => out.push(raw, arrival.unwrap_or(file_time))?,
            MboxItem::TooLarge {
                index,
                bytes,
                headers,
                ..
            } => out.push_oversized(
                Oversized {
                    path: path.to_path_buf(),
                    index: Some(index),
                    bytes,
                },
                &headers,
                file_time,
            )?,
        }
    }
    Ok(reader.cut_short())
}

/// Stores one message file of `len` bytes: whole, or over the limit as its headers and a note.
/// Never reads more than the limit (a file that grows meanwhile is cut there). A file that
/// does not start with a header field is not stored: the reason is returned.
fn import_file(
    file: File,
    len: u64,
    path: &Path,
    out: &mut Batcher,
) -> Result<Option<SkipReason>, ImportError> {
    let oversized = len > out.limit;
    let arrival = file_time(&file);
    let cap = if oversized {
        mbox::MAX_HEADERS as u64
    } else {
        out.limit
    };
    let mut raw = Vec::new();
    file.take(cap)
        .read_to_end(&mut raw)
        .map_err(|source| ImportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if !crate::core::parse::looks_like_mail(&raw) {
        if let Some((format, command)) = compression(&raw) {
            return Ok(Some(SkipReason::Compressed(format, command)));
        }
        return Ok(Some(SkipReason::NotMail));
    }
    if oversized {
        let what = Oversized {
            path: path.to_path_buf(),
            index: None,
            bytes: len,
        };
        out.push_oversized(what, mbox::header_section(&raw), arrival)?;
    } else {
        out.push(raw, arrival)?;
    }
    Ok(None)
}

/// When a file's message arrived, as far as the file says: its mtime (Maildir delivery and
/// `cp -p` keep it), else now.
fn file_time(file: &File) -> DateTime<Utc> {
    file.metadata()
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now())
}

/// The mtime of the file at `path`, else now.
fn modified(path: &Path) -> DateTime<Utc> {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now())
}

/// The message kept for one too large to store: its own headers, with its MIME structure
/// renamed away (`X-Secdesk-Original-…`) so the note is what a reader sees, and the note as a
/// plain-text body.
fn headers_and_note(headers: &[u8], note: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len() + note.len() + 128);
    for line in headers.split_inclusive(|&b| b == b'\n') {
        let line = line.trim_ascii_end();
        if line.is_empty() {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if [
            &b"content-type:"[..],
            b"content-transfer-encoding:",
            b"mime-version:",
        ]
        .iter()
        .any(|h| lower.starts_with(h))
        {
            out.extend_from_slice(b"X-Secdesk-Original-");
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    out.extend_from_slice(note.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// Imports the regular files under `dir` (recursively, in name order) that `keep` accepts.
/// Hidden entries are Maildir's own state and are passed over, and so are regular files
/// `keep` refuses that are neither a mail, an mbox nor compressed (a README); every other
/// entry that is not imported is recorded in `skipped`, with how to import it. A FIFO,
/// socket or device is named from its metadata and never opened: reading a FIFO would
/// wait for a writer. Only `dir` itself failing to open is an error.
fn import_files(
    dir: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Batcher,
    skipped: &mut Vec<Skipped>,
) -> Result<(), ImportError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ImportError::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) if !entry.file_name().to_string_lossy().starts_with('.') => {
                paths.push(entry.path())
            }
            Ok(_) => {}
            Err(e) => skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: SkipReason::Unreadable(e),
            }),
        }
    }
    paths.sort();
    for p in paths {
        let skip = |reason| Skipped {
            path: p.clone(),
            reason,
        };
        let meta = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                skipped.push(skip(SkipReason::Unreadable(e)));
                continue;
            }
        };
        if meta.is_dir() {
            if let Err(ImportError::Read { source, .. }) = import_files(&p, keep, out, skipped) {
                skipped.push(skip(SkipReason::Unreadable(source)));
            }
            continue;
        }
        // A link is never followed out of the folder; one named like a mail is named, any
        // other (`latest -> 2026-12/`, a README's) is passed over quietly, as before.
        if meta.file_type().is_symlink() {
            if keep(&p) {
                skipped.push(skip(SkipReason::Symlink));
            }
            continue;
        }
        if let Some(kind) = odd_kind(&meta) {
            skipped.push(skip(SkipReason::NotRegular(kind)));
            continue;
        }
        if !keep(&p) {
            skipped.extend(not_kept(&p).map(skip));
            continue;
        }
        match open_regular(&p, false) {
            Err(OpenError::Odd("a symbolic link")) => skipped.push(skip(SkipReason::Symlink)),
            Err(OpenError::Odd(kind)) => skipped.push(skip(SkipReason::NotRegular(kind))),
            Err(OpenError::Io(e)) => skipped.push(skip(SkipReason::Unreadable(e))),
            Ok((_, 0)) => skipped.push(skip(SkipReason::Empty)),
            Ok((file, len)) => match import_file(file, len, &p, out) {
                Ok(None) => {}
                Ok(Some(reason)) => skipped.push(skip(reason)),
                Err(ImportError::Read { source, .. }) => {
                    skipped.push(skip(SkipReason::Unreadable(source)))
                }
                Err(e) => return Err(e),
            },
        }
    }
    Ok(())
}

/// Why the regular file at `path`, in a folder of `.eml` files and not named `.eml`, is
/// named though not imported, from its first 8 KiB: compressed (with the command that
/// unpacks it), an mbox, or a mail. `None` for anything else (a README), and for a file
/// that cannot be opened or read: it was not asked for.
fn not_kept(path: &Path) -> Option<SkipReason> {
    let (file, _) = open_regular(path, false).ok()?;
    let mut head = Vec::new();
    file.take(8 * 1024).read_to_end(&mut head).ok()?;
    if let Some((format, command)) = compression(&head) {
        Some(SkipReason::Compressed(format, command))
    } else if head.starts_with(b"From ") {
        Some(SkipReason::MboxInFolder)
    } else if crate::core::parse::looks_like_mail(&head) {
        Some(SkipReason::NotEml)
    } else {
        None
    }
}

/// Splits an in-memory mbox into its messages (see [`mbox`]).
pub fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    MboxReader::new(data, usize::MAX)
        .filter_map(|item| match item {
            Ok(MboxItem::Message(m, ..)) => Some(m),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn devices_and_fifos_are_refused_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (path, kind) in [
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a character device"),
        ] {
            let e = detect(path).unwrap_err().to_string();
            assert!(e.contains(kind) && e.contains("not a regular file"), "{e}");
        }
    }
}
