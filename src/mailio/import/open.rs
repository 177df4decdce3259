//! Opening only regular files: a FIFO, a device or a socket is refused by kind before a single
//! byte is read, so import can neither hang on a pipe nor read `/dev/zero` for ever.

use std::fs::{File, Metadata};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// What kind of file `meta` describes, when it is not a regular file or a folder.
pub(super) fn odd_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else {
        Some("not a regular file")
    }
}

/// Why a file could not be opened as a regular file.
pub(super) enum OpenError {
    Odd(&'static str),
    Io(std::io::Error),
}

/// Opens `path` for reading only if it is a regular file. The open itself never blocks
/// (O_NONBLOCK: a FIFO without a writer would), and the type is checked on the opened file,
/// so a path swapped for a FIFO between a check and the open is still refused. With
/// `follow` false a symbolic link is not followed (O_NOFOLLOW).
pub(super) fn open_regular(path: &Path, follow: bool) -> Result<(File, u64), OpenError> {
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    let file = rustix::fs::open(path, flags, Mode::empty())
        .map(File::from)
        .map_err(|e| match e {
            Errno::LOOP if !follow => OpenError::Odd("a symbolic link"),
            e => OpenError::Io(e.into()),
        })?;
    let meta = file.metadata().map_err(OpenError::Io)?;
    if let Some(kind) = odd_kind(&meta) {
        return Err(OpenError::Odd(kind));
    }
    Ok((file, meta.len()))
}
